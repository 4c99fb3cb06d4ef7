package advisory_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/advisory"
	"github.com/modelgraph/modelgraph/ingest/docerr"
)

const (
	dsKey = "name:acme/clinical-notes@v3"
	mKey  = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
)

// The same advisory spelt differently, naming the same nodes in another
// order and twice, is byte for byte the same document.
func TestBuildIsCanonical(t *testing.T) {
	a, err := advisory.Build(advisory.Input{ID: "ACME-1", Severity: "high", Summary: "PHI", Affects: []string{"x", "y"}, References: []string{"https://b", "https://a"}},
		[]advisory.Target{{Kind: graph.KindModel, Key: mKey}, {Kind: graph.KindDataset, Key: dsKey}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := advisory.Build(advisory.Input{ID: " ACME-1 ", Severity: "HIGH", Status: "Active", Summary: "PHI ", Affects: []string{"y", "x", "x"}, References: []string{"https://a", "https://b", "https://a"}},
		[]advisory.Target{{Kind: graph.KindDataset, Key: dsKey}, {Kind: graph.KindModel, Key: mKey}, {Kind: graph.KindDataset, Key: dsKey}})
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Fatalf("two spellings of one advisory:\n%s\n%s", a, b)
	}
	want := `{"advisoryFormat":"https://modelgraph.dev/advisory/v1","id":"ACME-1","severity":"high","status":"active","summary":"PHI",` +
		`"affects":[{"kind":"Dataset","key":"name:acme/clinical-notes@v3"},{"kind":"Model","key":"` + mKey + `"}],"references":["https://a","https://b"]}`
	if string(a) != want {
		t.Errorf("document =\n%s\nwant\n%s", a, want)
	}
}

func open(t *testing.T) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// An advisory document goes through the pipeline like any document: detected,
// recorded as an unsigned "advisory" document with the advisory role, the
// same document again is a duplicate, and a withdrawal is a new document.
func TestThroughPipeline(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	p := &ingest.Pipeline{Store: s, Parser: ingest.NewParser(nil)}
	resolve := func(_ context.Context, ref string) ([]advisory.Target, error) {
		if ref == "chat-sft" {
			return []advisory.Target{{Kind: graph.KindDataset, Key: dsKey}}, nil
		}
		return nil, fmt.Errorf("reference %q: %w", ref, graph.ErrNotFound)
	}
	doc, err := advisory.FromInput(ctx, advisory.Input{ID: "ACME-1", Severity: "critical", Affects: []string{"chat-sft"}}, resolve)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := ingest.Detect(doc, ""); err != nil || f != ingest.FormatAdvisory {
		t.Fatalf("Detect = %q, %v", f, err)
	}
	rs, err := p.Ingest(ctx, ingest.Input{Data: doc, Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Format != ingest.FormatAdvisory || r.Document.Type != advisory.DocType || r.Document.Role != graph.RoleAdvisory ||
		r.Receipt.Document != graph.SHA256Key(doc) || r.Receipt.Status != graph.StatusUnsigned || r.Receipt.Duplicate {
		t.Fatalf("result = %+v", r)
	}
	again, err := p.Ingest(ctx, ingest.Input{Data: doc, Source: "api again"})
	if err != nil || !again[0].Receipt.Duplicate {
		t.Fatalf("the same advisory again = %+v, %v; want a duplicate", again, err)
	}
	ns, err := s.Lookup(ctx, "advisory:ACME-1")
	if err != nil || len(ns) != 1 {
		t.Fatalf("advisory node = %v, %v", ns, err)
	}
	if ns[0].Attr("severity") != "critical" || ns[0].Attr("status") != "active" {
		t.Errorf("advisory attrs = %+v", ns[0].Attrs)
	}
	es, err := s.Edges(ctx, ns[0].ID, graph.Out, graph.Affects)
	if err != nil || len(es) != 1 || len(es[0].Docs) != 1 || es[0].Docs[0] != r.Receipt.Document {
		t.Fatalf("AFFECTS edges = %+v, %v", es, err)
	}
	ds, err := s.Node(ctx, es[0].To)
	if err != nil || ds.Kind != graph.KindDataset || ds.Keys[0] != dsKey {
		t.Fatalf("affected node = %+v, %v", ds, err)
	}
	withdrawn, err := advisory.FromInput(ctx, advisory.Input{ID: "ACME-1", Status: "withdrawn", Affects: []string{"chat-sft"}}, resolve)
	if err != nil {
		t.Fatal(err)
	}
	if rs, err := p.Ingest(ctx, ingest.Input{Data: withdrawn, Source: "api"}); err != nil || rs[0].Receipt.Duplicate {
		t.Fatalf("withdrawal = %+v, %v; want a new document", rs, err)
	}

	// A reference naming nothing stored is the caller's error, naming the field.
	_, err = advisory.FromInput(ctx, advisory.Input{ID: "ACME-2", Affects: []string{"chat-sft", "nothing"}}, resolve)
	if !errors.Is(err, advisory.ErrInvalid) || !errors.Is(err, graph.ErrNotFound) || !strings.Contains(err.Error(), "affects[1]") {
		t.Errorf("unknown reference: %v", err)
	}
}

// Anyone may push an advisory document, so Parse checks every field and
// names the one that is wrong.
func TestParseRefusesBadDocuments(t *testing.T) {
	ctx := context.Background()
	p := ingest.NewParser(nil)
	const head = `{"advisoryFormat":"https://modelgraph.dev/advisory/v1",`
	aff := `"affects":[{"kind":"Dataset","key":"` + dsKey + `"}]`
	for _, c := range []struct{ name, doc, field string }{
		{"no id", head + `"status":"active",` + aff + `}`, "/id"},
		{"id with space", head + `"id":"A 1",` + aff + `}`, "/id"},
		{"severity", head + `"id":"A-1","severity":"urgent",` + aff + `}`, "/severity"},
		{"status", head + `"id":"A-1","status":"gone",` + aff + `}`, "/status"},
		{"no affects", head + `"id":"A-1","affects":[]}`, "/affects"},
		{"kind", head + `"id":"A-1","affects":[{"kind":"Dataset","key":"` + dsKey + `"},{"kind":"Advisory","key":"advisory:x"}]}`, "/affects/1/kind"},
		{"key", head + `"id":"A-1","affects":[{"kind":"Model","key":"sha256:zz"}]}`, "/affects/0/key"},
		{"reference", head + `"id":"A-1",` + aff + `,"references":[" "]}`, "/references/0"},
		{"unknown field", head + `"id":"A-1","cvss":9,` + aff + `}`, ""},
		{"duplicate key", head + `"id":"A-1","id":"A-2",` + aff + `}`, "/id"},
	} {
		_, err := p.Parse(ctx, ingest.Input{Data: []byte(c.doc), Source: "push"})
		var de *docerr.Error
		if !errors.As(err, &de) || !ingest.IsBadInput(err) {
			t.Errorf("%s: error %v, want a document error", c.name, err)
			continue
		}
		if de.Field != c.field {
			t.Errorf("%s: field %q, want %q (%v)", c.name, de.Field, c.field, err)
		}
	}
	// The same document well-formed parses.
	if _, err := p.Parse(ctx, ingest.Input{Data: []byte(head + `"id":"A-1",` + aff + `}`), Source: "push"}); err != nil {
		t.Errorf("valid document: %v", err)
	}
}

// Input errors name the input's field.
func TestNormalizeNamesTheField(t *testing.T) {
	for _, c := range []struct {
		in    advisory.Input
		field string
	}{
		{advisory.Input{Affects: []string{"x"}}, "id"},
		{advisory.Input{ID: strings.Repeat("a", advisory.MaxIDLen+1), Affects: []string{"x"}}, "id"},
		{advisory.Input{ID: "A", Summary: strings.Repeat("s", advisory.MaxSummary+1), Affects: []string{"x"}}, "summary"},
		{advisory.Input{ID: "A"}, "affects"},
		{advisory.Input{ID: "A", Affects: []string{"x", " "}}, "affects[1]"},
		{advisory.Input{ID: "A", Affects: []string{"x"}, References: make([]string, advisory.MaxReferences+1)}, "references"},
	} {
		_, err := c.in.Normalize()
		var fe *advisory.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || !errors.Is(err, advisory.ErrInvalid) {
			t.Errorf("%+v: error %v, want field %s", c.in.ID, err, c.field)
		}
	}
}
