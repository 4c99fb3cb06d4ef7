package demo_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/demo"
)

func BenchmarkDocuments(b *testing.B) {
	for b.Loop() {
		if _, err := demo.Documents(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad is what serve --demo adds to a first start.
func BenchmarkLoad(b *testing.B) {
	pol, err := demo.WithTrust(nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		s, err := embedded.Open(filepath.Join(b.TempDir(), "g.db"), embedded.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := demo.Load(context.Background(), &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}
