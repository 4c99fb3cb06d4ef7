package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer lets the test read what the running command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `modelgraph serve` on a free port and returns its base URL.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	return runServe(t, args...).wait(t, `listening on (http://\S+)`)
}

// running is `modelgraph serve` run in process until the test ends.
type running struct {
	out    *syncBuffer   // what serve writes
	exited chan struct{} // closed when serve has returned
	err    error         // what it returned, set before exited closes
}

// runServe runs `modelgraph serve` in process, on a free port with a fresh
// data dir and warnings-only logs, args added; it is cancelled when the
// test ends and must then exit cleanly.
func runServe(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{out: &syncBuffer{}, exited: make(chan struct{})}
	root := NewRootCommand()
	root.SetArgs(append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "warn"}, args...))
	root.SetOut(r.out)
	root.SetErr(r.out)
	go func() {
		r.err = root.ExecuteContext(ctx)
		close(r.exited)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.exited:
			if r.err != nil {
				t.Errorf("serve exited with %v", r.err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not shut down")
		}
	})
	return r
}

// wait waits up to 20 s for serve's output to match re and returns the
// first submatch; serve exiting first, or no match, fails the test.
func (r *running) wait(t *testing.T, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := rx.FindStringSubmatch(r.out.String()); m != nil {
			return m[1]
		}
		select {
		case <-r.exited:
			t.Fatalf("serve exited early: %v; output: %s", r.err, r.out.String())
		default:
		}
	}
	t.Fatalf("serve did not start; output: %s", r.out.String())
	return ""
}

func TestServeHealthAndReady(t *testing.T) {
	base := startServe(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || (body["status"] != "ok" && body["status"] != "ready") {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, body)
		}
	}
}

func TestServeRejectsBadSettings(t *testing.T) {
	root := NewRootCommand()
	root.SetArgs([]string{"serve", "--log-format", "xml", "--data-dir", filepath.Join(t.TempDir(), "d")})
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "log-format") {
		t.Fatalf("error %v, want a log-format complaint", err)
	}
}

func TestVersion(t *testing.T) {
	root := NewRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "modelgraph ") {
		t.Fatalf("version output %q", out.String())
	}
}

// With tokens configured, the page is public (it holds no data) while the
// API behind it needs a token.
func TestServeUIPublicAPIGuarded(t *testing.T) {
	t.Setenv("MODELGRAPH_TOKENS", "ci:read+write:serve-test-token-0123456789")
	base := startServe(t)
	resp, err := http.Get(base + "/ui/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /ui/: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, err = http.Post(base+"/graphql", "application/json", strings.NewReader(`{"query":"{ stats { nodes } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST /graphql without a token: %d, want 401", resp.StatusCode)
	}
}
