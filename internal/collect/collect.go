// Package collect pulls evidence documents from where teams already keep
// them (a directory, an OCI registry) and feeds them to the ingest pipeline,
// exactly as a push would. A collector only finds and reads documents; the
// Runner ingests them, logs each outcome and carries on past bad documents,
// so one malformed file never stops a watch.
package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/modelgraph/modelgraph/ingest"
)

// Errors. Wrap with %w; test with errors.Is.
var (
	// ErrInvalidSpec is returned for a collector spec that cannot be used.
	ErrInvalidSpec = errors.New("invalid collector spec")
	// ErrTooLarge is reported for a document over a size limit. It wraps
	// ingest.ErrTooLarge so callers that know the pipeline's error see it.
	ErrTooLarge = fmt.Errorf("collect: %w", ingest.ErrTooLarge)
	// ErrLimit is reported when a count limit (referrers, tags,
	// directories) cut a collection short.
	ErrLimit = errors.New("collector limit reached")
)

// Doc is one document a collector found.
type Doc struct {
	Data        []byte
	Source      string // where it was found: a file path, an oci:// location
	ContentType string // optional format hint (an OCI media type the pipeline knows)
	Subject     string // the digest an SBOM describes, when the location says so
	Role        string // optional SBOM role
	// Err is set, and Data empty, when the collector found a document it
	// could not read (too large, unreadable). The runner records it as a
	// failure of Source and carries on.
	Err error
	// Skip, when set, says why the collector leaves this document out on
	// purpose (a format modelgraph cannot verify); it is logged as a warning.
	Skip string
	// Seen marks content the collector already handed over in this run
	// (same sha256): not ingested again, logged at debug level.
	Seen bool
}

// Collector finds documents and hands each to emit, in a stable order. It
// returns when it has nothing more to collect (one-shot) or when ctx ends
// (watch). An error from emit stops it and is returned.
type Collector interface {
	Collect(ctx context.Context, emit func(Doc) error) error
	// String names the collector in logs ("dir:/evidence").
	String() string
}

// Outcome is what happened to one document.
type Outcome struct {
	Source    string
	Results   []ingest.Result // one per document the input held (JSON Lines hold many)
	Err       error           // parse, verification-independent store, or read failure
	Skipped   bool            // not ingested on purpose (see Reason)
	Reason    string
	Seen      bool // content already collected in this run
	Collector string
}

// Stats count the outcomes of a run.
type Stats struct {
	Documents  int // inputs handed to the pipeline
	Ingested   int // new documents written
	Duplicates int // documents the store already held
	Failed     int // inputs that could not be read or ingested
	Skipped    int // inputs left out on purpose (e.g. cosign simple signing)
	Unchanged  int // content already collected in this run (same sha256)
}

func (s *Stats) add(o Outcome) {
	switch {
	case o.Seen:
		s.Unchanged++
		return
	case o.Skipped:
		s.Skipped++
		return
	case o.Err != nil:
		s.Failed++
		s.Documents++
		return
	}
	s.Documents++
	for _, r := range o.Results {
		if r.Receipt.Duplicate {
			s.Duplicates++
		} else {
			s.Ingested++
		}
	}
}

// Runner feeds collectors' documents to a pipeline.
type Runner struct {
	Pipeline *ingest.Pipeline
	Log      *slog.Logger // nil: slog.Default()
	// OnOutcome, when set, sees every outcome (CLI output, tests). It is
	// called from the collector's goroutine; Run serialises the calls.
	OnOutcome func(Outcome)

	mu    sync.Mutex
	stats Stats
}

// Stats returns the counts so far (all collectors the runner ran).
func (r *Runner) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

func (r *Runner) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

// Run collects from c until it returns. Bad documents are logged and
// counted, never returned: Run fails only when the collector itself fails
// (an unreachable registry, a missing directory). When ctx ends, Run
// returns nil: the collector was stopped, it did not fail.
func (r *Runner) Run(ctx context.Context, c Collector) error {
	name := c.String()
	err := c.Collect(ctx, func(d Doc) error {
		o := r.ingest(ctx, name, d)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.record(o)
		return nil
	})
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil // stopped, not failed
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (r *Runner) ingest(ctx context.Context, name string, d Doc) Outcome {
	o := Outcome{Source: d.Source, Collector: name}
	switch {
	case d.Seen:
		o.Seen = true
		return o
	case d.Skip != "":
		o.Skipped, o.Reason = true, d.Skip
		return o
	case d.Err != nil:
		o.Err = d.Err
		return o
	}
	res, err := r.Pipeline.Ingest(ctx, ingest.Input{
		Data:        d.Data,
		Source:      d.Source,
		ContentType: d.ContentType,
		Subject:     d.Subject,
		Role:        d.Role,
	})
	o.Results, o.Err = res, err
	return o
}

func (r *Runner) record(o Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.add(o)
	log := r.log().With("collector", o.Collector, "source", o.Source)
	switch {
	case o.Seen:
		log.Debug("content already collected")
	case o.Skipped:
		log.Warn("document skipped", "reason", o.Reason)
	case o.Err != nil:
		// A bad document is the producer's problem, not an outage: warn.
		lvl := slog.LevelWarn
		if !ingest.IsBadInput(o.Err) {
			lvl = slog.LevelError
		}
		log.Log(context.Background(), lvl, "document not ingested", "err", o.Err)
	default:
		for _, res := range o.Results {
			log.Info("document collected", "format", res.Format, "document", res.Receipt.Document,
				"status", res.Receipt.Status, "duplicate", res.Receipt.Duplicate)
		}
	}
	if r.OnOutcome != nil {
		r.OnOutcome(o)
	}
}
