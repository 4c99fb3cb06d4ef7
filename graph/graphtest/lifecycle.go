package graphtest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

// testClosed: after Close every call fails with ErrClosed and a second
// Close does nothing; writes racing a Close either commit (and are there
// after a reopen) or fail with ErrClosed, never half.
func testClosed(t *testing.T, h Harness) {
	drv := h.Open(t)
	s := graph.Open(drv, options(h))
	mustApply(t, s, chain())
	raw := one(t, s, Digest("raw")).ID

	// Writers racing the Close.
	const writers = 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	committed := map[string]bool{}
	var unexpected []error
	start := make(chan struct{})
	ready := make(chan struct{}) // closed after some writes committed
	var readyOnce sync.Once
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := 0; ; i++ {
				b := graph.NewBatch(Doc(fmt.Sprintf("close-%d-%d", w, i)))
				b.Node(graph.KindModel, Digest(fmt.Sprintf("close-%d-%d", w, i)))
				r, err := s.Apply(ctx(), b)
				mu.Lock()
				switch {
				case err == nil:
					committed[r.Document] = true
					if len(committed) >= 2*writers {
						readyOnce.Do(func() { close(ready) })
					}
				case errors.Is(err, graph.ErrClosed):
					mu.Unlock()
					return
				default:
					unexpected = append(unexpected, err)
				}
				mu.Unlock()
				if i > 500 {
					readyOnce.Do(func() { close(ready) })
					return
				}
			}
		})
	}
	close(start)
	<-ready
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for _, err := range unexpected {
		t.Errorf("Apply racing Close: %v (want a receipt or ErrClosed)", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	c := ctx()
	calls := map[string]error{}
	_, calls["Apply"] = s.Apply(c, chain())
	_, calls["ApplyAll"] = s.ApplyAll(c, []*graph.Batch{chain()})
	_, calls["Node"] = s.Node(c, raw)
	_, calls["Lookup"] = s.Lookup(c, Digest("raw"))
	_, calls["Nodes"] = s.Nodes(c, graph.NodeQuery{Kind: graph.KindModel})
	_, calls["Edges"] = s.Edges(c, raw, graph.Both)
	_, calls["Traverse"] = s.Traverse(c, graph.TraverseRequest{From: []graph.NodeID{raw}, Direction: graph.Downstream})
	_, calls["Documents"] = s.Documents(c, Doc("chain").Digest)
	_, calls["Stats"] = s.Stats(c)
	calls["Check"] = s.Check(c)
	for name, err := range calls {
		if !errors.Is(err, graph.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	// What was acknowledged is there after a restart.
	r := &store{drv: h.Reopen(t, drv)}
	r.DB = graph.Open(r.drv, options(h))
	t.Cleanup(func() {
		if err := r.Check(ctx()); err != nil {
			t.Errorf("graph invariants broken: %v", err)
		}
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	if got := one(t, r, Digest("raw")).ID; got != raw {
		t.Fatalf("raw is %s after reopen, was %s", got, raw)
	}
	var digests []string
	for d := range committed {
		digests = append(digests, d)
	}
	ds, err := r.Documents(c, digests...)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != len(digests) {
		t.Fatalf("%d documents acknowledged before Close, %d stored after reopen", len(digests), len(ds))
	}
	t.Logf("%d writes committed before Close", len(digests))
}

// testConcurrentMerges: writers whose documents join keys (merging nodes)
// run while readers look keys up, follow ids and walk; readers see no
// error but a node absorbed between two calls (ErrNotFound), and the end
// state is the graph the identity rule defines.
func testConcurrentMerges(t *testing.T, h Harness) {
	s := open(t, h)
	bs := Corpus(11, 40)
	want, err := Expected(Corpus(11, 40))
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{Digest("model-0"), "hf://org/model-1", graph.NameKey("org/model-2"), "pkg:pypi/lib0@1.0.0", Digest("data-1")}
	done := make(chan struct{})
	errs := make(chan error, 64)
	var readers sync.WaitGroup
	for r := range 3 {
		readers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				ns, err := s.Lookup(ctx(), keys[(i+r)%len(keys)])
				if err != nil {
					errs <- fmt.Errorf("lookup: %w", err)
					return
				}
				for _, n := range ns {
					if _, err := s.Node(ctx(), n.ID); err != nil {
						errs <- fmt.Errorf("node %s just looked up: %w", n.ID, err)
						return
					}
					_, err := s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{n.ID}, Direction: graph.Both, MaxDepth: 3})
					if err != nil && !errors.Is(err, graph.ErrNotFound) {
						errs <- fmt.Errorf("traverse from %s: %w", n.ID, err)
						return
					}
				}
				if _, err := s.Stats(ctx()); err != nil {
					errs <- fmt.Errorf("stats: %w", err)
					return
				}
			}
		})
	}
	applyIn(t, s, bs, modeConcurrent, nil)
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := Dump(t, s); got != want {
		t.Fatalf("concurrent writers with readers give another graph: %s", diff(got, want))
	}
}
