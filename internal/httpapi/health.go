package httpapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/modelgraph/modelgraph/graph"
)

// Defaults of WriteHealth.
const (
	// DefaultMinFree is the free space the store's directory needs for the
	// server to call itself ready (bbolt grows its file in steps of up to
	// 1 GiB; a write that cannot grow it fails).
	DefaultMinFree = 64 << 20
	// DefaultRecoverAfter: a failed store write keeps the server unready
	// until a write succeeds or this long has passed.
	DefaultRecoverAfter = 30 * time.Second
	probeEvery          = 2 * time.Second
)

// WriteHealth wraps the store's Writer to tell readiness whether writes
// can succeed: /readyz fails while the store's directory is short of
// space or not writable (probed with statfs and a small synced file), and
// after a write failed for a reason other than the document (ENOSPC, I/O
// error) until one succeeds or RecoverAfter passes.
type WriteHealth struct {
	graph.Writer
	Dir          string // the store's directory ("" for a remote store: no probe)
	MinFree      uint64
	RecoverAfter time.Duration

	mu       sync.Mutex
	lastErr  error
	lastAt   time.Time
	probeAt  time.Time
	probeErr error
}

// NewWriteHealth wraps w, whose files live in dir.
func NewWriteHealth(w graph.Writer, dir string) *WriteHealth {
	return &WriteHealth{Writer: w, Dir: dir, MinFree: DefaultMinFree, RecoverAfter: DefaultRecoverAfter}
}

func (h *WriteHealth) Apply(ctx context.Context, b *graph.Batch) (graph.Receipt, error) {
	r, err := h.Writer.Apply(ctx, b)
	h.note(err)
	return r, err
}

func (h *WriteHealth) ApplyAll(ctx context.Context, bs []*graph.Batch) ([]graph.Receipt, error) {
	r, err := h.Writer.ApplyAll(ctx, bs)
	h.note(err)
	return r, err
}

// storageFault: err is the store's, not the document's or the caller's.
func storageFault(err error) bool {
	return err != nil && !errors.Is(err, graph.ErrInvalidBatch) && !errors.Is(err, context.Canceled) &&
		!errors.Is(err, context.DeadlineExceeded)
}

func (h *WriteHealth) note(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err == nil:
		h.lastErr = nil
	case storageFault(err):
		h.lastErr, h.lastAt = err, time.Now()
	}
}

// Check returns why writes cannot succeed now (nil: they can).
func (h *WriteHealth) Check() error {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.Dir != "" && time.Since(h.probeAt) >= probeEvery {
		h.probeErr, h.probeAt = probeDir(h.Dir, h.MinFree), time.Now()
	}
	if h.probeErr != nil {
		return h.probeErr
	}
	if h.lastErr != nil && time.Since(h.lastAt) < h.RecoverAfter {
		return fmt.Errorf("the last store write failed %s ago: %v", time.Since(h.lastAt).Round(time.Second), h.lastErr)
	}
	return nil
}

// probeDir checks dir has minFree bytes free and takes a small synced
// write.
func probeDir(dir string, minFree uint64) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return fmt.Errorf("store directory %s: %w", dir, err)
	}
	if free := st.Bavail * uint64(st.Bsize); free < minFree {
		return fmt.Errorf("store directory %s has %d bytes free, less than the %d needed to take writes", dir, free, minFree)
	}
	f, err := os.CreateTemp(dir, ".readyz-*")
	if err != nil {
		return fmt.Errorf("store directory %s is not writable: %w", dir, err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(make([]byte, 4096))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store directory %s does not take writes: %w", filepath.Clean(dir), err)
	}
	return nil
}
