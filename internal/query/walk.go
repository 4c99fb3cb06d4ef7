package query

import (
	"context"
	"fmt"
	"slices"

	"github.com/modelgraph/modelgraph/graph"
)

// rule lets a walk leave a node of kind from through edges of kind (Out:
// the node is the edge's From; In: its To) into peers of the kinds to.
type rule struct {
	from graph.NodeKind
	dir  graph.Direction
	kind graph.EdgeKind
	to   []graph.NodeKind
}

// walkRules is a breadth-first walk whose edges depend on the kind of node
// being left, for questions graph.Traverse's uniform filters cannot express
// (a package's dependents, but not a fine-tune of a dependent model). Its
// result has Traverse's shape and guarantees: each node once, at its
// smallest depth, in rule then edge order; Truncated and DepthLimited say
// when limit or depth cut it.
func (s *Service) walkRules(ctx context.Context, starts []graph.Node, rules []rule, depth, limit int) (graph.TraverseResult, error) {
	var res graph.TraverseResult
	seen := map[graph.NodeID]bool{}
	var frontier []graph.Node
	for _, n := range starts {
		if !seen[n.ID] {
			seen[n.ID] = true
			res.Steps = append(res.Steps, graph.Step{Node: n})
			frontier = append(frontier, n)
		}
	}
	reached := 0
	for d := 1; len(frontier) > 0; d++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var next []graph.Node
		for _, n := range frontier {
			for _, r := range rules {
				if r.from != n.Kind {
					continue
				}
				es, err := s.r.Edges(ctx, n.ID, r.dir, r.kind)
				if err != nil {
					return res, fmt.Errorf("edges of %s: %w", n.ID, err)
				}
				for _, e := range es {
					peer := e.To
					if r.dir == graph.In {
						peer = e.From
					}
					if seen[peer] {
						continue
					}
					pn, err := s.r.Node(ctx, peer)
					if err != nil {
						return res, fmt.Errorf("node %s: %w", peer, err)
					}
					if !slices.Contains(r.to, pn.Kind) {
						continue
					}
					if d > depth {
						res.DepthLimited = true
						return res, nil
					}
					if reached == limit {
						res.Truncated = true
						return res, nil
					}
					seen[peer] = true
					reached++
					via := e
					res.Steps = append(res.Steps, graph.Step{Node: pn, Depth: d, Parent: n.ID, Via: &via})
					next = append(next, pn)
				}
			}
		}
		frontier = next
	}
	return res, nil
}
