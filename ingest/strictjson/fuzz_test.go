package strictjson_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/strictjson"
)

// omsPredicate mirrors the OMS predicate's decoded shape (ingest/oms).
type omsPredicate struct {
	Serialization *struct {
		Method        string   `json:"method"`
		HashType      string   `json:"hash_type"`
		AllowSymlinks bool     `json:"allow_symlinks"`
		IgnorePaths   []string `json:"ignore_paths"`
	} `json:"serialization"`
	Resources []struct {
		Name      string `json:"name"`
		Algorithm string `json:"algorithm"`
		Digest    string `json:"digest"`
	} `json:"resources"`
}

// FuzzStrictVsLax: whatever strict decoding accepts, encoding/json (the lax
// reader modelgraph decodes with) and a strict, case-sensitive reader that
// refuses duplicate keys (encoding/json/v2, as go-json-experiment/json)
// decode to the same value. So no signed payload means one thing to
// modelgraph and another to a strict reader.
func FuzzStrictVsLax(f *testing.F) {
	f.Add([]byte(stmt))
	f.Add([]byte(`{"payloadType":"t","payload":"YQ==","signatures":[{"keyid":"k","sig":"c2ln"}]}`))
	f.Add([]byte(`{"serialization":{"method":"files","hash_type":"sha256","allow_symlinks":false},"resources":[{"name":"a","algorithm":"sha256","digest":"00"}]}`))
	f.Add([]byte(`{"subject":[{"name":"A"}],"SUBJECT":[{"name":"B"}]}`))
	f.Add([]byte(`{"_Type":"x","subject":null,"predicate":null}`))
	for _, p := range []string{"../../testdata/intoto/*.json", "../../testdata/query/e2e/*.json"} {
		files, _ := filepath.Glob(p)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil && len(b) < 64<<10 {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		agree[statement.Statement](t, data)
		agree[envelope](t, data)
		agree[omsPredicate](t, data)
		agree[any](t, data)
	})
}

func agree[T any](t *testing.T, data []byte) {
	var strict T
	if strictjson.Unmarshal(data, &strict) != nil {
		return
	}
	var lax, v2 T
	if err := json.Unmarshal(data, &lax); err != nil {
		t.Fatalf("%T: strict accepted, encoding/json refused: %v\n%q", lax, err, data)
	}
	if err := jsonv2.Unmarshal(data, &v2); err != nil {
		t.Fatalf("%T: strict accepted, encoding/json/v2 refused: %v\n%q", v2, err, data)
	}
	if !reflect.DeepEqual(strict, lax) || !reflect.DeepEqual(lax, v2) {
		t.Fatalf("%T: readers disagree on %q:\nstrict %#v\nlax    %#v\nv2     %#v", lax, data, strict, lax, v2)
	}
}
