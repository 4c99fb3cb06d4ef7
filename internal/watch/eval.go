package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	graphref "github.com/modelgraph/modelgraph/graph/ref"
	"github.com/modelgraph/modelgraph/internal/query"
)

// Evaluator finds the events one committed document reveals, asking
// internal/query only about what the document can change:
//
//   - an advisory or vulnerability it names: where the advisory reaches
//     (AffectedByAdvisory), keeping deployments that run now;
//   - a deployment it names: its state now (DeploymentNow), whether the
//     model it runs is verified (Identity), and which known advisories
//     reach it (AdvisoriesUpstream);
//   - a failed signature: the nodes the document describes, and whether
//     they (or, for a model, a deployment serving it) are active.
//
// Every deployment the document can change (a deployment record's, those
// serving a model the document vouches for or whose signature failed) has
// what it adds to its environment's posture recomputed
// (query.TrustOfDeployment); the environment's posture is recounted from
// the recorded states of its deployments, and a fall from the last
// recorded value is a posture-drop event.
type Evaluator struct {
	Q   *query.Service
	Now func() time.Time
	// Previous is the last recorded posture of an environment (false:
	// none yet, taken as 100).
	Previous func(env string) (int, bool)
	// Deployments is the recorded state of an environment's active
	// deployments (id -> "v" verified model, "u" not), kept by the queue
	// from earlier results, so a posture is counted without reading the
	// graph's other deployments.
	Deployments func(env string) map[string]string
}

// DeploymentState is what one deployment adds to its environment's
// posture: State "v" (runs a verified model), "u" (runs one that is not)
// or "" (runs nothing now).
type DeploymentState struct {
	Environment string
	State       string
}

// Result is what one commit revealed: events, the new postures of the
// environments it touched and the states of the deployments it touched
// (to record with them).
type Result struct {
	Events      []Event
	Postures    map[string]int
	Deployments map[string]DeploymentState
	Seeded      bool // the result of the first full read of the deployments
	// Answers are the saved questions' new answers.
	Answers map[string][]string
}

// Commit is what the evaluator keeps of one committed document: its
// digest, signatures and role, and the keys of the only nodes it can
// change findings about (advisories, deployments, and the nodes it
// describes when a signature failed or it may vouch for a model). Kept
// small so the evaluation buffer holds no whole batches.
type Commit struct {
	Doc         graph.Document
	Receipt     graph.Receipt
	Advisories  []graph.NodeSpec
	Deployments []graph.NodeSpec
	// Described: the document's subjects, when a signature failed or its
	// role may vouch for a model (its verification changes postures).
	Described []graph.NodeSpec
}

// CommitOf extracts the Commit of a written batch.
func CommitOf(b *graph.Batch, r graph.Receipt) Commit {
	c := Commit{Doc: b.Doc, Receipt: r}
	c.Doc.Signatures = append([]graph.Signature(nil), b.Doc.Signatures...)
	keys := func(n graph.NodeSpec) graph.NodeSpec {
		return graph.NodeSpec{Kind: n.Kind, Keys: append([]string(nil), n.Keys...)}
	}
	for _, n := range b.Nodes {
		switch n.Kind {
		case graph.KindAdvisory, graph.KindVulnerability:
			c.Advisories = append(c.Advisories, keys(n))
		case graph.KindDeployment:
			c.Deployments = append(c.Deployments, keys(n))
		}
	}
	if failed(b.Doc) || graph.VouchesFor(graph.RoleOf(b.Doc), graph.KindModel) {
		for _, ed := range b.Edges {
			if ed.From == graph.DocNode && ed.Kind == graph.Describes && ed.To >= 0 && ed.To < len(b.Nodes) {
				c.Described = append(c.Described, keys(b.Nodes[ed.To]))
			}
		}
	}
	return c
}

// Evaluate returns the events of one commit (none for a duplicate).
func (ev *Evaluator) Evaluate(ctx context.Context, c Commit) (Result, error) {
	if c.Receipt.Duplicate {
		return Result{}, nil
	}
	e := &evalRun{ev: ev, ctx: ctx, doc: c.Receipt.Document, seen: map[string]bool{}, envs: map[string]bool{}}
	if e.doc == "" {
		e.doc = c.Doc.Digest
	}
	err := e.run(c)
	if err == nil {
		err = e.postures()
	}
	return Result{Events: e.out, Postures: e.posture, Deployments: e.deps}, err
}

// Seed reads every deployment once (a queue that has never seen them:
// the first start over an existing store) and records their states and
// their environments' postures, without events.
func (ev *Evaluator) Seed(ctx context.Context) (Result, error) {
	r := Result{Postures: map[string]int{}, Deployments: map[string]DeploymentState{}, Seeded: true}
	type count struct{ active, verified int }
	counts := map[string]*count{}
	err := ev.Q.EachDeploymentTrust(ctx, func(t query.DeploymentTrust) error {
		if t.Environment == "" || !t.Active {
			return nil
		}
		st := "u"
		if t.Verified {
			st = "v"
		}
		r.Deployments[string(t.Deployment)] = DeploymentState{Environment: t.Environment, State: st}
		c := counts[t.Environment]
		if c == nil {
			c = &count{}
			counts[t.Environment] = c
		}
		c.active++
		if t.Verified {
			c.verified++
		}
		return nil
	})
	for env, c := range counts {
		r.Postures[env] = query.VerifiedCoverageOf(env, c.active, c.verified).Percent
	}
	return r, err
}

func (e *evalRun) run(c Commit) error {
	for _, spec := range c.Advisories {
		nodes, err := e.lookup(spec)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if err := e.advisoryReach(n, ""); err != nil {
				return err
			}
		}
	}
	for _, spec := range c.Deployments {
		nodes, err := e.lookup(spec)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if err := e.deployment(n); err != nil {
				return err
			}
		}
	}
	isFailed := failed(c.Doc)
	for _, spec := range c.Described {
		nodes, err := e.lookup(spec)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if isFailed {
				if err := e.failedOn(n, c.Doc); err != nil {
					return err
				}
			} else if err := e.touchServing(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// touchServing updates the deployments serving model n.
func (e *evalRun) touchServing(n graph.Node) error {
	if n.Kind != graph.KindModel {
		return nil
	}
	es, err := e.ev.Q.Reader().Edges(e.ctx, n.ID, graph.Out, graph.DeployedAs)
	if err != nil {
		return err
	}
	for _, ed := range es {
		if _, err := e.touch(ed.To); err != nil {
			return err
		}
	}
	return nil
}

// touch recomputes what deployment id adds to its environment's posture
// (once per run) and returns its state now.
func (e *evalRun) touch(id graph.NodeID) (query.Deployed, error) {
	if t, ok := e.trust[id]; ok {
		return t.Now, nil
	}
	t, err := e.ev.Q.TrustOfDeployment(e.ctx, id)
	if err != nil {
		return query.Deployed{}, err
	}
	if e.trust == nil {
		e.trust = map[graph.NodeID]query.DeploymentTrust{}
	}
	e.trust[id] = t
	if t.Environment == "" {
		return t.Now, nil
	}
	st := ""
	switch {
	case t.Active && t.Verified:
		st = "v"
	case t.Active:
		st = "u"
	}
	if e.deps == nil {
		e.deps = map[string]DeploymentState{}
	}
	e.deps[string(id)] = DeploymentState{Environment: t.Environment, State: st}
	e.envs[t.Environment] = true
	return t.Now, nil
}

// postures recounts the touched environments' postures from the recorded
// deployment states and this run's; a fall is an event.
func (e *evalRun) postures() error {
	envs := make([]string, 0, len(e.envs))
	for env := range e.envs {
		envs = append(envs, env)
	}
	slices.Sort(envs)
	for _, env := range envs {
		states := map[string]string{}
		if e.ev.Deployments != nil {
			states = e.ev.Deployments(env)
		}
		for id, st := range e.deps {
			if st.Environment != env {
				continue
			}
			if st.State == "" {
				delete(states, id)
			} else {
				states[id] = st.State
			}
		}
		verified := 0
		for _, st := range states {
			if st == "v" {
				verified++
			}
		}
		p := query.VerifiedCoverageOf(env, len(states), verified)
		prev, ok := 100, false
		if e.ev.Previous != nil {
			if v, found := e.ev.Previous(env); found {
				prev, ok = v, true
			}
		}
		if e.posture == nil {
			e.posture = map[string]int{}
		}
		if !ok || prev != p.Percent {
			e.posture[env] = p.Percent
		}
		if p.Percent < prev {
			now, before := p.Percent, prev
			e.add(Event{Kind: KindPostureDrop, Severity: "high", Environment: env,
				Summary: fmt.Sprintf("posture of %s dropped to %d%% from %d%%: %d of %d active deployments run a verified model", env, now, before, p.Verified, p.Active),
				Posture: &now, PreviousPosture: &before,
			}, env, fmt.Sprint(before), fmt.Sprint(now), fmt.Sprint(p.Active), fmt.Sprint(p.Verified))
		}
	}
	return nil
}

func failed(d graph.Document) bool {
	for _, s := range d.Signatures {
		if s.Status == graph.StatusFailed {
			return true
		}
	}
	return false
}

type evalRun struct {
	ev      *Evaluator
	ctx     context.Context
	doc     string
	out     []Event
	seen    map[string]bool
	envs    map[string]bool // environments whose posture may have changed
	posture map[string]int
	deps    map[string]DeploymentState
	trust   map[graph.NodeID]query.DeploymentTrust
}

func (e *evalRun) now() time.Time {
	if e.ev.Now != nil {
		return e.ev.Now().UTC()
	}
	return time.Now().UTC()
}

// lookup finds the stored nodes a spec of the batch became (by its keys;
// merges may have renamed it).
func (e *evalRun) lookup(spec graph.NodeSpec) ([]graph.Node, error) {
	got := map[graph.NodeID]graph.Node{}
	var order []graph.NodeID
	for _, k := range spec.Keys {
		ns, err := e.ev.Q.Reader().Lookup(e.ctx, k)
		if err != nil {
			return nil, fmt.Errorf("lookup %s: %w", k, err)
		}
		for _, n := range ns {
			if n.Kind != spec.Kind {
				continue
			}
			if _, ok := got[n.ID]; !ok {
				got[n.ID] = n
				order = append(order, n.ID)
			}
		}
		if len(order) > 0 {
			break // the first key that resolves names the node
		}
	}
	out := make([]graph.Node, 0, len(order))
	for _, id := range order {
		out = append(out, got[id])
	}
	return out, nil
}

func (e *evalRun) add(ev Event, idParts ...string) {
	h := sha256.Sum256([]byte(ev.Kind + "\x00" + strings.Join(idParts, "\x00")))
	ev.ID = "mgw_" + hex.EncodeToString(h[:16])
	if e.seen[ev.ID] {
		return
	}
	e.seen[ev.ID] = true
	ev.Document = e.doc
	ev.DetectedAt = e.now()
	e.out = append(e.out, ev)
}

// advisoryReach: an active advisory reaching deployments that run now
// (only the deployment only, when only is set).
func (e *evalRun) advisoryReach(n graph.Node, only graph.NodeID) error {
	q := e.ev.Q
	ans, err := q.AdvisoryReach(e.ctx, n.ID)
	if err != nil {
		return err
	}
	adv := ans.Advisory
	if !adv.Active {
		return nil
	}
	sev := NormalizeSeverity(adv.Severity)
	for _, a := range ans.Affected {
		if a.Node.Kind != graph.KindDeployment || a.State != "active" {
			continue
		}
		if only != "" && a.Node.ID != only {
			continue
		}
		env := attr(a.Node, "environment")
		var model query.NodeRef
		if len(a.Path) > 0 {
			model = a.Path[len(a.Path)-1].From
		}
		if len(a.Path) == 0 {
			continue
		}
		status, reason := advisoryTrust(a.Path[0])
		trust := string(status)
		summary := fmt.Sprintf("advisory %s (%s, %s) reaches %s in %s", adv.ID, sev, trust, a.Node.Name, orDash(env))
		if a.Via.Name != "" {
			summary += " via " + a.Via.Name
		}
		e.add(Event{Kind: KindAdvisoryReachesEnvironment, Severity: sev, Summary: summary, Environment: env,
			Trust: trust, Reason: reason, AdvisoryID: adv.ID, AdvisoryStatus: adv.Status,
			DeploymentID: string(a.Node.ID), Deployment: a.Node.Name, ModelID: string(model.ID), Model: model.Name,
		}, adv.ID, string(a.Node.ID), env, trust)
	}
	return nil
}

// advisoryTrust is the trust of an AFFECTS claim under trust by role: the
// strongest status among its documents, where a verified document counts
// only if its role may vouch for an advisory (an advisory or VEX
// document); a verified document of another role is unverifiable
// (docs/security.md, "What makes a node verified").
func advisoryTrust(h query.Hop) (graph.Status, string) {
	if len(h.Evidence) == 0 {
		return graph.StatusUnsigned, "no document backs the advisory's claim"
	}
	best, reason := graph.Status(""), ""
	for _, ev := range h.Evidence {
		st := ev.Status
		why := ev.Type + " " + short(ev.Document) + " is " + string(st)
		if st == graph.StatusVerified && !graph.VouchesFor(ev.Role, graph.KindAdvisory) {
			st, why = graph.StatusUnverifiable, ev.Type+" "+short(ev.Document)+" is verified, but a "+string(ev.Role)+" document cannot vouch for an advisory"
		}
		if st.Rank() > best.Rank() {
			best, reason = st, why
		}
	}
	if best == graph.StatusVerified {
		reason = ""
	}
	return best, reason
}

// deployment: a deployment a record names: does it run an unverified
// model, and which known advisories reach it?
func (e *evalRun) deployment(n graph.Node) error {
	q := e.ev.Q
	d, err := e.touch(n.ID)
	if err != nil {
		return err
	}
	if d.State == "active" && d.Model.ID != "" {
		id, err := q.Identity(e.ctx, d.Model.ID, graph.KindModel)
		if err != nil {
			return err
		}
		if !id.Verified {
			sev := "medium"
			if id.Status == graph.StatusFailed {
				sev = "high"
			}
			e.add(Event{Kind: KindUnverifiedDeployment, Severity: sev, Environment: d.Environment,
				Summary: fmt.Sprintf("%s in %s runs %s, which is not verified (%s)", d.Deployment.Name, orDash(d.Environment), d.Model.Name, id.Status),
				Trust:   string(id.Status), Reason: id.Reason, DeploymentID: string(n.ID), Deployment: d.Deployment.Name,
				ModelID: string(d.Model.ID), Model: d.Model.Name,
			}, string(n.ID), string(d.Model.ID), string(id.Status))
		}
	}
	if d.State != "active" {
		return nil
	}
	if err := e.failedBehind(d); err != nil {
		return err
	}
	advs, err := q.AdvisoriesUpstream(e.ctx, n.ID)
	if err != nil {
		return err
	}
	for _, a := range advs {
		if err := e.advisoryReach(a, n.ID); err != nil {
			return err
		}
	}
	return nil
}

// failedOn: a document whose signature failed describes n; is n (or, for
// a model, a deployment it serves) running now?
func (e *evalRun) failedOn(n graph.Node, doc graph.Document) error {
	q := e.ev.Q
	var deps []graph.NodeID
	switch n.Kind {
	case graph.KindDeployment:
		deps = []graph.NodeID{n.ID}
	case graph.KindModel:
		es, err := q.Reader().Edges(e.ctx, n.ID, graph.Out, graph.DeployedAs)
		if err != nil {
			return err
		}
		for _, ed := range es {
			deps = append(deps, ed.To)
		}
	default:
		return nil
	}
	var reason string
	for _, s := range doc.Signatures {
		if s.Status == graph.StatusFailed {
			reason = s.Reason
			break
		}
	}
	for _, dep := range deps {
		d, err := e.touch(dep)
		if err != nil {
			return err
		}
		if d.State != "active" || (n.Kind == graph.KindModel && d.Model.ID != n.ID) {
			continue
		}
		if err := e.failedFinding(n, d, doc.Digest, graph.RoleOf(doc), reason); err != nil {
			return err
		}
	}
	return nil
}

// failedBehind: the deployment d (active) runs; report every document
// with a failed signature that describes its model or the deployment, so
// the finding does not depend on whether the failed document or the
// deployment record was written first.
func (e *evalRun) failedBehind(d query.Deployed) error {
	q := e.ev.Q
	for _, ref := range []query.NodeRef{d.Model, {ID: d.Deployment.ID, Kind: d.Deployment.Kind}} {
		if ref.ID == "" {
			continue
		}
		n, err := q.Reader().Node(e.ctx, ref.ID)
		if err != nil {
			return err
		}
		id, err := q.Identity(e.ctx, n.ID, n.Kind)
		if err != nil {
			return err
		}
		for _, ev := range id.DescribedBy {
			for _, s := range ev.Signers {
				if s.Status == graph.StatusFailed {
					if err := e.failedFinding(n, d, ev.Document, ev.Role, s.Reason); err != nil {
						return err
					}
					break
				}
			}
		}
	}
	return nil
}

func (e *evalRun) failedFinding(n graph.Node, d query.Deployed, docDigest string, role graph.Role, reason string) error {
	id, err := e.ev.Q.Identity(e.ctx, n.ID, n.Kind)
	if err != nil {
		return err
	}
	name := displayName(n)
	e.add(Event{Kind: KindVerificationFailed, Severity: "high", Environment: d.Environment,
		Summary: fmt.Sprintf("the signature of a %s document (%s) failed on %s, deployed as %s in %s", role, short(docDigest), name, d.Deployment.Name, orDash(d.Environment)),
		Trust:   string(id.Status), Reason: reason, DeploymentID: string(d.Deployment.ID), Deployment: d.Deployment.Name,
		ModelID: string(d.Model.ID), Model: d.Model.Name, NodeID: string(n.ID), Node: name,
	}, docDigest, string(n.ID), string(d.Deployment.ID))
	return nil
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19]
	}
	return digest
}

func attr(n query.Node, name string) string {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

// displayName is graph/ref's one display rule.
func displayName(n graph.Node) string { return graphref.DisplayName(n) }

func orDash(s string) string {
	if s == "" {
		return "an unnamed environment"
	}
	return s
}
