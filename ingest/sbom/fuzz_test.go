package sbom

import (
	"errors"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

// FuzzParse: any input either fails with ErrInvalidDocument or yields a
// batch that validates. GUAC parser panics must not escape.
func FuzzParse(f *testing.F) {
	for _, name := range corpusFiles(f) {
		data := fixture(f, name)
		if len(data) > 64<<10 {
			continue // the big examples slow every fuzz iteration down
		}
		f.Add(data)
	}
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","dependencies":[{"ref":"a","dependsOn":["b"]}]}`))
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","metadata":{"component":{"type":"container","name":"x"}},"components":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(t.Context(), data, graph.Document{Source: "fuzz"}, Options{})
		if err != nil {
			if b != nil {
				t.Fatal("error with a batch")
			}
			if !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("error not rooted at ErrInvalidDocument: %v", err)
			}
			return
		}
		if err := b.Validate(); err != nil {
			t.Fatal(err)
		}
		Detect(data)
	})
}
