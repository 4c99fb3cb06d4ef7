package query

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
)

// Policy is what an admission decision checks.
type Policy struct {
	// RequireVerified: a document naming the artifact as its subject must
	// carry a verified signature.
	RequireVerified bool `json:"requireVerified"`
	// AllowedSigners, when not empty: at least one verified signature on
	// such a document must come from one of these signers.
	AllowedSigners []SignerMatch `json:"allowedSigners,omitempty"`
	// DenyOnAdvisory: deny when an active advisory affects the artifact or
	// anything upstream of it (datasets, base models, files, packages).
	DenyOnAdvisory bool `json:"denyOnAdvisory"`
	// MaxUnsignedHops, when set: deny when more than this many edges of the
	// artifact's upstream lineage rest on no verified document.
	MaxUnsignedHops *int `json:"maxUnsignedHops,omitempty"`
	// Depth bounds the upstream walk (DefaultDepth when 0).
	Depth int `json:"depth,omitempty"`
}

// SignerMatch names an allowed signer: a certificate identity (SAN) and
// issuer, or a key id/hint with no issuer. An empty Issuer matches any
// issuer.
type SignerMatch struct {
	Identity string `json:"identity"`
	Issuer   string `json:"issuer,omitempty"`
}

func (m SignerMatch) matches(s Signer) bool {
	if m.Issuer != "" && m.Issuer != s.Issuer {
		return false
	}
	return m.Identity == s.Identity || (s.KeyID != "" && m.Identity == s.KeyID)
}

// DefaultPolicy requires a verified signature and no active advisory.
func DefaultPolicy() Policy { return Policy{RequireVerified: true, DenyOnAdvisory: true} }

// Check is one rule of a decision and how it went.
type Check struct {
	Rule    string `json:"rule"` // signature | signer | advisory | unsigned-hops | known
	Passed  bool   `json:"passed"`
	Message string `json:"message"`
	// Hops lists the offending (or, for signature, vouching) evidence
	// when there is some: weak lineage hops, the advisory path.
	Hops []Hop `json:"hops,omitempty"`
}

// Decision is the answer to an admission request.
type Decision struct {
	Digest   string   `json:"digest"`
	Subjects []Node   `json:"subjects"`
	Allow    bool     `json:"allow"`
	Checks   []Check  `json:"checks"`
	Identity Identity `json:"identity"`
	Policy   Policy   `json:"policy"`
}

// maxListedHops bounds the hops a failed check lists.
const maxListedHops = 20

// Admission decides whether the artifact with digest may be deployed under
// policy. A digest the graph does not know is denied (nothing vouches for
// it); a digest of a file inside a model is judged as that model.
func (s *Service) Admission(ctx context.Context, digest string, p Policy) (Decision, error) {
	r, err := parseRef(digest)
	if err != nil {
		return Decision{}, err
	}
	if _, ok := r.Digest(); !ok {
		return Decision{}, fmt.Errorf("%w: admission needs a digest (sha256:<hex>), got %q", ErrInvalidArgument, clip(digest))
	}
	if p.MaxUnsignedHops != nil && *p.MaxUnsignedHops < 0 {
		return Decision{}, fmt.Errorf("%w: maxUnsignedHops %d is negative", ErrInvalidArgument, *p.MaxUnsignedHops)
	}
	for i, m := range p.AllowedSigners {
		if strings.TrimSpace(m.Identity) == "" {
			return Decision{}, fmt.Errorf("%w: allowedSigners[%d].identity is empty", ErrInvalidArgument, i)
		}
	}
	depth, err := checkDepth(p.Depth)
	if err != nil {
		return Decision{}, err
	}
	d := Decision{Digest: r.Keys[0], Policy: p, Checks: []Check{}}
	subjects, err := s.resolve(ctx, d.Digest, graph.KindModel, graph.KindDataset, graph.KindPackage, graph.KindSource)
	if isNotFound(err) {
		d.Checks = append(d.Checks, Check{Rule: "known", Message: "no document mentions " + d.Digest + ": nothing vouches for it"})
		d.Identity = Identity{Status: graph.StatusUnsigned, Reason: "unknown digest", DescribedBy: []Evidence{}}
		return d, nil
	}
	if err != nil {
		return Decision{}, err
	}
	l := s.loader()
	var describedBy []Evidence
	var verdicts []Identity
	for _, n := range subjects {
		d.Subjects = append(d.Subjects, toNode(n))
		id, err := l.identity(ctx, n, d.Digest)
		if err != nil {
			return Decision{}, err
		}
		verdicts = append(verdicts, id)
		for _, e := range id.DescribedBy {
			if !slices.ContainsFunc(describedBy, func(x Evidence) bool { return x.Document == e.Document }) {
				describedBy = append(describedBy, e)
			}
		}
	}
	// The artifact is verified when one node it names is verified by trust
	// by role for this digest; otherwise the first subject's verdict says
	// why (subjects come in kind order: the model first).
	d.Identity = Identity{DescribedBy: describedBy, Status: graph.StatusUnsigned, Reason: "no document names it as its subject"}
	var reasons []string
	for i, v := range verdicts {
		if v.Verified {
			d.Identity = Identity{DescribedBy: describedBy, Status: v.Status, Verified: true, Basis: v.Basis, VouchedBy: v.VouchedBy}
			reasons = nil
			break
		}
		if i == 0 {
			d.Identity.Status = v.Status
		}
		if v.Reason != "" && !slices.Contains(reasons, v.Reason) {
			reasons = append(reasons, v.Reason)
		}
	}
	if len(reasons) > 0 {
		d.Identity.Reason = strings.Join(reasons, "; ")
	}
	var verifiedSigners []Signer
	for _, e := range describedBy {
		if !slices.Contains(d.Identity.VouchedBy, e.Document) {
			continue
		}
		for _, sg := range e.Signers {
			if sg.Status == graph.StatusVerified && !slices.Contains(verifiedSigners, sg) {
				verifiedSigners = append(verifiedSigners, sg)
			}
		}
	}
	if p.RequireVerified {
		c := Check{Rule: "signature", Passed: d.Identity.Verified}
		if c.Passed {
			c.Message = "verified signature by " + signerList(verifiedSigners) + " (" + d.Identity.Basis + ")"
		} else {
			c.Message = "no verified signature: " + d.Identity.Reason
		}
		d.Checks = append(d.Checks, c)
	}
	if len(p.AllowedSigners) > 0 {
		c := Check{Rule: "signer"}
		for _, sg := range verifiedSigners {
			if slices.ContainsFunc(p.AllowedSigners, func(m SignerMatch) bool { return m.matches(sg) }) {
				c.Passed = true
				c.Message = "signed by allowed signer " + signerList([]Signer{sg})
				break
			}
		}
		if !c.Passed {
			c.Message = "no verified signature by an allowed signer"
			if len(verifiedSigners) > 0 {
				c.Message += " (verified signers: " + signerList(verifiedSigners) + ")"
			}
		}
		d.Checks = append(d.Checks, c)
	}
	if p.DenyOnAdvisory {
		taints, partial, err := s.taints(ctx, l, MaxDepth)
		if err != nil {
			return Decision{}, err
		}
		c := Check{Rule: "advisory", Passed: true, Message: "no active advisory affects it or anything upstream of it"}
		if partial {
			c.Message += " (advisory walk was cut at its bounds)"
		}
		for _, n := range subjects {
			tn, ok := taints[n.ID]
			if !ok {
				continue
			}
			c.Passed = false
			c.Message = l.taintReason(ctx, tn, displayName(n))
			if c.Hops, err = l.edgeHops(ctx, tn.path); err != nil {
				return Decision{}, err
			}
			break
		}
		d.Checks = append(d.Checks, c)
	}
	if p.MaxUnsignedHops != nil {
		c, err := s.unsignedHops(ctx, l, subjects, depth, *p.MaxUnsignedHops)
		if err != nil {
			return Decision{}, err
		}
		d.Checks = append(d.Checks, c)
	}
	// A policy that checks nothing admits any artifact the graph knows.
	d.Allow = true
	for _, c := range d.Checks {
		d.Allow = d.Allow && c.Passed
	}
	return d, nil
}

func (s *Service) unsignedHops(ctx context.Context, l *loader, subjects []graph.Node, depth, limit int) (Check, error) {
	res, err := s.r.Traverse(ctx, graph.TraverseRequest{From: ids(subjects), Direction: graph.Upstream, EdgeKinds: lineageKinds, MaxDepth: depth, Limit: WalkLimit})
	if err != nil {
		return Check{}, fmt.Errorf("upstream walk: %w", err)
	}
	t := newTree(res)
	var weak []Hop
	total := 0
	for _, st := range res.Steps {
		if st.Via == nil {
			continue
		}
		total++
		from, _ := t.step(st.Via.From)
		to, _ := t.step(st.Via.To)
		h, err := l.hop(ctx, *st.Via, from.Node, to.Node)
		if err != nil {
			return Check{}, err
		}
		if !h.Verified {
			weak = append(weak, h)
		}
	}
	c := Check{Rule: "unsigned-hops", Passed: len(weak) <= limit}
	c.Message = fmt.Sprintf("%d of %d upstream hops rest on no verified document (limit %d)", len(weak), total, limit)
	if res.Truncated || res.DepthLimited {
		c.Message += "; the walk was cut at its bounds"
	}
	if !c.Passed {
		c.Hops = weak[:min(len(weak), maxListedHops)]
	}
	return c, nil
}

// edgeHops loads the nodes of a path and builds its hops.
func (l *loader) edgeHops(ctx context.Context, path []graph.Edge) ([]Hop, error) {
	out := make([]Hop, 0, len(path))
	for _, e := range path {
		from, err := l.r.Node(ctx, e.From)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", e.From, err)
		}
		to, err := l.r.Node(ctx, e.To)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", e.To, err)
		}
		h, err := l.hop(ctx, e, from, to)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

func signerList(ss []Signer) string {
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
