package perf

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/synth"
)

// IngestResult is the throughput of documents through ingest.Pipeline.
type IngestResult struct {
	Workers int `json:"workers"`
	// Signed: the signed documents alone (OMS bundles when the pipeline
	// maps them, AIXV training attestations in sigstore bundles, dataset and
	// deployment attestations in DSSE envelopes), every signature verified
	// against the trust policy.
	Signed Throughput `json:"signed"`
	// All: the whole corpus, SBOMs and unsigned statements included.
	All Throughput `json:"all"`
	// OMSMapped says whether the pipeline accepted OMS signature bundles;
	// when it did not, they are left out of both figures.
	OMSMapped bool `json:"omsMapped"`
	// Kinds counts the documents of each kind in the All corpus.
	Kinds map[synth.DocKind]int `json:"kinds"`
	Bytes int64                 `json:"bytes"` // size of the All corpus
}

// Throughput is one timed run.
type Throughput struct {
	Documents int     `json:"documents"`
	Verified  int     `json:"verified"` // documents whose status came out verified
	Seconds   float64 `json:"seconds"`
	DocsPerS  float64 `json:"docsPerS"`
}

// Corpus renders the plan's documents, signed by s, in plan order.
func Corpus(pl *synth.Plan, s *synth.Signer) ([]synth.Doc, error) {
	var docs []synth.Doc
	err := pl.Documents(s, func(d synth.Doc) error { docs = append(docs, d); return nil })
	return docs, err
}

// OMSMapped reports whether p maps OMS signature bundles (ingest/oms);
// probe is one such bundle. It ingests probe into p's store.
func OMSMapped(ctx context.Context, p *ingest.Pipeline, probe synth.Doc) (bool, error) {
	_, err := p.Ingest(ctx, ingest.Input{Data: probe.Data, Source: probe.Name})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ingest.ErrUnsupported):
		return false, nil
	}
	return false, fmt.Errorf("probe OMS bundle: %w", err)
}

// IngestAll pushes docs through p from workers goroutines (the way the
// HTTP push endpoint and parallel CLI ingest use a pipeline; concurrent
// writes share commits) and times it. Every signed document must come out
// verified and every unsigned one unsigned: a figure for documents that
// failed verification would measure the wrong thing.
func IngestAll(ctx context.Context, p *ingest.Pipeline, docs []synth.Doc, workers int) (Throughput, error) {
	if workers <= 0 {
		workers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next, verified atomic.Int64
	var once sync.Once
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(docs) || ctx.Err() != nil {
					return
				}
				d := docs[i]
				res, err := p.Ingest(ctx, ingest.Input{Data: d.Data, Source: d.Name})
				if err == nil {
					want := graph.StatusUnsigned
					if d.Signed {
						want = graph.StatusVerified
					}
					for _, r := range res {
						if st := r.Document.Status(); st != want {
							err = fmt.Errorf("status %s, want %s (%+v)", st, want, r.Document.Signatures)
						} else if st == graph.StatusVerified {
							verified.Add(1)
						}
					}
				}
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("ingest %s: %w", d.Name, err); cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return Throughput{}, firstErr
	}
	el := time.Since(start).Seconds()
	return Throughput{Documents: len(docs), Verified: int(verified.Load()), Seconds: el, DocsPerS: float64(len(docs)) / el}, nil
}
