package aibom

import (
	"context"
	"fmt"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
	graphref "github.com/modelgraph/modelgraph/graph/ref"
)

// maxListedCandidates caps how many candidates an ambiguity error names.
const maxListedCandidates = 10

// Resolve finds the node a user means by ref, read by graph/ref (the one
// reference grammar, ref.Parse: a node id, a digest with or without its
// algorithm, a purl, a name, a hub id or URL, any URI or key) and looked up
// in its one order (ref.Lookup), as the query service does: the first
// candidate key that names a Model or Deployment, since those are what can
// be exported (a weights digest names the models containing the file);
// else the first that names any node, so the caller can say what the
// reference is. A ref that names more than one node there is an error
// wrapping ErrAmbiguous that lists the candidates; a ref that names
// nothing is an error wrapping graph.ErrNotFound; a ref that cannot name
// a node wraps ErrInvalidRequest.
func Resolve(ctx context.Context, r graph.Reader, refStr string) (graph.NodeID, graph.NodeKind, error) {
	parsed, err := graphref.Parse(refStr)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	raw := parsed.Raw
	exportable := func(n graph.Node) bool { return n.Kind == graph.KindModel || n.Kind == graph.KindDeployment }
	cands, _, err := graphref.Lookup(ctx, r, parsed, exportable)
	if err == nil && len(cands) == 0 {
		cands, _, err = graphref.Lookup(ctx, r, parsed, nil)
	}
	if err != nil {
		return "", "", fmt.Errorf("resolve %q: %w", raw, err)
	}
	switch len(cands) {
	case 0:
		return "", "", fmt.Errorf("resolve %q: no node has this id, digest, purl, name or URI: %w", raw, graph.ErrNotFound)
	case 1:
		return cands[0].ID, cands[0].Kind, nil
	}
	var sb strings.Builder
	for i, n := range cands {
		if i == maxListedCandidates {
			fmt.Fprintf(&sb, "; and %d more", len(cands)-i)
			break
		}
		if i > 0 {
			sb.WriteString("; ")
		}
		fmt.Fprintf(&sb, "%s %s (%s)", n.Kind, n.ID, strings.Join(n.Keys, ", "))
	}
	return "", "", fmt.Errorf("%w: %q names %d nodes, pass one of their ids: %s", ErrAmbiguous, raw, len(cands), sb.String())
}
