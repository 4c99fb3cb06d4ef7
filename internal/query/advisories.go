package query

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
)

// Advisory is an advisory or vulnerability node and what it affects.
type Advisory struct {
	Node     Node   `json:"node"`
	ID       string `json:"id"`
	Severity string `json:"severity,omitempty"`
	Summary  string `json:"summary,omitempty"`
	// Status is the latest claimed status ("" when none was claimed).
	Status string `json:"status,omitempty"`
	// Active: the status is "active" or was never claimed. Only active
	// advisories exclude rollback candidates and deny admission.
	Active bool `json:"active"`
	// Affects lists the AFFECTS edges with their evidence.
	Affects []Hop `json:"affects"`
}

// IsActiveStatus reports whether an advisory status counts as active.
func IsActiveStatus(status string) bool {
	s := strings.ToLower(strings.TrimSpace(status))
	return s == "" || s == "active"
}

var advisoryKinds = []graph.NodeKind{graph.KindAdvisory, graph.KindVulnerability}

func (l *loader) advisory(ctx context.Context, n graph.Node) (Advisory, error) {
	a := Advisory{Node: toNode(n), ID: n.Attr("advisoryId"), Severity: n.Attr("severity"), Summary: n.Attr("summary")}
	if a.ID == "" {
		a.ID = displayName(n)
	}
	var err error
	if a.Status, err = l.settledClaim(ctx, n.Attrs, "status", n.Kind, advisoryPreference); err != nil {
		return Advisory{}, err
	}
	a.Active = IsActiveStatus(a.Status)
	es, err := l.r.Edges(ctx, n.ID, graph.Out, graph.Affects)
	if err != nil {
		return Advisory{}, fmt.Errorf("affected by %s: %w", a.ID, err)
	}
	a.Affects = []Hop{}
	for _, e := range es {
		to, err := l.r.Node(ctx, e.To)
		if err != nil {
			return Advisory{}, fmt.Errorf("affected node %s: %w", e.To, err)
		}
		h, err := l.hop(ctx, e, n, to)
		if err != nil {
			return Advisory{}, err
		}
		a.Affects = append(a.Affects, h)
	}
	return a, nil
}

// AdvisoriesAnswer is one page of advisories.
type AdvisoriesAnswer struct {
	Items    []Advisory `json:"items"`
	PageInfo PageInfo   `json:"pageInfo"`
}

// Advisories lists advisories and vulnerabilities in id order, only the
// active ones when activeOnly.
func (s *Service) Advisories(ctx context.Context, activeOnly bool, p Page) (AdvisoriesAnswer, error) {
	l := s.loader()
	items, info, err := scanPage(ctx, s, advisoryKinds, p, func(n graph.Node) (Advisory, bool, error) {
		a, err := l.advisory(ctx, n)
		return a, err == nil && (!activeOnly || a.Active), err
	}, func(a Advisory) Node { return a.Node })
	return AdvisoriesAnswer{Items: items, PageInfo: info}, err
}

// Advisory reads one advisory or vulnerability: its id, an
// "advisory:<id>" or "vuln:<id>" key.
func (s *Service) Advisory(ctx context.Context, ref string) (Advisory, error) {
	ns, err := s.resolve(ctx, ref, advisoryKinds...)
	if err != nil {
		return Advisory{}, err
	}
	return s.loader().advisory(ctx, ns[0])
}

// AdvisoryAnswer is an advisory and the models and deployments it
// reaches downstream.
type AdvisoryAnswer struct {
	Advisory     Advisory       `json:"advisory"`
	Affected     []AffectedNode `json:"affected"`
	PageInfo     PageInfo       `json:"pageInfo"`
	TotalCount   int            `json:"totalCount"`
	Truncated    bool           `json:"truncated"`
	DepthLimited bool           `json:"depthLimited"`
}

// AffectedByAdvisory resolves an advisory (its id, "advisory:<id>" or
// "vuln:<id>" key) and lists the models and deployments it affects:
// directly (AFFECTS) and downstream of what it affects (models trained on
// an affected dataset, fine-tunes of an affected model, deployments of
// any of them). Via is the directly affected node each path goes through.
func (s *Service) AffectedByAdvisory(ctx context.Context, ref string, depth int, p Page) (AdvisoryAnswer, error) {
	depth, err := checkDepth(depth)
	if err != nil {
		return AdvisoryAnswer{}, err
	}
	if _, err := p.size(); err != nil {
		return AdvisoryAnswer{}, err
	}
	ns, err := s.resolve(ctx, ref, advisoryKinds...)
	if err != nil {
		return AdvisoryAnswer{}, err
	}
	return s.affectedByAdvisory(ctx, ns[0], depth, p)
}

// affectedByAdvisory answers AffectedByAdvisory for a resolved advisory
// node (depth and page already checked).
func (s *Service) affectedByAdvisory(ctx context.Context, n graph.Node, depth int, p Page) (AdvisoryAnswer, error) {
	l := s.loader()
	adv, err := l.advisory(ctx, n)
	if err != nil {
		return AdvisoryAnswer{}, err
	}
	res, err := s.r.Traverse(ctx, graph.TraverseRequest{From: []graph.NodeID{n.ID}, Direction: graph.Downstream,
		EdgeKinds: append([]graph.EdgeKind{graph.Affects}, lineageKinds...), MaxDepth: depth, Limit: WalkLimit})
	if err != nil {
		return AdvisoryAnswer{}, fmt.Errorf("walk from %s: %w", adv.ID, err)
	}
	out := AdvisoryAnswer{Advisory: adv, Truncated: res.Truncated, DepthLimited: res.DepthLimited}
	out.Affected, out.PageInfo, out.TotalCount, err = s.affected(ctx, res, p)
	for i := range out.Affected {
		if len(out.Affected[i].Path) > 0 {
			out.Affected[i].Via = out.Affected[i].Path[0].To
		}
	}
	return out, err
}

// scanPage lists nodes of kinds (in kind order, then id order) that keep
// accepts, one page at a time with keyset cursors.
func scanPage[T any](ctx context.Context, s *Service, kinds []graph.NodeKind, p Page, keep func(graph.Node) (T, bool, error), nodeOf func(T) Node) ([]T, PageInfo, error) {
	var info PageInfo
	size, err := p.size()
	if err != nil {
		return nil, info, err
	}
	c, err := decodeCursor(p.After)
	if err != nil {
		return nil, info, err
	}
	start := 0
	var after graph.NodeID
	if p.After != "" {
		i := slices.Index(kinds, c.kind)
		if !c.keyset || i < 0 {
			return nil, info, fmt.Errorf("%w: cursor belongs to another list", ErrInvalidCursor)
		}
		start, after = i, c.id
	}
	items := []T{}
	for _, kind := range kinds[start:] {
		err := s.scan(ctx, kind, after, func(n graph.Node) (bool, error) {
			v, ok, err := keep(n)
			if err != nil {
				return false, err
			}
			if ok {
				items = append(items, v)
			}
			return len(items) <= size, nil
		})
		if err != nil {
			return nil, info, err
		}
		after = ""
		if len(items) > size {
			break
		}
	}
	if len(items) > size {
		items = items[:size]
		info.HasNextPage = true
	}
	info.EndCursor = p.After
	if len(items) > 0 {
		last := nodeOf(items[len(items)-1])
		info.EndCursor = idCursor(last.Kind, last.ID)
	}
	return items, info, nil
}
