package query

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

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

// AdvisoryInput is what createAdvisory takes.
type AdvisoryInput struct {
	ID         string   `json:"id"`
	Summary    string   `json:"summary,omitempty"`
	Severity   string   `json:"severity,omitempty"` // low | medium | high | critical
	Status     string   `json:"status,omitempty"`   // active (default) | mitigated | withdrawn | resolved
	Affects    []string `json:"affects"`            // references, resolved like Resolve
	References []string `json:"references,omitempty"`
}

// Limits of an advisory created through the API.
const (
	MaxAdvisoryIDLen    = 256
	MaxAdvisorySummary  = 16 << 10
	MaxAdvisoryAffects  = 1000
	MaxAdvisoryRefs     = 100
	AdvisoryDocType     = "advisory"
	advisoryKeyPrefix   = "advisory:"
	maxAdvisoryRefBytes = 2048
)

var (
	severities       = []string{"low", "medium", "high", "critical"}
	advisoryStatuses = []string{"active", "mitigated", "withdrawn", "resolved"}
	affectableKinds  = []graph.NodeKind{graph.KindModel, graph.KindDataset, graph.KindFile, graph.KindPackage, graph.KindSource, graph.KindDeployment, graph.KindTrainingRun}
)

// canonical validates and normalises the input; its JSON encoding is the
// advisory document, so the same advisory posted twice is one document.
func (in AdvisoryInput) canonical() (AdvisoryInput, []byte, error) {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: advisory %s: %s", ErrInvalidArgument, field, fmt.Sprintf(format, args...))
	}
	c := AdvisoryInput{
		ID:       strings.TrimSpace(in.ID),
		Summary:  strings.TrimSpace(in.Summary),
		Severity: strings.ToLower(strings.TrimSpace(in.Severity)),
		Status:   strings.ToLower(strings.TrimSpace(in.Status)),
	}
	switch {
	case c.ID == "":
		return c, nil, bad("id", "is empty")
	case len(c.ID) > MaxAdvisoryIDLen:
		return c, nil, bad("id", "is %d bytes, limit %d", len(c.ID), MaxAdvisoryIDLen)
	case strings.IndexFunc(c.ID, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return c, nil, bad("id", "%q has spaces or control characters", clip(c.ID))
	case len(c.Summary) > MaxAdvisorySummary:
		return c, nil, bad("summary", "is %d bytes, limit %d", len(c.Summary), MaxAdvisorySummary)
	case c.Severity != "" && !slices.Contains(severities, c.Severity):
		return c, nil, bad("severity", "%q is not low|medium|high|critical", clip(c.Severity))
	}
	if c.Status == "" {
		c.Status = "active"
	}
	if !slices.Contains(advisoryStatuses, c.Status) {
		return c, nil, bad("status", "%q is not active|mitigated|withdrawn|resolved", clip(c.Status))
	}
	if len(in.Affects) == 0 {
		return c, nil, bad("affects", "is empty: name at least one model, dataset, file or package")
	}
	if len(in.Affects) > MaxAdvisoryAffects {
		return c, nil, bad("affects", "%d references, limit %d", len(in.Affects), MaxAdvisoryAffects)
	}
	if len(in.References) > MaxAdvisoryRefs {
		return c, nil, bad("references", "%d references, limit %d", len(in.References), MaxAdvisoryRefs)
	}
	for i, r := range in.Affects {
		r = strings.TrimSpace(r)
		if _, err := parseRef(r); err != nil {
			return c, nil, bad(fmt.Sprintf("affects[%d]", i), "%v", err)
		}
		if !slices.Contains(c.Affects, r) {
			c.Affects = append(c.Affects, r)
		}
	}
	for i, r := range in.References {
		r = strings.TrimSpace(r)
		if r == "" || len(r) > maxAdvisoryRefBytes {
			return c, nil, bad(fmt.Sprintf("references[%d]", i), "is empty or longer than %d bytes", maxAdvisoryRefBytes)
		}
		if !slices.Contains(c.References, r) {
			c.References = append(c.References, r)
		}
	}
	slices.Sort(c.Affects)
	slices.Sort(c.References)
	raw, err := json.Marshal(c)
	if err != nil {
		return c, nil, fmt.Errorf("advisory: encoding: %w", err)
	}
	return c, raw, nil
}

// AdvisoryBatch turns an advisory input into the batch of one unsigned
// "advisory" document whose digest is the sha256 of the canonical JSON of
// the input (fields trimmed, severity and status lower-cased, status
// defaulting to active, affects and references sorted and deduplicated).
// Every reference in affects must name stored nodes; all of them are
// affected. Changing an advisory (withdrawing it) is a new document with
// the new status: the newest claim wins (see Advisory.Status).
func (s *Service) AdvisoryBatch(ctx context.Context, in AdvisoryInput, source string) (*graph.Batch, error) {
	c, raw, err := in.canonical()
	if err != nil {
		return nil, err
	}
	doc := graph.Document{Digest: graph.SHA256Key(raw), Type: AdvisoryDocType, Source: source, Size: int64(len(raw))}
	b := graph.NewBatch(doc)
	ai := b.Node(graph.KindAdvisory, advisoryKeyPrefix+c.ID)
	b.Set(ai, "advisoryId", c.ID)
	b.Set(ai, "severity", c.Severity)
	b.Set(ai, "status", c.Status)
	b.Set(ai, "summary", c.Summary)
	if len(c.References) > 0 {
		refs, _ := json.Marshal(c.References)
		b.Set(ai, "references", string(refs))
	}
	b.Describes(ai)
	for i, r := range c.Affects {
		ns, err := s.resolve(ctx, r, affectableKinds...)
		if err != nil {
			if isNotFound(err) {
				return nil, fmt.Errorf("%w: advisory affects[%d]: %w", ErrInvalidArgument, i, err)
			}
			return nil, fmt.Errorf("advisory affects[%d]: %w", i, err)
		}
		for _, n := range ns {
			ni := b.Node(n.Kind, n.Keys[0])
			b.Edge(ai, graph.Affects, ni, "status", c.Status)
		}
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	return b, nil
}

// AdvisoryReceipt says what createAdvisory recorded.
type AdvisoryReceipt struct {
	Receipt  graph.Receipt `json:"receipt"`
	Advisory Advisory      `json:"advisory"`
}

// CreateAdvisory records an advisory through w (see AdvisoryBatch) and
// returns it as now stored.
func (s *Service) CreateAdvisory(ctx context.Context, w graph.Writer, in AdvisoryInput, source string) (AdvisoryReceipt, error) {
	b, err := s.AdvisoryBatch(ctx, in, source)
	if err != nil {
		return AdvisoryReceipt{}, err
	}
	rc, err := w.Apply(ctx, b)
	if err != nil {
		return AdvisoryReceipt{}, fmt.Errorf("advisory %s: %w", strings.TrimSpace(in.ID), err)
	}
	i := slices.IndexFunc(b.Nodes, func(n graph.NodeSpec) bool { return n.Kind == graph.KindAdvisory })
	ns, err := s.r.Lookup(ctx, b.Nodes[i].Keys[0])
	if err != nil || len(ns) == 0 {
		return AdvisoryReceipt{}, fmt.Errorf("advisory %s: reading back: %w", strings.TrimSpace(in.ID), err)
	}
	adv, err := s.loader().advisory(ctx, ns[0])
	return AdvisoryReceipt{Receipt: rc, Advisory: adv}, err
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
