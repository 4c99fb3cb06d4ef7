package query

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/advisory"
)

type hopWant struct {
	from, kind, to string
	status         graph.Status
	docs           []string // evidence document names
}

func (w *world) checkHops(t *testing.T, what string, got []Hop, want []hopWant) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d hops %v, want %d", what, len(got), w.hopNames(got), len(want))
	}
	for i, h := range got {
		wh := want[i]
		if w.name(h.From.ID) != wh.from || string(h.Kind) != wh.kind || w.name(h.To.ID) != wh.to {
			t.Errorf("%s: hop %d = %s %s %s, want %s %s %s", what, i, w.name(h.From.ID), h.Kind, w.name(h.To.ID), wh.from, wh.kind, wh.to)
		}
		if h.Status != wh.status || h.Verified != (wh.status == graph.StatusVerified) || (h.Weakness == "") != h.Verified {
			t.Errorf("%s: hop %d status %s verified %v weakness %q, want %s", what, i, h.Status, h.Verified, h.Weakness, wh.status)
		}
		var docs []string
		for _, e := range h.Evidence {
			docs = append(docs, w.docName(e.Document))
			if e.IngestedAt.IsZero() || e.Type == "" {
				t.Errorf("%s: hop %d evidence %+v lacks type or time", what, i, e)
			}
		}
		if !sameSet(docs, wh.docs) {
			t.Errorf("%s: hop %d evidence %v, want %v", what, i, docs, wh.docs)
		}
	}
}

func (w *world) hopNames(hs []Hop) []string {
	var out []string
	for _, h := range hs {
		out = append(out, w.name(h.From.ID)+" "+string(h.Kind)+" "+w.name(h.To.ID))
	}
	return out
}

func (w *world) docName(digest string) string {
	for k, v := range w.docs {
		if v == digest {
			return k
		}
	}
	return digest
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func (w *world) reachedDepths(rs []Reached) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		m[w.name(r.Node.ID)] = r.Depth
	}
	return m
}

func TestResolve(t *testing.T) {
	w := newWorld(t)
	hexBase := strings.TrimPrefix(D("base"), "sha256:")
	cases := []struct {
		ref   string
		kinds []graph.NodeKind
		want  []string
	}{
		{"acme/llm-7b", nil, []string{"base"}},
		{"name:acme/llm-7b", nil, []string{"base"}},
		{D("base"), nil, []string{"base"}},
		{"SHA-256:" + strings.ToUpper(hexBase), nil, []string{"base"}},
		{hexBase, nil, []string{"base"}},
		{"hf://acme/llm-7b", nil, []string{"base"}},
		{"https://huggingface.co/acme/llm-7b/tree/main", nil, []string{"base"}},
		{string(w.ids["base"]), nil, []string{"base"}},
		{"  " + purlTorch21 + " ", nil, []string{"torch"}},
		{keyProd, nil, []string{"prod"}},
		{"prod/eu-1/chat/api", nil, []string{"prod"}},
		{"clinical-notes@v3", nil, []string{"raw"}},
		{"ACME-2026-001", nil, []string{"adv"}},
		{D("tokenizer"), nil, []string{"tokenizer"}},
		{D("tokenizer"), []graph.NodeKind{graph.KindModel}, []string{"base"}},
		{"chat-sft", []graph.NodeKind{graph.KindDataset}, []string{"sft"}},
	}
	for _, c := range cases {
		ns, err := w.q.Resolve(ctxT(), c.ref, c.kinds...)
		if err != nil {
			t.Errorf("Resolve(%q): %v", c.ref, err)
			continue
		}
		var got []string
		for _, n := range ns {
			got = append(got, w.name(n.ID))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Resolve(%q, %v) = %v, want %v", c.ref, c.kinds, got, c.want)
		}
	}
	if ns, _ := w.q.Resolve(ctxT(), "acme/llm-7b"); ns[0].Name != "acme/llm-7b" || ns[0].Kind != graph.KindModel {
		t.Errorf("base resolved as %+v", ns[0])
	}
	for _, c := range []struct {
		ref  string
		want error
	}{
		{"nope", ErrNotFound},
		{"acme/llm-7b-chat", nil},
		{"", ErrInvalidReference},
		{"sha256:zz", ErrInvalidReference},
		{"sha256:abcd", ErrInvalidReference},
		{"a\x00b", ErrInvalidReference},
		{strings.Repeat("a", MaxRefLen+1), ErrInvalidReference},
	} {
		_, err := w.q.Resolve(ctxT(), c.ref, graph.KindModel)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("Resolve(%q) error = %v, want %v", clip(c.ref), err, c.want)
		}
	}
	_, err := w.q.Resolve(ctxT(), "acme/llm-7b", graph.KindDataset)
	if !errors.Is(err, graph.ErrNotFound) || IsBadInput(err) {
		t.Errorf("Resolve(model name as Dataset) = %v, want not found", err)
	}
	if _, err := w.q.Resolve(ctxT(), ""); !IsBadInput(err) {
		t.Errorf("empty reference: IsBadInput(%v) = false", err)
	}
}

func TestTrace(t *testing.T) {
	w := newWorld(t)
	l, err := w.q.Trace(ctxT(), "acme/llm-7b-chat-q4", LineageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Roots) != 1 || w.name(l.Roots[0].ID) != "quant" {
		t.Fatalf("roots = %+v", l.Roots)
	}
	var order []string
	for _, r := range l.Reached {
		order = append(order, w.name(r.Node.ID))
	}
	// Breadth first; in a level, parent order then edge kind order.
	want := []string{"ft", "trans", "sft", "base", "clean", "src", "run", "raw"}
	if !slices.Equal(order, want) || l.TotalCount != 8 || l.Truncated || l.DepthLimited {
		t.Fatalf("trace order %v (total %d, truncated %v, depth-limited %v), want %v", order, l.TotalCount, l.Truncated, l.DepthLimited, want)
	}
	depths := w.reachedDepths(l.Reached)
	if !reflect.DeepEqual(depths, map[string]int{"ft": 1, "trans": 1, "sft": 2, "base": 2, "clean": 3, "src": 3, "run": 3, "raw": 4}) {
		t.Errorf("depths = %v", depths)
	}
	byName := map[string]Reached{}
	for _, r := range l.Reached {
		byName[w.name(r.Node.ID)] = r
	}
	w.checkHops(t, "path to raw", byName["raw"].Path, []hopWant{
		{"quant", "DERIVED_FROM", "ft", graph.StatusVerified, []string{"quant-oms"}},
		{"ft", "DERIVED_FROM", "base", graph.StatusUnsigned, []string{"ft-card"}},
		{"base", "TRAINED_ON", "clean", graph.StatusVerified, []string{"base-prov"}},
		{"clean", "DERIVED_FROM", "raw", graph.StatusVerified, []string{"dataset-att"}},
	})
	if byName["raw"].Status != graph.StatusUnsigned {
		t.Errorf("raw path status %s, want unsigned (its weakest hop)", byName["raw"].Status)
	}
	w.checkHops(t, "path to sft", byName["sft"].Path, []hopWant{
		{"quant", "DERIVED_FROM", "ft", graph.StatusVerified, []string{"quant-oms"}},
		{"ft", "TRAINED_ON", "sft", graph.StatusFailed, []string{"ft-prov"}},
	})
	if h := byName["sft"].Path[1]; !strings.Contains(h.Weakness, "failed: certificate chain does not verify") || h.Attrs[0].Name != "split" || h.Attrs[0].Value != "train" {
		t.Errorf("failed hop = %+v", h)
	}
	if byName["run"].Node.Attrs[0].Value != "https://github.com/acme/train/.github/workflows/train.yml" {
		t.Errorf("training run attrs = %+v", byName["run"].Node.Attrs)
	}
	var signers []string
	for _, s := range l.Signers {
		who := s.Signer.Identity
		if who == "" {
			who = "key " + s.Signer.KeyID
		}
		var docs []string
		for _, d := range s.Documents {
			docs = append(docs, w.docName(d))
		}
		signers = append(signers, who+"="+string(s.Signer.Status)+":"+strings.Join(docs, ","))
	}
	wantSigners := []string{"key oms-key-1=verified:quant-oms", "data-team@acme.dev=verified:dataset-att",
		"mallory@evil.example=failed:ft-prov", "ci@acme.dev=verified:base-prov"}
	if !slices.Equal(signers, wantSigners) {
		t.Errorf("signers = %v, want %v", signers, wantSigners)
	}

	// Files only on request.
	withFiles, err := w.q.Trace(ctxT(), "acme/llm-7b", LineageOptions{IncludeFiles: true, Kinds: []graph.NodeKind{graph.KindFile}})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.reachedDepths(withFiles.Reached); !reflect.DeepEqual(got, map[string]int{"weights": 1, "tokenizer": 1}) {
		t.Errorf("files = %v", got)
	}
	// Depth limit.
	shallow, err := w.q.Trace(ctxT(), "acme/llm-7b-chat-q4", LineageOptions{Depth: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.reachedDepths(shallow.Reached); !reflect.DeepEqual(got, map[string]int{"ft": 1, "trans": 1}) || !shallow.DepthLimited {
		t.Errorf("depth 1: %v depth-limited %v", got, shallow.DepthLimited)
	}
	if _, err := w.q.Trace(ctxT(), "acme/llm-7b", LineageOptions{Depth: MaxDepth + 1}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("depth over the limit: %v", err)
	}
	if _, err := w.q.Trace(ctxT(), "acme/llm-7b", LineageOptions{Kinds: []graph.NodeKind{"Modle"}}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("bad kind: %v", err)
	}
}

func TestTracePagination(t *testing.T) {
	w := newWorld(t)
	full, err := w.q.Trace(ctxT(), "acme/llm-7b-chat-q4", LineageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var pages [][]string
	after := ""
	for range 10 {
		l, err := w.q.Trace(ctxT(), "acme/llm-7b-chat-q4", LineageOptions{Page: Page{First: 3, After: after}})
		if err != nil {
			t.Fatal(err)
		}
		var p []string
		for _, r := range l.Reached {
			p = append(p, w.name(r.Node.ID))
		}
		pages = append(pages, p)
		if l.TotalCount != 8 {
			t.Errorf("total %d", l.TotalCount)
		}
		if !l.PageInfo.HasNextPage {
			break
		}
		after = l.PageInfo.EndCursor
	}
	want := [][]string{{"ft", "trans", "sft"}, {"base", "clean", "src"}, {"run", "raw"}}
	if !reflect.DeepEqual(pages, want) {
		t.Errorf("pages %v, want %v", pages, want)
	}
	if !reflect.DeepEqual(full.Reached[3].Path, mustTrace(t, w, Page{First: 1, After: offsetCursor(3)}).Reached[0].Path) {
		t.Error("a paged item differs from the same item unpaged")
	}
	for _, bad := range []Page{{First: -1}, {First: MaxPageSize + 1}, {After: "bm9wZQ"}, {After: "!!"}, {After: idCursor(graph.KindModel, w.ids["base"])}} {
		if _, err := w.q.Trace(ctxT(), "acme/llm-7b", LineageOptions{Page: bad}); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("page %+v: error %v, want ErrInvalidArgument", bad, err)
		}
	}
}

func mustTrace(t *testing.T, w *world, p Page) Lineage {
	t.Helper()
	l, err := w.q.Trace(ctxT(), "acme/llm-7b-chat-q4", LineageOptions{Page: p})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestImpact(t *testing.T) {
	w := newWorld(t)
	l, err := w.q.Impact(ctxT(), "chat-sft", LineageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"ft": 1, "quant": 2, "quantOld": 2, "staging": 2, "lora": 3, "prod": 3}
	if got := w.reachedDepths(l.Reached); !reflect.DeepEqual(got, want) {
		t.Errorf("impact of chat-sft = %v, want %v", got, want)
	}
	deps, err := w.q.Impact(ctxT(), "chat-sft", LineageOptions{Kinds: []graph.NodeKind{graph.KindDeployment}})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.reachedDepths(deps.Reached); !reflect.DeepEqual(got, map[string]int{"staging": 2, "prod": 3}) || deps.TotalCount != 2 {
		t.Errorf("deployments impacted = %v", got)
	}
	for _, r := range deps.Reached {
		if w.name(r.Node.ID) == "prod" {
			w.checkHops(t, "sft to prod", r.Path, []hopWant{
				{"ft", "TRAINED_ON", "sft", graph.StatusFailed, []string{"ft-prov"}},
				{"quant", "DERIVED_FROM", "ft", graph.StatusVerified, []string{"quant-oms"}},
				{"quant", "DEPLOYED_AS", "prod", graph.StatusVerified, []string{"deploy-prod"}},
			})
		}
	}
	// A malicious tokenizer file: the model containing it and everything
	// downstream of that model.
	tok, err := w.q.Impact(ctxT(), D("tokenizer"), LineageOptions{Kinds: []graph.NodeKind{graph.KindModel, graph.KindDeployment}})
	if err != nil {
		t.Fatal(err)
	}
	wantTok := map[string]int{"base": 1, "ft": 2, "ft2": 2, "quant": 3, "quantOld": 3, "staging": 3, "lora": 4, "prod": 4}
	if got := w.reachedDepths(tok.Reached); !reflect.DeepEqual(got, wantTok) {
		t.Errorf("impact of tokenizer = %v, want %v", got, wantTok)
	}
}

func TestCycles(t *testing.T) {
	w := newWorld(t)
	for _, f := range []func() (Lineage, error){
		func() (Lineage, error) { return w.q.Trace(ctxT(), "cyc-a", LineageOptions{Depth: MaxDepth}) },
		func() (Lineage, error) { return w.q.Impact(ctxT(), "cyc-a", LineageOptions{Depth: MaxDepth}) },
	} {
		l, err := f()
		if err != nil {
			t.Fatal(err)
		}
		if got := w.reachedDepths(l.Reached); !reflect.DeepEqual(got, map[string]int{"cycB": 1}) || l.DepthLimited || l.Truncated {
			t.Errorf("cycle walk = %v (depth-limited %v)", got, l.DepthLimited)
		}
	}
	e, err := w.q.Explain(ctxT(), "cyc-a", "clinical-notes@v3", 0)
	if err != nil {
		t.Fatal(err)
	}
	if e.Found || e.Path != nil || e.Summary != "no path within 12 hops" {
		t.Errorf("explain across disconnected cycle = %+v", e)
	}
}

func TestDeployedModelsTrainedOn(t *testing.T) {
	w := newWorld(t)
	a, err := w.q.DeployedModelsTrainedOn(ctxT(), "clinical-notes@v3", DeployedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var models []string
	for _, m := range a.Models {
		models = append(models, w.name(m.ID))
	}
	if !sameSet(models, []string{"base", "ft", "ft2", "quant", "quantOld", "lora"}) {
		t.Errorf("models trained on raw = %v", models)
	}
	if len(a.Deployments) != 2 || a.TotalCount != 2 {
		t.Fatalf("deployments = %+v", a.Deployments)
	}
	st, prod := a.Deployments[0], a.Deployments[1]
	if w.name(st.Deployment.ID) != "staging" || w.name(st.Model.ID) != "ft" || st.Environment != "staging" || st.DeployedAt != "2026-02-01T00:00:00Z" || st.State != "active" || st.Status != graph.StatusUnsigned {
		t.Errorf("staging = %+v", st)
	}
	w.checkHops(t, "raw to staging", st.Path, []hopWant{
		{"clean", "DERIVED_FROM", "raw", graph.StatusVerified, []string{"dataset-att"}},
		{"base", "TRAINED_ON", "clean", graph.StatusVerified, []string{"base-prov"}},
		{"ft", "DERIVED_FROM", "base", graph.StatusUnsigned, []string{"ft-card"}},
		{"ft", "DEPLOYED_AS", "staging", graph.StatusUnsigned, []string{"deploy-staging"}},
	})
	if w.name(prod.Deployment.ID) != "prod" || w.name(prod.Model.ID) != "quant" || prod.Environment != "prod" || prod.State != "active" {
		t.Errorf("prod = %+v", prod)
	}
	w.checkHops(t, "raw to prod", prod.Path, []hopWant{
		{"clean", "DERIVED_FROM", "raw", graph.StatusVerified, []string{"dataset-att"}},
		{"base", "TRAINED_ON", "clean", graph.StatusVerified, []string{"base-prov"}},
		{"ft", "DERIVED_FROM", "base", graph.StatusUnsigned, []string{"ft-card"}},
		{"quant", "DERIVED_FROM", "ft", graph.StatusVerified, []string{"quant-oms"}},
		{"quant", "DEPLOYED_AS", "prod", graph.StatusVerified, []string{"deploy-prod"}},
	})

	// Withdrawing staging: the newest record wins.
	b := w.doc("undeploy-staging", "deployment-record", sigCI)
	b.Edge(b.Node(graph.KindModel, D("ft")), graph.DeployedAs, b.Node(graph.KindDeployment, keyStaging), "undeployedAt", "2026-03-02T00:00:00Z", "status", "withdrawn")
	w.apply(t, b)
	a, err = w.q.DeployedModelsTrainedOn(ctxT(), D("raw"), DeployedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Deployments[0].State != "withdrawn" || a.Deployments[1].State != "active" {
		t.Errorf("after withdrawal: %s %s", a.Deployments[0].State, a.Deployments[1].State)
	}
	if h := a.Deployments[0].Path[3]; h.Status != graph.StatusVerified || len(h.Evidence) != 2 {
		t.Errorf("withdrawn hop = %+v: want verified by the signed withdrawal", h)
	}
	active, err := w.q.DeployedModelsTrainedOn(ctxT(), D("raw"), DeployedOptions{ActiveOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(active.Deployments) != 1 || w.name(active.Deployments[0].Deployment.ID) != "prod" {
		t.Errorf("active only = %+v", active.Deployments)
	}
	page, err := w.q.DeployedModelsTrainedOn(ctxT(), D("raw"), DeployedOptions{Page: Page{First: 1}})
	if err != nil || len(page.Deployments) != 1 || !page.PageInfo.HasNextPage || page.TotalCount != 2 {
		t.Fatalf("page 1 = %+v, %v", page, err)
	}
	page, err = w.q.DeployedModelsTrainedOn(ctxT(), D("raw"), DeployedOptions{Page: Page{First: 1, After: page.PageInfo.EndCursor}})
	if err != nil || len(page.Deployments) != 1 || page.PageInfo.HasNextPage || w.name(page.Deployments[0].Deployment.ID) != "prod" {
		t.Fatalf("page 2 = %+v, %v", page, err)
	}
	if _, err := w.q.DeployedModelsTrainedOn(ctxT(), "acme/llm-7b", DeployedOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("a model as the dataset: %v", err)
	}
}

func TestExplain(t *testing.T) {
	w := newWorld(t)
	e, err := w.q.Explain(ctxT(), keyProd, "clinical-notes@v3", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Found || e.Direction != "upstream" || e.Verified || !slices.Equal(e.WeakHops, []int{2}) {
		t.Fatalf("explain prod -> raw = %+v", e)
	}
	w.checkHops(t, "prod to raw", e.Path, []hopWant{
		{"quant", "DEPLOYED_AS", "prod", graph.StatusVerified, []string{"deploy-prod"}},
		{"quant", "DERIVED_FROM", "ft", graph.StatusVerified, []string{"quant-oms"}},
		{"ft", "DERIVED_FROM", "base", graph.StatusUnsigned, []string{"ft-card"}},
		{"base", "TRAINED_ON", "clean", graph.StatusVerified, []string{"base-prov"}},
		{"clean", "DERIVED_FROM", "raw", graph.StatusVerified, []string{"dataset-att"}},
	})
	if !strings.HasPrefix(e.Summary, "5 hop(s) upstream, 4 verified; hop 3 (acme/llm-7b-chat DERIVED_FROM acme/llm-7b) no verified document backs it: hf-model-card") {
		t.Errorf("summary = %q", e.Summary)
	}
	down, err := w.q.Explain(ctxT(), "clinical-notes@v3", keyProd, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !down.Found || down.Direction != "downstream" || len(down.Path) != 5 || w.name(down.Path[0].To.ID) != "raw" {
		t.Errorf("explain raw -> prod = %+v", down)
	}
	both, err := w.q.Explain(ctxT(), "acme/llm-7b-legal", "acme/llm-7b-chat-q4", 0)
	if err != nil {
		t.Fatal(err)
	}
	// Siblings through a common base model are associated, not lineage:
	// not found, never verified, and the summary says through what.
	if both.Found || both.Verified || len(both.Path) != 0 || !strings.Contains(both.Summary, "only associated (through acme/llm-7b, acme/llm-7b-chat)") {
		t.Fatalf("explain ft2 -> quant = %+v", both)
	} // Who vouched for prod: the signer of the record describing its model.
	who, err := w.q.Explain(ctxT(), keyProd, "oidc:https://token.actions.githubusercontent.com|ci@acme.dev", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !who.Found || len(who.Path) != 3 || who.Path[0].Kind != graph.DeployedAs || who.Path[1].Kind != graph.Describes || who.Path[2].Kind != graph.SignedBy ||
		who.Path[1].From.Name != "deployment-record "+w.docs["deploy-prod"] {
		t.Errorf("explain prod -> signer = %+v", who.Path)
	}
	same, err := w.q.Explain(ctxT(), "acme/llm-7b", D("base"), 0)
	if err != nil || !same.Found || len(same.Path) != 0 {
		t.Errorf("explain to itself = %+v, %v", same, err)
	}
}

func TestSignatures(t *testing.T) {
	w := newWorld(t)
	docsOf := func(a SignaturesAnswer) map[string][]string {
		m := map[string][]string{}
		for _, d := range a.Documents {
			var subj []string
			for _, s := range d.Describes {
				subj = append(subj, w.name(s.ID))
			}
			m[w.docName(d.Document.Document)] = subj
		}
		return m
	}
	ci, err := w.q.Signatures(ctxT(), "ci@acme.dev", "https://token.actions.githubusercontent.com", Page{})
	if err != nil {
		t.Fatal(err)
	}
	if got := docsOf(ci); !reflect.DeepEqual(got, map[string][]string{"base-prov": {"base"}, "deploy-prod": {"quant"}}) || ci.TotalCount != 2 {
		t.Errorf("signed by ci = %v", got)
	}
	for _, d := range ci.Documents {
		if d.Signature.Status != graph.StatusVerified || d.Signature.Identity != "ci@acme.dev" || d.Document.Status != graph.StatusVerified {
			t.Errorf("ci signature = %+v", d)
		}
	}
	anyIssuer, err := w.q.Signatures(ctxT(), "ci@acme.dev", "", Page{})
	if err != nil || !reflect.DeepEqual(docsOf(anyIssuer), docsOf(ci)) {
		t.Errorf("ci without issuer = %v, %v", docsOf(anyIssuer), err)
	}
	m, err := w.q.Signatures(ctxT(), "mallory@evil.example", "https://accounts.google.com", Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Documents) != 1 || m.Documents[0].Signature.Status != graph.StatusFailed || m.Documents[0].Signature.Reason != "certificate chain does not verify" ||
		w.docName(m.Documents[0].Document.Document) != "ft-prov" || w.name(m.Documents[0].Describes[0].ID) != "ft" {
		t.Errorf("mallory = %+v", m.Documents)
	}
	oms, err := w.q.Signatures(ctxT(), "oms-key-1", "", Page{First: 3})
	if err != nil {
		t.Fatal(err)
	}
	rest, err := w.q.Signatures(ctxT(), "key:oms-key-1", "", Page{First: 3, After: oms.PageInfo.EndCursor})
	if err != nil {
		t.Fatal(err)
	}
	all := docsOf(oms)
	for k, v := range docsOf(rest) {
		all[k] = v
	}
	wantOMS := map[string][]string{"base-oms": {"base"}, "quant-oms": {"quant"}, "quant-old-oms": {"quantOld"}, "ft2-oms": {"ft2"}}
	if !reflect.DeepEqual(all, wantOMS) || len(oms.Documents) != 3 || !oms.PageInfo.HasNextPage || len(rest.Documents) != 1 || rest.PageInfo.HasNextPage {
		t.Errorf("oms key pages = %v + %v", docsOf(oms), docsOf(rest))
	}
	if _, err := w.q.Signatures(ctxT(), "nobody@acme.dev", "", Page{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown signer: %v", err)
	}
	if _, err := w.q.Signatures(ctxT(), " ", "", Page{}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("empty signer: %v", err)
	}
}

func TestUnverified(t *testing.T) {
	w := newWorld(t)
	a, err := w.q.Unverified(ctxT(), nil, Page{})
	if err != nil {
		t.Fatal(err)
	}
	// Models first, in id order, then deployments.
	var wantModels []graph.NodeID
	for _, l := range []string{"ft", "lora", "cycA", "cycB"} {
		wantModels = append(wantModels, w.ids[l])
	}
	slices.Sort(wantModels)
	want := append(wantModels, w.ids["staging"])
	var got []graph.NodeID
	for _, it := range a.Items {
		got = append(got, it.Node.ID)
	}
	if !slices.Equal(got, want) || a.PageInfo.HasNextPage {
		t.Fatalf("unverified = %v, want %v", namesOf(w, got), namesOf(w, want))
	}
	for _, it := range a.Items {
		id := it.Identity
		switch w.name(it.Node.ID) {
		case "ft":
			// An unsigned card and a provenance whose signature failed:
			// a failed signature over the artifact itself is the headline.
			if id.Status != graph.StatusFailed || len(id.DescribedBy) != 3 || !strings.Contains(id.Reason, "(failed: certificate chain does not verify)") || !strings.Contains(id.Reason, "hf-model-card") {
				t.Errorf("ft identity = %+v", id)
			}
		case "cycB":
			if len(id.DescribedBy) != 0 || !strings.HasPrefix(id.Reason, "no document names it") {
				t.Errorf("cycB identity = %+v", id)
			}
		case "staging":
			if id.Status != graph.StatusUnsigned || len(id.DescribedBy) != 1 || w.docName(id.DescribedBy[0].Document) != "deploy-staging" {
				t.Errorf("staging identity = %+v", id)
			}
		}
	}
	// Pages of two cover the same list.
	var paged []graph.NodeID
	after := ""
	for range 5 {
		p, err := w.q.Unverified(ctxT(), nil, Page{First: 2, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			paged = append(paged, it.Node.ID)
		}
		if !p.PageInfo.HasNextPage {
			break
		}
		after = p.PageInfo.EndCursor
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paged unverified = %v, want %v", namesOf(w, paged), namesOf(w, want))
	}
	deps, err := w.q.Unverified(ctxT(), []graph.NodeKind{graph.KindDeployment}, Page{})
	if err != nil || len(deps.Items) != 1 || w.name(deps.Items[0].Node.ID) != "staging" {
		t.Errorf("unverified deployments = %+v, %v", deps.Items, err)
	}
	if _, err := w.q.Unverified(ctxT(), []graph.NodeKind{graph.KindDeployment}, Page{After: a.PageInfo.EndCursor}); err != nil {
		t.Errorf("deployment cursor on deployments: %v", err)
	}
	if _, err := w.q.Unverified(ctxT(), []graph.NodeKind{graph.KindModel}, Page{After: a.PageInfo.EndCursor}); !errors.Is(err, ErrInvalidCursor) {
		t.Errorf("deployment cursor on models: %v", err)
	}
}

func namesOf(w *world, ids []graph.NodeID) []string {
	var out []string
	for _, id := range ids {
		out = append(out, w.name(id))
	}
	return out
}

func TestAffectedByPackage(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		purl, rng string
		pkgs      []string
		affected  map[string]int
	}{
		{"pkg:pypi/torch", ">=2.0.0,<2.2.0", []string{"torch"}, map[string]int{"prod": 1}},
		{"pkg:pypi/torch", ">= 2.0, < 2.2 || >=2.3.0rc1", []string{"torch", "torch23"}, map[string]int{"prod": 1, "ft2": 1}},
		{"pkg:pypi/Torch", "*", []string{"torch", "torch23"}, map[string]int{"prod": 1, "ft2": 1}},
		{"pkg:pypi/torch", "==2.3.*", []string{"torch23"}, map[string]int{"ft2": 1}},
		{"pkg:pypi/torch", ">=3", nil, map[string]int{}},
		{"pkg:pypi/numpy", "<2", []string{"numpy"}, map[string]int{"prod": 2}},
		{"pkg:pypi/transformers@4.30.0", "", []string{"trans"}, map[string]int{"quant": 1, "prod": 2}},
		{"pkg:pypi/transformers@4.30.1", "", nil, map[string]int{}},
		{"pkg:npm/torch", "", nil, map[string]int{}},
	}
	for _, c := range cases {
		a, err := w.q.AffectedByPackage(ctxT(), c.purl, c.rng, 0, Page{})
		if err != nil {
			t.Errorf("%s %s: %v", c.purl, c.rng, err)
			continue
		}
		var pkgs []string
		for _, p := range a.Packages {
			pkgs = append(pkgs, w.name(p.Package.ID))
		}
		got := map[string]int{}
		for _, n := range a.Affected {
			got[w.name(n.Node.ID)] = n.Depth
		}
		if !sameSet(pkgs, c.pkgs) || !reflect.DeepEqual(got, c.affected) || a.TotalCount != len(c.affected) {
			t.Errorf("%s %q: packages %v affected %v, want %v %v", c.purl, c.rng, pkgs, got, c.pkgs, c.affected)
		}
	}
	// Training environments pass a package on to the model a run produced,
	// not to models later trained from that model.
	b := w.doc("ft-run", "slsa-provenance", sigCI)
	ftRun := b.Node(graph.KindTrainingRun, "run:ft")
	b.Edge(b.Node(graph.KindModel, D("ft")), graph.ProducedBy, ftRun)
	b.Edge(ftRun, graph.Uses, b.Node(graph.KindModel, D("base")), "role", "input")
	b.Edge(ftRun, graph.Uses, b.Node(graph.KindPackage, "pkg:pypi/accelerate@0.20.0"), "role", "builderDependency")
	b.Edge(b.Node(graph.KindTrainingRun, "run:base"), graph.Uses, b.Node(graph.KindPackage, "pkg:pypi/deepspeed@0.9.0"), "role", "builderDependency")
	w.apply(t, b)
	for purl, want := range map[string]map[string]int{
		"pkg:pypi/deepspeed":  {"base": 2},
		"pkg:pypi/accelerate": {"ft": 2, "staging": 3},
	} {
		a, err := w.q.AffectedByPackage(ctxT(), purl, "", 0, Page{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, n := range a.Affected {
			got[w.name(n.Node.ID)] = n.Depth
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s affects %v, want %v", purl, got, want)
		}
	}
	a, err := w.q.AffectedByPackage(ctxT(), "pkg:pypi/numpy", "<2", 0, Page{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Packages[0].Version != "1.26.4" || a.Packages[0].Purl != purlNumpy || w.name(a.Affected[0].Via.ID) != "numpy" {
		t.Errorf("numpy match = %+v via %+v", a.Packages, a.Affected[0].Via)
	}
	w.checkHops(t, "numpy to prod", a.Affected[0].Path, []hopWant{
		{"torch", "DEPENDS_ON", "numpy", graph.StatusUnsigned, []string{"serving-sbom"}},
		{"prod", "DEPENDS_ON", "torch", graph.StatusUnsigned, []string{"serving-sbom"}},
	})
	for _, c := range []struct{ purl, rng string }{
		{"torch", ""}, {"pkg:pypi/torch", ">>2"}, {"pkg:pypi/torch@2.1.0", ">=2"}, {"pkg:pypi/torch", "~=2"},
	} {
		if _, err := w.q.AffectedByPackage(ctxT(), c.purl, c.rng, 0, Page{}); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s %q: error %v, want ErrInvalidArgument", c.purl, c.rng, err)
		}
	}
}

func TestAdvisories(t *testing.T) {
	w := newWorld(t)
	list, err := w.q.Advisories(ctxT(), false, Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 {
		t.Fatalf("advisories = %+v", list.Items)
	}
	adv := list.Items[0]
	if adv.ID != "ACME-2026-001" || adv.Severity != "high" || adv.Status != "active" || !adv.Active || adv.Summary != "chat-sft contains leaked records" {
		t.Errorf("advisory = %+v", adv)
	}
	w.checkHops(t, "advisory affects", adv.Affects, []hopWant{{"adv", "AFFECTS", "sft", graph.StatusUnsigned, []string{"advisory:ACME-2026-001:"}}})
	a, err := w.q.AffectedByAdvisory(ctxT(), "ACME-2026-001", 0, Page{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range a.Affected {
		got[w.name(n.Node.ID)] = w.name(n.Via.ID)
	}
	want := map[string]string{"ft": "sft", "quant": "sft", "quantOld": "sft", "staging": "sft", "lora": "sft", "prod": "sft"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("affected by advisory = %v, want %v", got, want)
	}
	// Same input again: the same document, nothing new.
	r := w.advisory(t, advisory.Input{ID: " ACME-2026-001", Severity: "HIGH", Summary: "chat-sft contains leaked records ", Affects: []string{"name:chat-sft", "name:chat-sft"}})
	if !r.Duplicate {
		t.Errorf("re-posting the same advisory: %+v, want a duplicate", r)
	}
	// Withdrawn later: inactive, and only active ones are listed on request.
	w.advisory(t, advisory.Input{ID: "ACME-2026-001", Status: "withdrawn", Affects: []string{"name:chat-sft"}})
	list, err = w.q.Advisories(ctxT(), false, Page{})
	if err != nil || len(list.Items) != 1 || list.Items[0].Active || list.Items[0].Status != "withdrawn" {
		t.Fatalf("after withdrawal = %+v, %v", list.Items, err)
	}
	active, err := w.q.Advisories(ctxT(), true, Page{})
	if err != nil || len(active.Items) != 0 {
		t.Errorf("active after withdrawal = %+v, %v", active.Items, err)
	}
	for _, in := range []advisory.Input{
		{ID: "", Affects: []string{"chat-sft"}},
		{ID: "has space", Affects: []string{"chat-sft"}},
		{ID: "X-1"},
		{ID: "X-1", Affects: []string{"no-such-thing"}},
		{ID: "X-1", Severity: "urgent", Affects: []string{"chat-sft"}},
		{ID: "X-1", Status: "gone", Affects: []string{"chat-sft"}},
		{ID: "X-1", Affects: []string{""}},
	} {
		if _, err := w.advisoryDoc(in); !errors.Is(err, advisory.ErrInvalid) {
			t.Errorf("advisory %+v: error %v, want advisory.ErrInvalid", in, err)
		}
	}
	_, err = w.advisoryDoc(advisory.Input{ID: "X-1", Affects: []string{"no-such-thing"}})
	if !strings.Contains(err.Error(), "affects[0]") || !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown affected ref error %q does not name the field or is not NOT_FOUND", err)
	}
}

func TestRollbackCandidates(t *testing.T) {
	w := newWorld(t)
	a, err := w.q.RollbackCandidates(ctxT(), keyProd, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Current) != 1 || w.name(a.Current[0].ID) != "quant" {
		t.Fatalf("current = %+v", a.Current)
	}
	type cand struct {
		name, relation string
		distance       int
		kept           bool
	}
	var got []cand
	for _, c := range a.Candidates {
		got = append(got, cand{w.name(c.Model.ID), c.Relation, c.Distance, c.Kept})
	}
	want := []cand{
		{"ft", "parent", 1, false},
		{"lora", "descendant", 1, false},
		{"base", "ancestor", 2, true},
		{"quantOld", "sibling", 2, false},
		{"ft2", "relative", 3, true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("candidates = %+v, want %+v", got, want)
	}
	if a.Recommended == nil || w.name(a.Recommended.Model.ID) != "base" {
		t.Errorf("recommended = %+v", a.Recommended)
	}
	ft := a.Candidates[0]
	if len(ft.Advisories) != 1 || w.name(ft.Advisories[0].ID) != "adv" ||
		!slices.Contains(ft.Reasons, "it is downstream (1 hops) of Dataset chat-sft, which active advisory ACME-2026-001 affects") {
		t.Errorf("ft reasons = %q advisories %+v", ft.Reasons, ft.Advisories)
	}
	base := a.Candidates[2]
	if !slices.Equal(base.Reasons, []string{"no active advisory reaches it or anything upstream of it", "has verified evidence of its own"}) {
		t.Errorf("base reasons = %q", base.Reasons)
	}
	w.checkHops(t, "quant to base", base.Path, []hopWant{
		{"quant", "DERIVED_FROM", "ft", graph.StatusVerified, []string{"quant-oms"}},
		{"ft", "DERIVED_FROM", "base", graph.StatusUnsigned, []string{"ft-card"}},
	})
	// Withdraw the advisory: the parent becomes the nearest kept candidate,
	// but the recommendation still prefers verified evidence.
	w.advisory(t, advisory.Input{ID: "ACME-2026-001", Status: "withdrawn", Affects: []string{"name:chat-sft"}})
	a, err = w.q.RollbackCandidates(ctxT(), keyProd, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, c := range a.Candidates {
		if c.Kept {
			kept = append(kept, w.name(c.Model.ID))
		}
	}
	if !slices.Equal(kept, []string{"ft", "base", "quantOld", "ft2"}) || w.name(a.Recommended.Model.ID) != "base" {
		t.Errorf("after withdrawal kept %v recommended %s", kept, w.name(a.Recommended.Model.ID))
	}
	if _, err := w.q.RollbackCandidates(ctxT(), "acme/llm-7b", 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("rollback of a model: %v", err)
	}
}

func TestLookupAndStats(t *testing.T) {
	w := newWorld(t)
	ds, err := w.q.Lookup(ctxT(), "acme/llm-7b")
	if err != nil || len(ds) != 1 {
		t.Fatalf("lookup = %+v, %v", ds, err)
	}
	d := ds[0]
	var describedBy []string
	for _, e := range d.Identity.DescribedBy {
		describedBy = append(describedBy, w.docName(e.Document))
	}
	if !d.Identity.Verified || !sameSet(describedBy, []string{"base-prov", "base-oms"}) || d.Files != 2 || d.EdgesTotal != 5 || len(d.Edges) != 5 {
		t.Errorf("base detail: identity %+v described by %v files %d edges %d", d.Identity, describedBy, d.Files, d.EdgesTotal)
	}
	var edges []string
	for _, h := range d.Edges {
		edges = append(edges, w.name(h.From.ID)+" "+string(h.Kind)+" "+w.name(h.To.ID))
	}
	if !sameSet(edges, []string{"base TRAINED_ON clean", "ft DERIVED_FROM base", "ft2 DERIVED_FROM base", "base BUILT_FROM src", "base PRODUCED_BY run"}) {
		t.Errorf("base edges = %v", edges)
	}
	st, err := w.q.Stats(ctxT())
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int64{}
	for _, k := range st.NodeKinds {
		kinds[k.Kind] = k.Count
	}
	if kinds["Model"] != 8 || kinds["Dataset"] != 3 || kinds["Deployment"] != 2 || kinds["Package"] != 4 || kinds["Advisory"] != 1 || st.Documents != 14 {
		t.Errorf("stats = %+v", st)
	}
}

// Tracing a file digest starts from the models containing the file: a
// file has no lineage of its own.
func TestTraceFileDigestStartsFromContainingModels(t *testing.T) {
	w := newWorld(t)
	tr, err := w.q.Trace(ctxT(), D("base-weights"), LineageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var roots, reached []string
	for _, r := range tr.Roots {
		roots = append(roots, w.name(r.ID))
	}
	for _, r := range tr.Reached {
		reached = append(reached, w.name(r.Node.ID))
	}
	if !slices.Equal(roots, []string{"weights", "base"}) {
		t.Fatalf("roots = %v, want the file and the model containing it", roots)
	}
	if !slices.Contains(reached, "clean") || !slices.Contains(reached, "raw") {
		t.Fatalf("reached = %v, want the base model's datasets", reached)
	}
}
