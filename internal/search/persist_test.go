package search_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/demo"
	"github.com/modelgraph/modelgraph/internal/query"
	"github.com/modelgraph/modelgraph/internal/search"
)

// TestIndexPersistsAcrossRestarts: Close saves the index beside the store;
// the next Wrap loads it (no scan) and it answers like the index the writes
// built; a write made without the wrapper (or a crash after writes) makes
// the snapshot stale and the next Wrap rebuilds, seeing that write.
func TestIndexPersistsAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "g.db")
	open := func() *search.Store {
		t.Helper()
		st, err := embedded.Open(path, embedded.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := search.Wrap(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	pol, err := demo.WithTrust(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)}); err != nil {
		t.Fatal(err)
	}
	queries := []string{"acme/clinical-notes-raw", "clincal notes", "clinical-chat", "pkg:pypi/transformers", "trasnformers", "790e9c18", "aixv-2024"}
	before := map[string][]search.Hit{}
	for _, q := range queries {
		before[q] = s.SearchIndex().Search(search.Query{Text: q, Limit: 10})
	}
	n := s.SearchIndex().Len()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(search.SnapshotPath(path)); err != nil {
		t.Fatalf("no snapshot after Close: %v", err)
	}

	builds := search.Builds()
	s = open()
	if got := search.Builds() - builds; got != 0 {
		t.Fatalf("reopen after a clean close scanned the store (%d builds)", got)
	}
	if s.SearchIndex().Len() != n {
		t.Fatalf("loaded %d nodes, saved %d", s.SearchIndex().Len(), n)
	}
	for _, q := range queries {
		after := s.SearchIndex().Search(search.Query{Text: q, Limit: 10})
		if len(after) != len(before[q]) {
			t.Fatalf("%q: %d hits after reload, %d before", q, len(after), len(before[q]))
		}
		for i := range after {
			if after[i].ID != before[q][i].ID || after[i].Tier != before[q][i].Tier {
				t.Errorf("%q hit %d: %+v after reload, %+v before", q, i, after[i], before[q][i])
			}
		}
	}
	// A write made by another process (the CLI opening the store without
	// the wrapper) after the snapshot was saved.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := embedded.Open(path, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("late")), Type: "test"})
	b.Describes(b.Node(graph.KindModel, "name:org/written-behind"))
	if _, err := raw.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	builds = search.Builds()
	s = open()
	defer s.Close()
	if got := search.Builds() - builds; got != 1 {
		t.Fatalf("stale snapshot: %d builds, want a rebuild", got)
	}
	if h := s.SearchIndex().Search(search.Query{Text: "org/written-behind"}); len(h) != 1 || h[0].Tier != search.TierExact {
		t.Fatalf("write made without the wrapper not found after restart: %+v", h)
	}
}

// TestCLIIndexIsSaved: a query.Service over the store file (the CLI: no
// wrapper) builds the index once and saves it; the next command loads it;
// a write in between makes it rebuild.
func TestCLIIndexIsSaved(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "g.db")
	write := func(name string) {
		t.Helper()
		st, err := embedded.Open(path, embedded.Options{})
		if err != nil {
			t.Fatal(err)
		}
		b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte(name)), Type: "test"})
		b.Describes(b.Node(graph.KindModel, "name:org/"+name))
		if _, err := st.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	command := func(text string) (builds int64, hits int) {
		t.Helper()
		st, err := embedded.Open(path, embedded.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		b0 := search.Builds()
		a, err := query.New(st).Search(ctx, text, nil, query.Page{})
		if err != nil {
			t.Fatal(err)
		}
		return search.Builds() - b0, len(a.Items)
	}
	write("first")
	if b, n := command("org/first"); b != 1 || n != 1 {
		t.Fatalf("first command: %d builds, %d hits", b, n)
	}
	if b, n := command("org/first"); b != 0 || n != 1 {
		t.Fatalf("second command: %d builds (want the saved index), %d hits", b, n)
	}
	write("second")
	if b, n := command("org/second"); b != 1 || n != 1 {
		t.Fatalf("after a write: %d builds, %d hits", b, n)
	}
}
