package graph

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Batch is everything one document asserts: the unit a Store applies
// atomically and idempotently (keyed by Doc.Digest). Edges refer to nodes by
// their index in Nodes, so a node named by several keys is resolved once.
//
// Build one with NewBatch, which adds the document's own node at index 0.
type Batch struct {
	Doc   Document
	Nodes []NodeSpec
	Edges []EdgeSpec

	byKey map[kindKey]int // (kind, normalised key) -> index, for dedup while building
	byRef map[EdgeRef3]int

	// checked is Validate's receipt: the fingerprint of the batch as
	// Validate last accepted it. A later Validate (the store's, after the
	// parser's) that finds the same fingerprint skips the work; any change
	// to what Validate checks changes the fingerprint and the batch is
	// validated again. Only Validate sets it.
	checked validMark
}

type kindKey struct {
	kind NodeKind
	key  string
}

// EdgeRef3 identifies an edge inside a Batch by node indices.
type EdgeRef3 struct {
	From int
	Kind EdgeKind
	To   int
}

// NodeSpec is a node as a document names it.
type NodeSpec struct {
	Kind  NodeKind
	Keys  []string          // at least one; the first names a new node's id
	Attrs map[string]string // claims about the node
}

// EdgeSpec is an edge as a document asserts it.
type EdgeSpec struct {
	From, To int // indices into Batch.Nodes
	Kind     EdgeKind
	Attrs    map[string]string
}

// DocNode is the index of the document's own node in a Batch from NewBatch.
const DocNode = 0

// NewBatch starts a batch for doc, with the Document node at index DocNode.
func NewBatch(doc Document) *Batch {
	b := &Batch{Doc: doc}
	i := b.Node(KindDocument, doc.Digest)
	b.Set(i, "type", doc.Type)
	b.Set(i, "predicateType", doc.PredicateType)
	b.Set(i, "status", string(doc.Status()))
	b.Set(i, "role", string(RoleOf(doc)))
	for _, sig := range doc.Signatures {
		key := SignerKey(sig)
		if key == "" {
			continue
		}
		id := b.Node(KindIdentity, key)
		b.Set(id, "method", sig.Method)
		b.Set(id, "identity", sig.Identity)
		b.Set(id, "issuer", sig.Issuer)
		b.Set(id, "keyId", sig.KeyID)
		b.Edge(DocNode, SignedBy, id, "status", string(sig.Status), "reason", sig.Reason, "method", sig.Method)
	}
	return b
}

// SignerKey is the Identity node key of a signature's signer: the OIDC
// issuer and subject for certificates, the key id for keys ("" when the
// signature names no signer at all).
func SignerKey(s Signature) string {
	switch {
	case s.Identity != "" && s.Issuer != "":
		return IdentityKey(s.Issuer, s.Identity)
	case s.KeyID != "":
		return PublicKeyKey(s.KeyID)
	case s.Identity != "":
		return IdentityKey("", s.Identity)
	}
	return ""
}

// Node adds (or finds) the node of kind named by keys and returns its index.
// Keys are normalised when the batch is validated; a spec sharing any key
// with an earlier spec of the same kind is the same node (keys merge). When
// keys name two earlier specs, the first one also gets the keys of the
// other that were named here, so the join reaches the store, which merges
// their nodes (graph.Resolve): the indices stay valid and name one node.
func (b *Batch) Node(kind NodeKind, keys ...string) int {
	if b.byKey == nil {
		b.byKey = map[kindKey]int{}
	}
	// Each key is normalised and looked up once (the index of the key
	// that found the node, and where each lookup landed, are kept for the
	// second pass); most calls name one to three keys.
	var nbuf [4]string
	var jbuf [4]int
	norm, at := nbuf[:0], jbuf[:0]
	if len(keys) > len(nbuf) {
		norm, at = make([]string, 0, len(keys)), make([]int, 0, len(keys))
	}
	idx := -1
	for _, k := range keys {
		if k == "" {
			continue
		}
		if nk, err := NormalizeKey(k); err == nil {
			k = nk
		}
		j, ok := b.byKey[kindKey{kind, k}]
		if !ok {
			j = -1
		} else if idx < 0 {
			idx = j
		}
		norm, at = append(norm, k), append(at, j)
	}
	if idx < 0 {
		idx = len(b.Nodes)
		b.Nodes = append(b.Nodes, NodeSpec{Kind: kind, Keys: make([]string, 0, len(keys))})
	}
	for n, k := range norm {
		j := at[n]
		if j < 0 {
			// Not indexed before this call: index it for idx, unless an
			// earlier key of this call was the same one (then it is).
			if !slices.Contains(norm[:n], k) {
				b.byKey[kindKey{kind, k}] = idx
				b.Nodes[idx].Keys = append(b.Nodes[idx].Keys, k)
			}
			continue
		}
		if j != idx && !slices.Contains(b.Nodes[idx].Keys, k) {
			b.Nodes[idx].Keys = append(b.Nodes[idx].Keys, k)
		}
	}
	return idx
}

// AddKey is Node(kind of node i, its first key, key): it attaches key to
// node i (joining, as Node does, when key already names another node of
// that kind) and returns the index Node would. For a node made by Node,
// whose first key indexes it, that costs one normalisation and two
// lookups instead of two normalisations of each key.
func (b *Batch) AddKey(i int, key string) int {
	n := &b.Nodes[i]
	if j, ok := b.byKey[kindKey{n.Kind, n.Keys[0]}]; !ok || j != i {
		return b.Node(n.Kind, n.Keys[0], key)
	}
	if key == "" {
		return i
	}
	if nk, err := NormalizeKey(key); err == nil {
		key = nk
	}
	mk := kindKey{n.Kind, key}
	if j, ok := b.byKey[mk]; ok {
		if j != i && !slices.Contains(n.Keys, key) {
			n.Keys = append(n.Keys, key)
		}
		return i
	}
	b.byKey[mk] = i
	n.Keys = append(n.Keys, key)
	return i
}

// Reserve makes room for about nodes more nodes (each with a key or two)
// and edges more edges, so a builder that knows the document's size does
// not grow the batch step by step. It changes nothing else.
func (b *Batch) Reserve(nodes, edges int) { b.ReserveAll(nodes, edges, 0) }

// ReserveAll is Reserve and ReserveKeys(keys) at once: the key index is
// made once, at its full size.
func (b *Batch) ReserveAll(nodes, edges, keys int) {
	if nodes > 0 {
		b.Nodes = slices.Grow(b.Nodes, nodes)
	}
	if n := 2*max(nodes, 0) + max(keys, 0); n > 0 {
		m := make(map[kindKey]int, len(b.byKey)+n)
		maps.Copy(m, b.byKey)
		b.byKey = m
	}
	if edges > 0 {
		b.Edges = slices.Grow(b.Edges, edges)
		m := make(map[EdgeRef3]int, len(b.byRef)+edges)
		maps.Copy(m, b.byRef)
		b.byRef = m
	}
}

// ReserveKeys makes room in the batch's key index for about keys more
// keys than Reserve allowed for (digests of components with several
// hashes), so the index is not rebuilt as it grows. It changes nothing
// else.
func (b *Batch) ReserveKeys(keys int) {
	if keys <= 0 {
		return
	}
	m := make(map[kindKey]int, len(b.byKey)+keys)
	maps.Copy(m, b.byKey)
	b.byKey = m
}

// Set claims name=value on node i; empty values are ignored.
func (b *Batch) Set(i int, name, value string) {
	if value == "" || i < 0 || i >= len(b.Nodes) {
		return
	}
	if b.Nodes[i].Attrs == nil {
		b.Nodes[i].Attrs = map[string]string{}
	}
	b.Nodes[i].Attrs[name] = value
}

// Edge asserts from -kind-> to with optional attrs (name, value pairs; empty
// values are dropped). Repeated assertions merge.
func (b *Batch) Edge(from int, kind EdgeKind, to int, attrs ...string) {
	if b.byRef == nil {
		b.byRef = map[EdgeRef3]int{}
	}
	ref := EdgeRef3{from, kind, to}
	i, ok := b.byRef[ref]
	if !ok {
		i = len(b.Edges)
		b.byRef[ref] = i
		b.Edges = append(b.Edges, EdgeSpec{From: from, To: to, Kind: kind})
	}
	for j := 0; j+1 < len(attrs); j += 2 {
		if attrs[j+1] == "" {
			continue
		}
		if b.Edges[i].Attrs == nil {
			b.Edges[i].Attrs = map[string]string{}
		}
		b.Edges[i].Attrs[attrs[j]] = attrs[j+1]
	}
}

// Describes marks node i as a subject of the document.
func (b *Batch) Describes(i int) { b.Edge(DocNode, Describes, i) }

// Validate checks the batch against the model's rules and limits and
// normalises its keys in place. Errors wrap ErrInvalidBatch and name the
// document and the offending field. Stores call it before writing anything.
//
// A batch validated once and unchanged since (parsers validate, then the
// store does) is not checked again: Validate keeps a fingerprint of what it
// accepted (the document's digest, type and signature statuses, every
// node's kind, keys and attributes, every edge) and compares it, which is a
// scan without allocations. Any change, through the builder methods or to
// the exported fields, gives another fingerprint and a full validation.
func (b *Batch) Validate() error {
	if b.checked.ok && b.checked == b.mark() {
		return nil
	}
	b.checked = validMark{}
	if err := b.validate(); err != nil {
		return err
	}
	b.checked = b.mark()
	return nil
}

func (b *Batch) validate() error {
	doc := b.Doc.Digest
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: document %s: %s", ErrInvalidBatch, docName(b.Doc), fmt.Sprintf(format, args...))
	}
	if !IsDigestKey(doc) {
		return fail("doc.digest %q is not a digest key", truncate(doc, 80))
	}
	if nd, err := NormalizeKey(doc); err != nil || nd != doc {
		return fail("doc.digest %q is not normalised (want lower-case %s)", truncate(doc, 80), nd)
	}
	if b.Doc.Type == "" {
		return fail("doc.type is empty")
	}
	if len(b.Doc.Signatures) > MaxSignatures {
		return fail("doc.signatures: %d signatures, limit %d", len(b.Doc.Signatures), MaxSignatures)
	}
	for i, s := range b.Doc.Signatures {
		if !s.Status.Valid() {
			return fail("doc.signatures[%d].status %q is not verified|failed|unverifiable|unsigned", i, s.Status)
		}
	}
	if len(b.Nodes) > MaxNodesPerBatch {
		return fail("nodes: %d nodes, limit %d", len(b.Nodes), MaxNodesPerBatch)
	}
	if len(b.Edges) > MaxEdgesPerBatch {
		return fail("edges: %d edges, limit %d", len(b.Edges), MaxEdgesPerBatch)
	}
	for i := range b.Nodes {
		n := &b.Nodes[i]
		if !n.Kind.Valid() {
			return fail("nodes[%d].kind %q is not a node kind", i, n.Kind)
		}
		if len(n.Keys) == 0 {
			return fail("nodes[%d] (%s) has no key", i, n.Kind)
		}
		if len(n.Keys) > MaxKeysPerNode {
			return fail("nodes[%d].keys: %d keys, limit %d", i, len(n.Keys), MaxKeysPerNode)
		}
		for j, k := range n.Keys {
			nk, err := NormalizeKey(k)
			if err != nil {
				return fail("nodes[%d].keys[%d]: %v", i, j, err)
			}
			// A key may name several specs of one kind: they name one
			// node, which the store resolves (graph.Resolve).
			n.Keys[j] = nk
		}
		n.Keys = uniqueKeepFirst(n.Keys)
		if err := checkAttrs(n.Attrs); err != nil {
			return fail("nodes[%d].attrs: %v", i, err)
		}
	}
	if len(b.Nodes) == 0 || b.Nodes[DocNode].Kind != KindDocument || !slices.Contains(b.Nodes[DocNode].Keys, doc) {
		return fail("nodes[0] must be the Document node keyed by the document digest (use NewBatch)")
	}
	for i, e := range b.Edges {
		if !e.Kind.Valid() {
			return fail("edges[%d].kind %q is not an edge kind", i, e.Kind)
		}
		if e.From < 0 || e.From >= len(b.Nodes) {
			return fail("edges[%d].from %d is out of range [0, %d)", i, e.From, len(b.Nodes))
		}
		if e.To < 0 || e.To >= len(b.Nodes) {
			return fail("edges[%d].to %d is out of range [0, %d)", i, e.To, len(b.Nodes))
		}
		if err := checkAttrs(e.Attrs); err != nil {
			return fail("edges[%d].attrs: %v", i, err)
		}
	}
	// A document vouches for the keys its subject spec names, no more: the
	// DESCRIBES edge records them (SubjectKeysAttr), so a key the document
	// names elsewhere (an input, a base model) is never taken for one it
	// vouches for, whatever merges later join (docs/security.md).
	for i := range b.Edges {
		e := &b.Edges[i]
		if e.Kind != Describes || e.From != DocNode {
			continue
		}
		raw, err := json.Marshal(slices.Sorted(slices.Values(b.Nodes[e.To].Keys)))
		if err != nil {
			return fail("edges[%d]: subject keys: %v", i, err)
		}
		if e.Attrs == nil {
			e.Attrs = map[string]string{}
		}
		e.Attrs[SubjectKeysAttr] = string(raw)
		if err := checkAttrs(e.Attrs); err != nil {
			return fail("edges[%d].attrs: %v", i, err)
		}
	}
	return nil
}

// SubjectKeysAttr is the DESCRIBES edge attribute listing, as a JSON array,
// the keys of the subject spec the document named: what it vouches for.
const SubjectKeysAttr = "subjectKeys"

// SubjectKeys decodes the SubjectKeysAttr values of a DESCRIBES edge by
// document: doc -> the keys its subject specs named.
func SubjectKeys(e Edge) map[string][]string {
	out := map[string][]string{}
	for _, a := range e.Attrs {
		if a.Name != SubjectKeysAttr {
			continue
		}
		var ks []string
		if json.Unmarshal([]byte(a.Value), &ks) != nil {
			continue
		}
		for _, d := range a.Docs {
			for _, k := range ks {
				out[d], _ = AddSorted(out[d], k)
			}
		}
	}
	return out
}

func docName(d Document) string {
	if d.Source != "" && d.Digest != "" {
		return fmt.Sprintf("%s (%s)", d.Source, truncate(d.Digest, 80))
	}
	if d.Source != "" {
		return d.Source
	}
	return truncate(d.Digest, 80)
}

func checkAttrs(as map[string]string) error {
	if len(as) > MaxAttrsPerItem {
		return fmt.Errorf("%d attributes, limit %d", len(as), MaxAttrsPerItem)
	}
	bad := false
	for name, v := range as {
		if badAttr(name, v) {
			bad = true
			break
		}
	}
	if !bad {
		return nil
	}
	// Report the first bad attribute in name order, whatever the map order.
	for _, name := range slices.Sorted(maps.Keys(as)) {
		v := as[name]
		if name == "" || len(name) > MaxAttrNameLen || strings.ContainsAny(name, "\x00\n") {
			return fmt.Errorf("attribute name %q is empty, too long or has control characters", truncate(name, 40))
		}
		if len(v) > MaxAttrValueLen {
			return fmt.Errorf("attribute %s: value is %d bytes, limit %d", name, len(v), MaxAttrValueLen)
		}
	}
	return nil
}

func badAttr(name, v string) bool {
	return name == "" || len(name) > MaxAttrNameLen || strings.ContainsAny(name, "\x00\n") || len(v) > MaxAttrValueLen
}

func uniqueKeepFirst(ks []string) []string {
	if len(ks) <= 8 {
		// Most nodes have one to three keys: a quadratic scan, no map.
		out := ks[:0]
		for _, k := range ks {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
		return out
	}
	out := ks[:0]
	seen := make(map[string]bool, len(ks))
	for _, k := range ks {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}
