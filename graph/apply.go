package graph

import (
	"fmt"
	"slices"
)

// The write algorithm: how one document's batch changes the graph. It is
// written once, here, over WriteState, the primitives a backend offers on
// its records inside its write transaction. graph/embedded implements
// WriteState on its transaction cache (raw evidence lists, spilled to their
// own buckets); Planner implements it on an overlay of graph.Node records
// for graph/neo4j, which then writes the resulting Plan. The identity
// decisions come from Resolve; receipts are counted here; backends make no
// decision of their own.

// WriteState is a backend's graph as the write algorithm drives it: its
// record primitives and a hook after each write.
type WriteState interface {
	Records
	// Wrote is called after each node spec and each changed edge (fault
	// injection: see WithFault).
	Wrote() error
}

// Records are the record primitives of a backend's graph inside a write
// transaction. Every method sees the effect of the earlier ones.
type Records interface {
	// Owner returns the node owning key in kind ("" when none).
	Owner(kind NodeKind, key string) (NodeID, error)
	// KeyCount returns how many keys node id has.
	KeyCount(id NodeID) (int, error)
	// Exists reports whether node id exists.
	Exists(id NodeID) (bool, error)
	// Create makes node id of kind, with nothing on it yet.
	Create(id NodeID, kind NodeKind) error
	// Fold merges node from into node into (both exist, one kind): keys
	// and their owner, per-key and join evidence, claims and documents
	// united; every edge of from re-pointed to into and merged with an
	// edge already there (an edge between the two becomes a loop and is
	// kept); from deleted, its id an alias of into.
	Fold(from, into NodeID) error
	// Current returns the node that absorbed id during this transaction
	// (following folds), or id.
	Current(id NodeID) NodeID
	// AttachKey gives node id a key no node owns.
	AttachKey(id NodeID, kind NodeKind, key string) error
	// AddNodeEvidence records doc on node id: in the KeyDocs of each of
	// named, as the join of named (two or more: Joins), on each claim
	// name=value (Attrs) and on the node (Docs). It reports whether
	// anything was new.
	AddNodeEvidence(id NodeID, doc string, named []string, claims map[string]string) (bool, error)
	// AddEdgeEvidence records doc and its claims on edge ref, creating the
	// edge when absent; it reports whether it was created and whether
	// anything was new.
	AddEdgeEvidence(ref EdgeRef, doc string, claims map[string]string) (created, changed bool, err error)
}

// ApplyNodes writes the node specs of b (validated, not a duplicate)
// through st, counting into rc, and returns the node each spec resolved
// to. A later spec may fold an earlier one's node: map ids through
// st.Current before use (ApplyEdges does).
func ApplyNodes(st WriteState, b *Batch, rc *Receipt) ([]NodeID, error) {
	ids := make([]NodeID, len(b.Nodes))
	for i := range b.Nodes {
		id, err := applySpec(st, b, i, rc)
		if err != nil {
			return nil, fmt.Errorf("document %s: nodes[%d]: %w", b.Doc.Digest, i, err)
		}
		ids[i] = id
		if err := st.Wrote(); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func applySpec(st WriteState, b *Batch, i int, rc *Receipt) (NodeID, error) {
	spec := &b.Nodes[i]
	var buf [4]NodeID // most specs name one key
	owners := buf[:0]
	if len(spec.Keys) > len(buf) {
		owners = make([]NodeID, 0, len(spec.Keys))
	}
	owners = owners[:len(spec.Keys)]
	for j, k := range spec.Keys {
		o, err := st.Owner(spec.Kind, k)
		if err != nil {
			return "", err
		}
		owners[j] = o
	}
	var cerr error
	res := Resolve(i, spec.Kind, spec.Keys, owners, func(id NodeID) int {
		n, err := st.KeyCount(id)
		if err != nil && cerr == nil {
			cerr = err
		}
		return n
	})
	if cerr != nil {
		return "", cerr
	}
	rc.KeysNotAttached = append(rc.KeysNotAttached, res.Notes...)
	created := len(res.Fold) == 0
	if !slices.Contains(res.Fold, res.ID) {
		// A new node, or a rename: the id of a key joining now is smaller.
		exists, err := st.Exists(res.ID)
		if err != nil {
			return "", err
		}
		if exists {
			return "", fmt.Errorf("node id %s already exists for another key", res.ID)
		}
		if err := st.Create(res.ID, spec.Kind); err != nil {
			return "", err
		}
	}
	changed := created
	if absorbed := res.Absorbed(); len(absorbed) > 0 {
		for _, a := range absorbed {
			if err := st.Fold(a, res.ID); err != nil {
				return "", fmt.Errorf("merge %s into %s: %w", a, res.ID, err)
			}
		}
		rc.Merges = append(rc.Merges, Merge{Kind: spec.Kind, Into: res.ID, Absorbed: absorbed})
		changed = true
	}
	for _, k := range res.Attach {
		if err := st.AttachKey(res.ID, spec.Kind, k); err != nil {
			return "", err
		}
		changed = true
	}
	c, err := st.AddNodeEvidence(res.ID, b.Doc.Digest, res.Named, spec.Attrs)
	if err != nil {
		return "", err
	}
	if changed || c {
		if created {
			rc.NodesCreated++
		} else {
			rc.NodesTouched++
		}
	}
	return res.ID, nil
}

// ApplyEdges writes the edges of b, whose specs resolved to ids
// (ApplyNodes), through st, counting into rc. An edge is counted (and
// written) only when it is new or gained a claim or evidence.
func ApplyEdges(st WriteState, b *Batch, ids []NodeID, rc *Receipt) error {
	for i, e := range b.Edges {
		ref := EdgeRef{From: st.Current(ids[e.From]), Kind: e.Kind, To: st.Current(ids[e.To])}
		created, changed, err := st.AddEdgeEvidence(ref, b.Doc.Digest, e.Attrs)
		if err != nil {
			return fmt.Errorf("document %s: edges[%d]: %w", b.Doc.Digest, i, err)
		}
		if !created && !changed {
			continue
		}
		if created {
			rc.EdgesCreated++
		} else {
			rc.EdgesTouched++
		}
		if err := st.Wrote(); err != nil {
			return err
		}
	}
	return nil
}
