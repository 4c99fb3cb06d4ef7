package perf

import (
	"context"
	"fmt"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/synth"
)

// LoadResult says what building a graph took.
type LoadResult struct {
	Nodes     int64   `json:"nodes"`
	Edges     int64   `json:"edges"`
	Documents int64   `json:"documents"`
	Seconds   float64 `json:"seconds"`
	DocsPerS  float64 `json:"docsPerS"`
	EdgesPerS float64 `json:"edgesPerS"`
	FileBytes int64   `json:"fileBytes,omitempty"` // store file size afterwards (embedded)
	// After bolt.Compact, when the build compacted the store.
	CompactSeconds float64 `json:"compactSeconds,omitempty"`
	CompactedBytes int64   `json:"compactedBytes,omitempty"`
}

// Load writes the chain planned by p into w with ApplyAll, chunk documents
// per call (the bulk path: the generator runs ahead on another goroutine
// while the store writes). It returns the store's counts afterwards.
func Load(ctx context.Context, w graph.Store, pl *synth.Plan, chunk int) (LoadResult, error) {
	if chunk <= 0 {
		chunk = 500
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan []*graph.Batch, 2)
	genErr := make(chan error, 1)
	start := time.Now()
	go func() {
		defer close(chunks)
		var cur []*graph.Batch
		_, err := pl.Stream(func(b *graph.Batch) error {
			cur = append(cur, b)
			if len(cur) < chunk {
				return nil
			}
			select {
			case chunks <- cur:
			case <-ctx.Done():
				return ctx.Err()
			}
			cur = make([]*graph.Batch, 0, chunk)
			return nil
		})
		if err == nil && len(cur) > 0 {
			select {
			case chunks <- cur:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		genErr <- err
	}()
	docs := 0
	for c := range chunks {
		if _, err := w.ApplyAll(ctx, c); err != nil {
			cancel()
			for range chunks {
			}
			return LoadResult{}, fmt.Errorf("load: documents %d-%d: %w", docs, docs+len(c), err)
		}
		docs += len(c)
	}
	if err := <-genErr; err != nil {
		return LoadResult{}, fmt.Errorf("load: generate: %w", err)
	}
	el := time.Since(start).Seconds()
	st, err := w.Stats(ctx)
	if err != nil {
		return LoadResult{}, fmt.Errorf("load: stats: %w", err)
	}
	return LoadResult{
		Nodes: st.Nodes, Edges: st.Edges, Documents: st.Documents, Seconds: el,
		DocsPerS: float64(docs) / el, EdgesPerS: float64(st.Edges) / el,
	}, nil
}
