// Package bulk ingests many files through one pipeline on every core:
// workers read, decode, verify and parse documents in parallel (each
// Pipeline.Parse is the decode stage) and apply them concurrently, which
// the bolt store turns into group commits. It keeps going past bad
// documents unless told to fail fast, and reports each file in input
// order, then a summary. At most Workers documents are held at once, so
// memory does not grow with the number of files.
package bulk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/docerr"
)

// Options of a run.
type Options struct {
	Workers  int  // runtime.GOMAXPROCS(0) when 0
	FailFast bool // stop at the first rejected file (files being parsed finish)
	Subject  string
	Role     string
	// Progress, when set, is told about every file once it is done.
	Progress func(Outcome)
}

// Outcome is what happened to one file.
type Outcome struct {
	Index   int             `json:"-"`
	Source  string          `json:"source"`
	Bytes   int64           `json:"bytes"`
	Results []ingest.Result `json:"results,omitempty"`
	// Rejection is set when the file was refused (nothing of it written).
	Rejection *Rejection `json:"rejection,omitempty"`
}

// Rejection says why a file was refused, with the fields of the HTTP
// API's error body.
type Rejection struct {
	Kind     string `json:"kind"` // docerr.Kind, or "error" for a read or store failure
	Message  string `json:"message"`
	Document string `json:"document,omitempty"`
	Field    string `json:"field,omitempty"`
	Line     int    `json:"line,omitempty"`
}

// Summary is the run's totals.
type Summary struct {
	Files      int           `json:"files"`
	Bytes      int64         `json:"bytes"`
	Documents  int           `json:"documents"`  // recorded new
	Duplicates int           `json:"duplicates"` // already stored
	Rejected   int           `json:"rejected"`   // files refused
	Skipped    int           `json:"skipped"`    // files not tried (--fail-fast)
	Elapsed    time.Duration `json:"elapsedNs"`
	Rejections []Outcome     `json:"rejections,omitempty"`
}

func rejection(err error) *Rejection {
	r := &Rejection{Kind: string(docerr.KindOf(err)), Message: err.Error()}
	if r.Kind == "" {
		r.Kind = "error"
	}
	var de *docerr.Error
	if errors.As(err, &de) {
		r.Document, r.Field, r.Line = de.Document, de.Field, de.Line
	}
	return r
}

// Run ingests files through p and calls emit for each file in input order
// (from one goroutine). Read and store failures are rejections too; only a
// canceled ctx stops Run early without FailFast.
func Run(ctx context.Context, p *ingest.Pipeline, files []string, o Options, emit func(Outcome)) (Summary, error) {
	start := time.Now()
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	maxBytes := p.MaxBytes
	if maxBytes <= 0 {
		maxBytes = docerr.MaxDocumentBytes
	}
	jobs := make(chan int)
	var stop atomic.Bool // FailFast and a file was rejected
	done := make(chan Outcome, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				if stop.Load() {
					continue // not tried: reported as skipped
				}
				oc := one(ctx, p, i, files[i], maxBytes, o)
				if oc.Rejection != nil && o.FailFast {
					stop.Store(true)
				}
				done <- oc
			}
		})
	}
	go func() {
		defer close(jobs)
		for i := range files {
			if stop.Load() {
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(done) }()

	var sum Summary
	pending := map[int]Outcome{}
	next := 0
	for oc := range done {
		if o.Progress != nil {
			o.Progress(oc)
		}
		pending[oc.Index] = oc
		for {
			oc, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			sum.add(oc)
			if emit != nil {
				emit(oc)
			}
		}
	}
	// With FailFast, files after a gap were done but earlier ones never
	// started: report what ran, in order.
	for i := next; i < len(files); i++ {
		if oc, ok := pending[i]; ok {
			sum.add(oc)
			if emit != nil {
				emit(oc)
			}
		} else {
			sum.Skipped++
		}
	}
	sum.Elapsed = time.Since(start)
	if err := ctx.Err(); err != nil { // the caller's context (ours is canceled only on return)
		return sum, err
	}
	return sum, nil
}

func (s *Summary) add(oc Outcome) {
	s.Files++
	s.Bytes += oc.Bytes
	if oc.Rejection != nil {
		s.Rejected++
		s.Rejections = append(s.Rejections, oc)
		return
	}
	for _, r := range oc.Results {
		if r.Receipt.Duplicate {
			s.Duplicates++
		} else {
			s.Documents++
		}
	}
}

func one(ctx context.Context, p *ingest.Pipeline, i int, path string, maxBytes int64, o Options) Outcome {
	oc := Outcome{Index: i, Source: path}
	data, err := readLimited(path, maxBytes)
	oc.Bytes = int64(len(data))
	if err == nil {
		oc.Results, err = p.Ingest(ctx, ingest.Input{Data: data, Source: path, Subject: o.Subject, Role: o.Role})
	}
	if err != nil {
		oc.Rejection = rejection(err)
	}
	return oc
}

// readLimited reads a file of at most max bytes; a larger one is a
// too-large document error naming the limit.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var data []byte
	if st, err := f.Stat(); err == nil && st.Size() > 0 && st.Size() <= max {
		data = make([]byte, 0, st.Size()+1)
	}
	w := &buf{b: data}
	if _, err := io.Copy(w, io.LimitReader(f, max+1)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(w.b)) > max {
		return nil, docerr.Errorf(path, docerr.TooLarge, "%w: larger than %d bytes", docerr.ErrTooLarge, max)
	}
	return w.b, nil
}

type buf struct{ b []byte }

func (w *buf) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
