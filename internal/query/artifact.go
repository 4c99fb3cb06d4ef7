package query

import (
	"context"
	"fmt"

	"github.com/modelgraph/modelgraph/graph"
)

// The reads internal/admission composes a decision from: which nodes a
// digest names and how trust by role judges each for that digest, whether
// an active advisory reaches them, and how their upstream hops are
// vouched for. The rules stay here (judge, settled claims, hops); the
// policy over them is internal/admission's.

// ArtifactKinds are the kinds a deployable artifact's digest is judged as.
var ArtifactKinds = []graph.NodeKind{graph.KindModel, graph.KindDataset, graph.KindPackage, graph.KindSource}

// CheckDepth validates a walk depth: DefaultDepth for 0, an error wrapping
// ErrInvalidArgument outside [1, MaxDepth].
func CheckDepth(depth int) (int, error) { return checkDepth(depth) }

// DigestVerdicts resolves digest to the artifact nodes it names (of
// ArtifactKinds, in kind order; a file's digest names the models
// containing it) and judges each as the artifact with that digest (trust
// by role, evidence.go). A digest no document names is ErrNotFound.
func (s *Service) DigestVerdicts(ctx context.Context, digest string) ([]graph.Node, []Identity, error) {
	subjects, err := s.resolve(ctx, digest, ArtifactKinds...)
	if err != nil {
		return nil, nil, err
	}
	l := s.loader()
	verdicts := make([]Identity, len(subjects))
	for i, n := range subjects {
		if verdicts[i], err = l.identity(ctx, n, digest); err != nil {
			return nil, nil, err
		}
	}
	return subjects, verdicts, nil
}

// Taint is how an active advisory reaches a node.
type Taint struct {
	Node     graph.NodeID
	Advisory NodeRef
	// Reason says it in a sentence naming the node as subject.
	Reason string
	// Path is the hops from the advisory to the node.
	Path []Hop
}

// FirstTaint walks downstream from every active advisory (AFFECTS, then
// lineage, up to MaxDepth) and returns how one reaches the first of nodes
// it reaches (nil when none), and whether the walk was cut at its bounds.
func (s *Service) FirstTaint(ctx context.Context, nodes []graph.Node) (*Taint, bool, error) {
	l := s.loader()
	taints, partial, err := s.taints(ctx, l, MaxDepth)
	if err != nil {
		return nil, false, err
	}
	for _, n := range nodes {
		tn, ok := taints[n.ID]
		if !ok {
			continue
		}
		hops, err := l.edgeHops(ctx, tn.path)
		if err != nil {
			return nil, false, err
		}
		return &Taint{Node: n.ID, Advisory: tn.advisory, Reason: l.taintReason(ctx, tn, displayName(n)), Path: hops}, partial, nil
	}
	return nil, partial, nil
}

// UpstreamHops lists every hop of the upstream lineage of nodes (up to
// depth, checked as CheckDepth), each judged (Hop.Verified), and whether
// the walk was cut at its bounds.
func (s *Service) UpstreamHops(ctx context.Context, nodes []graph.Node, depth int) ([]Hop, bool, error) {
	depth, err := checkDepth(depth)
	if err != nil {
		return nil, false, err
	}
	res, err := s.r.Traverse(ctx, graph.TraverseRequest{From: ids(nodes), Direction: graph.Upstream, EdgeKinds: lineageKinds, MaxDepth: depth, Limit: WalkLimit})
	if err != nil {
		return nil, false, fmt.Errorf("upstream walk: %w", err)
	}
	l := s.loader()
	t := newTree(res)
	var hops []Hop
	for _, st := range res.Steps {
		if st.Via == nil {
			continue
		}
		from, _ := t.step(st.Via.From)
		to, _ := t.step(st.Via.To)
		h, err := l.hop(ctx, *st.Via, from.Node, to.Node)
		if err != nil {
			return nil, false, err
		}
		hops = append(hops, h)
	}
	return hops, res.Truncated || res.DepthLimited, nil
}

// edgeHops loads the nodes of a path and builds its hops.
func (l *loader) edgeHops(ctx context.Context, path []graph.Edge) ([]Hop, error) {
	out := make([]Hop, 0, len(path))
	for _, e := range path {
		from, err := l.r.Node(ctx, e.From)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", e.From, err)
		}
		to, err := l.r.Node(ctx, e.To)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", e.To, err)
		}
		h, err := l.hop(ctx, e, from, to)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}
