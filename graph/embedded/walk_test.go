package embedded_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/internal/perf"
	"github.com/modelgraph/modelgraph/internal/synth"
)

// TestTraverseEqualsWalk: the driver's own walk over the index
// (graph.Traverser) returns exactly what graph.Walk over its Walker
// methods returns — the same steps in the same order, the same parents,
// edges and records, the same Truncated and DepthLimited — for random
// requests over a synthetic supply chain: every direction, random edge and
// node kind filters, depths and limits, several and repeated starts.
func TestTraverseEqualsWalk(t *testing.T) {
	ctx := context.Background()
	d, err := embedded.OpenDriver(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db := graph.Open(d, graph.Options{})
	t.Cleanup(func() { _ = db.Close() })
	pl, err := synth.NewPlan(synth.ForNodes(3000))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := perf.Load(ctx, db, pl, 500); err != nil {
		t.Fatal(err)
	}
	tr, ok := d.(graph.Traverser)
	if !ok {
		t.Fatal("the embedded driver does not implement graph.Traverser")
	}
	var all []graph.NodeID
	for _, k := range graph.NodeKinds {
		ns, err := db.Nodes(ctx, graph.NodeQuery{Kind: k, Limit: graph.MaxListLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			all = append(all, n.ID)
		}
	}
	if len(all) < 1000 {
		t.Fatalf("only %d nodes loaded", len(all))
	}
	rng := rand.New(rand.NewPCG(7, 19))
	dirs := []graph.Direction{graph.Upstream, graph.Downstream, graph.Both, graph.Out, graph.In}
	var truncated, limited, large int
	for i := range 600 {
		req := graph.TraverseRequest{Direction: dirs[rng.IntN(len(dirs))]}
		for range 1 + rng.IntN(3) {
			req.From = append(req.From, all[rng.IntN(len(all))])
		}
		if rng.IntN(5) == 0 {
			req.From = append(req.From, req.From[0]) // a repeated start
		}
		if rng.IntN(2) == 0 {
			for _, k := range graph.EdgeKinds {
				if rng.IntN(2) == 0 {
					req.EdgeKinds = append(req.EdgeKinds, k)
				}
			}
		}
		if rng.IntN(4) == 0 {
			for _, k := range graph.NodeKinds {
				if rng.IntN(2) == 0 {
					req.NodeKinds = append(req.NodeKinds, k)
				}
			}
		}
		req.MaxDepth = rng.IntN(6)
		if rng.IntN(2) == 0 {
			req.Limit = 1 + rng.IntN(40)
		}
		if err := graph.CheckTraverse(&req); err != nil {
			t.Fatal(err)
		}
		want, werr := graph.Walk(ctx, d, req)
		got, gerr := tr.Traverse(ctx, req)
		if werr != nil || gerr != nil {
			t.Fatalf("request %d %+v: Walk error %v, Traverse error %v", i, req, werr, gerr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("request %d %+v: Traverse differs from Walk:\n got %d steps truncated=%v depthLimited=%v\nwant %d steps truncated=%v depthLimited=%v",
				i, req, len(got.Steps), got.Truncated, got.DepthLimited, len(want.Steps), want.Truncated, want.DepthLimited)
		}
		if want.Truncated {
			truncated++
		}
		if want.DepthLimited {
			limited++
		}
		if len(want.Steps) > 20 {
			large++
		}
	}
	// The requests exercised what they are meant to.
	if truncated == 0 || limited == 0 || large == 0 {
		t.Fatalf("requests did not cover the cases: %d truncated, %d depth-limited, %d with over 20 steps", truncated, limited, large)
	}
	// A start the index does not hold: the same error as Walk.
	unknown := graph.NodeIDFor(graph.KindDataset, []string{"sha256:" + "00000000000000000000000000000000000000000000000000000000000000aa"})
	req := graph.TraverseRequest{From: []graph.NodeID{unknown}, Direction: graph.Downstream}
	if err := graph.CheckTraverse(&req); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Traverse(ctx, req); !errors.Is(err, graph.ErrNotFound) {
		t.Fatalf("traverse from an unknown node: %v, want ErrNotFound", err)
	}
}
