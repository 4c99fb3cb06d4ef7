// Package bulk ingests many files through one pipeline on every core:
// workers read, decode, verify and parse documents in parallel (each
// Pipeline.Parse is the decode stage) while one writer applies what they
// parsed in groups (Pipeline.ApplyGroup: one store transaction, so one
// fsync, per group of up to MaxGroup documents; a group the store refuses
// is retried document by document), so parsing and writing overlap. It
// keeps going past bad documents unless told to fail fast, and reports
// each file in input order, then a summary. What is held at once is
// bounded by MaxInFlightBytes of input (at least one file) and the group
// size, so memory does not grow with the number of files.
package bulk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
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
	// MaxGroup bounds the documents of one write (DefaultMaxGroup when
	// 0; 1 applies each file on its own).
	MaxGroup int
	// MaxInFlightBytes bounds the input bytes read but not yet written
	// (DefaultMaxInFlightBytes when 0; a larger file goes alone).
	MaxInFlightBytes int64
}

// Defaults of Options. On the 20x corpus (docs/performance.md, "Groups")
// 64 documents and 32 MiB per write took 10% less wall time and 4% less
// CPU than 32 and 16 MiB (fewer commits, each hub record rewritten once
// per group), at the same peak RSS; 128 documents was slower again.
const (
	DefaultMaxGroup         = 64
	DefaultMaxInFlightBytes = 32 << 20
)

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
	group := o.MaxGroup
	if group <= 0 {
		group = DefaultMaxGroup
	}
	inflight := o.MaxInFlightBytes
	if inflight <= 0 {
		inflight = DefaultMaxInFlightBytes
	}
	budget := newBytesBudget(inflight)
	jobs := make(chan int)
	var stop atomic.Bool // FailFast and a file was rejected
	done := make(chan Outcome, workers+group)
	parsed := make(chan item, group)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				if stop.Load() {
					continue // not tried: reported as skipped
				}
				it := parse(ctx, p, i, files[i], maxBytes, o, budget)
				if it.oc.Rejection != nil {
					budget.release(it.held)
					if o.FailFast {
						stop.Store(true)
					}
					done <- it.oc
					continue
				}
				parsed <- it
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
	go func() { wg.Wait(); close(parsed) }()
	// The writer: the first parsed file, then whatever else is ready, up
	// to group documents, in one write.
	go func() {
		defer close(done)
		for first := range parsed {
			items := []item{first}
			n := len(first.parsed)
		drain:
			for n < group {
				select {
				case it, ok := <-parsed:
					if !ok {
						break drain
					}
					items = append(items, it)
					n += len(it.parsed)
				default:
					break drain
				}
			}
			// In input order within the group.
			slices.SortFunc(items, func(a, b item) int { return a.oc.Index - b.oc.Index })
			ins := make([]ingest.Input, len(items))
			ps := make([][]ingest.Parsed, len(items))
			for j, it := range items {
				ins[j], ps[j] = it.in, it.parsed
			}
			results, errs := p.ApplyGroup(ctx, ins, ps)
			for j, it := range items {
				budget.release(it.held)
				oc := it.oc
				if errs[j] != nil {
					oc.Rejection = rejection(errs[j])
					if o.FailFast {
						stop.Store(true)
					}
				} else {
					oc.Results = results[j]
				}
				done <- oc
			}
		}
	}()

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

// item is a file read and parsed, waiting for its write.
type item struct {
	oc     Outcome
	in     ingest.Input
	parsed []ingest.Parsed
	held   int64 // bytes taken from the in-flight budget
}

// parse reads and parses one file (the decode stage), holding its size
// in the in-flight budget until it is written or refused.
func parse(ctx context.Context, p *ingest.Pipeline, i int, path string, maxBytes int64, o Options, budget *bytesBudget) item {
	it := item{oc: Outcome{Index: i, Source: path}}
	size := int64(1)
	if st, err := os.Stat(path); err == nil {
		size = max(st.Size(), 1)
	}
	it.held = budget.acquire(size)
	data, err := readLimited(path, maxBytes)
	it.oc.Bytes = int64(len(data))
	if err == nil {
		it.in = ingest.Input{Data: data, Source: path, Subject: o.Subject, Role: o.Role}
		it.parsed, err = p.Parse(ctx, it.in)
		it.in.Data = nil // the batches are what the write needs
	}
	if err != nil {
		it.oc.Rejection = rejection(err)
	}
	// The batches and the rejection hold no reference into the bytes
	// (TestParseKeepsNoInputBytes): the buffer serves the next file.
	putReadBuf(data)
	return it
}

// bytesBudget bounds the input bytes in flight: acquire waits until n
// more fit, or nothing else is held (a file larger than the budget goes
// alone).
type bytesBudget struct {
	mu   sync.Mutex
	cond *sync.Cond
	cap  int64
	used int64
}

func newBytesBudget(capacity int64) *bytesBudget {
	b := &bytesBudget{cap: capacity}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *bytesBudget) acquire(n int64) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.used > 0 && b.used+n > b.cap {
		b.cond.Wait()
	}
	b.used += n
	return n
}

func (b *bytesBudget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}

// readLimited reads a file of at most max bytes; a larger one is a
// too-large document error naming the limit. The buffer comes from
// readBufs (give it back with putReadBuf once nothing refers to it) and
// is read into directly (no io.Copy buffer per file).
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(512)
	if st, err := f.Stat(); err == nil && st.Size() > 0 && st.Size() <= max {
		size = st.Size() + 1 // +1: EOF is seen without growing
	}
	b := getReadBuf(int(size))
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // the file grew since Stat
		}
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > max {
			putReadBuf(b)
			return nil, docerr.Errorf(path, docerr.TooLarge, "%w: larger than %d bytes", docerr.ErrTooLarge, max)
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			putReadBuf(b)
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
}

// readBufs recycles file buffers, by capacity class (class k holds
// buffers of cap 1<<(k+readBufMinShift)), so a run does not allocate a
// fresh buffer per file. A buffer is only held from the read to the end of
// its parse, so few are out at once; at most readBufKeep bytes of idle
// ones are kept (a sync.Pool would drop them at every GC, and a run
// collects often). Files past the largest class are not pooled.
var readBufs struct {
	mu   sync.Mutex
	free [readBufClasses][][]byte
	held int
}

const (
	readBufMinShift = 12 // 4 KiB
	readBufClasses  = 15 // up to 64 MiB
	readBufKeep     = 16 << 20
)

// getReadBuf returns an empty buffer of capacity at least n.
func getReadBuf(n int) []byte {
	k := 0
	for (1<<(k+readBufMinShift)) < n && k < readBufClasses {
		k++
	}
	if k >= readBufClasses {
		return make([]byte, 0, n)
	}
	readBufs.mu.Lock()
	if f := readBufs.free[k]; len(f) > 0 {
		b := f[len(f)-1]
		f[len(f)-1] = nil
		readBufs.free[k] = f[:len(f)-1]
		readBufs.held -= cap(b)
		readBufs.mu.Unlock()
		return b
	}
	readBufs.mu.Unlock()
	return make([]byte, 0, 1<<(k+readBufMinShift))
}

// putReadBuf gives b back for another file: nothing may refer to it.
func putReadBuf(b []byte) {
	c := cap(b)
	if c < 1<<readBufMinShift || c > 1<<(readBufClasses-1+readBufMinShift) {
		return
	}
	// The class whose every request b can serve.
	k := 0
	for k+1 < readBufClasses && (1<<(k+1+readBufMinShift)) <= c {
		k++
	}
	readBufs.mu.Lock()
	if readBufs.held+c <= readBufKeep {
		readBufs.free[k] = append(readBufs.free[k], b[:0])
		readBufs.held += c
	}
	readBufs.mu.Unlock()
}
