package query

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
)

// SignedDocument is one document an identity signed.
type SignedDocument struct {
	Document Evidence `json:"document"`
	// Signature is this identity's signature on it, with its outcome.
	Signature Signer `json:"signature"`
	// Describes lists the document's subjects.
	Describes []NodeRef `json:"describes"`
}

// SignaturesAnswer lists what an identity signed.
type SignaturesAnswer struct {
	Identities []Node           `json:"identities"`
	Documents  []SignedDocument `json:"documents"`
	PageInfo   PageInfo         `json:"pageInfo"`
	TotalCount int              `json:"totalCount"`
}

// Signatures lists the documents signed by identity (a certificate SAN
// such as an e-mail or workflow URI, a key id or hint, or a full
// "oidc:<issuer>|<san>" / "key:<hint>" key), restricted to issuer when
// given. Without an issuer every issuer's certificates for that identity
// match. Failed and unverifiable signatures are listed with their status:
// they are what an incident responder needs to see.
func (s *Service) Signatures(ctx context.Context, identity, issuer string, p Page) (SignaturesAnswer, error) {
	identity, issuer = strings.TrimSpace(identity), strings.TrimSpace(issuer)
	if identity == "" {
		return SignaturesAnswer{}, fmt.Errorf("%w: identity is empty", ErrInvalidArgument)
	}
	if len(identity) > MaxRefLen || len(issuer) > MaxRefLen {
		return SignaturesAnswer{}, fmt.Errorf("%w: identity or issuer longer than %d bytes", ErrInvalidArgument, MaxRefLen)
	}
	if _, err := p.size(); err != nil {
		return SignaturesAnswer{}, err
	}
	idents, err := s.identities(ctx, identity, issuer)
	if err != nil {
		return SignaturesAnswer{}, err
	}
	if len(idents) == 0 {
		who := identity
		if issuer != "" {
			who += " (issuer " + issuer + ")"
		}
		return SignaturesAnswer{}, s.notFound(ctx, identity, []graph.NodeKind{graph.KindIdentity}, fmt.Sprintf("%v: no signer %q", ErrNotFound, clip(who)))
	}
	out := SignaturesAnswer{}
	type signed struct {
		edge  graph.Edge
		ident graph.Node
	}
	var all []signed
	for _, n := range idents {
		out.Identities = append(out.Identities, toNode(n))
		es, err := s.r.Edges(ctx, n.ID, graph.In, graph.SignedBy)
		if err != nil {
			return SignaturesAnswer{}, fmt.Errorf("documents signed by %s: %w", displayName(n), err)
		}
		for _, e := range es {
			all = append(all, signed{e, n})
		}
	}
	out.TotalCount = len(all)
	lo, hi, info, err := window(p, len(all))
	if err != nil {
		return SignaturesAnswer{}, err
	}
	out.PageInfo = info
	l := s.loader()
	for _, sd := range all[lo:hi] {
		docNode, err := s.r.Node(ctx, sd.edge.From)
		if err != nil {
			return SignaturesAnswer{}, fmt.Errorf("document node %s: %w", sd.edge.From, err)
		}
		digest := docDigest(docNode)
		ev, err := l.evidence(ctx, []string{digest})
		if err != nil {
			return SignaturesAnswer{}, err
		}
		d := SignedDocument{Signature: Signer{
			Method: sd.edge.Attr("method"), Identity: sd.ident.Attr("identity"), Issuer: sd.ident.Attr("issuer"),
			KeyID: sd.ident.Attr("keyId"), Status: graph.Status(sd.edge.Attr("status")), Reason: sd.edge.Attr("reason"),
		}.labelled()}
		if len(ev) == 1 {
			d.Document = ev[0]
			if sg, ok := matchSigner(ev[0].Signers, sd.ident); ok {
				d.Signature = sg
			}
		} else {
			d.Document = Evidence{Document: digest, Status: graph.Status(docNode.Attr("status")), Type: docNode.Attr("type")}
		}
		subj, err := s.r.Edges(ctx, docNode.ID, graph.Out, graph.Describes)
		if err != nil {
			return SignaturesAnswer{}, fmt.Errorf("subjects of %s: %w", digest, err)
		}
		for _, e := range subj {
			n, err := s.r.Node(ctx, e.To)
			if err != nil {
				return SignaturesAnswer{}, fmt.Errorf("subject %s: %w", e.To, err)
			}
			d.Describes = append(d.Describes, toRef(n))
		}
		out.Documents = append(out.Documents, d)
	}
	return out, nil
}

// matchSigner finds the document signature made by the identity node.
func matchSigner(sigs []Signer, ident graph.Node) (Signer, bool) {
	for _, sg := range sigs {
		key := graph.SignerKey(graph.Signature{Identity: sg.Identity, Issuer: sg.Issuer, KeyID: sg.KeyID})
		if slices.Contains(ident.Keys, key) {
			return sg, true
		}
	}
	return Signer{}, false
}

// identities finds the Identity nodes an (identity, issuer) pair names.
func (s *Service) identities(ctx context.Context, identity, issuer string) ([]graph.Node, error) {
	var keys []string
	switch {
	case strings.HasPrefix(identity, "oidc:") || strings.HasPrefix(identity, "key:"):
		keys = []string{identity}
	case issuer != "":
		keys = []string{graph.IdentityKey(issuer, identity)}
	default:
		keys = []string{graph.PublicKeyKey(identity), graph.IdentityKey("", identity)}
	}
	var out []graph.Node
	add := func(n graph.Node) {
		if n.Kind == graph.KindIdentity && !slices.ContainsFunc(out, func(x graph.Node) bool { return x.ID == n.ID }) {
			out = append(out, n)
		}
	}
	for _, k := range keys {
		ns, err := s.r.Lookup(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("signer %q: %w", clip(k), err)
		}
		for _, n := range ns {
			add(n)
		}
	}
	if issuer != "" || strings.Contains(identity, ":") && (strings.HasPrefix(identity, "oidc:") || strings.HasPrefix(identity, "key:")) {
		return out, nil
	}
	// Any issuer: identities are few (signers, not artifacts), so a scan
	// of Identity nodes is cheap.
	err := s.scan(ctx, graph.KindIdentity, "", func(n graph.Node) (bool, error) {
		if n.Attr("identity") == identity || n.Attr("keyId") == identity {
			add(n)
		}
		return true, nil
	})
	return out, err
}

// scan calls fn for nodes of kind after the id cursor, in id order, until
// fn says stop or MaxScan nodes were read.
func (s *Service) scan(ctx context.Context, kind graph.NodeKind, after graph.NodeID, fn func(graph.Node) (bool, error)) error {
	read := 0
	for read < MaxScan {
		ns, err := s.r.Nodes(ctx, graph.NodeQuery{Kind: kind, After: after, Limit: graph.MaxListLimit})
		if err != nil {
			return fmt.Errorf("list %s nodes: %w", kind, err)
		}
		for _, n := range ns {
			read++
			more, err := fn(n)
			if err != nil || !more {
				return err
			}
		}
		if len(ns) < graph.MaxListLimit {
			return nil
		}
		after = ns[len(ns)-1].ID
	}
	return nil
}

// UnverifiedItem is a model or deployment with no verified evidence of its
// own, and what evidence it does have.
type UnverifiedItem struct {
	Node     Node     `json:"node"`
	Identity Identity `json:"identity"`
}

// UnverifiedAnswer is one page of unverified nodes.
type UnverifiedAnswer struct {
	Items    []UnverifiedItem `json:"items"`
	PageInfo PageInfo         `json:"pageInfo"`
}

// Unverified lists nodes of kinds (Model and Deployment when empty) that no
// verified document vouches for. Precisely: a node is verified when at
// least one document with a DESCRIBES edge to it (an OMS signature over a
// model, a signed provenance or card whose subject it is) or, for a
// deployment, a document behind one of its DEPLOYED_AS edges (a signed
// deployment record), carries a signature whose status is "verified". Being
// mentioned as an input or parent by someone else's document does not
// count: that vouches for the other artifact, not this one. Each item says
// what it has instead: nothing, only unsigned documents, only unverifiable
// signatures, or failed signatures.
func (s *Service) Unverified(ctx context.Context, kinds []graph.NodeKind, p Page) (UnverifiedAnswer, error) {
	if len(kinds) == 0 {
		kinds = []graph.NodeKind{graph.KindModel, graph.KindDeployment}
	}
	for _, k := range kinds {
		if !k.Valid() {
			return UnverifiedAnswer{}, fmt.Errorf("%w: kind %q is not a node kind", ErrInvalidArgument, k)
		}
	}
	l := s.loader()
	items, info, err := scanPage(ctx, s, kinds, p, func(n graph.Node) (UnverifiedItem, bool, error) {
		id, err := l.identity(ctx, n, "")
		return UnverifiedItem{Node: toNode(n), Identity: id}, err == nil && !id.Verified, err
	}, func(u UnverifiedItem) Node { return u.Node })
	return UnverifiedAnswer{Items: items, PageInfo: info}, err
}
