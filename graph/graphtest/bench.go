package graphtest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/synth"
)

// BenchOpen opens an empty store for a benchmark.
type BenchOpen func(b *testing.B) graph.Store

// RunBenchmarks measures ingest and traversal on a generated supply chain of
// about nodes nodes, so backends are compared on the same graph and the same
// work (edges/op, nodes-visited/op), not only on ns/op.
func RunBenchmarks(b *testing.B, open BenchOpen, nodes int) {
	chain := synth.Generate(synth.ForNodes(nodes))
	ctx := context.Background()
	edgesIn := func(bs []*graph.Batch) int {
		n := 0
		for _, x := range bs {
			n += len(x.Edges)
		}
		return n
	}

	b.Run("ApplySerial", func(b *testing.B) {
		s := open(b)
		i := 0
		edges := 0
		for b.Loop() {
			if i == len(chain.Batches) {
				b.StopTimer()
				s = open(b)
				i = 0
				b.StartTimer()
			}
			if _, err := s.Apply(ctx, chain.Batches[i]); err != nil {
				b.Fatal(err)
			}
			edges += len(chain.Batches[i].Edges)
			i++
		}
		b.ReportMetric(float64(edges)/float64(b.N), "edges/op")
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	})

	b.Run("ApplyConcurrent8", func(b *testing.B) {
		s := open(b)
		var next atomic.Int64
		b.SetParallelism(4) // 4 x GOMAXPROCS writers
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1)-1) % len(chain.Batches)
				// Past the first lap documents are duplicates; keep the
				// measured work real by using fresh copies.
				bt := chain.Batches[i]
				if int(next.Load()) > len(chain.Batches) {
					bt = relabel(bt, int(next.Load())/len(chain.Batches))
				}
				if _, err := s.Apply(ctx, bt); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	})

	b.Run("ApplyAllBulk", func(b *testing.B) {
		const chunk = 500
		docs := 0
		for b.Loop() {
			b.StopTimer()
			s := open(b)
			b.StartTimer()
			for i := 0; i < len(chain.Batches); i += chunk {
				if _, err := s.ApplyAll(ctx, chain.Batches[i:min(i+chunk, len(chain.Batches))]); err != nil {
					b.Fatal(err)
				}
			}
			docs += len(chain.Batches)
		}
		b.ReportMetric(float64(docs)/b.Elapsed().Seconds(), "docs/s")
		b.ReportMetric(float64(edgesIn(chain.Batches)), "edges/graph")
	})

	b.Run("MergeHub", func(b *testing.B) { BenchMergeHub(b, open) })

	s := open(b)
	for i := 0; i < len(chain.Batches); i += 500 {
		if _, err := s.ApplyAll(ctx, chain.Batches[i:min(i+500, len(chain.Batches))]); err != nil {
			b.Fatal(err)
		}
	}
	st, err := s.Stats(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("graph: %d nodes, %d edges, %d documents", st.Nodes, st.Edges, st.Documents)
	resolve := func(keys []string) []graph.NodeID {
		ids := make([]graph.NodeID, len(keys))
		for i, k := range keys {
			ns, err := s.Lookup(ctx, k)
			if err != nil || len(ns) == 0 {
				b.Fatalf("lookup %s: %v", k, err)
			}
			ids[i] = ns[0].ID
		}
		return ids
	}
	datasets := resolve(chain.Datasets)
	deployments := resolve(chain.Deployments)
	walk := func(name string, starts []graph.NodeID, req graph.TraverseRequest) {
		b.Run(name, func(b *testing.B) {
			visited, i := 0, 0
			for b.Loop() {
				req.From = []graph.NodeID{starts[i%len(starts)]}
				i++
				res, err := s.Traverse(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				visited += len(res.Steps)
			}
			b.ReportMetric(float64(visited)/float64(b.N), "nodes-visited/op")
		})
	}
	walk("TraverseImpact", datasets, graph.TraverseRequest{Direction: graph.Downstream, EdgeKinds: []graph.EdgeKind{graph.TrainedOn, graph.DerivedFrom, graph.DeployedAs}, Limit: 100_000})
	walk("TraverseTrace", deployments, graph.TraverseRequest{Direction: graph.Upstream, EdgeKinds: []graph.EdgeKind{graph.DeployedAs, graph.DerivedFrom, graph.TrainedOn, graph.ProducedBy}, Limit: 100_000})
	walk("TraverseTraceAll", deployments, graph.TraverseRequest{Direction: graph.Upstream, MaxDepth: 4, Limit: 100_000})
}

// relabel copies a batch under a new document digest so it is not a
// duplicate (the graph content is the same: edges merge evidence).
func relabel(b *graph.Batch, lap int) *graph.Batch {
	c := *b
	c.Doc.Digest = graph.SHA256Key([]byte(fmt.Sprintf("%s/lap%d", b.Doc.Digest, lap)))
	c.Nodes = append([]graph.NodeSpec(nil), b.Nodes...)
	c.Nodes[graph.DocNode].Keys = []string{c.Doc.Digest}
	return &c
}

// BenchMergeHub measures the worst merge: a package with hubEdges
// dependents (numpy in every SBOM) gains a digest key whose id is smaller
// than its own, so the node is renamed and every edge moves. One op is one
// such document (the hub is rebuilt, untimed, before each).
func BenchMergeHub(b *testing.B, open BenchOpen) {
	const hubEdges = 2000
	ctx := context.Background()
	purl := "pkg:pypi/hub@1.0.0"
	var digest string
	for i := 0; ; i++ {
		digest = graph.SHA256Key([]byte(fmt.Sprint("hub-digest-", i)))
		if graph.NewNodeID(graph.KindPackage, digest) < graph.NewNodeID(graph.KindPackage, purl) {
			break
		}
	}
	moved := 0
	for b.Loop() {
		b.StopTimer()
		s := open(b)
		var bs []*graph.Batch
		for i := range hubEdges {
			bt := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte(fmt.Sprint("sbom-", i))), Type: "test"})
			m := bt.Node(graph.KindModel, graph.SHA256Key([]byte(fmt.Sprint("model-", i))))
			bt.Edge(m, graph.DependsOn, bt.Node(graph.KindPackage, purl))
			bs = append(bs, bt)
		}
		if _, err := s.ApplyAll(ctx, bs); err != nil {
			b.Fatal(err)
		}
		join := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("hub-join")), Type: "test"})
		join.Node(graph.KindPackage, purl, digest)
		b.StartTimer()
		r, err := s.Apply(ctx, join)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Merges) != 1 {
			b.Fatalf("receipt %+v: want the hub renamed", r)
		}
		moved += hubEdges
	}
	b.ReportMetric(float64(moved)/float64(b.N), "edges-moved/op")
}
