// Package querytest is the differential test of graph drivers: the same
// corpus (an internal/synth supply chain, the graphtest identity corpus
// and the signed internal/demo chain) written into two stores, in
// different orders and groupings, must give identical answers to every
// internal/query question. Any pair of backends runs it: Run(t, a, b).
package querytest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/graphtest"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/admission"
	"github.com/modelgraph/modelgraph/internal/demo"
	"github.com/modelgraph/modelgraph/internal/query"
	"github.com/modelgraph/modelgraph/internal/synth"
)

// epoch is the ingest time of the corpus's first document: documents are
// stamped in digest order, so both stores hold the same times whatever the
// order they were written in.
var epoch = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// Corpus returns fresh batches (Validate normalises in place: one set per
// store) of the differential corpus, ingest times set.
func Corpus(t testing.TB) []*graph.Batch {
	t.Helper()
	c := synth.Generate(synth.Params{Seed: 7, Datasets: 3, Models: 8, FilesPerModel: 2, PackagesPerSBOM: 6,
		PackagePool: 12, CorePackages: 2, PackageDeps: 2, Deployments: 4})
	bs := append(c.Batches, graphtest.Corpus(3, 24)...)
	pol, err := demo.TrustPolicy()
	if err != nil {
		t.Fatal(err)
	}
	docs, err := demo.Documents()
	if err != nil {
		t.Fatal(err)
	}
	p := ingest.NewParser(pol)
	for _, in := range docs {
		parsed, err := p.Parse(context.Background(), in)
		if err != nil {
			t.Fatalf("demo document %s: %v", in.Source, err)
		}
		for _, pd := range parsed {
			bs = append(bs, pd.Batch)
		}
	}
	digests := make([]string, 0, len(bs))
	for _, b := range bs {
		digests = append(digests, b.Doc.Digest)
	}
	slices.Sort(digests)
	digests = slices.Compact(digests)
	for _, b := range bs {
		i, _ := slices.BinarySearch(digests, b.Doc.Digest)
		b.Doc.IngestedAt = epoch.Add(time.Duration(i) * time.Minute)
	}
	return bs
}

// Load writes bs into s: in order, one Apply each, when seed is 0;
// otherwise shuffled by seed, in ApplyAll chunks of random size.
func Load(t testing.TB, s graph.Writer, bs []*graph.Batch, seed uint64) {
	t.Helper()
	ctx := context.Background()
	if seed == 0 {
		for _, b := range bs {
			if _, err := s.Apply(ctx, b); err != nil {
				t.Fatalf("apply %s: %v", b.Doc.Source, err)
			}
		}
		return
	}
	rng := rand.New(rand.NewPCG(seed, 0xd1ff))
	bs = slices.Clone(bs)
	rng.Shuffle(len(bs), func(i, j int) { bs[i], bs[j] = bs[j], bs[i] })
	for len(bs) > 0 {
		n := min(len(bs), 1+rng.IntN(8))
		if _, err := s.ApplyAll(ctx, bs[:n]); err != nil {
			t.Fatalf("apply %d documents: %v", n, err)
		}
		bs = bs[n:]
	}
}

// Run loads the corpus into a (in order) and into b (shuffled, in
// chunks), then compares every answer (Compare).
func Run(t *testing.T, a, b graph.Store) {
	t.Helper()
	Load(t, a, Corpus(t), 0)
	Load(t, b, Corpus(t), 42)
	Compare(t, a, b)
}

// question is one internal/query call, answered as JSON (or its error).
type question struct {
	name string
	ask  func(ctx context.Context, s *query.Service) (any, error)
}

func answer(ctx context.Context, s *query.Service, q question) string {
	v, err := q.ask(ctx, s)
	if err != nil {
		return "error: " + err.Error()
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return "marshal: " + err.Error()
	}
	return string(raw)
}

// Compare asks a and b every internal/query question over the graph a
// holds (Differences) and fails when any answers differ, when the graph
// is too small to compare or when most answers are errors.
func Compare(t *testing.T, a, b graph.Reader) {
	t.Helper()
	d, err := Differences(context.Background(), a, b)
	if err != nil {
		t.Fatal(err)
	}
	if d.Questions < 200 {
		t.Fatalf("%d questions: the graph is too small to compare", d.Questions)
	}
	for i, m := range d.Differ {
		if i == 5 {
			break
		}
		t.Error(m)
	}
	if len(d.Differ) > 0 {
		t.Fatalf("%d of %d answers differ", len(d.Differ), d.Questions)
	}
	if d.Errors > d.Questions/4 {
		t.Fatalf("%d of %d questions answered with an error: a weak comparison", d.Errors, d.Questions)
	}
	t.Logf("%d questions, identical answers (%d of them errors such as NOT_FOUND, on both)", d.Questions, d.Errors)
}

// Diff is what Differences found.
type Diff struct {
	Questions int      // asked
	Errors    int      // answered with an error by a
	Differ    []string // one message per question answered differently
}

// Differences asks a and b every question over the graph a holds (each
// node as the subject of every question about one node; every signer,
// package, advisory and deployment; the listings, searches and the
// dashboard) and reports where the answers differ.
func Differences(ctx context.Context, a, b graph.Reader) (Diff, error) {
	qs, err := questions(ctx, a)
	if err != nil {
		return Diff{}, err
	}
	d := Diff{Questions: len(qs)}
	sa, sb := query.New(a), query.New(b)
	for _, q := range qs {
		x, y := answer(ctx, sa, q), answer(ctx, sb, q)
		if strings.HasPrefix(x, "error: ") {
			d.Errors++
		}
		if x != y {
			d.Differ = append(d.Differ, fmt.Sprintf("%s: answers differ:\n a: %s\n b: %s", q.name, clip(x), clip(y)))
		}
	}
	return d, nil
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// questions lists what Compare asks, from the nodes r holds.
func questions(ctx context.Context, r graph.Reader) ([]question, error) {
	byKind := map[graph.NodeKind][]graph.Node{}
	for _, kind := range graph.NodeKinds {
		after := graph.NodeID("")
		for {
			ns, err := r.Nodes(ctx, graph.NodeQuery{Kind: kind, After: after, Limit: graph.MaxListLimit})
			if err != nil {
				return nil, err
			}
			byKind[kind] = append(byKind[kind], ns...)
			if len(ns) < graph.MaxListLimit {
				break
			}
			after = ns[len(ns)-1].ID
		}
	}
	ref := func(n graph.Node) string {
		// A digest when the node has one (refs resolve digests first).
		for _, k := range n.Keys {
			if graph.IsDigestKey(k) {
				return k
			}
		}
		return n.Keys[0]
	}
	var qs []question
	add := func(name string, ask func(ctx context.Context, s *query.Service) (any, error)) {
		qs = append(qs, question{name, ask})
	}
	add("Stats", func(ctx context.Context, s *query.Service) (any, error) { return s.Stats(ctx) })
	add("Dashboard", func(ctx context.Context, s *query.Service) (any, error) { return s.Dashboard(ctx) })
	add("Advisories", func(ctx context.Context, s *query.Service) (any, error) {
		return s.Advisories(ctx, false, query.Page{})
	})
	add("Advisories active", func(ctx context.Context, s *query.Service) (any, error) { return s.Advisories(ctx, true, query.Page{}) })
	add("Unverified", func(ctx context.Context, s *query.Service) (any, error) {
		return s.Unverified(ctx, nil, query.Page{First: 100})
	})
	add("ActiveAdvisoryNodes", func(ctx context.Context, s *query.Service) (any, error) { return s.ActiveAdvisoryNodes(ctx) })
	for _, kind := range graph.NodeKinds {
		add("Nodes "+string(kind), func(ctx context.Context, s *query.Service) (any, error) {
			return s.Nodes(ctx, kind, query.NodeFilter{}, query.Page{First: 100})
		})
		add("Unverified "+string(kind), func(ctx context.Context, s *query.Service) (any, error) {
			return s.Unverified(ctx, []graph.NodeKind{kind}, query.Page{First: 50})
		})
	}
	for _, status := range []string{"verified", "unverified", "failed", "unsigned"} {
		add("Nodes Model status "+status, func(ctx context.Context, s *query.Service) (any, error) {
			return s.Nodes(ctx, graph.KindModel, query.NodeFilter{Status: status}, query.Page{First: 100})
		})
	}
	for _, text := range []string{"model", "data", "pkg:pypi", "prod", "acme", "lib0", "tokenizer", "org/model-1"} {
		add("Search "+text, func(ctx context.Context, s *query.Service) (any, error) {
			return s.Search(ctx, text, nil, query.Page{First: 20})
		})
	}
	var kinds []graph.NodeKind
	for k := range byKind {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(x, y graph.NodeKind) int { return cmp.Compare(x.Code(), y.Code()) })
	for _, kind := range kinds {
		for _, n := range byKind[kind] {
			rf, id := ref(n), n.ID
			tag := fmt.Sprintf("%s %s", kind, rf)
			add("Lookup "+tag, func(ctx context.Context, s *query.Service) (any, error) { return s.Lookup(ctx, rf) })
			add("Node "+tag, func(ctx context.Context, s *query.Service) (any, error) { return s.Node(ctx, id) })
			add("Identity "+tag, func(ctx context.Context, s *query.Service) (any, error) { return s.Identity(ctx, id, kind) })
			add("Trace "+tag, func(ctx context.Context, s *query.Service) (any, error) {
				return s.Trace(ctx, rf, query.LineageOptions{IncludeFiles: true})
			})
			add("Impact "+tag, func(ctx context.Context, s *query.Service) (any, error) {
				return s.Impact(ctx, rf, query.LineageOptions{})
			})
			switch kind {
			case graph.KindDataset:
				add("DeployedModelsTrainedOn "+tag, func(ctx context.Context, s *query.Service) (any, error) {
					return s.DeployedModelsTrainedOn(ctx, rf, query.DeployedOptions{At: epoch.AddDate(1, 0, 0)})
				})
			case graph.KindModel:
				add("Admission "+tag, func(ctx context.Context, s *query.Service) (any, error) {
					return admission.Decide(ctx, s, rf, admission.Policy{RequireVerified: true, DenyOnAdvisory: true})
				})
				add("AdvisoriesUpstream "+tag, func(ctx context.Context, s *query.Service) (any, error) { return s.AdvisoriesUpstream(ctx, id) })
			case graph.KindDeployment:
				add("RollbackCandidates "+tag, func(ctx context.Context, s *query.Service) (any, error) {
					return s.RollbackCandidates(ctx, rf, 0)
				})
				add("TrustOfDeployment "+tag, func(ctx context.Context, s *query.Service) (any, error) { return s.TrustOfDeployment(ctx, id) })
				add("ServedOn "+tag, func(ctx context.Context, s *query.Service) (any, error) {
					return s.ServedOn(ctx, id, epoch.AddDate(1, 0, 0))
				})
			case graph.KindPackage:
				add("AffectedByPackage "+tag, func(ctx context.Context, s *query.Service) (any, error) {
					return s.AffectedByPackage(ctx, rf, "", 0, query.Page{First: 100})
				})
			case graph.KindAdvisory, graph.KindVulnerability:
				add("AffectedByAdvisory "+tag, func(ctx context.Context, s *query.Service) (any, error) {
					return s.AffectedByAdvisory(ctx, rf, 0, query.Page{First: 100})
				})
			case graph.KindIdentity:
				add("Signatures "+tag, func(ctx context.Context, s *query.Service) (any, error) {
					return s.Signatures(ctx, strings.TrimPrefix(n.Keys[0], "identity:"), "", query.Page{First: 100})
				})
			}
		}
	}
	// Explanations between a few datasets and deployments.
	ds, dp := byKind[graph.KindDataset], byKind[graph.KindDeployment]
	for i := range min(len(ds), 4) {
		for j := range min(len(dp), 4) {
			from, to := ref(ds[i]), ref(dp[j])
			add("Explain "+from+" "+to, func(ctx context.Context, s *query.Service) (any, error) { return s.Explain(ctx, from, to, 0) })
		}
	}
	return qs, nil
}
