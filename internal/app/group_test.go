package app

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestGroupStopsInReverseOrder: on the signal, parts stop in the reverse
// of the order they were added, each after the ones added later have
// returned: a part still draining holds back the ones before it.
func TestGroupStopsInReverseOrder(t *testing.T) {
	var mu sync.Mutex
	var events []string
	note := func(s string) { mu.Lock(); events = append(events, s); mu.Unlock() }
	g := &Group{}
	g.Add("store", nil, func(context.Context) error { note("store closed"); return nil })
	g.Add("collectors", func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // finishing a document
		note("collectors returned")
		return nil
	}, nil)
	drained := make(chan struct{})
	g.Add("http", func(context.Context) error { <-drained; note("http returned"); return nil },
		func(context.Context) error { note("http stopping"); close(drained); return nil })
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- g.Run(ctx, 5*time.Second) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	want := "http stopping,http returned,collectors returned,store closed"
	if got := strings.Join(events, ","); got != want {
		t.Fatalf("order %s, want %s", got, want)
	}
}

// TestGroupFailureStopsAll: a part that fails ends the run (the others
// stop, the store closes) and its error is returned; a part that ends
// without an error does not.
func TestGroupFailureStopsAll(t *testing.T) {
	closed := false
	g := &Group{}
	g.Add("store", nil, func(context.Context) error { closed = true; return nil })
	g.Add("finished", func(context.Context) error { return nil }, nil)
	g.Add("waits", func(ctx context.Context) error { <-ctx.Done(); return nil }, nil)
	g.Add("fails", func(context.Context) error { time.Sleep(30 * time.Millisecond); return errors.New("port taken") }, nil)
	err := g.Run(context.Background(), 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "fails: port taken") || !closed {
		t.Fatalf("err %v, store closed %v", err, closed)
	}
}

// TestGroupStopTimeout: a part that does not stop within the timeout is
// reported, and the parts before it are still stopped.
func TestGroupStopTimeout(t *testing.T) {
	closed := false
	block := make(chan struct{})
	defer close(block)
	g := &Group{}
	g.Add("store", nil, func(context.Context) error { closed = true; return nil })
	g.Add("stuck", func(context.Context) error { <-block; return nil }, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := g.Run(ctx, 50*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "stuck did not stop within") || !closed {
		t.Fatalf("err %v, store closed %v", err, closed)
	}
}

// TestInterruptContext: the first SIGINT cancels the context; the second
// calls exit with ExitForced and says why.
func TestInterruptContext(t *testing.T) {
	var out bytes.Buffer
	exited := make(chan int, 1)
	ctx, stop := InterruptContext(context.Background(), &out, func(code int) { exited <- code })
	defer stop()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("first SIGINT did not cancel the context")
	}
	select {
	case code := <-exited:
		t.Fatalf("exit(%d) after one signal", code)
	case <-time.After(50 * time.Millisecond):
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exited:
		if code != ExitForced {
			t.Fatalf("exit code %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second SIGINT did not force the exit")
	}
	// out is written before exit is called.
	if !strings.Contains(out.String(), "second interrupt") {
		t.Errorf("message %q", out.String())
	}
}
