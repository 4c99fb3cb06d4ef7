package reliability

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// datasetDoc is a unique, schema-valid dataset attestation (an unsigned
// in-toto statement) for client c, sequence i; it derives from the
// client's previous dataset so documents share nodes and add edges.
func datasetDoc(c, i int) []byte {
	digest := func(c, i int) string {
		s := sha256.Sum256([]byte(fmt.Sprintf("crash/%d/%d", c, i)))
		return hex.EncodeToString(s[:])
	}
	pred := map[string]any{
		"name":    fmt.Sprintf("crash/ds-%d-%d", c, i),
		"version": "v1",
		"license": "CC-BY-4.0",
	}
	if i > 0 {
		pred["sourceDatasets"] = []any{map[string]any{
			"name": fmt.Sprintf("crash/ds-%d-%d", c, i-1), "version": "v1",
			"digest": map[string]string{"sha256": digest(c, i-1)},
		}}
	}
	st := map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": fmt.Sprintf("ds-%d-%d.tar", c, i), "digest": map[string]string{"sha256": digest(c, i)}}},
		"predicateType": "https://modelgraph.dev/attestation/dataset/v1",
		"predicate":     pred,
	}
	b, err := json.Marshal(st)
	if err != nil {
		panic(err)
	}
	return b
}
