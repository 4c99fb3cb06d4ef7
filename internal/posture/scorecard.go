package posture

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/scorecard"
)

// ScorecardResult is one OpenSSF Scorecard result about a repository, as
// one ingested document stated it.
type ScorecardResult struct {
	Repository string       `json:"repository"` // git+https://github.com/org/repo
	Commit     string       `json:"commit"`
	Date       string       `json:"date"`
	Score      float64      `json:"score"`
	Version    string       `json:"version,omitempty"` // Scorecard's version
	Document   string       `json:"document"`
	Status     graph.Status `json:"status"`
	// Checks lists "Name=score" per check, sorted by name.
	Checks []string `json:"checks"`
}

// repoOf is a Source node's repository (its uri claim, else its key
// without the commit).
func repoOf(src graph.Node) string {
	if u := src.Attr("uri"); u != "" {
		return u
	}
	for _, k := range src.Keys {
		if strings.HasPrefix(k, "git+") {
			if i := strings.LastIndexByte(k, '@'); i > 0 {
				return k[:i]
			}
			return k
		}
	}
	if len(src.Keys) > 0 {
		return src.Keys[0]
	}
	return string(src.ID)
}

// scorecardFor returns the Scorecard results that count for a training
// source, oldest first: those about its very commit, and unless the policy
// asks for the same commit, every result about its repository (the
// repository node the Scorecard ingest keeps the history on).
func (e *eval) scorecardFor(ctx context.Context, src graph.Node) ([]ScorecardResult, error) {
	own, err := e.scorecardHistory(ctx, src)
	if err != nil {
		return nil, err
	}
	if e.pol.ScorecardSameCommit {
		return e.keep(own), nil
	}
	repo := repoOf(src)
	e.mu.Lock()
	all, ok := e.score[repo]
	e.mu.Unlock()
	if !ok {
		ns, err := e.r.Lookup(ctx, repo)
		if err != nil {
			return nil, fmt.Errorf("lookup %s: %w", repo, err)
		}
		for _, n := range ns {
			if n.Kind != graph.KindSource || n.ID == src.ID {
				continue
			}
			rs, err := e.scorecardHistory(ctx, n)
			if err != nil {
				return nil, err
			}
			all = append(all, rs...)
		}
		e.mu.Lock()
		e.score[repo] = all
		e.mu.Unlock()
	}
	merged := slices.Clone(own)
	for _, r := range all {
		if !slices.ContainsFunc(merged, func(x ScorecardResult) bool { return x.Document == r.Document }) {
			merged = append(merged, r)
		}
	}
	sortResults(merged)
	return e.keep(merged), nil
}

func (e *eval) keep(rs []ScorecardResult) []ScorecardResult {
	if !e.pol.ScorecardRequireVerified {
		return rs
	}
	return slices.DeleteFunc(rs, func(r ScorecardResult) bool { return r.Status != graph.StatusVerified })
}

func sortResults(rs []ScorecardResult) {
	slices.SortStableFunc(rs, func(a, b ScorecardResult) int {
		if c := strings.Compare(a.Date, b.Date); c != 0 {
			return c
		}
		return strings.Compare(a.Document, b.Document)
	})
}

// scorecardHistory reads the Scorecard results recorded on one Source node:
// one per Scorecard document, its claims picked by that document.
func (e *eval) scorecardHistory(ctx context.Context, n graph.Node) ([]ScorecardResult, error) {
	var digests []string
	for _, a := range n.Attrs {
		if a.Name == scorecard.AttrScore {
			digests = append(digests, a.Docs...)
		}
	}
	if len(digests) == 0 {
		return nil, nil
	}
	evs, err := e.evidence(ctx, digests)
	if err != nil {
		return nil, err
	}
	var out []ScorecardResult
	for _, ev := range evs {
		if ev.Type != scorecard.DocType {
			continue
		}
		r := ScorecardResult{Repository: repoOf(n), Document: ev.Document, Status: ev.Status, Checks: []string{}}
		for _, a := range n.Attrs {
			if !slices.Contains(a.Docs, ev.Document) {
				continue
			}
			switch {
			case a.Name == scorecard.AttrScore:
				r.Score, _ = strconv.ParseFloat(a.Value, 64)
			case a.Name == scorecard.AttrDate:
				r.Date = a.Value
			case a.Name == scorecard.AttrCommit:
				r.Commit = a.Value
			case a.Name == scorecard.AttrVersion:
				r.Version = a.Value
			case strings.HasPrefix(a.Name, scorecard.AttrCheckPrefix):
				r.Checks = append(r.Checks, strings.TrimPrefix(a.Name, scorecard.AttrCheckPrefix)+"="+a.Value)
			}
		}
		slices.Sort(r.Checks)
		out = append(out, r)
	}
	sortResults(out)
	return out, nil
}

// ScorecardHistory returns every Scorecard result about the repository ref
// names (a git URI with or without a commit, "github.com/org/repo", or a
// Source node id), oldest first.
func (s *Service) ScorecardHistory(ctx context.Context, ref string) ([]ScorecardResult, error) {
	if !strings.Contains(ref, "://") && strings.Count(ref, "/") == 2 && !strings.HasPrefix(ref, "git+") {
		ref = "git+https://" + ref
	}
	ns, err := s.Q.Resolve(ctx, ref, graph.KindSource)
	if err != nil {
		return nil, err
	}
	e := s.newEval()
	var out []ScorecardResult
	for _, n := range ns {
		gn, err := e.node(ctx, n.ID)
		if err != nil {
			return nil, err
		}
		rs, err := e.scorecardFor(ctx, gn)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if !slices.ContainsFunc(out, func(x ScorecardResult) bool { return x.Document == r.Document }) {
				out = append(out, r)
			}
		}
	}
	sortResults(out)
	if out == nil {
		out = []ScorecardResult{}
	}
	return out, nil
}
