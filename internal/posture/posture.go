// Package posture answers "which MLSecOps controls does this model or
// deployment meet?": a list of controls, each a rule over the graph with the
// documents behind its result and what would fix it, and a level (L0..L3)
// derived from them by a YAML policy (docs/posture.md). It composes
// internal/query's read functions (identity by trust by role, deployment
// history, advisory status) over a graph.Reader; it writes nothing.
package posture

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/query"
)

// Result is a control's outcome.
type Result string

const (
	// Passed: the evidence satisfies the rule.
	Passed Result = "passed"
	// Failed: documents exist and they break the rule (a signature that did
	// not verify or whose signer is not trusted for the role, an active
	// advisory, a score under the threshold, a sensitive dataset without a
	// licence).
	Failed Result = "failed"
	// Unknown: the graph holds no evidence to decide (no signature, no
	// provenance, no SBOM, no Scorecard result was ingested).
	Unknown Result = "unknown"
	// NotApplicable: the control is about another kind of subject (a
	// deployment control asked of a model).
	NotApplicable Result = "not-applicable"
)

// Control is one control's result for one subject.
type Control struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Stage string `json:"stage"`
	// Level is the level that requires the control under the policy (0:
	// reported, not counted).
	Level   int    `json:"level"`
	Result  Result `json:"result"`
	Message string `json:"message"`
	// Fix says what would make the control pass ("" when it passed).
	Fix string `json:"fix,omitempty"`
	// Subjects are the nodes the rule looked at (the model, its datasets,
	// its base models, the serving image, the source repository).
	Subjects []query.NodeRef `json:"subjects"`
	// Evidence lists the documents behind the result: those that satisfy
	// the rule when it passed, those that break it when it failed.
	Evidence []query.Evidence `json:"evidence"`
}

// Posture is a model's or deployment's posture.
type Posture struct {
	Subject     query.NodeRef `json:"subject"`
	Environment string        `json:"environment,omitempty"`
	// Model is, for a deployment, the model it serves now (nil when none).
	Model *query.NodeRef `json:"model,omitempty"`
	// Level is 0..3: the highest level whose controls, and every lower
	// level's, all passed. LevelName is "L0".."L3".
	Level     int       `json:"level"`
	LevelName string    `json:"levelName"`
	Controls  []Control `json:"controls"`
	// Missing lists the controls that keep the subject from the next level
	// (failed or unknown), the "what is missing" answer; empty at L3.
	Missing []string `json:"missing"`
	Passed  int      `json:"passed"`
	Failed  int      `json:"failed"`
	Unknown int      `json:"unknown"`
}

// Service evaluates postures over a query service under a policy.
type Service struct {
	Q      *query.Service
	Policy Policy
	// Now is the clock used for recency (time.Now when nil).
	Now func() time.Time
}

// New returns a Service using pol (DefaultPolicy when pol has no levels).
func New(q *query.Service, pol Policy) (*Service, error) {
	p, err := pol.WithDefaults()
	if err != nil {
		return nil, err
	}
	return &Service{Q: q, Policy: p}, nil
}

// Posture evaluates the model or deployment ref names (any reference
// query.Resolve takes). A reference naming several models or deployments
// takes the first (kind order: Deployment, then Model).
func (s *Service) Posture(ctx context.Context, ref string) (Posture, error) {
	ns, err := s.Q.Resolve(ctx, ref, graph.KindModel, graph.KindDeployment)
	if err != nil {
		return Posture{}, err
	}
	n, err := s.Q.Reader().Node(ctx, ns[0].ID)
	if err != nil {
		return Posture{}, fmt.Errorf("node %s: %w", ns[0].ID, err)
	}
	return s.newEval().posture(ctx, n)
}

// eval holds the caches of one question (a report shares them across rows
// and workers: mu guards the maps; the taints are computed before workers
// start and only read after).
type eval struct {
	mu    sync.Mutex
	s     *Service
	r     graph.Reader
	pol   Policy
	now   time.Time
	ident map[graph.NodeID]query.Identity
	docs  map[string]*query.Evidence
	nodes map[graph.NodeID]graph.Node
	model map[graph.NodeID][]Control
	score map[string][]ScorecardResult // by repository uri
	taint *taints
}

func (s *Service) newEval() *eval {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	return &eval{s: s, r: s.Q.Reader(), pol: s.Policy, now: now,
		ident: map[graph.NodeID]query.Identity{}, docs: map[string]*query.Evidence{},
		nodes: map[graph.NodeID]graph.Node{}, model: map[graph.NodeID][]Control{}, score: map[string][]ScorecardResult{}}
}

func (e *eval) node(ctx context.Context, id graph.NodeID) (graph.Node, error) {
	e.mu.Lock()
	n, ok := e.nodes[id]
	e.mu.Unlock()
	if ok {
		return n, nil
	}
	n, err := e.r.Node(ctx, id)
	if err != nil {
		return graph.Node{}, fmt.Errorf("node %s: %w", id, err)
	}
	e.remember(n)
	return n, nil
}

// remember caches a node read elsewhere (listings, walks).
func (e *eval) remember(n graph.Node) {
	e.mu.Lock()
	e.nodes[n.ID] = n
	e.mu.Unlock()
}

func (e *eval) identity(ctx context.Context, n graph.Node) (query.Identity, error) {
	e.mu.Lock()
	id, ok := e.ident[n.ID]
	e.mu.Unlock()
	if ok {
		return id, nil
	}
	id, err := e.s.Q.Identity(ctx, n.ID, n.Kind)
	if err != nil {
		return query.Identity{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ident[n.ID] = id
	for i := range id.DescribedBy {
		ev := id.DescribedBy[i]
		e.docs[ev.Document] = &ev
	}
	return id, nil
}

// evidence loads the stored documents among digests, in order.
func (e *eval) evidence(ctx context.Context, digests []string) ([]query.Evidence, error) {
	var missing []string
	e.mu.Lock()
	for _, d := range digests {
		if _, ok := e.docs[d]; !ok && !slices.Contains(missing, d) {
			missing = append(missing, d)
		}
	}
	e.mu.Unlock()
	if len(missing) > 0 {
		ds, err := e.r.Documents(ctx, missing...)
		if err != nil {
			return nil, fmt.Errorf("documents: %w", err)
		}
		e.mu.Lock()
		for _, d := range missing {
			if _, ok := e.docs[d]; !ok {
				e.docs[d] = nil
			}
		}
		for _, d := range ds {
			ev := query.EvidenceOf(d)
			e.docs[d.Digest] = &ev
		}
		e.mu.Unlock()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]query.Evidence, 0, len(digests))
	for _, d := range digests {
		if ev := e.docs[d]; ev != nil {
			out = append(out, *ev)
		}
	}
	return out, nil
}

// out lists the nodes at the other end of n's edges of kind, of the kinds
// wanted.
func (e *eval) out(ctx context.Context, n graph.Node, dir graph.Direction, kind graph.EdgeKind, want ...graph.NodeKind) ([]graph.Node, []graph.Edge, error) {
	es, err := e.r.Edges(ctx, n.ID, dir, kind)
	if err != nil {
		return nil, nil, fmt.Errorf("%s edges of %s: %w", kind, n.ID, err)
	}
	var ns []graph.Node
	var kept []graph.Edge
	for _, ed := range es {
		peer := ed.To
		if peer == n.ID {
			peer = ed.From
		}
		if dir == graph.In {
			peer = ed.From
		}
		p, err := e.node(ctx, peer)
		if err != nil {
			return nil, nil, err
		}
		if len(want) > 0 && !slices.Contains(want, p.Kind) {
			continue
		}
		if !slices.ContainsFunc(ns, func(x graph.Node) bool { return x.ID == p.ID }) {
			ns = append(ns, p)
		}
		kept = append(kept, ed)
	}
	return ns, kept, nil
}

func (e *eval) posture(ctx context.Context, n graph.Node) (Posture, error) {
	p := Posture{Subject: query.RefOf(n), Controls: []Control{}, Missing: []string{}}
	var cs []Control
	switch n.Kind {
	case graph.KindModel:
		mc, err := e.modelControls(ctx, n)
		if err != nil {
			return Posture{}, err
		}
		cs = slices.Clone(mc)
		for _, info := range controls {
			if info.Deployment {
				cs = append(cs, e.control(info.ID, NotApplicable, "a deployment control: ask the posture of a deployment of this model", "", nil, nil))
			}
		}
	case graph.KindDeployment:
		p.Environment = n.Attr("environment")
		model, err := e.servedModel(ctx, n)
		if err != nil {
			return Posture{}, err
		}
		if model != nil {
			ref := query.RefOf(*model)
			p.Model = &ref
			mc, err := e.modelControls(ctx, *model)
			if err != nil {
				return Posture{}, err
			}
			cs = slices.Clone(mc)
			// The advisory control of a deployment is its own: an advisory
			// may reach the deployment through its serving image.
			cs = slices.DeleteFunc(cs, func(c Control) bool { return c.ID == NoActiveAdvisory })
		} else {
			for _, info := range controls {
				if !info.Deployment && info.ID != NoActiveAdvisory {
					cs = append(cs, e.control(info.ID, Unknown, "the deployment serves no model now: no trusted or untrusted record names an active one", "ingest the deployment record of the model it serves", nil, nil))
				}
			}
		}
		dc, err := e.deploymentControls(ctx, n)
		if err != nil {
			return Posture{}, err
		}
		cs = append(cs, dc...)
	default:
		return Posture{}, fmt.Errorf("%w: posture is asked of a model or a deployment, not a %s", query.ErrInvalidArgument, n.Kind)
	}
	// Evaluation order is the controls table's.
	order := func(id string) int { return slices.IndexFunc(controls, func(c ControlInfo) bool { return c.ID == id }) }
	slices.SortStableFunc(cs, func(a, b Control) int { return order(a.ID) - order(b.ID) })
	p.Controls = cs
	for _, c := range cs {
		switch c.Result {
		case Passed:
			p.Passed++
		case Failed:
			p.Failed++
		case Unknown:
			p.Unknown++
		}
	}
	p.Level, p.Missing = e.level(cs)
	p.LevelName = fmt.Sprintf("L%d", p.Level)
	return p, nil
}

// level is the highest level whose required controls (and every lower
// level's) all passed, and the controls that block the next one.
func (e *eval) level(cs []Control) (int, []string) {
	result := map[string]Result{}
	for _, c := range cs {
		result[c.ID] = c.Result
	}
	for i, l := range LevelNames {
		var missing []string
		for _, id := range e.pol.Levels[l] {
			switch result[id] {
			case Passed, NotApplicable:
			default:
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return i, missing
		}
	}
	return len(LevelNames), []string{}
}

func (e *eval) control(id string, r Result, msg, fix string, subjects []graph.Node, ev []query.Evidence) Control {
	info := controlByID[id]
	c := Control{ID: id, Title: info.Title, Stage: info.Stage, Level: e.pol.LevelOf(id), Result: r, Message: msg, Subjects: []query.NodeRef{}, Evidence: []query.Evidence{}}
	if r != Passed {
		c.Fix = fix
	}
	for _, n := range subjects {
		ref := query.RefOf(n)
		if !slices.Contains(c.Subjects, ref) {
			c.Subjects = append(c.Subjects, ref)
		}
	}
	for _, x := range ev {
		if !slices.ContainsFunc(c.Evidence, func(y query.Evidence) bool { return y.Document == x.Document }) {
			c.Evidence = append(c.Evidence, x)
		}
	}
	return c
}

// servedModel is the model a deployment serves now: an active history,
// trusted before untrusted, then the latest deployed.
func (e *eval) servedModel(ctx context.Context, dep graph.Node) (*graph.Node, error) {
	hs, err := e.s.Q.ServedOn(ctx, dep.ID, e.now)
	if err != nil {
		return nil, err
	}
	best := -1
	from := func(h query.Served) string {
		if len(h.Windows) == 0 {
			return ""
		}
		return h.Windows[len(h.Windows)-1].From
	}
	for i, h := range hs {
		if h.State != "active" {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		b := hs[best]
		switch {
		case h.Trusted != b.Trusted:
			if h.Trusted {
				best = i
			}
		case from(h) != from(b):
			if from(h) > from(b) {
				best = i
			}
		case h.Model.ID < b.Model.ID:
			best = i
		}
	}
	if best < 0 {
		return nil, nil
	}
	m, err := e.node(ctx, hs[best].Model.ID)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// byRole splits the documents describing a node by role: those of role r,
// and among them those that vouch for the node.
func byRole(id query.Identity, r graph.Role) (all, vouching []query.Evidence) {
	for _, ev := range id.DescribedBy {
		if ev.Role != r {
			continue
		}
		all = append(all, ev)
		if id.Verified && slices.Contains(id.VouchedBy, ev.Document) {
			vouching = append(vouching, ev)
		}
	}
	return all, vouching
}

func signersOf(evs []query.Evidence) string {
	var out []string
	for _, ev := range evs {
		for _, sg := range ev.Signers {
			if sg.Status != graph.StatusVerified {
				continue
			}
			label := sg.Identity
			if label == "" && sg.KeyID != "" {
				label = "key " + sg.KeyID
			}
			if label == "" {
				label = sg.Method
			}
			if !slices.Contains(out, label) {
				out = append(out, label)
			}
		}
	}
	if len(out) == 0 {
		return "a trusted signer"
	}
	return strings.Join(out, ", ")
}

func names(ns []graph.Node) string {
	var out []string
	for _, n := range ns {
		out = append(out, query.RefOf(n).Name)
	}
	return strings.Join(out, ", ")
}

func shortDoc(d string) string {
	if i := strings.IndexByte(d, ':'); i > 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}
