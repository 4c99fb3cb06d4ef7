package sbom

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/guacsec/guac/pkg/handler/processor"
	"github.com/guacsec/guac/pkg/ingestor/parser/common"
	guaccsaf "github.com/guacsec/guac/pkg/ingestor/parser/csaf"
	guacvex "github.com/guacsec/guac/pkg/ingestor/parser/open_vex"
	"github.com/openvex/go-vex/pkg/csaf"
	"github.com/openvex/go-vex/pkg/vex"

	"github.com/modelgraph/modelgraph/graph"
)

// vex reads OpenVEX and CSAF documents through GUAC. The checks before it
// turn GUAC's failures (nil timestamps dereferenced, statements silently
// skipped) into errors that name the field.
func (p *parser) vex(ctx context.Context, subjects []subject) error {
	var dp common.DocumentParser
	var typ processor.DocumentType
	switch p.sniffed.kind {
	case kindOpenVEX:
		if err := p.checkOpenVEX(); err != nil {
			return err
		}
		dp, typ = guacvex.NewOpenVEXParser(), processor.DocumentOpenVEX
	default:
		if err := p.checkCSAF(); err != nil {
			return err
		}
		dp, typ = guaccsaf.NewCsafParser(), processor.DocumentCsaf
	}
	p.x = newBuilder(p.doc, p.role)
	for _, s := range subjects {
		i := p.x.node(graph.KindPackage, s.keys...)
		p.x.b.Set(i, "name", s.name)
		p.x.describe(i)
	}
	preds, err := p.runGUAC(ctx, dp, typ)
	if err != nil {
		return p.fail("", "%v", err)
	}
	if err := p.translate(preds); err != nil {
		return err
	}
	p.x.b.Set(graph.DocNode, "parser", "guac")
	p.x.flush()
	return nil
}

func (p *parser) checkOpenVEX() error {
	var d vex.VEX
	if err := json.Unmarshal(p.raw, &d); err != nil {
		return p.fail("", "OpenVEX JSON: %v", err)
	}
	if d.Timestamp == nil {
		return p.fail("timestamp", "missing")
	}
	if len(d.Statements) == 0 {
		return p.fail("statements", "empty")
	}
	if len(d.Statements) > maxVulnerabilities {
		return p.tooLarge("statements", len(d.Statements), maxVulnerabilities)
	}
	for i, s := range d.Statements {
		f := fmt.Sprintf("statements[%d]", i)
		if s.Vulnerability.Name == "" {
			return p.fail(f+".vulnerability.name", "empty")
		}
		switch s.Status {
		case vex.StatusAffected, vex.StatusNotAffected, vex.StatusFixed, vex.StatusUnderInvestigation:
		default:
			return p.fail(f+".status", "%q is not affected|not_affected|fixed|under_investigation", truncate(string(s.Status), 40))
		}
		if len(s.Products) == 0 {
			return p.fail(f+".products", "empty")
		}
		for j, pr := range s.Products {
			if _, err := canonPurl(pr.ID); err != nil {
				return p.fail(fmt.Sprintf("%s.products[%d].@id", f, j), "%v (GUAC identifies products by purl)", err)
			}
		}
	}
	return nil
}

func (p *parser) checkCSAF() error {
	var d csaf.CSAF
	if err := json.Unmarshal(p.raw, &d); err != nil {
		return p.fail("", "CSAF JSON: %v", err)
	}
	if d.Document.Tracking.ID == "" {
		return p.fail("document.tracking.id", "empty")
	}
	if len(d.Vulnerabilities) > maxVulnerabilities {
		return p.tooLarge("vulnerabilities", len(d.Vulnerabilities), maxVulnerabilities)
	}
	for i, v := range d.Vulnerabilities {
		if v.CVE == "" {
			return p.fail(fmt.Sprintf("vulnerabilities[%d].cve", i), "empty (GUAC reads CVE-identified vulnerabilities)")
		}
	}
	return nil
}
