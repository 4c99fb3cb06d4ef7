package demo_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/demo"
	"github.com/modelgraph/modelgraph/internal/testserve"
)

// canonicalDump renders everything a store holds without its opaque ids or
// ingest times: nodes by their sorted keys, edges by their endpoints' keys,
// documents by digest. Two stores fed the same documents in any order must
// dump the same (order-independence, docs/architecture.md).
func canonicalDump(t *testing.T, r graph.Reader) string {
	t.Helper()
	ctx := context.Background()
	label := map[graph.NodeID]string{}
	var nodes []graph.Node
	for _, kind := range graph.NodeKinds {
		after := graph.NodeID("")
		for {
			ns, err := r.Nodes(ctx, graph.NodeQuery{Kind: kind, After: after, Limit: graph.MaxListLimit})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range ns {
				label[n.ID] = string(n.Kind) + "[" + strings.Join(n.Keys, " ") + "]"
				nodes = append(nodes, n)
			}
			if len(ns) < graph.MaxListLimit {
				break
			}
			after = ns[len(ns)-1].ID
		}
	}
	var lines, docs []string
	for _, n := range nodes {
		lines = append(lines, fmt.Sprintf("N %s attrs=%v docs=%v keyDocs=%v", label[n.ID], n.Attrs, n.Docs, n.KeyDocs))
		es, err := r.Edges(ctx, n.ID, graph.Out)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			lines = append(lines, fmt.Sprintf("E %s -%s-> %s attrs=%v docs=%v", label[e.From], e.Kind, label[e.To], e.Attrs, e.Docs))
		}
		if n.Kind == graph.KindDocument {
			for _, k := range n.Keys {
				if graph.IsDigestKey(k) {
					docs = append(docs, k)
				}
			}
		}
	}
	ds, err := r.Documents(ctx, docs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		// Ingest times differ by run and are left out.
		lines = append(lines, fmt.Sprintf("D %s %s %s %s role=%s size=%d sigs=%+v", d.Digest, d.Type, d.PredicateType, d.Source, d.Role, d.Size, d.Signatures))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func openOrderStore(t *testing.T) *embedded.Store {
	t.Helper()
	return testserve.Embedded(t)
}

func pushAll(t *testing.T, p *ingest.Pipeline, docs []ingest.Input) {
	t.Helper()
	for _, d := range docs {
		if _, err := p.Ingest(context.Background(), d); err != nil {
			t.Fatalf("ingest %s: %v", d.Source, err)
		}
	}
}

// The demo chain in random orders, and pushed concurrently, gives one
// graph. MODELGRAPH_ORDER_PERMUTATIONS raises the count (make soak).
func TestDemoOrderIndependent(t *testing.T) {
	orderIndependent(t, 24, func(t *testing.T) graph.Store { return openOrderStore(t) })
}

// The same on a real Neo4j (MODELGRAPH_NEO4J_URI; it resets the database,
// so the test command runs it after the packages that share it).
func TestDemoOrderIndependentNeo4j(t *testing.T) {
	s := testserve.Neo4j(t)
	ctx := context.Background()
	// One database: each run starts from a reset (the store is shared, so
	// a run's dump is taken before the next reset).
	orderIndependent(t, 4, func(t *testing.T) graph.Store {
		if err := testserve.ResetNeo4j(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func orderIndependent(t *testing.T, perms int, open func(*testing.T) graph.Store) {
	docs, err := demo.Documents()
	if err != nil {
		t.Fatal(err)
	}
	pol, err := demo.TrustPolicy()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := strconv.Atoi(os.Getenv("MODELGRAPH_ORDER_PERMUTATIONS")); err == nil && v > 0 {
		perms = v
	}
	base := open(t)
	pushAll(t, &ingest.Pipeline{Store: base, Parser: ingest.NewParser(pol)}, docs)
	want := canonicalDump(t, base)
	if n := strings.Count(want, "\nN "); n < 50 {
		t.Fatalf("the demo graph dumps only %d nodes: the comparison would prove nothing", n)
	}
	t.Logf("%d documents, %d dump lines, %d permutations", len(docs), strings.Count(want, "\n")+1, perms)
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range perms {
		order := slices.Clone(docs)
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		s := open(t)
		pushAll(t, &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)}, order)
		if got := canonicalDump(t, s); got != want {
			t.Fatalf("permutation %d gives another graph:\n%s", i, diffLines(want, got))
		}
	}
	// Concurrent pushes from four clients.
	s := open(t)
	p := &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)}
	order := slices.Clone(docs)
	rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
	var wg sync.WaitGroup
	errs := make(chan error, len(order))
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < len(order); i += 4 {
				if _, err := p.Ingest(context.Background(), order[i]); err != nil {
					errs <- fmt.Errorf("%s: %w", order[i].Source, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := canonicalDump(t, s); got != want {
		t.Fatalf("concurrent pushes give another graph:\n%s", diffLines(want, got))
	}
}

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for _, l := range w {
		if !slices.Contains(g, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			out = append(out, "+ "+l)
		}
	}
	if len(out) > 40 {
		out = append(out[:40], fmt.Sprintf("... %d more", len(out)-40))
	}
	return strings.Join(out, "\n")
}
