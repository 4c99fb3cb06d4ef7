package intoto_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/ingesttest"
	"github.com/modelgraph/modelgraph/ingest/intoto"
	"github.com/modelgraph/modelgraph/ingest/statement"
)

const testdata = "../../testdata/intoto"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// payload returns the statement bytes of a fixture: the base64 payload of a
// DSSE envelope, or the file itself. (Test code only: envelopes are opened
// and verified by ingest/envelope.)
func payload(t testing.TB, raw []byte) []byte {
	t.Helper()
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
	}
	if json.Unmarshal(raw, &env) == nil && env.Payload != "" {
		b, err := base64.StdEncoding.DecodeString(env.Payload)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return raw
}

// ingest decodes a fixture and maps it with doc (Digest/Source filled in).
func ingest(t testing.TB, name string, sigs ...graph.Signature) *graph.Batch {
	t.Helper()
	raw := readFixture(t, name)
	st, err := statement.Decode(payload(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	b, err := intoto.FromStatement(st, graph.Document{Digest: graph.SHA256Key(raw), Source: name, Size: int64(len(raw)), Signatures: sigs})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// mapStatement maps an inline statement.
func mapStatement(t testing.TB, js string) (*graph.Batch, error) {
	t.Helper()
	st, err := statement.Decode([]byte(js))
	if err != nil {
		t.Fatalf("test statement does not decode: %v", err)
	}
	return intoto.FromStatement(st, graph.Document{Digest: graph.SHA256Key([]byte(js)), Source: "inline.json"})
}

// The batch renderings the format packages' mapping tests share.
var (
	label     = ingesttest.Label
	nodes     = ingesttest.Nodes
	edges     = ingesttest.Edges
	sameLines = ingesttest.SameLines
)

func h(c string) string { return strings.Repeat(c, 64) }
