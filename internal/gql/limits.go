package gql

import (
	"context"
	"sync"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/advisory"
	"github.com/modelgraph/modelgraph/internal/admission"
	"github.com/modelgraph/modelgraph/internal/gql/generated"
	"github.com/modelgraph/modelgraph/internal/posture"
	"github.com/modelgraph/modelgraph/internal/query"
)

// The cost model, in work units (1 = one field resolved). A question
// costs the walk or scan behind it, whatever is selected from its answer
// (totalCount needs the whole walk however small the page), plus its page
// size times what is selected per item. A walk is charged for the nodes it
// may reach: the graph's node count (estimated from the store's stats,
// refreshed every few seconds) up to query.WalkLimit, at one unit per
// walkDivisor nodes; a scan at one unit per scanDivisor nodes, up to
// scanCap nodes. Measured: a walk over a 10k-node graph holds ~8 MB while
// its answer is built, so a unit is ~1.5 KB of heap and the server-wide
// budget (BudgetFactor x MaxComplexity units) bounds the heap the running
// questions hold.
const (
	walkBase    = 100
	walkDivisor = 2
	scanBase    = 100
	scanDivisor = 4
	scanCap     = 200_000
	ingestCost  = 1000
	// identityCost: Node.identity loads the documents naming the node.
	identityCost = 5
)

// costs turns the graph's estimated size into question costs.
type costs struct{ nodes func() int }

func (c costs) walk() int { return walkBase + min(c.nodes(), query.WalkLimit)/walkDivisor }
func (c costs) scan() int { return scanBase + min(c.nodes(), scanCap)/scanDivisor }

// graphSize caches the store's node count for the cost model.
type graphSize struct {
	r    graph.Reader
	mu   sync.Mutex
	at   time.Time
	n    int
	ttl  time.Duration
	init bool
}

func (g *graphSize) nodes() int {
	if g == nil || g.r == nil {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.init && time.Since(g.at) < g.ttl {
		return g.n
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if st, err := g.r.Stats(ctx); err == nil {
		g.n = int(st.Nodes)
	}
	g.at, g.init = time.Now(), true
	return g.n
}

func pageSize(first *int) int {
	if first == nil || *first <= 0 {
		return query.DefaultPageSize
	}
	return min(*first, query.MaxPageSize)
}

// complexity makes list questions cost their page size times what is
// selected per item, plus their base cost.
func complexity(k costs) generated.ComplexityRoot {
	var c generated.ComplexityRoot
	q := &c.Query
	walkCost, scanCost := k.walk, k.scan
	q.Trace = func(child int, _ string, _ *int, _ []graph.NodeKind, _ *bool, first *int, _ *string) int {
		return walkCost() + child*pageSize(first)
	}
	q.Impact = func(child int, _ string, _ *int, _ []graph.NodeKind, first *int, _ *string) int {
		return walkCost() + child*pageSize(first)
	}
	q.DeployedModelsTrainedOn = func(child int, _ string, _ *int, _ *bool, _ *time.Time, first *int, _ *string) int {
		return walkCost() + child*pageSize(first)
	}
	q.AffectedByPackage = func(child int, _ string, _ *string, _ *int, first *int, _ *string) int {
		return scanCost() + walkCost() + child*pageSize(first)
	}
	q.AffectedByAdvisory = func(child int, _ string, _ *int, first *int, _ *string) int {
		return walkCost() + child*pageSize(first)
	}
	q.Advisories = func(child int, _ *bool, first *int, _ *string) int { return scanCost() + child*pageSize(first) }
	q.Unverified = func(child int, _ []graph.NodeKind, first *int, _ *string) int {
		return scanCost() + child*pageSize(first)
	}
	q.Signatures = func(child int, _ string, _ *string, first *int, _ *string) int {
		return walkCost() + child*pageSize(first)
	}
	q.Explain = func(child int, _, _ string, _ *int) int { return 3*walkCost() + child }
	q.RollbackCandidates = func(child int, _ string, _ *int) int { return scanCost() + 4*walkCost() + child*10 }
	q.Admission = func(child int, _ string, _ *admission.Policy) int { return scanCost() + 2*walkCost() + child }
	q.Lookup = func(child int, _ string) int { return walkBase + child*10 }
	q.Resolve = func(child int, _ string, _ []graph.NodeKind) int { return walkBase + child*10 }
	q.Search = func(child int, _ string, _ []graph.NodeKind, first *int, _ *string) int {
		return walkBase + child*pageSize(first)
	}
	q.Nodes = func(child int, _ graph.NodeKind, _ *query.NodeFilter, first *int, _ *string) int {
		return scanCost() + walkCost() + child*pageSize(first)
	}
	q.Dashboard = func(child int) int { return 2*scanCost() + 10*walkCost() + child*query.DashboardRows }
	q.Aibom = func(child int, _, _, _, _ *string) int { return 2*walkCost() + child }
	q.Posture = func(child int, _ string) int { return scanCost() + 4*walkCost() + child }
	q.PostureReport = func(child int, _ *string, _ []graph.NodeKind, _ *posture.Sort, _ *bool, first *int, _ *string) int {
		return 2*scanCost() + 4*walkCost() + child*pageSize(first)
	}
	q.ScorecardHistory = func(child int, _ string) int { return walkBase + child*10 }
	q.WatchDeliveries = func(child int, _, _ *string, first *int) int { return scanBase + child*pageSize(first) }
	q.WatchEvents = func(child int, _, first *int) int { return scanBase + child*pageSize(first) }
	identity := func(child int) int { return identityCost + child }
	c.Node.Identity = identity
	c.NodeDetail.Identity = identity
	c.Mutation.Ingest = func(child int, _ string, _, _ *string) int { return ingestCost + child }
	c.Mutation.CreateAdvisory = func(child int, _ advisory.Input) int { return ingestCost + child }
	return c
}
