package search_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/demo"
	"github.com/modelgraph/modelgraph/internal/search"
	"github.com/modelgraph/modelgraph/internal/search/searchtest"
	"github.com/modelgraph/modelgraph/internal/synth"
)

func openBolt(t testing.TB) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// demoStore loads the demo through a pipeline writing into the wrapped
// store, so the index is built by the write path, not by a scan.
func demoStore(t *testing.T) *search.Store {
	t.Helper()
	ctx := context.Background()
	s, err := search.Wrap(ctx, openBolt(t))
	if err != nil {
		t.Fatal(err)
	}
	pol, err := demo.WithTrust(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)}); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFragmentsOnDemo(t *testing.T) {
	s := demoStore(t)
	if _, err := s.Apply(context.Background(), searchtest.SignerBatch()); err != nil {
		t.Fatal(err)
	}
	searchtest.Check(t, s, s.SearchEngine(), searchtest.Demo())
}

func TestFragmentsOnSynthetic100k(t *testing.T) {
	if testing.Short() {
		t.Skip("100k-node chain")
	}
	ctx := context.Background()
	st := openBolt(t)
	var chunk []*graph.Batch
	flush := func() error {
		_, err := st.ApplyAll(ctx, chunk)
		chunk = chunk[:0]
		return err
	}
	c, err := synth.Stream(synth.ForNodes(100_000), func(b *graph.Batch) error {
		chunk = append(chunk, b)
		if len(chunk) == 200 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		t.Fatal(err)
	}
	// Built by a scan this time (as at startup).
	s, err := search.Wrap(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	x := s.SearchIndex()
	if st, _ := s.Stats(ctx); int64(x.Len()) != st.Nodes {
		t.Fatalf("indexed %d of %d nodes", x.Len(), st.Nodes)
	}
	searchtest.Check(t, s, s.SearchEngine(), searchtest.Synthetic(c))
}

// TestIndexFollowsWrites: a write through the wrapper is searchable at
// once; a merge drops the absorbed id; a failed write changes nothing.
func TestIndexFollowsWrites(t *testing.T) {
	ctx := context.Background()
	s, err := search.Wrap(ctx, openBolt(t))
	if err != nil {
		t.Fatal(err)
	}
	x := s.SearchIndex()
	doc := func(d string) *graph.Batch {
		return graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte(d)), Type: "test"})
	}
	b := doc("a")
	m := b.Node(graph.KindModel, "name:org/alpha")
	b.Describes(m)
	if _, err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	b2 := doc("b")
	b2.Node(graph.KindModel, graph.SHA256Key([]byte("weights")))
	if _, err := s.Apply(ctx, b2); err != nil {
		t.Fatal(err)
	}
	hits := x.Search(search.Query{Text: "org/alpha"})
	if len(hits) != 1 || hits[0].Tier != search.TierExact {
		t.Fatalf("after write: %+v", hits)
	}
	before := hits[0].ID
	// Join the name and the digest: the node with the larger id is absorbed.
	b3 := doc("c")
	b3.Node(graph.KindModel, "name:org/alpha", graph.SHA256Key([]byte("weights")))
	rc, err := s.Apply(ctx, b3)
	if err != nil {
		t.Fatal(err)
	}
	if len(rc.Merges) != 1 {
		t.Fatalf("want one merge, got %+v", rc.Merges)
	}
	after := x.Search(search.Query{Text: "org/alpha"})
	if len(after) != 1 || after[0].ID != rc.Merges[0].Into {
		t.Fatalf("after merge: %+v (merge %+v, before %s)", after, rc.Merges, before)
	}
	for _, id := range rc.Merges[0].Absorbed {
		if x.Has(id) {
			t.Errorf("absorbed %s still indexed", id)
		}
	}
	if st, _ := s.Stats(ctx); int64(x.Len()) != st.Nodes {
		t.Errorf("indexed %d, store has %d", x.Len(), st.Nodes)
	}
	// A batch the store refuses leaves the index alone.
	bad := doc("d")
	bad.Node(graph.KindModel, "name:org/beta")
	bad.Edges = append(bad.Edges, graph.EdgeSpec{From: 0, To: 99, Kind: graph.Describes})
	if _, err := s.Apply(ctx, bad); err == nil {
		t.Fatal("invalid batch applied")
	}
	if h := x.Search(search.Query{Text: "org/beta"}); len(h) != 0 {
		t.Errorf("refused write indexed: %+v", h)
	}
}
