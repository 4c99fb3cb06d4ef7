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

// Posture is how much of an environment runs verified models: of the
// deployments in it that run a model now, how many run one that is
// verified under trust by role.
type Posture struct {
	Environment string `json:"environment"`
	Active      int    `json:"active"`
	Verified    int    `json:"verified"`
	// Percent is 100 x Verified / Active, rounded down; 100 when nothing
	// runs (an empty environment runs nothing unverified).
	Percent int `json:"percent"`
}

// EnvironmentPosture computes the posture of env, reading every
// deployment (at most MaxScan).
func (s *Service) EnvironmentPosture(ctx context.Context, env string) (Posture, error) {
	p := Posture{Environment: env, Percent: 100}
	err := s.scan(ctx, graph.KindDeployment, "", func(n graph.Node) (bool, error) {
		if n.Attr("environment") != env {
			return true, nil
		}
		d, err := s.DeploymentNow(ctx, n.ID)
		if err != nil {
			return false, err
		}
		if d.State != "active" || d.Model.ID == "" {
			return true, nil
		}
		p.Active++
		id, err := s.Identity(ctx, d.Model.ID, graph.KindModel)
		if err != nil {
			return false, err
		}
		if id.Verified {
			p.Verified++
		}
		return true, nil
	})
	if p.Active > 0 {
		p.Percent = 100 * p.Verified / p.Active
	}
	return p, err
}
