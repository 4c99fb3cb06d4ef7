package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var binOnce struct {
	sync.Once
	path string
	err  error
}

// binary builds cmd/modelgraph once per test process.
func binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mg-bin-")
		if err != nil {
			binOnce.err = err
			return
		}
		binOnce.path = filepath.Join(dir, "modelgraph")
		out, err := exec.Command("go", "build", "-o", binOnce.path, "../../cmd/modelgraph").CombinedOutput()
		if err != nil {
			binOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binOnce.err != nil {
		t.Fatal(binOnce.err)
	}
	return binOnce.path
}

// server is a running `modelgraph serve` process.
type server struct {
	cmd  *exec.Cmd
	base string
	done chan error
}

// startServer runs serve on dataDir and waits until it listens.
func startServer(t testing.TB, dataDir string, extra ...string) *server {
	t.Helper()
	return startServerIn(t, "", dataDir, extra...)
}

// startServerIn is startServer with the process placed in a cgroup first
// (procs: the cgroup's cgroup.procs file; "" for none): a shell writes its
// own pid there, then execs serve, so serve never runs outside it.
func startServerIn(t testing.TB, procs, dataDir string, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "error"}, extra...)
	cmd := exec.Command(binary(t), args...)
	if procs != "" {
		cmd = exec.Command("sh", append([]string{"-c", `echo $$ > "$0" && exec "$@"`, procs, binary(t)}, args...)...)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`listening on (http://\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	go func() { s.done <- cmd.Wait() }()
	select {
	case s.base = <-addr:
	case err := <-s.done:
		t.Fatalf("serve exited before listening: %v", err)
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("serve did not start within 60s")
	}
	return s
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

func (s *server) stop(t testing.TB) {
	t.Helper()
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.kill()
		t.Fatal("serve did not stop on SIGINT within 60s")
	}
}

// receipt is the part of the push endpoint's answer the harness needs.
type receipt struct {
	Document  string `json:"document"`
	Duplicate bool   `json:"duplicate"`
}

// errBusy: the server answered 503 (its ingest budget was full) every
// time push asked.
var errBusy = errors.New("push: server busy (503) after retries")

// push sends one document and returns the acknowledged document digests.
// A 503 (the ingest budget is full) is retried after its Retry-After, a
// few times, as a well-behaved client does.
func push(ctx context.Context, client *http.Client, base string, body []byte) ([]receipt, error) {
	for range 5 {
		rs, retry, err := pushOnce(ctx, client, base, body)
		if retry == 0 {
			return rs, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(retry):
		}
	}
	return nil, errBusy
}

func pushOnce(ctx context.Context, client *http.Client, base string, body []byte) ([]receipt, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/ingest", strings.NewReader(string(body)))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/vnd.in-toto+json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return nil, time.Duration(max(secs, 1)) * time.Second, nil
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return nil, 0, fmt.Errorf("push: %d %s", resp.StatusCode, raw)
	}
	rs, err := decodeReceipts(raw)
	return rs, 0, err
}

// decodeReceipts collects every receipt object ({"document": "sha256:...",
// "duplicate": bool, ...}) in the endpoint's answer, whatever wraps it.
func decodeReceipts(raw []byte) ([]receipt, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("receipt is not JSON: %w", err)
	}
	var out []receipt
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			if d, ok := t["document"].(string); ok && strings.HasPrefix(d, "sha256:") {
				if _, ok := t["duplicate"]; ok {
					dup, _ := t["duplicate"].(bool)
					out = append(out, receipt{Document: d, Duplicate: dup})
					return
				}
			}
			for _, y := range t {
				walk(y)
			}
		case []any:
			for _, y := range t {
				walk(y)
			}
		}
	}
	walk(v)
	if len(out) == 0 {
		return nil, fmt.Errorf("no receipt in answer: %.200s", raw)
	}
	return out, nil
}
