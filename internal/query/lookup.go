package query

import (
	"context"
	"fmt"

	"github.com/modelgraph/modelgraph/graph"
)

// NodeDetail is a node, the evidence for it and its immediate neighbours.
type NodeDetail struct {
	Node     Node     `json:"node"`
	Identity Identity `json:"identity"`
	// Edges are the node's incident edges with their evidence, CONTAINS
	// and DESCRIBES left out (a model has thousands of files; documents are
	// in Identity), at most MaxDetailEdges.
	Edges      []Hop `json:"edges"`
	EdgesTotal int   `json:"edgesTotal"`
	Files      int   `json:"files"` // CONTAINS edges out of the node
}

// MaxDetailEdges bounds NodeDetail.Edges.
const MaxDetailEdges = 200

// Lookup resolves ref and details every node it names.
func (s *Service) Lookup(ctx context.Context, ref string) ([]NodeDetail, error) {
	ns, err := s.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	l := s.loader()
	out := make([]NodeDetail, 0, len(ns))
	for _, n := range ns {
		d := NodeDetail{Node: toNode(n), Edges: []Hop{}}
		if d.Identity, err = l.identity(ctx, n, ""); err != nil {
			return nil, err
		}
		es, err := s.r.Edges(ctx, n.ID, graph.Both)
		if err != nil {
			return nil, fmt.Errorf("edges of %s: %w", displayName(n), err)
		}
		for _, e := range es {
			switch e.Kind {
			case graph.Contains:
				if e.From == n.ID {
					d.Files++
					continue
				}
			case graph.Describes:
				continue
			}
			d.EdgesTotal++
			if len(d.Edges) >= MaxDetailEdges {
				continue
			}
			from, to := n, n
			peer := e.To
			if e.To == n.ID {
				peer = e.From
			}
			p, err := s.r.Node(ctx, peer)
			if err != nil {
				return nil, fmt.Errorf("neighbour %s: %w", peer, err)
			}
			if e.To == n.ID {
				from = p
			} else {
				to = p
			}
			h, err := l.hop(ctx, e, from, to)
			if err != nil {
				return nil, err
			}
			d.Edges = append(d.Edges, h)
		}
		out = append(out, d)
	}
	return out, nil
}

// Node returns the node with id.
func (s *Service) Node(ctx context.Context, id graph.NodeID) (Node, error) {
	n, err := s.r.Node(ctx, id)
	if err != nil {
		return Node{}, fmt.Errorf("node %s: %w", id, err)
	}
	return toNode(n), nil
}
