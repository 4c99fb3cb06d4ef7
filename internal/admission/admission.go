// Package admission decides whether an artifact may be deployed: a policy
// (verified signature, allowed signers, no active advisory upstream, a
// bound on unsigned upstream hops) applied to what internal/query reads
// from the graph (trust by role for the digest, advisory reach, judged
// hops). internal/k8sadmit, GraphQL `admission` and `modelgraph query
// admission` ask it. It reads only.
package admission

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/ref"
	"github.com/modelgraph/modelgraph/internal/query"
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
	// Depth bounds the upstream walk (query.DefaultDepth when 0).
	Depth int `json:"depth,omitempty"`
}

// SignerMatch names an allowed signer: a certificate identity (SAN) and
// issuer, or a key id/hint with no issuer. An empty Issuer matches any
// issuer.
type SignerMatch struct {
	Identity string `json:"identity"`
	Issuer   string `json:"issuer,omitempty"`
}

func (m SignerMatch) matches(s query.Signer) bool {
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
	Hops []query.Hop `json:"hops,omitempty"`
}

// Decision is the answer to an admission request.
type Decision struct {
	Digest   string         `json:"digest"`
	Subjects []query.Node   `json:"subjects"`
	Allow    bool           `json:"allow"`
	Checks   []Check        `json:"checks"`
	Identity query.Identity `json:"identity"`
	Policy   Policy         `json:"policy"`
}

// maxListedHops bounds the hops a failed check lists.
const maxListedHops = 20

func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:80] + "…"
}

// Decide decides whether the artifact with digest may be deployed under
// policy p, reading the graph through q. A digest the graph does not know
// is denied (nothing vouches for it); a digest of a file inside a model is
// judged as that model. Errors for bad input wrap query.ErrInvalidArgument.
func Decide(ctx context.Context, q *query.Service, digest string, p Policy) (Decision, error) {
	r, err := ref.Parse(digest)
	if err != nil {
		return Decision{}, fmt.Errorf("%w: %v", query.ErrInvalidArgument, err)
	}
	if _, ok := r.Digest(); !ok {
		return Decision{}, fmt.Errorf("%w: admission needs a digest (sha256:<hex>), got %q", query.ErrInvalidArgument, clip(digest))
	}
	if p.MaxUnsignedHops != nil && *p.MaxUnsignedHops < 0 {
		return Decision{}, fmt.Errorf("%w: maxUnsignedHops %d is negative", query.ErrInvalidArgument, *p.MaxUnsignedHops)
	}
	for i, m := range p.AllowedSigners {
		if strings.TrimSpace(m.Identity) == "" {
			return Decision{}, fmt.Errorf("%w: allowedSigners[%d].identity is empty", query.ErrInvalidArgument, i)
		}
	}
	depth, err := query.CheckDepth(p.Depth)
	if err != nil {
		return Decision{}, err
	}
	d := Decision{Digest: r.Keys[0], Policy: p, Checks: []Check{}}
	subjects, verdicts, err := q.DigestVerdicts(ctx, d.Digest)
	if errors.Is(err, graph.ErrNotFound) {
		d.Checks = append(d.Checks, Check{Rule: "known", Message: "no document mentions " + d.Digest + ": nothing vouches for it"})
		d.Identity = query.Identity{Status: graph.StatusUnsigned, Reason: "unknown digest", DescribedBy: []query.Evidence{}}
		return d, nil
	}
	if err != nil {
		return Decision{}, err
	}
	var describedBy []query.Evidence
	for i, n := range subjects {
		d.Subjects = append(d.Subjects, query.NodeOf(n))
		for _, e := range verdicts[i].DescribedBy {
			if !slices.ContainsFunc(describedBy, func(x query.Evidence) bool { return x.Document == e.Document }) {
				describedBy = append(describedBy, e)
			}
		}
	}
	// The artifact is verified when one node it names is verified by trust
	// by role for this digest; otherwise the first subject's verdict says
	// why (subjects come in kind order: the model first).
	d.Identity = query.Identity{DescribedBy: describedBy, Status: graph.StatusUnsigned, Reason: "no document names it as its subject"}
	var reasons []string
	for i, v := range verdicts {
		if v.Verified {
			d.Identity = query.Identity{DescribedBy: describedBy, Status: v.Status, Verified: true, Basis: v.Basis, VouchedBy: v.VouchedBy}
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
	var verifiedSigners []query.Signer
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
			c.Message = "verified signature by " + query.SignerList(verifiedSigners) + " (" + d.Identity.Basis + ")"
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
				c.Message = "signed by allowed signer " + query.SignerList([]query.Signer{sg})
				break
			}
		}
		if !c.Passed {
			c.Message = "no verified signature by an allowed signer"
			if len(verifiedSigners) > 0 {
				c.Message += " (verified signers: " + query.SignerList(verifiedSigners) + ")"
			}
		}
		d.Checks = append(d.Checks, c)
	}
	if p.DenyOnAdvisory {
		t, partial, err := q.FirstTaint(ctx, subjects)
		if err != nil {
			return Decision{}, err
		}
		c := Check{Rule: "advisory", Passed: true, Message: "no active advisory affects it or anything upstream of it"}
		if partial {
			c.Message += " (advisory walk was cut at its bounds)"
		}
		if t != nil {
			c = Check{Rule: "advisory", Message: t.Reason, Hops: t.Path}
		}
		d.Checks = append(d.Checks, c)
	}
	if p.MaxUnsignedHops != nil {
		c, err := unsignedHops(ctx, q, subjects, depth, *p.MaxUnsignedHops)
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

func unsignedHops(ctx context.Context, q *query.Service, subjects []graph.Node, depth, limit int) (Check, error) {
	hops, cut, err := q.UpstreamHops(ctx, subjects, depth)
	if err != nil {
		return Check{}, err
	}
	var weak []query.Hop
	for _, h := range hops {
		if !h.Verified {
			weak = append(weak, h)
		}
	}
	c := Check{Rule: "unsigned-hops", Passed: len(weak) <= limit}
	c.Message = fmt.Sprintf("%d of %d upstream hops rest on no verified document (limit %d)", len(weak), len(hops), limit)
	if cut {
		c.Message += "; the walk was cut at its bounds"
	}
	if !c.Passed {
		c.Hops = weak[:min(len(weak), maxListedHops)]
	}
	return c, nil
}
