package embedded_test

import (
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/graph/graphtest"
)

type harness struct{}

// pathStore remembers where the file is so the harness can reopen it.
type pathStore struct {
	*embedded.Store
	path string
}

func (harness) Open(t *testing.T) graph.Store {
	t.Helper()
	ps := &pathStore{path: filepath.Join(t.TempDir(), "graph.db")}
	var err error
	if ps.Store, err = embedded.Open(ps.path, embedded.Options{}); err != nil {
		t.Fatal(err)
	}
	// Like bbolt's own test helpers: check invariants after every test.
	t.Cleanup(func() {
		if err := ps.Check(); err != nil {
			t.Errorf("graph invariants broken: %v", err)
		}
		if err := ps.Close(); err != nil {
			t.Error(err)
		}
	})
	return ps
}

func (harness) Reopen(t *testing.T, s graph.Store) graph.Store {
	t.Helper()
	ps := s.(*pathStore)
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	ns, err := embedded.Open(ps.path, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ps.Store = ns
	return ps
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
