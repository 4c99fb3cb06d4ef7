package neo4j

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/demo"
	"github.com/modelgraph/modelgraph/internal/search"
	"github.com/modelgraph/modelgraph/internal/search/searchtest"
	"github.com/modelgraph/modelgraph/internal/synth"
)

func openFulltext(t *testing.T) *graph.DB {
	t.Helper()
	uri := os.Getenv("MODELGRAPH_NEO4J_URI")
	if uri == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("MODELGRAPH_NEO4J_URI is not set in CI")
		}
		t.Skip("MODELGRAPH_NEO4J_URI is not set")
	}
	ctx := context.Background()
	cfg := Config{URI: uri, User: os.Getenv("MODELGRAPH_NEO4J_USER"), Password: os.Getenv("MODELGRAPH_NEO4J_PASSWORD")}
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := Reset(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestFulltextFragmentsOnDemo: the table internal/search's in-memory index
// passes, on Neo4j's full-text index: the wrapper picks it (no in-memory
// index), and the demo's documents, written by the store, are found as the
// embedded store finds them.
func TestFulltextFragmentsOnDemo(t *testing.T) {
	ctx := context.Background()
	s, err := search.Wrap(ctx, openFulltext(t))
	if err != nil {
		t.Fatal(err)
	}
	if s.SearchIndex() != nil {
		t.Fatal("Neo4j got an in-memory index: its full-text index was not picked")
	}
	pol, err := demo.WithTrust(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, searchtest.SignerBatch()); err != nil {
		t.Fatal(err)
	}
	searchtest.Check(t, s, s.SearchEngine(), searchtest.Demo())
}

// TestFulltextFragmentsOnSynthetic: the synthetic table on a chain loaded
// with ApplyAll (MODELGRAPH_SEARCH_NEO4J_NODES nodes, 20,000 by default:
// loading 100k into Neo4j takes minutes on the development machine).
func TestFulltextFragmentsOnSynthetic(t *testing.T) {
	if testing.Short() {
		t.Skip("synthetic chain")
	}
	nodes := 20_000
	if v := os.Getenv("MODELGRAPH_SEARCH_NEO4J_NODES"); v != "" {
		if _, err := fmt.Sscan(v, &nodes); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	st := openFulltext(t)
	var chunk []*graph.Batch
	flush := func() error {
		_, err := st.ApplyAll(ctx, chunk)
		chunk = chunk[:0]
		return err
	}
	c, err := synth.Stream(synth.ForNodes(nodes), func(b *graph.Batch) error {
		chunk = append(chunk, b)
		if len(chunk) == 500 {
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
	searchtest.Check(t, st, search.NewFullTextEngine(fullText(t, st)), searchtest.Synthetic(c))
}

// TestFulltextFollowsWrites: a write is searchable once acknowledged, a
// merge leaves only the surviving node, and nodes a store written before
// searchText existed get it at the next open.
func TestFulltextFollowsWrites(t *testing.T) {
	ctx := context.Background()
	s := openFulltext(t)
	e := search.NewFullTextEngine(fullText(t, s))
	doc := func(d string) *graph.Batch {
		return graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("fulltext " + d)), Type: "test"})
	}
	find := func(text string) []search.Hit {
		t.Helper()
		hs, err := e.Find(ctx, search.Query{Text: text, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return hs
	}
	b := doc("a")
	b.Describes(b.Node(graph.KindModel, "name:org/alpha"))
	if _, err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	if h := find("org/alpha"); len(h) != 1 || h[0].Tier != search.TierExact {
		t.Fatalf("after write: %+v", h)
	}
	if h := find("org/alpah"); len(h) != 1 || h[0].Tier != search.TierFuzzy {
		t.Fatalf("typo after write: %+v", h)
	}
	b2 := doc("b")
	b2.Node(graph.KindModel, graph.SHA256Key([]byte("fulltext weights")))
	if _, err := s.Apply(ctx, b2); err != nil {
		t.Fatal(err)
	}
	b3 := doc("c")
	b3.Node(graph.KindModel, "name:org/alpha", graph.SHA256Key([]byte("fulltext weights")))
	rc, err := s.Apply(ctx, b3)
	if err != nil {
		t.Fatal(err)
	}
	if len(rc.Merges) != 1 {
		t.Fatalf("want one merge, got %+v", rc.Merges)
	}
	digest := graph.SHA256Key([]byte("fulltext weights"))
	for _, text := range []string{"org/alpha", digest[:20]} {
		if h := find(text); len(h) != 1 || h[0].ID != rc.Merges[0].Into {
			t.Fatalf("%q after merge: %+v (merge %+v)", text, h, rc.Merges)
		}
	}

	// Texts full of Lucene syntax are searched for, never parsed as it.
	for _, text := range []string{`*`, `?`, `\`, `"`, `(`, `a:b`, `&&`, `||`, `!x`, `~`, `^2`, `[a TO b]`, `{`, `/re/`, `a AND`, `NOT`, `OR b`, `x~0.5`, `ünïcödé/ÄÖ`, strings.Repeat("ab-", 300)} {
		if _, err := e.Find(ctx, search.Query{Text: text, Limit: 10}); err != nil {
			t.Errorf("%q: %v", text, err)
		}
	}

	// A store written before searchText: drop it and the done mark, reopen.
	sess := fullText(t, s).(*Store).session(ctx, driver.AccessModeWrite)
	defer sess.Close(ctx)
	for _, q := range []string{"MATCH (n:Node) REMOVE n.searchText", "MATCH (m:ModelgraphMeta) REMOVE m.searchText"} {
		res, err := sess.Run(ctx, q, nil)
		if err == nil {
			_, err = res.Consume(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if h := find("org/alpha"); len(h) != 0 {
		t.Fatalf("found without searchText: %+v", h)
	}
	s2, err := Open(ctx, Config{URI: os.Getenv("MODELGRAPH_NEO4J_URI"), User: os.Getenv("MODELGRAPH_NEO4J_USER"), Password: os.Getenv("MODELGRAPH_NEO4J_PASSWORD")})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if h := find("org/alpha"); len(h) != 1 || h[0].ID != rc.Merges[0].Into {
		t.Fatalf("after the backfill: %+v", h)
	}
}

// fullText is the Neo4j driver's full-text capability under s.
func fullText(t testing.TB, s *graph.DB) search.FullText {
	t.Helper()
	ft, ok := search.FullTextOf(s)
	if !ok {
		t.Fatal("the Neo4j store offers no full-text index")
	}
	return ft
}

func TestLuceneQuery(t *testing.T) {
	m, ok := search.MatchFor(search.Query{Text: `pkg:pypi/trasnformers "x" AND (y)`, Kinds: []graph.NodeKind{graph.KindPackage}, Limit: 5})
	if !ok {
		t.Fatal("no match")
	}
	q := luceneQuery(m)
	for _, want := range []string{
		`+(searchText:pkg searchText:pkg~1)`,
		`+(searchText:x)`,
		`+(searchText:trasnformers searchText:trasnformers~2)`,
		`+(searchText:y searchText:y*)`,
		`+(kind:Package)`,
	} {
		if !strings.Contains(q, want) {
			t.Errorf("query %s lacks %s", q, want)
		}
	}
	// The text has white space: no whole-term clause, and no syntax of
	// the text survives unescaped.
	if strings.Contains(q, "^8") || strings.Contains(q, `"x"`) || strings.Contains(q, "(y)") {
		t.Errorf("unescaped text in %s", q)
	}
	m, _ = search.MatchFor(search.Query{Text: "s3://b/p?x*"})
	if q := luceneQuery(m); !strings.Contains(q, `searchText:s3\:\/\/b\/p\?x\*^8`) || !strings.Contains(q, `searchText:s3\:\/\/b\/p\?x\**^4`) {
		t.Errorf("term clauses not escaped: %s", q)
	}
}

// BenchmarkFulltextSearch: search latency on Neo4j's full-text index
// (candidates from the server, ranked in Go, 20 hits; the hits' nodes come
// with the candidates), over a synthetic chain of
// MODELGRAPH_SEARCH_NEO4J_NODES nodes (20,000 by default), with a mix like
// internal/search's BenchmarkSearch.
func BenchmarkFulltextSearch(b *testing.B) {
	uri := os.Getenv("MODELGRAPH_NEO4J_URI")
	if uri == "" {
		b.Skip("MODELGRAPH_NEO4J_URI is not set")
	}
	nodes := 20_000
	if v := os.Getenv("MODELGRAPH_SEARCH_NEO4J_NODES"); v != "" {
		if _, err := fmt.Sscan(v, &nodes); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	cfg := Config{URI: uri, User: os.Getenv("MODELGRAPH_NEO4J_USER"), Password: os.Getenv("MODELGRAPH_NEO4J_PASSWORD")}
	s, err := Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := Reset(ctx, cfg); err != nil {
		b.Fatal(err)
	}
	var chunk []*graph.Batch
	c, err := synth.Stream(synth.ForNodes(nodes), func(bt *graph.Batch) error {
		chunk = append(chunk, bt)
		if len(chunk) == 500 {
			_, err := s.ApplyAll(ctx, chunk)
			chunk = chunk[:0]
			return err
		}
		return nil
	})
	if err == nil {
		_, err = s.ApplyAll(ctx, chunk)
	}
	if err != nil {
		b.Fatal(err)
	}
	ft, ok := search.FullTextOf(s)
	if !ok {
		b.Fatal("the Neo4j store offers no full-text index")
	}
	e := search.NewFullTextEngine(ft)
	mix := func(i int) []string {
		m, d := i%len(c.Models), i%len(c.Datasets)
		dep := c.Deployments[i%len(c.Deployments)]
		return []string{
			fmt.Sprintf("synth/model-%d", m),
			fmt.Sprintf("synth/model-%d", m)[:12],
			fmt.Sprintf("model %d", m),
			fmt.Sprintf("synth/modle-%d", m),
			fmt.Sprintf("sytnh datset %d", d),
			c.Models[m][:7+12],
			dep[strings.LastIndexByte(dep, '/')+1:],
			fmt.Sprintf("pkg:pypi/synth-pkg%d", i%len(c.Packages)),
			"transformers",
			"clinical-notes-raw",
		}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; {
		for _, q := range mix(i) {
			if i >= b.N {
				break
			}
			t := time.Now()
			if _, err := e.Find(ctx, search.Query{Text: q, Limit: 20}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t))
			i++
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
}
