package embedded

import (
	"context"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/graphtest"
)

// OpenDriver opens the driver under Open, for the contract harness.
func OpenDriver(path string, opts Options) (graph.Driver, error) {
	s, err := openStore(path, opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// DriverPath says where a driver's file is.
func DriverPath(d graph.Driver) string { return d.(*store).path }

// testStore is Open's graph.DB with its driver at hand.
type testStore struct {
	*graph.DB
	drv *store
}

func openTest(path string, opts Options) (*testStore, error) {
	s, err := openStore(path, opts)
	if err != nil {
		return nil, err
	}
	return &testStore{DB: graph.Open(s, graph.Options{MaxGroup: opts.MaxGroup}), drv: s}, nil
}

// checkedDump checks s's invariants and renders everything it holds
// (graphtest.Dump), for comparing two stores or one store over time.
func checkedDump(t *testing.T, s *testStore) string {
	t.Helper()
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	return graphtest.Dump(t, s)
}
