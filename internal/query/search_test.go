package query_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/internal/demo"
	"github.com/modelgraph/modelgraph/internal/demo/demotest"
	"github.com/modelgraph/modelgraph/internal/query"
)

// demoService is the demo in a bolt store, queried without a search
// wrapper (the Service builds its own index and rebuilds it after writes).
func demoService(t *testing.T) (*query.Service, *embedded.Store) {
	t.Helper()
	s, _ := demotest.Store(t)
	return query.New(s), s
}

func TestNotFoundSuggests(t *testing.T) {
	q, _ := demoService(t)
	ctx := context.Background()
	cases := []struct {
		ref   string
		kinds []graph.NodeKind
		want  string
	}{
		{"acme/clinical-notes-raw", nil, "name:acme/clinical-notes-raw@2024-01"},
		{"s3://acme-data/datasets/clinical-notes-raw/2024-01", []graph.NodeKind{graph.KindDataset}, "name:acme/clinical-notes-raw@2024-01"},
		{"acme/llm-7b-clincal", []graph.NodeKind{graph.KindModel}, "name:acme/llm-7b-clinical"},
		{"clinical-chat", nil, "deployment:production/eu-west-1/ml-serving/clinical-chat"},
	}
	for _, c := range cases {
		_, err := q.Resolve(ctx, c.ref, c.kinds...)
		var nf *query.NotFoundError
		if !errors.Is(err, query.ErrNotFound) || !errors.Is(err, graph.ErrNotFound) || !errors.As(err, &nf) {
			t.Fatalf("%q: %v, want NOT_FOUND", c.ref, err)
		}
		if len(nf.Suggestions) == 0 || nf.Suggestions[0].Ref != c.want {
			t.Errorf("%q: suggestions %+v, want %s first", c.ref, nf.Suggestions, c.want)
		}
		if !strings.Contains(err.Error(), "did you mean "+c.want) {
			t.Errorf("%q: message %q lacks the suggestion", c.ref, err)
		}
		// The suggestion resolves.
		if ns, err := q.Resolve(ctx, nf.Suggestions[0].Ref); err != nil || len(ns) != 1 {
			t.Errorf("suggestion %s: %v %v", nf.Suggestions[0].Ref, ns, err)
		}
	}
	_, err := q.Signatures(ctx, "790e9c18774a", "", query.Page{})
	var nf *query.NotFoundError
	if !errors.As(err, &nf) || len(nf.Suggestions) == 0 || nf.Suggestions[0].Kind != graph.KindIdentity {
		t.Errorf("signer typo: %v", err)
	}
}

func TestSearchPagesAndFollowsWrites(t *testing.T) {
	q, s := demoService(t)
	ctx := context.Background()
	a, err := q.Search(ctx, "clincal notes", nil, query.Page{})
	if err != nil || len(a.Items) == 0 || a.Items[0].Node.Name != "acme/clinical-notes@v3" || a.Items[0].Match != "fuzzy" {
		t.Fatalf("%+v %v", a, err)
	}
	all, err := q.Search(ctx, "acme", nil, query.Page{First: 1000})
	if err != nil || all.TotalCount < 10 || len(all.Items) != all.TotalCount {
		t.Fatalf("acme: %d of %d, %v", len(all.Items), all.TotalCount, err)
	}
	var paged []graph.NodeID
	p := query.Page{First: 3}
	for {
		pg, err := q.Search(ctx, "acme", nil, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range pg.Items {
			paged = append(paged, h.Node.ID)
		}
		if !pg.PageInfo.HasNextPage {
			break
		}
		p.After = pg.PageInfo.EndCursor
	}
	var want []graph.NodeID
	for _, h := range all.Items {
		want = append(want, h.Node.ID)
	}
	if !slices.Equal(paged, want) {
		t.Errorf("pages differ from one page:\n%v\n%v", paged, want)
	}
	if _, err := q.Search(ctx, "acme", []graph.NodeKind{"Nope"}, query.Page{}); !query.IsBadInput(err) {
		t.Errorf("bad kind: %v", err)
	}
	if _, err := q.Search(ctx, " ", nil, query.Page{}); !query.IsBadInput(err) {
		t.Errorf("empty: %v", err)
	}
	// A write the service did not see is found at the next search.
	b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("new")), Type: "test"})
	b.Describes(b.Node(graph.KindModel, "name:acme/brand-new-model"))
	if _, err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	if a, err := q.Search(ctx, "brand-new", nil, query.Page{}); err != nil || len(a.Items) != 1 || a.Items[0].Ref != "name:acme/brand-new-model" {
		t.Errorf("after write: %+v %v", a, err)
	}
}

func TestInventoryFilters(t *testing.T) {
	q, _ := demoService(t)
	ctx := context.Background()
	list := func(kind graph.NodeKind, f query.NodeFilter) []query.InventoryItem {
		t.Helper()
		var out []query.InventoryItem
		p := query.Page{First: 2}
		for {
			a, err := q.Nodes(ctx, kind, f, p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, a.Items...)
			if !a.PageInfo.HasNextPage {
				return out
			}
			p.After = a.PageInfo.EndCursor
		}
	}
	names := func(its []query.InventoryItem) []string {
		var ns []string
		for _, it := range its {
			ns = append(ns, it.Node.Name)
		}
		slices.Sort(ns)
		return ns
	}
	deps := list(graph.KindDeployment, query.NodeFilter{})
	if len(deps) != 3 {
		t.Fatalf("deployments: %v", names(deps))
	}
	prod := list(graph.KindDeployment, query.NodeFilter{Environment: "production"})
	if len(prod) != 1 || prod[0].Node.Name != "production/eu-west-1/ml-serving/clinical-chat" || prod[0].State != "active" {
		t.Errorf("production: %+v", prod)
	}
	models := list(graph.KindModel, query.NodeFilter{})
	ver := list(graph.KindModel, query.NodeFilter{Status: "verified"})
	unver := list(graph.KindModel, query.NodeFilter{Status: "unverified"})
	if len(models) != 5 || len(ver)+len(unver) != len(models) || len(ver) == 0 {
		t.Errorf("models %v = verified %v + unverified %v?", names(models), names(ver), names(unver))
	}
	for _, it := range ver {
		if !it.Identity.Verified {
			t.Errorf("%s listed verified: %+v", it.Node.Name, it.Identity)
		}
	}
	yes, no := true, false
	reached := list(graph.KindModel, query.NodeFilter{ReachedByActiveAdvisory: &yes})
	if !slices.Contains(names(reached), demo.ModelClinical) {
		t.Errorf("reached models %v", names(reached))
	}
	dsAll := list(graph.KindDataset, query.NodeFilter{})
	dsReached := list(graph.KindDataset, query.NodeFilter{ReachedByActiveAdvisory: &yes})
	dsNot := list(graph.KindDataset, query.NodeFilter{ReachedByActiveAdvisory: &no})
	if !slices.Contains(names(dsReached), demo.DatasetClinical+"@v3") || !slices.Contains(names(dsNot), demo.DatasetWeb+"@2024-03") ||
		len(dsReached)+len(dsNot) != len(dsAll) {
		t.Errorf("datasets reached %v, not reached %v", names(dsReached), names(dsNot))
	}
	for _, it := range reached {
		if it.ReachedBy == nil || it.ReachedBy.Name != demo.AdvisoryID {
			t.Errorf("%s reached by %+v", it.Node.Name, it.ReachedBy)
		}
	}
	adv := list(graph.KindAdvisory, query.NodeFilter{State: "active"})
	if len(adv) != 1 || len(list(graph.KindAdvisory, query.NodeFilter{State: "withdrawn"})) != 0 {
		t.Errorf("active advisories: %v", names(adv))
	}
	// Signer: the key that signed a verified model's describing document.
	var key string
	for _, e := range ver[0].Identity.DescribedBy {
		for _, sg := range e.Signers {
			if sg.Status == graph.StatusVerified && sg.KeyID != "" {
				key = sg.KeyID
			}
		}
	}
	bySigner := list(graph.KindModel, query.NodeFilter{Signer: key[:12]})
	if !slices.Contains(names(bySigner), ver[0].Node.Name) {
		t.Errorf("signer %s: %v", key[:12], names(bySigner))
	}
	if got := list(graph.KindModel, query.NodeFilter{Signer: "nobody@example.com"}); len(got) != 0 {
		t.Errorf("unknown signer: %v", names(got))
	}
	future := time.Now().Add(time.Hour)
	past := time.Now().Add(-time.Hour)
	if got := list(graph.KindModel, query.NodeFilter{IngestedSince: &future}); len(got) != 0 {
		t.Errorf("ingested since the future: %v", names(got))
	}
	if got := list(graph.KindModel, query.NodeFilter{IngestedSince: &past}); len(got) != len(models) {
		t.Errorf("ingested in the last hour: %v", names(got))
	}
	if _, err := q.Nodes(ctx, graph.KindModel, query.NodeFilter{Status: "maybe"}, query.Page{}); !query.IsBadInput(err) {
		t.Errorf("bad status: %v", err)
	}
}

// shadowDeployment is an unsigned record putting an unsigned model in
// production: what the "unverified production models" panel is for (every
// demo model in production is verified).
func shadowDeployment() *graph.Batch {
	b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("shadow")), Type: "deployment-record"})
	m := b.Node(graph.KindModel, "name:acme/shadow-model")
	d := b.Node(graph.KindDeployment, "deployment:production/eu-west-1/ml-serving/shadow")
	b.Set(d, "environment", "production")
	b.Edge(m, graph.DeployedAs, d, "deployedAt", "2024-07-01T00:00:00Z")
	b.Describes(m)
	return b
}

func TestDashboardPanelsOnDemo(t *testing.T) {
	q, s := demoService(t)
	d, err := q.Dashboard(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.UnverifiedProductionModels) != 0 {
		t.Errorf("demo: every production model is verified, got %+v", d.UnverifiedProductionModels)
	}
	if _, err := s.Apply(context.Background(), shadowDeployment()); err != nil {
		t.Fatal(err)
	}
	d, err = q.Dashboard(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d.Stats.Nodes == 0 || len(d.Verification) == 0 || len(d.WeakestProduction) == 0 || len(d.ActiveAdvisories) == 0 ||
		len(d.UnverifiedProductionModels) == 0 || len(d.RecentDocuments) == 0 {
		t.Fatalf("a panel is empty: %+v", d)
	}
	if a := d.ActiveAdvisories[0]; a.Advisory.Name != demo.AdvisoryID || a.Total == 0 || len(a.Reaches) == 0 {
		t.Errorf("advisory panel: %+v", a)
	}
	if len(d.UnverifiedProductionModels) != 1 || d.UnverifiedProductionModels[0].Node.Name != "acme/shadow-model" {
		t.Errorf("unverified production models: %+v", d.UnverifiedProductionModels)
	}
	if len(d.WeakestProduction) != 2 || d.WeakestProduction[0].Deployment.Name != "production/eu-west-1/ml-serving/shadow" ||
		d.WeakestProduction[0].Status != graph.StatusUnsigned || d.WeakestProduction[1].Reached == 0 {
		t.Errorf("weakest: %+v", d.WeakestProduction)
	}
	for i := 1; i < len(d.RecentDocuments); i++ {
		if d.RecentDocuments[i].Document.IngestedAt.After(d.RecentDocuments[i-1].Document.IngestedAt) {
			t.Errorf("recent documents out of order at %d", i)
		}
	}
}
