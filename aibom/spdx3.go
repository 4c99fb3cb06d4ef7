package aibom

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// SPDX 3 export. The SPDX 3.0.1 document describes exactly the AI-BOM the
// CycloneDX export builds (Export's *cdx.BOM): it is a translation of that
// BOM, element by element, so the two formats cannot drift apart. It is
// written with the typed structs below rather than spdx/tools-golang's
// v3_0 writer (which ingest/spdx3 uses to read): that writer (v0.6.0-rc4)
// serialises only the elements reachable from the document's fields, so it
// drops every Relationship and Annotation, and it orders collection members
// by Go map iteration, so its output is not deterministic.
// See docs/aibom.md#spdx-3.

const (
	// FormatSPDX3 selects SPDX 3.0.1 JSON-LD.
	FormatSPDX3 Format = "spdx3"
	// SpecSPDX3 is the SPDX version FormatSPDX3 writes.
	SpecSPDX3 Spec = "3.0.1"

	spdx3Context = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
	// spdx3MediaType is the media type of SPDX JSON documents.
	spdx3MediaType = "application/spdx+json"
	// spdx3KeyAuthority marks externalIdentifiers that carry graph keys
	// (ingest/spdx3.KeyAuthority).
	spdx3KeyAuthority = "modelgraph"
	// spdx3IDPrefix prefixes element ids: urn:modelgraph:aibom:<bom-ref>.
	spdx3IDPrefix = "urn:modelgraph:aibom:"
	spdx3CI       = "_:creationinfo"
)

// spdx3Element is one @graph entry in SPDX 3.0.1 compact JSON-LD. One
// struct covers the element classes the export writes; empty fields are
// left out, and field order is fixed, so the output is deterministic.
type spdx3Element struct {
	Type         string   `json:"type"`
	SpdxID       string   `json:"spdxId,omitempty"`
	BlankID      string   `json:"@id,omitempty"`
	CreationInfo string   `json:"creationInfo,omitempty"`
	SpecVersion  string   `json:"specVersion,omitempty"`
	Created      string   `json:"created,omitempty"`
	CreatedBy    []string `json:"createdBy,omitempty"`
	CreatedUsing []string `json:"createdUsing,omitempty"`

	Name               string          `json:"name,omitempty"`
	Summary            string          `json:"summary,omitempty"`
	Description        string          `json:"description,omitempty"`
	Comment            string          `json:"comment,omitempty"`
	VerifiedUsing      []spdx3Hash     `json:"verifiedUsing,omitempty"`
	ExternalIdentifier []spdx3ExtID    `json:"externalIdentifier,omitempty"`
	ExternalRef        []spdx3ExtRef   `json:"externalRef,omitempty"`
	SuppliedBy         string          `json:"suppliedBy,omitempty"`
	OriginatedBy       []string        `json:"originatedBy,omitempty"`
	ProfileConformance []string        `json:"profileConformance,omitempty"`
	RootElement        []string        `json:"rootElement,omitempty"`
	SbomType           []string        `json:"software_sbomType,omitempty"`
	Hyperparameter     []spdx3DictItem `json:"ai_hyperparameter,omitempty"`

	PackageVersion    string   `json:"software_packageVersion,omitempty"`
	PackageURL        string   `json:"software_packageUrl,omitempty"`
	DownloadLocation  string   `json:"software_downloadLocation,omitempty"`
	PrimaryPurpose    string   `json:"software_primaryPurpose,omitempty"`
	AdditionalPurpose []string `json:"software_additionalPurpose,omitempty"`

	TypeOfModel                 []string        `json:"ai_typeOfModel,omitempty"`
	Domain                      []string        `json:"ai_domain,omitempty"`
	Limitation                  string          `json:"ai_limitation,omitempty"`
	InformationAboutApplication string          `json:"ai_informationAboutApplication,omitempty"`
	InformationAboutTraining    string          `json:"ai_informationAboutTraining,omitempty"`
	Metric                      []spdx3DictItem `json:"ai_metric,omitempty"`
	AutonomyType                string          `json:"ai_autonomyType,omitempty"`
	SafetyRiskAssessment        string          `json:"ai_safetyRiskAssessment,omitempty"`
	UseSensitivePersonalInfo    string          `json:"ai_useSensitivePersonalInformation,omitempty"`

	DatasetType           []string `json:"dataset_datasetType,omitempty"`
	ConfidentialityLevel  string   `json:"dataset_confidentialityLevel,omitempty"`
	DataCollectionProcess string   `json:"dataset_dataCollectionProcess,omitempty"`
	DataPreprocessing     []string `json:"dataset_dataPreprocessing,omitempty"`
	DatasetSize           *uint64  `json:"dataset_datasetSize,omitempty"`
	SensitivePersonalInfo string   `json:"dataset_hasSensitivePersonalInformation,omitempty"`
	IntendedUse           string   `json:"dataset_intendedUse,omitempty"`
	KnownBias             []string `json:"dataset_knownBias,omitempty"`

	BuildType       string   `json:"build_buildType,omitempty"`
	BuildID         string   `json:"build_buildId,omitempty"`
	BuildStart      string   `json:"build_buildStartTime,omitempty"`
	BuildEnd        string   `json:"build_buildEndTime,omitempty"`
	ConfigSourceURI []string `json:"build_configSourceUri,omitempty"`

	From             string   `json:"from,omitempty"`
	To               []string `json:"to,omitempty"`
	RelationshipType string   `json:"relationshipType,omitempty"`

	AnnotationType string `json:"annotationType,omitempty"`
	Subject        string `json:"subject,omitempty"`
	Statement      string `json:"statement,omitempty"`
	ContentType    string `json:"contentType,omitempty"`

	LicenseExpression string `json:"simplelicensing_licenseExpression,omitempty"`
}

type spdx3Hash struct {
	Type      string `json:"type"`
	Algorithm string `json:"algorithm"`
	HashValue string `json:"hashValue"`
}

type spdx3ExtID struct {
	Type             string `json:"type"`
	IDType           string `json:"externalIdentifierType"`
	Identifier       string `json:"identifier"`
	IssuingAuthority string `json:"issuingAuthority,omitempty"`
}

type spdx3ExtRef struct {
	Type        string   `json:"type"`
	RefType     string   `json:"externalRefType"`
	Locator     []string `json:"locator"`
	ContentType string   `json:"contentType,omitempty"`
	Comment     string   `json:"comment,omitempty"`
}

type spdx3DictItem struct {
	Type  string `json:"type"`
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

type spdx3Document struct {
	Context string          `json:"@context"`
	Graph   []*spdx3Element `json:"@graph"`
}

// spdx3Writer translates one CycloneDX AI-BOM.
type spdx3Writer struct {
	bom      *cdx.BOM
	kinds    map[string]cdx.ComponentType // bom-ref -> component type
	deploy   map[string]bool              // bom-refs of deployment components
	elements []*spdx3Element
	rels     []*spdx3Element
	notes    []*spdx3Element
	made     map[string]bool // ids of the shared elements added
}

func spdx3ID(ref string) string { return spdx3IDPrefix + url.PathEscape(ref) }

// EncodeSPDX3 writes bom as an SPDX 3.0.1 JSON-LD document.
func EncodeSPDX3(w io.Writer, bom *cdx.BOM) error {
	if bom == nil {
		return fmt.Errorf("%w: encode: BOM is nil", ErrInvalidRequest)
	}
	doc := toSPDX3(bom)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("aibom: encode SPDX 3: %w", err)
	}
	return nil
}

func toSPDX3(bom *cdx.BOM) spdx3Document {
	x := &spdx3Writer{bom: bom, kinds: map[string]cdx.ComponentType{}, deploy: map[string]bool{},
		made: map[string]bool{}}
	created := "1970-01-01T00:00:00Z" // no evidence document: no time to state (never the wall clock)
	tool, toolVersion := "modelgraph", ""
	var subject *cdx.Component
	if md := bom.Metadata; md != nil {
		if t, err := time.Parse(time.RFC3339, md.Timestamp); err == nil {
			created = t.UTC().Format(time.RFC3339)
		}
		if md.Tools != nil && md.Tools.Components != nil {
			for _, c := range *md.Tools.Components {
				tool, toolVersion = c.Name, c.Version
			}
		}
		subject = md.Component
	}
	agentID := spdx3IDPrefix + "agent:modelgraph"
	toolID := spdx3IDPrefix + "tool:" + url.PathEscape(tool+"@"+toolVersion)
	head := []*spdx3Element{
		{Type: "CreationInfo", BlankID: spdx3CI, SpecVersion: string(SpecSPDX3), Created: created,
			CreatedBy: []string{agentID}, CreatedUsing: []string{toolID}},
		{Type: "SoftwareAgent", SpdxID: agentID, CreationInfo: spdx3CI, Name: "modelgraph"},
		{Type: "Tool", SpdxID: toolID, CreationInfo: spdx3CI, Name: strings.TrimSpace(tool + " " + toolVersion)},
	}

	// Index every component first: relationships need their kinds.
	all := x.components(subject)
	for _, c := range all {
		x.kinds[c.BOMRef] = c.Type
		if c.Type == cdx.ComponentTypeApplication && hasPropPrefix(c, propDeployment) {
			x.deploy[c.BOMRef] = true
		}
	}
	for _, c := range all {
		x.component(c, "")
	}
	x.dependencies()
	x.formulation()

	docID := bom.SerialNumber
	if docID == "" {
		docID = spdx3IDPrefix + "document"
	}
	root := &spdx3Element{Type: "SpdxDocument", SpdxID: docID, CreationInfo: spdx3CI,
		ProfileConformance: []string{"core", "software", "ai", "dataset", "build"}}
	if subject != nil {
		root.RootElement = []string{spdx3ID(subject.BOMRef)}
		root.Name = "AI-BOM of " + subject.Name
	}
	if md := bom.Metadata; md != nil && md.Properties != nil {
		var lines []string
		for _, p := range *md.Properties {
			lines = append(lines, p.Name+"="+p.Value)
		}
		root.Comment = strings.Join(lines, "\n")
	}
	g := append(head, root)
	byID := func(a, b *spdx3Element) int { return cmp.Compare(a.SpdxID, b.SpdxID) }
	slices.SortFunc(x.elements, byID)
	slices.SortFunc(x.rels, byID)
	slices.SortFunc(x.notes, byID)
	g = append(g, x.elements...)
	g = append(g, x.rels...)
	g = append(g, x.notes...)
	return spdx3Document{Context: spdx3Context, Graph: g}
}

// components lists the subject, every component and every formulation
// component (training-only packages), each once.
func (x *spdx3Writer) components(subject *cdx.Component) []cdx.Component {
	var out []cdx.Component
	seen := map[string]bool{}
	add := func(c cdx.Component) {
		if c.BOMRef == "" || seen[c.BOMRef] {
			return
		}
		seen[c.BOMRef] = true
		out = append(out, c)
	}
	if subject != nil {
		add(*subject)
	}
	if x.bom.Components != nil {
		for _, c := range *x.bom.Components {
			add(c)
		}
	}
	if x.bom.Formulation != nil {
		for _, f := range *x.bom.Formulation {
			if f.Components != nil {
				for _, c := range *f.Components {
					add(c)
				}
			}
		}
	}
	return out
}

func hasPropPrefix(c cdx.Component, prefix string) bool {
	if c.Properties == nil {
		return false
	}
	for _, p := range *c.Properties {
		if strings.HasPrefix(p.Name, prefix) {
			return true
		}
	}
	return false
}

func propValues(c cdx.Component, name string) []string {
	var out []string
	if c.Properties != nil {
		for _, p := range *c.Properties {
			if p.Name == name {
				out = append(out, p.Value)
			}
		}
	}
	return out
}

func propValue(c cdx.Component, name string) string {
	if vs := propValues(c, name); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// spdx3Hashes maps CycloneDX hash algorithms to SPDX 3 HashAlgorithm names.
var spdx3Hashes = map[cdx.HashAlgorithm]string{
	cdx.HashAlgoMD5: "md5", cdx.HashAlgoSHA1: "sha1", cdx.HashAlgoSHA256: "sha256",
	cdx.HashAlgoSHA384: "sha384", cdx.HashAlgoSHA512: "sha512", cdx.HashAlgoSHA3_256: "sha3_256",
	cdx.HashAlgoSHA3_384: "sha3_384", cdx.HashAlgoSHA3_512: "sha3_512", cdx.HashAlgoBlake2b_512: "blake2b512",
	cdx.HashAlgoBlake3: "blake3",
}

func spdx3Purpose(t cdx.ComponentType) string {
	switch t {
	case cdx.ComponentTypeMachineLearningModel:
		return "model"
	case cdx.ComponentTypeData:
		return "data"
	case cdx.ComponentTypeLibrary:
		return "library"
	case cdx.ComponentTypeFramework:
		return "framework"
	case cdx.ComponentTypeContainer:
		return "container"
	case cdx.ComponentTypeApplication:
		return "application"
	case cdx.ComponentTypePlatform:
		return "platform"
	case cdx.ComponentTypeOS:
		return "operatingSystem"
	case cdx.ComponentTypeDevice:
		return "device"
	case cdx.ComponentTypeFirmware:
		return "firmware"
	case cdx.ComponentTypeFile:
		return "file"
	}
	return "other"
}

// common fills what every artifact element carries.
func (x *spdx3Writer) common(e *spdx3Element, c cdx.Component) {
	e.SpdxID = spdx3ID(c.BOMRef)
	e.CreationInfo = spdx3CI
	e.Name = c.Name
	if c.Group != "" {
		e.Name = c.Group + "/" + c.Name
	}
	e.Description = c.Description
	if c.Hashes != nil {
		for _, h := range *c.Hashes {
			if alg, ok := spdx3Hashes[h.Algorithm]; ok {
				e.VerifiedUsing = append(e.VerifiedUsing, spdx3Hash{Type: "Hash", Algorithm: alg, HashValue: h.Value})
			}
		}
	}
	keys := propValues(c, propKey)
	if c.PackageURL != "" {
		e.PackageURL = c.PackageURL
	}
	for _, k := range keys {
		if strings.HasPrefix(k, "pkg:") {
			if k != c.PackageURL {
				e.ExternalIdentifier = append(e.ExternalIdentifier, spdx3ExtID{Type: "ExternalIdentifier", IDType: "packageUrl", Identifier: k})
			}
			continue
		}
		e.ExternalIdentifier = append(e.ExternalIdentifier, spdx3ExtID{Type: "ExternalIdentifier", IDType: "other", Identifier: k, IssuingAuthority: spdx3KeyAuthority})
	}
	if c.Version != "" {
		e.PackageVersion = c.Version
	}
	if c.Supplier != nil && c.Supplier.Name != "" {
		e.SuppliedBy = x.agent(c.Supplier.Name)
	}
	if c.ExternalReferences != nil {
		for _, r := range *c.ExternalReferences {
			switch {
			case r.Type == cdx.ERTypeDistribution && e.DownloadLocation == "":
				e.DownloadLocation = r.URL
			case r.Type == cdx.ERTypeVCS && !strings.HasPrefix(r.URL, "urn:"):
				e.ExternalRef = append(e.ExternalRef, spdx3ExtRef{Type: "ExternalRef", RefType: "vcs", Locator: []string{r.URL}, Comment: r.Comment})
			}
		}
	}
	if c.Licenses != nil {
		var ids []string
		for _, l := range *c.Licenses {
			switch {
			case l.Expression != "":
				ids = append(ids, x.license(l.Expression))
			case l.License != nil && l.License.ID != "":
				ids = append(ids, x.license(l.License.ID))
			case l.License != nil && l.License.Name != "":
				ids = append(ids, x.license("LicenseRef-"+licenseRef(l.License.Name)))
			}
		}
		x.rel(e.SpdxID, "hasDeclaredLicense", ids, "")
	}
}

// licenseRef makes a free-text licence name a LicenseRef idstring
// (letters, digits, "." and "-").
func licenseRef(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// shared adds e once under the id kind:name (an element many others point
// at: an organization, a license expression) and returns the id.
func (x *spdx3Writer) shared(kind, name string, e spdx3Element) string {
	id := spdx3IDPrefix + kind + ":" + url.PathEscape(name)
	if !x.made[id] {
		x.made[id] = true
		e.SpdxID, e.CreationInfo = id, spdx3CI
		x.elements = append(x.elements, &e)
	}
	return id
}

func (x *spdx3Writer) agent(name string) string {
	return x.shared("organization", name, spdx3Element{Type: "Organization", Name: name})
}

func (x *spdx3Writer) license(expr string) string {
	return x.shared("license", expr, spdx3Element{Type: "simplelicensing_LicenseExpression", LicenseExpression: expr})
}

// rel adds one Relationship (nothing when to is empty: SPDX requires a
// target). Its id names its source, type and first target, so ids are
// unique and stable.
func (x *spdx3Writer) rel(from, typ string, to []string, comment string) {
	if len(to) == 0 {
		return
	}
	to = slices.Clone(to)
	slices.Sort(to)
	to = slices.Compact(to)
	id := spdx3IDPrefix + "relationship:" + strings.TrimPrefix(from, spdx3IDPrefix) + ":" + typ
	if comment != "" {
		id += ":" + strings.TrimPrefix(to[0], spdx3IDPrefix)
	}
	x.rels = append(x.rels, &spdx3Element{Type: "Relationship", SpdxID: id, CreationInfo: spdx3CI,
		From: from, To: to, RelationshipType: typ, Comment: comment})
}

// component translates one component and its nested files.
func (x *spdx3Writer) component(c cdx.Component, parentType cdx.ComponentType) {
	e := &spdx3Element{}
	x.common(e, c)
	var attrs map[string][]string
	switch c.Type {
	case cdx.ComponentTypeMachineLearningModel:
		e.Type = "ai_AIPackage"
		e.PrimaryPurpose = "model"
		attrs = x.modelFields(e, c)
		x.lineage(c)
	case cdx.ComponentTypeData:
		e.Type = "dataset_DatasetPackage"
		e.PrimaryPurpose = "data"
		attrs = x.datasetFields(e, c)
		x.lineage(c)
	case cdx.ComponentTypeFile:
		e.Type = "software_File"
		e.PackageVersion, e.PackageURL, e.DownloadLocation = "", "", ""
		e.PrimaryPurpose = "file"
		if parentType == cdx.ComponentTypeMachineLearningModel {
			e.PrimaryPurpose = "model"
		} else if parentType == cdx.ComponentTypeData {
			e.PrimaryPurpose = "data"
		}
	default:
		e.Type = "software_Package"
		e.PrimaryPurpose = spdx3Purpose(c.Type)
	}
	x.elements = append(x.elements, e)
	x.annotate(e.SpdxID, c, attrs)
	if c.Components != nil {
		var files []string
		for _, f := range *c.Components {
			x.component(f, c.Type)
			files = append(files, spdx3ID(f.BOMRef))
		}
		typ := "contains"
		if c.Type == cdx.ComponentTypeData {
			typ = "hasDataFile"
		}
		x.rel(e.SpdxID, typ, files, "")
	}
}

// attrMap collects modelgraph:attr:<name> properties.
func attrMap(c cdx.Component) map[string][]string {
	m := map[string][]string{}
	if c.Properties != nil {
		for _, p := range *c.Properties {
			if n, ok := strings.CutPrefix(p.Name, propAttr); ok {
				m[n] = append(m[n], p.Value)
			}
		}
	}
	return m
}

// take returns the first value of an attribute and marks it used.
func take(m map[string][]string, used map[string]bool, name string, valid ...string) string {
	for _, v := range m[name] {
		if len(valid) == 0 || slices.Contains(valid, v) {
			used[name] = true
			return v
		}
	}
	return ""
}

func (x *spdx3Writer) modelFields(e *spdx3Element, c cdx.Component) map[string][]string {
	m, used := attrMap(c), map[string]bool{}
	if mc := c.ModelCard; mc != nil {
		if mp := mc.ModelParameters; mp != nil {
			for _, v := range []string{mp.ArchitectureFamily, mp.ModelArchitecture} {
				if v != "" {
					e.TypeOfModel = append(e.TypeOfModel, v)
				}
			}
			if mp.Task != "" {
				e.Domain = append(e.Domain, mp.Task)
			}
		}
		if cs := mc.Considerations; cs != nil {
			if cs.TechnicalLimitations != nil {
				e.Limitation = strings.Join(*cs.TechnicalLimitations, "\n")
			}
			if cs.UseCases != nil {
				e.InformationAboutApplication = strings.Join(*cs.UseCases, "\n")
			}
		}
	}
	if v := take(m, used, "typeOfModel"); v != "" && len(e.TypeOfModel) == 0 {
		e.TypeOfModel = []string{v}
	}
	if v := take(m, used, "domain"); v != "" {
		e.Domain = append(e.Domain, splitList(v)...)
	}
	e.AutonomyType = take(m, used, "autonomyType", "yes", "no", "noAssertion")
	e.SafetyRiskAssessment = take(m, used, "safetyRiskAssessment", "serious", "high", "medium", "low")
	e.UseSensitivePersonalInfo = take(m, used, "useSensitivePersonalInformation", "yes", "no", "noAssertion")
	e.InformationAboutTraining = take(m, used, "informationAboutTraining")
	if e.InformationAboutApplication == "" {
		e.InformationAboutApplication = take(m, used, "informationAboutApplication")
	}
	if v := take(m, used, "hyperparameters"); v != "" {
		if d, ok := dictEntries(v); ok {
			e.Hyperparameter = d
		} else {
			used["hyperparameters"] = false
		}
	}
	var metrics []string
	for n := range m {
		if strings.HasPrefix(n, "metric:") {
			metrics = append(metrics, n)
		}
	}
	slices.Sort(metrics)
	for _, n := range metrics {
		e.Metric = append(e.Metric, spdx3DictItem{Type: "DictionaryEntry", Key: strings.TrimPrefix(n, "metric:"), Value: m[n][0]})
		used[n] = true
	}
	return unused(m, used)
}

func (x *spdx3Writer) datasetFields(e *spdx3Element, c cdx.Component) map[string][]string {
	m, used := attrMap(c), map[string]bool{}
	types := []string{"audio", "categorical", "graph", "image", "noAssertion", "numeric", "other", "sensor", "structured", "syntactic", "text", "timeseries", "timestamp", "video"}
	for _, v := range m["datasetType"] {
		for _, t := range splitList(v) {
			if slices.Contains(types, t) && !slices.Contains(e.DatasetType, t) {
				e.DatasetType = append(e.DatasetType, t)
				used["datasetType"] = true
			}
		}
	}
	if len(e.DatasetType) == 0 {
		e.DatasetType = []string{"noAssertion"} // required by SPDX; the graph does not know
	}
	pii := ""
	if c.Data != nil {
		for _, d := range *c.Data {
			if d.Contents != nil && d.Contents.URL != "" && e.DownloadLocation == "" {
				e.DownloadLocation = d.Contents.URL
			}
			if slices.Contains([]string{"red", "amber", "green", "clear"}, strings.ToLower(d.Classification)) {
				e.ConfidentialityLevel = strings.ToLower(d.Classification)
			}
			if d.SensitiveData != nil {
				for _, s := range *d.SensitiveData {
					if s == "PII" || s == "PHI" {
						pii = "yes"
					}
				}
			}
		}
	}
	if pii == "" {
		switch take(m, used, "pii") {
		case "true":
			pii = "yes"
		case "false":
			pii = "no"
		}
	}
	e.SensitivePersonalInfo = pii
	e.DataCollectionProcess = take(m, used, "collectionMethod")
	if v := take(m, used, "preprocessing"); v != "" {
		var steps []string
		if json.Unmarshal([]byte(v), &steps) == nil {
			e.DataPreprocessing = steps
		} else {
			e.DataPreprocessing = []string{v}
		}
	}
	if v := take(m, used, "datasetSize"); v != "" {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			e.DatasetSize = &n
		} else {
			used["datasetSize"] = false
		}
	}
	e.IntendedUse = take(m, used, "intendedUse")
	if v := take(m, used, "knownBias"); v != "" {
		e.KnownBias = strings.Split(v, "\n")
	}
	return unused(m, used)
}

func unused(m map[string][]string, used map[string]bool) map[string][]string {
	for n := range m {
		if used[n] {
			delete(m, n)
		}
	}
	return m
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// dictEntries reads a JSON object of strings (how ingest keeps
// hyperparameters) as dictionary entries, sorted by key.
func dictEntries(v string) ([]spdx3DictItem, bool) {
	var m map[string]string
	if json.Unmarshal([]byte(v), &m) != nil || len(m) == 0 {
		return nil, false
	}
	var out []spdx3DictItem
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}) {
		out = append(out, spdx3DictItem{Type: "DictionaryEntry", Key: k, Value: m[k]})
	}
	return out, true
}

// lineage writes a model's training data (trainedOn, or testedOn for test
// and validation splits) and the direct ancestors of its pedigree
// (ancestor ancestorOf component, with the relation in the comment).
func (x *spdx3Writer) lineage(c cdx.Component) {
	self := spdx3ID(c.BOMRef)
	if mc := c.ModelCard; mc != nil && mc.ModelParameters != nil && mc.ModelParameters.Datasets != nil {
		var trained, tested []string
		for _, d := range *mc.ModelParameters.Datasets {
			if d.Ref == "" {
				continue
			}
			splits := splitList(propValue(c, propSplit+":"+d.Ref))
			isTest, isTrain := false, len(splits) == 0
			for _, s := range splits {
				switch strings.ToLower(s) {
				case "test", "validation", "eval", "evaluation":
					isTest = true
				default:
					isTrain = true
				}
			}
			if isTrain {
				trained = append(trained, spdx3ID(d.Ref))
			}
			if isTest {
				tested = append(tested, spdx3ID(d.Ref))
			}
		}
		x.rel(self, "trainedOn", trained, "")
		x.rel(self, "testedOn", tested, "")
	}
	if c.Pedigree == nil || c.Pedigree.Ancestors == nil {
		return
	}
	for _, a := range *c.Pedigree.Ancestors {
		ref := propValue(a, propAncestorRef)
		if ref == "" {
			continue
		}
		comment := ""
		if r := propValue(a, propRelation); r != "" && r != "unspecified" {
			comment = propRelation + "=" + r
		}
		x.rel(spdx3ID(ref), "ancestorOf", []string{self}, cmp.Or(comment, propRelation+"=unspecified"))
	}
}

// dependencies writes dependsOn for what CycloneDX dependencies state and
// no other relationship says: a model's datasets and parents are trainedOn
// and ancestorOf, a dataset's sources ancestorOf.
func (x *spdx3Writer) dependencies() {
	if x.bom.Dependencies == nil {
		return
	}
	for _, d := range *x.bom.Dependencies {
		if d.Dependencies == nil {
			continue
		}
		ft, known := x.kinds[d.Ref]
		if !known {
			continue // the environment platform's deployments, etc.: named below
		}
		var to []string
		for _, t := range *d.Dependencies {
			tt, ok := x.kinds[t]
			if !ok {
				continue
			}
			if (ft == cdx.ComponentTypeMachineLearningModel || ft == cdx.ComponentTypeData) &&
				(tt == cdx.ComponentTypeMachineLearningModel || tt == cdx.ComponentTypeData) {
				continue
			}
			to = append(to, spdx3ID(t))
		}
		x.rel(spdx3ID(d.Ref), "dependsOn", to, "")
	}
}

// formulation writes each training workflow as a build_Build with its
// inputs (hasInput), outputs (hasOutput) and sources (configSourceUri).
func (x *spdx3Writer) formulation() {
	if x.bom.Formulation == nil {
		return
	}
	for _, f := range *x.bom.Formulation {
		if f.Workflows == nil {
			continue
		}
		for _, w := range *f.Workflows {
			id := spdx3ID(w.BOMRef)
			e := &spdx3Element{Type: "build_Build", SpdxID: id, CreationInfo: spdx3CI, Name: w.Name, BuildID: w.UID}
			bt := ""
			var props []cdx.Property
			if w.Properties != nil {
				props = *w.Properties
			}
			for _, p := range props {
				if p.Name == propAttr+"buildType" && isAbsURI(p.Value) {
					bt = p.Value
				}
				if p.Name == propKey {
					e.ExternalIdentifier = append(e.ExternalIdentifier, spdx3ExtID{Type: "ExternalIdentifier", IDType: "other", Identifier: p.Value, IssuingAuthority: spdx3KeyAuthority})
				}
			}
			e.BuildType = cmp.Or(bt, "urn:modelgraph:build-type:training")
			e.BuildStart, e.BuildEnd = w.TimeStart, w.TimeEnd
			var in, out []string
			if w.Tasks != nil {
				for _, t := range *w.Tasks {
					if e.BuildStart == "" {
						e.BuildStart, e.BuildEnd = t.TimeStart, t.TimeEnd
					}
					if t.Inputs != nil {
						for _, i := range *t.Inputs {
							switch r := i.Resource; {
							case r == nil:
							case r.Ref != "":
								if _, ok := x.kinds[r.Ref]; ok {
									in = append(in, spdx3ID(r.Ref))
								}
							case r.ExternalReference != nil && isAbsURI(r.ExternalReference.URL):
								e.ConfigSourceURI = append(e.ConfigSourceURI, r.ExternalReference.URL)
							}
						}
					}
					if t.Outputs != nil {
						for _, o := range *t.Outputs {
							if o.Resource != nil && o.Resource.Ref != "" {
								if _, ok := x.kinds[o.Resource.Ref]; ok {
									out = append(out, spdx3ID(o.Resource.Ref))
								}
							}
						}
					}
				}
			}
			slices.Sort(e.ConfigSourceURI)
			x.elements = append(x.elements, e)
			x.rel(id, "hasInput", in, "")
			x.rel(id, "hasOutput", out, "")
			var lines []string
			for _, p := range props {
				if p.Name != propKey {
					lines = append(lines, p.Name+"="+p.Value)
				}
			}
			x.note(id, "properties", strings.Join(lines, "\n"))
		}
	}
}

func isAbsURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && !strings.ContainsAny(s, " \t\n<>\"{}|\\^`")
}

// annotate writes the component's evidence and verification: one
// annotation per evidence document (the sentence the CycloneDX external
// reference carries: type, digest, status, each signature's status,
// method, signer and reason), and one with every other modelgraph property
// (verification summary, evidence facts, deployment facts, attributes no
// SPDX field took), one name=value per line.
func (x *spdx3Writer) annotate(id string, c cdx.Component, extra map[string][]string) {
	if c.ExternalReferences != nil {
		for _, r := range *c.ExternalReferences {
			if strings.HasPrefix(r.URL, "urn:modelgraph:document:") {
				x.note(id, "evidence:"+strings.TrimPrefix(r.URL, "urn:modelgraph:document:"),
					cmp.Or(r.Comment, string(r.Type)+" "+r.URL))
			}
		}
	}
	var lines []string
	if c.Properties != nil {
		for _, p := range *c.Properties {
			if p.Name == propKey || strings.HasPrefix(p.Name, propSplit) {
				continue
			}
			if n, ok := strings.CutPrefix(p.Name, propAttr); ok {
				if _, kept := extra[n]; !kept {
					continue // an SPDX field took it
				}
			}
			lines = append(lines, p.Name+"="+p.Value)
		}
	}
	x.note(id, "properties", strings.Join(lines, "\n"))
}

func (x *spdx3Writer) note(subject, what, statement string) {
	if statement == "" {
		return
	}
	x.notes = append(x.notes, &spdx3Element{Type: "Annotation",
		SpdxID:         spdx3IDPrefix + "annotation:" + strings.TrimPrefix(subject, spdx3IDPrefix) + ":" + url.PathEscape(what),
		CreationInfo:   spdx3CI,
		AnnotationType: "other", Subject: subject, Statement: statement, ContentType: "text/plain"})
}
