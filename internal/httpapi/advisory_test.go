package httpapi

import (
	"strings"
	"testing"
)

// createAdvisory goes through the ingest pipeline: the advisory document it
// records is the one POST /v1/ingest records for the same content (one
// digest: a duplicate), and bad input is BAD_USER_INPUT naming the field.
func TestCreateAdvisoryIsAPushedDocument(t *testing.T) {
	e := start(t, Options{})
	if resp, b := e.do(t, "POST", "/v1/ingest", writeSecret, "", fixture(t, "intoto/dataset-raw.intoto.json")); resp.StatusCode != 201 {
		t.Fatalf("push: %d %s", resp.StatusCode, b)
	}
	_, out := gqlPost(t, e, readSecret, `{ resolve(ref: "acme/clinical-notes-raw@2024-01") { kind keys } }`, nil)
	nodes, _ := out["data"].(map[string]any)["resolve"].([]any)
	if len(nodes) != 1 {
		t.Fatalf("resolve = %v", out)
	}
	key := nodes[0].(map[string]any)["keys"].([]any)[0].(string)

	m := `mutation { createAdvisory(input: {id: "ACME-9", severity: "high", affects: ["acme/clinical-notes-raw@2024-01"]}) { receipt { document duplicate status } } }`
	_, out = gqlPost(t, e, writeSecret, m, nil)
	rc, _ := out["data"].(map[string]any)["createAdvisory"].(map[string]any)["receipt"].(map[string]any)
	if rc == nil || rc["duplicate"] != false || rc["status"] != "unsigned" {
		t.Fatalf("createAdvisory = %v", out)
	}
	// The same advisory pushed as a document is the same document.
	doc := `{"advisoryFormat":"https://modelgraph.dev/advisory/v1","id":"ACME-9","severity":"high","status":"active",` +
		`"affects":[{"kind":"Dataset","key":"` + key + `"}]}`
	resp, b := e.do(t, "POST", "/v1/ingest", writeSecret, "", []byte(doc))
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"duplicate":true`) || !strings.Contains(string(b), rc["document"].(string)) ||
		!strings.Contains(string(b), `"format":"advisory"`) || !strings.Contains(string(b), `"type":"advisory"`) {
		t.Errorf("pushing the advisory document: %d %s (createAdvisory recorded %v)", resp.StatusCode, b, rc["document"])
	}

	for _, c := range []struct{ input, field string }{
		{`{id: "ACME-10", affects: ["no-such-dataset"]}`, "affects[0]"},
		{`{id: "ACME-10", severity: "urgent", affects: ["acme/clinical-notes-raw@2024-01"]}`, "severity"},
		{`{id: "has space", affects: ["acme/clinical-notes-raw@2024-01"]}`, "id"},
	} {
		_, out := gqlPost(t, e, writeSecret, `mutation { createAdvisory(input: `+c.input+`) { receipt { document } } }`, nil)
		errs, _ := out["errors"].([]any)
		if errCode(out) != "BAD_USER_INPUT" || len(errs) == 0 || !strings.Contains(errs[0].(map[string]any)["message"].(string), c.field) {
			t.Errorf("createAdvisory(%s) = %v, want BAD_USER_INPUT naming %s", c.input, out, c.field)
		}
		if ext := errs[0].(map[string]any)["extensions"].(map[string]any); ext["field"] != c.field {
			t.Errorf("createAdvisory(%s): extensions %v, want field %s", c.input, ext, c.field)
		}
	}
}

// A bad AI-BOM request is the caller's error on GraphQL too (BAD_USER_INPUT
// with aibom's message, as GET /v1/aibom answers 400), never INTERNAL.
func TestAIBOMBadRequestIsBadInput(t *testing.T) {
	e := start(t, Options{})
	if resp, b := e.do(t, "POST", "/v1/ingest", writeSecret, "", fixture(t, "intoto/dataset-raw.intoto.json")); resp.StatusCode != 201 {
		t.Fatalf("push: %d %s", resp.StatusCode, b)
	}
	for _, c := range []struct{ args, msg string }{
		{`(ref: "acme/clinical-notes-raw@2024-01")`, "an AI-BOM is exported for a model, a deployment or an environment"},
		{`(ref: "acme/clinical-notes-raw@2024-01", format: "pdf")`, `format "pdf": want cyclonedx-json, cyclonedx-xml or spdx3`},
		{``, "no model, deployment or environment given"},
	} {
		_, out := gqlPost(t, e, readSecret, `{ aibom`+c.args+` { document } }`, nil)
		errs, _ := out["errors"].([]any)
		if errCode(out) != "BAD_USER_INPUT" || len(errs) == 0 || !strings.Contains(errs[0].(map[string]any)["message"].(string), c.msg) {
			t.Errorf("aibom%s = %v, want BAD_USER_INPUT saying %q", c.args, out, c.msg)
		}
	}
}
