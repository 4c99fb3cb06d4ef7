package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/bolt"
	"github.com/modelgraph/modelgraph/graph/graphtest"
)

type harness struct{}

// pathStore remembers where the file is so the harness can reopen it.
type pathStore struct {
	*bolt.Store
	path string
}

func (harness) Open(t *testing.T) graph.Store {
	t.Helper()
	ps := &pathStore{path: filepath.Join(t.TempDir(), "graph.db")}
	var err error
	if ps.Store, err = bolt.Open(ps.path, bolt.Options{}); err != nil {
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
	ns, err := bolt.Open(ps.path, bolt.Options{})
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
		s, err := bolt.Open(filepath.Join(b.TempDir(), "graph.db"), bolt.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		return s
	}, 20_000)
}
