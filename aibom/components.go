package aibom

import (
	"cmp"
	"net/url"
	"slices"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	packageurl "github.com/package-url/packageurl-go"

	"github.com/modelgraph/modelgraph/graph"
	graphref "github.com/modelgraph/modelgraph/graph/ref"
)

// bomRef derives a component's bom-ref from its node: stable across exports
// and backends (node ids derive from the first key), unique in the BOM.
func bomRef(n graph.Node) string { return strings.ToLower(string(n.Kind)) + "-" + string(n.ID) }

// isURI reports whether k is an absolute URI that both the JSON schema's
// iri-reference format and XML's anyURI accept, so it can be a URL field.
// Other keys stay properties.
func isURI(k string) bool {
	i := strings.Index(k, "://")
	if i <= 0 || strings.ContainsAny(k[:i], "/?#") {
		return false
	}
	if strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r == 0x7f || strings.ContainsRune("<>\"{}|\\^`", r) }) {
		return false
	}
	u, err := url.Parse(k)
	return err == nil && u.Scheme != ""
}

// displayName is a component's name: graph/ref's one display rule without
// the version (ref.NameOf; the version has a field of its own). The
// claimed name attribute it shows is marked used, so it does not repeat
// as a property.
func displayName(n graph.Node, a *attrs) string {
	a.first("name", "modelName", "prettyName")
	return graphref.NameOf(n)
}

// identity fills what every component kind shares: hashes, the purl, the
// keys (as properties, so a reader can look the node up again), licences,
// and distribution references for URI keys.
func identity(c *cdx.Component, n graph.Node, a *attrs, p *props) {
	c.Hashes = hashesOf(n.Keys, p)
	var purls []string
	for _, k := range n.Keys {
		p.add(propKey, k)
		if strings.HasPrefix(k, graph.SchemePurl) {
			purls = append(purls, k)
		}
	}
	slices.Sort(purls)
	if len(purls) > 0 {
		c.PackageURL = purls[0]
		for _, u := range purls[1:] {
			p.add(propAdditionalPurl, u)
		}
	}
	c.Licenses = licensesOf(a.all("license", "licenses", "licenseName"))
	c.Description = a.first("description")
	c.Publisher = a.first("publisher")
	if v := a.first("supplier"); v != "" {
		c.Supplier = &cdx.OrganizationalEntity{Name: v}
	}
	for _, v := range a.all("author", "authors") {
		if c.Authors == nil {
			c.Authors = &[]cdx.OrganizationalContact{}
		}
		*c.Authors = append(*c.Authors, cdx.OrganizationalContact{Name: v})
	}
}

// uriRefs returns external references for a node's URI keys: where the
// artifact can be fetched (hf://, s3://, https://) or its repository.
func uriRefs(n graph.Node) []cdx.ExternalReference {
	var ers []cdx.ExternalReference
	for _, k := range n.Keys {
		if !isURI(k) {
			continue
		}
		t := cdx.ERTypeDistribution
		if strings.HasPrefix(k, "git+") || strings.HasPrefix(k, "git://") {
			t = cdx.ERTypeVCS
		}
		ers = append(ers, cdx.ExternalReference{URL: k, Type: t})
	}
	return ers
}

func (x *exporter) modelComponent(id graph.NodeID) cdx.Component {
	n := x.nodes[id]
	a := newAttrs(n.Attrs)
	var p props
	c := cdx.Component{
		BOMRef: x.refs[id],
		Type:   cdx.ComponentTypeMachineLearningModel,
		Name:   displayName(n, a),
	}
	c.Version = a.first("version", "revision")
	identity(&c, n, a, &p)
	datasets := x.outTo(id, graph.TrainedOn, graph.KindDataset)
	for _, e := range x.out[id] {
		if e.Kind == graph.TrainedOn {
			for _, s := range e.AttrValues("split") {
				p.add(propSplit+":"+x.refs[e.To], s)
			}
		}
	}
	c.ModelCard = modelCard(a, x.refList(datasets))
	c.Components = x.files(id)
	c.Pedigree = x.pedigree(id)
	ers := uriRefs(n)
	for _, s := range x.outTo(id, graph.BuiltFrom, graph.KindSource) {
		ers = append(ers, sourceRef(x.nodes[s]))
	}
	x.attachEvidence(&c, id, ers, &p)
	a.rest(&p)
	c.Properties = p.list()
	return c
}

func modelCard(a *attrs, datasets []string) *cdx.MLModelCard {
	mp := cdx.MLModelParameters{
		Task:               a.first("task", "pipelineTag", "pipeline_tag"),
		ArchitectureFamily: a.first("architectureFamily", "architecture_family", "modelType", "model_type"),
		ModelArchitecture:  a.first("modelArchitecture", "model_architecture", "architecture"),
	}
	if v := a.firstValid(validApproach, "approach", "learning_approach"); v != "" {
		mp.Approach = &cdx.MLModelParametersApproach{Type: cdx.MLModelParametersApproachType(v)}
	}
	for _, ref := range datasets {
		if mp.Datasets == nil {
			mp.Datasets = &[]cdx.MLDatasetChoice{}
		}
		*mp.Datasets = append(*mp.Datasets, cdx.MLDatasetChoice{Ref: ref})
	}
	if v := a.first("inputFormat", "input_format"); v != "" {
		mp.Inputs = &[]cdx.MLInputOutputParameters{{Format: v}}
	}
	if v := a.first("outputFormat", "output_format"); v != "" {
		mp.Outputs = &[]cdx.MLInputOutputParameters{{Format: v}}
	}
	var cons cdx.MLModelCardConsiderations
	cons.Users = nonEmpty(a.all("intendedUsers", "intended_users", "users"))
	cons.UseCases = nonEmpty(a.all("intendedUse", "intended_use", "useCases", "use_cases"))
	cons.TechnicalLimitations = nonEmpty(a.all("limitations", "technicalLimitations", "technical_limitations"))
	card := &cdx.MLModelCard{}
	if mp != (cdx.MLModelParameters{}) {
		card.ModelParameters = &mp
	}
	if cons != (cdx.MLModelCardConsiderations{}) {
		card.Considerations = &cons
	}
	if *card == (cdx.MLModelCard{}) {
		return nil
	}
	return card
}

func validApproach(v string) bool {
	switch cdx.MLModelParametersApproachType(v) {
	case cdx.MLModelParametersApproachTypeSupervised, cdx.MLModelParametersApproachTypeUnsupervised,
		cdx.MLModelParametersApproachTypeReinforcementLearning, cdx.MLModelParametersApproachTypeSemiSupervised,
		cdx.MLModelParametersApproachTypeSelfSupervised:
		return true
	}
	return false
}

func (x *exporter) datasetComponent(id graph.NodeID) cdx.Component {
	n := x.nodes[id]
	a := newAttrs(n.Attrs)
	var p props
	c := cdx.Component{
		BOMRef: x.refs[id],
		Type:   cdx.ComponentTypeData,
		Name:   displayName(n, a),
	}
	c.Version = a.first("version", "revision")
	identity(&c, n, a, &p)
	d := cdx.ComponentData{
		Type:           cdx.ComponentDataTypeDataset,
		Name:           c.Name,
		Classification: a.first("classification", "dataClassification", "data_classification"),
		Description:    a.first("dataDescription"),
		SensitiveData:  nonEmpty(sensitiveData(a)),
	}
	if url := datasetURL(n, a); url != "" {
		d.Contents = &cdx.ComponentDataContents{URL: url}
	}
	gov := cdx.DataGovernance{
		Owners:     parties(a.all("owner", "owners")),
		Custodians: parties(a.all("custodian", "custodians")),
		Stewards:   parties(a.all("steward", "stewards")),
	}
	if gov != (cdx.DataGovernance{}) {
		d.Governance = &gov
	}
	c.Data = &[]cdx.ComponentData{d}
	c.Components = x.files(id)
	c.Pedigree = x.pedigree(id)
	x.attachEvidence(&c, id, uriRefs(n), &p)
	a.rest(&p)
	c.Properties = p.list()
	return c
}

// sensitiveData lists the kinds of sensitive data a dataset holds: the
// claimed categories, plus PII and PHI when the pii and phi flags say so.
func sensitiveData(a *attrs) []string {
	var out []string
	for _, v := range a.all("sensitiveData", "sensitive_data", "sensitiveCategories") {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	for _, f := range []string{"pii", "phi"} {
		if a.firstValid(func(v string) bool { return strings.EqualFold(v, "true") }, f) != "" {
			out = append(out, strings.ToUpper(f))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// parties names governance parties as organizations: the graph records a
// name, not whether it is a person.
func parties(names []string) *[]cdx.ComponentDataGovernanceResponsibleParty {
	var ps []cdx.ComponentDataGovernanceResponsibleParty
	for _, n := range names {
		ps = append(ps, cdx.ComponentDataGovernanceResponsibleParty{Organization: &cdx.OrganizationalEntity{Name: n}})
	}
	return nonEmpty(ps)
}

func (x *exporter) packageComponent(id graph.NodeID) cdx.Component {
	n := x.nodes[id]
	a := newAttrs(n.Attrs)
	var p props
	c := cdx.Component{BOMRef: x.refs[id]}
	identity(&c, n, a, &p)
	c.Name = a.first("name")
	c.Group = a.first("group", "namespace")
	c.Version = a.first("version")
	var pu packageurl.PackageURL
	if c.PackageURL != "" {
		// Parsing is a third of the cost of a package: only when needed.
		if c.Name == "" || c.Version == "" {
			if parsed, err := packageurl.FromString(c.PackageURL); err == nil {
				pu = parsed
			}
		} else if t, _, ok := strings.Cut(strings.TrimPrefix(c.PackageURL, graph.SchemePurl), "/"); ok {
			pu.Type = strings.ToLower(t)
		}
	}
	if c.Name == "" && pu.Name != "" {
		c.Name = pu.Name
		if c.Group == "" {
			c.Group = pu.Namespace
		}
	}
	if c.Version == "" {
		c.Version = pu.Version
	}
	if c.Name == "" {
		c.Name = displayName(n, a)
	}
	c.Type = packageType(a, pu.Type)
	if ers := uriRefs(n); len(ers) > 0 {
		c.ExternalReferences = sortRefs(ers)
	}
	a.rest(&p)
	c.Properties = p.list()
	return c
}

var componentTypes = map[cdx.ComponentType]bool{
	cdx.ComponentTypeApplication: true, cdx.ComponentTypeContainer: true, cdx.ComponentTypeData: true,
	cdx.ComponentTypeDevice: true, cdx.ComponentTypeDeviceDriver: true, cdx.ComponentTypeFile: true,
	cdx.ComponentTypeFirmware: true, cdx.ComponentTypeFramework: true, cdx.ComponentTypeLibrary: true,
	cdx.ComponentTypeMachineLearningModel: true, cdx.ComponentTypeOS: true, cdx.ComponentTypePlatform: true,
}

// packageType keeps the type the SBOM gave the component when it is a
// CycloneDX type, else guesses from the purl type.
func packageType(a *attrs, purlType string) cdx.ComponentType {
	if v := a.firstValid(func(v string) bool { return componentTypes[cdx.ComponentType(v)] }, "componentType", "type", "component_type"); v != "" {
		return cdx.ComponentType(v)
	}
	if purlType == "" {
		purlType = a.first("purlType")
	}
	switch purlType {
	case "oci", "docker":
		return cdx.ComponentTypeContainer
	case "huggingface", "mlflow":
		return cdx.ComponentTypeMachineLearningModel
	}
	return cdx.ComponentTypeLibrary
}

func (x *exporter) deploymentComponent(id graph.NodeID) cdx.Component {
	n := x.nodes[id]
	a := newAttrs(n.Attrs)
	var p props
	c := cdx.Component{
		BOMRef: x.refs[id],
		// A deployment is a running application built from the model and
		// its serving image; its environment is the platform.
		Type: cdx.ComponentTypeApplication,
		Name: displayName(n, a),
	}
	c.Version = a.first("version")
	identity(&c, n, a, &p)
	for _, f := range []string{"environment", "cluster", "namespace", "service", "endpoint"} {
		for _, v := range a.all(f) {
			p.add(propDeployment+f, v)
		}
	}
	// When and whether each model runs here: a withdrawn deployment
	// stays in the graph with status "withdrawn".
	for _, e := range x.in[id] {
		if e.Kind != graph.DeployedAs {
			continue
		}
		pre := propDeployment + "model:" + x.refs[e.From] + ":"
		// confidence: how a runtime ML-BOM found the model there
		// (declared by the workload owner, inferred by heuristic, verified).
		for _, f := range [][2]string{{"status", "status"}, {"deployedAt", "deployed_at"}, {"undeployedAt", "undeployed_at"}, {"confidence", "confidence"}} {
			for _, v := range e.AttrValues(f[0]) {
				p.add(pre+f[1], v)
			}
		}
	}
	x.attachEvidence(&c, id, uriRefs(n), &p)
	a.rest(&p)
	c.Properties = p.list()
	return c
}

// files lists the files a model or dataset CONTAINS as nested file
// components. A file shared by two models appears under each, so its
// bom-ref names the parent too.
func (x *exporter) files(parent graph.NodeID) *[]cdx.Component {
	var fs []cdx.Component
	for _, e := range x.out[parent] {
		if e.Kind != graph.Contains || x.nodes[e.To].Kind != graph.KindFile {
			continue
		}
		n := x.nodes[e.To]
		a := newAttrs(n.Attrs)
		var p props
		name := e.Attr("path")
		for _, other := range e.AttrValues("path") {
			if other != name {
				p.add(propAttr+"path", other)
			}
		}
		if name == "" {
			name = a.first("path")
		}
		if name == "" {
			name = displayName(n, a)
		}
		f := cdx.Component{
			BOMRef: "file-" + string(parent) + "-" + string(n.ID),
			Type:   cdx.ComponentTypeFile,
			Name:   name,
			Hashes: hashesOf(n.Keys, &p),
		}
		a.rest(&p)
		f.Properties = p.list()
		fs = append(fs, f)
	}
	slices.SortFunc(fs, func(a, b cdx.Component) int { return cmp.Compare(a.BOMRef, b.BOMRef) })
	return nonEmpty(fs)
}

// maxPedigreeDepth caps how deep ancestors nest. Deeper ancestry is still
// in the BOM: every ancestor is a component with its own pedigree, and the
// dependencies chain them.
const maxPedigreeDepth = 16

// pedigree lists the models (or datasets) id derives from as ancestors,
// each with its own ancestors nested in its pedigree, as CycloneDX
// expresses lineage over several generations: reading a component's
// pedigree gives the whole chain, and each level is exactly one
// DERIVED_FROM edge, which is also how ingest/sbom reads it back. A node
// reached twice (a merge of two fine-tunes of one base) has its ancestry
// spelled out at its first occurrence only, which also stops cycles.
//
// An ancestor is also a component of its own; CycloneDX requires bom-refs
// to be unique, so the ancestor copy has none and names the component in a
// property instead.
func (x *exporter) pedigree(id graph.NodeID) *cdx.Pedigree {
	return x.ancestors(id, map[graph.NodeID]bool{id: true}, 1)
}

func (x *exporter) ancestors(id graph.NodeID, expanded map[graph.NodeID]bool, depth int) *cdx.Pedigree {
	kind := x.nodes[id].Kind
	var list []cdx.Component
	for _, e := range x.out[id] {
		if e.Kind != graph.DerivedFrom || x.nodes[e.To].Kind != kind {
			continue
		}
		n := x.nodes[e.To]
		a := newAttrs(n.Attrs)
		var p props
		c := cdx.Component{
			Type: cdx.ComponentTypeMachineLearningModel,
			Name: displayName(n, a),
		}
		c.Version = a.first("version", "revision")
		c.Hashes = hashesOf(n.Keys, nil)
		for _, k := range n.Keys {
			if strings.HasPrefix(k, graph.SchemePurl) {
				c.PackageURL = k
				break
			}
		}
		if kind == graph.KindDataset {
			c.Type = cdx.ComponentTypeData
			d := cdx.ComponentData{Type: cdx.ComponentDataTypeDataset, Name: c.Name}
			if u := datasetURL(n, a); u != "" {
				d.Contents = &cdx.ComponentDataContents{URL: u}
			}
			c.Data = &[]cdx.ComponentData{d}
		}
		p.add(propAncestorRef, x.refs[e.To])
		rel := e.AttrValues("relation")
		if len(rel) == 0 && kind == graph.KindModel {
			rel = []string{"unspecified"}
		}
		for _, r := range rel {
			p.add(propRelation, r)
		}
		c.Properties = p.list()
		if !expanded[e.To] && depth < maxPedigreeDepth {
			expanded[e.To] = true
			c.Pedigree = x.ancestors(e.To, expanded, depth+1)
		}
		list = append(list, c)
	}
	if len(list) == 0 {
		return nil
	}
	slices.SortFunc(list, func(a, b cdx.Component) int {
		return cmp.Compare(ancestorRef(a), ancestorRef(b))
	})
	return &cdx.Pedigree{Ancestors: &list}
}

// datasetURL is where a dataset's contents are: its uri or url claim, else
// its first URI key.
func datasetURL(n graph.Node, a *attrs) string {
	if u := a.firstValid(isURI, "uri", "url", "contentsUrl"); u != "" {
		return u
	}
	for _, k := range n.Keys {
		if isURI(k) {
			return k
		}
	}
	return ""
}

func ancestorRef(c cdx.Component) string {
	for _, p := range *c.Properties {
		if p.Name == propAncestorRef {
			return p.Value
		}
	}
	return ""
}

func sourceRef(n graph.Node) cdx.ExternalReference {
	er := cdx.ExternalReference{Type: cdx.ERTypeVCS, URL: "urn:modelgraph:node:" + string(n.ID)}
	for _, k := range n.Keys {
		if isURI(k) {
			er.URL = k
			break
		}
	}
	er.Hashes = hashesOf(n.Keys, nil)
	er.Comment = "source " + strings.Join(n.Keys, ", ")
	return er
}

func sortRefs(ers []cdx.ExternalReference) *[]cdx.ExternalReference {
	slices.SortFunc(ers, func(a, b cdx.ExternalReference) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.URL, b.URL), cmp.Compare(a.Comment, b.Comment))
	})
	ers = slices.CompactFunc(ers, func(a, b cdx.ExternalReference) bool {
		return a.Type == b.Type && a.URL == b.URL && a.Comment == b.Comment
	})
	return nonEmpty(ers)
}

func (x *exporter) refList(ids []graph.NodeID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = x.refs[id]
	}
	return out
}
