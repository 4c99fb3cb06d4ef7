package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/modelgraph/modelgraph/graph/neo4j"
	"github.com/modelgraph/modelgraph/internal/perf"
)

func neo4jCmd(fs *flag.FlagSet) func(context.Context) (any, error) {
	uri := fs.String("uri", "", "Bolt URI of an empty Neo4j server")
	nodes := fs.Int("nodes", 10_000, "graph size in nodes (about 5x as many edges)")
	n := fs.Int("n", 500, "queries of each kind")
	warmup := fs.Int("warmup", 50, "unmeasured queries of each kind first")
	chunk := fs.Int("chunk", neo4j.DefaultBulkSize, "documents per ApplyAll")
	reset := fs.Bool("reset", false, "delete everything in the database first (a development server only)")
	queryOnly := fs.Bool("query-only", false, "skip the load: query a server an earlier run loaded with the same -nodes")
	return func(ctx context.Context) (any, error) {
		if *uri == "" {
			return nil, errors.New("neo4j: -uri is required")
		}
		pl, err := plan(*nodes)
		if err != nil {
			return nil, fmt.Errorf("neo4j: %w", err)
		}
		cfg := neo4j.Config{URI: *uri, BulkSize: *chunk}
		if *reset {
			if err := neo4j.Reset(ctx, cfg); err != nil {
				return nil, fmt.Errorf("neo4j: %w", err)
			}
		}
		s, err := neo4j.Open(ctx, cfg)
		if err != nil {
			return nil, err
		}
		defer s.Close()
		st, err := s.Stats(ctx)
		if err != nil {
			return nil, fmt.Errorf("neo4j: %w", err)
		}
		if *queryOnly {
			q, err := perf.Workload(ctx, s, pl.Handles(), *n, *warmup, 1)
			if err != nil {
				return nil, fmt.Errorf("neo4j: %w", err)
			}
			neo4j.DumpTimings()
			logf("neo4j query %d: impact p50 %.3f p99 %.3f ms, trace p50 %.3f p99 %.3f ms",
				*nodes, q.Impact.P50ms, q.Impact.P99ms, q.Trace.P50ms, q.Trace.P99ms)
			return perf.Record{Step: "neo4j", Backend: "neo4j", Size: *nodes, Query: &q, LoadAvg: perf.LoadAverage()}, nil
		}
		if st.Nodes > 0 {
			return nil, fmt.Errorf("neo4j: the database holds %d nodes; measure on an empty server", st.Nodes)
		}
		load, err := perf.Load(ctx, s, pl, *chunk)
		if err != nil {
			return nil, fmt.Errorf("neo4j: %w", err)
		}
		neo4j.DumpTimings()
		logf("neo4j build %d: %d nodes, %d edges in %.1f s", *nodes, load.Nodes, load.Edges, load.Seconds)
		q, err := perf.Workload(ctx, s, pl.Handles(), *n, *warmup, 1)
		if err != nil {
			return nil, fmt.Errorf("neo4j: %w", err)
		}
		logf("neo4j query %d: impact p50 %.3f p99 %.3f ms, trace p50 %.3f p99 %.3f ms",
			*nodes, q.Impact.P50ms, q.Impact.P99ms, q.Trace.P50ms, q.Trace.P99ms)
		return perf.Record{Step: "neo4j", Backend: "neo4j", Size: *nodes, Load: &load, Query: &q, LoadAvg: perf.LoadAverage()}, nil
	}
}
