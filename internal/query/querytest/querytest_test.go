package querytest_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/graph/mem"
	"github.com/modelgraph/modelgraph/internal/query/querytest"
)

func openEmbedded(t *testing.T, name string) *graph.DB {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), name), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Check(context.Background()); err != nil {
			t.Errorf("graph invariants broken: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// TestDifferentialEmbedded: the corpus one document at a time into one
// embedded store and shuffled, in ApplyAll chunks, into another gives
// identical answers to every question.
func TestDifferentialEmbedded(t *testing.T) {
	querytest.Run(t, openEmbedded(t, "a.db"), openEmbedded(t, "b.db"))
}

// TestDifferentialCatchesADifference: a store missing one document of the
// corpus answers differently (the comparison can fail).
func TestDifferentialCatchesADifference(t *testing.T) {
	a, b := openEmbedded(t, "a.db"), openEmbedded(t, "b.db")
	bs := querytest.Corpus(t)
	querytest.Load(t, a, bs, 0)
	bs = querytest.Corpus(t)
	querytest.Load(t, b, bs[:len(bs)-1], 0)
	d, err := querytest.Differences(context.Background(), a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Differ) == 0 {
		t.Fatalf("no difference found between the corpus and the corpus less a document (%d questions)", d.Questions)
	}
	t.Logf("%d of %d answers differ, e.g. %s", len(d.Differ), d.Questions, d.Differ[0][:min(len(d.Differ[0]), 200)])
}

// TestDifferentialEmbeddedMem: the embedded store (graph.DB driving its
// records: a RecordTx) against the in-memory reference driver (graph.DB's
// planner: a PlanTx, the path graph/neo4j takes) give identical answers.
func TestDifferentialEmbeddedMem(t *testing.T) {
	m := mem.Open()
	t.Cleanup(func() {
		if err := m.Check(context.Background()); err != nil {
			t.Errorf("mem invariants: %v", err)
		}
	})
	querytest.Run(t, openEmbedded(t, "a.db"), m)
}
