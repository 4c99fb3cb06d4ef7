package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/ref"
)

// Node is a node as answers show it.
type Node struct {
	ID   graph.NodeID   `json:"id"`
	Kind graph.NodeKind `json:"kind"`
	// Name is a human label: the claimed name (and version), the advisory
	// id, the deployment location, the signer, else the first key.
	Name  string   `json:"name"`
	Keys  []string `json:"keys"`
	Attrs []Attr   `json:"attrs,omitempty"`
	// Documents lists every document that mentioned the node.
	Documents []string `json:"documents,omitempty"`
}

// Attr is one claimed attribute value and the documents claiming it.
type Attr struct {
	Name      string   `json:"name"`
	Value     string   `json:"value"`
	Documents []string `json:"documents"`
}

// NodeRef is the short form of a node used inside hops.
type NodeRef struct {
	ID   graph.NodeID   `json:"id"`
	Kind graph.NodeKind `json:"kind"`
	Name string         `json:"name"`
}

// Evidence is one document behind a claim.
type Evidence struct {
	Document      string       `json:"document"` // sha256:<hex> of the bytes ingested
	Type          string       `json:"type"`
	PredicateType string       `json:"predicateType,omitempty"`
	Source        string       `json:"source,omitempty"`
	IngestedAt    time.Time    `json:"ingestedAt"`
	Status        graph.Status `json:"status"` // the document's aggregate status
	// Role is what the document may vouch for (graph.Role).
	Role    graph.Role `json:"role"`
	Signers []Signer   `json:"signers,omitempty"`
}

// Signer is one signature on a document and how its verification went.
type Signer struct {
	Method   string       `json:"method"`
	Identity string       `json:"identity,omitempty"`
	Issuer   string       `json:"issuer,omitempty"`
	KeyID    string       `json:"keyId,omitempty"`
	Status   graph.Status `json:"status"`
	Reason   string       `json:"reason,omitempty"`
	// Scope lists the namespace patterns the policy restricts this signer
	// to, joined by ", " ("" when unrestricted).
	Scope string `json:"scope,omitempty"`
	// Label is how the signer is shown (graph/ref.SignerLabel, the one rule).
	Label string `json:"label"`
}

// labelled fills in the signer's display label.
func (s Signer) labelled() Signer {
	s.Label = ref.SignerLabel(graph.Signature{Method: s.Method, Identity: s.Identity, Issuer: s.Issuer, KeyID: s.KeyID})
	return s
}

// Hop is one edge of a path, in the direction its documents state it
// ("ft DERIVED_FROM base"), with the documents that claim it.
type Hop struct {
	From  NodeRef        `json:"from"`
	Kind  graph.EdgeKind `json:"kind"`
	To    NodeRef        `json:"to"`
	Attrs []Attr         `json:"attrs,omitempty"`
	// Status is the strongest status among the evidence: a hop claimed by
	// one verified and one unsigned document is verified.
	Status   graph.Status `json:"status"`
	Verified bool         `json:"verified"`
	// Weakness says why the hop is not verified ("" when it is).
	Weakness string     `json:"weakness,omitempty"`
	Evidence []Evidence `json:"evidence"`
}

// Identity is the evidence for a node itself: the documents that name it
// as their subject (DESCRIBES). A model is "verified" when one of them is a
// document whose signature verified (an OMS signature over the weights, a
// signed provenance or deployment record).
type Identity struct {
	Status   graph.Status `json:"status"`
	Verified bool         `json:"verified"`
	// Reason says why the node is not verified ("" when it is).
	Reason string `json:"reason,omitempty"`
	// Basis says why it is verified: the rule and the documents that
	// vouch ("" when it is not).
	Basis string `json:"basis,omitempty"`
	// VouchedBy lists the documents that vouch for it (empty when not
	// verified).
	VouchedBy   []string   `json:"vouchedBy,omitempty"`
	DescribedBy []Evidence `json:"describedBy"`
}

func toNode(n graph.Node) Node {
	out := Node{ID: n.ID, Kind: n.Kind, Name: displayName(n), Keys: n.Keys, Documents: n.Docs}
	for _, a := range n.Attrs {
		out.Attrs = append(out.Attrs, Attr{Name: a.Name, Value: a.Value, Documents: a.Docs})
	}
	return out
}

func toRef(n graph.Node) NodeRef { return NodeRef{ID: n.ID, Kind: n.Kind, Name: displayName(n)} }

// displayName is graph/ref's one display rule (ref.DisplayName).
func displayName(n graph.Node) string { return ref.DisplayName(n) }

func isNotFound(err error) bool { return errors.Is(err, graph.ErrNotFound) }

// loader fetches documents once per question.
type loader struct {
	r    graph.Reader
	docs map[string]*Evidence // nil value: asked for, not stored
}

func (s *Service) loader() *loader { return &loader{r: s.r, docs: map[string]*Evidence{}} }

// evidence returns the stored documents among digests, in order.
func (l *loader) evidence(ctx context.Context, digests []string) ([]Evidence, error) {
	var missing []string
	for _, d := range digests {
		if _, ok := l.docs[d]; !ok && !slices.Contains(missing, d) {
			missing = append(missing, d)
		}
	}
	if len(missing) > 0 {
		docs, err := l.r.Documents(ctx, missing...)
		if err != nil {
			return nil, fmt.Errorf("documents: %w", err)
		}
		for _, d := range missing {
			l.docs[d] = nil
		}
		for _, d := range docs {
			e := toEvidence(d)
			l.docs[d.Digest] = &e
		}
	}
	out := make([]Evidence, 0, len(digests))
	for _, d := range digests {
		if e := l.docs[d]; e != nil {
			out = append(out, *e)
		}
	}
	return out, nil
}

func toEvidence(d graph.Document) Evidence {
	e := Evidence{Document: d.Digest, Type: d.Type, PredicateType: d.PredicateType, Source: d.Source, IngestedAt: d.IngestedAt, Status: d.Status(), Role: graph.RoleOf(d)}
	for _, s := range d.Signatures {
		e.Signers = append(e.Signers, Signer{Method: s.Method, Identity: s.Identity, Issuer: s.Issuer, KeyID: s.KeyID, Status: s.Status, Reason: s.Reason, Scope: strings.Join(s.Scope, ", ")}.labelled())
	}
	return e
}

// hop builds the evidence-carrying form of e.
func (l *loader) hop(ctx context.Context, e graph.Edge, from, to graph.Node) (Hop, error) {
	ev, err := l.evidence(ctx, e.Docs)
	if err != nil {
		return Hop{}, err
	}
	h := Hop{From: toRef(from), Kind: e.Kind, To: toRef(to), Evidence: ev}
	for _, a := range e.Attrs {
		h.Attrs = append(h.Attrs, Attr{Name: a.Name, Value: a.Value, Documents: a.Docs})
	}
	h.Status, h.Weakness = strength(ev)
	h.Verified = h.Status == graph.StatusVerified
	return h, nil
}

// strength is the strongest status among ev and, when it is not verified,
// a sentence saying what the claim rests on.
func strength(ev []Evidence) (graph.Status, string) {
	if len(ev) == 0 {
		return graph.StatusUnsigned, "no stored document backs it"
	}
	best := ev[0].Status
	for _, e := range ev[1:] {
		if e.Status.Rank() > best.Rank() {
			best = e.Status
		}
	}
	if best == graph.StatusVerified {
		return best, ""
	}
	var parts []string
	for _, e := range ev {
		p := e.Type + " " + short(e.Document) + " (" + string(e.Status)
		for _, s := range e.Signers {
			if s.Reason != "" && s.Status != graph.StatusVerified {
				p += ": " + s.Reason
				break
			}
		}
		parts = append(parts, p+")")
	}
	return best, "no verified document backs it: " + strings.Join(parts, ", ")
}

// short abbreviates a digest for messages.
func short(d string) string {
	if i := strings.IndexByte(d, ':'); i > 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

// Identity returns the evidence for node id (of kind) itself (see
// Identity).
func (s *Service) Identity(ctx context.Context, id graph.NodeID, kind graph.NodeKind) (Identity, error) {
	n, err := s.r.Node(ctx, id)
	if err != nil {
		return Identity{}, fmt.Errorf("node %s: %w", id, err)
	}
	return s.loader().identity(ctx, n, "")
}

// identity gathers the documents that vouch for a node itself: those
// naming it as their subject (DESCRIBES) and, for a deployment, the
// deployment records behind its DEPLOYED_AS edges (a record describes the
// model it deploys; the deployment exists because the record says so).
//
// Trust by role (docs/security.md, "What makes a node verified"): a
// document vouches for the node only when
//
//  1. one of its signatures verified against the trust policy,
//  2. its role may vouch for the node's kind (graph.VouchesFor: an OMS
//     signature or provenance for a model; never an advisory, deployment
//     record or SBOM), and
//  3. every verified signer restricted to a namespace (Signature.Scope)
//     finds the node inside it: each name the node carries that a
//     vouching-role verified document claims must match the signer's
//     patterns (so a key trusted for "other/*" cannot vouch for a digest
//     that a trusted document names "acme/x").
//
// And the vouching documents must cover the node's identity: every digest
// the node carries (or, asked by asked, that key) must be named by a
// vouching document itself, so a digest joined to a signed model only by an
// unsigned card or a deployment record never borrows its signature.
func (l *loader) identity(ctx context.Context, n graph.Node, asked string) (Identity, error) {
	id, kind := n.ID, n.Kind
	es, err := l.r.Edges(ctx, id, graph.In, graph.Describes)
	if err != nil {
		return Identity{}, fmt.Errorf("describing documents of %s: %w", id, err)
	}
	// A DESCRIBES edge is asserted only by the document it leaves, so its
	// evidence is that document's digest: no need to load the node.
	var digests []string
	subj := subjects{}
	for _, e := range es {
		for _, d := range e.Docs {
			if !slices.Contains(digests, d) {
				digests = append(digests, d)
			}
		}
		for d, ks := range graph.SubjectKeys(e) {
			for _, k := range ks {
				subj[d], _ = graph.AddSorted(subj[d], k)
			}
		}
	}
	if kind == graph.KindDeployment {
		deps, err := l.r.Edges(ctx, id, graph.In, graph.DeployedAs)
		if err != nil {
			return Identity{}, fmt.Errorf("deployment records of %s: %w", id, err)
		}
		for _, e := range deps {
			for _, d := range e.Docs {
				if !slices.Contains(digests, d) {
					digests = append(digests, d)
				}
				// A deployment record vouches for the deployment it names
				// (the node at the edge's end), whatever its keys.
				for _, k := range n.Keys {
					subj[d], _ = graph.AddSorted(subj[d], k)
				}
			}
		}
	}
	ev, err := l.evidence(ctx, digests)
	if err != nil {
		return Identity{}, err
	}
	out := Identity{DescribedBy: ev}
	if len(ev) == 0 {
		out.Status, out.Reason = graph.StatusUnsigned, "no document names it as its subject; it is only mentioned by documents about other artifacts"
		return out, nil
	}
	v := judge(n, ev, asked, subj)
	out.Status, out.Verified, out.Reason, out.Basis, out.VouchedBy = v.status, v.status == graph.StatusVerified, v.reason, v.basis, v.vouchedBy
	return out, nil
}

// verdict is the outcome of judge.
type verdict struct {
	status graph.Status
	reason string // why not verified
	basis  string // why verified: the rule and the documents
	// vouchedBy lists the documents that vouch.
	vouchedBy []string
}

// subjects maps a document to the keys of the subject it named (the
// DESCRIBES edge's graph.SubjectKeysAttr): what it vouches for. A document
// missing from it (stored before subject keys were recorded) is taken to
// name every key of the node.
type subjects map[string][]string

func (s subjects) names(d string, n graph.Node, k string) bool {
	ks, ok := s[d]
	if !ok {
		return slices.Contains(n.Keys, k)
	}
	_, found := slices.BinarySearch(ks, k)
	return found
}

func (s subjects) keys(d string, n graph.Node) []string {
	if ks, ok := s[d]; ok {
		return ks
	}
	return n.Keys
}

// vouches reports whether e may vouch for n (rules 1–3 of identity);
// when it may not, why.
func vouches(n graph.Node, e Evidence, names trustedNames) (bool, string) {
	if e.Status != graph.StatusVerified {
		return false, ""
	}
	if !graph.VouchesFor(e.Role, n.Kind) {
		return false, fmt.Sprintf("%s %s is verified, but a %s document cannot vouch for a %s (trust by role)", e.Type, short(e.Document), e.Role, n.Kind)
	}
	for _, sg := range e.Signers {
		if sg.Status != graph.StatusVerified || sg.Scope == "" {
			continue
		}
		// The signer's own names were checked against its namespace at
		// ingest; here, the names OTHER trusted signers give the node must
		// lie inside it too, or the signer is vouching for an artifact
		// someone else trusted names as theirs.
		scope := strings.Split(sg.Scope, ", ")
		for _, k := range names.except(sg.Label) {
			if !graph.ScopeMatches(scope, k) {
				return false, fmt.Sprintf("%s %s: signer %s is restricted to %s, but another trusted document names this %s %q", e.Type, short(e.Document), sg.Label, sg.Scope, n.Kind, k)
			}
		}
	}
	return true, ""
}

// trustedNames maps each name of n that a verified document whose role may
// vouch for n's kind gives it (name keys in its subject, and the name/uri
// it claims) to the verified signers of those documents: what namespace
// rules are checked against. Built once per judgement, so a node described
// by many documents costs one pass, not one per signer.
type trustedNames map[string][][]string // name -> the verified signer set of each document giving it

func trustedNamesOf(n graph.Node, ev []Evidence, subj subjects) trustedNames {
	out := trustedNames{}
	for _, e := range ev {
		if e.Status != graph.StatusVerified || !graph.VouchesFor(e.Role, n.Kind) {
			continue
		}
		var signers []string
		for _, sg := range e.Signers {
			if sg.Status == graph.StatusVerified {
				signers = append(signers, sg.Label)
			}
		}
		add := func(name string) { out[name] = append(out[name], signers) }
		for _, k := range subj.keys(e.Document, n) {
			if graph.IsNameKey(k) && slices.Contains(n.Keys, k) {
				add(k)
			}
		}
		// A name or URI it claims for the node without making it a key
		// ("acme/model" as a subject name) names the artifact all the same.
		for _, a := range n.Attrs {
			if (a.Name == "name" || a.Name == "uri") && slices.Contains(a.Docs, e.Document) {
				add(a.Value)
			}
		}
	}
	return out
}

// except lists, sorted, the names given by a document not signed by label.
func (t trustedNames) except(label string) []string {
	var out []string
	for name, sets := range t {
		if slices.ContainsFunc(sets, func(signers []string) bool { return !slices.Contains(signers, label) }) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// judge applies trust by role and key coverage (see identity).
func judge(n graph.Node, ev []Evidence, asked string, subj subjects) verdict {
	var vouching []Evidence
	var notes []string
	names := trustedNamesOf(n, ev, subj)
	for _, e := range ev {
		ok, why := vouches(n, e, names)
		if ok {
			vouching = append(vouching, e)
		} else if why != "" {
			notes = append(notes, why)
		}
	}
	if len(vouching) > 0 {
		uncovered := uncoveredKeys(n, vouching, asked, subj)
		if len(uncovered) == 0 {
			var parts []string
			for _, e := range vouching {
				parts = append(parts, fmt.Sprintf("%s %s (%s) by %s", e.Type, short(e.Document), e.Role, SignerList(verifiedSigners(e))))
			}
			var docs []string
			for _, e := range vouching {
				docs = append(docs, e.Document)
			}
			return verdict{status: graph.StatusVerified, basis: "trust by role: " + strings.Join(parts, "; "), vouchedBy: docs}
		}
		notes = append(notes, fmt.Sprintf("%s joined to it only by documents that do not vouch for it", strings.Join(uncovered, ", ")))
	}
	// Not verified: the strongest thing that can be said, where a verified
	// document that may not vouch counts as unverifiable and a failed
	// signature over the artifact itself outranks weaker evidence.
	status := graph.StatusUnsigned
	failed := false
	for _, e := range ev {
		st := e.Status
		if st == graph.StatusVerified {
			st = graph.StatusUnverifiable
		}
		if st == graph.StatusFailed && graph.VouchesFor(e.Role, n.Kind) {
			failed = true
		}
		if st.Rank() > status.Rank() {
			status = st
		}
	}
	if failed {
		status = graph.StatusFailed
	}
	_, weak := strength(ev)
	if weak == "" {
		weak = "no document that may vouch for it verified"
	}
	if len(notes) > 0 {
		weak = strings.Join(notes, "; ") + "; " + strings.TrimPrefix(weak, "no verified document backs it: ")
	}
	return verdict{status: status, reason: weak}
}

// uncoveredKeys lists the keys of n that no vouching document names in its
// own subject: asked when given (and a key of n), else every digest key.
// A digest joined to the node only by documents about something else (an
// input, a base model) or by documents that may not vouch is uncovered.
func uncoveredKeys(n graph.Node, vouching []Evidence, asked string, subj subjects) []string {
	var want []string
	if asked != "" {
		if k, err := graph.NormalizeKey(asked); err == nil && slices.Contains(n.Keys, k) {
			want = []string{k}
		}
	}
	if want == nil {
		for _, k := range n.Keys {
			if graph.IsDigestKey(k) {
				want = append(want, k)
			}
		}
	}
	var out []string
	for _, k := range want {
		if !slices.ContainsFunc(vouching, func(e Evidence) bool { return subj.names(e.Document, n, k) }) {
			out = append(out, k)
		}
	}
	return out
}

func verifiedSigners(e Evidence) []Signer {
	var out []Signer
	for _, sg := range e.Signers {
		if sg.Status == graph.StatusVerified {
			out = append(out, sg)
		}
	}
	return out
}

// docDigest is the digest key of a Document node (the key its batch used).
func docDigest(n graph.Node) string {
	if n.Kind != graph.KindDocument {
		return ""
	}
	for _, k := range n.Keys {
		if graph.IsDigestKey(k) {
			return k
		}
	}
	return ""
}

// SignerList names signers for a message: identity (issuer), else key id,
// else the method.
func SignerList(ss []Signer) string {
	var parts []string
	for _, s := range ss {
		switch {
		case s.Identity != "" && s.Issuer != "":
			parts = append(parts, s.Identity+" ("+s.Issuer+")")
		case s.Identity != "":
			parts = append(parts, s.Identity)
		case s.KeyID != "":
			parts = append(parts, "key "+s.KeyID)
		default:
			parts = append(parts, s.Method)
		}
	}
	return strings.Join(parts, ", ")
}
