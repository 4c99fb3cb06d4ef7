package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/reliability"
)

// TestIngestErrorBodies: every way POST /v1/ingest refuses a document
// answers the one JSON error body ({"error": {code, kind, message,
// document, field, line}}) with the status its kind maps to, whichever
// format package found the problem. The same document error through the
// GraphQL ingest mutation carries the same kind, status, document and
// field in its extensions.
func TestIngestErrorBodies(t *testing.T) {
	e := start(t, Options{MaxBody: 8 << 10})
	stmt := fixture(t, "intoto/dataset-raw.intoto.json")
	card := fixture(t, "modelcard/llm-7b-chat-gguf.md")
	cases := []struct {
		name       string
		body       []byte
		status     int
		code, kind string
		field      string
		line       bool // the body names a line
		wantInMsg  string
	}{
		{"body over the limit", append(bytes.Clone(stmt), bytes.Repeat([]byte(" "), 9<<10)...), 413, "too_large", "too_large", "", false, "8192"},
		{"gzip over the limit once inflated", reliability.GzipSpaces(2 << 20), 413, "too_large", "too_large", "", false, "limit"},
		{"corrupt gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3}, 400, "invalid_document", "malformed", "", false, "gzip"},
		{"truncated JSON", []byte("{\n \"_type\": \"https://in-toto.io/Statement/v1\",\n \"subject\": ["), 400, "malformed_json", "malformed", "", true, "line 3"},
		{"empty", []byte("\n"), 400, "empty", "malformed", "", false, "empty"},
		{"in-toto field of the wrong type", bytes.Replace(stmt, []byte(`"name": "acme/clinical-notes-raw"`), []byte(`"name": 5`), 1), 400, "invalid_document", "malformed", "/predicate/name", false, "name"},
		{"duplicate key", bytes.Replace(stmt, []byte(`"_type":`), []byte(`"predicateType": "x", "_type":`), 1), 400, "invalid_document", "ambiguous", "/predicateType", false, "duplicate"},
		{"model card field", bytes.Replace(card, []byte("license:"), []byte("license:\n  nested: [1, 2]\nx_license:"), 1), 400, "invalid_document", "malformed", "license", true, "license"},
		{"unknown JSON", []byte(`{"hello": "world"}`), 415, "unsupported_format", "unsupported", "", false, "not a sigstore bundle"},
		{"SPDX tag-value", []byte("SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n"), 415, "unsupported_format", "unsupported", "", false, "tag-value"},
		{"SBOM nested too deep", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`), 413, "too_large", "too_large", "", false, "nesting"},
		{"bundle without verification material", []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AAAA"}]}}`), 422, "unverifiable", "unverifiable", "", false, "verificationMaterial"},
	}
	for _, c := range cases {
		resp, b := e.do(t, "POST", "/v1/ingest?source=doc-"+strings.ReplaceAll(c.name, " ", "-"), writeSecret, "", c.body)
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s %.300s, want %d", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), b, c.status)
			continue
		}
		ae := decodeErr(t, b)
		if ae.Code != c.code || ae.Kind != c.kind || ae.Field != c.field || (ae.Line > 0) != c.line ||
			!strings.Contains(ae.Document, "doc-") || !strings.Contains(ae.Message, c.wantInMsg) {
			t.Errorf("%s: body %+v, want code %s kind %s field %q line %v, message naming %q", c.name, ae, c.code, c.kind, c.field, c.line, c.wantInMsg)
		}
	}
	if n := e.documents(t); n != 0 {
		t.Errorf("%d documents written by refused pushes", n)
	}

	// The ingest budget full: 503, the same body, Retry-After.
	budget := ingest.NewBudget(1, 20*time.Millisecond)
	busy := start(t, Options{Pipeline: &ingest.Pipeline{Budget: budget}})
	_, release, err := budget.Acquire(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	resp, b := busy.do(t, "POST", "/v1/ingest?source=queued", writeSecret, "", stmt)
	release()
	if ae := decodeErr(t, b); resp.StatusCode != 503 || ae.Code != "busy" || !strings.HasPrefix(ae.Document, "queued") || resp.Header.Get("Retry-After") == "" {
		t.Errorf("busy: %d %+v", resp.StatusCode, ae)
	}

	// GraphQL: the same document error, in the extensions.
	_, out := gqlPost(t, e, writeSecret, `mutation($d: String!) { ingest(document: $d, source: "gql-doc") { documents { type } } }`,
		map[string]any{"d": string(cases[5].body)})
	errs, _ := out["errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("graphql: %v", out)
	}
	ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
	if ext["kind"] != "malformed" || ext["status"] != json.Number("400") && ext["status"] != float64(400) || ext["field"] != "/predicate/name" || !strings.Contains(ext["document"].(string), "gql-doc") {
		t.Errorf("graphql extensions %v", ext)
	}
}
