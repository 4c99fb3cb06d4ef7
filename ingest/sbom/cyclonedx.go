package sbom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/guacsec/guac/pkg/assembler"
	model "github.com/guacsec/guac/pkg/assembler/clients/generated"
	asmhelpers "github.com/guacsec/guac/pkg/assembler/helpers"

	"github.com/modelgraph/modelgraph/graph"
	graphref "github.com/modelgraph/modelgraph/graph/ref"
)

// Which CycloneDX mapping runs (tests compare them): GUAC's semantics
// from the decoded BOM (cdxPredicates), GUAC's own parser (guacCDX, set by
// the tests), or the direct mapping GUAC-rejected BOMs fall back to.
const (
	cdxAuto = iota
	cdxForceGUAC
	cdxForceDirect
)

var (
	cdxMode = cdxAuto
	guacCDX func(ctx context.Context, p *parser) (*assembler.IngestPredicates, error)
)

// cdxDoc indexes a decoded BOM.
type cdxDoc struct {
	bom       *cdx.BOM
	byRef     map[string]*cdx.Component
	dataByRef map[string]*cdx.Component // data entry bom-ref -> owning component
	nodes     map[*cdx.Component]int
	count     int
	hashes    int // component hashes, each a digest key
	rels      int // dependency entries
	skipped   int // components left out (operating systems: no purl, as GUAC)
}

func (p *parser) cyclonedx(ctx context.Context, subjects []subject) error {
	bom, err := p.decodeCDX()
	if err != nil {
		return err
	}
	n := 1 // metadata.component; nested components grow the map
	if bom.Components != nil {
		n += len(*bom.Components)
	}
	d := &cdxDoc{bom: bom, byRef: make(map[string]*cdx.Component, n), dataByRef: map[string]*cdx.Component{}, nodes: map[*cdx.Component]int{}}
	if err := p.indexCDX(d); err != nil {
		return err
	}
	if isRuntimeBOM(bom) {
		// A workload's runtime ML-BOM (k8s-aibom): deployment evidence.
		return p.runtimeBOM(d, subjects)
	}
	p.x = newBuilderSized(p.doc, p.role, d.count, d.hashes)
	x := p.x

	// ML and data components first: their purls are routed to Model and
	// Dataset nodes, so GUAC's package view of them lands there too.
	var ml []*cdx.Component
	if err := walkCDX(bom, func(c *cdx.Component, _ int) error {
		if c.Type == cdx.ComponentTypeMachineLearningModel || c.Type == cdx.ComponentTypeData {
			ml = append(ml, c)
			_, err := p.componentNode(d, c, "")
			return err
		}
		return nil
	}); err != nil {
		return err
	}

	kind, err := p.cdxSubjects(d, subjects)
	if err != nil {
		return err
	}

	var preds *assembler.IngestPredicates
	var gerr error
	switch {
	case cdxMode == cdxForceDirect:
		gerr = errors.New("not used: direct mapping")
	case metaComponent(bom) == nil && len(x.subjects) == 0 && bom.Components != nil && len(*bom.Components) > 0:
		// GUAC hangs every component under the BOM's top-level package;
		// with no metadata.component and no subject it keeps none of them.
		gerr = errors.New("not used: the BOM has no metadata.component (nor a subject), and GUAC's CycloneDX parser drops every component without one")
	case cdxMode == cdxForceGUAC:
		preds, gerr = guacCDX(ctx, p)
	default:
		// GUAC's CycloneDX predicates, computed from the BOM decoded above
		// (cdxguac.go): GUAC's own parser would decode it again and is
		// quadratic in the dependency graph.
		preds, gerr = cdxPredicates(bom, x.specPurl)
	}
	if gerr == nil {
		top, err := topOf(preds)
		if err == nil {
			err = p.bindTop(top, kind)
		}
		if err == nil {
			err = p.translate(preds)
		}
		if err != nil {
			return err
		}
		x.b.Set(graph.DocNode, "parser", "guac")
	} else {
		x.b.Set(graph.DocNode, "parser", "modelgraph")
		x.b.Set(graph.DocNode, "guacError", clip(gerr.Error()))
		if err := p.cdxDirect(d); err != nil {
			return err
		}
	}
	mc := metaComponent(bom)
	if mc != nil {
		if _, ok := d.nodes[mc]; !ok && len(x.subjects) == 1 {
			// GUAC named the subject (pkg:guac/cdx/...): it is this component.
			d.nodes[mc] = x.subjects[0]
			p.componentAttrs(x.subjects[0], mc)
		}
		if mc.Type == cdx.ComponentTypeMachineLearningModel {
			ml = append(ml, mc)
		}
	}
	models := 0
	for _, c := range ml {
		if c.Type == cdx.ComponentTypeMachineLearningModel {
			models++
		}
	}
	for _, c := range ml {
		if err := p.mlEdges(d, c); err != nil {
			return err
		}
		// The BOM's own properties speak for its one model (the OWASP
		// AIBOM Generator writes base_model there).
		var docProps *[]cdx.Property
		if models == 1 && bom.Metadata != nil {
			docProps = bom.Metadata.Properties
		}
		if err := p.baseModels(d, c, docProps); err != nil {
			return err
		}
	}
	if err := walkCDX(bom, func(c *cdx.Component, _ int) error { return p.pedigree(d, c, 0) }); err != nil {
		return err
	}
	if mc != nil {
		if _, ok := d.nodes[mc]; ok {
			if err := p.pedigree(d, mc, 0); err != nil {
				return err
			}
		}
	}
	if bom.SerialNumber != "" {
		x.b.Set(graph.DocNode, "serialNumber", bom.SerialNumber)
	}
	x.b.Set(graph.DocNode, "specVersion", bom.SpecVersion.String())
	x.flush()
	return nil
}

// decodeCDXJSON decodes a CycloneDX JSON BOM into bom: the fast path
// (cdxjson.go), and when it gives up or fails, the reflective decode
// alone into a fresh BOM, so the result and any error are the reflective
// path's. When the first scan counted the top-level components, their
// slice is allocated once at that size (encoding/json's semantics, kept
// by the emulation: an array is decoded into the existing slice from
// length 0), instead of growing through every power of two.
func decodeCDXJSON(raw []byte, s sniffed, bom *cdx.BOM) error {
	if cdxFastJSON {
		if decodeCDXJSONFast(raw, s, bom) == nil {
			return nil
		}
		*bom = cdx.BOM{}
	}
	return decodeCDXJSONReflective(raw, s, bom)
}

func (p *parser) decodeCDX() (*cdx.BOM, error) {
	s := p.sniffed
	bom := new(cdx.BOM)
	if s.xml {
		// cyclonedx-go's decoder (encoding/xml), or the same structs from
		// the fast path of cdxxml.go.
		if err := decodeCDXXML(p.raw, bom); err != nil {
			if s.fast {
				return nil, errResniff
			}
			return nil, p.fail("", "CycloneDX XML: %v", err)
		}
		if bom.SpecVersion == 0 {
			return nil, p.fail("xmlns", "%q is not a CycloneDX 1.0–1.7 namespace", bom.XMLNS)
		}
		return bom, nil
	}
	var format string
	if json.Unmarshal([]byte(s.bomFormat), &format) != nil || format != cdx.BOMFormat {
		return nil, p.fail("bomFormat", "%s is not \"CycloneDX\"", orMissing(s.bomFormat))
	}
	// encoding/json's semantics through go-json-experiment's v1
	// emulation: several times faster on BOMs, the same structs
	// (TestBOMDecoderMatchesStdlib); cyclonedx-go's decoder is
	// json.Unmarshal of a copy of the bytes.
	if err := decodeCDXJSON(p.raw, s, bom); err != nil {
		if errors.Is(err, cdx.ErrInvalidSpecVersion) {
			return nil, p.fail("specVersion", "%s is not a CycloneDX version (1.0–1.7)", orMissing(s.specVersion))
		}
		return nil, p.fail("", "CycloneDX JSON: %v", err)
	}
	if bom.SpecVersion == 0 {
		return nil, p.fail("specVersion", "missing")
	}
	return bom, nil
}

func orMissing(raw string) string {
	if raw == "" {
		return "(missing)"
	}
	return truncate(raw, 40)
}

// walkCDX visits metadata.component's nested components and every
// component, depth first.
func walkCDX(bom *cdx.BOM, fn func(c *cdx.Component, depth int) error) error {
	var walk func(cs *[]cdx.Component, depth int) error
	walk = func(cs *[]cdx.Component, depth int) error {
		if cs == nil {
			return nil
		}
		for i := range *cs {
			c := &(*cs)[i]
			if err := fn(c, depth); err != nil {
				return err
			}
			if err := walk(c.Components, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if mc := metaComponent(bom); mc != nil {
		if err := walk(mc.Components, 1); err != nil {
			return err
		}
	}
	return walk(bom.Components, 0)
}

func metaComponent(bom *cdx.BOM) *cdx.Component {
	if bom.Metadata == nil {
		return nil
	}
	return bom.Metadata.Component
}

func (p *parser) indexCDX(d *cdxDoc) error {
	add := func(c *cdx.Component) error {
		d.count++
		if c.Hashes != nil {
			d.hashes += len(*c.Hashes)
		}
		if d.count > maxComponents {
			return p.tooLarge("components", d.count, maxComponents)
		}
		if c.BOMRef != "" {
			if _, dup := d.byRef[c.BOMRef]; !dup {
				d.byRef[c.BOMRef] = c
			}
		}
		if c.Data != nil {
			for _, e := range *c.Data {
				if e.BOMRef != "" {
					d.dataByRef[e.BOMRef] = c
				}
			}
		}
		return nil
	}
	if mc := metaComponent(d.bom); mc != nil {
		if err := add(mc); err != nil {
			return err
		}
	}
	if err := walkCDX(d.bom, func(c *cdx.Component, depth int) error {
		if depth > maxNesting/2 {
			return fmt.Errorf("%w: document %s: components nested deeper than %d levels", ErrTooLarge, p.name, maxNesting/2)
		}
		return add(c)
	}); err != nil {
		return err
	}
	rels := 0
	if d.bom.Dependencies != nil {
		for _, dep := range *d.bom.Dependencies {
			rels++
			if dep.Dependencies != nil {
				rels += len(*dep.Dependencies)
			}
		}
	}
	if rels > maxRelationships {
		return p.tooLarge("dependencies", rels, maxRelationships)
	}
	d.rels = rels
	if v := d.bom.Vulnerabilities; v != nil && len(*v) > maxVulnerabilities {
		return p.tooLarge("vulnerabilities", len(*v), maxVulnerabilities)
	}
	return nil
}

// kindOf maps a component type to the node kind modelgraph keeps it as.
func kindOf(t cdx.ComponentType) graph.NodeKind {
	switch t {
	case cdx.ComponentTypeMachineLearningModel:
		return graph.KindModel
	case cdx.ComponentTypeData:
		return graph.KindDataset
	}
	return graph.KindPackage
}

var digestVersion = regexp.MustCompile(`^[A-Za-z0-9-]+:[0-9a-fA-F]{32,128}$`)

// identityKeys returns a component's digest keys (hashes; for containers a
// digest version or a digest in an OCI purl) and purl keys.
func (p *parser) identityKeys(c *cdx.Component, field string) (digests, purls []string, err error) {
	if c.Hashes != nil {
		for i, h := range *c.Hashes {
			k, err := graph.DigestKey(string(h.Algorithm), h.Value)
			if err != nil {
				return nil, nil, p.fail(fmt.Sprintf("%s.hashes[%d]", field, i), "%v", err)
			}
			digests = append(digests, k)
		}
	}
	if c.Type == cdx.ComponentTypeContainer && digestVersion.MatchString(c.Version) {
		alg, v, _ := strings.Cut(c.Version, ":")
		if k, err := graph.DigestKey(alg, v); err == nil {
			digests = append(digests, k)
		}
	}
	if c.PackageURL != "" {
		pk, err := p.x.canon(c.PackageURL)
		if err != nil {
			return nil, nil, p.fail(field+".purl", "%v", err)
		}
		purls = append(purls, pk.plain, pk.canon)
		if (pk.p.Type == "oci" || pk.p.Type == "docker") && digestVersion.MatchString(pk.p.Version) {
			alg, v, _ := strings.Cut(pk.p.Version, ":")
			if k, err := graph.DigestKey(alg, v); err == nil {
				digests = append(digests, k)
			}
		}
	}
	return digests, purls, nil
}

// mlKeys keys a model or dataset component: its digests and purl, the hub
// keys of a pkg:huggingface purl (hf://org/name and name:org/name, as model
// cards and SLSA inputs key them: repositories, not revisions), dataset
// contents URLs, and a name key when nothing else identifies it (models by
// group/name like hub ids, datasets by name@version).
func (p *parser) mlKeys(c *cdx.Component, kind graph.NodeKind, field string) ([]string, error) {
	digests, purls, err := p.identityKeys(c, field)
	if err != nil {
		return nil, err
	}
	keys := append(digests, purls...)
	if c.PackageURL != "" {
		if pk, err := p.x.canon(c.PackageURL); err == nil && pk.p.Type == "huggingface" {
			id := strings.Trim(pk.p.Namespace+"/"+pk.p.Name, "/")
			keys = append(keys, graphref.HF{ID: id, Dataset: kind == graph.KindDataset}.Keys()...)
		}
	}
	if kind == graph.KindDataset && c.Data != nil {
		for _, e := range *c.Data {
			if u := contentsURL(e); u != "" {
				keys = append(keys, u)
			}
		}
	}
	if len(keys) == 0 {
		n := strings.TrimSpace(c.Name)
		if n != "" && c.Group != "" {
			n = c.Group + "/" + n
		}
		if kind == graph.KindDataset {
			n = componentName(c)
		}
		if n == "" {
			return nil, p.fail(field, "has no hashes, purl or name to identify it")
		}
		keys = append(keys, graph.NameKey(n))
	}
	return keys, nil
}

// componentNode returns the node for a component, creating it with its
// keys and attributes. kind "" means the component's own kind.
func (p *parser) componentNode(d *cdxDoc, c *cdx.Component, kind graph.NodeKind) (int, error) {
	if i, ok := d.nodes[c]; ok {
		return i, nil
	}
	x := p.x
	field := "component " + refOrName(c)
	if kind == "" {
		kind = kindOf(c.Type)
	}
	guacPurl := c.PackageURL
	if guacPurl == "" {
		guacPurl = asmhelpers.GuacPkgPurl(c.Name, &c.Version)
	}
	var i int
	switch kind {
	case graph.KindPackage:
		digests, _, err := p.identityKeys(c, field)
		if err != nil {
			return -1, err
		}
		if i, err = x.pkg(guacPurl); err != nil {
			return -1, p.fail(field, "%v", err)
		}
		for _, k := range digests {
			x.addKey(i, k)
		}
	default:
		keys, err := p.mlKeys(c, kind, field)
		if err != nil {
			return -1, err
		}
		if i = x.node(kind, keys...); i < 0 {
			return -1, p.fail(field, "its hashes identify another node of the document")
		}
		x.route(guacPurl, i)
	}
	d.nodes[c] = i
	p.componentAttrs(i, c)
	return i, nil
}

func refOrName(c *cdx.Component) string {
	if c.BOMRef != "" {
		return fmt.Sprintf("%q", truncate(c.BOMRef, 80))
	}
	return fmt.Sprintf("%q", truncate(componentName(c), 80))
}

// componentName is group/name@version, the name key of unhashed models and
// datasets.
func componentName(c *cdx.Component) string {
	n := strings.TrimSpace(c.Name)
	if n == "" {
		return ""
	}
	if c.Group != "" {
		n = c.Group + "/" + n
	}
	if c.Version != "" {
		n += "@" + c.Version
	}
	return n
}

func (p *parser) componentAttrs(i int, c *cdx.Component) {
	x := p.x
	b := x.b
	b.Set(i, "name", c.Name)
	b.Set(i, "version", c.Version)
	b.Set(i, "group", c.Group)
	b.Set(i, "componentType", string(c.Type))
	if strings.HasPrefix(c.PackageURL, "pkg:huggingface/") {
		if pk, err := p.x.canon(c.PackageURL); err == nil {
			b.Set(i, "revision", pk.p.Version)
		}
	}
	if c.Type != cdx.ComponentTypeMachineLearningModel && c.Type != cdx.ComponentTypeData {
		return
	}
	b.Set(i, "description", clip(c.Description))
	b.Set(i, "publisher", c.Publisher)
	if c.Supplier != nil {
		b.Set(i, "supplier", c.Supplier.Name)
	}
	if c.Licenses != nil {
		for _, l := range *c.Licenses {
			switch {
			case l.Expression != "":
				x.claim(i, "license", l.Expression)
			case l.License != nil && l.License.ID != "":
				x.claim(i, "license", l.License.ID)
			case l.License != nil:
				x.claim(i, "license", l.License.Name)
			}
		}
	}
	if c.Properties != nil {
		for j, pr := range *c.Properties {
			if j >= 32 {
				break
			}
			x.claim(i, "property."+truncate(pr.Name, 100), clip(pr.Value))
		}
	}
	if mc := c.ModelCard; mc != nil && mc.ModelParameters != nil {
		mp := mc.ModelParameters
		if mp.Approach != nil {
			b.Set(i, "approach", string(mp.Approach.Type))
		}
		b.Set(i, "task", mp.Task)
		b.Set(i, "architectureFamily", mp.ArchitectureFamily)
		b.Set(i, "modelArchitecture", mp.ModelArchitecture)
		if mp.Inputs != nil {
			for _, in := range *mp.Inputs {
				x.claim(i, "inputFormat", in.Format)
			}
		}
		if mp.Outputs != nil {
			for _, out := range *mp.Outputs {
				x.claim(i, "outputFormat", out.Format)
			}
		}
	}
	if c.Data != nil {
		for _, e := range *c.Data {
			p.dataAttrs(i, &e)
		}
	}
}

func (p *parser) dataAttrs(i int, e *cdx.ComponentData) {
	x := p.x
	x.claim(i, "dataType", string(e.Type))
	x.claim(i, "dataName", e.Name)
	x.claim(i, "classification", e.Classification)
	x.claim(i, "contentsUrl", contentsURL(*e))
	if e.Description != "" {
		x.claim(i, "dataDescription", clip(e.Description))
	}
	if e.SensitiveData != nil {
		for _, s := range *e.SensitiveData {
			x.claim(i, "sensitiveData", s)
		}
	}
	if g := e.Governance; g != nil {
		for _, r := range parties(g.Owners) {
			x.claim(i, "owners", r)
		}
		for _, r := range parties(g.Custodians) {
			x.claim(i, "custodians", r)
		}
		for _, r := range parties(g.Stewards) {
			x.claim(i, "stewards", r)
		}
	}
}

func parties(ps *[]cdx.ComponentDataGovernanceResponsibleParty) []string {
	if ps == nil {
		return nil
	}
	var out []string
	for _, p := range *ps {
		switch {
		case p.Organization != nil && p.Organization.Name != "":
			out = append(out, p.Organization.Name)
		case p.Contact != nil && p.Contact.Name != "":
			out = append(out, p.Contact.Name)
		case p.Contact != nil && p.Contact.Email != "":
			out = append(out, p.Contact.Email)
		}
	}
	return out
}

// contentsURL returns a data entry's contents URL when it is an absolute
// URL (usable as a key).
func contentsURL(e cdx.ComponentData) string {
	if e.Contents == nil || e.Contents.URL == "" {
		return ""
	}
	u, err := url.Parse(strings.TrimSpace(e.Contents.URL))
	if err != nil || u.Scheme == "" || u.Host == "" || len(e.Contents.URL) > graph.MaxKeyLen {
		return ""
	}
	u.User = nil // credentials must never become keys
	return u.String()
}

// cdxSubjects creates the described node(s): the caller's or statement's
// subjects, merged with metadata.component when there is one subject. It
// returns the kind GUAC's top-level artifacts take.
func (p *parser) cdxSubjects(d *cdxDoc, subjects []subject) (graph.NodeKind, error) {
	x := p.x
	mc := metaComponent(d.bom)
	kind := subjectKind(p.role, mc)
	var mcKeys []string
	var hasDigest bool
	if mc != nil {
		digests, purls, err := p.identityKeys(mc, "metadata.component")
		if err != nil {
			return kind, err
		}
		hasDigest = len(digests) > 0
		mcKeys = append(digests, purls...)
		if kind == graph.KindModel || kind == graph.KindDataset {
			if mcKeys, err = p.mlKeys(mc, kind, "metadata.component"); err != nil {
				return kind, err
			}
		}
	}
	if mc != nil && mc.Type == cdx.ComponentTypeContainer && !hasDigest && len(subjects) == 0 {
		return kind, p.fail("metadata.component.version",
			"container %q has version %q, not an image digest, and no hashes: the SBOM does not say which image it describes (give the image digest as the subject)",
			truncate(mc.Name, 80), truncate(mc.Version, 80))
	}
	switch {
	case len(subjects) == 1:
		keys := append(append([]string{}, subjects[0].keys...), mcKeys...)
		i := x.node(kind, keys...)
		if i < 0 {
			return kind, p.fail("subject", "names no node")
		}
		x.b.Set(i, "name", subjects[0].name)
		if mc != nil {
			d.nodes[mc] = i
			p.componentAttrs(i, mc)
			x.route(mc.PackageURL, i)
		}
		x.describe(i)
	case len(subjects) > 1:
		for _, s := range subjects {
			i := x.node(subjectKind(p.role, nil), s.keys...)
			x.b.Set(i, "name", s.name)
			x.describe(i)
		}
		if mc != nil {
			m, err := p.componentNode(d, mc, "")
			if err != nil {
				return kind, err
			}
			for _, s := range x.subjects {
				x.dependsOn(s, m)
			}
		}
	case mc != nil && len(mcKeys) > 0:
		i := x.node(kind, mcKeys...)
		if i < 0 {
			return kind, p.fail("metadata.component", "its hashes identify another node of the document")
		}
		d.nodes[mc] = i
		p.componentAttrs(i, mc)
		x.route(mc.PackageURL, i)
		x.describe(i)
	}
	// Otherwise GUAC's HasSBOM names the subject (bindTop), or the direct
	// mapping does.
	return kind, nil
}

// subjectKind decides what kind of node the SBOM describes: the role wins
// (a serving or training image is a Package), then the metadata component.
func subjectKind(role string, mc *cdx.Component) graph.NodeKind {
	if role == RoleServingImage || role == RoleTrainingEnvironment {
		return graph.KindPackage
	}
	if mc == nil {
		return graph.KindFile
	}
	switch mc.Type {
	case cdx.ComponentTypeMachineLearningModel:
		return graph.KindModel
	case cdx.ComponentTypeData:
		return graph.KindDataset
	case cdx.ComponentTypeFile:
		return graph.KindFile
	}
	return graph.KindPackage
}

// mlEdges reads a model card's datasets (TRAINED_ON).
func (p *parser) mlEdges(d *cdxDoc, c *cdx.Component) error {
	if c.ModelCard == nil || c.ModelCard.ModelParameters == nil || c.ModelCard.ModelParameters.Datasets == nil {
		return nil
	}
	x := p.x
	m, err := p.componentNode(d, c, "")
	if err != nil {
		return err
	}
	if x.b.Nodes[m].Kind != graph.KindModel {
		return nil
	}
	for j, ds := range *c.ModelCard.ModelParameters.Datasets {
		field := fmt.Sprintf("component %s.modelCard.modelParameters.datasets[%d]", refOrName(c), j)
		var di int
		switch {
		case ds.Ref != "":
			owner := d.byRef[ds.Ref]
			if owner == nil {
				owner = d.dataByRef[ds.Ref]
			}
			switch {
			case owner != nil:
				if di, err = p.componentNode(d, owner, graph.KindDataset); err != nil {
					return err
				}
			case strings.HasPrefix(ds.Ref, "urn:cdx:"):
				// A BOM-link into another BOM: keep it as the dataset's key.
				di = x.node(graph.KindDataset, ds.Ref)
			default:
				return p.fail(field+".ref", "%q names no component or data entry of this BOM", truncate(ds.Ref, 120))
			}
		case ds.ComponentData != nil:
			e := ds.ComponentData
			var keys []string
			if u := contentsURL(*e); u != "" {
				keys = append(keys, u)
			}
			if n := strings.TrimSpace(e.Name); n != "" {
				keys = append(keys, graph.NameKey(n))
				if strings.Contains(n, "/") && graphref.ValidHFID(n) {
					// A hub dataset id, as model cards and HF-sourced
					// ML-BOMs name training data.
					keys = append(keys, graphref.HFDataset(n))
				}
			}
			if len(keys) == 0 {
				return p.fail(field, "inline dataset has neither a name nor a contents.url to identify it")
			}
			di = x.node(graph.KindDataset, keys...)
			x.b.Set(di, "name", e.Name)
			p.dataAttrs(di, e)
		default:
			return p.fail(field, "neither ref nor inline data")
		}
		if di >= 0 && x.b.Nodes[di].Kind == graph.KindDataset {
			x.b.Edge(m, graph.TrainedOn, di)
		}
	}
	return nil
}

// baseModels reads the base_model property tools that turn Hugging Face
// model cards into ML-BOMs write (a hub id, or several comma-separated,
// on the component or, for a BOM with one model, on the BOM), with
// base_model_relation as on the card: c DERIVED_FROM each base model.
func (p *parser) baseModels(d *cdxDoc, c *cdx.Component, docProps *[]cdx.Property) error {
	if c.Type != cdx.ComponentTypeMachineLearningModel {
		return nil
	}
	prop := func(name string) string {
		for _, ps := range []*[]cdx.Property{c.Properties, docProps} {
			if ps == nil {
				continue
			}
			for _, pr := range *ps {
				if pr.Name == name && strings.TrimSpace(pr.Value) != "" {
					return strings.TrimSpace(pr.Value)
				}
			}
		}
		return ""
	}
	v := prop("base_model")
	if v == "" {
		return nil
	}
	var ids []string
	for _, id := range strings.Split(strings.Trim(v, "[]"), ",") {
		id = strings.Trim(strings.TrimSpace(id), `"'`)
		if id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) > 64 {
		return p.tooLarge(fmt.Sprintf("component %s base_model", refOrName(c)), len(ids), 64)
	}
	relation := strings.ToLower(prop("base_model_relation"))
	switch {
	case relation == "adapter", relation == "merge", relation == "quantized", relation == "finetune":
	case len(ids) > 1:
		relation = "merge"
	default:
		relation = "finetune"
	}
	self, err := p.componentNode(d, c, "")
	if err != nil {
		return err
	}
	for _, id := range ids {
		h, ok := graphref.ParseHF(graph.SchemeHF + strings.TrimPrefix(id, graph.SchemeHF))
		if !ok || h.Dataset {
			return p.fail(fmt.Sprintf("component %s property base_model", refOrName(c)), "%q is not a Hugging Face model id", truncate(id, 120))
		}
		base := p.x.node(graph.KindModel, h.Keys()...)
		if base >= 0 && base != self {
			p.x.b.Edge(self, graph.DerivedFrom, base, "relation", relation, "source", "base_model")
		}
	}
	return nil
}

// pedigree reads ancestors (c DERIVED_FROM ancestor), descendants
// (descendant DERIVED_FROM c) and variants (recorded as "variantOf": the
// spec says their relation is unknown, so no lineage edge is claimed).
func (p *parser) pedigree(d *cdxDoc, c *cdx.Component, depth int) error {
	if c.Pedigree == nil {
		return nil
	}
	if depth > maxNesting/4 {
		return fmt.Errorf("%w: document %s: pedigree nested deeper than %d levels", ErrTooLarge, p.name, maxNesting/4)
	}
	x := p.x
	self, err := p.componentNode(d, c, "")
	if err != nil {
		return err
	}
	kind := x.b.Nodes[self].Kind
	related := func(list *[]cdx.Component, fn func(other int)) error {
		if list == nil {
			return nil
		}
		for j := range *list {
			a := &(*list)[j]
			d.count++
			if d.count > maxComponents {
				return p.tooLarge("components", d.count, maxComponents)
			}
			k := kind
			if a.Type != "" && a.Type != c.Type {
				k = kindOf(a.Type)
			}
			o, err := p.componentNode(d, a, k)
			if err != nil {
				return err
			}
			if o != self {
				fn(o)
			}
			if err := p.pedigree(d, a, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := related(c.Pedigree.Ancestors, func(o int) {
		x.b.Edge(self, graph.DerivedFrom, o, "pedigree", "ancestor")
	}); err != nil {
		return err
	}
	if err := related(c.Pedigree.Descendants, func(o int) {
		x.b.Edge(o, graph.DerivedFrom, self, "pedigree", "descendant")
	}); err != nil {
		return err
	}
	return related(c.Pedigree.Variants, func(o int) {
		x.claim(o, "variantOf", x.b.Nodes[self].Keys[0])
	})
}

// cdxDirect maps a BOM GUAC could not parse: every component, the
// described node depending on the top-level ones and parents on nested
// ones, the dependency graph, and vulnerabilities.
func (p *parser) cdxDirect(d *cdxDoc) error {
	x := p.x
	bom := d.bom
	mc := metaComponent(bom)
	if len(x.subjects) == 0 && mc != nil {
		// No identity beyond the name: key it as GUAC keys top-level
		// components (pkg:guac/cdx/<name>@<version>).
		pu := "pkg:guac/cdx/" + asmhelpers.SanitizeString(mc.Name)
		if mc.Version != "" {
			pu += "@" + mc.Version
		}
		i, err := x.pkg(pu)
		if err != nil {
			return p.fail("metadata.component", "%v", err)
		}
		d.nodes[mc] = i
		p.componentAttrs(i, mc)
		x.describe(i)
	}
	var walk func(parents []int, cs *[]cdx.Component) error
	walk = func(parents []int, cs *[]cdx.Component) error {
		if cs == nil {
			return nil
		}
		for j := range *cs {
			c := &(*cs)[j]
			if c.Type == cdx.ComponentTypeOS {
				d.skipped++
				continue // as GUAC: no purl, no use
			}
			i, err := p.componentNode(d, c, "")
			if err != nil {
				return err
			}
			for _, pa := range parents {
				x.dependsOn(pa, i)
			}
			if err := walk([]int{i}, c.Components); err != nil {
				return err
			}
		}
		return nil
	}
	if mc != nil {
		if i, ok := d.nodes[mc]; ok {
			if err := walk([]int{i}, mc.Components); err != nil {
				return err
			}
		}
	}
	if err := walk(x.subjects, bom.Components); err != nil {
		return err
	}
	if d.skipped > 0 {
		// Recorded on the document, so what was left out is not silent.
		x.b.Set(graph.DocNode, "skippedComponents", strconv.Itoa(d.skipped)+" operating-system components (no purl)")
	}
	if bom.Dependencies != nil {
		for _, dep := range *bom.Dependencies {
			from := p.refNode(d, dep.Ref)
			if from < 0 || dep.Dependencies == nil {
				continue
			}
			for _, r := range *dep.Dependencies {
				x.dependsOn(from, p.refNode(d, r), "dependencyType", "direct")
			}
		}
	}
	if bom.Vulnerabilities == nil {
		return nil
	}
	for j, v := range *bom.Vulnerabilities {
		if strings.TrimSpace(v.ID) == "" {
			return p.fail(fmt.Sprintf("vulnerabilities[%d].id", j), "is empty")
		}
		st := vexStatus{status: "affected", notes: v.Detail, statement: v.Description}
		if a := v.Analysis; a != nil {
			st.status = cdxState(a.State)
			if st.status == "" {
				return p.fail(fmt.Sprintf("vulnerabilities[%d].analysis.state", j), "%q is not a CycloneDX impact analysis state", a.State)
			}
			if a.Detail != "" {
				st.notes = a.Detail
			}
			switch a.Justification {
			case cdx.IAJCodeNotPresent:
				st.justification = strings.ToLower(string(model.VexJustificationVulnerableCodeNotPresent))
			case cdx.IAJCodeNotReachable:
				st.justification = strings.ToLower(string(model.VexJustificationVulnerableCodeNotInExecutePath))
			}
		}
		vi := x.vuln(v.ID)
		if v.Ratings != nil {
			for _, r := range *v.Ratings {
				if r.Method != "" && r.Score != nil {
					x.claim(vi, "score."+string(r.Method), fmt.Sprintf("%g", *r.Score))
				}
			}
		}
		if v.Affects == nil {
			continue
		}
		for _, a := range *v.Affects {
			for _, n := range p.affected(d, a) {
				x.affects(vi, n, st)
			}
		}
	}
	return nil
}

// affected resolves a VEX target: a component of this BOM, a purl in a
// BOM-link fragment, GUAC's pkg:guac/pkg/<ref>@<version> for listed
// versions, or else the BOM-link itself (a component of a BOM not at hand).
func (p *parser) affected(d *cdxDoc, a cdx.Affects) []int {
	x := p.x
	if n := p.refNode(d, a.Ref); n >= 0 {
		return []int{n}
	}
	_, frag, hasFrag := strings.Cut(a.Ref, "#")
	if hasFrag && strings.HasPrefix(frag, "pkg:") {
		if i, err := x.pkg(frag); err == nil {
			return []int{i}
		}
	}
	var out []int
	if hasFrag && a.Range != nil {
		for _, v := range *a.Range {
			if v.Version == "" {
				continue
			}
			if i, err := x.pkg(asmhelpers.GuacPkgPurl(frag, &v.Version)); err == nil {
				out = append(out, i)
			}
		}
	}
	if len(out) == 0 && strings.HasPrefix(a.Ref, "urn:cdx:") && len(a.Ref) <= graph.MaxKeyLen {
		out = append(out, x.node(graph.KindPackage, a.Ref))
	}
	return out
}

// refNode resolves a bom-ref to its node.
func (p *parser) refNode(d *cdxDoc, ref string) int {
	c := d.byRef[ref]
	if c == nil {
		return -1
	}
	if i, ok := d.nodes[c]; ok {
		return i
	}
	i, err := p.componentNode(d, c, "")
	if err != nil {
		return -1
	}
	return i
}

// cdxState maps CycloneDX impact analysis states as GUAC does.
func cdxState(s cdx.ImpactAnalysisState) string {
	switch s {
	case cdx.IASResolved, cdx.IASResolvedWithPedigree:
		return "fixed"
	case cdx.IASExploitable:
		return "affected"
	case cdx.IASInTriage:
		return "under_investigation"
	case cdx.IASNotAffected, cdx.IASFalsePositive:
		return "not_affected"
	}
	return ""
}
