package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/httpapi"
	"github.com/modelgraph/modelgraph/internal/push"
)

const (
	cliWriteToken = "cli-write-token-0123456789"
	cliReadToken  = "cli-read-token-0123456789"
)

// testRoot is the real command tree.
func testRoot() *cobra.Command { return NewRootCommand() }

// runCLI executes the CLI and returns stdout, stderr and the error.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := testRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

type testServer struct {
	url   string
	store *embedded.Store
}

// serveAPI runs the HTTP API over a fresh store, optionally behind wrap.
func serveAPI(t *testing.T, wrap func(http.Handler) http.Handler) testServer {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	tokens, err := httpapi.ParseTokensEnv("ci:write:" + cliWriteToken + ",responder:read:" + cliReadToken)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = httpapi.New(httpapi.Options{Store: s, Pipeline: &ingest.Pipeline{Store: s, Parser: ingest.NewParser(nil)}, Tokens: tokens})
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return testServer{url: srv.URL, store: s}
}

func tokenFile(t *testing.T, token string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (s testServer) documents(t *testing.T) int64 {
	t.Helper()
	st, err := s.store.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Documents
}

func TestPush(t *testing.T) {
	srv := serveAPI(t, nil)
	tok := tokenFile(t, cliWriteToken)
	bad := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(bad, []byte("just some notes"), 0o600); err != nil {
		t.Fatal(err)
	}
	raw, derived := "../../testdata/intoto/dataset-raw.intoto.json", "../../testdata/intoto/dataset-derived.intoto.json"
	out, _, err := runCLI(t, "push", "--server", srv.url, "--token-file", tok, raw, derived, bad)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("push with a bad file: error %v, want exit status 1", err)
	}
	for _, want := range []string{
		raw + ": dataset-attestation sha256:",
		derived + ": dataset-attestation sha256:",
		bad + ": FAILED: HTTP 415 unsupported_format:",
		"pushed 3 file(s): 2 new document(s), 0 duplicate(s), 1 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := srv.documents(t); n != 2 {
		t.Fatalf("%d documents stored, want 2", n)
	}
	// Again, as JSON: duplicates, nothing new, exit 0.
	out, _, err = runCLI(t, "push", "--server", srv.url, "--token-file", tok, "--output", "json", raw, derived)
	if err != nil {
		t.Fatal(err)
	}
	var results []push.Result
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatalf("json output %s: %v", out, err)
	}
	if len(results) != 2 || results[0].Status != 200 || !results[0].Receipt.Documents[0].Duplicate || results[0].Attempts != 1 || srv.documents(t) != 2 {
		t.Errorf("second push = %+v", results)
	}
	// A read-only token is refused and not retried.
	out, _, err = runCLI(t, "push", "--server", srv.url, "--token-file", tokenFile(t, cliReadToken), "--retry-wait", "1ms", raw)
	if err == nil || !strings.Contains(out, "FAILED: HTTP 403 insufficient_scope") {
		t.Errorf("read token push: %v\n%s", err, out)
	}
	// The environment supplies the token when no file is given.
	t.Setenv("MODELGRAPH_TOKEN", cliWriteToken)
	if _, _, err := runCLI(t, "push", "--server", srv.url, raw); err != nil {
		t.Errorf("token from MODELGRAPH_TOKEN: %v", err)
	}
	if _, _, err := runCLI(t, "push", raw); err == nil || !strings.Contains(err.Error(), "--server is required") {
		t.Errorf("push without --server: %v", err)
	}
}
