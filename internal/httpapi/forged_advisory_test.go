package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// TestForgedAdvisoryCannotWithdraw pushes, after a signed active advisory,
// withdrawals of it that look signed but are not: the trusted key's
// signature moved onto another payload, a stranger's key, and the trusted
// key signing the project's advisory document format instead of an in-toto
// statement. Each is kept with its signature status (or refused), and the
// advisory stays active until the trusted key itself withdraws it.
func TestForgedAdvisoryCannotWithdraw(t *testing.T) {
	adv, stranger := envelopetest.NewKeySigner(t), envelopetest.NewKeySigner(t)
	pol := &trust.Policy{Rules: []trust.Rule{
		{Name: "advisories", Roles: []graph.Role{graph.RoleAdvisory}, Keys: []trust.PublicKey{adv.PublicKey(t)}},
	}}
	e := startOn(t, Options{MaxBody: 8 << 20}, pol, openBolt(t))
	const pt = envelopetest.InTotoPayloadType
	digest := strings.Repeat("ef", 32)
	advisory := func(status string) []byte {
		return []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"acme/model","digest":{"sha256":"` + digest + `"}}],` +
			`"predicateType":"https://aixv.org/attestation/advisory/v1","predicate":{"advisory_id":"AIXV-F","severity":"critical","status":"` + status +
			`","affected":[{"digest":"sha256:` + digest + `","artifact_type":"model"}]}}`)
	}
	push := func(name string, body []byte) (int, map[string]any) {
		t.Helper()
		resp, b := e.do(t, "POST", "/v1/ingest?source="+name, writeSecret, "", body)
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("push %s: %d %s", name, resp.StatusCode, b)
		}
		return resp.StatusCode, out
	}
	status := func() string {
		t.Helper()
		_, out := gqlPost(t, e, readSecret, `{ affectedByAdvisory(advisory: "AIXV-F") { advisory { status active } } }`, nil)
		if out["errors"] != nil {
			t.Fatalf("affectedByAdvisory: %v", out)
		}
		return js(out["data"].(map[string]any)["affectedByAdvisory"].(map[string]any)["advisory"])
	}
	const active = `{"active":true,"status":"active"}`
	if code, out := push("signed", adv.DSSE(t, pt, advisory("active"))); code != 201 {
		t.Fatalf("signed advisory: %d %v", code, out)
	}
	if got := status(); got != active {
		t.Fatalf("signed advisory: %s", got)
	}

	// The trusted key's valid signature of the active advisory, moved onto a
	// withdrawal.
	var env map[string]any
	if err := json.Unmarshal(adv.DSSE(t, pt, advisory("active")), &env); err != nil {
		t.Fatal(err)
	}
	env["payload"] = base64.StdEncoding.EncodeToString(advisory("withdrawn"))
	moved, _ := json.Marshal(env)

	// The project's advisory document format (not an in-toto statement),
	// validly signed by the trusted key.
	doc := []byte(`{"advisoryFormat":"https://modelgraph.dev/advisory/v1","id":"AIXV-F","status":"withdrawn","affects":[{"kind":"Model","key":"sha256:` + digest + `"}]}`)

	for _, c := range []struct {
		name string
		body []byte
		want []string // acceptable document statuses; nil: must be refused (4xx)
	}{
		{"moved-signature", moved, []string{"failed"}},
		{"stranger", stranger.DSSE(t, pt, advisory("withdrawn")), []string{"untrusted", "failed"}},
		{"advisory-format-in-dsse", adv.DSSE(t, "application/json", doc), nil},
		{"advisory-format-in-dsse-as-intoto", adv.DSSE(t, pt, doc), nil},
	} {
		code, out := push(c.name, c.body)
		switch {
		case c.want == nil:
			if code < 400 || code >= 500 {
				t.Errorf("%s: %d %v, want a 4xx refusal", c.name, code, out)
			}
		case code != 201:
			t.Errorf("%s: %d %v, want 201 (kept with its status)", c.name, code, out)
		default:
			docs, _ := out["documents"].([]any)
			st := ""
			if len(docs) == 1 {
				st, _ = docs[0].(map[string]any)["status"].(string)
			}
			ok := false
			for _, w := range c.want {
				ok = ok || st == w
			}
			if !ok {
				t.Errorf("%s: recorded with status %q (%v), want one of %v", c.name, st, out, c.want)
			}
		}
		if got := status(); got != active {
			t.Errorf("after %s: advisory %s, want %s", c.name, got, active)
		}
	}

	// The control: the trusted key's own withdrawal does withdraw it.
	if code, out := push("signed-withdrawal", adv.DSSE(t, pt, advisory("withdrawn"))); code != 201 {
		t.Fatalf("signed withdrawal: %d %v", code, out)
	}
	if got := status(); got != `{"active":false,"status":"withdrawn"}` {
		t.Errorf("after the signed withdrawal: %s", got)
	}
}
