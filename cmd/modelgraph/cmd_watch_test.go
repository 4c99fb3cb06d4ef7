package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/httpapi"
	"github.com/modelgraph/modelgraph/internal/watch"
)

// TestWatchStreams: `modelgraph watch` prints the events the server's
// watcher finds, and resumes after the server ends the stream (its
// request deadline, 1s here) without missing or repeating one.
func TestWatchStreams(t *testing.T) {
	dir := t.TempDir()
	s, err := embedded.Open(filepath.Join(dir, "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	q, err := watch.OpenQueue(filepath.Join(dir, "watch.db"))
	if err != nil {
		t.Fatal(err)
	}
	w := watch.New(watch.Options{Queue: q, Reader: s})
	w.Start(context.Background())
	t.Cleanup(func() { _ = w.Close() })
	tokens, err := httpapi.ParseTokensEnv("ci:write:" + cliWriteToken + ",responder:read:" + cliReadToken)
	if err != nil {
		t.Fatal(err)
	}
	pipe := &ingest.Pipeline{Store: w.Writer(s), Parser: ingest.NewParser(nil)}
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Store: s, Pipeline: pipe, Tokens: tokens, Timeout: time.Second, Watch: w}))
	t.Cleanup(srv.Close)
	record := func(model, env string) []byte {
		return []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"acme/` + model + `","digest":{"sha256":"` +
			strings.Repeat(model[:1], 64) + `"}}],"predicateType":"https://modelgraph.dev/attestation/deployment/v1","predicate":{"environment":"` +
			env + `","cluster":"c","namespace":"ml","service":"` + model + `","deployedAt":"2026-01-01T00:00:00Z"}}`)
	}
	if _, err := pipe.Ingest(context.Background(), ingest.Input{Data: record("a", "production"), Source: "a"}); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(1500 * time.Millisecond) // after the first stream ended
		_, _ = pipe.Ingest(context.Background(), ingest.Input{Data: record("b", "staging"), Source: "b"})
	}()
	t.Setenv("MODELGRAPH_TOKEN", cliReadToken)
	out, _, err := runCLI(t, "watch", "--server", srv.URL, "--json", "--count", "4")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e watch.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, e.Kind+" "+e.Trust+" "+e.Environment+" "+e.Model)
	}
	want := []string{"unverified-deployment unsigned production acme/a", "posture-drop  production ",
		"unverified-deployment unsigned staging acme/b", "posture-drop  staging "}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("watch printed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Text form, and a token without access is refused (no retry loop).
	out, _, err = runCLI(t, "watch", "--server", srv.URL, "--count", "1", "--after", "0")
	if err != nil || !strings.Contains(out, "unverified-deployment") || !strings.Contains(out, "acme/a") {
		t.Errorf("text output %q (%v)", out, err)
	}
	t.Setenv("MODELGRAPH_TOKEN", "not-a-token-0123456789")
	if _, _, err := runCLI(t, "watch", "--server", srv.URL, "--count", "1"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("bad token: %v", err)
	}
}
