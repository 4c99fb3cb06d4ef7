package sbom

import (
	"errors"
	"fmt"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/guacsec/guac/pkg/assembler"
	model "github.com/guacsec/guac/pkg/assembler/clients/generated"
	asmhelpers "github.com/guacsec/guac/pkg/assembler/helpers"
	"github.com/guacsec/guac/pkg/ingestor/parser/common"
)

// cdxPredicates gives, for a BOM already decoded by cyclonedx-go, the
// predicates GUAC v1.1.0's CycloneDX parser
// (pkg/ingestor/parser/cyclonedx, Apache-2.0) gives for the same document,
// without its costs: GUAC decodes the bytes a second time (jsoniter) and
// its dependency pass looks each ref up in growing slices (quadratic in
// the dependency graph); here the BOM is decoded once and the lookups are
// sets. GUAC's purl conventions and helpers (PurlToPkg, GuacPkgPurl,
// CreateVulnInput, HashLicense, CombineLicense, GetIsDep,
// CreateTopLevelIsDeps) are used as they are. Where GUAC's parser fails
// (an error or a panic), so does this, with an error: the caller then maps
// the BOM directly (cdxDirect), as it did when GUAC's parser failed.
// TestDirectMatchesGUAC compares the batches of both on every CycloneDX
// document in testdata.
//
// specPurl, when not nil, receives PkgInputSpecToPurl of each package spec
// made from a purl (purlToPkg knows it), so the translation does not
// convert the spec back (builder.pkgSpec).
func cdxPredicates(bom *cdx.BOM, specPurl map[*model.PkgInputSpec]string) (*assembler.IngestPredicates, error) {
	n := 1 // the maps are sized from the top-level component count
	if bom.Components != nil {
		n += len(*bom.Components)
	}
	c := &cdxPreds{
		bom:       bom,
		specPurl:  specPurl,
		packages:  make(map[string][]*model.PkgInputSpec, n),
		artifacts: make(map[string][]*model.ArtifactInputSpec, n),
		legals:    make(map[string][]*model.CertifyLegalInputSpec, n),
		order:     make([]string, 0, n),
		timestamp: time.Now(),
	}
	if err := c.topLevel(); err != nil {
		return nil, err
	}
	if err := c.components(bom.Components); err != nil {
		return nil, err
	}
	if err := c.vulnerabilities(); err != nil {
		return nil, err
	}
	return c.predicates()
}

type cdxPreds struct {
	bom       *cdx.BOM
	packages  map[string][]*model.PkgInputSpec // by bom-ref ("" gathers every component without one, as GUAC)
	artifacts map[string][]*model.ArtifactInputSpec
	legals    map[string][]*model.CertifyLegalInputSpec
	order     []string // bom-refs in the order first seen (GUAC iterates its map)
	specPurl  map[*model.PkgInputSpec]string
	timestamp time.Time
	vex       []assembler.VexIngest
	certify   []assembler.CertifyVulnIngest
	vulnMeta  []assembler.VulnMetadataIngest
}

// purlToPkg is GUAC's PurlToPkg (memoised), recording the spec's purl.
func (c *cdxPreds) purlToPkg(purl string) (*model.PkgInputSpec, error) {
	p, sp, err := purlToPkg(purl)
	if err == nil && c.specPurl != nil {
		c.specPurl[p] = sp
	}
	return p, err
}

func (c *cdxPreds) addPkg(ref string, p *model.PkgInputSpec) {
	if _, ok := c.packages[ref]; !ok {
		c.order = append(c.order, ref)
	}
	c.packages[ref] = append(c.packages[ref], p)
}

func (c *cdxPreds) addHashes(comp *cdx.Component) {
	if comp.Hashes == nil {
		return
	}
	specs := make([]model.ArtifactInputSpec, len(*comp.Hashes)) // one allocation for the component's hashes
	arts := c.artifacts[comp.BOMRef]
	if arts == nil {
		arts = make([]*model.ArtifactInputSpec, 0, len(specs)) // the usual case: one bom-ref, one component
	}
	for i, h := range *comp.Hashes {
		specs[i] = model.ArtifactInputSpec{Algorithm: strings.ToLower(string(h.Algorithm)), Digest: h.Value}
		arts = append(arts, &specs[i])
	}
	c.artifacts[comp.BOMRef] = arts
}

// topLevel is GUAC's getTopLevelPackage.
func (c *cdxPreds) topLevel() error {
	md := c.bom.Metadata
	if md == nil {
		return nil
	}
	if md.Timestamp == "" {
		c.timestamp = time.Unix(0, 0).UTC()
	} else {
		ts, err := time.Parse(time.RFC3339, md.Timestamp)
		if err != nil {
			return fmt.Errorf("metadata.timestamp %q: %w", md.Timestamp, err)
		}
		c.timestamp = ts
	}
	mc := md.Component
	if mc == nil {
		return errors.New("GUAC's CycloneDX parser does not support a metadata without component (GUAC issue #976)")
	}
	purl := mc.PackageURL
	if purl == "" {
		switch mc.Type {
		case cdx.ComponentTypeContainer:
			purl = containerPurl(mc.Name, mc.Version, true)
		case cdx.ComponentTypeFile:
			purl = cdxFilePurl(mc.Name, mc.Version, true)
		default:
			purl = cdxPkgPurl(mc.Name, mc.Version, "", true)
		}
	}
	top, err := c.purlToPkg(purl)
	if err != nil {
		return err
	}
	c.addPkg(mc.BOMRef, top)
	c.addHashes(mc)
	return c.license(mc)
}

// components is GUAC's traverseComponents.
func (c *cdxPreds) components(cs *[]cdx.Component) error {
	if cs == nil {
		return nil
	}
	for i := range *cs {
		comp := &(*cs)[i]
		if comp.Type == cdx.ComponentTypeOS {
			continue
		}
		purl := comp.PackageURL
		if purl == "" {
			switch comp.Type {
			case cdx.ComponentTypeContainer:
				purl = containerPurl(comp.Name, comp.Version, false)
			case cdx.ComponentTypeFile:
				purl = cdxFilePurl(comp.Name, comp.Version, false)
			default:
				purl = asmhelpers.GuacPkgPurl(comp.Name, &comp.Version)
			}
		}
		pkg, err := c.purlToPkg(purl)
		if err != nil {
			return err
		}
		c.addPkg(comp.BOMRef, pkg)
		c.addHashes(comp)
		if err := c.license(comp); err != nil {
			return err
		}
		if err := c.components(comp.Components); err != nil {
			return err
		}
	}
	return nil
}

// license is GUAC's getLicenseInformation (only the declared license is
// kept by the translation; inline texts are not).
func (c *cdxPreds) license(comp *cdx.Component) error {
	if comp.Licenses == nil {
		return nil
	}
	ls := *comp.Licenses
	add := func(declared string) {
		c.legals[comp.BOMRef] = append(c.legals[comp.BOMRef], &model.CertifyLegalInputSpec{
			Justification: "Found in CycloneDX document", DeclaredLicense: declared, TimeScanned: c.timestamp, Attribution: comp.Copyright,
		})
	}
	if len(ls) == 1 {
		switch {
		case ls[0].Expression != "":
			add(ls[0].Expression)
		case ls[0].License == nil:
		default:
			if l := licenseFromName(ls[0]); l != "" {
				add(l)
			}
		}
		return nil
	}
	var names []string
	for _, l := range ls {
		if l.Expression != "" {
			return errors.New("GUAC CycloneDX license ingestion currently only support CycloneDX v1.5")
		}
		if l.License == nil {
			continue
		}
		names = append(names, licenseFromName(l))
	}
	if len(names) > 0 {
		add(common.CombineLicense(names))
	}
	return nil
}

func licenseFromName(l cdx.LicenseChoice) string {
	if l.License.Name != "" && l.License.Name != "UNKNOWN" {
		if l.License.Text == nil && l.License.BOMRef != "" {
			return l.License.BOMRef
		}
		return common.HashLicense(l.License.Name)
	}
	return l.License.ID
}

// vulnerabilities is GUAC's getVulnerabilities.
func (c *cdxPreds) vulnerabilities() error {
	if c.bom.Vulnerabilities == nil {
		return nil
	}
	zero := time.Unix(0, 0).UTC()
	for _, v := range *c.bom.Vulnerabilities {
		vuln, err := asmhelpers.CreateVulnInput(v.ID)
		if err != nil {
			return fmt.Errorf("failed to create vuln input spec %v", err)
		}
		var vd model.VexStatementInputSpec
		published := zero
		if a := v.Analysis; a != nil {
			st, ok := vexStatusMap[a.State]
			if !ok {
				return fmt.Errorf("unknown vulnerability status %s", a.State)
			}
			vd.Status = st
			if j, ok := justificationsMap[a.Justification]; ok {
				vd.VexJustification = j
			} else {
				vd.VexJustification = model.VexJustificationNotProvided
			}
			if v.Published != "" {
				if published, err = time.Parse(time.RFC3339, v.Published); err != nil {
					return fmt.Errorf("failed to parse time: %s, with error: %w", v.Published, err)
				}
			}
			vd.KnownSince = published
			vd.Statement = v.Description
			switch {
			case a.Detail != "":
				vd.StatusNotes = a.Detail
			case a.Response != nil:
				var rs []string
				for _, r := range *a.Response {
					rs = append(rs, string(r))
				}
				vd.StatusNotes = strings.Join(rs, ",")
			case a.State != cdx.IASResolved && a.State != cdx.IASExploitable && a.State != cdx.IASInTriage && a.State != cdx.IASNotAffected:
				vd.StatusNotes = fmt.Sprintf("CDX state: %s", string(a.State))
			case v.Detail != "":
				vd.StatusNotes = v.Detail
			}
		} else {
			vd = model.VexStatementInputSpec{Status: model.VexStatusAffected, VexJustification: model.VexJustificationNotProvided,
				KnownSince: published, StatusNotes: v.Detail, Statement: v.Description}
		}
		var found []assembler.VexIngest
		if v.Affects != nil {
			for _, a := range *v.Affects {
				vi, err := c.affected(vuln, vd, a)
				if vi == nil || err != nil {
					return fmt.Errorf("failed to get affected packages for vulnerability %s - %v", v.ID, err)
				}
				found = append(found, vi...)
			}
		} else if strings.Contains(v.BOMRef, "pkg:") {
			for _, p := range c.packages[v.BOMRef] {
				found = append(found, assembler.VexIngest{VexData: &vd, Vulnerability: vuln, Pkg: p})
			}
		}
		c.vex = append(c.vex, found...)
		for _, f := range found {
			if f.VexData.Status == model.VexStatusAffected || f.VexData.Status == model.VexStatusUnderInvestigation {
				c.certify = append(c.certify, assembler.CertifyVulnIngest{Vulnerability: vuln, VulnData: &model.ScanMetadataInput{TimeScanned: f.VexData.KnownSince}, Pkg: f.Pkg})
			}
		}
		if v.Ratings != nil {
			for _, r := range *v.Ratings {
				if r.Method == "" {
					continue
				}
				score := 0.0
				if r.Score != nil {
					score = *r.Score
				}
				c.vulnMeta = append(c.vulnMeta, assembler.VulnMetadataIngest{Vulnerability: vuln, VulnMetadata: &model.VulnerabilityMetadataInputSpec{
					ScoreType: model.VulnerabilityScoreType(r.Method), ScoreValue: score, Timestamp: published}})
			}
		}
	}
	return nil
}

// affected is GUAC's getAffectedPackages.
func (c *cdxPreds) affected(vuln *model.VulnerabilityInputSpec, vd model.VexStatementInputSpec, a cdx.Affects) ([]assembler.VexIngest, error) {
	var found []assembler.VexIngest
	for _, p := range c.packages[a.Ref] {
		found = append(found, assembler.VexIngest{VexData: &vd, Vulnerability: vuln, Pkg: p})
	}
	if len(found) > 0 {
		return found, nil
	}
	parts := strings.Split(a.Ref, "#")
	if len(parts) != 2 {
		return nil, fmt.Errorf("malformed affected-package reference: %q", a.Ref)
	}
	id := parts[1]
	if strings.Contains(id, "pkg:") {
		p, err := asmhelpers.PurlToPkg(id)
		if err != nil {
			return nil, fmt.Errorf("unable to create package input spec: %v", err)
		}
		return []assembler.VexIngest{{VexData: &vd, Vulnerability: vuln, Pkg: p}}, nil
	}
	if a.Range == nil {
		return nil, fmt.Errorf("no vulnerable components found for ref %q", a.Ref)
	}
	var out []assembler.VexIngest
	for _, r := range *a.Range {
		if r.Range != "" {
			continue
		}
		if r.Version == "" {
			return nil, fmt.Errorf("no version found for package ref %q", a.Ref)
		}
		p, err := asmhelpers.PurlToPkg(cdxPkgPurl(id, r.Version, "", false))
		if err != nil {
			return nil, fmt.Errorf("unable to create package input spec from guac pkg purl: %v", err)
		}
		out = append(out, assembler.VexIngest{VexData: &vd, Vulnerability: vuln, Pkg: p})
	}
	return out, nil
}

const heuristic = "top-level package GUAC heuristic connecting to each file/package"

// predicates is GUAC's GetPredicates, with the dependency pass's
// slices.Contains lookups as sets.
func (c *cdxPreds) predicates() (*assembler.IngestPredicates, error) {
	preds := &assembler.IngestPredicates{}
	var topArts []*model.ArtifactInputSpec
	var topPkgs []*model.PkgInputSpec
	var topRef string
	mc := metaComponent(c.bom)
	if mc != nil {
		topRef = mc.BOMRef
		if mc.Type == cdx.ComponentTypeContainer {
			topPkgs = append(topPkgs, c.packages[topRef]...)
			if v := topPkgs[0].Version; v != nil && *v != "" {
				if parts := strings.Split(*v, ":"); len(parts) == 2 {
					art := &model.ArtifactInputSpec{Algorithm: strings.ToLower(parts[0]), Digest: strings.ToLower(parts[1])}
					topArts = append(topArts, art)
					c.artifacts[topRef] = append(c.artifacts[topRef], art)
				}
			}
		} else {
			topArts = c.artifacts[topRef]
			topPkgs = c.packages[topRef]
		}
	}
	if len(topArts) > 0 || len(topPkgs) > 0 {
		if c.bom.Dependencies == nil {
			preds.IsDependency = append(preds.IsDependency, c.topLevelDeps(topPkgs[0], nil)...)
		}
		if len(topArts) > 0 {
			for _, a := range topArts {
				preds.HasSBOM = append(preds.HasSBOM, assembler.HasSBOMIngest{Artifact: a, HasSBOM: &model.HasSBOMInputSpec{}})
			}
		} else {
			preds.HasSBOM = append(preds.HasSBOM, assembler.HasSBOMIngest{Pkg: topPkgs[0], HasSBOM: &model.HasSBOMInputSpec{}})
		}
	}
	nOcc := 0
	for _, ref := range c.order {
		nOcc += len(c.packages[ref]) * len(c.artifacts[ref])
	}
	preds.IsOccurrence = make([]assembler.IsOccurrenceIngest, 0, nOcc)
	// One justification for all: GUAC allocates one per occurrence, with
	// the same text; nothing here writes them.
	occSpec := &model.IsOccurrenceInputSpec{Justification: "cdx package with checksum"}
	for _, ref := range c.order {
		for _, p := range c.packages[ref] {
			for _, a := range c.artifacts[ref] {
				preds.IsOccurrence = append(preds.IsOccurrence, assembler.IsOccurrenceIngest{Pkg: p, Artifact: a, IsOccurrence: occSpec})
			}
		}
	}
	preds.Vex, preds.VulnMetadata, preds.CertifyVuln = c.vex, c.vulnMeta, c.certify
	if c.bom.Dependencies == nil {
		return preds, nil
	}
	if mc == nil {
		// GUAC dereferences metadata.component here and panics.
		return nil, errors.New("GUAC's CycloneDX parser panics on dependencies without metadata.component")
	}
	nLegal := 0
	for _, ref := range c.order {
		nLegal += len(c.legals[ref]) * len(c.packages[ref])
	}
	if nLegal > 0 {
		preds.CertifyLegal = make([]assembler.CertifyLegalIngest, 0, nLegal)
	}
	for _, ref := range c.order {
		for _, cl := range c.legals[ref] {
			for _, p := range c.packages[ref] {
				preds.CertifyLegal = append(preds.CertifyLegal, assembler.CertifyLegalIngest{Pkg: p, CertifyLegal: cl})
			}
		}
	}
	direct, indirect := map[string]bool{}, map[string]bool{}
	accounted := map[string]bool{}
	dep := func(from *model.PkgInputSpec, to []*model.PkgInputSpec, why string, t model.DependencyType) bool {
		p, _ := common.GetIsDep(from, to, nil, why, t) // GUAC passes an empty slice: the same (len 0)
		if p != nil {
			preds.IsDependency = append(preds.IsDependency, *p)
		}
		return p != nil
	}
	for _, d := range *c.bom.Dependencies {
		t := model.DependencyTypeUnknown
		cur, found := c.packages[d.Ref]
		if !found {
			continue
		}
		accounted[d.Ref] = true
		switch {
		case d.Ref == topRef:
			t = model.DependencyTypeDirect
		case direct[d.Ref] || indirect[d.Ref]:
			t = model.DependencyTypeIndirect
		default:
			dep(topPkgs[0], cur, heuristic, model.DependencyTypeUnknown)
		}
		if d.Dependencies == nil {
			continue
		}
		for _, r := range *d.Dependencies {
			to, ok := c.packages[r]
			if !ok {
				continue
			}
			accounted[r] = true
			for _, from := range cur {
				if dep(from, to, "CDX BOM Dependency", model.DependencyTypeDirect) {
					switch t {
					case model.DependencyTypeDirect:
						direct[r] = true
					case model.DependencyTypeIndirect:
						indirect[r] = true
					}
				}
				if d.Ref != topRef {
					why := "CDX BOM Dependency"
					if t == model.DependencyTypeUnknown {
						why = heuristic
					}
					dep(topPkgs[0], to, why, t)
				}
			}
		}
	}
	preds.IsDependency = append(preds.IsDependency, c.topLevelDeps(topPkgs[0], accounted)...)
	return preds, nil
}

// topLevelDeps is GUAC's CreateTopLevelIsDeps over the packages not
// accounted for.
func (c *cdxPreds) topLevelDeps(top *model.PkgInputSpec, accounted map[string]bool) []assembler.IsDependencyIngest {
	rest := map[string][]*model.PkgInputSpec{}
	for ref, ps := range c.packages {
		if !accounted[ref] {
			rest[ref] = ps
		}
	}
	return common.CreateTopLevelIsDeps(top, rest, nil, heuristic)
}

var vexStatusMap = map[cdx.ImpactAnalysisState]model.VexStatus{
	cdx.IASResolved:             model.VexStatusFixed,
	cdx.IASExploitable:          model.VexStatusAffected,
	cdx.IASInTriage:             model.VexStatusUnderInvestigation,
	cdx.IASNotAffected:          model.VexStatusNotAffected,
	cdx.IASResolvedWithPedigree: model.VexStatusFixed,
	cdx.IASFalsePositive:        model.VexStatusNotAffected,
}

var justificationsMap = map[cdx.ImpactAnalysisJustification]model.VexJustification{
	cdx.IAJCodeNotPresent:   model.VexJustificationVulnerableCodeNotPresent,
	cdx.IAJCodeNotReachable: model.VexJustificationVulnerableCodeNotInExecutePath,
}

// containerPurl is GUAC's parseContainerType.
func containerPurl(name, version string, topLevel bool) string {
	image := strings.Split(name, "/")
	tag := strings.Split(image[len(image)-1], ":")
	var repo, t string
	switch len(image) {
	case 3:
		repo = image[0] + "/" + image[1] + "/" + tag[0]
	case 2:
		repo = image[0] + "/" + tag[0]
	case 1:
		repo = image[0]
	}
	if len(tag) == 2 {
		t = tag[1]
	}
	if repo != "" {
		return cdxPkgPurl(repo, version, t, topLevel)
	}
	return cdxPkgPurl(name, version, t, topLevel)
}

// cdxFilePurl is GUAC's guacCDXFilePurl.
func cdxFilePurl(fileName, version string, topLevel bool) string {
	name := asmhelpers.SanitizeString(fileName)
	if topLevel {
		if version != "" {
			if v := strings.Split(version, ":"); len(v) == 2 {
				return fmt.Sprintf("pkg:guac/cdx/%s:%s", strings.ToLower(v[0]), v[1]) + fmt.Sprintf("?filename=%s", name)
			}
		}
		if strings.HasPrefix(name, "/") {
			return "pkg:guac/cdx" + name
		}
		return "pkg:guac/cdx/" + name
	}
	if version != "" {
		if v := strings.Split(version, ":"); len(v) == 2 {
			return asmhelpers.GuacFilePurl(v[0], v[1], &name)
		}
	}
	if strings.HasPrefix(name, "/") {
		return "pkg:guac/files" + name
	}
	return "pkg:guac/files/" + name
}

// cdxPkgPurl is GUAC's guacCDXPkgPurl.
func cdxPkgPurl(name, version, tag string, topLevel bool) string {
	ns := asmhelpers.PurlPkgGuac
	if topLevel {
		ns = "pkg:guac/cdx/"
	}
	p := ns + asmhelpers.SanitizeString(name)
	if version != "" {
		p += "@" + version
	}
	if tag != "" {
		p += "?tag=" + tag
	}
	return p
}
