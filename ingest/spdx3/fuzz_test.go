package spdx3

import (
	"errors"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

// FuzzParse: any input gives a batch that validates or an
// ErrInvalidDocument, never a panic.
func FuzzParse(f *testing.F) {
	f.Add(fixture(f, datasetExample))
	f.Add([]byte(`{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","@graph":[]}`))
	f.Add([]byte(`{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","@graph":[{"type":"ai_AIPackage","spdxId":"urn:x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(data, graph.Document{Source: "fuzz"})
		if err != nil {
			if !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("error does not wrap ErrInvalidDocument: %v", err)
			}
			return
		}
		if err := b.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkParseAIExample(b *testing.B) {
	data := fixture(b, aiExample)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data, graph.Document{Source: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
}
