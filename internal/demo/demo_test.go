package demo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/trust"
	"github.com/modelgraph/modelgraph/internal/demo"
	"github.com/modelgraph/modelgraph/internal/demo/demotest"
	"github.com/modelgraph/modelgraph/internal/query"
)

func TestLoadVerifiesEverySignedDocument(t *testing.T) {
	s, p := demotest.Store(t)
	ctx := context.Background()
	docs, err := demo.Documents()
	if err != nil {
		t.Fatal(err)
	}
	var digests []string
	for _, d := range docs {
		ds, err := p.Parser.Digests(ctx, d)
		if err != nil || len(ds) != 1 {
			t.Fatalf("%s: %v %v", d.Source, ds, err)
		}
		digests = append(digests, ds[0])
		if !strings.HasPrefix(d.Source, demo.SourcePrefix) {
			t.Errorf("source %q lacks the demo prefix", d.Source)
		}
	}
	stored, err := s.Documents(ctx, digests...)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(docs) {
		t.Fatalf("%d of %d documents stored", len(stored), len(docs))
	}
	types := map[string]int{}
	unsigned := 0
	for _, d := range stored {
		types[d.Type]++
		switch {
		case len(d.Signatures) == 0:
			unsigned++
			if d.Type != "hf-model-card" {
				t.Errorf("%s (%s) is unsigned", d.Source, d.Type)
			}
		case d.Status() != graph.StatusVerified:
			t.Errorf("%s (%s): %s: %+v", d.Source, d.Type, d.Status(), d.Signatures)
		}
		for _, sig := range d.Signatures {
			if sig.Status != graph.StatusVerified {
				t.Errorf("%s: signature %+v", d.Source, sig)
			}
		}
	}
	if unsigned != 1 {
		t.Errorf("%d unsigned documents, want the one model card", unsigned)
	}
	want := map[string]int{
		"dataset-attestation": 4, "slsa-provenance": 3, "aixv-training": 1, "oms": 4,
		"hf-model-card": 1, "cyclonedx": 2, "deployment-record": 5, "aixv-advisory": 1,
	}
	for k, n := range want {
		if types[k] != n {
			t.Errorf("%d documents of type %s, want %d (all: %v)", types[k], k, n, types)
		}
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.NodeKinds[graph.KindModel] != 5 || st.NodeKinds[graph.KindDataset] != 4 || st.NodeKinds[graph.KindDeployment] != 3 || st.NodeKinds[graph.KindIdentity] != 4 {
		t.Errorf("node counts %v", st.NodeKinds)
	}

	// Idempotent: a second start finds every document stored.
	rep, err := demo.Load(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if rep != (demo.Report{Documents: len(docs), Duplicates: len(docs)}) {
		t.Fatalf("second load: %+v", rep)
	}
	st2, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st2.Nodes != st.Nodes || st2.Edges != st.Edges || st2.Documents != st.Documents {
		t.Fatalf("second load changed the graph: %+v -> %+v", st, st2)
	}
}

func TestLoadRefusesAPolicyWithoutTheDemoKeys(t *testing.T) {
	s, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	full, err := demo.TrustPolicy()
	if err != nil {
		t.Fatal(err)
	}
	partial := &trust.Policy{Rules: full.Rules[:2]}
	for name, pol := range map[string]*trust.Policy{"nil": nil, "partial": partial} {
		_, err := demo.Load(context.Background(), &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)})
		if !errors.Is(err, demo.ErrUntrusted) {
			t.Errorf("%s policy: %v", name, err)
		}
	}
	if st, _ := s.Stats(context.Background()); st.Documents != 0 {
		t.Fatal("documents written under a policy that cannot verify them")
	}
}

func TestWithTrustKeepsTheBasePolicy(t *testing.T) {
	base := &trust.Policy{Rules: []trust.Rule{{Name: "team", Subjects: []string{"x/*"}, Keys: mustDemoKey(t)}}}
	merged, err := demo.WithTrust(base)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.Rules) != 5 || merged.Rules[0].Name != "team" || len(base.Rules) != 1 {
		t.Fatalf("merged %d rules, base now %d", len(merged.Rules), len(base.Rules))
	}
	again, err := demo.WithTrust(merged)
	if err != nil || len(again.Rules) != 5 {
		t.Fatalf("extending a policy that already holds the demo rules: %v, %d rules", err, len(again.Rules))
	}
	dup := &trust.Policy{Rules: []trust.Rule{{Name: demo.RulePrefix + "acme-security", Keys: mustDemoKey(t)}}}
	if _, err := demo.WithTrust(dup); !errors.Is(err, trust.ErrInvalidPolicy) {
		t.Fatalf("a clashing rule name: %v", err)
	}
}

func mustDemoKey(t *testing.T) []trust.PublicKey {
	t.Helper()
	p, err := demo.TrustPolicy()
	if err != nil {
		t.Fatal(err)
	}
	return p.Rules[0].Keys
}

// TestLineage checks the supply chain through the store's own traversal.
func TestLineage(t *testing.T) {
	s, _ := demotest.Store(t)
	ctx := context.Background()
	raw := one(t, s, "name:acme/clinical-notes-raw@2024-01", graph.KindDataset)
	res, err := s.Traverse(ctx, graph.TraverseRequest{From: []graph.NodeID{raw.ID}, Direction: graph.Downstream})
	if err != nil {
		t.Fatal(err)
	}
	reached := map[graph.NodeKind][]string{}
	for _, st := range res.Steps[1:] {
		reached[st.Node.Kind] = append(reached[st.Node.Kind], label(st.Node))
	}
	for k := range reached {
		slices.Sort(reached[k])
	}
	wantModels := []string{demo.ModelBase, demo.ModelChat, demo.ModelChatQ4, demo.ModelClinical, demo.ModelAdapter}
	slices.Sort(wantModels)
	wantDeps := []string{
		"deployment:production/eu-west-1/ml-serving/clinical-chat",
		"deployment:staging/eu-west-1/ml-staging/clinical-assist",
		"deployment:staging/eu-west-1/ml-staging/note-summarizer",
	}
	if !slices.Equal(reached[graph.KindModel], wantModels) || !slices.Equal(reached[graph.KindDeployment], wantDeps) {
		t.Fatalf("downstream of the raw dataset:\nmodels %v\ndeployments %v", reached[graph.KindModel], reached[graph.KindDeployment])
	}
	if got := reached[graph.KindDataset]; !slices.Equal(got, []string{"name:acme/clinical-notes@v3"}) {
		t.Errorf("derived datasets %v", got)
	}
	// Production ran the chat model, then its quantized variant.
	prod := one(t, s, wantDeps[0], graph.KindDeployment)
	in, err := s.Edges(ctx, prod.ID, graph.In, graph.DeployedAs)
	if err != nil {
		t.Fatal(err)
	}
	// An edge keeps every record's claim: the chat model's was deployed,
	// then withdrawn.
	states := map[string]string{}
	for _, e := range in {
		n, err := s.Node(ctx, e.From)
		if err != nil {
			t.Fatal(err)
		}
		states[label(n)] = strings.Join(e.AttrValues("status"), ",")
	}
	if len(states) != 2 || states[demo.ModelChat] != "active,withdrawn" || states[demo.ModelChatQ4] != "active" {
		t.Errorf("production deployments: %v", states)
	}
	// The adapter's only link to its base is the unsigned model card.
	adapter := one(t, s, "hf://"+demo.ModelAdapter, graph.KindModel)
	out, err := s.Edges(ctx, adapter.ID, graph.Out, graph.DerivedFrom)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Attr("relation") != "adapter" {
		t.Fatalf("adapter lineage %+v", out)
	}
	docs, err := s.Documents(ctx, out[0].Docs...)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Type != "hf-model-card" || docs[0].Status() != graph.StatusUnsigned {
		t.Errorf("adapter -> base evidence %+v", docs)
	}
	// One tokenizer file is shared by the base model and both fine-tunes.
	tok, err := s.Lookup(ctx, "hf://"+demo.ModelBase)
	if err != nil || len(tok) != 1 {
		t.Fatal(err, tok)
	}
	var shared graph.NodeID
	files, _ := s.Edges(ctx, tok[0].ID, graph.Out, graph.Contains)
	for _, e := range files {
		if n, _ := s.Node(ctx, e.To); n.Attr("path") == "tokenizer.json" {
			shared = n.ID
		}
	}
	if shared == "" {
		t.Fatal("the base model has no tokenizer.json")
	}
	users, _ := s.Edges(ctx, shared, graph.In, graph.Contains)
	if len(users) != 3 {
		t.Errorf("tokenizer.json is in %d models, want 3", len(users))
	}
}

// TestIncidentQuestions pins the answers docs/demo.md gives.
func TestIncidentQuestions(t *testing.T) {
	s, _ := demotest.Store(t)
	ctx := context.Background()
	q := query.New(s)

	// 1. The raw dataset leaked: which models and deployments descend from it?
	im, err := q.Impact(ctx, "s3://acme-data/datasets/clinical-notes-raw/2024-01/", query.LineageOptions{Kinds: []graph.NodeKind{graph.KindModel, graph.KindDeployment}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range im.Reached {
		got = append(got, string(r.Node.Kind)+" "+r.Node.Name+" "+string(r.Status))
	}
	slices.Sort(got)
	want := []string{
		"Deployment production/eu-west-1/ml-serving/clinical-chat verified",
		"Deployment staging/eu-west-1/ml-staging/clinical-assist verified",
		"Deployment staging/eu-west-1/ml-staging/note-summarizer unsigned",
		"Model acme/llm-7b verified",
		"Model acme/llm-7b-chat verified",
		"Model acme/llm-7b-chat-q4 verified",
		"Model acme/llm-7b-clinical verified",
		"Model acme/llm-7b-summarizer-lora unsigned",
	}
	if !slices.Equal(got, want) {
		t.Errorf("impact of the raw dataset:\n got %q\nwant %q", got, want)
	}

	// 2. The advisory: what does it reach?
	adv, err := q.AffectedByAdvisory(ctx, demo.AdvisoryID, 0, query.Page{})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, a := range adv.Affected {
		got = append(got, string(a.Node.Kind)+" "+a.Node.Name+" "+string(a.Status))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("affected by %s:\n got %q\nwant %q", demo.AdvisoryID, got, want)
	}
	if adv.Advisory.Severity != "critical" || !adv.Advisory.Active {
		t.Errorf("advisory %+v", adv.Advisory)
	}

	// 3. transformers < 4.36.0 (CVE-2023-7018): which deployments run it?
	pk, err := q.AffectedByPackage(ctx, "pkg:pypi/transformers", "<4.36.0", 0, query.Page{})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, a := range pk.Affected {
		got = append(got, string(a.Node.Kind)+" "+a.Node.Name+" via "+a.Via.Name)
	}
	slices.Sort(got)
	wantPkg := []string{
		"Deployment staging/eu-west-1/ml-staging/clinical-assist via transformers@4.30.0",
		"Deployment staging/eu-west-1/ml-staging/note-summarizer via transformers@4.30.0",
	}
	if len(pk.Packages) != 1 || pk.Packages[0].Purl != demo.VulnerablePackage || !slices.Equal(got, wantPkg) {
		t.Errorf("transformers <4.36.0: packages %+v\n got %q\nwant %q", pk.Packages, got, wantPkg)
	}
}

// TestFollowUpQuestions pins the further answers docs/demo.md gives.
func TestFollowUpQuestions(t *testing.T) {
	s, _ := demotest.Store(t)
	ctx := context.Background()
	q := query.New(s)

	// The shared tokenizer file: every model containing it, and downstream.
	tok := demo.TokenizerDigest()
	if tok != "sha256:8a93c80ea8657d05b78a06c5755c755f748dfe5183ac6baf2717c048657b4c97" {
		t.Errorf("tokenizer digest %s changed: update docs/demo.md", tok)
	}
	im, err := q.Impact(ctx, tok, query.LineageOptions{Kinds: []graph.NodeKind{graph.KindModel, graph.KindDeployment}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range im.Reached {
		got = append(got, fmt.Sprintf("%s %s %d", r.Node.Kind, r.Node.Name, r.Depth))
	}
	slices.Sort(got)
	want := []string{
		"Deployment production/eu-west-1/ml-serving/clinical-chat 2",
		"Deployment staging/eu-west-1/ml-staging/clinical-assist 2",
		"Deployment staging/eu-west-1/ml-staging/note-summarizer 3",
		"Model acme/llm-7b 1",
		"Model acme/llm-7b-chat 1",
		"Model acme/llm-7b-chat-q4 2",
		"Model acme/llm-7b-clinical 1",
		"Model acme/llm-7b-summarizer-lora 2",
	}
	if !slices.Equal(got, want) {
		t.Errorf("impact of tokenizer.json:\n got %q\nwant %q", got, want)
	}

	// Why is the summarizer deployment downstream of the raw dataset? One
	// hop rests only on the unsigned card.
	ex, err := q.Explain(ctx, "s3://acme-data/datasets/clinical-notes-raw/2024-01/", "deployment:staging/eu-west-1/ml-staging/note-summarizer", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !ex.Found || ex.Verified || len(ex.Path) != 4 || !slices.Equal(ex.WeakHops, []int{2}) ||
		ex.Path[2].Kind != graph.DerivedFrom || ex.Path[2].From.Name != demo.ModelAdapter || ex.Path[2].Status != graph.StatusUnsigned {
		t.Errorf("explain: %+v", ex)
	}

	// Rollback of production: it runs the quantized chat model, and every
	// earlier model on its lineage is reached by the advisory.
	rb, err := q.RollbackCandidates(ctx, "deployment:production/eu-west-1/ml-serving/clinical-chat", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rb.Current) != 1 || rb.Current[0].Name != demo.ModelChatQ4 || rb.Recommended != nil || len(rb.Candidates) == 0 {
		t.Errorf("rollback: current %v, recommended %v, %d candidates", rb.Current, rb.Recommended, len(rb.Candidates))
	}
	for _, c := range rb.Candidates {
		if c.Kept || len(c.Advisories) != 1 || c.Advisories[0].Name != demo.AdvisoryID {
			t.Errorf("rollback candidate %s: kept %v, advisories %v", c.Model.Name, c.Kept, c.Advisories)
		}
	}

	// The signers, as docs/demo.md lists them.
	p, err := demo.TrustPolicy()
	if err != nil {
		t.Fatal(err)
	}
	hints := map[string]string{}
	for _, r := range p.Rules {
		hints[strings.TrimPrefix(r.Name, demo.RulePrefix)] = r.Keys[0].Hint[:16]
	}
	wantHints := map[string]string{"acme-data-platform": "3b7156bb6fc8cadd", "acme-ml-platform": "87252f2e82be65c0", "acme-deploy": "790e9c18774a729d", "acme-security": "8abf0b388231d841"}
	if !maps.Equal(hints, wantHints) {
		t.Errorf("signer key hints %v changed: update docs/demo.md", hints)
	}
}

func TestDeterministic(t *testing.T) {
	a, err := demo.Documents()
	if err != nil {
		t.Fatal(err)
	}
	b, err := demo.Documents()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) || len(a) != 21 {
		t.Fatalf("%d and %d documents", len(a), len(b))
	}
	seen := map[string]string{}
	for i := range a {
		if a[i].Source != b[i].Source || !bytes.Equal(a[i].Data, b[i].Data) || a[i].Role != b[i].Role || a[i].Subject != b[i].Subject {
			t.Errorf("document %d (%s) differs between generations", i, a[i].Source)
		}
		d := graph.SHA256Key(a[i].Data)
		if prev, dup := seen[d]; dup {
			t.Errorf("%s and %s are the same document", prev, a[i].Source)
		}
		seen[d] = a[i].Source
	}
	p1, _ := demo.TrustPolicy()
	p2, _ := demo.TrustPolicy()
	for i := range p1.Rules {
		if p1.Rules[i].Keys[0].Hint != p2.Rules[i].Keys[0].Hint {
			t.Fatal("demo keys differ between calls")
		}
	}
}

func one(t *testing.T, s graph.Reader, key string, kind graph.NodeKind) graph.Node {
	t.Helper()
	ns, err := s.Lookup(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if n.Kind == kind {
			return n
		}
	}
	t.Fatalf("no %s %s", kind, key)
	return graph.Node{}
}

// label names a node for assertions: a model's name, else its first key.
func label(n graph.Node) string {
	if n.Kind == graph.KindModel {
		return n.Attr("name")
	}
	return n.Keys[0]
}

// Production first ran llm-7b-chat, then was moved to its quantized variant:
// "deployed models trained on the raw dataset" must say production runs the
// q4 model now (active), not the withdrawn predecessor the shortest path
// happens to pass through, and activeOnly must keep it.
func TestDeployedModelsTrainedOnReportsWhatRunsNow(t *testing.T) {
	s, _ := demotest.Store(t)
	q := query.New(s)
	for _, activeOnly := range []bool{false, true} {
		ans, err := q.DeployedModelsTrainedOn(context.Background(), "s3://acme-data/datasets/clinical-notes-raw/2024-01/", query.DeployedOptions{ActiveOnly: activeOnly})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range ans.Deployments {
			got = append(got, d.Deployment.Name+" runs "+d.Model.Name+" "+d.State)
		}
		slices.Sort(got)
		want := []string{
			"production/eu-west-1/ml-serving/clinical-chat runs acme/llm-7b-chat-q4 active",
			"staging/eu-west-1/ml-staging/clinical-assist runs acme/llm-7b-clinical active",
			"staging/eu-west-1/ml-staging/note-summarizer runs acme/llm-7b-summarizer-lora active",
		}
		if !slices.Equal(got, want) {
			t.Errorf("activeOnly=%v:\n got %q\nwant %q", activeOnly, got, want)
		}
	}
}
