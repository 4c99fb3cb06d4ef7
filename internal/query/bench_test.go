package query

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/internal/synth"
)

// benchGraphs are built once per size per process: ingesting is not what
// these benchmarks measure.
var (
	benchMu     sync.Mutex
	benchGraphs = map[int]*benchGraph{}
)

type benchGraph struct {
	store *embedded.Store
	chain *synth.Chain
}

func benchStore(b *testing.B, nodes int) *benchGraph {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if g, ok := benchGraphs[nodes]; ok {
		return g
	}
	dir, err := os.MkdirTemp("", "query-bench")
	if err != nil {
		b.Fatal(err)
	}
	s, err := embedded.Open(filepath.Join(dir, "graph.db"), embedded.Options{})
	if err != nil {
		b.Fatal(err)
	}
	chain, err := synth.Load(context.Background(), s, synth.ForNodes(nodes))
	if err != nil {
		b.Fatal(err)
	}
	g := &benchGraph{store: s, chain: chain}
	benchGraphs[nodes] = g
	return g
}

// BenchmarkQuestions times each question on a synthetic supply chain and
// reports how many answer items it produced.
func BenchmarkQuestions(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		g := benchStore(b, n)
		q := New(g.store)
		ctx := context.Background()
		ds, dep, pkg := g.chain.Datasets[0], g.chain.Deployments[0], g.chain.Packages[0]
		model := g.chain.Models[len(g.chain.Models)/2]
		cases := []struct {
			name string
			run  func() (int, error)
		}{
			{"deployed-trained-on", func() (int, error) {
				a, err := q.DeployedModelsTrainedOn(ctx, ds, DeployedOptions{Page: Page{First: MaxPageSize}})
				return a.TotalCount, err
			}},
			{"impact", func() (int, error) {
				a, err := q.Impact(ctx, ds, LineageOptions{Page: Page{First: 100}})
				return a.TotalCount, err
			}},
			{"trace", func() (int, error) {
				a, err := q.Trace(ctx, model, LineageOptions{Page: Page{First: 100}})
				return a.TotalCount, err
			}},
			{"affected-by-package", func() (int, error) {
				a, err := q.AffectedByPackage(ctx, pkg, "", 0, Page{First: 100})
				return a.TotalCount, err
			}},
			{"unverified-page", func() (int, error) {
				a, err := q.Unverified(ctx, nil, Page{First: 100})
				return len(a.Items), err
			}},
			{"rollback", func() (int, error) {
				a, err := q.RollbackCandidates(ctx, dep, 0)
				return len(a.Candidates), err
			}},
		}
		for _, c := range cases {
			b.Run(fmt.Sprintf("%s/nodes=%d", c.name, n), func(b *testing.B) {
				items := 0
				for b.Loop() {
					k, err := c.run()
					if err != nil {
						b.Fatal(err)
					}
					items += k
				}
				b.ReportMetric(float64(items)/float64(b.N), "items/op")
			})
		}
	}
}
