package intoto

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	graphref "github.com/modelgraph/modelgraph/graph/ref"
)

// run is what a provenance document says about the process that made its
// subjects. The graph's only process kind is TrainingRun; plain builds get
// runType "build".
type run struct {
	builderID    string
	buildType    string
	invocationID string
	invocationAt string // JSON pointer of the invocation id, for errors
	startedOn    value
	finishedOn   value
	params       value
	entryPoint   string
}

// input is one consumed artifact and how the document named it.
type input struct {
	r    resource
	role string // material, configSource, resolvedDependency, builderDependency
}

var (
	trainingBuild = regexp.MustCompile(`(?i)train|fine-?tun`)
	relationHints = []struct {
		re  *regexp.Regexp
		rel string
	}{
		{regexp.MustCompile(`(?i)quantiz`), "quantized"},
		{regexp.MustCompile(`(?i)distil`), "distilled"},
		{regexp.MustCompile(`(?i)merge`), "merge"},
		{regexp.MustCompile(`(?i)adapter|lora`), "adapter"},
	}
)

// Relations accepted on DERIVED_FROM between models.
var relations = map[string]bool{
	"finetune": true, "adapter": true, "quantized": true, "merge": true, "distilled": true, "other": true,
}

// normRelation folds spellings ("fine-tune", "Fine_Tune") to the graph's.
func normRelation(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("-", "", "_", "", " ", "").Replace(s)
	switch s {
	case "quantize", "quantization":
		return "quantized"
	case "distill", "distillation":
		return "distilled"
	case "merged":
		return "merge"
	case "lora":
		return "adapter"
	}
	return s
}

func defaultRelation(buildType string) string {
	for _, h := range relationHints {
		if h.re.MatchString(buildType) {
			return h.rel
		}
	}
	return "finetune"
}

func (p *parser) required(v value) (string, error) {
	s, err := v.str()
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(s) == "" {
		return "", p.errf(ErrInvalidPredicate, v.ptr, "is required")
	}
	return strings.TrimSpace(s), nil
}

func (p *parser) predicateObject(pred value) error {
	if !pred.present() {
		return p.errf(ErrInvalidPredicate, pred.ptr, "is missing")
	}
	return pred.object()
}

// slsa01 maps SLSA provenance v0.1 (recipe instead of invocation).
func (p *parser) slsa01(pred value) error {
	if err := p.predicateObject(pred); err != nil {
		return err
	}
	var r run
	var err error
	if r.builderID, err = p.required(pred.get("builder").get("id")); err != nil {
		return err
	}
	recipe := pred.get("recipe")
	if err := recipe.object(); err != nil {
		return err
	}
	if r.buildType, err = recipe.get("type").str(); err != nil {
		return err
	}
	if r.entryPoint, err = recipe.get("entryPoint").str(); err != nil {
		return err
	}
	r.params = recipe.get("arguments")
	if err := p.slsaMetadata(pred.get("metadata"), &r); err != nil {
		return err
	}
	inputs, err := p.resources(pred.get("materials"), "material")
	if err != nil {
		return err
	}
	return p.provenance(r, inputs)
}

// slsa02 maps SLSA provenance v0.2.
func (p *parser) slsa02(pred value) error {
	if err := p.predicateObject(pred); err != nil {
		return err
	}
	var r run
	var err error
	if r.builderID, err = p.required(pred.get("builder").get("id")); err != nil {
		return err
	}
	if r.buildType, err = pred.get("buildType").str(); err != nil {
		return err
	}
	inv := pred.get("invocation")
	if err := inv.object(); err != nil {
		return err
	}
	r.params = inv.get("parameters")
	var inputs []input
	cs := inv.get("configSource")
	if cs.present() {
		res, err := cs.resource()
		if err != nil {
			return err
		}
		if r.entryPoint, err = cs.get("entryPoint").str(); err != nil {
			return err
		}
		if res.uri != "" || len(res.digest) > 0 {
			inputs = append(inputs, input{res, "configSource"})
		}
	}
	if err := p.slsaMetadata(pred.get("metadata"), &r); err != nil {
		return err
	}
	mats, err := p.resources(pred.get("materials"), "material")
	if err != nil {
		return err
	}
	return p.provenance(r, append(inputs, mats...))
}

func (p *parser) slsaMetadata(md value, r *run) error {
	if err := md.object(); err != nil {
		return err
	}
	// "buildInvocationID" is a common misspelling (it is in the GUAC corpus).
	id := md.first("buildInvocationId", "buildInvocationID")
	var err error
	if r.invocationID, err = id.str(); err != nil {
		return err
	}
	r.invocationAt = id.ptr
	r.startedOn = md.get("buildStartedOn")
	r.finishedOn = md.get("buildFinishedOn")
	return nil
}

// slsa1 maps SLSA provenance v1.
func (p *parser) slsa1(pred value) error {
	if err := p.predicateObject(pred); err != nil {
		return err
	}
	bd, rd := pred.get("buildDefinition"), pred.get("runDetails")
	if !bd.present() {
		return p.errf(ErrInvalidPredicate, bd.ptr, "is required")
	}
	if err := bd.object(); err != nil {
		return err
	}
	if !rd.present() {
		return p.errf(ErrInvalidPredicate, rd.ptr, "is required")
	}
	if err := rd.object(); err != nil {
		return err
	}
	var r run
	var err error
	if r.buildType, err = p.required(bd.get("buildType")); err != nil {
		return err
	}
	if r.builderID, err = p.required(rd.get("builder").get("id")); err != nil {
		return err
	}
	r.params = bd.get("externalParameters")
	if err := r.params.object(); err != nil {
		return err
	}
	md := rd.get("metadata")
	if err := md.object(); err != nil {
		return err
	}
	id := md.get("invocationId")
	if r.invocationID, err = id.str(); err != nil {
		return err
	}
	r.invocationAt = id.ptr
	r.startedOn, r.finishedOn = md.get("startedOn"), md.get("finishedOn")
	inputs, err := p.resources(bd.get("resolvedDependencies"), "resolvedDependency")
	if err != nil {
		return err
	}
	bdeps, err := p.resources(rd.get("builder").get("builderDependencies"), "builderDependency")
	if err != nil {
		return err
	}
	return p.provenance(r, append(inputs, bdeps...))
}

func (p *parser) resources(v value, role string) ([]input, error) {
	items, err := v.items()
	if err != nil {
		return nil, err
	}
	out := make([]input, 0, len(items))
	for _, it := range items {
		r, err := it.resource()
		if err != nil {
			return nil, err
		}
		out = append(out, input{r, role})
	}
	return out, nil
}

// provenance writes the subjects, the run and the inputs of a SLSA document.
func (p *parser) provenance(r run, inputs []input) error {
	training := trainingBuild.MatchString(r.buildType)
	subjects := make([]int, len(p.st.Subject))
	kinds := make([]graph.NodeKind, len(p.st.Subject))
	for i, s := range p.st.Subject {
		kind := graph.KindFile
		if h, ok := graphref.ParseHF(s.Name); ok && h.Dataset {
			kind = graph.KindDataset
		} else if h, ok := graphref.ParseHF(s.URI); ok && h.Dataset {
			kind = graph.KindDataset
		} else if training || looksLikeModel(s.Name, false) || looksLikeModel(s.URI, false) {
			kind = graph.KindModel
		}
		kinds[i] = kind
		subjects[i] = p.subject(i, kind)
		p.b.Describes(subjects[i])
	}
	runType := "build"
	if training {
		runType = "training"
	}
	ri, err := p.runNode(r, runType)
	if err != nil {
		return err
	}
	for _, s := range subjects {
		p.b.Edge(s, graph.ProducedBy, ri)
	}
	for _, in := range inputs {
		a, err := p.classify(in.r, training)
		if err != nil {
			return err
		}
		rel := defaultRelation(r.buildType)
		if a.relation != "" {
			rel = normRelation(a.relation)
			if !relations[rel] {
				return p.errf(ErrInvalidPredicate, in.r.ptr+"/annotations/relation", "%q is not finetune|adapter|quantized|merge|distilled|other", truncate(a.relation, 40))
			}
		}
		ai := p.node(a)
		p.b.Edge(ri, graph.Uses, ai, "role", in.role)
		if in.role == "builderDependency" {
			continue // the platform's tools, not the subject's inputs
		}
		for si, s := range subjects {
			p.lineage(s, kinds[si], ai, a, rel)
		}
	}
	return nil
}

// lineage adds the edge from a produced subject to one of its inputs.
func (p *parser) lineage(s int, sk graph.NodeKind, ai int, a artifact, rel string) {
	switch sk {
	case graph.KindModel:
		switch a.kind {
		case graph.KindDataset:
			p.b.Edge(s, graph.TrainedOn, ai, "split", a.split)
		case graph.KindModel:
			p.b.Edge(s, graph.DerivedFrom, ai, "relation", rel)
		case graph.KindSource:
			p.b.Edge(s, graph.BuiltFrom, ai)
		case graph.KindPackage:
			p.b.Edge(s, graph.DependsOn, ai)
		}
	case graph.KindDataset:
		if a.kind == graph.KindDataset {
			p.b.Edge(s, graph.DerivedFrom, ai)
		}
	}
}

// runNode adds the TrainingRun node. Invocation ids are unique per builder
// only, so the key joins both; without an id the run is the document's own.
func (p *parser) runNode(r run, runType string) (int, error) {
	key := graphref.Run("", p.doc.Digest)
	if id := strings.TrimSpace(r.invocationID); id != "" {
		key = graphref.Run(r.builderID, id)
		if _, err := graph.NormalizeKey(key); err != nil {
			return 0, p.errf(ErrInvalidPredicate, r.invocationAt, "run key: %v", err)
		}
	}
	i := p.b.Node(graph.KindTrainingRun, key)
	p.b.Set(i, "runType", runType)
	p.b.Set(i, "builderId", r.builderID)
	p.b.Set(i, "buildType", r.buildType)
	p.b.Set(i, "invocationId", strings.TrimSpace(r.invocationID))
	p.b.Set(i, "entryPoint", r.entryPoint)
	for _, t := range []struct {
		name string
		v    value
	}{{"startedOn", r.startedOn}, {"finishedOn", r.finishedOn}} {
		ts, err := p.timestamp(t.v)
		if err != nil {
			return 0, err
		}
		p.b.Set(i, t.name, ts)
	}
	p.setJSON(i, "parameters", r.params)
	return i, nil
}

// timestamp checks an RFC 3339 time and returns it in UTC.
func (p *parser) timestamp(v value) (string, error) {
	s, err := v.str()
	if err != nil || s == "" {
		return "", err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "", p.errf(ErrInvalidPredicate, v.ptr, "%q is not an RFC 3339 timestamp", truncate(s, 40))
	}
	return t.UTC().Format(time.RFC3339Nano), nil
}

// setJSON keeps a JSON value as a compact attribute; past MaxParamBytes only
// its sha256 and size are kept, so the claim stays checkable.
func (p *parser) setJSON(i int, name string, v value) {
	c := v.compact()
	if c == "" || c == "{}" || c == "[]" || c == "null" {
		return
	}
	if len(c) <= MaxParamBytes {
		p.b.Set(i, name, c)
		return
	}
	sum := sha256.Sum256([]byte(c))
	p.b.Set(i, name+"Sha256", hex.EncodeToString(sum[:]))
	p.b.Set(i, name+"Size", strconv.Itoa(len(c)))
}
