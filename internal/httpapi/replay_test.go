package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// deployRecord is the signed production deployment record, withdrawn or
// re-deployed by editing its predicate.
func deployRecord(t *testing.T, edit func(p map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(fixture(t, "intoto/deployment-production.intoto.json"), &m); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m["predicate"].(map[string]any))
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An old signed "active" deployment record replayed after the signed
// "withdrawn" one, re-encoded or re-wrapped, is a duplicate through serve:
// the receipt says so, no document is added and the deployment stays
// withdrawn. A genuinely new signed record still changes the answer.
func TestReplayedSignedRecordEndToEnd(t *testing.T) {
	ci := envelopetest.NewKeySigner(t)
	e := startTrusting(t, Options{}, &trust.Policy{Rules: []trust.Rule{{Name: "ci", Keys: []trust.PublicKey{ci.PublicKey(t)}}}})
	push := func(name string, body []byte) pushedReplay {
		t.Helper()
		resp, b := e.do(t, "POST", "/v1/ingest?source="+name, writeSecret, "", body)
		var r pushedReplay
		if resp.StatusCode/100 != 2 || json.Unmarshal(b, &r) != nil || len(r.Documents) == 0 {
			t.Fatalf("push %s: %d %s", name, resp.StatusCode, b)
		}
		return r
	}
	state := func() string {
		t.Helper()
		_, out := gqlPost(t, e, readSecret, `query($d: String!) { deployedModelsTrainedOn(dataset: $d) { deployments { deployment { name } state } } }`, map[string]any{"d": sftURI})
		if out["errors"] != nil {
			t.Fatalf("deployedModelsTrainedOn: %v", out["errors"])
		}
		deps := out["data"].(map[string]any)["deployedModelsTrainedOn"].(map[string]any)["deployments"].([]any)
		if len(deps) != 1 {
			t.Fatalf("deployments: %s", js(deps))
		}
		return deps[0].(map[string]any)["state"].(string)
	}
	push("chat-training", fixture(t, "query/e2e/chat-training.intoto.json"))
	push("chat-quantize", fixture(t, "query/e2e/chat-quantize.intoto.json"))
	active := ci.DSSE(t, statement.PayloadType, deployRecord(t, nil))
	orig := push("deploy-active", active).Documents[0]
	if orig.Status != "verified" || orig.Duplicate {
		t.Fatalf("active record: %+v", orig)
	}
	if s := state(); s != "active" {
		t.Fatalf("state after the active record: %s", s)
	}
	withdrawn := ci.Bundle(t, statement.PayloadType, deployRecord(t, func(p map[string]any) { p["undeployedAt"] = "2024-07-01T00:00:00Z" }))
	if w := push("deploy-withdrawn", withdrawn).Documents[0]; w.Status != "verified" || w.Duplicate {
		t.Fatalf("withdrawn record: %+v", w)
	}
	if s := state(); s != "withdrawn" {
		t.Fatalf("state after the withdrawn record: %s", s)
	}
	docs := e.documents(t)

	for _, r := range []struct {
		name string
		body []byte
	}{
		{"whitespace", envelopetest.Indent(t, active)},
		{"base64-url-unpadded", envelopetest.ReencodeB64(t, active, base64.RawURLEncoding)},
		{"rewrapped-bundle", envelopetest.WrapBundle(t, active)},
		{"jsonl", append(append(envelopetest.ReencodeB64(t, active, base64.URLEncoding), '\n'), withdrawn...)},
	} {
		rs := push("replay-"+r.name, r.body).Documents
		got := rs[0]
		if r.name == "jsonl" && (len(rs) != 2 || !rs[1].Duplicate) {
			t.Errorf("replay as JSON Lines: %+v", rs)
		}
		if !got.Duplicate || got.Document != orig.Document || got.Status != "verified" {
			t.Errorf("replay %s: %+v, want a duplicate of %s", r.name, got, orig.Document)
		}
		if s := state(); s != "withdrawn" {
			t.Errorf("replay %s turned the deployment %s", r.name, s)
		}
	}
	if n := e.documents(t); n != docs {
		t.Errorf("replays added %d documents", n-docs)
	}

	// A new signed record (re-deployed later) is new evidence.
	again := ci.DSSE(t, statement.PayloadType, deployRecord(t, func(p map[string]any) { p["deployedAt"] = "2024-08-01T00:00:00Z" }))
	if r := push("deploy-again", again).Documents[0]; r.Duplicate || r.Status != "verified" {
		t.Fatalf("re-deployment: %+v", r)
	}
	if s := state(); s != "active" {
		t.Errorf("state after a new signed deployment record: %s", s)
	}
}

type pushedReplay struct {
	Documents []struct {
		Document, Status string
		Duplicate        bool
	}
}

// Signed JSON with a duplicate or case-variant key is a 400 naming the
// document and the path, even when its signature verifies; nothing is
// written.
func TestPushRejectsAmbiguousSignedJSON(t *testing.T) {
	ci := envelopetest.NewKeySigner(t)
	e := startTrusting(t, Options{}, &trust.Policy{Rules: []trust.Rule{{Keys: []trust.PublicKey{ci.PublicKey(t)}}}})
	good := string(deployRecord(t, nil))
	for name, c := range map[string]struct{ payload, field string }{
		"duplicate": {strings.Replace(good, `"environment":`, `"environment":"staging","environment":`, 1), "/predicate/environment"},
		"SUBJECT":   {strings.Replace(good, `"subject":`, `"SUBJECT":[],"subject":`, 1), "/SUBJECT"},
	} {
		resp, b := e.do(t, "POST", "/v1/ingest?source=ambiguous-"+name, writeSecret, "", ci.DSSE(t, statement.PayloadType, []byte(c.payload)))
		ae := decodeErr(t, b)
		if resp.StatusCode != 400 || ae.Code != "invalid_document" || ae.Field != c.field ||
			!strings.Contains(ae.Message, "ambiguous-"+name) || !strings.Contains(ae.Message, "ambiguous for JSON readers") {
			t.Errorf("%s: %d %+v", name, resp.StatusCode, ae)
		}
	}
	if n := e.documents(t); n != 0 {
		t.Fatalf("%d documents written", n)
	}
}
