package aibom

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
)

// maxListedCandidates caps how many candidates an ambiguity error names.
const maxListedCandidates = 10

// Resolve finds the node a user means by ref: a node id, a digest key
// ("sha256:<hex>", or a bare 64/128-character hex digest), a purl, a name
// ("acme/llm-7b" or "name:acme/llm-7b") or a URI such as hf://acme/llm-7b.
//
// When ref names nodes of several kinds (a single-file model and its file
// share a digest), a Model or Deployment wins, since those are what can be
// exported. A ref that still names more than one node is an error wrapping
// ErrAmbiguous that lists the candidates; a ref that names nothing is an
// error wrapping graph.ErrNotFound.
func Resolve(ctx context.Context, r graph.Reader, ref string) (graph.NodeID, graph.NodeKind, error) {
	ref = strings.TrimSpace(ref)
	switch {
	case ref == "":
		return "", "", fmt.Errorf("%w: reference is empty", ErrInvalidRequest)
	case len(ref) > graph.MaxKeyLen:
		return "", "", fmt.Errorf("%w: reference is %d bytes, limit %d", ErrInvalidRequest, len(ref), graph.MaxKeyLen)
	}
	if id := graph.NodeID(ref); id.Valid() {
		n, err := r.Node(ctx, id)
		if err != nil {
			return "", "", fmt.Errorf("resolve %q: %w", ref, err)
		}
		return n.ID, n.Kind, nil
	}
	byID := map[graph.NodeID]graph.Node{}
	var lookupErr error
	for _, key := range candidateKeys(ref) {
		ns, err := r.Lookup(ctx, key)
		if err != nil {
			// A ref that is not a valid key may still be a name; only a
			// store failure is fatal.
			if errors.Is(err, graph.ErrInvalidQuery) {
				lookupErr = err
				continue
			}
			return "", "", fmt.Errorf("resolve %q: %w", ref, err)
		}
		for _, n := range ns {
			byID[n.ID] = n
		}
	}
	var all, exportable []graph.Node
	for _, n := range byID {
		all = append(all, n)
		if n.Kind == graph.KindModel || n.Kind == graph.KindDeployment {
			exportable = append(exportable, n)
		}
	}
	cands := all
	if len(exportable) > 0 {
		cands = exportable
	}
	switch len(cands) {
	case 0:
		if lookupErr != nil {
			return "", "", fmt.Errorf("resolve %q: %w (%w)", ref, graph.ErrNotFound, lookupErr)
		}
		return "", "", fmt.Errorf("resolve %q: no node has this id, digest, purl, name or URI: %w", ref, graph.ErrNotFound)
	case 1:
		return cands[0].ID, cands[0].Kind, nil
	}
	slices.SortFunc(cands, func(a, b graph.Node) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
	})
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
	return "", "", fmt.Errorf("%w: %q names %d nodes, pass one of their ids: %s", ErrAmbiguous, ref, len(cands), sb.String())
}

// candidateKeys lists the keys ref may stand for. A bare name may contain a
// colon ("llama3:8b"), so anything that is not explicitly a name: key is
// also tried as a name.
func candidateKeys(ref string) []string {
	if isHex(ref) {
		switch len(ref) {
		case 64:
			return []string{"sha256:" + ref}
		case 128:
			return []string{"sha512:" + ref}
		}
	}
	if strings.HasPrefix(ref, "name:") {
		return []string{ref}
	}
	if i := strings.IndexByte(ref, ':'); i > 0 {
		return []string{ref, graph.NameKey(ref)}
	}
	return []string{graph.NameKey(ref)}
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}
