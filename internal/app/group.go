package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"
)

// Group is serve's lifecycle as one run group. Parts are added in the
// order they start (the store first, the listeners last); Run runs them
// until ctx ends (the first signal) or one fails, then stops them in the
// reverse order, each only once every part added after it has stopped:
// listeners drain before the collectors stop, collectors before the
// watcher, the watcher before the store closes. Each stop is logged
// ("stopped", part=NAME).
type Group struct {
	Log   *slog.Logger
	parts []part
}

type part struct {
	name string
	// run runs the part until its context is canceled (nil: a resource
	// that only needs stopping). A part whose run returns nil early
	// (collectors that finished) does not stop the others; an error does.
	run func(ctx context.Context) error
	// stop asks the part to stop gracefully within ctx's deadline; run's
	// context is canceled after it (nil: canceling is the stop).
	stop func(ctx context.Context) error
}

// Add appends a part; see part for run and stop.
func (g *Group) Add(name string, run, stop func(ctx context.Context) error) {
	g.parts = append(g.parts, part{name: name, run: run, stop: stop})
}

// Run starts every part, waits for ctx to end or a part to fail, and stops
// them all in reverse order within timeout. It returns the failure that
// ended the run, and any stop that failed or ran out of time.
func (g *Group) Run(ctx context.Context, timeout time.Duration) error {
	eg, ended := errgroup.WithContext(ctx)
	cancels := make([]context.CancelFunc, len(g.parts))
	done := make([]chan struct{}, len(g.parts))
	for i, p := range g.parts {
		done[i] = make(chan struct{})
		if p.run == nil {
			close(done[i])
			continue
		}
		// A part's own context: the signal ends ctx at once, but a part
		// stops only when its turn comes.
		pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		cancels[i] = cancel
		eg.Go(func() error {
			defer close(done[i])
			if err := p.run(pctx); err != nil && pctx.Err() == nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			return nil
		})
	}
	<-ended.Done()
	var failure error
	if ctx.Err() == nil {
		// A part failed: eg.Wait would block on the others, which have
		// not been told to stop yet; the failure is the first error.
		failure = context.Cause(ended)
	}
	g.logger().Info("shutting down", "timeout", timeout)
	err := g.stop(ctx, timeout, cancels, done)
	return errors.Join(failure, err)
}

// Close stops parts that never ran (setup failed before Run), in reverse
// order.
func (g *Group) Close(timeout time.Duration) error {
	done := make([]chan struct{}, len(g.parts))
	for i := range done {
		done[i] = make(chan struct{})
		close(done[i])
	}
	return g.stop(context.Background(), timeout, make([]context.CancelFunc, len(g.parts)), done)
}

func (g *Group) stop(ctx context.Context, timeout time.Duration, cancels []context.CancelFunc, done []chan struct{}) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	var errs []error
	for i := len(g.parts) - 1; i >= 0; i-- {
		p := g.parts[i]
		if p.stop != nil {
			if err := p.stop(sctx); err != nil {
				errs = append(errs, fmt.Errorf("stopping %s: %w", p.name, err))
			}
		}
		if cancels[i] != nil {
			cancels[i]()
		}
		if stopped(done[i], sctx) {
			g.logger().Info("stopped", "part", p.name)
		} else {
			g.logger().Error("did not stop in time", "part", p.name, "timeout", timeout)
			errs = append(errs, fmt.Errorf("%s did not stop within %s", p.name, timeout))
		}
	}
	return errors.Join(errs...)
}

// stopped waits for done until ctx ends; done wins when both are ready.
func stopped(done <-chan struct{}, ctx context.Context) bool {
	select {
	case <-done:
		return true
	default:
	}
	select {
	case <-done:
		return true
	case <-ctx.Done():
	}
	// Past the deadline: a last moment for a part that is stopping (one
	// slow part must not leave none to those after it).
	select {
	case <-done:
		return true
	case <-time.After(lastGrace):
		return false
	}
}

// lastGrace is how long a part may still take once the shutdown timeout
// has passed.
const lastGrace = time.Second

func (g *Group) logger() *slog.Logger {
	if g.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return g.Log
}
