package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/guacsec/guac/pkg/assembler"
	asmhelpers "github.com/guacsec/guac/pkg/assembler/helpers"
	"github.com/guacsec/guac/pkg/handler/processor"
	"github.com/spdx/tools-golang/spdx"
	spdxcommon "github.com/spdx/tools-golang/spdx/v2/common"

	"github.com/modelgraph/modelgraph/graph"
)

// guacSPDX gives GUAC's SPDX predicates for doc, decoded from p.raw; the
// tests set it to GUAC's own parser (which decodes p.raw itself) to
// compare.
var guacSPDX = spdxPortParse

func spdxPortParse(ctx context.Context, p *parser, doc *spdx.Document) (*assembler.IngestPredicates, error) {
	return p.runGUAC(ctx, newSPDXPort(doc), processor.DocumentSPDX)
}

func (p *parser) spdx(ctx context.Context, subjects []subject) error {
	var version string
	if json.Unmarshal([]byte(p.sniffed.spdxVersion), &version) != nil {
		return p.fail("spdxVersion", "%s is not a string like \"SPDX-2.3\"", orMissing(p.sniffed.spdxVersion))
	}
	if !strings.HasPrefix(version, "SPDX-2.") {
		return p.fail("spdxVersion", "%q is not SPDX 2.x (GUAC v1.1.0 reads SPDX 2.1–2.3 JSON)", truncate(version, 40))
	}
	doc, err := decodeSPDX2(p.raw, version)
	if err != nil {
		return p.fail("", "SPDX JSON: %v", err)
	}
	if doc.SPDXIdentifier != "DOCUMENT" {
		return p.fail("SPDXID", "%q is not \"SPDXRef-DOCUMENT\"", truncate(string(doc.SPDXIdentifier), 80))
	}
	if doc.CreationInfo == nil {
		return p.fail("creationInfo", "missing")
	}
	if n := len(doc.Packages) + len(doc.Files); n > maxComponents {
		return p.tooLarge("packages+files", n, maxComponents)
	}
	if n := len(doc.Relationships); n > maxRelationships {
		return p.tooLarge("relationships", n, maxRelationships)
	}
	p.x = newBuilder(p.doc, p.role)
	x := p.x
	// SPDX documents describe packages (images, archives) far more often
	// than files: an explicit subject becomes a Package.
	for _, s := range subjects {
		i := x.node(graph.KindPackage, s.keys...)
		x.b.Set(i, "name", s.name)
		x.describe(i)
	}
	// GUAC's SPDX parser, ported to read the document decoded above
	// (spdxguac.go) instead of decoding the bytes a second time.
	preds, gerr := guacSPDX(ctx, p, doc)
	if gerr == nil {
		top, err := topOf(preds)
		if err == nil {
			err = p.bindTop(top, graph.KindPackage)
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
		if err := p.spdxDirect(doc); err != nil {
			return err
		}
	}
	x.b.Set(graph.DocNode, "spdxVersion", doc.SPDXVersion)
	x.b.Set(graph.DocNode, "namespace", doc.DocumentNamespace)
	x.b.Set(graph.DocNode, "name", doc.DocumentName)
	x.flush()
	return nil
}

// spdxDirect maps an SPDX document GUAC could not parse, with GUAC's purl
// conventions. Packages without a name (GUAC builds "pkg:guac/pkg/@" and
// fails) take the legacy "packageName" field some 2.1-era tools wrote, or
// their SPDX id. File elements are not mapped.
func (p *parser) spdxDirect(doc *spdx.Document) error {
	x := p.x
	legacy, err := legacyNames(p.raw)
	if err != nil {
		return p.fail("packages", "%v", err)
	}
	type pkgInfo struct {
		pk    *spdx.Package
		field string
		name  string
		purls []string
	}
	infos := map[spdxcommon.ElementID]*pkgInfo{}
	var order []spdxcommon.ElementID
	for j, pk := range doc.Packages {
		if pk == nil {
			continue
		}
		in := &pkgInfo{pk: pk, field: fmt.Sprintf("packages[%d] (%s)", j, truncate(string(pk.PackageSPDXIdentifier), 80))}
		in.name = strings.TrimSpace(pk.PackageName)
		if in.name == "" {
			in.name = legacy["SPDXRef-"+string(pk.PackageSPDXIdentifier)]
		}
		if in.name == "" {
			in.name = strings.TrimPrefix(string(pk.PackageSPDXIdentifier), "SPDXRef-")
		}
		for _, r := range pk.PackageExternalReferences {
			if r != nil && r.RefType == spdxcommon.TypePackageManagerPURL {
				in.purls = append(in.purls, r.Locator)
			}
		}
		if len(in.purls) == 0 {
			in.purls = append(in.purls, asmhelpers.GuacPkgPurl(in.name, &pk.PackageVersion))
		}
		for _, pu := range in.purls {
			if _, err := p.x.canon(pu); err != nil {
				return p.fail(in.field+".externalRefs", "%v", err)
			}
		}
		if _, dup := infos[pk.PackageSPDXIdentifier]; !dup {
			order = append(order, pk.PackageSPDXIdentifier)
		}
		infos[pk.PackageSPDXIdentifier] = in
	}

	// The top level first, so the described node absorbs its package.
	var top guacTop
	for _, r := range doc.Relationships {
		if r == nil || r.RefA.ElementRefID == r.RefB.ElementRefID {
			continue
		}
		var id spdxcommon.ElementID
		switch {
		case r.RefA.ElementRefID == "DOCUMENT" && r.Relationship == spdxcommon.TypeRelationshipDescribe:
			id = r.RefB.ElementRefID
		case r.RefB.ElementRefID == "DOCUMENT" && r.Relationship == spdxcommon.TypeRelationshipDescribeBy:
			id = r.RefA.ElementRefID
		default:
			continue
		}
		if in, ok := infos[id]; ok {
			c, _ := canonPurl(in.purls[0])
			if !slices.Contains(top.pkgs, c.canon) {
				top.pkgs = append(top.pkgs, c.canon)
			}
		}
	}
	heuristic := ""
	if len(top.pkgs) == 0 {
		// GUAC's heuristic: the document itself, as a package that depends
		// on every package.
		heuristic = "pkg:guac/spdx/" + asmhelpers.SanitizeString(doc.DocumentName)
		c, err := canonPurl(heuristic)
		if err != nil {
			return p.fail("name", "%v", err)
		}
		top.pkgs = []string{c.canon}
	}
	if err := p.bindTop(top, graph.KindPackage); err != nil {
		return err
	}

	byID := make(map[spdxcommon.ElementID]int, len(infos))
	for _, id := range order {
		in := infos[id]
		i := -1
		for _, pu := range in.purls {
			n, err := x.pkg(pu)
			if err != nil {
				return p.fail(in.field+".externalRefs", "%v", err)
			}
			if i < 0 {
				i = n
			}
		}
		byID[id] = i
		if x.b.Nodes[i].Kind == graph.KindPackage {
			x.b.Set(i, "name", in.name)
		}
		for _, c := range in.pk.PackageChecksums {
			if err := x.digest(i, string(c.Algorithm), c.Value); err != nil {
				return p.fail(in.field+".checksums", "%v", err)
			}
		}
		for _, r := range in.pk.PackageExternalReferences {
			if r != nil && strings.EqualFold(strings.ReplaceAll(r.Category, "_", "-"), "SECURITY") {
				x.claim(i, "cpe", r.Locator)
			}
		}
		x.claim(i, "license", in.pk.PackageLicenseDeclared)
		x.claim(i, "licenseConcluded", in.pk.PackageLicenseConcluded)
	}
	if heuristic != "" {
		t, err := x.pkg(heuristic)
		if err != nil {
			return p.fail("name", "%v", err)
		}
		for _, id := range order {
			x.dependsOn(t, byID[id])
		}
	}
	for _, r := range doc.Relationships {
		if r == nil {
			continue
		}
		a, b := r.RefA.ElementRefID, r.RefB.ElementRefID
		switch r.Relationship {
		case spdxcommon.TypeRelationshipContains, spdxcommon.TypeRelationshipDependsOn, spdxcommon.TypeRelationshipGeneratedFrom:
		case spdxcommon.TypeRelationshipContainedBy, spdxcommon.TypeRelationshipDependencyOf,
			spdxcommon.TypeRelationshipGenerates, spdxcommon.TypeRelationshipPackageOf:
			a, b = b, a
		default:
			continue
		}
		from, ok1 := byID[a]
		to, ok2 := byID[b]
		if ok1 && ok2 {
			x.dependsOn(from, to)
		}
	}
	return nil
}

// legacyNames reads the "packageName" field of SPDX 2.1-era JSON, which
// tools-golang ignores.
func legacyNames(raw []byte) (map[string]string, error) {
	if !bytes.Contains(raw, []byte(`"packageName"`)) {
		return nil, nil
	}
	var d struct {
		Packages []struct {
			ID   string `json:"SPDXID"`
			Name string `json:"packageName"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	m := make(map[string]string, len(d.Packages))
	for _, pk := range d.Packages {
		if pk.Name != "" {
			m[pk.ID] = pk.Name
		}
	}
	return m, nil
}
