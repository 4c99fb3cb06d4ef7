package posture

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/query"
)

// Sort orders a report.
type Sort string

const (
	// SortLevel: lowest level first (the worst gaps on top), then most
	// failed controls, then name.
	SortLevel Sort = "LEVEL"
	// SortName: by name, then id.
	SortName Sort = "NAME"
	// SortFailed: most failed controls first, then most unknown, then
	// level.
	SortFailed Sort = "FAILED"
)

// ReportOptions select and order the rows of a report.
type ReportOptions struct {
	// Environment keeps deployments in that environment and the models
	// they serve now ("" keeps every model and deployment).
	Environment string `json:"environment,omitempty"`
	// Kinds: Model, Deployment (both when empty).
	Kinds []graph.NodeKind `json:"kinds,omitempty"`
	Sort  Sort             `json:"sort,omitempty"`
	// Descending reverses the order.
	Descending bool       `json:"descending,omitempty"`
	Page       query.Page `json:"page"`
}

// ControlResult is one control's result in a report row.
type ControlResult struct {
	ID     string `json:"id"`
	Result Result `json:"result"`
}

// Row is one model's or deployment's posture, without the evidence.
type Row struct {
	Subject     query.NodeRef   `json:"subject"`
	Environment string          `json:"environment,omitempty"`
	Model       *query.NodeRef  `json:"model,omitempty"`
	Level       int             `json:"level"`
	LevelName   string          `json:"levelName"`
	Passed      int             `json:"passed"`
	Failed      int             `json:"failed"`
	Unknown     int             `json:"unknown"`
	Missing     []string        `json:"missing"`
	Controls    []ControlResult `json:"controls"`
}

// LevelCount is how many rows sit at a level.
type LevelCount struct {
	Level string `json:"level"`
	Count int    `json:"count"`
}

// Report lists postures, one row per model or deployment.
type Report struct {
	Rows       []Row          `json:"rows"`
	PageInfo   query.PageInfo `json:"pageInfo"`
	TotalCount int            `json:"totalCount"`
	// Levels counts every row (all pages) by level, L0 first.
	Levels []LevelCount `json:"levels"`
	// Truncated: more than MaxReportRows subjects; the report covers the
	// first ones in id order.
	Truncated bool `json:"truncated"`
}

// MaxReportRows bounds the subjects one report evaluates.
const MaxReportRows = 200_000

// Report evaluates every selected model and deployment, sorts and pages.
func (s *Service) Report(ctx context.Context, o ReportOptions) (Report, error) {
	kinds := o.Kinds
	if len(kinds) == 0 {
		kinds = []graph.NodeKind{graph.KindModel, graph.KindDeployment}
	}
	for _, k := range kinds {
		if k != graph.KindModel && k != graph.KindDeployment {
			return Report{}, fmt.Errorf("%w: kinds: posture is reported for Model and Deployment, not %s", query.ErrInvalidArgument, k)
		}
	}
	switch o.Sort {
	case "", SortLevel, SortName, SortFailed:
	default:
		return Report{}, fmt.Errorf("%w: sort %q is not LEVEL, NAME or FAILED", query.ErrInvalidArgument, o.Sort)
	}
	e := s.newEval()
	var subjects []graph.Node
	truncated := false
	wantModel, wantDep := slices.Contains(kinds, graph.KindModel), slices.Contains(kinds, graph.KindDeployment)
	add := func(n graph.Node) {
		if len(subjects) >= MaxReportRows {
			truncated = true
			return
		}
		subjects = append(subjects, n)
	}
	if o.Environment == "" {
		for _, k := range kinds {
			if err := e.list(ctx, k, func(n graph.Node) { add(n) }); err != nil {
				return Report{}, err
			}
		}
	} else {
		seen := map[graph.NodeID]bool{}
		var deps []graph.Node
		err := e.list(ctx, graph.KindDeployment, func(n graph.Node) {
			if slices.Contains(n.AttrValues("environment"), o.Environment) {
				deps = append(deps, n)
			}
		})
		if err != nil {
			return Report{}, err
		}
		for _, n := range deps {
			if wantDep {
				add(n)
			}
			if !wantModel {
				continue
			}
			m, err := e.servedModel(ctx, n)
			if err != nil {
				return Report{}, err
			}
			if m != nil && !seen[m.ID] {
				seen[m.ID] = true
				add(*m)
			}
		}
	}
	rows, err := s.evaluate(ctx, e, subjects)
	if err != nil {
		return Report{}, err
	}
	sortRows(rows, o.Sort, o.Descending)
	out := Report{TotalCount: len(rows), Truncated: truncated}
	counts := make([]int, len(LevelNames)+1)
	for _, r := range rows {
		counts[r.Level]++
	}
	for i, c := range counts {
		out.Levels = append(out.Levels, LevelCount{Level: fmt.Sprintf("L%d", i), Count: c})
	}
	lo, hi, info, err := query.PageWindow(o.Page, len(rows))
	if err != nil {
		return Report{}, err
	}
	out.Rows, out.PageInfo = rows[lo:hi], info
	return out, nil
}

func (e *eval) list(ctx context.Context, kind graph.NodeKind, fn func(graph.Node)) error {
	var after graph.NodeID
	for {
		ns, err := e.r.Nodes(ctx, graph.NodeQuery{Kind: kind, After: after, Limit: graph.MaxListLimit})
		if err != nil {
			return fmt.Errorf("list %s: %w", kind, err)
		}
		for _, n := range ns {
			e.remember(n)
			fn(n)
		}
		if len(ns) < graph.MaxListLimit {
			return nil
		}
		after = ns[len(ns)-1].ID
	}
}

func rowOf(p Posture) Row {
	r := Row{Subject: p.Subject, Environment: p.Environment, Model: p.Model, Level: p.Level, LevelName: p.LevelName,
		Passed: p.Passed, Failed: p.Failed, Unknown: p.Unknown, Missing: p.Missing}
	for _, c := range p.Controls {
		r.Controls = append(r.Controls, ControlResult{ID: c.ID, Result: c.Result})
	}
	return r
}

func sortRows(rows []Row, by Sort, desc bool) {
	name := func(a, b Row) int {
		return cmp.Or(strings.Compare(a.Subject.Name, b.Subject.Name), strings.Compare(string(a.Subject.Kind), string(b.Subject.Kind)), strings.Compare(string(a.Subject.ID), string(b.Subject.ID)))
	}
	var f func(a, b Row) int
	switch by {
	case SortName:
		f = name
	case SortFailed:
		f = func(a, b Row) int {
			return cmp.Or(cmp.Compare(b.Failed, a.Failed), cmp.Compare(b.Unknown, a.Unknown), cmp.Compare(a.Level, b.Level), name(a, b))
		}
	default:
		f = func(a, b Row) int {
			return cmp.Or(cmp.Compare(a.Level, b.Level), cmp.Compare(b.Failed, a.Failed), cmp.Compare(b.Unknown, a.Unknown), name(a, b))
		}
	}
	if desc {
		g := f
		f = func(a, b Row) int { return g(b, a) }
	}
	slices.SortFunc(rows, f)
}

// evaluate computes the rows of subjects, in order. Large reports run on
// several workers sharing one eval's caches; the advisory walks are
// computed once, before they start.
func (s *Service) evaluate(ctx context.Context, e *eval, subjects []graph.Node) ([]Row, error) {
	rows := make([]Row, len(subjects))
	workers := min(runtime.GOMAXPROCS(0), 4, max(len(subjects)/64, 1))
	if _, err := e.taints(ctx); err != nil {
		return nil, err
	}
	chunk := (len(subjects) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, len(subjects))
		if lo >= hi {
			continue
		}
		ev := e
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				p, err := ev.posture(ctx, subjects[i])
				if err != nil {
					errs[w] = err
					return
				}
				rows[i] = rowOf(p)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return rows, nil
}
