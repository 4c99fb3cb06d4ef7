package modelcard_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/modelcard"
)

func FuzzParse(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join(testdata, "*.md"))
	if err != nil || len(paths) < 2 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, p := range paths {
		f.Add(read(f, filepath.Base(p)), "")
		f.Add(read(f, filepath.Base(p)), "acme/x")
	}
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		detected := modelcard.Detect(data)
		b, err := modelcard.Parse(data, graph.Document{Digest: graph.SHA256Key(data)}, modelcard.Options{Name: name})
		if err != nil {
			if !errors.Is(err, modelcard.ErrInvalidCard) {
				t.Fatalf("error does not wrap ErrInvalidCard: %v", err)
			}
			return
		}
		if !detected {
			t.Fatal("Parse accepted what Detect rejected")
		}
		if err := b.Validate(); err != nil {
			t.Fatalf("batch does not validate: %v", err)
		}
	})
}
