package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/internal/watch"
)

// TestRouteErrorBodies: every route the API serves (its own endpoints,
// the AI-BOM export, the event stream, the page) and every request no
// route matches (unknown path, wrong method) answers an error with the
// one JSON body {"error": {"code", "message"}} and the status its cause
// maps to, whoever wrote the handler.
func TestRouteErrorBodies(t *testing.T) {
	s := openBolt(t)
	q, err := watch.OpenQueue(filepath.Join(t.TempDir(), "watch.db"))
	if err != nil {
		t.Fatal(err)
	}
	w := watch.New(watch.Options{Queue: q, Reader: s})
	t.Cleanup(func() { _ = w.Close() })
	e := startOn(t, Options{Watch: w, Version: "test"}, nil, s)
	doc := fixture(t, "intoto/dataset-raw.intoto.json")
	if resp, b := e.do(t, "POST", "/v1/ingest?source=ok", writeSecret, "", doc); resp.StatusCode != 201 {
		t.Fatalf("ingest: %d %s", resp.StatusCode, b)
	}
	cases := []struct {
		name, method, path, token string
		body                      []byte
		status                    int
		code                      string
		inMessage                 string
	}{
		{"ingest without a token", "POST", "/v1/ingest", "", doc, 401, "unauthenticated", "bearer"},
		{"ingest with a read token", "POST", "/v1/ingest", readSecret, doc, 403, "insufficient_scope", "write"},
		{"ingest of nothing", "POST", "/v1/ingest", writeSecret, nil, 400, "empty", "empty"},
		{"ingest of an unknown format", "POST", "/v1/ingest", writeSecret, []byte(`{"hello":"world"}`), 415, "unsupported_format", ""},
		{"graphql without a token", "POST", "/graphql", "", []byte(`{"query":"{ stats { nodes } }"}`), 401, "unauthenticated", "bearer"},
		{"graphql, wrong method", "DELETE", "/graphql", readSecret, nil, 405, "method_not_allowed", ""},
		{"AI-BOM without a token", "GET", "/v1/aibom/acme/none", "", nil, 401, "unauthenticated", ""},
		{"AI-BOM of an unknown model", "GET", "/v1/aibom/acme/none", readSecret, nil, 404, "not_found", "acme/none"},
		{"AI-BOM of a dataset", "GET", "/v1/aibom/sha256:1111111111111111111111111111111111111111111111111111111111111111", readSecret, nil, 400, "invalid_request", "model, a deployment or an environment"},
		{"AI-BOM in an unknown format", "GET", "/v1/aibom/?environment=prod&format=pdf", readSecret, nil, 400, "invalid_request", "pdf"},
		{"AI-BOM of an unknown CycloneDX version", "GET", "/v1/aibom/?environment=prod&spec=9.9", readSecret, nil, 400, "invalid_request", "9.9"},
		{"AI-BOM of nothing", "GET", "/v1/aibom/", readSecret, nil, 400, "invalid_request", "no model"},
		{"AI-BOM, wrong method", "POST", "/v1/aibom/x", writeSecret, nil, 405, "method_not_allowed", ""},
		{"events without a token", "GET", "/v1/watch/events", "", nil, 401, "unauthenticated", ""},
		{"events after a bad sequence", "GET", "/v1/watch/events?after=soon", readSecret, nil, 400, "bad_request", "after"},
		{"page, wrong method", "POST", "/ui/", "", nil, 405, "method_not_allowed", ""},
		{"health, wrong method", "POST", "/healthz", "", nil, 405, "method_not_allowed", ""},
		{"metrics, wrong method", "DELETE", "/metrics", "", nil, 405, "method_not_allowed", ""},
		{"unknown path", "GET", "/v2/anything", "", nil, 404, "not_found", ""},
		{"unknown path with a token", "GET", "/v1/nothing-here", readSecret, nil, 404, "not_found", ""},
	}
	for _, c := range cases {
		resp, b := e.do(t, c.method, c.path, c.token, "", c.body)
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q %.200s, want %d application/json", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), b, c.status)
			continue
		}
		var body struct {
			Error *apiError `json:"error"`
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil || body.Error == nil {
			t.Errorf("%s: body %s is not the error body: %v", c.name, b, err)
			continue
		}
		if body.Error.Code != c.code || body.Error.Message == "" || !strings.Contains(body.Error.Message, c.inMessage) {
			t.Errorf("%s: error %+v, want code %s and a message naming %q", c.name, *body.Error, c.code, c.inMessage)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no request id (the middleware did not run)", c.name)
		}
		if c.status == 405 && resp.Header.Get("Allow") == "" {
			t.Errorf("%s: 405 without Allow", c.name)
		}
	}
	// Unmatched requests are counted under one route label, not per path.
	if _, b := e.do(t, "GET", "/metrics", "", "", nil); !strings.Contains(string(b), `route="unmatched"`) {
		t.Error(`no route="unmatched" in the metrics`)
	}
	// What succeeds is untouched: the page, the stream's headers.
	if resp, _ := e.do(t, "GET", "/ui/", "", "", nil); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /ui/: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/v1/watch/events?after=latest", nil)
	req.Header.Set("Authorization", "Bearer "+readSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("event stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	cancel()
	resp.Body.Close()
}

// TestReadyzErrorBody: an unready server says why in the error body,
// beside the status probes read.
func TestReadyzErrorBody(t *testing.T) {
	s, err := embedded.Open(filepath.Join(t.TempDir(), "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := startOn(t, Options{}, nil, s)
	_ = s.Close()
	resp, b := e.do(t, "GET", "/readyz", "", "", nil)
	var body struct {
		Status string   `json:"status"`
		Error  apiError `json:"error"`
	}
	if err := json.Unmarshal(b, &body); err != nil || resp.StatusCode != 503 || body.Status != "unavailable" || body.Error.Code != "unavailable" || body.Error.Message == "" {
		t.Fatalf("readyz over a closed store: %d %s (%v)", resp.StatusCode, b, err)
	}
}

// TestEventStreamEndsWhenStopping: an open event stream ends when the
// server begins to shut down (Options.Stopping), so it cannot hold the
// shutdown until its request deadline.
func TestEventStreamEndsWhenStopping(t *testing.T) {
	s := openBolt(t)
	q, err := watch.OpenQueue(filepath.Join(t.TempDir(), "watch.db"))
	if err != nil {
		t.Fatal(err)
	}
	w := watch.New(watch.Options{Queue: q, Reader: s})
	t.Cleanup(func() { _ = w.Close() })
	stopping := make(chan struct{})
	e := startOn(t, Options{Watch: w, Stopping: stopping, Timeout: time.Hour}, nil, s)
	req, _ := http.NewRequest("GET", e.url+"/v1/watch/events?after=latest", nil)
	req.Header.Set("Authorization", "Bearer "+readSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ended := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, resp.Body); ended <- err }()
	select {
	case err := <-ended:
		t.Fatalf("the stream ended before the shutdown: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(stopping)
	select {
	case err := <-ended:
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the stream did not end when the server began stopping")
	}
}
