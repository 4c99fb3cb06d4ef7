package search_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/search"
	"github.com/modelgraph/modelgraph/internal/synth"
)

var (
	benchMu  sync.Mutex
	benchIdx = map[int]*benchIndex{}
)

type benchIndex struct {
	x     *search.Index
	chain *synth.Chain
	build time.Duration
	// buildCPU is the process CPU time of the build (wall time on a
	// shared machine mostly measures waiting for a core).
	buildCPU time.Duration
	heap     uint64
}

// indexOf indexes the synthetic chain of about n nodes. The nodes are
// assembled from the batches as a store would (keys and claims united per
// node, named by the first key the chain uses for it): the index is the
// same on both backends, so the store is left out of what is measured.
func indexOf(b *testing.B, n int) *benchIndex {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if bi, ok := benchIdx[n]; ok {
		return bi
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	nodes := map[string]*graph.Node{}
	var order []string
	c, err := synth.Stream(synth.ForNodes(n), func(bt *graph.Batch) error {
		for _, sp := range bt.Nodes {
			id := string(sp.Kind) + "\x00" + sp.Keys[0]
			nd, ok := nodes[id]
			if !ok {
				nd = &graph.Node{ID: graph.NewNodeID(sp.Kind, sp.Keys[0]), Kind: sp.Kind}
				nodes[id] = nd
				order = append(order, id)
			}
			for _, k := range sp.Keys {
				if !slices.Contains(nd.Keys, k) {
					nd.Keys = append(nd.Keys, k)
				}
			}
			nd.Attrs, _ = graph.MergeAttrs(nd.Attrs, bt.Doc.Digest, sp.Attrs)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	start, c0 := time.Now(), cpuTime()
	x := search.New()
	for _, id := range order {
		x.Put(*nodes[id])
	}
	bi := &benchIndex{x: x, chain: c, build: time.Since(start), buildCPU: cpuTime() - c0}
	nodes, order = nil, nil
	runtime.GC()
	runtime.ReadMemStats(&m1)
	bi.heap = m1.HeapAlloc - min(m0.HeapAlloc, m1.HeapAlloc)
	benchIdx[n] = bi
	return bi
}

// queries is the benchmark's mix: what responders type, typos included,
// and a text that matches nothing (every tier runs).
func queries(c *synth.Chain, i int) []string {
	m := i % len(c.Models)
	d := i % len(c.Datasets)
	dep := c.Deployments[i%len(c.Deployments)]
	return []string{
		fmt.Sprintf("synth/model-%d", m),                       // exact name
		fmt.Sprintf("synth/model-%d", m)[:12],                  // prefix
		fmt.Sprintf("model %d", m),                             // words
		fmt.Sprintf("synth/modle-%d", m),                       // typo
		fmt.Sprintf("sytnh datset %d", d),                      // two typos
		c.Models[m][:7+12],                                     // digest prefix
		dep[strings.LastIndexByte(dep, '/')+1:],                // service name
		fmt.Sprintf("pkg:pypi/synth-pkg%d", i%len(c.Packages)), // purl prefix
		"transformers",                                         // package name
		"clinical-notes-raw",                                   // nothing matches
	}
}

// BenchmarkSearch reports search latency percentiles over the query mix
// (ns/op is one query), the index build time and its heap.
func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			bi := indexOf(b, n)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; {
				for _, q := range queries(bi.chain, i) {
					if i >= b.N {
						break
					}
					t := time.Now()
					bi.x.Search(search.Query{Text: q, Limit: 20})
					lat = append(lat, time.Since(t))
					i++
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
			b.ReportMetric(float64(bi.x.Len()), "nodes")
			b.ReportMetric(bi.build.Seconds(), "build-s")
			b.ReportMetric(bi.buildCPU.Seconds(), "build-cpu-s")
			b.ReportMetric(float64(bi.heap)/(1<<20), "heap-MiB")
		})
	}
}

// BenchmarkSnapshot reports what replaces the startup build on the
// embedded store: saving the index beside the store (at Close) and loading
// it (at the next start); ns/op is one load.
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			bi := indexOf(b, n)
			path := filepath.Join(b.TempDir(), "g.db.search")
			st := search.Stamp{Tx: 1, Nodes: int64(bi.x.Len())}
			start := time.Now()
			if err := bi.x.Save(path, st); err != nil {
				b.Fatal(err)
			}
			save := time.Since(start)
			fi, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			c0 := cpuTime()
			b.ResetTimer()
			for range b.N {
				y, err := search.Load(path, st)
				if err != nil {
					b.Fatal(err)
				}
				if y.Len() != bi.x.Len() {
					b.Fatalf("loaded %d of %d", y.Len(), bi.x.Len())
				}
			}
			b.StopTimer()
			b.ReportMetric((cpuTime()-c0).Seconds()/float64(b.N), "load-cpu-s")
			b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "load-s")
			b.ReportMetric(save.Seconds(), "save-s")
			b.ReportMetric(float64(fi.Size())/(1<<20), "file-MiB")
			b.ReportMetric(bi.build.Seconds(), "build-s")
			b.ReportMetric(bi.buildCPU.Seconds(), "build-cpu-s")
		})
	}
}
