package push

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/httpapi"
)

const writeToken = "push-write-token-0123456789"

// serve runs the real API over a fresh store behind wrap; it returns the
// server and a count of stored documents.
func serve(t *testing.T, wrap func(http.Handler) http.Handler) (*Server, func() int64) {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	tokens, err := httpapi.ParseTokensEnv("ci:write:" + writeToken)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = httpapi.New(httpapi.Options{Store: s, Pipeline: &ingest.Pipeline{Store: s, Parser: ingest.NewParser(nil)}, Tokens: tokens})
	if wrap != nil {
		h = wrap(h)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	srv, err := Connect(hs.URL, "", time.Minute, func(string) string { return writeToken }, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Backoff = time.Millisecond
	return srv, func() int64 {
		st, err := s.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return st.Documents
	}
}

const (
	raw     = "../../testdata/intoto/dataset-raw.intoto.json"
	derived = "../../testdata/intoto/dataset-derived.intoto.json"
)

// TestPushRetries: 5xx answers are retried until one succeeds; out of
// retries the file fails with the last answer; a server nobody listens
// on is retried, then reported.
func TestPushRetries(t *testing.T) {
	var calls, failFirst atomic.Int32
	failFirst.Store(2)
	srv, documents := serve(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			if failFirst.Add(-1) >= 0 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	srv.Retries = 5
	res := Push(context.Background(), srv, []string{raw}, Options{})
	if res[0].Error != "" || res[0].Attempts != 3 || res[0].Status != 201 || calls.Load() != 3 {
		t.Fatalf("push through two 503s: %+v (%d calls)", res[0], calls.Load())
	}
	failFirst.Store(100)
	srv.Retries = 2
	res = Push(context.Background(), srv, []string{derived}, Options{})
	if !strings.HasPrefix(res[0].Error, "HTTP 503") || res[0].Attempts != 3 || documents() != 1 {
		t.Errorf("persistent 503: %+v", res[0])
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	srv.Base, srv.Retries = dead.URL, 1
	res = Push(context.Background(), srv, []string{derived}, Options{})
	if !strings.HasPrefix(res[0].Error, "after 2 attempt(s)") {
		t.Errorf("dead server: %+v", res[0])
	}
}

// TestPushResults: results come back in input order with the server's
// receipts; a client error is not retried; a file over MaxBytes is not
// sent; reports are serialised and complete.
func TestPushResults(t *testing.T) {
	var calls atomic.Int32
	srv, documents := serve(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1); h.ServeHTTP(w, r) })
	})
	srv.Retries = 5
	bad := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(bad, []byte("just some notes"), 0o600); err != nil {
		t.Fatal(err)
	}
	var reported atomic.Int32
	res := Push(context.Background(), srv, []string{raw, bad, derived}, Options{Parallel: 3, Report: func(Result) { reported.Add(1) }})
	if len(res) != 3 || res[0].Path != raw || res[1].Path != bad || res[2].Path != derived || reported.Load() != 3 {
		t.Fatalf("results %+v, %d reported", res, reported.Load())
	}
	if res[1].Attempts != 1 || !strings.Contains(res[1].Error, "415 unsupported_format") {
		t.Errorf("unsupported file: %+v", res[1])
	}
	if got := Count(res); got != (Totals{Files: 3, Documents: 2, Failed: 1}) || documents() != 2 || calls.Load() != 3 {
		t.Errorf("totals %+v, %d stored, %d calls", got, documents(), calls.Load())
	}
	line := ReceiptLine(raw, res[0].Receipt.Documents[0])
	if !strings.HasPrefix(line, raw+": dataset-attestation sha256:") || !strings.Contains(line, "nodes and") {
		t.Errorf("receipt line %q", line)
	}
	res = Push(context.Background(), srv, []string{raw}, Options{MaxBytes: 10})
	if !strings.Contains(res[0].Error, "larger than 10 bytes") || res[0].Attempts != 0 || calls.Load() != 3 {
		t.Errorf("oversized file: %+v (%d calls)", res[0], calls.Load())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res := Push(ctx, srv, []string{raw}, Options{}); res[0].Error != context.Canceled.Error() {
		t.Errorf("canceled push: %+v", res[0])
	}
}

// TestConnect: the URL is checked, the token file wins over the
// environment, plain http to another host warns.
func TestConnect(t *testing.T) {
	env := func(string) string { return "from-env" }
	if _, err := Connect("ftp://x", "", time.Second, env, nil); err == nil || !strings.Contains(err.Error(), "--server") {
		t.Errorf("ftp URL: %v", err)
	}
	tok := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(tok, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var warn strings.Builder
	s, err := Connect("http://ci.example/", tok, time.Second, env, &warn)
	if err != nil || s.Token != "from-file" || s.Base != "http://ci.example" || !strings.Contains(warn.String(), "plain http") {
		t.Errorf("token file: %+v %v %q", s, err, warn.String())
	}
	warn.Reset()
	if s, err := Connect("http://127.0.0.1:8080", "", time.Second, env, &warn); err != nil || s.Token != "from-env" || warn.Len() != 0 {
		t.Errorf("loopback: %+v %v %q", s, err, warn.String())
	}
	empty := filepath.Join(t.TempDir(), "empty")
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	if _, err := Connect("https://x", empty, time.Second, env, nil); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty token file: %v", err)
	}
}

// TestOptionsCheck: the flags' ranges, each error naming its flag.
func TestOptionsCheck(t *testing.T) {
	ok := Options{Parallel: 4, Retries: 5, RetryWait: time.Millisecond}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for flag, o := range map[string]Options{
		"--parallel":   {Parallel: 65, RetryWait: time.Second},
		"--retries":    {Parallel: 1, Retries: 21, RetryWait: time.Second},
		"--retry-wait": {Parallel: 1},
	} {
		if err := o.Check(); err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("%+v: %v, want an error naming %s", o, err, flag)
		}
	}
}
