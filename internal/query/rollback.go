package query

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelgraph/modelgraph/graph"
)

// taint records that a node is downstream of an active advisory.
type taint struct {
	advisory NodeRef
	path     []graph.Edge // from the advisory to the node
}

// taints walks downstream from every active advisory (AFFECTS, then
// lineage) and returns, for each node reached, the first advisory that
// reached it. A node affected through its dataset, base model, contained
// file or a package it depends on is tainted like one affected directly.
func (s *Service) taints(ctx context.Context, l *loader, depth int) (map[graph.NodeID]taint, bool, error) {
	var active []graph.NodeID
	for _, kind := range advisoryKinds {
		err := s.scan(ctx, kind, "", func(n graph.Node) (bool, error) {
			st, err := l.settledClaim(ctx, n.Attrs, "status", n.Kind, advisoryPreference)
			if err == nil && IsActiveStatus(st) {
				active = append(active, n.ID)
			}
			return err == nil, err
		})
		if err != nil {
			return nil, false, err
		}
	}
	out := map[graph.NodeID]taint{}
	if len(active) == 0 {
		return out, false, nil
	}
	res, err := s.r.Traverse(ctx, graph.TraverseRequest{From: active, Direction: graph.Downstream,
		EdgeKinds: append([]graph.EdgeKind{graph.Affects}, lineageKinds...), MaxDepth: depth, Limit: WalkLimit})
	if err != nil {
		return nil, false, fmt.Errorf("walk from active advisories: %w", err)
	}
	t := newTree(res)
	for _, st := range res.Steps {
		if st.Via == nil {
			continue
		}
		root, _ := t.step(t.root(st.Node.ID))
		out[st.Node.ID] = taint{advisory: toRef(root.Node), path: t.path(st.Node.ID)}
	}
	return out, res.Truncated || res.DepthLimited, nil
}

func (l *loader) taintReason(ctx context.Context, t taint, subject string) string {
	if len(t.path) <= 1 {
		return fmt.Sprintf("%s is affected by active advisory %s", subject, t.advisory.Name)
	}
	direct := t.path[0].To
	n, err := l.r.Node(ctx, direct)
	name := string(direct)
	if err == nil {
		name = string(n.Kind) + " " + displayName(n)
	}
	return fmt.Sprintf("%s is downstream (%d hops) of %s, which active advisory %s affects", subject, len(t.path)-1, name, t.advisory.Name)
}

// RollbackCandidate is a model on the deployed model's lineage.
type RollbackCandidate struct {
	Model Node `json:"model"`
	// Relation to the deployed model: parent, ancestor, sibling (shares a
	// parent), relative (further along the lineage) or descendant.
	Relation string `json:"relation"`
	Distance int    `json:"distance"` // DERIVED_FROM hops from the deployed model
	Kept     bool   `json:"kept"`
	// Reasons say why it was kept or excluded.
	Reasons    []string  `json:"reasons"`
	Advisories []NodeRef `json:"advisories"` // active advisories that reach it
	Identity   Identity  `json:"identity"`   // its own evidence
	Path       []Hop     `json:"path"`       // DERIVED_FROM hops from the deployed model
}

// RollbackAnswer lists rollback candidates for a deployment.
type RollbackAnswer struct {
	Deployment Node      `json:"deployment"`
	Current    []NodeRef `json:"current"` // the models it runs
	// Candidates are ordered nearest first (then parents and ancestors
	// before siblings, then verified before unverified, then by name).
	Candidates []RollbackCandidate `json:"candidates"`
	// Recommended is the nearest kept candidate with verified evidence of
	// its own, else the nearest kept one; nil when none is kept.
	Recommended *RollbackCandidate `json:"recommended"`
	// Incomplete: a walk hit its depth or size bound, so an advisory may
	// reach further than the answer shows.
	Incomplete bool `json:"incomplete"`
}

var relationRank = map[string]int{"parent": 0, "ancestor": 1, "sibling": 2, "relative": 3, "descendant": 4}

// RollbackCandidates finds earlier models on the lineage of the model a
// deployment runs: ancestors and siblings through DERIVED_FROM (depth
// bounds the walk), each kept only when no active advisory reaches it,
// directly or through its upstream (datasets, base models, files,
// packages). Descendants of the deployed model are listed and excluded:
// they are not earlier versions and inherit its problems.
func (s *Service) RollbackCandidates(ctx context.Context, deployment string, depth int) (RollbackAnswer, error) {
	if depth == 0 {
		depth = 6
	}
	depth, err := checkDepth(depth)
	if err != nil {
		return RollbackAnswer{}, err
	}
	deps, err := s.resolve(ctx, deployment, graph.KindDeployment)
	if err != nil {
		return RollbackAnswer{}, err
	}
	dep := deps[0]
	l := s.loader()
	out := RollbackAnswer{Deployment: toNode(dep), Candidates: []RollbackCandidate{}}
	in, err := s.r.Edges(ctx, dep.ID, graph.In, graph.DeployedAs)
	if err != nil {
		return RollbackAnswer{}, fmt.Errorf("models of %s: %w", displayName(dep), err)
	}
	var current []graph.NodeID
	var withdrawn []graph.NodeID
	for _, e := range in {
		h, err := l.served(ctx, e, NodeRef{ID: e.From}, time.Time{})
		if err != nil {
			return RollbackAnswer{}, err
		}
		if h.State == "active" {
			current = append(current, e.From)
		} else {
			withdrawn = append(withdrawn, e.From)
		}
	}
	if len(current) == 0 {
		// Everything was withdrawn: roll back from what ran last.
		current = withdrawn
	}
	if len(current) == 0 {
		return RollbackAnswer{}, fmt.Errorf("%w: deployment %s runs no recorded model", ErrNotFound, displayName(dep))
	}
	for _, id := range current {
		n, err := s.r.Node(ctx, id)
		if err != nil {
			return RollbackAnswer{}, fmt.Errorf("model %s: %w", id, err)
		}
		out.Current = append(out.Current, toRef(n))
	}
	walk := func(dir graph.Direction) (graph.TraverseResult, error) {
		return s.r.Traverse(ctx, graph.TraverseRequest{From: current, Direction: dir, EdgeKinds: []graph.EdgeKind{graph.DerivedFrom},
			NodeKinds: []graph.NodeKind{graph.KindModel}, MaxDepth: depth, Limit: WalkLimit})
	}
	up, err := walk(graph.Upstream)
	if err != nil {
		return RollbackAnswer{}, fmt.Errorf("ancestors: %w", err)
	}
	down, err := walk(graph.Downstream)
	if err != nil {
		return RollbackAnswer{}, fmt.Errorf("descendants: %w", err)
	}
	both, err := walk(graph.Both)
	if err != nil {
		return RollbackAnswer{}, fmt.Errorf("lineage: %w", err)
	}
	parents := map[graph.NodeID]bool{}
	ancestors := map[graph.NodeID]int{}
	for _, st := range up.Steps {
		if st.Via != nil {
			ancestors[st.Node.ID] = st.Depth
			if st.Depth == 1 {
				parents[st.Node.ID] = true
			}
		}
	}
	descendants := map[graph.NodeID]bool{}
	for _, st := range down.Steps {
		if st.Via != nil {
			descendants[st.Node.ID] = true
		}
	}
	taints, partial, err := s.taints(ctx, l, MaxDepth)
	if err != nil {
		return RollbackAnswer{}, err
	}
	out.Incomplete = partial || up.Truncated || both.Truncated || both.DepthLimited
	t := newTree(both)
	for _, st := range both.Steps {
		if st.Via == nil {
			continue
		}
		c := RollbackCandidate{Model: toNode(st.Node), Distance: st.Depth, Advisories: []NodeRef{}}
		switch {
		case ancestors[st.Node.ID] == 1:
			c.Relation = "parent"
		case ancestors[st.Node.ID] > 1:
			c.Relation = "ancestor"
		case descendants[st.Node.ID]:
			c.Relation = "descendant"
		default:
			c.Relation = "relative"
			es, err := s.r.Edges(ctx, st.Node.ID, graph.Out, graph.DerivedFrom)
			if err != nil {
				return RollbackAnswer{}, fmt.Errorf("parents of %s: %w", st.Node.ID, err)
			}
			if slices.ContainsFunc(es, func(e graph.Edge) bool { return parents[e.To] }) {
				c.Relation = "sibling"
			}
		}
		if c.Path, err = l.hops(ctx, t, st.Node.ID); err != nil {
			return RollbackAnswer{}, err
		}
		if c.Identity, err = l.identity(ctx, st.Node, ""); err != nil {
			return RollbackAnswer{}, err
		}
		c.Kept = true
		if c.Relation == "descendant" {
			c.Kept = false
			c.Reasons = append(c.Reasons, "derived from the deployed model: not an earlier version, and inherits what affects it")
		}
		if tn, ok := taints[st.Node.ID]; ok {
			c.Kept = false
			c.Advisories = append(c.Advisories, tn.advisory)
			c.Reasons = append(c.Reasons, l.taintReason(ctx, tn, "it"))
		}
		if c.Kept {
			c.Reasons = append(c.Reasons, "no active advisory reaches it or anything upstream of it")
		}
		if c.Identity.Verified {
			c.Reasons = append(c.Reasons, "has verified evidence of its own")
		} else {
			c.Reasons = append(c.Reasons, "no verified evidence of its own: "+c.Identity.Reason)
		}
		out.Candidates = append(out.Candidates, c)
	}
	slices.SortStableFunc(out.Candidates, func(a, b RollbackCandidate) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(relationRank[a.Relation], relationRank[b.Relation]),
			cmp.Compare(b.Identity.Status.Rank(), a.Identity.Status.Rank()), strings.Compare(a.Model.Name, b.Model.Name),
			strings.Compare(string(a.Model.ID), string(b.Model.ID)))
	})
	for i, c := range out.Candidates {
		if c.Kept && c.Identity.Verified {
			out.Recommended = &out.Candidates[i]
			break
		}
	}
	if out.Recommended == nil {
		for i, c := range out.Candidates {
			if c.Kept {
				out.Recommended = &out.Candidates[i]
				break
			}
		}
	}
	return out, nil
}
