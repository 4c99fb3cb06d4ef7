package sbom

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/guacsec/guac/pkg/assembler"
	"github.com/guacsec/guac/pkg/handler/processor"
	guacspdx "github.com/guacsec/guac/pkg/ingestor/parser/spdx"
	"github.com/spdx/tools-golang/spdx"

	"github.com/modelgraph/modelgraph/graph"
)

// guacOwnSPDX is the old path: GUAC's own SPDX parser, decoding the bytes.
func guacOwnSPDX(ctx context.Context, p *parser, _ *spdx.Document) (*assembler.IngestPredicates, error) {
	return p.runGUAC(ctx, guacspdx.NewSpdxParser(), processor.DocumentSPDX)
}

func spdxFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, g := range []string{"../../testdata/sbom/*", "../../testdata/sbom/signed/*", "testdata/*"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	if extra := os.Getenv("MG_BATCH_EXTRA"); extra != "" {
		m, _ := filepath.Glob(extra)
		files = append(files, m...)
	}
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if typ, ok := Detect(data); ok && typ == "spdx" {
			out = append(out, f)
		}
	}
	return out
}

// TestSPDXPortMatchesGUAC: for every SPDX document in testdata (plain,
// compressed, signed; bare and with each subject/role), GUAC's SPDX parser
// ported to read the already decoded document (spdxPort) gives the batch
// GUAC's own parser gives — the same nodes with the same keys and
// attributes (the document node's parser/guacError included), the same
// edges, the same documents refused with the same error — and the same
// predicates, compared as sets.
func TestSPDXPortMatchesGUAC(t *testing.T) {
	files := spdxFiles(t)
	n := 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for _, opts := range []Options{{}, {Subject: "sha256:" + strings.Repeat("ab", 32), Role: RoleServingImage}, {Subject: "sha256:" + strings.Repeat("cd", 32), Role: RoleTrainingEnvironment}} {
			t.Run(filepath.Base(f)+"+"+opts.Role, func(t *testing.T) {
				var oldPreds, newPreds *assembler.IngestPredicates
				parseWith := func(fn func(context.Context, *parser, *spdx.Document) (*assembler.IngestPredicates, error), into **assembler.IngestPredicates) (*graph.Batch, error) {
					guacSPDX = func(ctx context.Context, p *parser, d *spdx.Document) (*assembler.IngestPredicates, error) {
						pr, err := fn(ctx, p, d)
						*into = pr
						return pr, err
					}
					defer func() { guacSPDX = spdxPortParse }()
					return Parse(t.Context(), data, graph.Document{Source: "golden"}, opts)
				}
				ob, oerr := parseWith(guacOwnSPDX, &oldPreds)
				nb, nerr := parseWith(spdxPortParse, &newPreds)
				if (oerr == nil) != (nerr == nil) || (oerr != nil && oerr.Error() != nerr.Error()) {
					t.Fatalf("GUAC's parser: %v; the port: %v", oerr, nerr)
				}
				if oerr != nil {
					return
				}
				n++
				if o, g := renderBatch(ob), renderBatch(nb); o != g {
					on, _ := canonBatch(ob)
					gn, _ := canonBatch(nb)
					a, b := diff(on, gn)
					t.Errorf("batches differ\nonly GUAC's parser:\n  %s\nonly the port:\n  %s", strings.Join(head(a), "\n  "), strings.Join(head(b), "\n  "))
				}
				if (oldPreds == nil) != (newPreds == nil) {
					t.Fatalf("predicates: GUAC's parser %v, the port %v", oldPreds != nil, newPreds != nil)
				}
				if oldPreds != nil && !samePreds(oldPreds, newPreds) {
					t.Errorf("predicates differ")
				}
			})
		}
	}
	if n < 12 {
		t.Errorf("compared %d SPDX batches, want the testdata's", n)
	}
}

// samePreds compares two IngestPredicates with every list taken as a
// multiset: GUAC ranges over maps (its PurlToPkg even orders qualifiers by
// map iteration), so orders vary from run to run of GUAC's own parser.
// HasMetadata's timestamp is the clock's (time.Now in GUAC's parser) and
// is left out.
func samePreds(a, b *assembler.IngestPredicates) bool {
	return canonJSON(a) == canonJSON(b)
}

func canonJSON(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var g any
	if err := json.Unmarshal(raw, &g); err != nil {
		panic(err)
	}
	var norm func(any) any
	norm = func(x any) any {
		switch t := x.(type) {
		case []any:
			ss := make([]string, len(t))
			for i, e := range t {
				b, _ := json.Marshal(norm(e))
				ss[i] = string(b)
			}
			slices.Sort(ss)
			out := make([]any, len(ss))
			for i, s := range ss {
				out[i] = json.RawMessage(s)
			}
			return out
		case map[string]any:
			if _, ok := t["justification"]; ok {
				delete(t, "timestamp") // HasMetadata's, the clock's
			}
			for k, e := range t {
				t[k] = norm(e)
			}
			return t
		}
		return x
	}
	b, _ := json.Marshal(norm(g))
	return string(b)
}
