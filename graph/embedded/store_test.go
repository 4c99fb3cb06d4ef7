package embedded_test

import (
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/graph/graphtest"
)

type harness struct{}

func (harness) Open(t *testing.T) graph.Driver {
	t.Helper()
	d, err := embedded.OpenDriver(filepath.Join(t.TempDir(), "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (harness) Reopen(t *testing.T, d graph.Driver) graph.Driver {
	t.Helper()
	nd, err := embedded.OpenDriver(embedded.DriverPath(d), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return nd
}

func TestContract(t *testing.T) {
	graphtest.Run(t, harness{})
}

func BenchmarkStore(b *testing.B) {
	graphtest.RunBenchmarks(b, func(b *testing.B) graph.Store {
		s, err := embedded.Open(filepath.Join(b.TempDir(), "graph.db"), embedded.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		return s
	}, 20_000)
}
