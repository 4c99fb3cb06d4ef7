package query

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/modelgraph/modelgraph/graph"
)

// Claim precedence (docs/security.md, "When claims disagree"). Every claim
// is kept; when documents disagree about a value (an advisory's status, a
// deployment's state), the answer comes from
//
//  1. the trust class: claims from verified documents whose role may vouch
//     for the subject (graph.VouchesFor: an advisory document for an
//     advisory, a deployment record for a deployment) outrank every other
//     claim — unsigned, unverifiable, failed, made through the API, or
//     signed by someone not trusted for the role. A stolen write token can
//     add claims, never overrule signed ones;
//  2. then time as the documents state it (deployedAt / undeployedAt);
//     documents that state no time of their own (AIXV v1 advisories, API
//     advisories) fall back to their ingest time, within their class only;
//  3. then a fixed preference between values, so ties never depend on
//     arrival order (for advisories the more alarming status wins).

// trusted reports whether e may settle a claim about a node of kind.
func trusted(e Evidence, kind graph.NodeKind) bool {
	return e.Status == graph.StatusVerified && graph.VouchesFor(e.Role, kind)
}

// Status values of advisories, most alarming first: the tie-break.
var advisoryPreference = []string{"active", "mitigated", "resolved", "withdrawn"}

func prefer(order []string, a, b string) int {
	ia, ib := slices.Index(order, a), slices.Index(order, b)
	if ia < 0 {
		ia = len(order)
	}
	if ib < 0 {
		ib = len(order)
	}
	if ia != ib {
		return cmp.Compare(ib, ia) // earlier in order = preferred = larger
	}
	return cmp.Compare(a, b)
}

// settledClaim returns the value of attribute name of a node of kind by
// claim precedence ("" when nobody claimed it).
func (l *loader) settledClaim(ctx context.Context, as []graph.Attr, name string, kind graph.NodeKind, order []string) (string, error) {
	type cand struct {
		value   string
		trusted bool
		at      time.Time
	}
	var best *cand
	better := func(a, b *cand) bool { // a better than b
		if b == nil {
			return true
		}
		if a.trusted != b.trusted {
			return a.trusted
		}
		if !a.at.Equal(b.at) {
			return a.at.After(b.at)
		}
		return prefer(order, a.value, b.value) > 0
	}
	for _, a := range as {
		if a.Name != name {
			continue
		}
		ev, err := l.evidence(ctx, a.Docs)
		if err != nil {
			return "", err
		}
		if len(ev) == 0 {
			c := &cand{value: a.Value}
			if better(c, best) {
				best = c
			}
		}
		for _, e := range ev {
			c := &cand{value: a.Value, trusted: trusted(e, kind), at: e.IngestedAt}
			if better(c, best) {
				best = c
			}
		}
	}
	if best == nil {
		return "", nil
	}
	return best.value, nil
}

// Record is one deployment record behind a DEPLOYED_AS edge: what one
// document says about a model running on a deployment.
type Record struct {
	Document     string       `json:"document"`
	DeployedAt   string       `json:"deployedAt,omitempty"`
	UndeployedAt string       `json:"undeployedAt,omitempty"`
	Status       graph.Status `json:"status"` // the document's status
	// Trusted: verified and from a signer trusted for deployment records;
	// only trusted records decide when any exist (claim precedence).
	Trusted bool `json:"trusted"`
}

// Window is a period a model served a deployment, from the records' own
// times. To is "" while it still serves.
type Window struct {
	From string `json:"from"`
	To   string `json:"to,omitempty"`
}

// Served is one model's history on one deployment.
type Served struct {
	Model NodeRef `json:"model"`
	// State is "active" or "withdrawn" at the time asked (now by default).
	State   string   `json:"state"`
	Windows []Window `json:"windows"`
	// Trusted: the state rests on trusted records; false when only
	// unsigned or untrusted records speak for it.
	Trusted bool     `json:"trusted"`
	Records []Record `json:"records"`
}

type event struct {
	at     time.Time
	raw    string
	active bool
}

// records splits a DEPLOYED_AS edge's claims by document.
func (l *loader) records(ctx context.Context, e graph.Edge) ([]Record, error) {
	ev, err := l.evidence(ctx, e.Docs)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(ev))
	for _, d := range ev {
		r := Record{Document: d.Document, Status: d.Status, Trusted: trusted(d, graph.KindDeployment)}
		for _, a := range e.Attrs {
			if !slices.Contains(a.Docs, d.Document) {
				continue
			}
			switch a.Name {
			case "deployedAt":
				r.DeployedAt = a.Value
			case "undeployedAt":
				r.UndeployedAt = a.Value
			}
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Record) int {
		return cmp.Or(cmp.Compare(a.DeployedAt, b.DeployedAt), cmp.Compare(a.UndeployedAt, b.UndeployedAt), cmp.Compare(a.Document, b.Document))
	})
	return out, nil
}

// served computes a model's history on a deployment at time at (zero: now)
// from the edge's records: trusted records only when there are any, each
// giving a "deployed" event and, when withdrawn, an "undeployed" one; the
// state at a time is the last event at or before it (an undeploy wins a
// tie), so an old record arriving late never undoes a newer one.
func (l *loader) served(ctx context.Context, e graph.Edge, model NodeRef, at time.Time) (Served, error) {
	recs, err := l.records(ctx, e)
	if err != nil {
		return Served{}, err
	}
	s := Served{Model: model, Records: recs, Windows: []Window{}}
	use := recs
	if slices.ContainsFunc(recs, func(r Record) bool { return r.Trusted }) {
		s.Trusted = true
		use = slices.DeleteFunc(slices.Clone(recs), func(r Record) bool { return !r.Trusted })
	}
	var evs []event
	for _, r := range use {
		if t, ok := parseTime(r.DeployedAt); ok {
			evs = append(evs, event{at: t, raw: r.DeployedAt, active: true})
		}
		if t, ok := parseTime(r.UndeployedAt); ok {
			evs = append(evs, event{at: t, raw: r.UndeployedAt, active: false})
		}
	}
	slices.SortStableFunc(evs, func(a, b event) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		// At one instant, deploy before undeploy: the undeploy is last.
		switch {
		case a.active && !b.active:
			return -1
		case !a.active && b.active:
			return 1
		}
		return 0
	})
	var open *Window
	for _, ev := range evs {
		switch {
		case ev.active && open == nil:
			s.Windows = append(s.Windows, Window{From: ev.raw})
			open = &s.Windows[len(s.Windows)-1]
		case !ev.active && open != nil:
			open.To = ev.raw
			open = nil
		}
	}
	if at.IsZero() {
		at = time.Now()
	}
	s.State = "withdrawn"
	for _, ev := range evs {
		if ev.at.After(at) {
			break
		}
		if ev.active {
			s.State = "active"
		} else {
			s.State = "withdrawn"
		}
	}
	if len(evs) == 0 {
		// Records without times (older predicates): their status claims
		// decide, trusted first.
		st, err := l.settledClaim(ctx, e.Attrs, "status", graph.KindDeployment, []string{"withdrawn", "active"})
		if err != nil {
			return Served{}, err
		}
		s.State = "active"
		if st != "" {
			s.State = st
		}
	}
	return s, nil
}

// deployedAt is the start of the window open at the state's time, else of
// the last window.
func (s Served) deployedAt() string {
	if len(s.Windows) == 0 {
		return ""
	}
	return s.Windows[len(s.Windows)-1].From
}

func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
