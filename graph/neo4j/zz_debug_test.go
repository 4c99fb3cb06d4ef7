package neo4j_test

import (
	"context"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/neo4j"
)

type timed struct {
	s *neo4j.Store
	t *testing.T
}

func (w timed) Adjacent(ctx context.Context, ids []graph.NodeID, dir graph.Direction, kinds []graph.EdgeKind) ([][]graph.HalfEdge, error) {
	t0 := time.Now()
	r, err := w.s.Adjacent(ctx, ids, dir, kinds)
	n := 0
	for _, x := range r {
		n += len(x)
	}
	w.t.Logf("adjacent %d ids -> %d half-edges: %v", len(ids), n, time.Since(t0))
	return r, err
}
func (w timed) LoadNodes(ctx context.Context, ids []graph.NodeID) ([]graph.Node, error) {
	t0 := time.Now()
	r, err := w.s.LoadNodes(ctx, ids)
	w.t.Logf("loadnodes %d: %v", len(ids), time.Since(t0))
	return r, err
}
func (w timed) LoadEdges(ctx context.Context, refs []graph.EdgeRef) ([]graph.Edge, error) {
	t0 := time.Now()
	r, err := w.s.LoadEdges(ctx, refs)
	w.t.Logf("loadedges %d: %v", len(refs), time.Since(t0))
	return r, err
}

func TestZZDebug(t *testing.T) {
	ctx := context.Background()
	s, err := neo4j.Open(ctx, config(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ns, _ := s.Lookup(ctx, graph.SHA256Key([]byte("bench:dataset:20")))
	for range 3 {
		t0 := time.Now()
		_, err := graph.Walk(ctx, timed{s, t}, graph.TraverseRequest{From: []graph.NodeID{ns[0].ID}, Direction: graph.Downstream, EdgeKinds: []graph.EdgeKind{graph.DerivedFrom, graph.TrainedOn, graph.DeployedAs}, Limit: 100_000})
		t.Logf("walk: %v %v", time.Since(t0), err)
		t0 = time.Now()
		_, err = s.Traverse(ctx, graph.TraverseRequest{From: []graph.NodeID{ns[0].ID}, Direction: graph.Downstream, EdgeKinds: []graph.EdgeKind{graph.DerivedFrom, graph.TrainedOn, graph.DeployedAs}, Limit: 100_000})
		t.Logf("traverse: %v %v", time.Since(t0), err)
	}
}
