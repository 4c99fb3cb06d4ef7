package intoto_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/intoto"
	"github.com/modelgraph/modelgraph/ingest/statement"
)

func seeds(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join(testdata, "*.json"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(payload(f, raw))
	}
}

// FromStatement either fails with ErrInvalidDocument or returns a batch that
// validates.
func FuzzFromStatement(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := statement.Decode(data)
		if err != nil {
			return
		}
		b, err := intoto.FromStatement(st, graph.Document{Digest: graph.SHA256Key(data)})
		if err != nil {
			if !errors.Is(err, intoto.ErrInvalidDocument) {
				t.Fatalf("error does not wrap ErrInvalidDocument: %v", err)
			}
			return
		}
		if err := b.Validate(); err != nil {
			t.Fatalf("batch does not validate: %v", err)
		}
		if b.Doc.Type == "" || b.Nodes[graph.DocNode].Kind != graph.KindDocument {
			t.Fatal("no document node")
		}
	})
}

func FuzzSplitJSONL(f *testing.F) {
	seeds(f)
	f.Add([]byte("{}\n\n{\"a\":1}\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := intoto.SplitJSONL(data)
		if err != nil {
			if !errors.Is(err, intoto.ErrInvalidDocument) {
				t.Fatalf("error does not wrap ErrInvalidDocument: %v", err)
			}
			return
		}
		for _, d := range docs {
			if len(d) == 0 || d[0] != '{' {
				t.Fatalf("document %q", d)
			}
		}
	})
}
