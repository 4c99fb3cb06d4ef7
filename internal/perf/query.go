package perf

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/synth"
)

// lineageKinds are the edges the query service's Trace and Impact follow
// (internal/query): what was made from what, what runs where.
var lineageKinds = []graph.EdgeKind{
	graph.TrainedOn, graph.DerivedFrom, graph.Contains, graph.DeployedAs, graph.DependsOn,
	graph.BuiltFrom, graph.ProducedBy, graph.Uses,
}

// ImpactRequest is the walk behind "what is affected if this dataset is
// poisoned": downstream from it over every lineage edge (models trained on
// it or derived from those, their training runs and deployments), with the
// service's default depth and limit.
func ImpactRequest(from graph.NodeID) graph.TraverseRequest {
	return graph.TraverseRequest{From: []graph.NodeID{from}, Direction: graph.Downstream, EdgeKinds: lineageKinds}
}

// TraceRequest is the walk behind "what went into this deployment":
// upstream over every lineage edge but CONTAINS (the service leaves weight
// shards out unless asked): the model, its base models, datasets, training
// runs and the packages of every SBOM on the way.
func TraceRequest(from graph.NodeID) graph.TraverseRequest {
	kinds := slices.DeleteFunc(slices.Clone(lineageKinds), func(k graph.EdgeKind) bool { return k == graph.Contains })
	return graph.TraverseRequest{From: []graph.NodeID{from}, Direction: graph.Upstream, EdgeKinds: kinds}
}

// QueryResult holds the latency of each query type.
type QueryResult struct {
	Impact Summary `json:"impact"`
	Trace  Summary `json:"trace"`
}

// Workload runs n impact queries (from random datasets) and n trace
// queries (from random deployments), interleaved, one at a time. Each
// operation is what an API call does against the store: resolve the key,
// then walk and load every reached node and edge. warmup operations of each
// kind run first and are not counted.
func Workload(ctx context.Context, r graph.Reader, h *synth.Chain, n, warmup int, seed uint64) (QueryResult, error) {
	return workload(ctx, r, h, n, warmup, seed, true, true)
}

// ImpactWorkload runs only the impact queries (for profiling them).
func ImpactWorkload(ctx context.Context, r graph.Reader, h *synth.Chain, n, warmup int, seed uint64) (QueryResult, error) {
	return workload(ctx, r, h, n, warmup, seed, true, false)
}

func workload(ctx context.Context, r graph.Reader, h *synth.Chain, n, warmup int, seed uint64, impact, trace bool) (QueryResult, error) {
	if len(h.Datasets) == 0 || len(h.Deployments) == 0 {
		return QueryResult{}, fmt.Errorf("workload: the chain has no datasets or no deployments")
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	var imp, tr, impCPU, trCPU Latencies
	// One OS thread runs every query, so its CPU clock read around one is
	// that query's CPU (threadCPU).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_, cpuOK := threadCPU()
	var cpu time.Duration
	one := func(key string, req func(graph.NodeID) graph.TraverseRequest) (int, time.Duration, error) {
		c0, _ := threadCPU()
		defer func() { c1, _ := threadCPU(); cpu = c1 - c0 }()
		t0 := time.Now()
		ns, err := r.Lookup(ctx, key)
		if err != nil {
			return 0, 0, fmt.Errorf("lookup %s: %w", key, err)
		}
		if len(ns) == 0 {
			return 0, 0, fmt.Errorf("lookup %s: no node (was the graph built with the same parameters?)", key)
		}
		res, err := r.Traverse(ctx, req(ns[0].ID))
		if err != nil {
			return 0, 0, fmt.Errorf("traverse from %s: %w", key, err)
		}
		return len(res.Steps), time.Since(t0), nil
	}
	for i := range warmup + n {
		ds, dp := h.Datasets[rng.IntN(len(h.Datasets))], h.Deployments[rng.IntN(len(h.Deployments))]
		if impact {
			size, d, err := one(ds, ImpactRequest)
			if err != nil {
				return QueryResult{}, fmt.Errorf("workload: impact: %w", err)
			}
			if i >= warmup {
				imp.AddSized(d, size)
				impCPU.Add(cpu)
			}
		}
		if trace {
			size, d, err := one(dp, TraceRequest)
			if err != nil {
				return QueryResult{}, fmt.Errorf("workload: trace: %w", err)
			}
			if i >= warmup {
				tr.AddSized(d, size)
				trCPU.Add(cpu)
			}
		}
	}
	if cpuOK {
		imp.SetCPU(&impCPU)
		tr.SetCPU(&trCPU)
	}
	return QueryResult{Impact: imp.Summarize(0), Trace: tr.Summarize(0)}, nil
}
