package query

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
)

// StatusCount counts the nodes of one kind whose own evidence has a status.
type StatusCount struct {
	Kind   graph.NodeKind `json:"kind"`
	Status graph.Status   `json:"status"`
	Count  int            `json:"count"`
}

// WeakDeployment is a production deployment and the weakest evidence on
// its upstream lineage.
type WeakDeployment struct {
	Deployment Node `json:"deployment"`
	// Status is the weakest status on any path upstream of it.
	Status graph.Status `json:"status"`
	// WeakNodes counts the upstream nodes reached through a hop that is not
	// verified; Reached all upstream nodes.
	WeakNodes int `json:"weakNodes"`
	Reached   int `json:"reached"`
	// Weakness is the first unverified hop's reason.
	Weakness string `json:"weakness,omitempty"`
}

// AdvisoryReach is an active advisory and the models and deployments it
// reaches.
type AdvisoryReach struct {
	Advisory NodeRef `json:"advisory"`
	Severity string  `json:"severity,omitempty"`
	Summary  string  `json:"summary,omitempty"`
	// Affects are the nodes it names directly (AFFECTS); Reaches the
	// models and deployments downstream (at most DashboardRows of Total).
	Affects []NodeRef `json:"affects"`
	Reaches []NodeRef `json:"reaches"`
	Total   int       `json:"total"`
}

// RecentDocument is an ingested document and what it describes.
type RecentDocument struct {
	Document  Evidence  `json:"document"`
	Describes []NodeRef `json:"describes"`
}

// Dashboard is the landing page's answer.
type Dashboard struct {
	Stats Stats `json:"stats"`
	// Verification counts models, datasets and deployments by status.
	Verification []StatusCount `json:"verification"`
	// WeakestProduction: production deployments, weakest lineage first.
	WeakestProduction []WeakDeployment `json:"weakestProduction"`
	// ActiveAdvisories and what each reaches.
	ActiveAdvisories []AdvisoryReach `json:"activeAdvisories"`
	// UnverifiedProductionModels: models deployed to production whose own
	// evidence is not verified.
	UnverifiedProductionModels []InventoryItem `json:"unverifiedProductionModels"`
	// RecentDocuments: the latest ingested documents, newest first.
	RecentDocuments []RecentDocument `json:"recentDocuments"`
	// Truncated: a panel stopped at its bound (DashboardRows rows, or
	// DashboardScan nodes scanned).
	Truncated bool `json:"truncated"`
}

// Dashboard bounds.
const (
	DashboardRows = 10
	DashboardScan = 20_000
)

// IsProduction reports whether an environment name is production.
func IsProduction(env string) bool {
	switch strings.ToLower(strings.TrimSpace(env)) {
	case "production", "prod", "prd":
		return true
	}
	return false
}

// Dashboard answers the landing page: counts, the weakest production
// deployments, active advisories and their reach, unverified production
// models and the latest documents. Each panel is bounded (DashboardRows,
// DashboardScan) and says so when it cut.
func (s *Service) Dashboard(ctx context.Context) (Dashboard, error) {
	var d Dashboard
	var err error
	if d.Stats, err = s.Stats(ctx); err != nil {
		return d, err
	}
	l := s.loader()
	counts := map[StatusCount]int{}
	var prodDeps []graph.Node
	var prodModels []InventoryItem
	for _, kind := range []graph.NodeKind{graph.KindModel, graph.KindDataset, graph.KindDeployment} {
		seen := 0
		err := s.scan(ctx, kind, "", func(n graph.Node) (bool, error) {
			if seen++; seen > DashboardScan {
				d.Truncated = true
				return false, nil
			}
			id, err := l.identity(ctx, n, "")
			if err != nil {
				return false, err
			}
			counts[StatusCount{Kind: kind, Status: id.Status}]++
			switch kind {
			case graph.KindDeployment:
				if IsProduction(n.Attr("environment")) {
					prodDeps = append(prodDeps, n)
				}
			case graph.KindModel:
				if id.Verified {
					return true, nil
				}
				it, ok, err := s.inventoryItem(ctx, l, n, NodeFilter{}, nil)
				if err != nil || !ok {
					return err == nil, err
				}
				if slices.ContainsFunc(it.Environments, IsProduction) {
					prodModels = append(prodModels, it)
				}
			}
			return true, nil
		})
		if err != nil {
			return d, err
		}
	}
	d.Verification = []StatusCount{}
	for _, kind := range []graph.NodeKind{graph.KindModel, graph.KindDataset, graph.KindDeployment} {
		for _, st := range []graph.Status{graph.StatusVerified, graph.StatusFailed, graph.StatusUnverifiable, graph.StatusUnsigned} {
			if n := counts[StatusCount{Kind: kind, Status: st}]; n > 0 {
				d.Verification = append(d.Verification, StatusCount{Kind: kind, Status: st, Count: n})
			}
		}
	}
	if len(prodModels) > DashboardRows {
		prodModels, d.Truncated = prodModels[:DashboardRows], true
	}
	d.UnverifiedProductionModels = append([]InventoryItem{}, prodModels...)

	d.WeakestProduction = []WeakDeployment{}
	if len(prodDeps) > DashboardScan/100 {
		prodDeps, d.Truncated = prodDeps[:DashboardScan/100], true
	}
	for _, dep := range prodDeps {
		lin, err := s.Trace(ctx, string(dep.ID), LineageOptions{Page: Page{First: MaxPageSize}})
		if err != nil {
			return d, err
		}
		w := WeakDeployment{Deployment: toNode(dep), Status: graph.StatusVerified, Reached: lin.TotalCount}
		for _, r := range lin.Reached {
			if r.Status.Rank() < w.Status.Rank() {
				w.Status = r.Status
			}
			if r.Status != graph.StatusVerified {
				w.WeakNodes++
				if w.Weakness == "" {
					for _, h := range r.Path {
						if h.Weakness != "" {
							w.Weakness = h.From.Name + " " + string(h.Kind) + " " + h.To.Name + ": " + h.Weakness
							break
						}
					}
				}
			}
		}
		d.WeakestProduction = append(d.WeakestProduction, w)
	}
	slices.SortStableFunc(d.WeakestProduction, func(a, b WeakDeployment) int {
		if c := a.Status.Rank() - b.Status.Rank(); c != 0 {
			return c
		}
		if c := b.WeakNodes - a.WeakNodes; c != 0 {
			return c
		}
		return strings.Compare(a.Deployment.Name, b.Deployment.Name)
	})
	if len(d.WeakestProduction) > DashboardRows {
		d.WeakestProduction, d.Truncated = d.WeakestProduction[:DashboardRows], true
	}

	d.ActiveAdvisories = []AdvisoryReach{}
	adv, err := s.Advisories(ctx, true, Page{First: DashboardRows + 1})
	if err != nil {
		return d, err
	}
	if len(adv.Items) > DashboardRows {
		adv.Items, d.Truncated = adv.Items[:DashboardRows], true
	}
	for _, a := range adv.Items {
		ans, err := s.AffectedByAdvisory(ctx, string(a.Node.ID), 0, Page{First: DashboardRows})
		if err != nil {
			return d, err
		}
		r := AdvisoryReach{Advisory: NodeRef{ID: a.Node.ID, Kind: a.Node.Kind, Name: a.ID}, Severity: a.Severity, Summary: a.Summary, Total: ans.TotalCount, Reaches: []NodeRef{}, Affects: []NodeRef{}}
		for _, h := range a.Affects {
			r.Affects = append(r.Affects, h.To)
		}
		for _, n := range ans.Affected {
			r.Reaches = append(r.Reaches, NodeRef{ID: n.Node.ID, Kind: n.Node.Kind, Name: n.Node.Name})
		}
		d.ActiveAdvisories = append(d.ActiveAdvisories, r)
	}

	d.RecentDocuments, err = s.recentDocuments(ctx, l, DashboardRows)
	return d, err
}

// recentDocuments returns the n latest ingested documents (scanning at
// most DashboardScan document nodes).
func (s *Service) recentDocuments(ctx context.Context, l *loader, n int) ([]RecentDocument, error) {
	type doc struct {
		node graph.Node
		ev   Evidence
	}
	var docs []doc
	var batch []graph.Node
	flush := func() error {
		var digests []string
		for _, b := range batch {
			digests = append(digests, docDigest(b))
		}
		evs, err := l.evidence(ctx, digests)
		if err != nil {
			return err
		}
		byDigest := map[string]Evidence{}
		for _, e := range evs {
			byDigest[e.Document] = e
		}
		for _, b := range batch {
			if e, ok := byDigest[docDigest(b)]; ok {
				docs = append(docs, doc{b, e})
			}
		}
		slices.SortStableFunc(docs, func(a, b doc) int { return b.ev.IngestedAt.Compare(a.ev.IngestedAt) })
		if len(docs) > n {
			docs = docs[:n]
		}
		batch = batch[:0]
		l.docs = map[string]*Evidence{} // keep the loader small over a long scan
		return nil
	}
	seen := 0
	err := s.scan(ctx, graph.KindDocument, "", func(d graph.Node) (bool, error) {
		if seen++; seen > DashboardScan {
			return false, nil
		}
		batch = append(batch, d)
		if len(batch) == 1000 {
			return true, flush()
		}
		return true, nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, err
	}
	out := []RecentDocument{}
	for _, d := range docs {
		rd := RecentDocument{Document: d.ev, Describes: []NodeRef{}}
		es, err := s.r.Edges(ctx, d.node.ID, graph.Out, graph.Describes)
		if err != nil {
			return nil, fmt.Errorf("subjects of %s: %w", d.ev.Document, err)
		}
		for _, e := range es {
			m, err := s.r.Node(ctx, e.To)
			if err != nil {
				return nil, fmt.Errorf("subject %s: %w", e.To, err)
			}
			rd.Describes = append(rd.Describes, toRef(m))
		}
		out = append(out, rd)
	}
	return out, nil
}
