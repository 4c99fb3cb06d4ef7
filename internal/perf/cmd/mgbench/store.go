package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/internal/perf"
	"github.com/modelgraph/modelgraph/internal/synth"
)

// processStart is as close to exec as Go lets us get: the cold-open figure
// includes runtime start-up, not only embedded.Open.
var processStart = time.Now()

func plan(nodes int) (*synth.Plan, error) {
	if nodes <= 0 {
		return nil, errors.New("-nodes must be positive")
	}
	return synth.NewPlan(synth.ForNodes(nodes))
}

func buildCmd(fs *flag.FlagSet) func(context.Context) (any, error) {
	db := fs.String("db", "", "store file to create (must not exist)")
	nodes := fs.Int("nodes", 10_000, "graph size in nodes (about 5x as many edges)")
	chunk := fs.Int("chunk", 1000, "documents per ApplyAll")
	compact := fs.Bool("compact", false, "compact the store after loading it (embedded.Compact), as an operator would after a bulk import")
	return func(ctx context.Context) (any, error) {
		if *db == "" {
			return nil, errors.New("build: -db is required")
		}
		if _, err := os.Stat(*db); err == nil {
			return nil, fmt.Errorf("build: %s exists; remove it first", *db)
		}
		pl, err := plan(*nodes)
		if err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
		s, err := embedded.Open(*db, embedded.Options{})
		if err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
		res, err := perf.Load(ctx, s, pl, *chunk)
		if cerr := s.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
		if fi, err := os.Stat(*db); err == nil {
			res.FileBytes = fi.Size()
		}
		if *compact {
			t0 := time.Now()
			tmp := *db + ".compact"
			_ = os.Remove(tmp)
			if err := embedded.Compact(*db, tmp); err != nil {
				return nil, fmt.Errorf("build: %w", err)
			}
			for _, suffix := range []string{"", ".idx"} {
				if err := os.Rename(tmp+suffix, *db+suffix); err != nil {
					return nil, fmt.Errorf("build: %w", err)
				}
			}
			res.CompactSeconds = time.Since(t0).Seconds()
			if fi, err := os.Stat(*db); err == nil {
				res.CompactedBytes = fi.Size()
			}
			logf("build %d: compacted in %.1f s to %d MiB", *nodes, res.CompactSeconds, res.CompactedBytes>>20)
		}
		logf("build %d: %d nodes, %d edges, %d documents in %.1f s, file %d MiB", *nodes, res.Nodes, res.Edges, res.Documents, res.Seconds, res.FileBytes>>20)
		return perf.Record{Step: "build", Backend: "embedded", Size: *nodes, Load: &res, LoadAvg: perf.LoadAverage()}, nil
	}
}

func queryCmd(fs *flag.FlagSet) func(context.Context) (any, error) {
	db := fs.String("db", "", "store file built by mgbench build")
	nodes := fs.Int("nodes", 10_000, "the -nodes the store was built with")
	n := fs.Int("n", 2000, "queries of each kind")
	warmup := fs.Int("warmup", 200, "unmeasured queries of each kind first")
	impactOnly := fs.Bool("impact-only", false, "run only the impact queries (profiling)")
	rebuild := fs.Bool("rebuild", false, "ignore the index snapshot: measure the open after a crash (reported as step open-rebuild)")
	return func(ctx context.Context) (any, error) {
		if *db == "" {
			return nil, errors.New("query: -db is required")
		}
		if _, err := os.Stat(*db); err != nil {
			return nil, fmt.Errorf("query: %w", err)
		}
		s, err := embedded.Open(*db, embedded.Options{NoIndexSnapshot: *rebuild})
		if err != nil {
			return nil, fmt.Errorf("query: %w", err)
		}
		defer s.Close()
		open := time.Since(processStart).Seconds()
		pl, err := plan(*nodes)
		if err != nil {
			return nil, fmt.Errorf("query: %w", err)
		}
		step := "query"
		if *rebuild {
			step = "open-rebuild"
		}
		var q perf.QueryResult
		if *n > 0 {
			work := perf.Workload
			if *impactOnly {
				work = perf.ImpactWorkload
			}
			if q, err = work(ctx, s, pl.Handles(), *n, *warmup, 1); err != nil {
				return nil, fmt.Errorf("query: %w", err)
			}
		}
		// Memory as a long-running server would hold it: after a GC cycle
		// has returned what the open and the queries no longer use.
		runtime.GC()
		debug.FreeOSMemory()
		mem, err := perf.ReadMemory()
		if err != nil {
			return nil, fmt.Errorf("query: %w", err)
		}
		logf("query %d: impact CPU p50 %.3f p99 %.3f max %.3f ms, trace CPU p50 %.3f p99 %.3f ms", *nodes, q.Impact.CPUP50ms, q.Impact.CPUP99ms, q.Impact.CPUMaxMs, q.Trace.CPUP50ms, q.Trace.CPUP99ms)
		logf("query %d: open %.2f s, impact p50 %.3f p99 %.3f ms (nodes mean %.0f p99 %d), trace p50 %.3f p99 %.3f ms (nodes mean %.0f p99 %d), rss %d MiB (peak %d MiB, anon %d MiB)",
			*nodes, open, q.Impact.P50ms, q.Impact.P99ms, q.Impact.MeanSize, q.Impact.P99Size, q.Trace.P50ms, q.Trace.P99ms, q.Trace.MeanSize, q.Trace.P99Size, mem.RSS>>20, mem.PeakRSS>>20, mem.Anon>>20)
		rec := perf.Record{Step: step, Backend: "embedded", Size: *nodes, OpenSeconds: open, Memory: &mem, LoadAvg: perf.LoadAverage()}
		if *n > 0 {
			rec.Query = &q
		}
		return rec, nil
	}
}
