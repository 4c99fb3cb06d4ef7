package sbom

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/guacsec/guac/pkg/assembler"
	"github.com/guacsec/guac/pkg/handler/processor"
	guaccdx "github.com/guacsec/guac/pkg/ingestor/parser/cyclonedx"

	"github.com/modelgraph/modelgraph/graph"
)

// canonBatch renders a batch order-independently: nodes by kind and
// sorted keys with their attributes, edges between those renderings with
// theirs. The document node's parser and guacError attributes say which
// path ran and are left out.
func canonBatch(b *graph.Batch) (nodes, edges []string) {
	name := make([]string, len(b.Nodes))
	for i, n := range b.Nodes {
		keys := slices.Clone(n.Keys)
		slices.Sort(keys)
		name[i] = string(n.Kind) + "{" + strings.Join(keys, " ") + "}"
	}
	attrs := func(m map[string]string, doc bool) string {
		var kv []string
		for k, v := range m {
			if doc && (k == "parser" || k == "guacError") {
				continue
			}
			kv = append(kv, k+"="+v)
		}
		slices.Sort(kv)
		return strings.Join(kv, ", ")
	}
	for i, n := range b.Nodes {
		nodes = append(nodes, name[i]+" ["+attrs(n.Attrs, i == graph.DocNode)+"]")
	}
	for _, e := range b.Edges {
		edges = append(edges, fmt.Sprintf("%s -%s-> %s [%s]", name[e.From], e.Kind, name[e.To], attrs(e.Attrs, false)))
	}
	slices.Sort(nodes)
	slices.Sort(edges)
	return nodes, edges
}

func init() {
	// The old path: GUAC's own CycloneDX parser over the bytes.
	guacCDX = func(ctx context.Context, p *parser) (*assembler.IngestPredicates, error) {
		return p.runGUAC(ctx, guaccdx.NewCycloneDXParser(), processor.DocumentCycloneDX)
	}
}

func parseMode(t *testing.T, mode int, data []byte, opts Options) (*graph.Batch, error) {
	t.Helper()
	cdxMode = mode
	defer func() { cdxMode = cdxAuto }()
	return Parse(t.Context(), data, graph.Document{Source: "golden"}, opts)
}

// diff lists what is only in a and only in b.
func diff(a, b []string) (onlyA, onlyB []string) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || i < len(a) && a[i] < b[j]:
			onlyA = append(onlyA, a[i])
			i++
		case i >= len(a) || b[j] < a[i]:
			onlyB = append(onlyB, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return
}

// TestDirectMatchesGUAC: for every CycloneDX SBOM in testdata (bare and
// with a subject and role), GUAC's CycloneDX semantics computed from the
// cyclonedx-go BOM (cdxPredicates) give the batch GUAC's own parser gave:
// the same nodes with the same keys and attributes, the same edges with
// theirs, and the same documents refused.
func TestDirectMatchesGUAC(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/sbom/*")
	signed, _ := filepath.Glob("../../testdata/sbom/signed/*")
	files = append(files, signed...)
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil || len(data) == 0 {
			continue
		}
		if typ, ok := Detect(data); !ok || !strings.HasPrefix(typ, "cyclonedx") {
			continue
		}
		for _, opts := range []Options{{}, {Subject: "sha256:" + strings.Repeat("ab", 32), Role: RoleServingImage}} {
			name := filepath.Base(f)
			if opts.Subject != "" {
				name += "+subject"
			}
			t.Run(name, func(t *testing.T) {
				gb, gerr := parseMode(t, cdxForceGUAC, data, opts)
				db, derr := parseMode(t, cdxAuto, data, opts)
				if (gerr == nil) != (derr == nil) {
					t.Fatalf("GUAC path: %v; direct: %v", gerr, derr)
				}
				if gerr != nil {
					return
				}
				n++
				gn, ge := canonBatch(gb)
				dn, de := canonBatch(db)
				og, od := diff(gn, dn)
				oge, ode := diff(ge, de)
				if len(og)+len(od)+len(oge)+len(ode) > 0 {
					t.Errorf("parser %s: %d/%d nodes and %d/%d edges differ (GUAC/direct)\nonly GUAC path:\n  %s\nonly direct:\n  %s\nedges only GUAC path:\n  %s\nedges only direct:\n  %s",
						gb.Nodes[graph.DocNode].Attrs["parser"], len(og), len(od), len(oge), len(ode),
						strings.Join(head(og), "\n  "), strings.Join(head(od), "\n  "), strings.Join(head(oge), "\n  "), strings.Join(head(ode), "\n  "))
				}
			})
		}
	}
	if n < 10 {
		t.Errorf("compared %d CycloneDX documents, want the testdata's", n)
	}
}

func head(s []string) []string {
	if len(s) > 8 {
		return append(s[:8:8], fmt.Sprintf("… %d more", len(s)-8))
	}
	return s
}

// TestBOMDecoderMatchesStdlib: the JSON decoder decodeCDX uses
// (go-json-experiment's encoding/json emulation) gives the BOM
// cyclonedx-go's own decoder (encoding/json) gives, for every CycloneDX
// JSON document in testdata, and refuses the same ones.
func TestBOMDecoderMatchesStdlib(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/sbom/*.json")
	n, sized := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := sniff(data)
		if s.kind != kindCycloneDX || s.xml {
			continue
		}
		if s.components > 0 {
			sized++
		}
		var want, got cdx.BOM
		werr := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&want)
		gerr := decodeCDXJSON(data, s, &got)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%s: encoding/json: %v; decodeCDX's decoder: %v", f, werr, gerr)
			continue
		}
		if werr == nil && !reflect.DeepEqual(want, got) {
			t.Errorf("%s: the decoded BOMs differ", f)
		}
		n++
	}
	if n < 10 || sized < 5 {
		t.Errorf("compared %d documents, %d with the components slice sized from the scan", n, sized)
	}
}
