package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// ExitForced is the exit status after a second interrupt (128 + SIGINT,
// as a shell reports a process SIGINT ended).
const ExitForced = 130

// InterruptContext returns a context canceled at the first SIGINT or
// SIGTERM, which starts a graceful shutdown. A second one, while that
// shutdown is under way (or blocked), says so on w and calls exit with
// ExitForced at once. stop releases the signals (it may be called more
// than once).
func InterruptContext(parent context.Context, w io.Writer, exit func(code int)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			fmt.Fprintf(w, "modelgraph: %s: stopping (send it again to exit at once)\n", s)
			cancel()
		case <-done:
			return
		}
		select {
		case s := <-ch:
			fmt.Fprintf(w, "modelgraph: second %s: exiting without finishing the shutdown\n", s)
			exit(ExitForced)
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			cancel()
		})
	}
}
