package graph

import (
	"slices"
	"time"
)

// Status is the verification status of a document or signature. A claim is
// only ever "verified" when a signature over it checked out against the trust
// policy; everything else says why not.
type Status string

const (
	// StatusVerified: a signature verified against trusted material and policy.
	StatusVerified Status = "verified"
	// StatusFailed: a signature was present and did not verify (tampered,
	// wrong key or identity, untrusted root...). Reason says which.
	StatusFailed Status = "failed"
	// StatusUnverifiable: signed, but no trust material applies (unknown key,
	// legacy encoding); neither trusted nor proven forged.
	StatusUnverifiable Status = "unverifiable"
	// StatusUnsigned: the document carried no signature (model cards, bare
	// statements, plain SBOMs, advisories created through the API).
	StatusUnsigned Status = "unsigned"
)

// Rank orders statuses from weakest to strongest evidence: a claim backed by
// several documents is as strong as its strongest one.
func (s Status) Rank() int {
	switch s {
	case StatusVerified:
		return 3
	case StatusUnverifiable:
		return 2
	case StatusUnsigned:
		return 1
	case StatusFailed:
		return 0
	}
	return -1
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s.Rank() >= 0 }

// Signature is the outcome of checking one signature on a document.
type Signature struct {
	Method         string    `json:"method"`             // key | certificate | keyless | legacy
	Identity       string    `json:"identity,omitempty"` // certificate SAN (email, URI) or key hint
	Issuer         string    `json:"issuer,omitempty"`   // OIDC issuer or certificate issuer DN
	KeyID          string    `json:"keyId,omitempty"`
	Status         Status    `json:"status"`
	Reason         string    `json:"reason,omitempty"` // why failed/unverifiable
	LogIndex       int64     `json:"logIndex,omitempty"`
	IntegratedTime time.Time `json:"integratedTime,omitzero"`
	// Scope lists the namespace patterns the policy restricts this signer
	// to for the document's role (see ScopeMatches); empty when the signer
	// may vouch for any subject. Recorded at ingest so answers can check it
	// against what the graph identifies, not only the names the signer chose.
	Scope []string `json:"scope,omitempty"`
}

// Document describes one ingested document: the unit of atomic, idempotent
// writes and the evidence every claim points back to.
type Document struct {
	Digest        string      `json:"digest"`                  // identity: sha256 of the raw bytes (unsigned), of what was signed and by whom (signed: envelope.Opened.DocumentDigest)
	Type          string      `json:"type"`                    // oms, slsa-provenance, cyclonedx, spdx, hf-model-card, ...
	PredicateType string      `json:"predicateType,omitempty"` // in-toto predicate type when there is one
	Source        string      `json:"source,omitempty"`        // where it came from (file name, push, collector)
	Size          int64       `json:"size,omitempty"`
	Signatures    []Signature `json:"signatures,omitempty"`
	IngestedAt    time.Time   `json:"ingestedAt,omitzero"` // set by the store when zero
	// Role is what the document may vouch for (see Role); RoleOf derives it
	// from Type for documents stored without one.
	Role Role `json:"role,omitempty"`
}

// Status aggregates the document's signatures: verified if any verified;
// otherwise failed if any failed; unverifiable if signed; unsigned if not.
func (d Document) Status() Status {
	if len(d.Signatures) == 0 {
		return StatusUnsigned
	}
	best := StatusFailed
	failed := false
	for _, s := range d.Signatures {
		if s.Status == StatusVerified {
			return StatusVerified
		}
		if s.Status == StatusFailed {
			failed = true
		}
		if s.Status.Rank() > best.Rank() {
			best = s.Status
		}
	}
	if failed {
		return StatusFailed
	}
	return best
}

// Attr is one claimed attribute value and the documents that claimed it. Two
// documents claiming different values for one name give two Attrs: nothing is
// overwritten.
type Attr struct {
	Name  string   `json:"n"`
	Value string   `json:"v"`
	Docs  []string `json:"d"`
}

// Node is a stored node with the evidence for it.
type Node struct {
	ID    NodeID   `json:"id"`
	Kind  NodeKind `json:"kind"`
	Keys  []string `json:"keys"`  // sorted
	Attrs []Attr   `json:"attrs"` // sorted by name, value
	Docs  []string `json:"docs"`  // documents that mentioned the node, sorted
	// KeyDocs holds, per key of Keys (sorted by key, one entry each), the
	// documents that named that key for this node. A join of two keys
	// rests on the documents in both lists.
	KeyDocs []KeyClaim `json:"keyDocs,omitempty"`
	// Joins holds, per set of keys some document named together in one
	// spec, the documents that did (see KeyJoin). KeyDocs alone cannot
	// tell a document that named k1 and k2 together from one that named
	// them in two specs (a model and its base) later merged by another
	// document; Joins can.
	Joins []KeyJoin `json:"joins,omitempty"`
}

// KeyDocsOf returns the documents that named key for n (nil if none).
func (n Node) KeyDocsOf(key string) []string {
	for _, c := range n.KeyDocs {
		if c.Key == key {
			return c.Docs
		}
	}
	return nil
}

// Attr returns the first value claimed for name ("" if none).
func (n Node) Attr(name string) string { return firstAttr(n.Attrs, name) }

// AttrValues returns every value claimed for name.
func (n Node) AttrValues(name string) []string { return attrValues(n.Attrs, name) }

// EdgeRef identifies an edge: at most one edge of a kind joins two nodes in
// one direction; further claims merge into it.
type EdgeRef struct {
	From NodeID   `json:"from"`
	Kind EdgeKind `json:"kind"`
	To   NodeID   `json:"to"`
}

// Edge is a stored edge with the evidence for it.
type Edge struct {
	EdgeRef
	Attrs []Attr   `json:"attrs"`
	Docs  []string `json:"docs"`
}

// Attr returns the first value claimed for name ("" if none).
func (e Edge) Attr(name string) string { return firstAttr(e.Attrs, name) }

// AttrValues returns every value claimed for name.
func (e Edge) AttrValues(name string) []string { return attrValues(e.Attrs, name) }

func firstAttr(as []Attr, name string) string {
	for _, a := range as {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

func attrValues(as []Attr, name string) []string {
	var vs []string
	for _, a := range as {
		if a.Name == name {
			vs = append(vs, a.Value)
		}
	}
	return vs
}

// MergeAttrs adds the claims name=value (from doc) into as, keeping as sorted
// by (name, value) and each Docs list sorted and unique. It reports whether
// anything changed. Backends share it so their merging is identical.
func MergeAttrs(as []Attr, doc string, claims map[string]string) ([]Attr, bool) {
	changed := false
	for name, value := range claims {
		i, found := slices.BinarySearchFunc(as, Attr{Name: name, Value: value}, cmpAttr)
		if !found {
			as = slices.Insert(as, i, Attr{Name: name, Value: value, Docs: []string{doc}})
			changed = true
			continue
		}
		var added bool
		as[i].Docs, added = AddSorted(as[i].Docs, doc)
		changed = changed || added
	}
	return as, changed
}

func cmpAttr(a, b Attr) int {
	if a.Name != b.Name {
		if a.Name < b.Name {
			return -1
		}
		return 1
	}
	switch {
	case a.Value < b.Value:
		return -1
	case a.Value > b.Value:
		return 1
	}
	return 0
}

// AddSorted inserts s into the sorted, unique slice ss; it reports whether it
// was absent.
func AddSorted(ss []string, s string) ([]string, bool) {
	i, found := slices.BinarySearch(ss, s)
	if found {
		return ss, false
	}
	return slices.Insert(ss, i, s), true
}

// Stats counts what a store holds.
type Stats struct {
	Nodes     int64              `json:"nodes"`
	Edges     int64              `json:"edges"`
	Documents int64              `json:"documents"`
	NodeKinds map[NodeKind]int64 `json:"nodeKinds"`
	EdgeKinds map[EdgeKind]int64 `json:"edgeKinds"`
}
