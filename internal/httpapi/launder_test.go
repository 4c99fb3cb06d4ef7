package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// TestTrustCannotBeLaundered tries, through serve, each way of laundering
// trust around valid signatures (docs/security.md) and checks the signed
// state survives: an API mutation withdrawing a signed advisory, an
// unsigned record withdrawing a signed deployment, a key trusted for
// another namespace signing this model's digest under its own name, and a
// deployment signer's record naming a model whose own signature failed.
func TestTrustCannotBeLaundered(t *testing.T) {
	model, deploy, adv, other, stranger := envelopetest.NewKeySigner(t), envelopetest.NewKeySigner(t), envelopetest.NewKeySigner(t), envelopetest.NewKeySigner(t), envelopetest.NewKeySigner(t)
	pol := &trust.Policy{Rules: []trust.Rule{
		{Name: "model", Roles: []graph.Role{graph.RoleModelSignature, graph.RoleProvenance}, Keys: []trust.PublicKey{model.PublicKey(t)}},
		{Name: "deploy", Roles: []graph.Role{graph.RoleDeployment}, Keys: []trust.PublicKey{deploy.PublicKey(t)}},
		{Name: "advisories", Roles: []graph.Role{graph.RoleAdvisory}, Keys: []trust.PublicKey{adv.PublicKey(t)}},
		{Name: "other", Roles: []graph.Role{graph.RoleProvenance}, Subjects: []string{"other-*"}, Keys: []trust.PublicKey{other.PublicKey(t)}},
	}}
	e := startOn(t, Options{MaxBody: 8 << 20}, pol, openBolt(t))
	const pt = envelopetest.InTotoPayloadType
	digest := strings.Repeat("ab", 32)
	failedDigest := strings.Repeat("cd", 32)
	stmt := func(name, dg, predicateType, pred string) []byte {
		return []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"` + name + `","digest":{"sha256":"` + dg + `"}}],"predicateType":"` + predicateType + `","predicate":` + pred + `}`)
	}
	prov := func(name, dg string) []byte {
		return stmt(name, dg, "https://slsa.dev/provenance/v1", `{"buildDefinition":{"buildType":"https://ml.acme.example/train/v1","externalParameters":{}},"runDetails":{"builder":{"id":"https://ml.acme.example/gpu"}}}`)
	}
	record := func(name, dg, extra string) []byte {
		return stmt(name, dg, "https://modelgraph.dev/attestation/deployment/v1", `{"environment":"production","cluster":"eu","namespace":"ml","service":"chat","deployedAt":"2025-05-01T00:00:00Z"`+extra+`}`)
	}
	advisory := func(status string) []byte {
		return stmt("acme/model", digest, "https://aixv.org/attestation/advisory/v1", `{"advisory_id":"AIXV-L","severity":"critical","status":"`+status+`","affected":[{"digest":"sha256:`+digest+`","artifact_type":"model"}]}`)
	}
	push := func(name string, body []byte) string {
		t.Helper()
		resp, b := e.do(t, "POST", "/v1/ingest?source="+name, writeSecret, "", body)
		var r pushed
		if resp.StatusCode != 201 || json.Unmarshal(b, &r) != nil || len(r.Documents) != 1 {
			t.Fatalf("push %s: %d %s", name, resp.StatusCode, b)
		}
		return r.Documents[0].Document
	}
	provDoc := push("provenance", model.DSSE(t, pt, prov("acme/model", digest)))
	push("deployment", deploy.DSSE(t, pt, record("acme/model", digest, "")))
	push("advisory", adv.DSSE(t, pt, advisory("active")))
	push("failed-provenance", stranger.DSSE(t, pt, prov("acme/failed", failedDigest)))
	push("deployment-of-failed", deploy.DSSE(t, pt, record("acme/failed", failedDigest, "")))

	// The attacks.
	if _, out := gqlPost(t, e, writeSecret, `mutation { createAdvisory(input: {id: "AIXV-L", status: "withdrawn", affects: ["sha256:`+digest+`"]}) { receipt { duplicate } } }`, nil); out["errors"] != nil {
		t.Fatalf("createAdvisory: %v", out)
	}
	push("unsigned-withdrawal", record("acme/model", digest, `,"undeployedAt":"2025-06-01T00:00:00Z"`))
	push("other-namespace", other.DSSE(t, pt, prov("other-x", digest)))

	admission := func(dg string) map[string]any {
		_, out := gqlPost(t, e, readSecret, `query($d: String!) { admission(digest: $d) { allow checks { rule passed message } identity { verified status reason vouchedBy } } }`, map[string]any{"d": "sha256:" + dg})
		if out["errors"] != nil {
			t.Fatalf("admission: %v", out)
		}
		return out["data"].(map[string]any)["admission"].(map[string]any)
	}
	a := admission(digest)
	id := a["identity"].(map[string]any)
	if a["allow"] != false || id["verified"] != true || js(id["vouchedBy"]) != js([]string{provDoc}) {
		t.Errorf("admission of the signed model after the attacks: %s (want denied by the signed advisory, verified by its provenance alone)", js(a))
	}
	for _, c := range a["checks"].([]any) {
		m := c.(map[string]any)
		if m["rule"] == "advisory" && (m["passed"] != false || !strings.Contains(m["message"].(string), "AIXV-L")) {
			t.Errorf("advisory check: %s", js(m))
		}
	}
	_, out := gqlPost(t, e, readSecret, `{ affectedByAdvisory(advisory: "AIXV-L") { advisory { status active } affected { node { kind } state history { trusted state } } } }`, nil)
	if out["errors"] != nil {
		t.Fatalf("affectedByAdvisory: %v", out)
	}
	ans := out["data"].(map[string]any)["affectedByAdvisory"].(map[string]any)
	if got := js(ans["advisory"]); got != `{"active":true,"status":"active"}` {
		t.Errorf("advisory after an API withdrawal: %s", got)
	}
	deployments := 0
	for _, x := range ans["affected"].([]any) {
		m := x.(map[string]any)
		if m["node"].(map[string]any)["kind"] == "Deployment" {
			deployments++
			if m["state"] != "active" || js(m["history"]) != `[{"state":"active","trusted":true}]` {
				t.Errorf("deployment after an unsigned withdrawal: %s", js(m))
			}
		}
	}
	if deployments != 1 {
		t.Errorf("%d deployments affected, want 1: %s", deployments, js(ans))
	}
	f := admission(failedDigest)
	if f["allow"] != false || f["identity"].(map[string]any)["verified"] != false || f["identity"].(map[string]any)["status"] != "failed" {
		t.Errorf("a model whose own signature failed, named by a signed deployment record: %s", js(f))
	}
}
