// Package testserve runs the real servers and stores tests talk to: the
// modelgraph binary (built once per test process) as `serve`, waited for
// until it listens; the admission webhook's certificates; a fresh
// embedded store and the Neo4j store from the environment, both checked
// for the graph's invariants when the test ends. It is test support only:
// docs/architecture.md marks its row "tests only" and TestArchitecture
// fails when non-test code imports it.
package testserve

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

// BinaryEnv names a prebuilt modelgraph binary to run instead of building
// one.
const BinaryEnv = "MODELGRAPH_TEST_BINARY"

var bin struct {
	sync.Once
	path string
	err  error
}

// Binary builds cmd/modelgraph once per test process and returns its path
// ($MODELGRAPH_TEST_BINARY instead, when set). The build names the
// package by import path, so it works from any test's directory.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(BinaryEnv); p != "" {
		return p
	}
	bin.Do(func() {
		dir, err := os.MkdirTemp("", "mg-testserve-")
		if err != nil {
			bin.err = err
			return
		}
		bin.path = filepath.Join(dir, "modelgraph")
		out, err := exec.Command("go", "build", "-o", bin.path, "github.com/modelgraph/modelgraph/cmd/modelgraph").CombinedOutput()
		if err != nil {
			bin.err = fmt.Errorf("go build ./cmd/modelgraph: %v\n%s", err, out)
		}
	})
	if bin.err != nil {
		t.Fatal(bin.err)
	}
	return bin.path
}

// Options of Start; the zero value runs serve with the test's environment
// and keeps its standard error for failure messages only.
type Options struct {
	// Env is serve's environment (nil: the test's).
	Env []string
	// Stderr also receives serve's standard error (nil: kept only for
	// the failure messages of Start).
	Stderr io.Writer
	// Cgroup is a cgroup.procs file serve is placed in before it runs
	// ("" for none): a shell writes its own pid there, then execs serve,
	// so serve never runs outside the cgroup.
	Cgroup string
	// StartTimeout is how long serve may take to listen (0: 60 s).
	StartTimeout time.Duration
}

// Server is a running `modelgraph serve` process.
type Server struct {
	Cmd  *exec.Cmd
	Base string // http://host:port, from serve's "listening on" line

	exited chan struct{} // closed once serve has exited
	err    error         // Wait's result, set before exited is closed
}

var listening = regexp.MustCompile(`modelgraph listening on (http://\S+)`)

// Start runs `modelgraph serve args...` and returns once serve says it
// listens; serve exiting first, or not listening in time, fails the test.
// A server still running when the test ends is interrupted (killed if it
// does not stop within 30 s).
func Start(t testing.TB, o Options, args ...string) *Server {
	t.Helper()
	args = append([]string{"serve"}, args...)
	cmd := exec.Command(Binary(t), args...)
	if o.Cgroup != "" {
		cmd = exec.Command("sh", append([]string{"-c", `echo $$ > "$0" && exec "$@"`, o.Cgroup, Binary(t)}, args...)...)
	}
	cmd.Env = o.Env
	stderr := &tail{max: 64 << 10}
	cmd.Stderr = stderr
	if o.Stderr != nil {
		cmd.Stderr = io.MultiWriter(stderr, o.Stderr)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &Server{Cmd: cmd, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	go func() {
		s.err = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-s.exited:
			case <-time.After(30 * time.Second):
				s.Kill()
			}
		}
	})
	wait := o.StartTimeout
	if wait == 0 {
		wait = 60 * time.Second
	}
	select {
	case s.Base = <-addr:
	case <-s.exited:
		t.Fatalf("modelgraph serve exited before listening: %v\n%s", s.err, stderr)
	case <-time.After(wait):
		s.Kill()
		t.Fatalf("modelgraph serve did not listen within %s\n%s", wait, stderr)
	}
	return s
}

// Exited is closed once serve has exited; Err then says how.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// Err is serve's exit status (nil for a clean exit); valid once Exited is
// closed.
func (s *Server) Err() error {
	<-s.exited
	return s.err
}

// Kill kills serve (SIGKILL) and waits for it to exit.
func (s *Server) Kill() {
	_ = s.Cmd.Process.Kill()
	<-s.exited
}

// Stop interrupts serve (SIGINT, a graceful shutdown) and returns its exit
// status; a serve still running after 60 s is killed and fails the test.
func (s *Server) Stop(t testing.TB) error {
	t.Helper()
	_ = s.Cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
		return s.err
	case <-time.After(60 * time.Second):
		s.Kill()
		t.Fatal("modelgraph serve did not stop on SIGINT within 60s")
		return nil
	}
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if over := len(w.b) - w.max; over > 0 {
		w.b = bytes.Clone(w.b[over:])
	}
	return len(p), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}
