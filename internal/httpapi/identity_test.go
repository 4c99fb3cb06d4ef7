package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// The receipt says when a document joined nodes: the adapter's OMS
// signature (root digest) and its card (hub id) are two nodes until its
// deployment record names both; that push reports the merge, and no key is
// left unattached.
func TestReceiptReportsMerges(t *testing.T) {
	deploy := envelopetest.NewKeySigner(t)
	omsKey, err := trust.ParsePublicKey(fixture(t, "oms/keys/certificate/signing-key-pub.pem"), "signing-key-pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	pol := &trust.Policy{Rules: []trust.Rule{
		{Name: "oms", Roles: []graph.Role{graph.RoleModelSignature}, Keys: []trust.PublicKey{omsKey}},
		{Name: "deploy", Roles: []graph.Role{graph.RoleDeployment}, Keys: []trust.PublicKey{deploy.PublicKey(t)}},
	}}
	e := startOn(t, Options{MaxBody: 8 << 20}, pol, openBolt(t))
	type receipt struct {
		Documents []struct {
			Merges          []graph.Merge   `json:"merges"`
			KeysNotAttached []graph.KeyNote `json:"keysNotAttached"`
		}
	}
	push := func(name, query string, body []byte) receipt {
		t.Helper()
		resp, b := e.do(t, "POST", "/v1/ingest?source="+name+query, writeSecret, "", body)
		var r receipt
		if resp.StatusCode != 201 || json.Unmarshal(b, &r) != nil || len(r.Documents) != 1 {
			t.Fatalf("push %s: %d %s", name, resp.StatusCode, b)
		}
		if len(r.Documents[0].KeysNotAttached) != 0 {
			t.Errorf("push %s: keys not attached: %+v", name, r.Documents[0].KeysNotAttached)
		}
		return r
	}
	if r := push("oms", "", fixture(t, "oms/v1.1.0-elliptic-key/model.sig")); len(r.Documents[0].Merges) != 0 {
		t.Errorf("oms merged: %+v", r.Documents[0].Merges)
	}
	card := []byte("---\nmodel_name: acme/adapter\nbase_model: acme/llm-7b\nbase_model_relation: adapter\nlibrary_name: peft\n---\n# adapter\n")
	if r := push("card", "", card); len(r.Documents[0].Merges) != 0 {
		t.Errorf("card merged: %+v", r.Documents[0].Merges)
	}
	record := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"acme/adapter","uri":"hf://acme/adapter","digest":{"sha256":"` + strings.TrimPrefix(omsRoot, "sha256:") + `"}}],"predicateType":"https://modelgraph.dev/attestation/deployment/v1","predicate":{"environment":"staging","service":"chat","deployedAt":"2025-05-01T00:00:00Z"}}`)
	r := push("deployment", "", deploy.DSSE(t, envelopetest.InTotoPayloadType, record))
	if m := r.Documents[0].Merges; len(m) != 1 || m[0].Kind != graph.KindModel || len(m[0].Absorbed) != 1 {
		t.Fatalf("deployment record: merges %+v, want the card's model folded into the signed one", m)
	}
}
