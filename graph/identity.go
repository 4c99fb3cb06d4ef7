package graph

import (
	"fmt"
	"slices"
	"strings"
)

// Node identity: the one place the rule lives. Both backends call Resolve
// for every node spec they write and NodeIDFor for every id they assign;
// docs/architecture.md ("Node identity") and docs/mapping.md state it.
//
// A key is unique within a node kind. A node is the set of keys that
// documents named together: when a spec names keys owned by several nodes
// of its kind, those nodes become one (keys, claims, evidence and edges
// merge). The node's id is a function of its keys alone:
//
//	id = min over its keys k of NewNodeID(kind, k)
//
// so the final graph, ids included, is the same whatever the order or
// concurrency of the documents. An id that stops naming a node (the node
// was merged into another, or gained a key whose id is smaller) becomes an
// alias: Reader.Node(old) returns the node that absorbed it.

// MaxKeysPerStoredNode caps the keys one stored node collects through
// attachments and merges. A spec that would take a node past it leaves the
// excess keys where they are and says so in Receipt.KeysNotAttached; only
// then does the result depend on order.
const MaxKeysPerStoredNode = 256

// KeyClaim is the evidence for one key of a node: the documents that named
// that key for this node (sorted, unique). A document whose node spec lists
// keys k1 and k2 is in the Docs of both: that is the evidence that k1 and
// k2 name one thing, which a reader weighs by those documents' trust.
type KeyClaim struct {
	Key  string   `json:"k"`
	Docs []string `json:"d"`
}

// KeyJoin is the evidence that keys name one thing: the documents (sorted,
// unique) that named all of Keys (sorted, at least two) in one node spec.
// Two keys of a node are joined by a chain of KeyJoins; a reader trusting
// a join only through documents it trusts follows only their KeyJoins.
type KeyJoin struct {
	Keys []string `json:"k"`
	Docs []string `json:"d"`
}

// JoinID names a key set (keys sorted) for ordering and storage.
func JoinID(keys []string) string { return strings.Join(keys, "\x00") }

// AddJoin records that doc named keys together (js stays sorted by
// JoinID); fewer than two keys join nothing. It reports whether anything
// changed.
func AddJoin(js []KeyJoin, keys []string, doc string) ([]KeyJoin, bool) {
	if len(keys) < 2 {
		return js, false
	}
	ks := slices.Clone(keys)
	slices.Sort(ks)
	ks = slices.Compact(ks)
	id := JoinID(ks)
	i, found := slices.BinarySearchFunc(js, id, func(j KeyJoin, id string) int { return cmpStr(JoinID(j.Keys), id) })
	if !found {
		return slices.Insert(js, i, KeyJoin{Keys: ks, Docs: []string{doc}}), true
	}
	var added bool
	js[i].Docs, added = AddSorted(js[i].Docs, doc)
	return js, added
}

// UnionJoins merges two Joins lists (each sorted by JoinID).
func UnionJoins(a, b []KeyJoin) []KeyJoin {
	return unionBy(a, b, func(x, y KeyJoin) int { return cmpStr(JoinID(x.Keys), JoinID(y.Keys)) },
		func(x, y KeyJoin) KeyJoin { return KeyJoin{Keys: x.Keys, Docs: UnionSorted(x.Docs, y.Docs)} })
}

// Merge reports that nodes were folded into one: Absorbed ids (sorted) no
// longer name nodes and are aliases of Into. A node that gained a key with
// a smaller id is reported as a merge of its old id into the new one.
type Merge struct {
	Kind     NodeKind `json:"kind"`
	Into     NodeID   `json:"into"`
	Absorbed []NodeID `json:"absorbed"`
}

// KeyNote reports a key a document named that was not attached to the node
// the spec resolved to, and why.
type KeyNote struct {
	Spec   int      `json:"spec"` // index into Batch.Nodes
	Kind   NodeKind `json:"kind"`
	Key    string   `json:"key"`
	Owner  NodeID   `json:"owner,omitempty"` // the node that keeps the key, if any
	Reason string   `json:"reason"`
}

// NodeIDFor is the id of a node of kind carrying keys (at least one): the
// smallest NewNodeID(kind, k). Backends assign ids only through it.
func NodeIDFor(kind NodeKind, keys []string) NodeID {
	var best NodeID
	for _, k := range keys {
		if id := NewNodeID(kind, k); best == "" || id < best {
			best = id
		}
	}
	return best
}

// Resolution is what Resolve decided for one spec.
type Resolution struct {
	// ID is the node the spec names once written.
	ID NodeID
	// Fold lists the stored nodes (sorted) that become node ID: the owners
	// of the spec's keys, unless a limit kept some apart. Empty: ID is a new
	// node. ID is among them unless the node is renamed (a key with a
	// smaller id joined), in which case every node in Fold is absorbed.
	Fold []NodeID
	// Attach lists keys owned by no node, attached to ID (spec order).
	Attach []string
	// Named lists the spec's keys that end up on node ID (spec order):
	// the document is evidence for each (Node.KeyDocs).
	Named []string
	// Notes lists the keys not attached, and why.
	Notes []KeyNote
}

// Absorbed returns the ids of Fold other than ID: nodes that cease to exist.
func (r Resolution) Absorbed() []NodeID {
	var out []NodeID
	for _, id := range r.Fold {
		if id != r.ID {
			out = append(out, id)
		}
	}
	return out
}

// Resolve applies the identity rule to the spec of kind naming keys
// (normalised, as Batch.Validate leaves them; spec is its index for notes).
// owners[i] is the node owning keys[i] ("" when none); keyCount(id) is how
// many keys that node has. The result depends only on these inputs.
func Resolve(spec int, kind NodeKind, keys []string, owners []NodeID, keyCount func(NodeID) int) Resolution {
	var res Resolution
	// One allocation each, sized for the spec (the bulk writer resolves
	// every spec of every document; see docs/performance.md).
	nOwned := 0
	for _, o := range owners {
		if o != "" {
			nOwned++
		}
	}
	var owned []NodeID
	var free []string
	if nOwned > 0 {
		owned = make([]NodeID, 0, nOwned)
	}
	if nOwned < len(keys) {
		free = make([]string, 0, len(keys)-nOwned)
	}
	for i, k := range keys {
		if owners[i] == "" {
			free = append(free, k)
			continue
		}
		owned = append(owned, owners[i])
	}
	slices.Sort(owned)
	owned = slices.Compact(owned)
	total := len(free)
	for _, id := range owned {
		total += keyCount(id)
	}
	keep := owned
	room := MaxKeysPerStoredNode
	if total > MaxKeysPerStoredNode && len(owned) > 0 {
		// Too big to merge everything: the smallest owner takes the spec;
		// the other owners keep their keys.
		keep = owned[:1]
		room -= keyCount(owned[0])
		for i, k := range keys {
			if o := owners[i]; o != "" && o != keep[0] {
				res.Notes = append(res.Notes, KeyNote{Spec: spec, Kind: kind, Key: k, Owner: o,
					Reason: fmt.Sprintf("owned by node %s; merging it into %s would give more than %d keys", o, keep[0], MaxKeysPerStoredNode)})
			}
		}
	} else if total <= MaxKeysPerStoredNode {
		room = len(free)
	} else {
		room = MaxKeysPerStoredNode
	}
	res.Fold = slices.Clip(keep) // owned is this call's own
	for _, k := range free {
		if len(res.Attach) >= room {
			res.Notes = append(res.Notes, KeyNote{Spec: spec, Kind: kind, Key: k,
				Reason: fmt.Sprintf("the node would have more than %d keys", MaxKeysPerStoredNode)})
			continue
		}
		res.Attach = append(res.Attach, k)
	}
	res.ID = NodeIDFor(kind, res.Attach)
	for _, id := range keep {
		if res.ID == "" || id < res.ID {
			res.ID = id
		}
	}
	for i, k := range keys {
		if owners[i] != "" && slices.Contains(keep, owners[i]) || owners[i] == "" && slices.Contains(res.Attach, k) {
			if res.Named == nil {
				res.Named = make([]string, 0, len(keys)-i)
			}
			res.Named = append(res.Named, k)
		}
	}
	slices.SortFunc(res.Notes, func(a, b KeyNote) int { return cmpStr(a.Key, b.Key) })
	return res
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AddKeyDoc records that doc named key for the node: kds stays sorted by
// key with each Docs sorted and unique. It reports whether anything changed.
func AddKeyDoc(kds []KeyClaim, key, doc string) ([]KeyClaim, bool) {
	i, found := slices.BinarySearchFunc(kds, key, func(c KeyClaim, k string) int { return cmpStr(c.Key, k) })
	if !found {
		return slices.Insert(kds, i, KeyClaim{Key: key, Docs: []string{doc}}), true
	}
	var added bool
	kds[i].Docs, added = AddSorted(kds[i].Docs, doc)
	return kds, added
}

// UnionSorted merges two sorted, unique lists.
func UnionSorted(a, b []string) []string {
	return unionBy(a, b, cmpStr, func(x, _ string) string { return x })
}

// unionBy merges two lists sorted by cmp, combining the elements that
// compare equal: the one merge every Union* shares.
func unionBy[T any](a, b []T, cmp func(T, T) int, both func(T, T) T) []T {
	out := make([]T, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := cmp(a[i], b[j]); {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			out = append(out, b[j])
			j++
		default:
			out = append(out, both(a[i], b[j]))
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// UnionAttrs merges two attribute lists (each sorted by name, value): one
// claim per (name, value), evidence united.
func UnionAttrs(a, b []Attr) []Attr {
	return unionBy(a, b, cmpAttr, func(x, y Attr) Attr { return Attr{Name: x.Name, Value: x.Value, Docs: UnionSorted(x.Docs, y.Docs)} })
}

// UnionKeyClaims merges two KeyDocs lists (each sorted by key).
func UnionKeyClaims(a, b []KeyClaim) []KeyClaim {
	return unionBy(a, b, func(x, y KeyClaim) int { return cmpStr(x.Key, y.Key) },
		func(x, y KeyClaim) KeyClaim { return KeyClaim{Key: x.Key, Docs: UnionSorted(x.Docs, y.Docs)} })
}

// Repoint maps an edge whose ends may have been absorbed: an end in
// renamed becomes the node that absorbed it. An edge whose two ends merge
// becomes a self-loop and is kept, with its evidence (nothing a document
// said is dropped; traversals visit each node once, so loops are harmless).
func Repoint(ref EdgeRef, renamed map[NodeID]NodeID) EdgeRef {
	if to, ok := renamed[ref.From]; ok {
		ref.From = to
	}
	if to, ok := renamed[ref.To]; ok {
		ref.To = to
	}
	return ref
}

// MergeNode folds src into dst (both graph.Node records of one kind):
// keys, key evidence, claims and document evidence united. dst keeps its id.
func MergeNode(dst, src Node) Node {
	dst.Keys = UnionSorted(dst.Keys, src.Keys)
	dst.KeyDocs = UnionKeyClaims(dst.KeyDocs, src.KeyDocs)
	dst.Joins = UnionJoins(dst.Joins, src.Joins)
	dst.Attrs = UnionAttrs(dst.Attrs, src.Attrs)
	dst.Docs = UnionSorted(dst.Docs, src.Docs)
	return dst
}

// MergeEdge folds src's evidence into dst.
func MergeEdge(dst, src Edge) Edge {
	dst.Attrs = UnionAttrs(dst.Attrs, src.Attrs)
	dst.Docs = UnionSorted(dst.Docs, src.Docs)
	return dst
}
