package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/trust"
	"github.com/modelgraph/modelgraph/internal/testserve"
)

const (
	writeSecret = "write-secret-0123456789"
	readSecret  = "read-secret-0123456789"
)

type env struct {
	url   string
	store graph.Store
	srv   *httptest.Server
	log   *bytes.Buffer
}

type syncBuf struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// start serves New(o) over a real listener; o gets a fresh store and
// pipeline, and the ci (read+write) and viewer (read) tokens unless
// o.Tokens is set.
func start(t *testing.T, o Options) *env {
	t.Helper()
	return startTrusting(t, o, nil)
}

// startTrusting is start with a trust policy for signatures.
func startTrusting(t *testing.T, o Options, pol *trust.Policy) *env {
	t.Helper()
	return startOn(t, o, pol, openBolt(t))
}

// openBolt is an embedded store checked for invariants at cleanup.
func openBolt(t *testing.T) graph.Store {
	t.Helper()
	return testserve.Embedded(t)
}

// startOn serves the API over store s.
func startOn(t *testing.T, o Options, pol *trust.Policy, s graph.Store) *env {
	t.Helper()
	o.Store = s
	if o.MaxBody == 0 {
		o.MaxBody = 1 << 20
	}
	var budget *ingest.Budget
	if o.Pipeline != nil { // only its Budget is kept
		budget = o.Pipeline.Budget
	}
	var w graph.Writer = s
	if o.Health != nil {
		w = o.Health
	}
	o.Pipeline = &ingest.Pipeline{Store: w, Parser: ingest.NewParser(pol), MaxBytes: o.MaxBody, Budget: budget}
	if o.Tokens == nil {
		tk, err := ParseTokensEnv("ci:read+write:" + writeSecret + ",viewer:read:" + readSecret)
		if err != nil {
			t.Fatal(err)
		}
		o.Tokens = tk
	}
	buf := &syncBuf{}
	o.Log = slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewServer(New(o))
	t.Cleanup(srv.Close)
	return &env{url: srv.URL, store: s, srv: srv, log: &buf.Buffer}
}

func (e *env) do(t *testing.T, method, path, token, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func (e *env) documents(t *testing.T) int64 {
	t.Helper()
	st, err := e.store.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Documents
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type errBody struct {
	Error apiError `json:"error"`
}

func decodeErr(t *testing.T, b []byte) apiError {
	t.Helper()
	var e errBody
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("error body %s: %v", b, err)
	}
	return e.Error
}

func TestHealthWithoutToken(t *testing.T) {
	e := start(t, Options{Version: "1.2.3"})
	resp, b := e.do(t, "GET", "/healthz", "", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"version":"1.2.3"`) {
		t.Errorf("healthz = %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.do(t, "GET", "/readyz", "", "", nil); resp.StatusCode != 200 {
		t.Errorf("readyz = %d", resp.StatusCode)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no request id")
	}
}

func TestPushAuth(t *testing.T) {
	e := start(t, Options{})
	doc := fixture(t, "intoto/dataset-raw.intoto.json")
	resp, b := e.do(t, "POST", "/v1/ingest", "", "", doc)
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") || decodeErr(t, b).Code != "unauthenticated" {
		t.Errorf("no token: %d %s", resp.StatusCode, b)
	}
	resp, _ = e.do(t, "POST", "/v1/ingest", "not-a-configured-token", "", doc)
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("unknown token: %d", resp.StatusCode)
	}
	resp, b = e.do(t, "POST", "/v1/ingest", readSecret, "", doc)
	if resp.StatusCode != 403 || decodeErr(t, b).Code != "insufficient_scope" {
		t.Errorf("read-only token: %d %s", resp.StatusCode, b)
	}
	if n := e.documents(t); n != 0 {
		t.Fatalf("%d documents written by refused pushes", n)
	}
	resp, b = e.do(t, "POST", "/v1/ingest?source=ci/dataset-raw.json", writeSecret, "application/vnd.in-toto+json", doc)
	if resp.StatusCode != 201 {
		t.Fatalf("write token: %d %s", resp.StatusCode, b)
	}
	var rc struct {
		Documents []struct {
			Source, Format, Document, Type, PredicateType, Status string
			Duplicate                                             bool
			NodesCreated, EdgesCreated                            int
			Signatures                                            []any
		}
	}
	if err := json.Unmarshal(b, &rc); err != nil {
		t.Fatal(err)
	}
	d := rc.Documents[0]
	if len(rc.Documents) != 1 || d.Document != graph.SHA256Key(doc) || d.Format != "in-toto" || d.Type != "dataset-attestation" ||
		d.PredicateType != "https://modelgraph.dev/attestation/dataset/v1" || d.Status != "unsigned" || d.Duplicate || d.NodesCreated == 0 ||
		d.Source != "ci/dataset-raw.json (pushed by ci)" || d.Signatures == nil {
		t.Errorf("receipt = %s", b)
	}
	// Idempotent: the same bytes again change nothing.
	resp, b = e.do(t, "POST", "/v1/ingest", writeSecret, "", doc)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"duplicate":true`) || e.documents(t) != 1 {
		t.Errorf("second push: %d %s (%d documents)", resp.StatusCode, b, e.documents(t))
	}
	if !strings.Contains(e.log.String(), `"caller":"ci"`) || !strings.Contains(e.log.String(), `"route":"/v1/ingest"`) {
		t.Errorf("access log lacks caller or route: %s", e.log.String())
	}
}

func TestPushRejects(t *testing.T) {
	e := start(t, Options{MaxBody: 4096})
	big := append(fixture(t, "intoto/dataset-raw.intoto.json"), bytes.Repeat([]byte(" "), 5000)...)
	badField := bytes.Replace(fixture(t, "intoto/dataset-raw.intoto.json"), []byte(`"name": "acme/clinical-notes-raw"`), []byte(`"name": 5`), 1)
	cases := []struct {
		name   string
		body   []byte
		query  string
		status int
		code   string
		field  string
	}{
		{"oversized", big, "", 413, "too_large", ""},
		{"truncated JSON", []byte("{\n  \"_type\": \"https://in-toto.io/Statement/v1\",\n  \"subject\": ["), "", 400, "malformed_json", ""},
		{"wrong field type", badField, "?source=bad.json", 400, "invalid_document", "/predicate/name"},
		{"unknown format", []byte("hello, this is not a supply-chain document"), "", 415, "unsupported_format", ""},
		{"unknown JSON", []byte(`{"hello": "world"}`), "", 415, "unsupported_format", ""},
		{"empty", []byte("  \n"), "", 400, "empty", ""},
		{"bad subject", []byte(`{}`), "?subject=latest", 400, "invalid_parameter", "subject"},
		{"bad role", []byte(`{}`), "?role=laptop", 400, "invalid_parameter", "role"},
	}
	for _, c := range cases {
		resp, b := e.do(t, "POST", "/v1/ingest"+c.query, writeSecret, "", c.body)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d %s, want %d", c.name, resp.StatusCode, b, c.status)
			continue
		}
		ae := decodeErr(t, b)
		if ae.Code != c.code || ae.Field != c.field || ae.Message == "" {
			t.Errorf("%s: error %+v, want code %s field %q", c.name, ae, c.code, c.field)
		}
		if c.name == "truncated JSON" && (ae.Line != 3 || ae.Offset == 0) {
			t.Errorf("truncated JSON: error %+v does not locate the problem", ae)
		}
		if c.name == "wrong field type" && !strings.Contains(ae.Document, "bad.json") {
			t.Errorf("wrong field: document %q does not name the push", ae.Document)
		}
	}
	if n := e.documents(t); n != 0 {
		t.Fatalf("%d documents written by rejected pushes", n)
	}
}

func gqlPost(t *testing.T, e *env, token, q string, vars map[string]any) (*http.Response, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	resp, b := e.do(t, "POST", "/graphql", token, "application/json", body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("graphql response %d %s: %v", resp.StatusCode, b, err)
	}
	return resp, out
}

func errCode(out map[string]any) string {
	errs, _ := out["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
	code, _ := ext["code"].(string)
	return code
}

func TestGraphQL(t *testing.T) {
	e := start(t, Options{})
	for _, f := range []string{"intoto/dataset-raw.intoto.json", "intoto/dataset-derived.intoto.json"} {
		if resp, b := e.do(t, "POST", "/v1/ingest", writeSecret, "", fixture(t, f)); resp.StatusCode != 201 {
			t.Fatalf("push %s: %d %s", f, resp.StatusCode, b)
		}
	}
	q := `query($ref: String!) { resolve(ref: $ref) { kind name identity { status verified describedBy { type status } } } }`
	if resp, _ := gqlPost(t, e, "", q, map[string]any{"ref": "acme/clinical-notes@v3"}); resp.StatusCode != 401 {
		t.Errorf("graphql without token: %d", resp.StatusCode)
	}
	resp, out := gqlPost(t, e, readSecret, q, map[string]any{"ref": "acme/clinical-notes@v3"})
	want := `{"data":{"resolve":[{"identity":{"describedBy":[{"status":"unsigned","type":"dataset-attestation"}],"status":"unsigned","verified":false},"kind":"Dataset","name":"acme/clinical-notes@v3"}]}}`
	if got, _ := json.Marshal(out); resp.StatusCode != 200 || string(got) != want {
		t.Errorf("resolve = %d %s\nwant %s", resp.StatusCode, got, want)
	}
	// Trace from the derived dataset to its source, with evidence per hop.
	q = `{ trace(ref: "acme/clinical-notes@v3") { totalCount reached { node { name } path { kind status evidence { type } } } } }`
	_, out = gqlPost(t, e, readSecret, q, nil)
	got, _ := json.Marshal(out)
	want = `{"data":{"trace":{"reached":[{"node":{"name":"acme/clinical-notes-raw@2024-01"},"path":[{"evidence":[{"type":"dataset-attestation"}],"kind":"DERIVED_FROM","status":"unsigned"}]}],"totalCount":1}}}`
	if string(got) != want {
		t.Errorf("trace = %s\nwant %s", got, want)
	}
	// Errors carry codes.
	_, out = gqlPost(t, e, readSecret, `{ trace(ref: "nothing-like-this") { totalCount } }`, nil)
	if errCode(out) != "NOT_FOUND" {
		t.Errorf("unknown ref: %v", out)
	}
	_, out = gqlPost(t, e, readSecret, `{ affectedByPackage(purl: "pkg:pypi/torch", range: ">>1") { totalCount } }`, nil)
	if errCode(out) != "BAD_USER_INPUT" {
		t.Errorf("bad range: %v", out)
	}
	// Mutations need the write scope; nothing changes when refused.
	m := `mutation { createAdvisory(input: {id: "ACME-1", severity: "high", affects: ["acme/clinical-notes-raw@2024-01"]}) { receipt { duplicate status } advisory { id active affects { to { name } } } } }`
	before := e.documents(t)
	_, out = gqlPost(t, e, readSecret, m, nil)
	if errCode(out) != "FORBIDDEN" || e.documents(t) != before {
		t.Errorf("mutation with read token: %v", out)
	}
	_, out = gqlPost(t, e, writeSecret, m, nil)
	got, _ = json.Marshal(out)
	want = `{"data":{"createAdvisory":{"advisory":{"active":true,"affects":[{"to":{"name":"acme/clinical-notes-raw@2024-01"}}],"id":"ACME-1"},"receipt":{"duplicate":false,"status":"unsigned"}}}}`
	if string(got) != want || e.documents(t) != before+1 {
		t.Errorf("createAdvisory = %s\nwant %s", got, want)
	}
	// Ingest through GraphQL.
	_, out = gqlPost(t, e, writeSecret, `mutation($d: String!) { ingest(document: $d, source: "gql.json") { documents { type duplicate source } } }`,
		map[string]any{"d": string(fixture(t, "intoto/deployment-staging.intoto.json"))})
	got, _ = json.Marshal(out)
	if want = `{"data":{"ingest":{"documents":[{"duplicate":false,"source":"gql.json (pushed by ci)","type":"deployment-record"}]}}}`; string(got) != want {
		t.Errorf("ingest mutation = %s", got)
	}
	// Queries over GET work; mutations over GET do not.
	resp, b := e.do(t, "GET", "/graphql?query="+urlEscape(`{stats{documents}}`), readSecret, "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"documents":4`) {
		t.Errorf("GET query = %d %s", resp.StatusCode, b)
	}
	resp, b = e.do(t, "GET", "/graphql?query="+urlEscape(m), writeSecret, "", nil)
	if !strings.Contains(string(b), "errors") || e.documents(t) != 4 {
		t.Errorf("GET mutation = %d %s", resp.StatusCode, b)
	}
	// GraphiQL for browsers.
	req, _ := http.NewRequest("GET", e.url+"/graphql", nil)
	req.Header.Set("Accept", "text/html")
	hresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(hresp.Body)
	hresp.Body.Close()
	if hresp.StatusCode != 200 || !strings.Contains(strings.ToLower(string(page)), "graphiql") {
		t.Errorf("GraphiQL page = %d", hresp.StatusCode)
	}
}

func urlEscape(s string) string {
	return strings.NewReplacer("%", "%25", " ", "%20", "{", "%7B", "}", "%7D", "\"", "%22", "(", "%28", ")", "%29", ":", "%3A", "[", "%5B", "]", "%5D", ",", "%2C", "\n", "%0A", "$", "%24", "!", "%21").Replace(s)
}

func TestGraphQLLimits(t *testing.T) {
	e := start(t, Options{MaxDepth: 8, MaxComplexity: 5000})
	deep := `{ __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }`
	resp, out := gqlPost(t, e, readSecret, deep, nil)
	if resp.StatusCode != 400 || errCode(out) != "DEPTH_LIMIT_EXCEEDED" {
		t.Errorf("deep query: %d %v", resp.StatusCode, out)
	}
	// Hidden in a fragment.
	frag := `query { __schema { ...T } } fragment T on __Schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } }`
	if resp, out = gqlPost(t, e, readSecret, frag, nil); resp.StatusCode != 400 || errCode(out) != "DEPTH_LIMIT_EXCEEDED" {
		t.Errorf("deep fragment: %d %v", resp.StatusCode, out)
	}
	wide := `{ a: trace(ref: "x", first: 1000) { reached { node { name } path { kind } } } b: impact(ref: "x", first: 1000) { reached { node { name } } } }`
	if resp, out = gqlPost(t, e, readSecret, wide, nil); resp.StatusCode != 400 || errCode(out) != "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Errorf("complex query: %d %v", resp.StatusCode, out)
	}
	m := `mutation { a: ingest(document: "{}") { documents { type } } b: ingest(document: "{}") { documents { type } } c: ingest(document: "{}") { documents { type } } d: ingest(document: "{}") { documents { type } } e: ingest(document: "{}") { documents { type } } }`
	if resp, out = gqlPost(t, e, writeSecret, m, nil); resp.StatusCode != 400 || errCode(out) != "COMPLEXITY_LIMIT_EXCEEDED" || e.documents(t) != 0 {
		t.Errorf("complex mutation: %d %v", resp.StatusCode, out)
	}
	// The standard introspection query fits the default limits.
	e2 := start(t, Options{})
	if resp, out = gqlPost(t, e2, readSecret, introspection, nil); resp.StatusCode != 200 || out["errors"] != nil {
		t.Errorf("introspection: %d %v", resp.StatusCode, out["errors"])
	}
}

const introspection = `query IntrospectionQuery { __schema { queryType { name } mutationType { name } types { ...FullType } directives { name locations args { ...InputValue } } } }
fragment FullType on __Type { kind name fields(includeDeprecated: true) { name args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue } interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name } possibleTypes { ...TypeRef } }
fragment InputValue on __InputValue { name type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }`

func TestMetrics(t *testing.T) {
	e := start(t, Options{})
	e.do(t, "POST", "/v1/ingest", writeSecret, "", fixture(t, "intoto/dataset-raw.intoto.json"))
	e.do(t, "POST", "/v1/ingest", writeSecret, "", fixture(t, "intoto/dataset-raw.intoto.json"))
	e.do(t, "POST", "/v1/ingest", writeSecret, "", []byte("not a document"))
	e.do(t, "POST", "/v1/ingest", "", "", nil)
	resp, b := e.do(t, "GET", "/metrics", "", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("metrics = %d", resp.StatusCode)
	}
	for _, line := range []string{
		`modelgraph_http_requests_total{code="201",method="POST",route="/v1/ingest"} 1`,
		`modelgraph_http_requests_total{code="200",method="POST",route="/v1/ingest"} 1`,
		`modelgraph_http_requests_total{code="415",method="POST",route="/v1/ingest"} 1`,
		`modelgraph_http_requests_total{code="401",method="POST",route="/v1/ingest"} 1`,
		`modelgraph_ingested_documents_total{format="in-toto",status="unsigned"} 1`,
		`modelgraph_ingested_documents_total{format="in-toto",status="duplicate"} 1`,
		`modelgraph_ingest_rejected_total{code="415"} 1`,
		`modelgraph_http_request_duration_seconds_count{method="POST",route="/v1/ingest"} 4`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(b), line) {
			t.Errorf("metrics lack %s", line)
		}
	}
}

func TestExtraRoutesTimeoutsAndPanics(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	e := start(t, Options{Timeout: 5 * time.Second, Routes: []Route{
		{Pattern: "GET /v1/extra/{ref}", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, hasDeadline := r.Context().Deadline()
			c, _ := CallerFrom(r.Context())
			writeJSON(w, 200, map[string]any{"ref": r.PathValue("ref"), "deadline": hasDeadline, "caller": c.Name})
		})},
		{Pattern: "GET /slow", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			entered <- struct{}{}
			<-release
			writeJSON(w, 200, map[string]string{"done": "yes"})
		})},
		{Pattern: "GET /boom", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") })},
		{Pattern: "POST /admin", Scope: ScopeWrite, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })},
	}})
	if resp, _ := e.do(t, "GET", "/v1/extra/acme", "", "", nil); resp.StatusCode != 401 {
		t.Errorf("extra route without token: %d", resp.StatusCode)
	}
	resp, b := e.do(t, "GET", "/v1/extra/acme", readSecret, "", nil)
	if resp.StatusCode != 200 || string(b) != `{"caller":"viewer","deadline":true,"ref":"acme"}`+"\n" {
		t.Errorf("extra route: %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.do(t, "POST", "/admin", readSecret, "", nil); resp.StatusCode != 403 {
		t.Errorf("write route with read token: %d", resp.StatusCode)
	}
	resp, b = e.do(t, "GET", "/boom", readSecret, "", nil)
	if resp.StatusCode != 500 || decodeErr(t, b).Code != "internal" {
		t.Errorf("panic: %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.do(t, "GET", "/healthz", "", "", nil); resp.StatusCode != 200 {
		t.Error("server did not survive a panicking handler")
	}
	// Graceful shutdown lets an in-flight request finish.
	got := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", e.url+"/slow", nil)
		req.Header.Set("Authorization", "Bearer "+readSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- -1
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	<-entered
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- e.srv.Config.Shutdown(ctx)
	}()
	time.Sleep(50 * time.Millisecond)
	close(release)
	if code := <-got; code != 200 {
		t.Errorf("in-flight request during shutdown: %d", code)
	}
	if err := <-shut; err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("shutdown: %v", err)
	}
}

func TestOpenModeWarns(t *testing.T) {
	e := start(t, Options{Tokens: &Tokens{}})
	if !strings.Contains(e.log.String(), "the API is OPEN") {
		t.Errorf("no warning about the open API in %s", e.log.String())
	}
	if resp, b := e.do(t, "POST", "/v1/ingest", "", "", fixture(t, "intoto/dataset-raw.intoto.json")); resp.StatusCode != 201 {
		t.Errorf("open mode push: %d %s", resp.StatusCode, b)
	}
	_, out := gqlPost(t, e, "", `{ stats { documents } }`, nil)
	if got, _ := json.Marshal(out); string(got) != `{"data":{"stats":{"documents":1}}}` {
		t.Errorf("open mode query: %s", got)
	}
}
