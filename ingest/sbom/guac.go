package sbom

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/guacsec/guac/pkg/assembler"
	model "github.com/guacsec/guac/pkg/assembler/clients/generated"
	"github.com/guacsec/guac/pkg/handler/processor"
	"github.com/guacsec/guac/pkg/ingestor/parser/common"
	"github.com/guacsec/guac/pkg/logging"
	"go.uber.org/zap"

	"github.com/modelgraph/modelgraph/graph"
)

// runGUAC parses the document with one of GUAC's per-format parsers and
// returns its predicates. GUAC parsers panic on some inputs (a BOM with
// dependencies but no metadata.component); a panic is returned as an error.
func (p *parser) runGUAC(ctx context.Context, dp common.DocumentParser, typ processor.DocumentType) (preds *assembler.IngestPredicates, err error) {
	defer func() {
		if r := recover(); r != nil {
			preds, err = nil, fmt.Errorf("GUAC %s parser panicked: %v", typ, r)
		}
	}()
	nop := zap.NewNop().Sugar()
	ctx = context.WithValue(ctx, logging.ChildLoggerKey, nop)
	format := processor.FormatJSON
	if p.sniffed.xml {
		format = processor.FormatXML
	}
	d := &processor.Document{
		Blob:     p.raw,
		Type:     typ,
		Format:   format,
		Encoding: processor.EncodingUnknown,
		SourceInformation: processor.SourceInformation{
			Collector:   "modelgraph",
			Source:      p.doc.Source,
			DocumentRef: p.doc.Digest,
		},
		ChildLogger: nop,
	}
	if err := dp.Parse(ctx, d); err != nil {
		return nil, err
	}
	preds = dp.GetPredicates(ctx)
	if preds == nil {
		return nil, fmt.Errorf("GUAC %s parser returned no predicates", typ)
	}
	return preds, nil
}

// guacTop is what GUAC's HasSBOM predicates say the document describes.
type guacTop struct {
	pkgs    []string // canonical purls
	digests []string // digest keys
}

// topOf collects GUAC's top-level subjects: HasSBOM packages and
// artifacts, plus the packages GUAC says occur as those artifacts (GUAC's
// top-level container package).
func topOf(p *assembler.IngestPredicates) (guacTop, error) {
	var t guacTop
	for _, h := range p.HasSBOM {
		if h.Artifact != nil {
			k, err := graph.DigestKey(h.Artifact.Algorithm, h.Artifact.Digest)
			if err != nil {
				return t, fmt.Errorf("top-level artifact: %w", err)
			}
			if !slices.Contains(t.digests, k) {
				t.digests = append(t.digests, k)
			}
		}
		if h.Pkg != nil {
			if c, err := canonPurl(pkgPurl(h.Pkg)); err == nil && !slices.Contains(t.pkgs, c.canon) {
				t.pkgs = append(t.pkgs, c.canon)
			}
		}
	}
	if len(t.digests) == 0 {
		// No top-level artifact: no occurrence can name one (the usual
		// case; spares a digest key per component hash).
		return t, nil
	}
	for _, o := range p.IsOccurrence {
		if o.Artifact == nil || o.Pkg == nil {
			continue
		}
		k, err := graph.DigestKey(o.Artifact.Algorithm, o.Artifact.Digest)
		if err != nil || !slices.Contains(t.digests, k) {
			continue
		}
		if c, err := canonPurl(pkgPurl(o.Pkg)); err == nil && !slices.Contains(t.pkgs, c.canon) {
			t.pkgs = append(t.pkgs, c.canon)
		}
	}
	return t, nil
}

// bindTop links GUAC's top level to the described node(s). With exactly one
// described node and one GUAC top-level thing they are the same; with an
// explicit subject and several GUAC top-level packages (an SPDX document
// describing several packages), the subject depends on each; with no
// subject, each GUAC top-level thing is described.
func (p *parser) bindTop(t guacTop, kind graph.NodeKind) error {
	x := p.x
	single := len(t.digests) <= 1 && len(t.pkgs) <= 1
	if len(x.subjects) == 1 && single {
		s := x.subjects[0]
		for _, d := range t.digests {
			x.addKey(s, d)
		}
		for _, pu := range t.pkgs {
			x.route(pu, s)
			if x.b.Nodes[s].Kind == graph.KindPackage && !strings.HasPrefix(pu, "pkg:guac/") {
				if c, err := canonPurl(pu); err == nil {
					x.addKey(s, c.plain)
					x.addKey(s, c.canon)
				}
			}
		}
		return nil
	}
	var tops []int
	if len(t.digests) > 0 {
		for _, d := range t.digests {
			tops = append(tops, x.node(kind, d))
		}
		if len(t.digests) == 1 {
			for _, pu := range t.pkgs {
				x.route(pu, tops[0])
			}
		}
	} else {
		for _, pu := range t.pkgs {
			i, err := x.pkg(pu)
			if err != nil {
				return p.fail("top-level package", "%v", err)
			}
			tops = append(tops, i)
		}
	}
	if len(x.subjects) == 0 {
		for _, i := range tops {
			x.describe(i)
		}
		return nil
	}
	for _, s := range x.subjects {
		for _, i := range tops {
			x.dependsOn(s, i)
		}
	}
	return nil
}

func pkgPurl(s *model.PkgInputSpec) string {
	return assemblerPurl(s)
}

// translate turns one document's GUAC predicates into batch mutations.
// Predicates are never merged across documents: GUAC's HasSBOM "includes"
// is everything in its IngestPredicates, so merging would make every SBOM
// include every other one's packages.
func (p *parser) translate(preds *assembler.IngestPredicates) error {
	x := p.x
	type depKey struct{ from, to int }
	deps := make(map[depKey]model.DependencyType, len(preds.IsDependency))
	order := make([]depKey, 0, len(preds.IsDependency))
	for i, d := range preds.IsDependency {
		from, err := x.pkgSpec(d.Pkg)
		if err != nil {
			return p.fail(fmt.Sprintf("dependency[%d]", i), "%v", err)
		}
		to, err := x.pkgSpec(d.DepPkg)
		if err != nil {
			return p.fail(fmt.Sprintf("dependency[%d]", i), "%v", err)
		}
		if from < 0 || to < 0 {
			continue
		}
		k := depKey{from, to}
		t := model.DependencyTypeUnknown
		if d.IsDependency != nil {
			t = d.IsDependency.DependencyType
		}
		prev, seen := deps[k]
		if !seen {
			order = append(order, k)
		}
		if !seen || depRank(t) > depRank(prev) {
			deps[k] = t
		}
	}
	for _, k := range order {
		t := ""
		if deps[k] != model.DependencyTypeUnknown && deps[k] != "" {
			t = strings.ToLower(string(deps[k]))
		}
		x.dependsOn(k.from, k.to, "dependencyType", t)
	}

	// Occurrences in a stable order: when two packages claim one digest, the
	// first in purl order keeps it; each package's digests in digest order.
	// Grouped by node (a node's Keys[0], its purl here, is fixed), so the
	// sort compares purls once per package instead of once per hash: the
	// order of addKey calls for any one digest, and for any one node, is
	// the (purl, digest) order.
	type occGroup struct {
		node int
		purl string
	}
	type occ struct {
		group  int
		digest string
	}
	var groups []occGroup
	occs := make([]occ, 0, len(preds.IsOccurrence)) // one slice, not one per package
	groupOf := map[int]int{}
	for i, o := range preds.IsOccurrence {
		if o.Artifact == nil || o.Pkg == nil {
			continue
		}
		n, err := x.pkgSpec(o.Pkg)
		if err != nil {
			return p.fail(fmt.Sprintf("occurrence[%d]", i), "%v", err)
		}
		k, err := graph.DigestKey(o.Artifact.Algorithm, o.Artifact.Digest)
		if err != nil {
			return p.fail(fmt.Sprintf("hash of %s", assemblerPurl(o.Pkg)), "%v", err)
		}
		g := len(groups) - 1
		if g < 0 || groups[g].node != n {
			var ok bool
			if g, ok = groupOf[n]; !ok {
				g = len(groups)
				groupOf[n] = g
				groups = append(groups, occGroup{node: n, purl: x.b.Nodes[n].Keys[0]})
			}
		}
		occs = append(occs, occ{g, k})
	}
	// Packages in (purl, node) order, then each occurrence by its
	// package's rank and its digest.
	byPurl := make([]int, len(groups))
	for g := range byPurl {
		byPurl[g] = g
	}
	slices.SortFunc(byPurl, func(a, b int) int {
		if c := strings.Compare(groups[a].purl, groups[b].purl); c != 0 {
			return c
		}
		return groups[a].node - groups[b].node
	})
	rank := make([]int, len(groups))
	for r, g := range byPurl {
		rank[g] = r
	}
	slices.SortFunc(occs, func(a, b occ) int {
		if a.group != b.group {
			return rank[a.group] - rank[b.group]
		}
		return strings.Compare(a.digest, b.digest)
	})
	for _, o := range occs {
		x.addKey(groups[o.group].node, o.digest)
	}

	for i, c := range preds.CertifyVuln {
		if c.Vulnerability == nil || c.Pkg == nil || strings.EqualFold(c.Vulnerability.Type, "novuln") {
			continue
		}
		n, err := x.pkgSpec(c.Pkg)
		if err != nil {
			return p.fail(fmt.Sprintf("certifyVuln[%d]", i), "%v", err)
		}
		x.affects(x.vuln(c.Vulnerability.VulnerabilityID), n, vexStatus{status: "affected"})
	}
	for i, v := range preds.Vex {
		if v.Vulnerability == nil || v.VexData == nil {
			continue
		}
		var n int
		switch {
		case v.Pkg != nil:
			var err error
			if n, err = x.pkgSpec(v.Pkg); err != nil {
				return p.fail(fmt.Sprintf("vex[%d]", i), "%v", err)
			}
		case v.Artifact != nil:
			k, err := graph.DigestKey(v.Artifact.Algorithm, v.Artifact.Digest)
			if err != nil {
				return p.fail(fmt.Sprintf("vex[%d].artifact", i), "%v", err)
			}
			n = x.node(graph.KindFile, k)
			if o, ok := x.digests[k]; ok {
				n = o
			}
		default:
			continue
		}
		x.affects(x.vuln(v.Vulnerability.VulnerabilityID), n, vexStatus{
			status:        strings.ToLower(string(v.VexData.Status)),
			justification: justification(v.VexData.VexJustification),
			statement:     v.VexData.Statement,
			notes:         v.VexData.StatusNotes,
			origin:        v.VexData.Origin,
		})
	}
	for _, m := range preds.VulnMetadata {
		if m.Vulnerability == nil || m.VulnMetadata == nil {
			continue
		}
		x.claim(x.vuln(m.Vulnerability.VulnerabilityID), "score."+string(m.VulnMetadata.ScoreType),
			fmt.Sprintf("%g", m.VulnMetadata.ScoreValue))
	}
	for i, l := range preds.CertifyLegal {
		if l.Pkg == nil || l.CertifyLegal == nil {
			continue
		}
		n, err := x.pkgSpec(l.Pkg)
		if err != nil {
			return p.fail(fmt.Sprintf("certifyLegal[%d]", i), "%v", err)
		}
		x.claim(n, "license", l.CertifyLegal.DeclaredLicense)
		x.claim(n, "licenseConcluded", l.CertifyLegal.DiscoveredLicense)
	}
	for i, m := range preds.HasMetadata {
		if m.Pkg == nil || m.HasMetadata == nil {
			continue
		}
		n, err := x.pkgSpec(m.Pkg)
		if err != nil {
			return p.fail(fmt.Sprintf("hasMetadata[%d]", i), "%v", err)
		}
		x.claim(n, m.HasMetadata.Key, m.HasMetadata.Value)
	}
	return nil
}

func depRank(t model.DependencyType) int {
	switch t {
	case model.DependencyTypeDirect:
		return 2
	case model.DependencyTypeIndirect:
		return 1
	}
	return 0
}

func justification(j model.VexJustification) string {
	if j == "" || j == model.VexJustificationNotProvided {
		return ""
	}
	return strings.ToLower(string(j))
}
