package neo4j_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/graphtest"
)

// TestWalkEqualsLevelWalk runs the pushed-down walk (Store.Walk: the
// breadth-first search in one statement, replayed by graph.Walk) and the
// reference walk (graph.Walk calling the store's Adjacent, LoadNodes and
// LoadEdges one level at a time) from every node of the cross-backend
// corpus, in every direction, over depth limits below, at and above the
// levels the statement unrolls, limits that truncate at every level, node
// kind filters and several starts (a missing one too), and requires the
// same answer: steps, order, depths, parents, via edges, flags and errors.
func TestWalkEqualsLevelWalk(t *testing.T) {
	cfg := config(t)
	cfg.BulkSize = 4
	s := open(t, cfg)
	applySteps(t, s, corpus())
	ctx := context.Background()
	// A derivation chain of 20 models, each with a package and a dataset
	// shared by every third, so walks go deeper than the levels the
	// statement unrolls and continue level by level.
	b := graph.NewBatch(graphtest.Doc("deep-chain"))
	prev := -1
	for i := range 20 {
		m := b.Node(graph.KindModel, dg(fmt.Sprintf("deep-%02d", i)))
		b.Edge(m, graph.DependsOn, b.Node(graph.KindPackage, fmt.Sprintf("pkg:pypi/deep%02d@1.0.0", i%5)))
		if i%3 == 0 {
			b.Edge(m, graph.TrainedOn, b.Node(graph.KindDataset, dg(fmt.Sprintf("deep-data-%d", i%2))))
		}
		if i > 0 {
			b.Edge(m, graph.DerivedFrom, prev)
		}
		prev = m
	}
	if _, err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	nodes := dumpNodes(t, s, 50)
	if len(nodes) < 60 {
		t.Fatalf("corpus too small: %d nodes", len(nodes))
	}
	// The driver under the store: its level-by-level Walker and its
	// pushed-down Walk, compared directly.
	var drv interface {
		graph.Walker
		Walk(context.Context, graph.TraverseRequest) (graph.TraverseResult, error)
	}
	if !s.As(&drv) {
		t.Fatal("the Neo4j driver offers no Walker and pushed-down Walk")
	}
	missing := graph.NewNodeID(graph.KindModel, "name:never-stored")
	var flags struct{ truncated, depthLimited, deep, err int }
	for i, n := range nodes {
		for _, dir := range []graph.Direction{graph.Out, graph.In, graph.Both, graph.Upstream, graph.Downstream} {
			reqs := []graph.TraverseRequest{
				{From: []graph.NodeID{n.ID}, Direction: dir},
				{From: []graph.NodeID{n.ID}, Direction: dir, MaxDepth: 1},
				{From: []graph.NodeID{n.ID}, Direction: dir, MaxDepth: 2, Limit: 1 + i%7},
				{From: []graph.NodeID{n.ID, nodes[(i+13)%len(nodes)].ID, n.ID}, Direction: dir, Limit: 3 + i%11},
				{From: []graph.NodeID{n.ID}, Direction: dir, NodeKinds: []graph.NodeKind{graph.KindModel, graph.KindDataset, graph.KindPackage}},
				{From: []graph.NodeID{n.ID}, Direction: dir, EdgeKinds: []graph.EdgeKind{graph.DependsOn, graph.DerivedFrom}, MaxDepth: graph.MaxTraverseDepth},
			}
			if i%10 == 0 {
				reqs = append(reqs, graph.TraverseRequest{From: []graph.NodeID{n.ID, missing}, Direction: dir})
			}
			for j, req := range reqs {
				want, werr := graph.Walk(ctx, drv, req)
				got, gerr := drv.Walk(ctx, req)
				what := fmt.Sprintf("node %d %v request %d %+v", i, n.Keys, j, req)
				if (werr == nil) != (gerr == nil) {
					t.Fatalf("%s: level walk error %v, pushed-down walk error %v", what, werr, gerr)
				}
				if werr != nil {
					flags.err++
					continue
				}
				same(t, what, want, got)
				if want.Truncated {
					flags.truncated++
				}
				if want.DepthLimited {
					flags.depthLimited++
				}
				for _, st := range want.Steps {
					if st.Depth > 8 {
						flags.deep++
						break
					}
				}
			}
		}
	}
	// The comparison must have covered each way a walk ends.
	if flags.truncated == 0 || flags.depthLimited == 0 || flags.err == 0 || flags.deep == 0 {
		t.Fatalf("weak comparison: %+v", flags)
	}
	t.Logf("walks ending truncated %d, depth-limited %d, failing %d, deeper than the unrolled levels %d", flags.truncated, flags.depthLimited, flags.err, flags.deep)
}

// TestLargePlanWritesEveryKind writes one document whose plan has more new
// nodes and edges than the one-statement (dynamic label) path takes, so
// write groups them by kind, and checks that every node and edge arrived
// with its kind (Stats counts labels and relationship types; the harness's
// Check verifies every node's label).
func TestLargePlanWritesEveryKind(t *testing.T) {
	s := open(t, config(t))
	ctx := context.Background()
	b := graph.NewBatch(graphtest.Doc("large-plan"))
	m := b.Node(graph.KindModel, dg("large-model"))
	d := b.Node(graph.KindDataset, dg("large-data"))
	b.Edge(m, graph.TrainedOn, d)
	const n = 2100
	for i := range n {
		p := b.Node(graph.KindPackage, fmt.Sprintf("pkg:pypi/large%04d@1.0.0", i))
		b.Edge(m, graph.DependsOn, p)
		if i%2 == 0 {
			f := b.Node(graph.KindFile, dg(fmt.Sprintf("large-file-%d", i)))
			b.Edge(m, graph.Contains, f)
		}
	}
	if _, err := s.ApplyAll(ctx, []*graph.Batch{b}); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantNodes := map[graph.NodeKind]int64{graph.KindModel: 1, graph.KindDataset: 1, graph.KindPackage: n, graph.KindFile: n / 2}
	wantEdges := map[graph.EdgeKind]int64{graph.TrainedOn: 1, graph.DependsOn: n, graph.Contains: n / 2}
	for k, c := range wantNodes {
		if st.NodeKinds[k] != c {
			t.Errorf("%s nodes: %d, want %d", k, st.NodeKinds[k], c)
		}
	}
	for k, c := range wantEdges {
		if st.EdgeKinds[k] != c {
			t.Errorf("%s edges: %d, want %d", k, st.EdgeKinds[k], c)
		}
	}
	es, err := s.Edges(ctx, graph.NewNodeID(graph.KindModel, dg("large-model")), graph.Out, graph.DependsOn)
	if err != nil || len(es) != n {
		t.Fatalf("DEPENDS_ON edges of the model: %d, %v", len(es), err)
	}
}
