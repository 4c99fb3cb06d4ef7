package query

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelgraph/modelgraph/graph"
)

// lineageKinds are the edges that carry supply-chain lineage: what was made
// from what, what runs where. Evidence edges (DESCRIBES, SIGNED_BY) and
// advisories are left out so that a document about two artifacts does not
// make them each other's lineage.
var lineageKinds = []graph.EdgeKind{
	graph.TrainedOn, graph.DerivedFrom, graph.Contains, graph.DeployedAs, graph.DependsOn,
	graph.BuiltFrom, graph.ProducedBy, graph.Uses,
}

// LineageOptions shape Trace and Impact.
type LineageOptions struct {
	// Depth bounds the walk (DefaultDepth when 0, at most MaxDepth).
	Depth int `json:"depth,omitempty"`
	// Kinds restricts the answer to these node kinds (all when empty); the
	// walk still goes through other kinds.
	Kinds []graph.NodeKind `json:"kinds,omitempty"`
	// IncludeFiles follows CONTAINS upstream to a model's or dataset's files
	// (Trace only; a model may have thousands of shards). Impact always
	// follows CONTAINS from a file to what contains it.
	IncludeFiles bool `json:"includeFiles,omitempty"`
	Page         Page `json:"page"`
}

// Reached is a node a walk reached and the path that reached it (a shortest
// one; ties go to the first edge in kind, then id order).
type Reached struct {
	Node  Node  `json:"node"`
	Depth int   `json:"depth"`
	Path  []Hop `json:"path"`
	// Status is the weakest hop status on the path: the path is only as
	// trustworthy as its least-backed claim.
	Status graph.Status `json:"status"`
}

// Lineage is the answer of Trace and Impact.
type Lineage struct {
	Roots      []Node    `json:"roots"`
	Reached    []Reached `json:"reached"`
	PageInfo   PageInfo  `json:"pageInfo"`
	TotalCount int       `json:"totalCount"`
	// Truncated: WalkLimit stopped the walk. DepthLimited: edges were left
	// unexplored at the depth bound.
	Truncated    bool `json:"truncated"`
	DepthLimited bool `json:"depthLimited"`
	// Signers lists every signature behind any edge of the walk.
	Signers []SignerUse `json:"signers"`
}

// SignerUse is one signer (with one verification outcome) and the
// documents it signed that the answer rests on.
type SignerUse struct {
	Signer    Signer   `json:"signer"`
	Documents []string `json:"documents"`
}

// Trace walks upstream from ref: datasets, base models, code, packages,
// training runs and builders, with the documents and signers behind each
// hop.
func (s *Service) Trace(ctx context.Context, ref string, o LineageOptions) (Lineage, error) {
	kinds := slices.DeleteFunc(slices.Clone(lineageKinds), func(k graph.EdgeKind) bool { return k == graph.Contains && !o.IncludeFiles })
	return s.lineage(ctx, ref, graph.Upstream, kinds, o)
}

// Impact walks downstream from ref: everything trained on, derived from,
// built from, containing or depending on it, and the deployments running
// any of it.
func (s *Service) Impact(ctx context.Context, ref string, o LineageOptions) (Lineage, error) {
	return s.lineage(ctx, ref, graph.Downstream, lineageKinds, o)
}

func (s *Service) lineage(ctx context.Context, ref string, dir graph.Direction, kinds []graph.EdgeKind, o LineageOptions) (Lineage, error) {
	depth, err := checkDepth(o.Depth)
	if err != nil {
		return Lineage{}, err
	}
	for _, k := range o.Kinds {
		if !k.Valid() {
			return Lineage{}, fmt.Errorf("%w: kind %q is not a node kind", ErrInvalidArgument, k)
		}
	}
	if _, err := o.Page.size(); err != nil {
		return Lineage{}, err
	}
	roots, err := s.resolve(ctx, ref)
	if err != nil {
		return Lineage{}, err
	}
	if dir == graph.Upstream {
		// A file has no lineage of its own: where it came from is where the
		// models containing it came from (as resolve, impact and admission
		// already treat a file digest).
		if roots, err = s.withContainers(ctx, roots); err != nil {
			return Lineage{}, err
		}
	}
	res, err := s.r.Traverse(ctx, graph.TraverseRequest{From: ids(roots), Direction: dir, EdgeKinds: kinds, MaxDepth: depth, Limit: WalkLimit})
	if err != nil {
		return Lineage{}, fmt.Errorf("walk from %q: %w", clip(ref), err)
	}
	t := newTree(res)
	out := Lineage{Truncated: res.Truncated, DepthLimited: res.DepthLimited}
	for _, r := range roots {
		out.Roots = append(out.Roots, toNode(r))
	}
	var steps []graph.Step
	for _, st := range res.Steps {
		if st.Via != nil && (len(o.Kinds) == 0 || slices.Contains(o.Kinds, st.Node.Kind)) {
			steps = append(steps, st)
		}
	}
	out.TotalCount = len(steps)
	lo, hi, info, err := window(o.Page, len(steps))
	if err != nil {
		return Lineage{}, err
	}
	out.PageInfo = info
	l := s.loader()
	for _, st := range steps[lo:hi] {
		r, err := l.reached(ctx, t, st)
		if err != nil {
			return Lineage{}, err
		}
		out.Reached = append(out.Reached, r)
	}
	out.Signers, err = l.signers(ctx, res.Steps)
	if err != nil {
		return Lineage{}, err
	}
	return out, nil
}

// withContainers adds to roots the models containing each File root.
func (s *Service) withContainers(ctx context.Context, roots []graph.Node) ([]graph.Node, error) {
	out := slices.Clone(roots)
	for _, r := range roots {
		if r.Kind != graph.KindFile {
			continue
		}
		es, err := s.r.Edges(ctx, r.ID, graph.In, graph.Contains)
		if err != nil {
			return nil, fmt.Errorf("models containing %s: %w", displayName(r), err)
		}
		for _, e := range es {
			if slices.ContainsFunc(out, func(x graph.Node) bool { return x.ID == e.From }) {
				continue
			}
			n, err := s.r.Node(ctx, e.From)
			if err != nil {
				return nil, fmt.Errorf("node %s: %w", e.From, err)
			}
			if n.Kind == graph.KindModel {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// tree indexes a traversal result for path building.
type tree struct {
	res graph.TraverseResult
	idx map[graph.NodeID]int
}

func newTree(res graph.TraverseResult) *tree {
	t := &tree{res: res, idx: make(map[graph.NodeID]int, len(res.Steps))}
	for i, s := range res.Steps {
		t.idx[s.Node.ID] = i
	}
	return t
}

func (t *tree) step(id graph.NodeID) (graph.Step, bool) {
	i, ok := t.idx[id]
	if !ok {
		return graph.Step{}, false
	}
	return t.res.Steps[i], true
}

// path returns the edges from a start node to id, in walk order.
func (t *tree) path(id graph.NodeID) []graph.Edge {
	var p []graph.Edge
	for {
		st, ok := t.step(id)
		if !ok || st.Via == nil || len(p) > MaxDepth {
			break
		}
		p = append(p, *st.Via)
		id = st.Parent
	}
	slices.Reverse(p)
	return p
}

func (l *loader) hops(ctx context.Context, t *tree, id graph.NodeID) ([]Hop, error) {
	edges := t.path(id)
	out := make([]Hop, 0, len(edges))
	for _, e := range edges {
		from, _ := t.step(e.From)
		to, _ := t.step(e.To)
		h, err := l.hop(ctx, e, from.Node, to.Node)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

func (l *loader) reached(ctx context.Context, t *tree, st graph.Step) (Reached, error) {
	hops, err := l.hops(ctx, t, st.Node.ID)
	if err != nil {
		return Reached{}, err
	}
	return Reached{Node: toNode(st.Node), Depth: st.Depth, Path: hops, Status: weakest(hops)}, nil
}

// weakest is the lowest hop status of a path (verified for an empty path).
func weakest(hops []Hop) graph.Status {
	w := graph.StatusVerified
	for _, h := range hops {
		if h.Status.Rank() < w.Rank() {
			w = h.Status
		}
	}
	return w
}

// signers aggregates the signatures behind the edges that reached steps.
func (l *loader) signers(ctx context.Context, steps []graph.Step) ([]SignerUse, error) {
	var digests []string
	seen := map[string]bool{}
	for _, st := range steps {
		if st.Via == nil {
			continue
		}
		for _, d := range st.Via.Docs {
			if !seen[d] {
				seen[d] = true
				digests = append(digests, d)
			}
		}
	}
	ev, err := l.evidence(ctx, digests)
	if err != nil {
		return nil, err
	}
	return signerUses(ev), nil
}

func signerUses(ev []Evidence) []SignerUse {
	byKey := map[Signer]*SignerUse{}
	var order []Signer
	for _, e := range ev {
		for _, sg := range e.Signers {
			sg.Reason = "" // group by outcome, not by wording
			u, ok := byKey[sg]
			if !ok {
				u = &SignerUse{Signer: sg}
				byKey[sg] = u
				order = append(order, sg)
			}
			u.Documents, _ = graph.AddSorted(u.Documents, e.Document)
		}
	}
	slices.SortFunc(order, func(a, b Signer) int {
		return cmp.Or(strings.Compare(a.Issuer, b.Issuer), strings.Compare(a.Identity, b.Identity),
			strings.Compare(a.KeyID, b.KeyID), strings.Compare(a.Method, b.Method), strings.Compare(string(a.Status), string(b.Status)))
	})
	out := make([]SignerUse, 0, len(order))
	for _, sg := range order {
		out = append(out, *byKey[sg])
	}
	return out
}

// DeployedOptions shape DeployedModelsTrainedOn.
type DeployedOptions struct {
	Depth int `json:"depth,omitempty"`
	// ActiveOnly leaves out deployments not running a model of the
	// lineage at the time asked.
	ActiveOnly bool `json:"activeOnly,omitempty"`
	// At asks about a moment in the past ("what ran in production on
	// 2025-06-01?"); zero means now.
	At   time.Time `json:"at,omitzero"`
	Page Page      `json:"page"`
}

// Deployed is one deployment running a model trained (transitively) on the
// dataset asked about.
type Deployed struct {
	Deployment  Node    `json:"deployment"`
	Model       NodeRef `json:"model"` // the model the deployment runs
	Environment string  `json:"environment,omitempty"`
	DeployedAt  string  `json:"deployedAt,omitempty"`
	// State is "active" when Model serves the deployment at the time asked
	// (now by default), else "withdrawn".
	State string `json:"state"`
	// History lists every model of the lineage that served the deployment,
	// each with its windows and the records behind them.
	History []Served `json:"history"`
	// Path runs from the dataset to the deployment.
	Path []Hop `json:"path"`
	// Status is the weakest hop status on the path.
	Status graph.Status `json:"status"`
}

// DeployedAnswer answers "which deployed models were trained on this?".
type DeployedAnswer struct {
	Datasets     []Node     `json:"datasets"`
	Models       []NodeRef  `json:"models"` // every model trained on it, deployed or not
	Deployments  []Deployed `json:"deployments"`
	PageInfo     PageInfo   `json:"pageInfo"`
	TotalCount   int        `json:"totalCount"`
	Truncated    bool       `json:"truncated"`
	DepthLimited bool       `json:"depthLimited"`
}

// DeployedModelsTrainedOn finds the deployments running a model trained on
// the dataset, directly or through derived datasets (DERIVED_FROM), training
// runs that used it (USES/PRODUCED_BY) and derived models (fine-tunes,
// adapters, quantized and merged variants).
func (s *Service) DeployedModelsTrainedOn(ctx context.Context, dataset string, o DeployedOptions) (DeployedAnswer, error) {
	depth, err := checkDepth(o.Depth)
	if err != nil {
		return DeployedAnswer{}, err
	}
	if _, err := o.Page.size(); err != nil {
		return DeployedAnswer{}, err
	}
	roots, err := s.resolve(ctx, dataset, graph.KindDataset)
	if err != nil {
		return DeployedAnswer{}, err
	}
	res, err := s.r.Traverse(ctx, graph.TraverseRequest{
		From: ids(roots), Direction: graph.Downstream,
		EdgeKinds: []graph.EdgeKind{graph.DerivedFrom, graph.TrainedOn, graph.Uses, graph.ProducedBy, graph.DeployedAs},
		NodeKinds: []graph.NodeKind{graph.KindDataset, graph.KindModel, graph.KindTrainingRun, graph.KindDeployment},
		MaxDepth:  depth, Limit: WalkLimit,
	})
	if err != nil {
		return DeployedAnswer{}, fmt.Errorf("walk from %q: %w", clip(dataset), err)
	}
	out := DeployedAnswer{Truncated: res.Truncated, DepthLimited: res.DepthLimited}
	for _, r := range roots {
		out.Datasets = append(out.Datasets, toNode(r))
	}
	t := newTree(res)
	l := s.loader()
	var deps []graph.Step
	for _, st := range res.Steps {
		switch st.Node.Kind {
		case graph.KindModel:
			out.Models = append(out.Models, toRef(st.Node))
		case graph.KindDeployment:
			deps = append(deps, st)
		}
	}
	var all []Deployed
	for _, st := range deps {
		d, err := l.current(ctx, t, st, o.At)
		if err != nil {
			return DeployedAnswer{}, err
		}
		if o.ActiveOnly && d.State != "active" {
			continue
		}
		all = append(all, d)
	}
	out.TotalCount = len(all)
	lo, hi, info, err := window(o.Page, len(all))
	if err != nil {
		return DeployedAnswer{}, err
	}
	out.PageInfo = info
	out.Deployments = all[lo:hi]
	return out, nil
}

// current answers for one deployment reached by the walk: a deployment may
// have run several models of the lineage over time (a fine-tune, then its
// quantized variant). Each DEPLOYED_AS edge from a model of the walk gives
// that model's history on the deployment (Served, from the records' own
// times, trusted records first); the row names the model serving at the
// time asked — trusted before untrusted, then the latest deployed — and
// keeps every model's history, so a withdrawn predecessor stays visible
// with its window.
func (l *loader) current(ctx context.Context, t *tree, st graph.Step, at time.Time) (Deployed, error) {
	in, err := l.r.Edges(ctx, st.Node.ID, graph.In, graph.DeployedAs)
	if err != nil {
		return Deployed{}, err
	}
	type cand struct {
		m    graph.Step
		e    graph.Edge
		hist Served
	}
	var cands []cand
	for _, e := range in {
		m, ok := t.step(e.From)
		if !ok {
			continue
		}
		h, err := l.served(ctx, e, toRef(m.Node), at)
		if err != nil {
			return Deployed{}, err
		}
		cands = append(cands, cand{m: m, e: e, hist: h})
	}
	if len(cands) == 0 {
		// Reached through another edge kind: no record names a model.
		hops, err := l.hops(ctx, t, st.Node.ID)
		if err != nil {
			return Deployed{}, err
		}
		return Deployed{Deployment: toNode(st.Node), Environment: st.Node.Attr("environment"), Path: hops, Status: weakest(hops), State: "active", History: []Served{}}, nil
	}
	rank := func(c cand) int {
		r := 0
		if c.hist.State == "active" {
			r += 2
		}
		if c.hist.Trusted {
			r++
		}
		return r
	}
	best := 0
	for i := 1; i < len(cands); i++ {
		a, b := cands[i], cands[best]
		if ra, rb := rank(a), rank(b); ra != rb {
			if ra > rb {
				best = i
			}
			continue
		}
		if c := strings.Compare(a.hist.deployedAt(), b.hist.deployedAt()); c != 0 {
			if c > 0 {
				best = i
			}
			continue
		}
		if a.m.Node.ID < b.m.Node.ID {
			best = i
		}
	}
	c := cands[best]
	hops, err := l.hops(ctx, t, c.m.Node.ID)
	if err != nil {
		return Deployed{}, err
	}
	h, err := l.hop(ctx, c.e, c.m.Node, st.Node)
	if err != nil {
		return Deployed{}, err
	}
	hops = append(hops, h)
	d := Deployed{Deployment: toNode(st.Node), Model: toRef(c.m.Node), Environment: st.Node.Attr("environment"),
		Path: hops, Status: weakest(hops), State: c.hist.State, DeployedAt: c.hist.deployedAt()}
	for _, x := range cands {
		d.History = append(d.History, x.hist)
	}
	slices.SortFunc(d.History, func(a, b Served) int {
		return cmp.Or(strings.Compare(a.deployedAt(), b.deployedAt()), strings.Compare(string(a.Model.ID), string(b.Model.ID)))
	})
	return d, nil
}

// Explanation is the evidence chain between two nodes.
type Explanation struct {
	From  []Node `json:"from"`
	To    []Node `json:"to"`
	Found bool   `json:"found"`
	// Direction is how the path runs from From: upstream or downstream.
	// Lineage is directed: nodes joined only through a common ancestor or
	// descendant are not Found (Summary names the association).
	Direction string `json:"direction,omitempty"`
	Path      []Hop  `json:"path"`
	// Verified is true when every hop rests on a verified document.
	Verified bool `json:"verified"`
	// WeakHops are the indices into Path of hops that rest only on
	// unsigned, unverifiable or failed evidence.
	WeakHops []int  `json:"weakHops"`
	Summary  string `json:"summary"`
}

// Explain finds a shortest path from one node to another and gives the
// evidence for each hop. It tries upstream first (why does this model
// depend on that dataset?), then downstream; nothing else is lineage.
func (s *Service) Explain(ctx context.Context, from, to string, depth int) (Explanation, error) {
	depth, err := checkDepth(depth)
	if err != nil {
		return Explanation{}, err
	}
	src, err := s.resolve(ctx, from)
	if err != nil {
		return Explanation{}, err
	}
	dst, err := s.resolve(ctx, to)
	if err != nil {
		return Explanation{}, err
	}
	out := Explanation{}
	for _, n := range src {
		out.From = append(out.From, toNode(n))
	}
	for _, n := range dst {
		out.To = append(out.To, toNode(n))
	}
	targets := map[graph.NodeID]bool{}
	for _, n := range dst {
		targets[n.ID] = true
	}
	for _, n := range src {
		if targets[n.ID] {
			out.Found, out.Verified, out.Summary = true, true, "from and to name the same node"
			return out, nil
		}
	}
	withEvidence := append(slices.Clone(lineageKinds), graph.Affects, graph.Describes, graph.SignedBy)
	tries := []struct {
		dir   graph.Direction
		kinds []graph.EdgeKind
		name  string
	}{
		{graph.Upstream, withEvidence, "upstream"},
		{graph.Downstream, withEvidence, "downstream"},
	}
	l := s.loader()
	for _, try := range tries {
		res, err := s.r.Traverse(ctx, graph.TraverseRequest{From: ids(src), Direction: try.dir, EdgeKinds: try.kinds, MaxDepth: depth, Limit: WalkLimit})
		if err != nil {
			return Explanation{}, fmt.Errorf("explain: %w", err)
		}
		for _, st := range res.Steps {
			if st.Via == nil || !targets[st.Node.ID] {
				continue
			}
			hops, err := l.hops(ctx, newTree(res), st.Node.ID)
			if err != nil {
				return Explanation{}, err
			}
			out.Found, out.Direction, out.Path = true, try.name, hops
			out.WeakHops = []int{}
			for i, h := range hops {
				if !h.Verified {
					out.WeakHops = append(out.WeakHops, i)
				}
			}
			out.Verified = len(out.WeakHops) == 0
			out.Summary = explainSummary(out)
			return out, nil
		}
	}
	// Lineage runs one way. A path that goes up and down again (two
	// deployments sharing a serving image, two models trained on one
	// dataset) is an association, not lineage: say so, never "verified".
	res, err := s.r.Traverse(ctx, graph.TraverseRequest{From: ids(src), Direction: graph.Both, EdgeKinds: lineageKinds, MaxDepth: depth, Limit: WalkLimit})
	if err != nil {
		return Explanation{}, fmt.Errorf("explain: %w", err)
	}
	for _, st := range res.Steps {
		if st.Via == nil || !targets[st.Node.ID] {
			continue
		}
		t := newTree(res)
		var via []string
		for cur := st; cur.Via != nil; {
			p, ok := t.step(cur.Parent)
			if !ok || p.Via == nil {
				break
			}
			via = append(via, displayName(p.Node))
			cur = p
		}
		slices.Reverse(via)
		out.Summary = fmt.Sprintf("no lineage path within %d hops; they are only associated (through %s), which is not lineage and vouches for nothing", depth, strings.Join(via, ", "))
		return out, nil
	}
	out.Summary = fmt.Sprintf("no path within %d hops", depth)
	return out, nil
}

func explainSummary(e Explanation) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d hop(s) %s, %d verified", len(e.Path), e.Direction, len(e.Path)-len(e.WeakHops))
	for _, i := range e.WeakHops {
		h := e.Path[i]
		fmt.Fprintf(&sb, "; hop %d (%s %s %s) %s", i+1, h.From.Name, h.Kind, h.To.Name, h.Weakness)
	}
	return sb.String()
}
