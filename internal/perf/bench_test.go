package perf

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/internal/synth"
)

func benchStore(b *testing.B, nodes int) (*embedded.Store, *synth.Chain) {
	b.Helper()
	pl, err := synth.NewPlan(synth.ForNodes(nodes))
	if err != nil {
		b.Fatal(err)
	}
	s, err := embedded.Open(filepath.Join(b.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	if _, err := Load(context.Background(), s, pl, 1000); err != nil {
		b.Fatal(err)
	}
	return s, pl.Handles()
}

// BenchmarkQueries measures one impact and one trace operation (lookup and
// walk) on a 10k-node graph, for profiling the read path.
func BenchmarkQueries(b *testing.B) {
	s, h := benchStore(b, 10_000)
	ctx := context.Background()
	for _, q := range []struct {
		name   string
		starts []string
		req    func(graph.NodeID) graph.TraverseRequest
	}{{"Impact", h.Datasets, ImpactRequest}, {"Trace", h.Deployments, TraceRequest}} {
		b.Run(q.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			visited := 0
			for b.Loop() {
				ns, err := s.Lookup(ctx, q.starts[rng.IntN(len(q.starts))])
				if err != nil || len(ns) == 0 {
					b.Fatal(err)
				}
				res, err := s.Traverse(ctx, q.req(ns[0].ID))
				if err != nil {
					b.Fatal(err)
				}
				visited += len(res.Steps)
			}
			b.ReportMetric(float64(visited)/float64(b.N), "nodes/op")
		})
	}
}
