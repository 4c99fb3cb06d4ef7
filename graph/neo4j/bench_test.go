package neo4j_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/graph/graphtest"
)

// The benchmarks run the same work on graph/embedded and on Neo4j (skipped
// without MODELGRAPH_NEO4J_URI), on one generated supply chain:
//
//	200 datasets, each derived from another (chains of depth ~8);
//	2,000 models, each with a signed provenance document (trained on two
//	datasets, derived from a parent model, produced by a training run that
//	used a dataset) and an SBOM document (20 packages from a pool of 1,000,
//	numpy in every one, and a weights file);
//	500 deployments (every fourth model).
//
// That is 4,700 documents, ~12,400 nodes and ~60,000 edges.

const (
	preload       = 2500 // documents bulk-loaded before timing serial Apply
	warmup        = 10   // then applied one by one, untimed
	benchModels   = 2000
	benchDatasets = 200
	benchPackages = 1000
	benchSBOM     = 20
)

type benchGraph struct {
	batches []*graph.Batch
	edges   int
}

var benchCorpus = func() func() *benchGraph {
	var g *benchGraph
	return func() *benchGraph {
		if g == nil {
			g = generate()
		}
		return g
	}
}()

func generate() *benchGraph {
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	doc := func(name string, sigs ...graph.Signature) graph.Document {
		return graph.Document{Digest: graph.SHA256Key([]byte("bench:" + name)), Type: "bench", Source: name, Signatures: sigs, IngestedAt: at}
	}
	sig := graph.Signature{Method: "keyless", Identity: "https://github.com/acme/train/.github/workflows/train.yml@refs/heads/main", Issuer: "https://token.actions.githubusercontent.com", Status: graph.StatusVerified}
	model := func(i int) string { return graph.SHA256Key([]byte(fmt.Sprintf("bench:model:%d", i))) }
	dataset := func(i int) string { return graph.SHA256Key([]byte(fmt.Sprintf("bench:dataset:%d", i))) }
	pkg := func(i int) string {
		if i == 0 {
			return "pkg:pypi/numpy@1.26.0"
		}
		return fmt.Sprintf("pkg:pypi/lib%04d@%d.%d.0", i, i%7, i%11)
	}
	g := &benchGraph{}
	add := func(b *graph.Batch) {
		if err := b.Validate(); err != nil {
			panic(err)
		}
		g.batches = append(g.batches, b)
		g.edges += len(b.Edges)
	}
	for k := range benchDatasets {
		b := graph.NewBatch(doc(fmt.Sprintf("dataset-%d", k)))
		d := b.Node(graph.KindDataset, dataset(k), graph.NameKey(fmt.Sprintf("acme/data-%d", k)))
		if k > 0 {
			b.Edge(d, graph.DerivedFrom, b.Node(graph.KindDataset, dataset(k/2)))
		}
		b.Describes(d)
		add(b)
	}
	for i := range benchModels {
		b := graph.NewBatch(doc(fmt.Sprintf("provenance-%d", i), sig))
		m := b.Node(graph.KindModel, model(i), graph.NameKey(fmt.Sprintf("acme/model-%d", i)))
		b.Set(m, "license", []string{"apache-2.0", "mit", "llama3"}[i%3])
		b.Edge(m, graph.TrainedOn, b.Node(graph.KindDataset, dataset(i%benchDatasets)), "split", "train")
		b.Edge(m, graph.TrainedOn, b.Node(graph.KindDataset, dataset(i*7%benchDatasets)), "split", "validation")
		if i > 0 {
			b.Edge(m, graph.DerivedFrom, b.Node(graph.KindModel, model(i/2)), "relation", "finetune")
		}
		run := b.Node(graph.KindTrainingRun, fmt.Sprintf("run:acme/%d", i))
		b.Edge(m, graph.ProducedBy, run)
		b.Edge(run, graph.Uses, b.Node(graph.KindDataset, dataset(i%benchDatasets)))
		b.Describes(m)
		add(b)

		b = graph.NewBatch(doc(fmt.Sprintf("sbom-%d", i)))
		m = b.Node(graph.KindModel, model(i))
		for j := range benchSBOM {
			p := 0
			if j > 0 {
				p = 1 + (i*13+j*j*7+j)%(benchPackages-1)
			}
			pi := b.Node(graph.KindPackage, pkg(p))
			b.Edge(m, graph.DependsOn, pi, "scope", "runtime")
		}
		b.Edge(m, graph.Contains, b.Node(graph.KindFile, graph.SHA256Key([]byte(fmt.Sprintf("bench:weights:%d", i)))), "path", "model.safetensors")
		b.Describes(m)
		add(b)

		if i%4 == 0 {
			b = graph.NewBatch(doc(fmt.Sprintf("deploy-%d", i)))
			m = b.Node(graph.KindModel, model(i))
			b.Edge(m, graph.DeployedAs, b.Node(graph.KindDeployment, fmt.Sprintf("deployment:prod/model-%d", i)))
			b.Describes(m)
			add(b)
		}
	}
	return g
}

type backend struct {
	name string
	open func(b *testing.B) graph.Store
}

func backends() []backend {
	return []backend{
		{"bolt", func(b *testing.B) graph.Store {
			s, err := embedded.Open(filepath.Join(b.TempDir(), "graph.db"), embedded.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			return s
		}},
		{"neo4j", func(b *testing.B) graph.Store { return open(b, config(b)) }},
	}
}

// BenchmarkMergeHub measures the costliest merge on both backends: a
// package with 2,000 dependents renamed by a key with a smaller id, so
// every edge moves (see graphtest.BenchMergeHub).
func BenchmarkMergeHub(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) { graphtest.BenchMergeHub(b, be.open) })
	}
}

// BenchmarkApply measures ingest: one document per Apply (serial, a
// transaction each) into a graph preloaded with the first 2,500 documents,
// and ApplyAll of 500 documents per call (bulk) from empty.
func BenchmarkApply(b *testing.B) {
	g := benchCorpus()
	ctx := context.Background()
	for _, be := range backends() {
		b.Run(be.name+"/serial", func(b *testing.B) {
			s := be.open(b)
			// Untimed: load the first part of the corpus in bulk, so the
			// timed documents land in a populated graph (as on a running
			// server) and Neo4j's statement plans settle.
			for j := 0; j < preload; j += 500 {
				if _, err := s.ApplyAll(ctx, g.batches[j:min(j+500, preload)]); err != nil {
					b.Fatal(err)
				}
			}
			// A few single documents too: the first statements after a
			// bulk load pay for Neo4j replanning them (~1 s, once).
			for _, bt := range g.batches[preload : preload+warmup] {
				if _, err := s.Apply(ctx, bt); err != nil {
					b.Fatal(err)
				}
			}
			i, edges := preload+warmup, 0
			for b.Loop() {
				if i == len(g.batches) {
					b.StopTimer()
					s = be.open(b)
					i = 0
					b.StartTimer()
				}
				if _, err := s.Apply(ctx, g.batches[i]); err != nil {
					b.Fatal(err)
				}
				edges += len(g.batches[i].Edges)
				i++
			}
			b.ReportMetric(float64(edges)/float64(b.N), "edges/op")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
		})
		b.Run(be.name+"/bulk500", func(b *testing.B) {
			const chunk = 500
			var s graph.Store
			i, docs, edges := len(g.batches), 0, 0
			for b.Loop() {
				if i >= len(g.batches) {
					b.StopTimer()
					s = be.open(b)
					i = 0
					b.StartTimer()
				}
				part := g.batches[i:min(i+chunk, len(g.batches))]
				if _, err := s.ApplyAll(ctx, part); err != nil {
					b.Fatal(err)
				}
				for _, x := range part {
					edges += len(x.Edges)
				}
				docs += len(part)
				i += chunk
			}
			b.ReportMetric(float64(edges)/float64(b.N), "edges/op")
			b.ReportMetric(float64(docs)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}

// BenchmarkTraverse measures the incident-response walks on the whole
// generated graph.
func BenchmarkTraverse(b *testing.B) {
	g := benchCorpus()
	ctx := context.Background()
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			for i := 0; i < len(g.batches); i += 500 {
				if _, err := s.ApplyAll(ctx, g.batches[i:min(i+500, len(g.batches))]); err != nil {
					b.Fatal(err)
				}
			}
			st, err := s.Stats(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if int(st.Documents) != len(g.batches) {
				b.Fatalf("%d documents stored, want %d", st.Documents, len(g.batches))
			}
			b.Logf("%s: %d nodes, %d edges, %d documents", be.name, st.Nodes, st.Edges, st.Documents)
			ids := func(keys ...string) []graph.NodeID {
				out := make([]graph.NodeID, len(keys))
				for i, k := range keys {
					ns, err := s.Lookup(ctx, k)
					if err != nil || len(ns) != 1 {
						b.Fatalf("lookup %s: %d nodes, %v", k, len(ns), err)
					}
					out[i] = ns[0].ID
				}
				return out
			}
			var datasets, deployments []string
			for k := 0; k < benchDatasets; k += 20 {
				datasets = append(datasets, graph.SHA256Key([]byte(fmt.Sprintf("bench:dataset:%d", k))))
			}
			for i := 0; i < benchModels; i += 200 {
				deployments = append(deployments, fmt.Sprintf("deployment:prod/model-%d", i))
			}
			walks := []struct {
				name   string
				starts []graph.NodeID
				req    graph.TraverseRequest
			}{
				// Which models and deployments descend from dataset X?
				{"dataset-impact", ids(datasets...), graph.TraverseRequest{Direction: graph.Downstream, EdgeKinds: []graph.EdgeKind{graph.DerivedFrom, graph.TrainedOn, graph.DeployedAs}, Limit: 100_000}},
				// Where did this deployment come from (lineage, data, runs)?
				{"deployment-trace", ids(deployments...), graph.TraverseRequest{Direction: graph.Upstream, EdgeKinds: []graph.EdgeKind{graph.DeployedAs, graph.DerivedFrom, graph.TrainedOn, graph.ProducedBy, graph.Uses}, Limit: 100_000}},
				// Everything upstream of a deployment within 3 hops: SBOMs,
				// files, documents, signers.
				{"deployment-all-depth3", ids(deployments...), graph.TraverseRequest{Direction: graph.Upstream, MaxDepth: 3, Limit: 100_000}},
				// Which deployments run a model that depends on numpy?
				{"package-impact", ids("pkg:pypi/numpy@1.26.0"), graph.TraverseRequest{Direction: graph.Downstream, EdgeKinds: []graph.EdgeKind{graph.DependsOn, graph.DeployedAs}, Limit: 100_000}},
			}
			for _, w := range walks {
				b.Run(w.name, func(b *testing.B) {
					warm := w.req
					warm.From = w.starts[:1]
					if _, err := s.Traverse(ctx, warm); err != nil { // untimed: plans the queries
						b.Fatal(err)
					}
					visited, edges, i := 0, 0, 0
					for b.Loop() {
						req := w.req
						req.From = []graph.NodeID{w.starts[i%len(w.starts)]}
						i++
						res, err := s.Traverse(ctx, req)
						if err != nil {
							b.Fatal(err)
						}
						visited += len(res.Steps)
						edges += len(res.Steps) - 1
					}
					b.ReportMetric(float64(visited)/float64(b.N), "nodes-visited/op")
					b.ReportMetric(float64(edges)/float64(b.N), "edges/op")
				})
			}
		})
	}
}
