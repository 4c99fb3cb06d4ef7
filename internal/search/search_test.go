package search_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/demo"
	"github.com/modelgraph/modelgraph/internal/search"
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

// want names the intended node by kind and one of its keys.
type want struct {
	kind graph.NodeKind
	key  string
}

func firstIs(t *testing.T, r graph.Reader, x *search.Index, text string, kinds []graph.NodeKind, w want) {
	t.Helper()
	hits := x.Search(search.Query{Text: text, Kinds: kinds, Limit: 5})
	if len(hits) == 0 {
		t.Errorf("%q: no hit, want %s %s", text, w.kind, w.key)
		return
	}
	n, err := r.Node(context.Background(), hits[0].ID)
	if err != nil {
		t.Fatalf("%q: first hit %s: %v", text, hits[0].ID, err)
	}
	if n.Kind != w.kind || !slices.Contains(n.Keys, w.key) {
		var got []string
		for _, h := range hits {
			m, _ := r.Node(context.Background(), h.ID)
			got = append(got, string(m.Kind)+" "+strings.Join(m.Keys, ",")+" ["+h.Tier.String()+" "+h.Matched+"]")
		}
		t.Errorf("%q: first hit is %s %v, want %s %s; hits:\n  %s", text, n.Kind, n.Keys, w.kind, w.key, strings.Join(got, "\n  "))
	}
}

func TestFragmentsOnDemo(t *testing.T) {
	s := demoStore(t)
	x := s.SearchIndex()
	raw := want{graph.KindDataset, "name:acme/clinical-notes-raw@2024-01"}
	clinical := want{graph.KindDataset, "name:acme/clinical-notes@v3"}
	chatDep := want{graph.KindDeployment, "deployment:production/eu-west-1/ml-serving/clinical-chat"}
	transformers := want{graph.KindPackage, demo.VulnerablePackage}
	tok := demo.TokenizerDigest()
	cases := []struct {
		text  string
		kinds []graph.NodeKind
		want  want
	}{
		// The fragments.
		{"acme/clinical-notes-raw", nil, raw},
		{"s3://acme-data/datasets/clinical-notes-raw/2024-01", nil, raw},
		{"clinical-chat", nil, chatDep},
		{"pkg:pypi/transformers", nil, transformers},
		// Exact keys, names, ids.
		{"name:acme/clinical-notes-raw@2024-01", nil, raw},
		{"acme/llm-7b", nil, want{graph.KindModel, "name:acme/llm-7b"}},
		{"hf://acme/llm-7b-chat", nil, want{graph.KindModel, "name:acme/llm-7b-chat"}},
		{"AIXV-2024-0042", nil, want{graph.KindAdvisory, "advisory:AIXV-2024-0042"}},
		{"ghcr.io/acme/model-server", nil, want{graph.KindPackage, "sha256:81a0db31a5eb4924726ddd4ca446b5b200e7e422d87908f428cb9bd0f9934d7f"}},
		{"llama.cpp", nil, want{graph.KindPackage, "pkg:github/ggerganov/llama.cpp@b3000"}},
		// Prefixes: ids, digests, key hints, paths.
		{"aixv-2024", nil, want{graph.KindAdvisory, "advisory:AIXV-2024-0042"}},
		{tok[:20], nil, want{graph.KindFile, tok}},
		{strings.ToUpper(tok[7:25]), nil, want{graph.KindFile, tok}},
		{"790e9c18", nil, want{graph.KindIdentity, "key:790e9c18774a729d3582f683f697f9f5b87887948e1cb069542750dd3ba15fc3"}},
		{"production/eu-west-1", nil, chatDep},
		{"transformers", nil, transformers},
		// Words, in any order.
		{"clinical-notes-raw/2024-01", nil, raw},
		{"web corpus", nil, want{graph.KindDataset, "name:acme/web-corpus@2024-03"}},
		{"llm-7b-chat", nil, want{graph.KindModel, "name:acme/llm-7b-chat"}},
		{"note-summarizer", nil, want{graph.KindDeployment, "deployment:staging/eu-west-1/ml-staging/note-summarizer"}},
		{"summarizer lora", nil, want{graph.KindModel, "name:acme/llm-7b-summarizer-lora"}},
		// Typos.
		{"clincal notes", nil, clinical},
		{"acme/llm-7b-clincal", nil, want{graph.KindModel, "name:acme/llm-7b-clinical"}},
		{"trasnformers", nil, transformers},
		{"uvicron", nil, want{graph.KindPackage, "pkg:pypi/uvicorn@0.22.0"}},
		{"clinical-caht", nil, chatDep},
		// Kind filters.
		{"clinical", []graph.NodeKind{graph.KindDeployment}, chatDep},
		{"llm-7b-clinical", []graph.NodeKind{graph.KindTrainingRun}, want{graph.KindTrainingRun, "run:ft-llm-7b-clinical-2024-06-02"}},
	}
	for _, c := range cases {
		firstIs(t, s, x, c.text, c.kinds, c.want)
	}
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
	model := func(i int) want { return want{graph.KindModel, c.Models[i]} }
	dataset := func(i int) want { return want{graph.KindDataset, c.Datasets[i]} }
	dep := func(i int) want { return want{graph.KindDeployment, c.Deployments[i]} }
	cases := []struct {
		text string
		want want
	}{
		{"synth/model-1234", model(1234)},
		{"synth/model-12", model(12)},
		{"model-1234", model(1234)},
		{"synth/modle-1234", model(1234)},
		{"sytnh/model-777", model(777)},
		{"synth/dataset-77", dataset(77)},
		{"dataset 77", dataset(77)},
		{"synth/datset-77", dataset(77)},
		{c.Models[42][:22], model(42)},
		{strings.TrimPrefix(c.Deployments[124], "deployment:"), dep(124)},
		{"svc-123", dep(123)},
		{"numpy", want{graph.KindPackage, c.Packages[0]}},
		{"nunpy", want{graph.KindPackage, c.Packages[0]}},
		{"pkg:pypi/torch", want{graph.KindPackage, c.Packages[1]}},
	}
	for _, cs := range cases {
		firstIs(t, s, x, cs.text, nil, cs.want)
	}
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
