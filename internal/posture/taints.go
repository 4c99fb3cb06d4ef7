package posture

import (
	"context"
	"fmt"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/query"
)

// hit says which active advisory (root) reaches a node, and the node it
// affects directly (via).
type hit struct {
	root graph.Node
	via  graph.Node
}

// taints are the nodes downstream of active advisories (through AFFECTS
// and lineage) and of active vulnerabilities (through AFFECTS and
// DEPENDS_ON: the packages of a serving image and what depends on them).
type taints struct {
	advisory map[graph.NodeID]hit
	vuln     map[graph.NodeID]hit
	partial  bool
}

var lineage = []graph.EdgeKind{graph.TrainedOn, graph.DerivedFrom, graph.Contains, graph.DeployedAs,
	graph.DependsOn, graph.BuiltFrom, graph.ProducedBy, graph.Uses}

func (e *eval) taints(ctx context.Context) (*taints, error) {
	if e.taint != nil {
		return e.taint, nil
	}
	active, err := e.s.Q.ActiveAdvisoryNodes(ctx)
	if err != nil {
		return nil, err
	}
	t := &taints{}
	var advs, vulns []hit
	for _, n := range active {
		affected, err := e.affected(ctx, n)
		if err != nil {
			return nil, err
		}
		for _, a := range affected {
			if n.Kind == graph.KindVulnerability {
				vulns = append(vulns, hit{root: n, via: a})
			} else {
				advs = append(advs, hit{root: n, via: a})
			}
		}
	}
	var p1, p2 bool
	if t.advisory, p1, err = e.walk(ctx, advs, lineage); err != nil {
		return nil, err
	}
	if t.vuln, p2, err = e.walk(ctx, vulns, []graph.EdgeKind{graph.DependsOn, graph.DeployedAs}); err != nil {
		return nil, err
	}
	t.partial = p1 || p2
	e.taint = t
	return t, nil
}

// affected lists the nodes an active advisory or vulnerability AFFECTS:
// every AFFECTS edge except one whose every status claim says the node is
// not affected or fixed (VEX).
func (e *eval) affected(ctx context.Context, n graph.Node) ([]graph.Node, error) {
	es, err := e.r.Edges(ctx, n.ID, graph.Out, graph.Affects)
	if err != nil {
		return nil, fmt.Errorf("affected by %s: %w", n.ID, err)
	}
	var out []graph.Node
	for _, ed := range es {
		sts := ed.AttrValues("status")
		cleared := len(sts) > 0
		for _, st := range sts {
			if st != "not_affected" && st != "fixed" {
				cleared = false
			}
		}
		if cleared {
			continue
		}
		to, err := e.node(ctx, ed.To)
		if err != nil {
			return nil, err
		}
		out = append(out, to)
	}
	return out, nil
}

// walk goes downstream from the affected nodes and records, for every node
// reached (the affected ones included), the first advisory that reached it
// and the node it affects directly.
func (e *eval) walk(ctx context.Context, starts []hit, kinds []graph.EdgeKind) (map[graph.NodeID]hit, bool, error) {
	out := map[graph.NodeID]hit{}
	if len(starts) == 0 {
		return out, false, nil
	}
	var ids []graph.NodeID
	for _, s := range starts {
		if _, ok := out[s.via.ID]; !ok {
			out[s.via.ID] = s
			ids = append(ids, s.via.ID)
		}
	}
	res, err := e.r.Traverse(ctx, graph.TraverseRequest{From: ids, Direction: graph.Downstream, EdgeKinds: kinds, MaxDepth: query.MaxDepth, Limit: query.WalkLimit})
	if err != nil {
		return nil, false, fmt.Errorf("walk from active advisories: %w", err)
	}
	steps := make(map[graph.NodeID]graph.Step, len(res.Steps))
	for _, st := range res.Steps {
		steps[st.Node.ID] = st
	}
	for _, st := range res.Steps {
		if _, ok := out[st.Node.ID]; ok {
			continue
		}
		cur := st
		for cur.Parent != "" {
			cur = steps[cur.Parent]
		}
		if h, ok := out[cur.Node.ID]; ok {
			out[st.Node.ID] = h
		}
	}
	return out, res.Truncated || res.DepthLimited, nil
}
