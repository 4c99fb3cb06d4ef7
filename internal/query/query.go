// Package query answers incident-response questions over a graph.Reader:
// resolve what the responder has in hand (a digest, a name, a purl, a URI)
// to nodes, then walk lineage upstream (what went into this?) or downstream
// (what is affected?), and say for every hop which documents back it, who
// signed them and whether the signatures verified. GraphQL, the HTTP API and
// the CLI all call these functions; none of them holds query logic.
package query

import (
	"context"
	"errors"
	"fmt"

	"github.com/modelgraph/modelgraph/aibom"
	"github.com/modelgraph/modelgraph/graph"
)

// Errors. Wrap with %w; test with errors.Is.
var (
	// ErrInvalidArgument is the root of every error caused by the caller's
	// input (a malformed reference, range, cursor or policy).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrInvalidReference is returned when a reference cannot name a node.
	ErrInvalidReference = fmt.Errorf("%w: invalid reference", ErrInvalidArgument)
	// ErrInvalidCursor is returned for a cursor this package did not issue.
	ErrInvalidCursor = fmt.Errorf("%w: invalid cursor", ErrInvalidArgument)
	// ErrNotFound is returned when a reference matches no node. It wraps
	// graph.ErrNotFound so either test works.
	ErrNotFound = fmt.Errorf("reference %w", graph.ErrNotFound)
)

// IsBadInput reports whether err is the caller's fault (HTTP 4xx): a bad
// argument, query or AI-BOM request.
func IsBadInput(err error) bool {
	return errors.Is(err, ErrInvalidArgument) || errors.Is(err, graph.ErrInvalidQuery) || errors.Is(err, aibom.ErrInvalidRequest)
}

// Limits of one question.
const (
	// DefaultDepth bounds lineage walks unless the caller asks otherwise.
	DefaultDepth = 12
	// MaxDepth is the deepest walk a caller may ask for.
	MaxDepth = graph.MaxTraverseDepth
	// WalkLimit caps the nodes one walk may reach; answers say when it cut.
	WalkLimit = 50_000
	// MaxScan caps the nodes a listing question (unverified, packages,
	// identities) reads before it stops and reports truncation.
	MaxScan = 1_000_000
	// MaxRefLen bounds a reference.
	MaxRefLen = graph.MaxKeyLen
)

// Service answers questions over one reader.
type Service struct {
	r   graph.Reader
	own ownIndex // search index when r keeps none (search.go)
}

// New returns a Service reading r.
func New(r graph.Reader) *Service { return &Service{r: r} }

// Reader returns the reader the service queries.
func (s *Service) Reader() graph.Reader { return s.r }

// Stats counts what the store holds, kinds in their fixed order.
type Stats struct {
	Nodes     int64       `json:"nodes"`
	Edges     int64       `json:"edges"`
	Documents int64       `json:"documents"`
	NodeKinds []KindCount `json:"nodeKinds"`
	EdgeKinds []KindCount `json:"edgeKinds"`
}

// KindCount is how many nodes or edges of one kind exist.
type KindCount struct {
	Kind  string `json:"kind"`
	Count int64  `json:"count"`
}

// Stats returns the store's counts.
func (s *Service) Stats(ctx context.Context) (Stats, error) {
	st, err := s.r.Stats(ctx)
	if err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	out := Stats{Nodes: st.Nodes, Edges: st.Edges, Documents: st.Documents}
	for _, k := range graph.NodeKinds {
		if n := st.NodeKinds[k]; n > 0 {
			out.NodeKinds = append(out.NodeKinds, KindCount{string(k), n})
		}
	}
	for _, k := range graph.EdgeKinds {
		if n := st.EdgeKinds[k]; n > 0 {
			out.EdgeKinds = append(out.EdgeKinds, KindCount{string(k), n})
		}
	}
	return out, nil
}

func checkDepth(depth int) (int, error) {
	switch {
	case depth == 0:
		return DefaultDepth, nil
	case depth < 0 || depth > MaxDepth:
		return 0, fmt.Errorf("%w: depth %d is out of range [1, %d]", ErrInvalidArgument, depth, MaxDepth)
	}
	return depth, nil
}
