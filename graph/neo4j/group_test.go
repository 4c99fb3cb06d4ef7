package neo4j

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/graphtest"
)

// TestApplyGroupCommit: concurrent Apply calls share write transactions
// (fewer transactions than documents) and lose nothing: every document is
// stored once, a document sent twice at the same time is written once and
// reported as a duplicate once, and the shared node carries every
// document's evidence.
func TestApplyGroupCommit(t *testing.T) {
	uri := os.Getenv("MODELGRAPH_NEO4J_URI")
	if uri == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("MODELGRAPH_NEO4J_URI is not set in CI")
		}
		t.Skip("MODELGRAPH_NEO4J_URI is not set")
	}
	ctx := context.Background()
	s := internalStore(t)
	const docs = 64
	batch := func(i int) *graph.Batch {
		b := graph.NewBatch(graphtest.Doc(fmt.Sprintf("group-%d", i)))
		m := b.Node(graph.KindModel, graphtest.Digest(fmt.Sprintf("group-model-%d", i)))
		shared := b.Node(graph.KindPackage, "pkg:pypi/numpy@1.26.0")
		b.Edge(m, graph.DependsOn, shared)
		return b
	}
	before := s.d.commits.Load()
	start := make(chan struct{})
	var wg sync.WaitGroup
	receipts := make([]graph.Receipt, docs+1)
	errs := make([]error, docs+1)
	for i := range docs + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// The last caller sends document 0 again.
			receipts[i], errs[i] = s.Apply(ctx, batch(i%docs))
		}()
	}
	close(start)
	wg.Wait()
	dups := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("apply %d: %v", i, err)
		}
		if receipts[i].Duplicate {
			dups++
		}
	}
	if dups != 1 || receipts[0].Duplicate == receipts[docs].Duplicate {
		t.Fatalf("%d duplicates (document 0: %v and %v), want exactly one of the two copies of document 0", dups, receipts[0].Duplicate, receipts[docs].Duplicate)
	}
	txs := s.d.commits.Load() - before
	if txs >= docs {
		t.Fatalf("%d write transactions for %d concurrent documents: no grouping", txs, docs+1)
	}
	t.Logf("%d concurrent documents in %d write transactions", docs+1, txs)
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != docs {
		t.Fatalf("%d documents stored, want %d", st.Documents, docs)
	}
	ns, err := s.Lookup(ctx, "pkg:pypi/numpy@1.26.0")
	if err != nil || len(ns) != 1 {
		t.Fatalf("lookup numpy: %v %v", ns, err)
	}
	if len(ns[0].Docs) != docs {
		t.Fatalf("shared package has %d evidence documents, want %d", len(ns[0].Docs), docs)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}
