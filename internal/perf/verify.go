package perf

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/synth"
)

// VerifyAll parses and verifies docs through p from workers goroutines
// without writing them: what signature verification (and the decode stage
// around it) alone sustains, the ceiling IngestAll's figure is measured
// against (issue 19: verified ingest at or above 80% of it). Every signed
// document must come out verified.
func VerifyAll(ctx context.Context, p *ingest.Parser, docs []synth.Doc, workers int) (Throughput, error) {
	workers = max(workers, 1)
	var next, verified atomic.Int64
	var once sync.Once
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(docs) || ctx.Err() != nil {
					return
				}
				d := docs[i]
				parsed, err := p.Parse(ctx, ingest.Input{Data: d.Data, Source: d.Name})
				for _, pd := range parsed {
					if err == nil && d.Signed && pd.Batch.Doc.Status() != graph.StatusVerified {
						err = fmt.Errorf("status %s, want verified", pd.Batch.Doc.Status())
					}
					if err == nil && d.Signed {
						verified.Add(1)
					}
				}
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("verify %s: %w", d.Name, err) })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return Throughput{}, firstErr
	}
	el := time.Since(start).Seconds()
	return Throughput{Documents: len(docs), Verified: int(verified.Load()), Seconds: el, DocsPerS: float64(len(docs)) / el}, nil
}
