package query

import (
	"context"
	"fmt"
	"time"

	"github.com/modelgraph/modelgraph/graph"
)

// Questions the watcher (internal/watch) asks about the part of the graph
// one committed document can change. They are the same questions as the
// API's, asked by node id instead of by reference, so a notification and
// an answer never disagree about state or trust.

// DeploymentNow is the deployment's state now: the model serving it
// (chosen as in DeployedModelsTrainedOn: trusted records first, then the
// latest deployed), whether it is active, its environment and history.
// A deployment no record ties to a model has State "" and no Model.
func (s *Service) DeploymentNow(ctx context.Context, id graph.NodeID) (Deployed, error) {
	res, err := s.r.Traverse(ctx, graph.TraverseRequest{From: []graph.NodeID{id}, Direction: graph.Upstream,
		EdgeKinds: []graph.EdgeKind{graph.DeployedAs}, MaxDepth: 1, Limit: WalkLimit})
	if err != nil {
		return Deployed{}, fmt.Errorf("deployment %s: %w", id, err)
	}
	if len(res.Steps) == 0 {
		return Deployed{}, fmt.Errorf("deployment %s: %w", id, graph.ErrNotFound)
	}
	start := res.Steps[0]
	if len(res.Steps) == 1 {
		return Deployed{Deployment: toNode(start.Node), Environment: start.Node.Attr("environment"), History: []Served{}}, nil
	}
	return s.loader().current(ctx, newTree(res), start, time.Time{})
}

// AdvisoryReach is AffectedByAdvisory for an advisory node id, every page
// (at most MaxScan affected nodes), default depth.
func (s *Service) AdvisoryReach(ctx context.Context, id graph.NodeID) (AdvisoryAnswer, error) {
	n, err := s.r.Node(ctx, id)
	if err != nil {
		return AdvisoryAnswer{}, fmt.Errorf("advisory %s: %w", id, err)
	}
	var all AdvisoryAnswer
	p := Page{First: MaxPageSize}
	for {
		a, err := s.affectedByAdvisory(ctx, n, DefaultDepth, p)
		if err != nil {
			return AdvisoryAnswer{}, err
		}
		aff := all.Affected
		all = a
		all.Affected = append(aff, a.Affected...)
		if !a.PageInfo.HasNextPage || len(all.Affected) >= MaxScan {
			return all, nil
		}
		p.After = a.PageInfo.EndCursor
	}
}

// AdvisoriesUpstream lists the advisory and vulnerability nodes whose
// AFFECTS edges reach id through its lineage (what went into it), so a new
// deployment record can be checked against advisories already known.
func (s *Service) AdvisoriesUpstream(ctx context.Context, id graph.NodeID) ([]graph.Node, error) {
	// No advisory in the graph: nothing to walk for.
	if st, err := s.r.Stats(ctx); err == nil && st.NodeKinds[graph.KindAdvisory]+st.NodeKinds[graph.KindVulnerability] == 0 {
		return nil, nil
	}
	res, err := s.r.Traverse(ctx, graph.TraverseRequest{From: []graph.NodeID{id}, Direction: graph.Upstream,
		EdgeKinds: append([]graph.EdgeKind{graph.Affects}, lineageKinds...), MaxDepth: DefaultDepth, Limit: WalkLimit})
	if err != nil {
		return nil, fmt.Errorf("advisories upstream of %s: %w", id, err)
	}
	var out []graph.Node
	for _, st := range res.Steps {
		if st.Node.Kind == graph.KindAdvisory || st.Node.Kind == graph.KindVulnerability {
			out = append(out, st.Node)
		}
	}
	return out, nil
}

// AdvisorySummary is what an advisory says (id, severity, summary) and its
// settled status (docs/security.md, "When claims disagree"), without its
// AFFECTS hops.
func (s *Service) AdvisorySummary(ctx context.Context, n graph.Node) (Advisory, error) {
	return s.loader().advisory(ctx, n)
}

// VerifiedCoverage is how much of an environment runs verified models:
// of the deployments in it that run a model now, how many run one that is
// verified under trust by role. (The watcher's "posture" rule watches it
// fall; the MLSecOps posture report is internal/posture.)
type VerifiedCoverage struct {
	Environment string `json:"environment"`
	Active      int    `json:"active"`
	Verified    int    `json:"verified"`
	// Percent is 100 x Verified / Active, rounded down; 100 when nothing
	// runs (an empty environment runs nothing unverified).
	Percent int `json:"percent"`
}

// VerifiedCoverageOf counts active and verified deployments.
func VerifiedCoverageOf(env string, active, verified int) VerifiedCoverage {
	p := VerifiedCoverage{Environment: env, Active: active, Verified: verified, Percent: 100}
	if active > 0 {
		p.Percent = 100 * verified / active
	}
	return p
}

// DeploymentTrust is what a deployment adds to its environment's
// verified coverage: whether a model serves it now and whether that model is
// verified.
type DeploymentTrust struct {
	Deployment  graph.NodeID
	Environment string
	Active      bool
	Verified    bool
	// Now is the deployment's state (DeploymentNow).
	Now Deployed
}

// TrustOfDeployment is DeploymentNow and the served model's Identity.
func (s *Service) TrustOfDeployment(ctx context.Context, id graph.NodeID) (DeploymentTrust, error) {
	d, err := s.DeploymentNow(ctx, id)
	if err != nil {
		return DeploymentTrust{}, err
	}
	t := DeploymentTrust{Deployment: d.Deployment.ID, Environment: d.Environment, Now: d}
	if d.State != "active" || d.Model.ID == "" {
		return t, nil
	}
	t.Active = true
	idn, err := s.Identity(ctx, d.Model.ID, graph.KindModel)
	if err != nil {
		return DeploymentTrust{}, err
	}
	t.Verified = idn.Verified
	return t, nil
}

// EachDeploymentTrust calls fn with TrustOfDeployment of every deployment
// (at most MaxScan), in id order.
func (s *Service) EachDeploymentTrust(ctx context.Context, fn func(DeploymentTrust) error) error {
	return s.scan(ctx, graph.KindDeployment, "", func(n graph.Node) (bool, error) {
		t, err := s.TrustOfDeployment(ctx, n.ID)
		if err != nil {
			return false, err
		}
		return true, fn(t)
	})
}
