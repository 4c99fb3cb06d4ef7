package graph

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// HalfEdge is an edge seen from one of its ends.
type HalfEdge struct {
	Kind     EdgeKind
	Peer     NodeID
	PeerKind NodeKind
	Forward  bool // true when the edge runs from the seen end to Peer
}

// Walker is what a backend provides for Walk: adjacency in bulk and record
// loading. Backends implement Reader.Traverse by calling Walk, so every
// backend visits the same nodes in the same order.
type Walker interface {
	// Adjacent returns, for each id in ids (same order), its incident edges
	// that dir follows, restricted to kinds when non-empty.
	Adjacent(ctx context.Context, ids []NodeID, dir Direction, kinds []EdgeKind) ([][]HalfEdge, error)
	// LoadNodes returns the nodes for ids (same order); a missing one is an
	// error wrapping ErrNotFound.
	LoadNodes(ctx context.Context, ids []NodeID) ([]Node, error)
	// LoadEdges returns the edges for refs (same order).
	LoadEdges(ctx context.Context, refs []EdgeRef) ([]Edge, error)
}

// CheckTraverse validates req and fills in defaults.
func CheckTraverse(req *TraverseRequest) error {
	if len(req.From) == 0 {
		return fmt.Errorf("%w: traverse: from is empty", ErrInvalidQuery)
	}
	if len(req.From) > MaxLookupFrontier {
		return fmt.Errorf("%w: traverse: %d start nodes, limit %d", ErrInvalidQuery, len(req.From), MaxLookupFrontier)
	}
	for i, id := range req.From {
		if !id.Valid() {
			return fmt.Errorf("%w: traverse: from[%d] %q is not a node id", ErrInvalidQuery, i, truncate(string(id), 40))
		}
	}
	if !req.Direction.Valid() {
		return fmt.Errorf("%w: traverse: direction %d is not valid", ErrInvalidQuery, req.Direction)
	}
	for _, k := range req.EdgeKinds {
		if !k.Valid() {
			return fmt.Errorf("%w: traverse: edge kind %q is not valid", ErrInvalidQuery, k)
		}
	}
	for _, k := range req.NodeKinds {
		if !k.Valid() {
			return fmt.Errorf("%w: traverse: node kind %q is not valid", ErrInvalidQuery, k)
		}
	}
	switch {
	case req.MaxDepth < 0 || req.MaxDepth > MaxTraverseDepth:
		return fmt.Errorf("%w: traverse: depth %d is out of range [0, %d]", ErrInvalidQuery, req.MaxDepth, MaxTraverseDepth)
	case req.MaxDepth == 0:
		req.MaxDepth = DefaultDepth
	}
	switch {
	case req.Limit < 0 || req.Limit > MaxTraverseLimit:
		return fmt.Errorf("%w: traverse: limit %d is out of range [0, %d]", ErrInvalidQuery, req.Limit, MaxTraverseLimit)
	case req.Limit == 0:
		req.Limit = DefaultLimit
	}
	return nil
}

// SortHalfEdges puts half-edges in the canonical visiting order.
func SortHalfEdges(hs []HalfEdge) {
	slices.SortFunc(hs, func(a, b HalfEdge) int {
		if c := cmp.Compare(a.Kind.Code(), b.Kind.Code()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Peer, b.Peer); c != 0 {
			return c
		}
		switch {
		case a.Forward == b.Forward:
			return 0
		case a.Forward:
			return -1
		}
		return 1
	})
}

// Walk runs a breadth-first traversal over w. Cycles do not loop: each node
// is visited once, at its smallest depth, through the first edge in the
// canonical order (parent visiting order, then edge kind, then peer id).
func Walk(ctx context.Context, w Walker, req TraverseRequest) (TraverseResult, error) {
	if err := CheckTraverse(&req); err != nil {
		return TraverseResult{}, err
	}
	var allowed map[NodeKind]bool
	if len(req.NodeKinds) > 0 {
		allowed = make(map[NodeKind]bool, len(req.NodeKinds))
		for _, k := range req.NodeKinds {
			allowed[k] = true
		}
	}
	starts := slices.Clone(req.From)
	seen := make(map[NodeID]bool, max(len(starts), 64))
	starts = slices.DeleteFunc(starts, func(id NodeID) bool {
		if seen[id] {
			return true
		}
		seen[id] = true
		return false
	})
	type visit struct {
		id     NodeID
		depth  int
		parent NodeID
		via    EdgeRef
	}
	visits := make([]visit, 0, len(starts))
	for _, id := range starts {
		visits = append(visits, visit{id: id})
	}
	var res TraverseResult
	frontier := starts
	reached := 0
	for depth := 1; len(frontier) > 0 && !res.Truncated; depth++ {
		if err := ctx.Err(); err != nil {
			return TraverseResult{}, err
		}
		adj, err := w.Adjacent(ctx, frontier, req.Direction, req.EdgeKinds)
		if err != nil {
			return TraverseResult{}, err
		}
		if len(adj) != len(frontier) {
			return TraverseResult{}, fmt.Errorf("traverse: backend returned %d adjacency lists for %d nodes", len(adj), len(frontier))
		}
		var next []NodeID
	expand:
		for i, id := range frontier {
			hs := adj[i]
			SortHalfEdges(hs)
			for _, h := range hs {
				if !req.Direction.Follows(h.Kind, h.Forward) || seen[h.Peer] {
					continue
				}
				if allowed != nil && !allowed[h.PeerKind] {
					continue
				}
				if depth > req.MaxDepth {
					res.DepthLimited = true
					break expand
				}
				if reached == req.Limit {
					res.Truncated = true
					break expand
				}
				seen[h.Peer] = true
				ref := EdgeRef{From: id, Kind: h.Kind, To: h.Peer}
				if !h.Forward {
					ref = EdgeRef{From: h.Peer, Kind: h.Kind, To: id}
				}
				visits = append(visits, visit{id: h.Peer, depth: depth, parent: id, via: ref})
				next = append(next, h.Peer)
				reached++
			}
		}
		if res.DepthLimited {
			break
		}
		frontier = next
	}
	ids := make([]NodeID, len(visits))
	var refs []EdgeRef
	for i, v := range visits {
		ids[i] = v.id
		if v.parent != "" {
			refs = append(refs, v.via)
		}
	}
	nodes, err := w.LoadNodes(ctx, ids)
	if err != nil {
		return TraverseResult{}, err
	}
	edges, err := w.LoadEdges(ctx, refs)
	if err != nil {
		return TraverseResult{}, err
	}
	res.Steps = make([]Step, len(visits))
	ei := 0
	for i, v := range visits {
		res.Steps[i] = Step{Node: nodes[i], Depth: v.depth, Parent: v.parent}
		if v.parent != "" {
			res.Steps[i].Via = &edges[ei] // one allocation for every Via
			ei++
		}
	}
	return res, nil
}

// PathTo returns the edges from a start node to id along the traversal tree
// (nil when id is a start or was not reached).
func (r TraverseResult) PathTo(id NodeID) []Edge {
	byID := make(map[NodeID]int, len(r.Steps))
	for i, s := range r.Steps {
		byID[s.Node.ID] = i
	}
	var path []Edge
	for {
		i, ok := byID[id]
		if !ok || r.Steps[i].Via == nil {
			break
		}
		path = append(path, *r.Steps[i].Via)
		id = r.Steps[i].Parent
	}
	slices.Reverse(path)
	return path
}

// CheckNodeQuery validates q and returns the effective limit, so every
// backend lists nodes under the same rules.
func CheckNodeQuery(q NodeQuery) (int, error) {
	if !q.Kind.Valid() {
		return 0, fmt.Errorf("%w: nodes: kind %q is not valid", ErrInvalidQuery, q.Kind)
	}
	if q.After != "" && !q.After.Valid() {
		return 0, fmt.Errorf("%w: nodes: cursor %q is not a node id", ErrInvalidQuery, q.After)
	}
	switch {
	case q.Limit < 0 || q.Limit > MaxListLimit:
		return 0, fmt.Errorf("%w: nodes: limit %d is out of range [0, %d]", ErrInvalidQuery, q.Limit, MaxListLimit)
	case q.Limit == 0:
		return DefaultListLimit, nil
	}
	return q.Limit, nil
}
