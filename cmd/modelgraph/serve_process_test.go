package main

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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binDir holds the binary the process tests build (removed by TestMain).
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary builds modelgraph once for the process tests.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "modelgraph-bin-")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "modelgraph")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", errors.New(string(out))
	}
	return bin, nil
})

// serveProcess is `modelgraph serve` running as a process, with its JSON
// log lines.
type serveProcess struct {
	cmd  *exec.Cmd
	base string
	mu   sync.Mutex
	logs []map[string]any
	text strings.Builder // stderr lines that are not JSON
	done chan struct{}
}

func startServeProcess(t *testing.T, args ...string) *serveProcess {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatalf("go build: %v", err)
	}
	p := &serveProcess{done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-format", "json"}, args...)...)
	p.cmd.Env = append(os.Environ(), "MODELGRAPH_TOKENS=")
	stdout, _ := p.cmd.StdoutPipe()
	stderr, _ := p.cmd.StderrPipe()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			p.mu.Lock()
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.logs = append(p.logs, m)
			} else {
				p.text.WriteString(sc.Text() + "\n")
			}
			p.mu.Unlock()
		}
		_ = p.cmd.Wait()
		close(p.done)
	}()
	re := regexp.MustCompile(`listening on (http://\S+)`)
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(60 * time.Second)
	for p.base == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				<-p.done
				t.Fatalf("serve ended before listening: %s %v", p.text.String(), p.logs)
			}
			if m := re.FindStringSubmatch(l); m != nil {
				p.base = m[1]
			}
		case <-timeout:
			t.Fatal("serve did not start")
		}
	}
	go func() {
		for range lines {
		}
	}()
	return p
}

// waitLog waits for a log line whose msg is msg.
func (p *serveProcess) waitLog(t *testing.T, msg string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if p.index(msg, "") >= 0 {
			return
		}
	}
	t.Fatalf("no %q in the logs: %v", msg, p.snapshot())
}

// index is the position of the first log line with msg (and part, when
// given), -1 when there is none.
func (p *serveProcess) index(msg, part string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, m := range p.logs {
		if m["msg"] == msg && (part == "" || m["part"] == part) {
			return i
		}
	}
	return -1
}

func (p *serveProcess) snapshot() []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]map[string]any(nil), p.logs...)
}

// waitInFlight waits until the server is serving n requests at once
// (modelgraph_http_requests_in_flight, this scrape included).
func (p *serveProcess) waitInFlight(t *testing.T, n int) {
	t.Helper()
	want := fmt.Sprintf("modelgraph_http_requests_in_flight %d\n", n)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(p.base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), want) {
			return
		}
	}
	t.Fatalf("the server never served %d requests at once", n)
}

// exit waits for the process to end and returns its exit code.
func (p *serveProcess) exit(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(within):
		t.Fatalf("serve still running after %s; logs %v", within, p.snapshot())
		return -1
	}
}

// TestServeStopsInOrder: at SIGINT, serve (a real process) drains the
// listener, then stops the collectors, then the watcher, and closes the
// store last, and exits 0. An open event stream ends at the shutdown
// rather than holding it past --shutdown-timeout (which would be an
// error: "did not stop in time", exit status 1).
func TestServeStopsInOrder(t *testing.T) {
	evidence := t.TempDir()
	if err := os.WriteFile(filepath.Join(evidence, "d.intoto.json"), datasetDoc(1), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServeProcess(t, "--collect", "dir:"+evidence, "--shutdown-timeout", "5s")
	p.waitLog(t, "collector started")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", p.base+"/v1/watch/events?after=latest", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("event stream: %d", resp.StatusCode)
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := p.exit(t, 60*time.Second); code != 0 {
		t.Fatalf("exit code %d; stderr %s; logs %v", code, p.text.String(), p.snapshot())
	}
	order := []int{p.index("shutting down", ""), p.index("stopped", "http"), p.index("collector stopped", ""),
		p.index("stopped", "collectors"), p.index("stopped", "watcher"), p.index("stopped", "store")}
	for i := range order {
		if order[i] < 0 || (i > 0 && order[i] <= order[i-1]) {
			t.Fatalf("stop order (log line positions) %v; logs %v", order, p.snapshot())
		}
	}
}

// TestServeSecondSignalForcesExit: while the shutdown is blocked (a push
// whose body never finishes keeps the listener from draining), a second
// SIGINT ends the process at once with a non-zero status and says so; the
// store was not reported closed.
func TestServeSecondSignalForcesExit(t *testing.T) {
	p := startServeProcess(t, "--shutdown-timeout", "2m")
	body, stall := io.Pipe()
	defer stall.Close()
	go func() {
		req, _ := http.NewRequest("POST", p.base+"/v1/ingest", body)
		req.ContentLength = 1 << 20
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	if _, err := stall.Write([]byte(`{"_type": "https://in-toto.io/Statement/v1", `)); err != nil {
		t.Fatal(err)
	}
	// The server is handling the push (the scrape itself is the other one
	// in flight); before that, the connection may still wait in the
	// listen queue, which the shutdown drops.
	p.waitInFlight(t, 2)
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, "shutting down")
	select {
	case <-p.done:
		t.Fatalf("serve exited while a stream was open (the shutdown was not blocked); logs %v", p.snapshot())
	case <-time.After(500 * time.Millisecond):
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := p.exit(t, 10*time.Second); code != 130 {
		t.Fatalf("exit code %d after a second SIGINT, want 130", code)
	}
	p.mu.Lock()
	text := p.text.String()
	p.mu.Unlock()
	if !strings.Contains(text, "second interrupt") {
		t.Errorf("no message about the forced exit on stderr: %q", text)
	}
	if p.index("stopped", "store") >= 0 {
		t.Errorf("the store was reported closed, yet the shutdown was blocked")
	}
}
