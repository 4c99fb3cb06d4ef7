package neo4j_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/graphtest"
	"github.com/modelgraph/modelgraph/graph/neo4j"
)

// config reads the server to test against from the environment. Without
// one the tests skip locally, but never in CI: a backend whose tests do not
// run is not tested.
func config(t testing.TB) neo4j.Config {
	t.Helper()
	uri := os.Getenv("MODELGRAPH_NEO4J_URI")
	if uri == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("MODELGRAPH_NEO4J_URI is not set in CI; start a server with deploy/neo4j-dev/neo4j-dev.sh")
		}
		t.Skip("MODELGRAPH_NEO4J_URI is not set (start one with: bash deploy/neo4j-dev/neo4j-dev.sh start 17687)")
	}
	return neo4j.Config{
		URI:      uri,
		User:     os.Getenv("MODELGRAPH_NEO4J_USER"),
		Password: os.Getenv("MODELGRAPH_NEO4J_PASSWORD"),
	}
}

// open returns a store on an emptied database. At cleanup it checks the
// graph's invariants (as the contract harness does) and closes it.
func open(t testing.TB, cfg neo4j.Config) *graph.DB {
	t.Helper()
	d, opts, err := neo4j.OpenDriver(context.Background(), cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	s := graph.Open(d, opts)
	t.Cleanup(func() {
		if err := s.Check(context.Background()); err != nil {
			t.Errorf("graph invariants broken: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// harness gives graphtest Neo4j drivers on an emptied database.
type harness struct {
	cfg  neo4j.Config
	opts graph.Options
}

// Permutations keeps the identity property's share of go test short here
// (each permutation resets and checks the database); make soak raises it
// with graphtest.PermutationsEnv.
func (harness) Permutations() int { return 9 }

// Options implements graphtest.Optioner: the options neo4j.Open uses.
func (h *harness) Options() graph.Options { return h.opts }

func (h *harness) Open(t *testing.T) graph.Driver {
	t.Helper()
	d, opts, err := neo4j.OpenDriver(context.Background(), h.cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	h.opts = opts
	return d
}

func (h *harness) Reopen(t *testing.T, _ graph.Driver) graph.Driver {
	t.Helper()
	d, _, err := neo4j.OpenDriver(context.Background(), h.cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestContract(t *testing.T) {
	graphtest.Run(t, &harness{cfg: config(t)})
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := neo4j.Open(ctx, neo4j.Config{}); err == nil {
		t.Fatal("Open with no URI succeeded")
	}
	if _, err := neo4j.Open(ctx, neo4j.Config{URI: "bolt://127.0.0.1:1", BulkSize: -1}); err == nil || !strings.Contains(err.Error(), "bulk size") {
		t.Fatalf("negative bulk size: %v", err)
	}
	// Nothing listens on port 1: connectivity is checked at open, and the
	// password never appears in the error.
	_, err := neo4j.Open(ctx, neo4j.Config{URI: "bolt://127.0.0.1:1", User: "u", Password: "hunter2"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Open against a closed port: %v", err)
	}
}

func TestClosed(t *testing.T) {
	cfg := config(t)
	s, err := neo4j.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := context.Background()
	if _, err := s.Stats(ctx); !errors.Is(err, graph.ErrClosed) {
		t.Fatalf("Stats after Close: %v", err)
	}
	if _, err := s.Apply(ctx, graph.NewBatch(graphtest.Doc("closed"))); !errors.Is(err, graph.ErrClosed) {
		t.Fatalf("Apply after Close: %v", err)
	}
	if _, err := s.Lookup(ctx, "name:x"); !errors.Is(err, graph.ErrClosed) {
		t.Fatalf("Lookup after Close: %v", err)
	}
}

// TestApplyAllChunks: a call larger than BulkSize commits chunk by chunk;
// when a later chunk fails, the earlier ones stay, the receipts returned
// are theirs, the error says so, and replaying the call completes it.
func TestApplyAllChunks(t *testing.T) {
	cfg := config(t)
	cfg.BulkSize = 2
	s := open(t, cfg)
	ctx := context.Background()
	small := func(name string) *graph.Batch {
		b := graph.NewBatch(graphtest.Doc(name))
		b.Node(graph.KindModel, graphtest.Digest(name))
		return b
	}
	chain := func() *graph.Batch {
		b := graph.NewBatch(graphtest.Doc("chain"))
		prev := b.Node(graph.KindModel, graphtest.Digest("c0"))
		for i := 1; i < 9; i++ {
			m := b.Node(graph.KindModel, graphtest.Digest(fmt.Sprintf("c%d", i)))
			b.Edge(m, graph.DerivedFrom, prev)
			prev = m
		}
		return b
	}
	call := func() []*graph.Batch { return []*graph.Batch{small("s1"), small("s2"), small("s3"), chain()} }
	// The first chunk writes 4 nodes, the second 12: a fault after 5
	// writes hits only the second.
	rs, err := s.ApplyAll(graph.WithFault(ctx, 5), call())
	if !errors.Is(err, graph.ErrInjectedFault) || !strings.Contains(err.Error(), "first 2 are committed") {
		t.Fatalf("ApplyAll with a fault in the second chunk: %v", err)
	}
	if len(rs) != 2 || rs[0].NodesCreated != 2 || rs[1].NodesCreated != 2 {
		t.Fatalf("receipts of the committed chunk: %+v", rs)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Documents != 2 || st.Nodes != 4 {
		t.Fatalf("after a failed second chunk: %+v, %v", st, err)
	}
	rs, err = s.ApplyAll(ctx, call())
	if err != nil || len(rs) != 4 || !rs[0].Duplicate || !rs[1].Duplicate || rs[2].Duplicate || rs[3].NodesCreated != 10 || rs[3].EdgesCreated != 8 {
		t.Fatalf("replayed call: %+v, %v", rs, err)
	}
}

// TestWritersInTwoProcesses: the writer lock lives in the database, so
// stores on two drivers (two modelgraph processes) writing documents whose
// keys overlap leave a consistent graph: every key owned by one node, every
// document's evidence on the shared package, the invariants intact.
func TestWritersInTwoProcesses(t *testing.T) {
	cfg := config(t)
	a := open(t, cfg)
	b, err := neo4j.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	const writers, perWriter = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers*perWriter)
	for p, s := range []graph.Store{a, b} {
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perWriter {
					n := (p*writers+w)*perWriter + i
					bt := graph.NewBatch(graphtest.Doc(fmt.Sprintf("p%d-w%d-%d", p, w, i)))
					// Keys chain the models together: which node a spec lands
					// on depends on the order the documents commit in.
					m := bt.Node(graph.KindModel, graph.NameKey(fmt.Sprintf("m%d", n%13)), graph.NameKey(fmt.Sprintf("m%d", (n+1)%13)))
					bt.Edge(m, graph.DependsOn, bt.Node(graph.KindPackage, "pkg:pypi/numpy@1.26.0"))
					if _, err := s.Apply(ctx, bt); err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 2 * writers * perWriter
	np, err := a.Lookup(ctx, "pkg:pypi/numpy@1.26.0")
	if err != nil || len(np) != 1 || len(np[0].Docs) != total {
		t.Fatalf("shared package: %+v, %v; want %d documents of evidence", np, err, total)
	}
	owners := map[string]graph.NodeID{}
	models, err := a.Nodes(ctx, graph.NodeQuery{Kind: graph.KindModel})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range models {
		for _, k := range m.Keys {
			if prev, ok := owners[k]; ok {
				t.Fatalf("key %s on %s and %s", k, prev, m.ID)
			}
			owners[k] = m.ID
		}
	}
	if len(owners) != 13 {
		t.Fatalf("%d model keys owned, want 13", len(owners))
	}
	if err := a.Check(ctx); err != nil {
		t.Fatal(err)
	}
}
