package query_test

// Document-level scenarios for trust by role, claim precedence and time by
// event (docs/security.md): every document is a real in-toto statement,
// signed with sigstore-go test keys, opened and verified by the ingest
// pipeline against a trust policy with roles, and every scenario is run in
// every ingest order.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	adv "github.com/modelgraph/modelgraph/ingest/advisory"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/trust"
	"github.com/modelgraph/modelgraph/internal/admission"
	"github.com/modelgraph/modelgraph/internal/gql"
	"github.com/modelgraph/modelgraph/internal/query"
	"github.com/modelgraph/modelgraph/internal/testserve"
)

// signers of the scenarios, each trusted for one role unless said.
type signers struct {
	model, prov, deploy, advisory, stranger *envelopetest.KeySigner
	acmeOnly, otherOnly                     *envelopetest.KeySigner // provenance, restricted by namespace
}

func newSigners(t *testing.T) (*signers, *trust.Policy) {
	s := &signers{
		model: envelopetest.NewKeySigner(t), prov: envelopetest.NewKeySigner(t), deploy: envelopetest.NewKeySigner(t),
		advisory: envelopetest.NewKeySigner(t), stranger: envelopetest.NewKeySigner(t),
		acmeOnly: envelopetest.NewKeySigner(t), otherOnly: envelopetest.NewKeySigner(t),
	}
	rule := func(name string, k *envelopetest.KeySigner, roles []graph.Role, subjects ...string) trust.Rule {
		return trust.Rule{Name: name, Roles: roles, Subjects: subjects, Keys: []trust.PublicKey{k.PublicKey(t)}}
	}
	pol := &trust.Policy{Rules: []trust.Rule{
		rule("model-signers", s.model, []graph.Role{graph.RoleModelSignature}),
		rule("ci-provenance", s.prov, []graph.Role{graph.RoleProvenance}),
		rule("deployers", s.deploy, []graph.Role{graph.RoleDeployment}),
		rule("advisories", s.advisory, []graph.Role{graph.RoleAdvisory}),
		rule("acme-provenance", s.acmeOnly, []graph.Role{graph.RoleProvenance}, "hf://acme/*", "acme/*"),
		rule("other-provenance", s.otherOnly, []graph.Role{graph.RoleProvenance}, "other-*", "hf://other/*"),
	}}
	if err := pol.Validate(); err != nil {
		t.Fatal(err)
	}
	return s, pol
}

func dg(s string) string { return strings.Repeat(s, 64)[:64] }

type subj struct{ name, uri, sha string }

func statement(t *testing.T, pt string, subjects []subj, pred map[string]any) []byte {
	t.Helper()
	var ss []envelopetest.Subject
	for _, s := range subjects {
		ss = append(ss, envelopetest.Subject{Name: s.name, URI: s.uri, SHA256: s.sha})
	}
	return envelopetest.Statement(t, pt, pred, ss...)
}

func provenance(t *testing.T, subjects ...subj) []byte {
	return statement(t, "https://slsa.dev/provenance/v1", subjects, map[string]any{
		"buildDefinition": map[string]any{"buildType": "https://ml.acme.example/buildtypes/training/v1", "externalParameters": map[string]any{}},
		"runDetails":      map[string]any{"builder": map[string]any{"id": "https://ml.acme.example/runners/gpu@v2"}},
	})
}

func deployment(t *testing.T, model subj, env, deployedAt, undeployedAt string) []byte {
	pred := map[string]any{"environment": env, "cluster": "eu-west-1", "namespace": "ml", "service": "chat", "deployedAt": deployedAt}
	if undeployedAt != "" {
		pred["undeployedAt"] = undeployedAt
	}
	return statement(t, "https://modelgraph.dev/attestation/deployment/v1", []subj{model}, pred)
}

func advisory(t *testing.T, id, status string, about subj) []byte {
	return statement(t, "https://aixv.org/attestation/advisory/v1", []subj{about}, map[string]any{
		"advisory_id": id, "severity": "critical", "status": status, "summary": "test advisory",
		"affected": []any{map[string]any{"digest": "sha256:" + about.sha, "artifact_type": "model"}},
	})
}

const pt = envelopetest.InTotoPayloadType

// world is a fresh store fed docs in one order.
type tworld struct {
	store *embedded.Store
	q     *query.Service
	pipe  *ingest.Pipeline
}

func newTWorld(t *testing.T, pol *trust.Policy) *tworld {
	t.Helper()
	s := testserve.Embedded(t)
	return &tworld{store: s, q: query.New(s), pipe: &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)}}
}

func (w *tworld) push(t *testing.T, name string, doc []byte) {
	t.Helper()
	if _, err := w.pipe.Ingest(context.Background(), ingest.Input{Data: doc, Source: name}); err != nil {
		t.Fatalf("ingest %s: %v", name, err)
	}
}

type namedDoc struct {
	name string
	data []byte
}

// permutations calls f with every order of docs (n! orders; keep n small).
func permutations(docs []namedDoc, f func([]namedDoc)) {
	var rec func(int)
	rec = func(k int) {
		if k == len(docs) {
			f(slices.Clone(docs))
			return
		}
		for i := k; i < len(docs); i++ {
			docs[k], docs[i] = docs[i], docs[k]
			rec(k + 1)
			docs[k], docs[i] = docs[i], docs[k]
		}
	}
	rec(0)
}

func orderName(docs []namedDoc) string {
	var ns []string
	for _, d := range docs {
		ns = append(ns, d.name)
	}
	return strings.Join(ns, ",")
}

// A model whose own signature failed is not made verified by a signed
// advisory (even "resolved") or a signed deployment record naming its
// digest: those roles talk about a model, they do not vouch for it.
func TestTrustByRoleAdvisoryAndDeploymentNeverVouch(t *testing.T) {
	s, pol := newSigners(t)
	m := subj{name: "acme/llm", sha: dg("a")}
	docs := []namedDoc{
		{"provenance-by-stranger", s.stranger.DSSE(t, pt, provenance(t, m))},
		{"advisory-resolved", s.advisory.DSSE(t, pt, advisory(t, "AIXV-1", "resolved", m))},
		{"deployment", s.deploy.DSSE(t, pt, deployment(t, m, "production", "2025-05-01T00:00:00Z", ""))},
	}
	permutations(docs, func(order []namedDoc) {
		w := newTWorld(t, pol)
		for _, d := range order {
			w.push(t, d.name, d.data)
		}
		d, err := admission.Decide(context.Background(), w.q, "sha256:"+m.sha, admission.DefaultPolicy())
		if err != nil {
			t.Fatal(err)
		}
		if d.Allow || d.Identity.Verified || d.Identity.Status != graph.StatusFailed {
			t.Fatalf("order %s: admission %+v, want denied with status failed", orderName(order), d)
		}
		if !strings.Contains(d.Identity.Reason, "cannot vouch for a Model (trust by role)") {
			t.Errorf("order %s: reason %q does not name the rule", orderName(order), d.Identity.Reason)
		}
	})
}

// A signer trusted only for advisories cannot verify a model: its
// provenance is recorded as failed at ingest, naming the role.
func TestTrustByRoleAdvisorySignerCannotSignProvenance(t *testing.T) {
	s, pol := newSigners(t)
	m := subj{name: "acme/llm", sha: dg("b")}
	w := newTWorld(t, pol)
	res, err := w.pipe.Ingest(context.Background(), ingest.Input{Data: s.advisory.DSSE(t, pt, provenance(t, m)), Source: "prov-by-advisory-key"})
	if err != nil {
		t.Fatal(err)
	}
	sig := res[0].Document.Signatures[0]
	if sig.Status != graph.StatusFailed || !strings.Contains(sig.Reason, "provenance documents") {
		t.Fatalf("signature = %+v, want failed for the provenance role", sig)
	}
	d, err := admission.Decide(context.Background(), w.q, "sha256:"+m.sha, admission.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if d.Allow || d.Identity.Verified {
		t.Fatalf("admission = %+v, want denied", d)
	}
	// The same statement from the provenance signer verifies.
	w.push(t, "prov", s.prov.DSSE(t, pt, provenance(t, m)))
	if d, err = admission.Decide(context.Background(), w.q, "sha256:"+m.sha, admission.DefaultPolicy()); err != nil || !d.Allow || !strings.Contains(d.Identity.Basis, "trust by role") {
		t.Fatalf("admission after trusted provenance = %+v, %v", d, err)
	}
}

// A signer restricted to hf://acme/* cannot vouch for hf://other/*, by the
// name it signs or by a digest that a trusted document names otherwise.
func TestTrustByRoleNamespaces(t *testing.T) {
	s, pol := newSigners(t)
	ctx := context.Background()
	w := newTWorld(t, pol)
	// Naming the other namespace directly: refused at ingest.
	res, err := w.pipe.Ingest(ctx, ingest.Input{Data: s.acmeOnly.DSSE(t, pt, provenance(t, subj{name: "hf://other/x", sha: dg("c")})), Source: "acme-signs-other"})
	if err != nil {
		t.Fatal(err)
	}
	if st := res[0].Document.Status(); st == graph.StatusVerified {
		t.Fatalf("acme-only signer verified a document about hf://other/x")
	}
	// Inside its namespace: verified, scope recorded.
	good := subj{name: "hf://acme/good", sha: dg("d")}
	res, err = w.pipe.Ingest(ctx, ingest.Input{Data: s.acmeOnly.DSSE(t, pt, provenance(t, good)), Source: "acme-signs-acme"})
	if err != nil {
		t.Fatal(err)
	}
	sig := res[0].Document.Signatures[0]
	if sig.Status != graph.StatusVerified || !slices.Equal(sig.Scope, []string{"acme/*", "hf://acme/*"}) {
		t.Fatalf("acme-only signature = %+v", sig)
	}
	// A signer trusted for other-* signs acme's digest under a name of its
	// own: verified at ingest (the name is in its namespace), but it does
	// not vouch for acme's model, which a trusted document names
	// hf://acme/good.
	w.push(t, "other-signs-acme-digest", s.otherOnly.DSSE(t, pt, provenance(t, subj{name: "other-x", sha: good.sha})))
	ns, err := w.q.Lookup(ctx, "sha256:"+good.sha)
	if err != nil {
		t.Fatal(err)
	}
	var model *query.NodeDetail
	for i := range ns {
		if ns[i].Node.Kind == graph.KindModel {
			model = &ns[i]
		}
	}
	if model == nil {
		t.Fatalf("no model for %s: %+v", good.sha, ns)
	}
	// Two signers, each restricted to its own namespace, name one digest
	// as theirs: neither vouches (fail safe), and the reason names the
	// conflict for a responder to settle.
	if model.Identity.Verified || !strings.Contains(model.Identity.Reason, `another trusted document names this Model "hf://acme/good"`) ||
		!strings.Contains(model.Identity.Reason, `another trusted document names this Model "other-x"`) {
		t.Fatalf("identity = %+v, want unverified with both conflicts named", model.Identity)
	}
	// With an unrestricted signer for acme's model, acme's document vouches
	// and the other-* signer's still does not.
	w2 := newTWorld(t, pol)
	w2.push(t, "ci-signs-acme", s.prov.DSSE(t, pt, provenance(t, good)))
	w2.push(t, "other-signs-acme-digest", s.otherOnly.DSSE(t, pt, provenance(t, subj{name: "other-x", sha: good.sha})))
	d, err := admission.Decide(ctx, w2.q, "sha256:"+good.sha, admission.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if !d.Identity.Verified || len(d.Identity.VouchedBy) != 1 {
		t.Fatalf("identity = %+v, want verified by the CI provenance alone", d.Identity)
	}
	if ev := evidenceBySource(d.Identity.DescribedBy, "other-signs-acme-digest"); ev == nil || slices.Contains(d.Identity.VouchedBy, ev.Document) {
		t.Fatalf("the other-* signer's document vouches for acme's model: %+v", d.Identity)
	}
}

func evidenceBySource(ev []query.Evidence, src string) *query.Evidence {
	for i := range ev {
		if ev[i].Source == src {
			return &ev[i]
		}
	}
	return nil
}

// Deployment state comes from the records' own times, trusted records
// first: in every order the withdrawn model is withdrawn, its window is
// kept, the successor runs now, and "at" answers the past. An unsigned
// record withdrawing the successor changes nothing.
func TestDeploymentStateByEventTime(t *testing.T) {
	s, pol := newSigners(t)
	ctx := context.Background()
	ds := subj{name: "s3://acme-data/ds/v1/", sha: dg("1")}
	m1 := subj{name: "acme/llm-v1", sha: dg("2")}
	m2 := subj{name: "acme/llm-v2", sha: dg("3")}
	trainedOn := func(m subj) []byte {
		return statement(t, "https://slsa.dev/provenance/v1", []subj{m}, map[string]any{
			"buildDefinition": map[string]any{"buildType": "https://ml.acme.example/buildtypes/training/v1", "externalParameters": map[string]any{},
				"resolvedDependencies": []any{map[string]any{"uri": ds.name, "digest": map[string]string{"sha256": ds.sha}, "annotations": map[string]string{"kind": "dataset", "split": "train"}}}},
			"runDetails": map[string]any{"builder": map[string]any{"id": "https://ml.acme.example/runners/gpu@v2"}},
		})
	}
	docs := []namedDoc{
		{"prov-v1", s.prov.DSSE(t, pt, trainedOn(m1))},
		{"prov-v2", s.prov.DSSE(t, pt, trainedOn(m2))},
		{"v1-active", s.deploy.DSSE(t, pt, deployment(t, m1, "production", "2025-05-01T00:00:00Z", ""))},
		{"v1-withdrawn", s.deploy.DSSE(t, pt, deployment(t, m1, "production", "2025-05-01T00:00:00Z", "2025-06-01T00:00:00Z"))},
		{"v2-active", s.deploy.DSSE(t, pt, deployment(t, m2, "production", "2025-06-01T00:00:00Z", ""))},
	}
	unsignedWithdraw := deployment(t, m2, "production", "2025-06-01T00:00:00Z", "2025-06-02T00:00:00Z")
	n := 0
	permutations(docs, func(order []namedDoc) {
		n++
		if n%4 != 0 && n != 1 { // 120 orders: every fourth keeps the test quick
			return
		}
		w := newTWorld(t, pol)
		for _, d := range order {
			w.push(t, d.name, d.data)
		}
		w.push(t, "unsigned-withdraw-v2", unsignedWithdraw)
		now, err := w.q.DeployedModelsTrainedOn(ctx, "sha256:"+ds.sha, query.DeployedOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(now.Deployments) != 1 {
			t.Fatalf("order %s: %d deployments", orderName(order), len(now.Deployments))
		}
		d := now.Deployments[0]
		if d.State != "active" || d.Model.Name != m2.name {
			t.Fatalf("order %s: now = %s running %s, want active running %s", orderName(order), d.State, d.Model.Name, m2.name)
		}
		hist := map[string]string{}
		for _, h := range d.History {
			var ws []string
			for _, win := range h.Windows {
				ws = append(ws, win.From+".."+win.To)
			}
			hist[h.Model.Name] = fmt.Sprintf("%s %v trusted=%v", h.State, ws, h.Trusted)
		}
		want := map[string]string{
			m1.name: "withdrawn [2025-05-01T00:00:00Z..2025-06-01T00:00:00Z] trusted=true",
			m2.name: "active [2025-06-01T00:00:00Z..] trusted=true",
		}
		if fmt.Sprint(hist) != fmt.Sprint(want) {
			t.Fatalf("order %s: history %v, want %v", orderName(order), hist, want)
		}
		past, err := w.q.DeployedModelsTrainedOn(ctx, "sha256:"+ds.sha, query.DeployedOptions{ActiveOnly: true, At: time.Date(2025, 5, 15, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if len(past.Deployments) != 1 || past.Deployments[0].Model.Name != m1.name {
			t.Fatalf("order %s: at 2025-05-15 = %+v, want %s", orderName(order), past.Deployments, m1.name)
		}
		before, err := w.q.DeployedModelsTrainedOn(ctx, "sha256:"+ds.sha, query.DeployedOptions{ActiveOnly: true, At: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if len(before.Deployments) != 0 {
			t.Fatalf("order %s: at 2025-01-01 = %+v, want nothing deployed", orderName(order), before.Deployments)
		}
	})
}

// affectedByAdvisory keeps the exposure that ended: the withdrawn model's
// window on the deployment is in the answer.
func TestAffectedByAdvisoryKeepsDeploymentHistory(t *testing.T) {
	s, pol := newSigners(t)
	ctx := context.Background()
	m1 := subj{name: "acme/llm-v1", sha: dg("4")}
	m2 := subj{name: "acme/llm-v2", sha: dg("5")}
	w := newTWorld(t, pol)
	w.push(t, "v2-active", s.deploy.DSSE(t, pt, deployment(t, m2, "production", "2025-06-01T00:00:00Z", "")))
	w.push(t, "v1-withdrawn", s.deploy.DSSE(t, pt, deployment(t, m1, "production", "2025-05-01T00:00:00Z", "2025-06-01T00:00:00Z")))
	w.push(t, "advisory", s.advisory.DSSE(t, pt, advisory(t, "AIXV-3", "active", m1)))
	a, err := w.q.AffectedByAdvisory(ctx, "AIXV-3", 0, query.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var dep *query.AffectedNode
	for i := range a.Affected {
		if a.Affected[i].Node.Kind == graph.KindDeployment {
			dep = &a.Affected[i]
		}
	}
	if dep == nil {
		t.Fatalf("no deployment affected: %+v", a.Affected)
	}
	if dep.State != "withdrawn" || len(dep.History) != 1 || dep.History[0].Model.Name != m1.name ||
		len(dep.History[0].Windows) != 1 || dep.History[0].Windows[0] != (query.Window{From: "2025-05-01T00:00:00Z", To: "2025-06-01T00:00:00Z"}) {
		t.Fatalf("affected deployment = state %s history %+v, want m1's ended window", dep.State, dep.History)
	}
}

// A signed active advisory stays active when an unsigned document (the
// createAdvisory mutation) says it was withdrawn; admission keeps denying.
func TestAdvisoryStatusSignedBeforeUnsigned(t *testing.T) {
	s, pol := newSigners(t)
	ctx := context.Background()
	m := subj{name: "acme/llm", sha: dg("e")}
	w := newTWorld(t, pol)
	w.push(t, "prov", s.prov.DSSE(t, pt, provenance(t, m)))
	w.push(t, "advisory-active", s.advisory.DSSE(t, pt, advisory(t, "AIXV-9", "active", m)))
	if _, _, err := gql.CreateAdvisory(ctx, w.q, w.pipe, adv.Input{ID: "AIXV-9", Status: "withdrawn", Affects: []string{"sha256:" + m.sha}}, "api (token ops)"); err != nil {
		t.Fatal(err)
	}
	a, err := w.q.Advisories(ctx, false, query.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Items) != 1 || a.Items[0].Status != "active" || !a.Items[0].Active {
		t.Fatalf("advisories = %+v, want AIXV-9 active", a.Items)
	}
	d, err := admission.Decide(ctx, w.q, "sha256:"+m.sha, admission.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if d.Allow {
		t.Fatalf("admission allowed after an unsigned withdrawal: %+v", d)
	}
	// A signed withdrawal from the advisory signer does settle it.
	w.push(t, "advisory-withdrawn", s.advisory.DSSE(t, pt, advisory(t, "AIXV-9", "withdrawn", m)))
	if d, err = admission.Decide(ctx, w.q, "sha256:"+m.sha, admission.DefaultPolicy()); err != nil || !d.Allow {
		t.Fatalf("admission after the signed withdrawal = %+v, %v", d, err)
	}
}

// A verified provenance names the model it produced (G) and its base model
// (EVIL) as an input; an unsigned statement then claims that the model
// named hf://acme/good has digest EVIL, which joins the two nodes. The
// provenance vouches for G, its subject, never for EVIL, which it only
// named as an input: EVIL stays unverified, asked by digest or not.
func TestJoinDoesNotLendAnInputTheSubjectsTrust(t *testing.T) {
	s, pol := newSigners(t)
	ctx := context.Background()
	good := subj{name: "acme/good", uri: "hf://acme/good", sha: dg("6")}
	evil := dg("7")
	prov := statement(t, "https://slsa.dev/provenance/v1", []subj{good}, map[string]any{
		"buildDefinition": map[string]any{"buildType": "https://ml.acme.example/buildtypes/training/v1", "externalParameters": map[string]any{},
			"resolvedDependencies": []any{map[string]any{"uri": "hf://acme/base", "digest": map[string]string{"sha256": evil}, "annotations": map[string]string{"kind": "model"}}}},
		"runDetails": map[string]any{"builder": map[string]any{"id": "https://ml.acme.example/runners/gpu@v2"}},
	})
	joiner := statement(t, "https://example.com/anything/v1", []subj{{uri: "hf://acme/good", sha: evil}}, map[string]any{})
	permutations([]namedDoc{{"prov", s.prov.DSSE(t, pt, prov)}, {"joiner", joiner}}, func(order []namedDoc) {
		w := newTWorld(t, pol)
		for _, d := range order {
			w.push(t, d.name, d.data)
		}
		byGood, err := admission.Decide(ctx, w.q, "sha256:"+good.sha, admission.DefaultPolicy())
		if err != nil {
			t.Fatal(err)
		}
		byEvil, err := admission.Decide(ctx, w.q, "sha256:"+evil, admission.DefaultPolicy())
		if err != nil {
			t.Fatal(err)
		}
		if len(byGood.Subjects) != 1 || len(byEvil.Subjects) != 1 || byGood.Subjects[0].ID != byEvil.Subjects[0].ID {
			t.Fatalf("order %s: the unsigned statement did not join the nodes (test setup): %+v / %+v", orderName(order), byGood.Subjects, byEvil.Subjects)
		}
		if !byGood.Identity.Verified {
			t.Errorf("order %s: G, the provenance's subject: %+v", orderName(order), byGood.Identity)
		}
		if byEvil.Allow || byEvil.Identity.Verified || !strings.Contains(byEvil.Identity.Reason, "joined to it only by documents that do not vouch for it") {
			t.Errorf("order %s: EVIL borrowed the provenance's trust: %+v", orderName(order), byEvil.Identity)
		}
	})
}
