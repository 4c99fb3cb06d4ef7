package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/ref"
)

// parseRef reads a reference with graph/ref's grammar (the one home of
// it), as an ErrInvalidReference on bad input.
func parseRef(s string) (ref.Ref, error) {
	r, err := ref.Parse(s)
	if err != nil {
		var e *ref.Error
		if errors.As(err, &e) {
			return r, fmt.Errorf("%w: %s", ErrInvalidReference, e.Reason)
		}
		return r, fmt.Errorf("%w: %w", ErrInvalidReference, err)
	}
	return r, nil
}

func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:80] + "…"
}

// Resolve finds the nodes a reference names, restricted to kinds when given.
// The reference is read by graph/ref (ref.Parse) and looked up in its one
// order (ref.Lookup): the reference's keys are tried in order and the first
// that matches wins.
// When Models are wanted and the reference names only Files (a weights or
// tokenizer digest found on a host), the models containing those files are
// returned. No match is ErrNotFound.
func (s *Service) Resolve(ctx context.Context, refStr string, kinds ...graph.NodeKind) ([]Node, error) {
	ns, err := s.resolve(ctx, refStr, kinds...)
	if err != nil {
		return nil, err
	}
	out := make([]Node, len(ns))
	for i, n := range ns {
		out[i] = toNode(n)
	}
	return out, nil
}

func (s *Service) resolve(ctx context.Context, refStr string, kinds ...graph.NodeKind) ([]graph.Node, error) {
	r, err := parseRef(refStr)
	if err != nil {
		return nil, err
	}
	want := func(n graph.Node) bool { return len(kinds) == 0 || slices.Contains(kinds, n.Kind) }
	found, _, err := ref.Lookup(ctx, s.r, r, want)
	if err != nil {
		return nil, fmt.Errorf("resolve %q: %w", clip(r.Raw), err)
	}
	if len(found) == 0 {
		what := "node"
		if len(kinds) > 0 {
			what = joinKinds(kinds)
		}
		return nil, s.notFound(ctx, r.Raw, kinds, fmt.Sprintf("%v: no %s matches %q", ErrNotFound, what, clip(r.Raw)))
	}
	return found, nil
}

func joinKinds(kinds []graph.NodeKind) string {
	ss := make([]string, len(kinds))
	for i, k := range kinds {
		ss[i] = string(k)
	}
	return strings.Join(ss, " or ")
}

func ids(ns []graph.Node) []graph.NodeID {
	out := make([]graph.NodeID, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}
