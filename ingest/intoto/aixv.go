package intoto

import (
	"maps"
	"slices"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
	graphref "github.com/modelgraph/modelgraph/graph/ref"
)

// AIXV predicates (https://aixv.org, "AIXV Standard v0.1 (Draft)", section 7).
// Field names follow the draft and its reference implementation (snake
// case); docs/predicates.md lists the extra fields accepted "as implemented".

var (
	aixvSeverities = []string{"low", "medium", "high", "critical"}
	aixvStatuses   = []string{"active", "mitigated", "withdrawn", "resolved"}
	aixvDecisions  = []string{"allow", "deny"}
)

// digestRef reads an AIXV digest: "sha256:<hex>", a bare sha256 hex string,
// or an in-toto DigestSet object.
func (p *parser) digestRef(v value) ([]string, error) {
	switch x := v.v.(type) {
	case nil:
		return nil, nil
	case string:
		s := strings.TrimSpace(x)
		if !strings.Contains(s, ":") {
			s = "sha256:" + s
		}
		k, err := graph.NormalizeKey(s)
		if err != nil || !graph.IsDigestKey(k) {
			return nil, p.errf(ErrInvalidPredicate, v.ptr, "%q is not a digest (want sha256:<64 hex>)", truncate(x, 80))
		}
		return []string{k}, nil
	case map[string]any:
		m, err := v.stringMap(true)
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			return nil, p.errf(ErrInvalidPredicate, v.ptr, "digest set is empty")
		}
		var keys []string
		for _, alg := range slices.Sorted(maps.Keys(m)) {
			k, err := graph.DigestKey(alg, m[alg])
			if err != nil {
				return nil, p.errf(ErrInvalidPredicate, v.get(alg).ptr, "%v", err)
			}
			keys = append(keys, k)
		}
		return digestKeysSorted(keys), nil
	}
	return nil, v.wrongType("a digest string or object")
}

func digestKeysSorted(keys []string) []string {
	slices.SortStableFunc(keys, func(a, b string) int {
		as, bs := strings.HasPrefix(a, "sha256:"), strings.HasPrefix(b, "sha256:")
		switch {
		case as && !bs:
			return -1
		case bs && !as:
			return 1
		}
		return 0
	})
	return keys
}

// ref reads an AIXV artifact reference {digest, uri, name} as a node of kind.
func (p *parser) ref(v value, kind graph.NodeKind) (artifact, error) {
	a := artifact{kind: kind, attrs: map[string]string{}}
	if !v.present() {
		return a, p.errf(ErrInvalidPredicate, v.ptr, "is null")
	}
	if err := v.object(); err != nil {
		return a, err
	}
	digests, err := p.digestRef(v.get("digest"))
	if err != nil {
		return a, err
	}
	uri, err := v.get("uri").str()
	if err != nil {
		return a, err
	}
	name, err := v.get("name").str()
	if err != nil {
		return a, err
	}
	uri, name = strings.TrimSpace(uri), strings.TrimSpace(name)
	a.keys = digests
	a.attrs["name"] = name
	if h, ok := graphref.ParseHF(uri); ok {
		a.keys = append(a.keys, hfKeys(h, kind == graph.KindDataset)...)
		a.attrs["revision"] = h.Revision
	} else if graphref.IsURI(uri) {
		a.attrs["uri"] = graphref.URI(uri)
		if kind == graph.KindDataset || len(digests) == 0 {
			a.keys = append(a.keys, graphref.URI(uri))
		}
	}
	if name != "" {
		a.keys = append(a.keys, graph.NameKey(name))
	}
	a.keys = validKeys(a.keys)
	if len(a.keys) == 0 {
		return a, p.errf(ErrInvalidPredicate, v.ptr, "needs a digest, a uri or a name")
	}
	return a, nil
}

func (p *parser) enum(v value, allowed []string, required bool) (string, error) {
	s, err := v.str()
	if err != nil {
		return "", err
	}
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		if required {
			return "", p.errf(ErrInvalidPredicate, v.ptr, "is required (%s)", strings.Join(allowed, "|"))
		}
		return "", nil
	}
	if !slices.Contains(allowed, s) {
		return "", p.errf(ErrInvalidPredicate, v.ptr, "%q is not %s", truncate(s, 40), strings.Join(allowed, "|"))
	}
	return s, nil
}

// strings reads an array of strings.
func (p *parser) stringList(v value) ([]string, error) {
	items, err := v.items()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, err := it.str()
		if err != nil {
			return nil, err
		}
		if !it.present() {
			return nil, it.wrongType("a string")
		}
		out = append(out, s)
	}
	return out, nil
}

func (p *parser) modelSubjects() []int {
	out := make([]int, len(p.st.Subject))
	for i := range p.st.Subject {
		out[i] = p.subject(i, graph.KindModel)
		p.b.Describes(out[i])
	}
	return out
}

// aixvTraining maps https://aixv.org/attestation/training/v1.
func (p *parser) aixvTraining(pred value) error {
	if err := p.predicateObject(pred); err != nil {
		return err
	}
	tr := pred.get("training_run")
	if !tr.present() {
		return p.errf(ErrInvalidPredicate, tr.ptr, "is required")
	}
	if err := tr.object(); err != nil {
		return err
	}
	parents, err := pred.get("parent_models").items()
	if err != nil {
		return err
	}
	datasets, err := pred.get("datasets").items()
	if err != nil {
		return err
	}
	hyper := pred.get("hyperparameters")
	if !hyper.present() {
		hyper = tr.get("hyperparameters")
	}
	if err := hyper.object(); err != nil {
		return err
	}
	id := tr.first("id", "run_id")
	r := run{invocationAt: id.ptr, startedOn: tr.first("started_on", "startedOn"), finishedOn: tr.first("finished_on", "finishedOn")}
	if r.invocationID, err = id.str(); err != nil {
		return err
	}
	framework, err := tr.get("framework").str()
	if err != nil {
		return err
	}
	frameworkVersion, err := tr.get("framework_version").str()
	if err != nil {
		return err
	}
	code, err := p.digestRef(tr.get("code_digest"))
	if err != nil {
		return err
	}
	env, err := p.digestRef(tr.get("environment_digest"))
	if err != nil {
		return err
	}

	subjects := p.modelSubjects()
	ri, err := p.runNode(r, "training")
	if err != nil {
		return err
	}
	p.b.Set(ri, "framework", framework)
	p.b.Set(ri, "frameworkVersion", frameworkVersion)
	p.setJSON(ri, "hyperparameters", hyper)
	for _, s := range subjects {
		p.b.Edge(s, graph.ProducedBy, ri)
	}
	for _, pv := range parents {
		a, err := p.ref(pv, graph.KindModel)
		if err != nil {
			return err
		}
		relv := pv.get("relation")
		rel, err := relv.str()
		if err != nil {
			return err
		}
		rel = normRelation(rel)
		if rel == "" {
			rel = "finetune"
		}
		if !relations[rel] {
			return p.errf(ErrInvalidPredicate, relv.ptr, "%q is not finetune|adapter|quantized|merge|distilled|other", truncate(rel, 40))
		}
		ai := p.node(a)
		p.b.Edge(ri, graph.Uses, ai, "role", "parent")
		for _, s := range subjects {
			p.b.Edge(s, graph.DerivedFrom, ai, "relation", rel)
		}
	}
	for _, dv := range datasets {
		a, err := p.ref(dv, graph.KindDataset)
		if err != nil {
			return err
		}
		split, err := dv.get("split").str()
		if err != nil {
			return err
		}
		ai := p.node(a)
		p.b.Edge(ri, graph.Uses, ai, "role", "dataset")
		for _, s := range subjects {
			p.b.Edge(s, graph.TrainedOn, ai, "split", strings.TrimSpace(split))
		}
	}
	if len(code) > 0 {
		ci := p.b.Node(graph.KindSource, code...)
		p.b.Edge(ri, graph.Uses, ci, "role", "code")
		for _, s := range subjects {
			p.b.Edge(s, graph.BuiltFrom, ci)
		}
	}
	if len(env) > 0 {
		ei := p.b.Node(graph.KindPackage, env...)
		p.b.Edge(ri, graph.DependsOn, ei, "role", "environment")
	}
	return nil
}

// aixvAdvisory maps https://aixv.org/attestation/advisory/v1.
func (p *parser) aixvAdvisory(pred value) error {
	if err := p.predicateObject(pred); err != nil {
		return err
	}
	idv := pred.first("advisory_id", "id")
	id, err := p.required(idv)
	if err != nil {
		return err
	}
	severity, err := p.enum(pred.get("severity"), aixvSeverities, true)
	if err != nil {
		return err
	}
	status, err := p.enum(pred.get("status"), aixvStatuses, true)
	if err != nil {
		return err
	}
	reason, err := pred.get("reason_code").str()
	if err != nil {
		return err
	}
	summary, err := pred.first("summary", "description").str()
	if err != nil {
		return err
	}
	actions, err := p.stringList(pred.get("recommended_actions"))
	if err != nil {
		return err
	}
	refs, err := p.stringList(pred.get("references"))
	if err != nil {
		return err
	}
	affv := pred.get("affected")
	affected, err := affv.items()
	if err != nil {
		return err
	}
	if len(affected) == 0 {
		return p.errf(ErrInvalidPredicate, affv.ptr, "is required and must not be empty")
	}
	key := graphref.Advisory(id)
	if _, err := graph.NormalizeKey(key); err != nil {
		return p.errf(ErrInvalidPredicate, idv.ptr, "%v", err)
	}
	type hit struct {
		a        artifact
		selector string
	}
	var hits []hit
	var selectors []string
	for _, av := range affected {
		if err := av.object(); err != nil {
			return err
		}
		if !av.present() {
			return av.wrongType("an object")
		}
		digests, err := p.digestRef(av.get("digest"))
		if err != nil {
			return err
		}
		sel, err := av.get("selector").str()
		if err != nil {
			return err
		}
		typ, err := av.first("artifact_type", "artifactType").str()
		if err != nil {
			return err
		}
		if len(digests) == 0 && strings.TrimSpace(sel) == "" {
			return p.errf(ErrInvalidPredicate, av.ptr, "needs a digest or a selector")
		}
		if len(digests) == 0 {
			selectors = append(selectors, strings.TrimSpace(sel))
			continue
		}
		kind := graph.NodeKind("")
		if k, ok := kindHints[strings.ToLower(strings.TrimSpace(typ))]; ok && (k == graph.KindModel || k == graph.KindDataset || k == graph.KindFile || k == graph.KindPackage) {
			kind = k
		}
		hits = append(hits, hit{artifact{kind: kind, keys: digests}, strings.TrimSpace(sel)})
	}
	// Kinds come from what the advisory states, never from a guess that
	// would invent a node: an affected entry's artifact_type gives the
	// kind of its digest and of a subject with the same digest; a subject
	// or entry without one takes the other's, else what its name says (a
	// dataset URI, a model file), else it is a model, as AIXV advisories
	// are about models unless they say otherwise.
	stated := map[string]graph.NodeKind{}
	for _, h := range hits {
		if h.a.kind != "" {
			for _, k := range h.a.keys {
				stated[k] = h.a.kind
			}
		}
	}
	subjectKinds := make([]graph.NodeKind, len(p.st.Subject))
	for i, s := range p.st.Subject {
		for _, k := range p.subjects[i] {
			if kind, ok := stated[k]; ok {
				subjectKinds[i] = kind
				break
			}
		}
		if subjectKinds[i] == "" {
			if a, err := p.classify(resource{name: s.Name, uri: s.URI}, false); err == nil && (a.kind == graph.KindDataset || a.kind == graph.KindModel) {
				subjectKinds[i] = a.kind
			} else {
				subjectKinds[i] = graph.KindModel
			}
		}
		for _, k := range p.subjects[i] {
			if _, ok := stated[k]; !ok {
				stated[k] = subjectKinds[i]
			}
		}
	}
	for i := range hits {
		if hits[i].a.kind != "" {
			continue
		}
		hits[i].a.kind = graph.KindModel
		for _, k := range hits[i].a.keys {
			if kind, ok := stated[k]; ok {
				hits[i].a.kind = kind
				break
			}
		}
	}

	ai := p.b.Node(graph.KindAdvisory, key)
	p.b.Set(ai, "advisoryId", id)
	p.b.Set(ai, "severity", severity)
	p.b.Set(ai, "status", status)
	p.b.Set(ai, "reasonCode", strings.TrimSpace(reason))
	p.b.Set(ai, "summary", strings.TrimSpace(summary))
	p.setJSON(ai, "recommendedActions", value{v: anyList(actions)})
	p.setJSON(ai, "references", value{v: anyList(refs)})
	p.setJSON(ai, "selectors", value{v: anyList(selectors)})
	for i := range p.st.Subject {
		si := p.subject(i, subjectKinds[i])
		p.b.Describes(si)
		p.b.Edge(ai, graph.Affects, si, "status", status)
	}
	for _, h := range hits {
		p.b.Edge(ai, graph.Affects, p.node(h.a), "status", status, "selector", h.selector)
	}
	return nil
}

func anyList(ss []string) any {
	if len(ss) == 0 {
		return nil
	}
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// aixvDeployment maps https://aixv.org/attestation/deployment/v1, an
// admission decision. Only "allow" deploys: a denied model gets no
// DEPLOYED_AS edge, the decision stays on the Document node.
func (p *parser) aixvDeployment(pred value) error {
	if err := p.predicateObject(pred); err != nil {
		return err
	}
	decision, err := p.enum(pred.get("policy_decision"), aixvDecisions, true)
	if err != nil {
		return err
	}
	policyID, err := pred.get("policy_id").str()
	if err != nil {
		return err
	}
	admitted, err := p.digestRef(pred.get("admitted_artifact_digest"))
	if err != nil {
		return err
	}
	loc, err := p.location(pred, "environment", "cluster", "namespace", "service")
	if err != nil {
		return err
	}
	endpoint, err := pred.get("endpoint").str()
	if err != nil {
		return err
	}
	evidence := pred.get("evidence")
	if _, err := evidence.items(); err != nil {
		return err
	}
	models := p.modelSubjects()
	if len(admitted) > 0 {
		mi := p.b.Node(graph.KindModel, admitted...)
		p.b.Describes(mi)
		if !slices.Contains(models, mi) {
			models = append(models, mi)
		}
	}
	p.b.Set(graph.DocNode, "policyId", strings.TrimSpace(policyID))
	p.b.Set(graph.DocNode, "policyDecision", decision)
	p.setJSON(graph.DocNode, "evidence", evidence)
	if decision != "allow" {
		return nil
	}
	key := loc.key()
	switch {
	case key != "":
	case graphref.IsURI(strings.TrimSpace(endpoint)):
		key = graphref.URI(endpoint)
	case strings.TrimSpace(policyID) != "":
		key = graphref.DeploymentPolicy(policyID)
	default:
		return p.errf(ErrInvalidPredicate, pred.ptr, "names no deployment: needs environment and service, an endpoint or a policy_id")
	}
	if _, err := graph.NormalizeKey(key); err != nil {
		return p.errf(ErrInvalidPredicate, pred.ptr, "deployment key: %v", err)
	}
	deployed, err := p.timestamp(pred.first("deployed_at", "admitted_at"))
	if err != nil {
		return err
	}
	undeployed, err := p.timestamp(pred.get("undeployed_at"))
	if err != nil {
		return err
	}
	di := p.b.Node(graph.KindDeployment, key)
	loc.set(p, di)
	p.b.Set(di, "endpoint", graphref.URI(endpoint))
	p.b.Set(di, "policyId", strings.TrimSpace(policyID))
	status := "active"
	if undeployed != "" {
		status = "withdrawn"
	}
	for _, m := range models {
		p.b.Edge(m, graph.DeployedAs, di, "deployedAt", deployed, "undeployedAt", undeployed, "status", status)
	}
	return nil
}

// location is where a deployment runs; its key is shared by the AIXV and
// the project deployment predicates so both meet on one node.
type location struct {
	environment, cluster, namespace, service string
}

func (l location) key() string {
	if l.environment == "" || l.service == "" {
		return ""
	}
	return graphref.Deployment(l.environment, l.cluster, l.namespace, l.service)
}

func (l location) set(p *parser, i int) {
	p.b.Set(i, "environment", l.environment)
	p.b.Set(i, "cluster", l.cluster)
	p.b.Set(i, "namespace", l.namespace)
	p.b.Set(i, "service", l.service)
}

// location reads the four location fields (names given in order
// environment, cluster, namespace, service); none may contain "/", which
// separates them in the key.
func (p *parser) location(v value, names ...string) (location, error) {
	var parts [4]string
	for i, n := range names {
		f := v.get(n)
		s, err := f.str()
		if err != nil {
			return location{}, err
		}
		s = strings.TrimSpace(s)
		if strings.ContainsAny(s, "/\n") {
			return location{}, p.errf(ErrInvalidPredicate, f.ptr, "%q must not contain '/'", truncate(s, 40))
		}
		parts[i] = s
	}
	return location{parts[0], parts[1], parts[2], parts[3]}, nil
}
