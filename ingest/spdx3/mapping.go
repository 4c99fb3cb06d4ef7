package spdx3

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	asmhelpers "github.com/guacsec/guac/pkg/assembler/helpers"
	v3 "github.com/spdx/tools-golang/spdx/v3/v3_0"

	"github.com/modelgraph/modelgraph/graph"
	graphref "github.com/modelgraph/modelgraph/graph/ref"
)

// KeyAuthority is the issuingAuthority of the externalIdentifiers (type
// "other") that carry modelgraph node keys. The SPDX 3 export writes every
// key it has no SPDX field for this way, and ingest reads them back, so a
// round trip keeps node identity.
const KeyAuthority = "modelgraph"

// RelationComment prefixes the comment of the SPDX 3 export's ancestorOf
// relationships that states the kind of derivation (finetune, quantized,
// adapter, merge, distilled...): it becomes the DERIVED_FROM edge's
// "relation".
const RelationComment = "modelgraph:lineage:relation="

func (p *parser) mapDocument(d *v3.Document) error {
	p.nodes = map[v3.AnyElement]int{}
	p.unmapped = map[string]int{}
	b := p.b
	b.Set(graph.DocNode, "spdxId", d.ID)
	b.Set(graph.DocNode, "name", d.Name)
	if ci, ok := d.CreationInfo.(*v3.CreationInfo); ok && ci != nil {
		b.Set(graph.DocNode, "specVersion", ci.SpecVersion)
		if !ci.Created.IsZero() {
			b.Set(graph.DocNode, "created", ci.Created.UTC().Format(time.RFC3339))
		}
	}
	var profiles []string
	for _, pc := range d.ProfileConformances {
		profiles = append(profiles, suffix(pc.GetID()))
	}
	b.Set(graph.DocNode, "profileConformance", strings.Join(profiles, ","))

	// Every element that is a node, in document order.
	elems := append(v3.ElementList{}, d.Elements...)
	for _, e := range elems {
		if _, err := p.node(e); err != nil {
			return err
		}
	}
	// Root elements (through SBOMs and bundles) are what the document describes.
	seen := map[v3.AnyElement]bool{}
	var describe func(es v3.ElementList, depth int)
	describe = func(es v3.ElementList, depth int) {
		for _, e := range es {
			if e == nil || seen[e] || depth > 16 {
				continue
			}
			seen[e] = true
			if c, ok := e.(v3.AnyElementCollection); ok {
				describe(c.GetRootElements(), depth+1)
				continue
			}
			if i, ok := p.nodes[e]; ok && i >= 0 {
				b.Describes(i)
			}
		}
	}
	describe(d.RootElements, 0)

	for _, e := range elems {
		r, ok := e.(*v3.Relationship)
		if !ok {
			continue
		}
		if err := p.relationship(r); err != nil {
			return err
		}
	}
	// Several relationships may state one edge (trainedOn and testedOn the
	// same dataset): the edge keeps every value, sorted and comma-joined.
	for _, ref := range p.claimOrder {
		for _, name := range []string{"split", "spdxRelationship"} {
			if vs := p.claims[ref][name]; len(vs) > 0 {
				b.Edge(ref.From, ref.Kind, ref.To, name, strings.Join(vs, ","))
			}
		}
	}
	if len(p.unmapped) > 0 {
		var parts []string
		keys := mapsKeys(p.unmapped)
		sort.Strings(keys)
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s:%d", k, p.unmapped[k]))
		}
		b.Set(graph.DocNode, "unmappedRelationships", strings.Join(parts, ","))
	}
	return nil
}

func mapsKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// elemName names an element in errors: its spdxId and its type.
func elemName(e v3.AnyElement) string {
	id := e.GetID()
	if id == "" {
		id = "(blank node)"
	}
	return fmt.Sprintf("%q (%s)", trunc(id, 160), typeName(e))
}

func typeName(e any) string {
	switch e.(type) {
	case *v3.AIPackage:
		return "ai_AIPackage"
	case *v3.DatasetPackage:
		return "dataset_DatasetPackage"
	case *v3.Package:
		return "software_Package"
	case *v3.File:
		return "software_File"
	case *v3.Build:
		return "build_Build"
	case *v3.Relationship:
		return "Relationship"
	}
	t := fmt.Sprintf("%T", e)
	return strings.TrimPrefix(t, "*v3_0.")
}

// node returns the node index of an element (creating it), or -1 for
// elements that are not nodes (agents, licences, collections...).
func (p *parser) node(e v3.AnyElement) (int, error) {
	if e == nil {
		return -1, nil
	}
	if i, ok := p.nodes[e]; ok {
		return i, nil
	}
	var (
		i   int
		err error
	)
	switch e := e.(type) {
	case *v3.AIPackage:
		i, err = p.model(e)
	case *v3.DatasetPackage:
		i, err = p.dataset(e)
	case *v3.Package:
		i, err = p.pkg(e)
	case *v3.File:
		i, err = p.file(e)
	case *v3.Build:
		i, err = p.build(e)
	default:
		i = -1
	}
	if err != nil {
		return -1, err
	}
	p.nodes[e] = i
	return i, nil
}

// identity collects the keys every element kind shares: digests
// (verifiedUsing hashes), the purl, modelgraph keys carried as external
// identifiers, and purl/other identifiers.
type identity struct {
	digests, purls, extra []string
}

func (p *parser) identity(e v3.AnyElement, purl string) (identity, error) {
	var id identity
	for j, im := range e.GetVerifiedUsing() {
		h, ok := im.(*v3.Hash)
		if !ok {
			continue // package verification codes: no content identity
		}
		alg := suffix((&h.Algorithm).GetID())
		k, err := graph.DigestKey(hashAlg(alg), h.Value)
		if err != nil {
			if !knownAlg(alg) {
				continue // adler32, md2, md4...: not a modelgraph digest
			}
			return id, p.fail(elemName(e), fmt.Sprintf("verifiedUsing[%d]", j), "%v", err)
		}
		id.digests = append(id.digests, k)
	}
	if purl != "" {
		k, err := graph.NormalizeKey(purl)
		if err != nil || !strings.HasPrefix(k, graph.SchemePurl) {
			return id, p.fail(elemName(e), "software_packageUrl", "%q is not a purl", trunc(purl, 120))
		}
		id.purls = append(id.purls, k)
	}
	for j, x := range e.GetExternalIdentifiers() {
		ei, ok := x.(*v3.ExternalIdentifier)
		if !ok {
			continue
		}
		field := fmt.Sprintf("externalIdentifier[%d]", j)
		switch suffix((&ei.Type).GetID()) {
		case "packageUrl":
			k, err := graph.NormalizeKey(ei.Identifier)
			if err != nil || !strings.HasPrefix(k, graph.SchemePurl) {
				return id, p.fail(elemName(e), field, "%q is not a purl", trunc(ei.Identifier, 120))
			}
			id.purls = append(id.purls, k)
		case "other":
			if ei.IssuingAuthority != KeyAuthority {
				continue
			}
			k, err := graph.NormalizeKey(ei.Identifier)
			if err != nil {
				return id, p.fail(elemName(e), field, "%v", err)
			}
			switch {
			case graph.IsDigestKey(k):
				id.digests = append(id.digests, k)
			case strings.HasPrefix(k, graph.SchemePurl):
				id.purls = append(id.purls, k)
			default:
				id.extra = append(id.extra, k)
			}
		}
	}
	return id, nil
}

// hashAlg maps SPDX 3 HashAlgorithm names to graph digest algorithms.
func hashAlg(a string) string {
	switch a {
	case "sha3_256":
		return "sha3-256"
	case "sha3_384":
		return "sha3-384"
	case "sha3_512":
		return "sha3-512"
	case "blake2b512":
		return "blake2b"
	}
	return a
}

func knownAlg(a string) bool {
	switch a {
	case "sha1", "sha224", "sha256", "sha384", "sha512", "md5", "sha3_256", "sha3_384", "sha3_512", "blake2b512", "blake3":
		return true
	}
	return false
}

// iriKey is the element's spdxId as a key: an IRI names the element across
// documents. Blank nodes name nothing outside their document.
func iriKey(e v3.AnyElement) string {
	id := e.GetID()
	if id == "" || strings.HasPrefix(id, "_:") || len(id) > graph.MaxKeyLen {
		return ""
	}
	if k, err := graph.NormalizeKey(id); err == nil {
		return k
	}
	return ""
}

// locationKey returns a download location usable as a key (an absolute
// URL without credentials), or "".
func locationKey(loc string) string {
	loc = strings.TrimSpace(loc)
	if loc == "" || loc == "NOASSERTION" || loc == "NONE" || len(loc) > graph.MaxKeyLen {
		return ""
	}
	u, err := url.Parse(loc)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	u.User = nil // credentials must never become keys
	return u.String()
}

func (p *parser) newNode(e v3.AnyElement, kind graph.NodeKind, keys []string) (int, error) {
	var ks []string
	for _, k := range keys {
		if k != "" && !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		return -1, p.fail(elemName(e), "spdxId", "is a blank node and the element has no hashes, purl or name to identify it")
	}
	if len(ks) > graph.MaxKeysPerNode {
		ks = ks[:graph.MaxKeysPerNode]
	}
	i := p.b.Node(kind, ks...)
	if p.b.Nodes[i].Kind != kind {
		return -1, p.fail(elemName(e), "", "its identity is already another node of the document")
	}
	p.b.Set(i, "spdxId", e.GetID())
	p.b.Set(i, "spdxType", typeName(e))
	p.b.Set(i, "name", e.GetName())
	p.b.Set(i, "summary", clip(e.GetSummary()))
	p.b.Set(i, "description", clip(e.GetDescription()))
	p.b.Set(i, "comment", clip(e.GetComment()))
	return i, nil
}

// artifact records what every software artifact says about origin.
func (p *parser) artifact(i int, a v3.AnySoftwareArtifact) {
	b := p.b
	if s := a.GetSuppliedBy(); s != nil {
		b.Set(i, "supplier", agentName(s))
	}
	var authors []string
	for _, o := range a.GetOriginatedBy() {
		if n := agentName(o); n != "" {
			authors = append(authors, n)
		}
	}
	b.Set(i, "authors", strings.Join(authors, ", "))
	b.Set(i, "releaseTime", timeAttr(a.GetReleaseTime()))
	b.Set(i, "builtTime", timeAttr(a.GetBuiltTime()))
	b.Set(i, "primaryPurpose", suffix(purposeID(a.GetPrimaryPurpose())))
	b.Set(i, "copyright", clip(a.GetCopyrightText()))
	if pk, ok := a.(v3.AnyPackage); ok {
		b.Set(i, "version", pk.GetVersion())
		b.Set(i, "downloadLocation", string(pk.GetDownloadLocation()))
		b.Set(i, "homePage", string(pk.GetHomePage()))
		b.Set(i, "purl", string(pk.GetPackageURL()))
	}
}

func purposeID(sp v3.SoftwarePurpose) string { return (&sp).GetID() }

func agentName(a v3.AnyAgent) string {
	if n := a.GetName(); n != "" {
		return n
	}
	return a.GetID()
}

func timeAttr(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= MaxTextAttr {
		return s
	}
	return s[:MaxTextAttr] + "…"
}

// hubKeys returns the Hugging Face keys of a download location or purl.
func hubKeys(dataset bool, refs ...string) []string {
	for _, r := range refs {
		if r == "" {
			continue
		}
		if h, ok := graphref.ParseHF(r); ok && h.Dataset == dataset {
			return h.Keys()
		}
	}
	return nil
}

func (p *parser) model(e *v3.AIPackage) (int, error) {
	id, err := p.identity(e, string(e.PackageURL))
	if err != nil {
		return -1, err
	}
	keys := append(append(id.digests, id.purls...), id.extra...)
	hub := hubKeys(false, string(e.DownloadLocation), string(e.PackageURL))
	keys = append(keys, hub...)
	if len(id.digests)+len(id.purls)+len(hub)+len(id.extra) == 0 && strings.TrimSpace(e.Name) != "" {
		keys = append(keys, graph.NameKey(e.Name))
	}
	keys = append(keys, iriKey(e))
	i, err := p.newNode(e, graph.KindModel, keys)
	if err != nil {
		return -1, err
	}
	p.artifact(i, e)
	b := p.b
	b.Set(i, "typeOfModel", strings.Join(e.TypeOfModels, ", "))
	b.Set(i, "domain", strings.Join(e.Domains, ", "))
	b.Set(i, "limitations", clip(e.Limitation))
	b.Set(i, "autonomyType", suffix(presence(e.AutonomyType)))
	b.Set(i, "safetyRiskAssessment", suffix((&e.SafetyRiskAssessment).GetID()))
	b.Set(i, "useSensitivePersonalInformation", suffix(presence(e.UseSensitivePersonalInformation)))
	b.Set(i, "informationAboutApplication", clip(e.InformationAboutApplication))
	b.Set(i, "informationAboutTraining", clip(e.InformationAboutTraining))
	b.Set(i, "modelDataPreprocessing", clip(strings.Join(e.ModelDataPreprocessings, "\n")))
	b.Set(i, "modelExplainability", clip(strings.Join(e.ModelExplainabilities, "\n")))
	b.Set(i, "standardCompliance", strings.Join(e.StandardCompliances, ", "))
	b.Set(i, "hyperparameters", dict(e.Hyperparameters))
	b.Set(i, "metricDecisionThresholds", dict(e.MetricDecisionThresholds))
	n := 0
	for _, m := range e.Metrics {
		de, ok := m.(*v3.DictionaryEntry)
		if !ok || de.Key == "" {
			continue
		}
		if n == MaxDictEntries {
			b.Set(i, "metricsOmitted", strconv.Itoa(len(e.Metrics)-n))
			break
		}
		b.Set(i, "metric:"+trunc(de.Key, 100), clip(de.Value))
		n++
	}
	if ec, ok := e.EnergyConsumption.(*v3.EnergyConsumption); ok && ec != nil {
		b.Set(i, "energyTraining", energy(ec.TrainingEnergyConsumptions))
		b.Set(i, "energyFinetuning", energy(ec.FinetuningEnergyConsumptions))
		b.Set(i, "energyInference", energy(ec.InferenceEnergyConsumptions))
	}
	return i, nil
}

func presence(pt v3.PresenceType) string { return (&pt).GetID() }

// dict keeps a dictionary as compact JSON with sorted keys (nothing when it
// is empty, a digest and size when it is over MaxDictJSON).
func dict(l v3.DictionaryEntryList) string {
	m := map[string]string{}
	for _, x := range l {
		if de, ok := x.(*v3.DictionaryEntry); ok && de.Key != "" {
			m[de.Key] = de.Value
		}
	}
	if len(m) == 0 {
		return ""
	}
	j, _ := json.Marshal(m) // map keys are sorted
	if len(j) > MaxDictJSON {
		return fmt.Sprintf("{\"omitted\":\"%d bytes, sha256 %s\"}", len(j), graph.SHA256Key(j))
	}
	return string(j)
}

func energy(l v3.EnergyConsumptionDescriptionList) string {
	var parts []string
	for _, x := range l {
		if d, ok := x.(*v3.EnergyConsumptionDescription); ok {
			parts = append(parts, strconv.FormatFloat(d.EnergyQuantity, 'g', -1, 64)+" "+suffix((&d.EnergyUnit).GetID()))
		}
	}
	return strings.Join(parts, ", ")
}

func (p *parser) dataset(e *v3.DatasetPackage) (int, error) {
	id, err := p.identity(e, string(e.PackageURL))
	if err != nil {
		return -1, err
	}
	keys := append(append(id.digests, id.purls...), id.extra...)
	hub := hubKeys(true, string(e.DownloadLocation), string(e.PackageURL))
	keys = append(keys, hub...)
	loc := locationKey(string(e.DownloadLocation))
	keys = append(keys, loc)
	if len(id.digests)+len(id.purls)+len(hub)+len(id.extra) == 0 && loc == "" && strings.TrimSpace(e.Name) != "" {
		n := strings.TrimSpace(e.Name)
		if e.Version != "" {
			n += "@" + e.Version
		}
		keys = append(keys, graph.NameKey(n))
	}
	keys = append(keys, iriKey(e))
	i, err := p.newNode(e, graph.KindDataset, keys)
	if err != nil {
		return -1, err
	}
	p.artifact(i, e)
	b := p.b
	b.Set(i, "uri", loc)
	var types []string
	for _, t := range e.DatasetTypes {
		types = append(types, suffix((&t).GetID()))
	}
	b.Set(i, "datasetType", strings.Join(types, ","))
	b.Set(i, "collectionMethod", clip(e.DataCollectionProcess))
	if len(e.DataPreprocessings) > 0 {
		j, _ := json.Marshal(e.DataPreprocessings)
		b.Set(i, "preprocessing", clip(string(j)))
	}
	switch suffix(presence(e.HasSensitivePersonalInformation)) {
	case "yes":
		b.Set(i, "pii", "true")
	case "no":
		b.Set(i, "pii", "false")
	}
	b.Set(i, "hasSensitivePersonalInformation", suffix(presence(e.HasSensitivePersonalInformation)))
	b.Set(i, "anonymizationMethods", strings.Join(e.AnonymizationMethodUseds, ", "))
	b.Set(i, "classification", suffix((&e.ConfidentialityLevel).GetID()))
	b.Set(i, "datasetAvailability", suffix((&e.DatasetAvailability).GetID()))
	b.Set(i, "datasetNoise", clip(e.DatasetNoise))
	if e.DatasetSize > 0 {
		b.Set(i, "datasetSize", strconv.Itoa(int(e.DatasetSize)))
	}
	b.Set(i, "datasetUpdateMechanism", clip(e.DatasetUpdateMechanism))
	b.Set(i, "intendedUse", clip(e.IntendedUse))
	b.Set(i, "knownBias", clip(strings.Join(e.KnownBias, "\n")))
	b.Set(i, "sensors", dict(e.Sensors))
	return i, nil
}

func (p *parser) pkg(e *v3.Package) (int, error) {
	id, err := p.identity(e, string(e.PackageURL))
	if err != nil {
		return -1, err
	}
	keys := append(append(id.purls, id.digests...), id.extra...)
	if len(id.purls) == 0 && strings.TrimSpace(e.Name) != "" {
		// GUAC's convention for packages without a purl, as ingest/sbom keys
		// SPDX 2 and CycloneDX packages.
		v := e.Version
		keys = append(keys, asmhelpers.GuacPkgPurl(e.Name, &v))
	}
	keys = append(keys, iriKey(e))
	i, err := p.newNode(e, graph.KindPackage, keys)
	if err != nil {
		return -1, err
	}
	p.artifact(i, e)
	return i, nil
}

func (p *parser) file(e *v3.File) (int, error) {
	id, err := p.identity(e, "")
	if err != nil {
		return -1, err
	}
	keys := append(append(id.digests, id.extra...), iriKey(e))
	i, err := p.newNode(e, graph.KindFile, keys)
	if err != nil {
		return -1, err
	}
	p.artifact(i, e)
	p.b.Set(i, "contentType", e.ContentType)
	p.b.Set(i, "fileKind", suffix((&e.Kind).GetID()))
	return i, nil
}

func (p *parser) build(e *v3.Build) (int, error) {
	id, err := p.identity(e, "")
	if err != nil {
		return -1, err
	}
	var keys []string
	if e.BuildID != "" {
		keys = append(keys, "run:"+e.BuildID)
	}
	keys = append(append(keys, id.extra...), iriKey(e))
	i, err := p.newNode(e, graph.KindTrainingRun, keys)
	if err != nil {
		return -1, err
	}
	b := p.b
	b.Set(i, "buildType", string(e.Type))
	b.Set(i, "invocationId", e.BuildID)
	b.Set(i, "startedOn", timeAttr(e.StartTime))
	b.Set(i, "finishedOn", timeAttr(e.EndTime))
	b.Set(i, "parameters", dict(e.Parameters))
	b.Set(i, "environment", dict(e.Environments))
	var uris []string
	for _, u := range e.ConfigSourceUris {
		uris = append(uris, string(u))
	}
	b.Set(i, "configSource", strings.Join(uris, " "))
	return i, nil
}

// edgeClaim records a value of a multi-valued edge attribute.
func (p *parser) edgeClaim(ref graph.EdgeRef3, name, value string) {
	if p.claims == nil {
		p.claims = map[graph.EdgeRef3]map[string][]string{}
	}
	m := p.claims[ref]
	if m == nil {
		m = map[string][]string{}
		p.claims[ref] = m
		p.claimOrder = append(p.claimOrder, ref)
	}
	if !slices.Contains(m[name], value) {
		m[name] = append(m[name], value)
		sort.Strings(m[name])
	}
}

// relationship maps one Relationship onto edges (docs/mapping.md#spdx-30).
func (p *parser) relationship(r *v3.Relationship) error {
	typ := suffix((&r.Type).GetID())
	if r.From == nil {
		return p.fail(elemName(r), "from", "missing")
	}
	from, err := p.node(r.From)
	if err != nil {
		return err
	}
	b := p.b
	var tos []int
	names := map[int]string{}
	for _, t := range r.To {
		i, err := p.node(t)
		if err != nil {
			return err
		}
		if i >= 0 {
			tos = append(tos, i)
			names[i] = t.GetName()
		}
	}
	kind := func(i int) graph.NodeKind {
		if i < 0 {
			return ""
		}
		return b.Nodes[i].Kind
	}
	fk := kind(from)
	mapped := false
	edge := func(f int, k graph.EdgeKind, t int, attrs ...string) {
		if f >= 0 && t >= 0 && f != t {
			b.Edge(f, k, t, attrs...)
			p.edgeClaim(graph.EdgeRef3{From: f, Kind: k, To: t}, "spdxRelationship", typ)
			mapped = true
		}
	}
	switch typ {
	case "trainedOn", "testedOn":
		split := "train"
		if typ == "testedOn" {
			split = "test"
		}
		for _, t := range tos {
			if fk == graph.KindModel && kind(t) == graph.KindDataset {
				edge(from, graph.TrainedOn, t)
				p.edgeClaim(graph.EdgeRef3{From: from, Kind: graph.TrainedOn, To: t}, "split", split)
			}
		}
	case "dependsOn":
		for _, t := range tos {
			edge(from, graph.DependsOn, t)
		}
	case "ancestorOf", "descendantOf":
		// The SPDX 3 export states each derivation's kind (finetune,
		// quantized...) in the comment.
		relation, _ := strings.CutPrefix(r.Comment, RelationComment)
		if relation == r.Comment || relation == "unspecified" || strings.ContainsAny(relation, " \n") {
			relation = ""
		}
		for _, t := range tos {
			if kind(t) != fk || (fk != graph.KindModel && fk != graph.KindDataset) {
				continue
			}
			if typ == "ancestorOf" {
				edge(t, graph.DerivedFrom, from, "relation", relation)
			} else {
				edge(from, graph.DerivedFrom, t, "relation", relation)
			}
		}
	case "hasVariant":
		// Like CycloneDX pedigree variants: related, direction unknown, so
		// no lineage edge is claimed.
		for _, t := range tos {
			if from >= 0 && t >= 0 {
				b.Set(t, "variantOf", b.Nodes[from].Keys[0])
				mapped = true
			}
		}
	case "generates":
		for _, t := range tos {
			tk := kind(t)
			switch {
			case fk == graph.KindTrainingRun:
				edge(t, graph.ProducedBy, from)
			case tk == fk && (fk == graph.KindModel || fk == graph.KindDataset):
				edge(t, graph.DerivedFrom, from, "relation", "generated")
			}
		}
	case "hasOutput":
		if fk == graph.KindTrainingRun {
			for _, t := range tos {
				edge(t, graph.ProducedBy, from)
			}
		}
	case "hasInput":
		if fk == graph.KindTrainingRun {
			for _, t := range tos {
				edge(from, graph.Uses, t, "role", "input")
			}
		}
	case "contains", "hasDataFile", "hasDistributionArtifact":
		for _, t := range tos {
			if kind(t) == graph.KindFile && fk != "" && fk != graph.KindTrainingRun {
				edge(from, graph.Contains, t, "path", names[t])
			}
		}
	case "hasDeclaredLicense", "hasConcludedLicense":
		name := "license"
		if typ == "hasConcludedLicense" {
			name = "licenseConcluded"
		}
		var ls []string
		for _, t := range r.To {
			if l := licenseOf(t); l != "" {
				ls = append(ls, l)
			}
		}
		if from >= 0 && len(ls) > 0 {
			sort.Strings(ls)
			b.Set(from, name, strings.Join(ls, " AND "))
			mapped = true
		}
	}
	if !mapped {
		p.unmapped[typ]++
	}
	return nil
}

// licenseOf names a licence element: an expression, a listed licence's id
// (the last segment of https://spdx.org/licenses/<id>), a custom licence's
// name.
func licenseOf(e v3.AnyElement) string {
	switch l := e.(type) {
	case *v3.LicenseExpression:
		return l.LicenseExpression
	case *v3.ListedLicense:
		return suffix(l.ID)
	case *v3.CustomLicense:
		if l.Name != "" {
			return l.Name
		}
		return suffix(l.ID)
	case nil:
		return ""
	}
	id := e.GetID()
	if strings.HasPrefix(id, "https://spdx.org/licenses/") {
		return suffix(id)
	}
	return ""
}
