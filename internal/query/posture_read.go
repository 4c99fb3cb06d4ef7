package query

// Read-only helpers the posture package (internal/posture) composes. They
// expose rules that live here (evidence shape, deployment history, advisory
// status by claim precedence, paging) so posture does not re-implement
// them: one home per rule.

import (
	"context"
	"fmt"
	"time"

	"github.com/modelgraph/modelgraph/graph"
)

// EvidenceOf is the answer form of a stored document (the same conversion
// every answer uses).
func EvidenceOf(d graph.Document) Evidence { return toEvidence(d) }

// RefOf is the short answer form of a node (its display name included).
func RefOf(n graph.Node) NodeRef { return toRef(n) }

// NodeOf is the answer form of a node.
func NodeOf(n graph.Node) Node { return toNode(n) }

// ServedOn returns every model's history on deployment id at time at (zero:
// now): one Served per DEPLOYED_AS edge, by the same claim precedence as
// DeployedModelsTrainedOn (trusted records first, time from the records).
func (s *Service) ServedOn(ctx context.Context, id graph.NodeID, at time.Time) ([]Served, error) {
	in, err := s.r.Edges(ctx, id, graph.In, graph.DeployedAs)
	if err != nil {
		return nil, fmt.Errorf("models of deployment %s: %w", id, err)
	}
	l := s.loader()
	out := make([]Served, 0, len(in))
	for _, e := range in {
		m, err := s.r.Node(ctx, e.From)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", e.From, err)
		}
		h, err := l.served(ctx, e, toRef(m), at)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// ActiveAdvisoryNodes lists the advisory and vulnerability nodes whose
// status, settled by claim precedence, is active.
func (s *Service) ActiveAdvisoryNodes(ctx context.Context) ([]graph.Node, error) {
	l := s.loader()
	var out []graph.Node
	for _, kind := range advisoryKinds {
		err := s.scan(ctx, kind, "", func(n graph.Node) (bool, error) {
			st, err := l.settledClaim(ctx, n.Attrs, "status", n.Kind, advisoryPreference)
			if err == nil && IsActiveStatus(st) {
				out = append(out, n)
			}
			return err == nil, err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// PageWindow is the slice [lo, hi) of a computed list of n items that page p
// asks for, with its PageInfo (offset cursors, as every computed list here).
func PageWindow(p Page, n int) (lo, hi int, info PageInfo, err error) { return window(p, n) }
