package aibom

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/modelgraph/modelgraph/graph"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/aibom")

const goldenDir = "../testdata/aibom"

func ctx() context.Context { return context.Background() }

func export(t testing.TB, r graph.Reader, req Request) *cdx.BOM {
	t.Helper()
	if req.ToolVersion == "" {
		req.ToolVersion = "0.0.0-test"
	}
	bom, err := Export(ctx(), r, req)
	if err != nil {
		t.Fatalf("export %+v: %v", req, err)
	}
	return bom
}

func encode(t testing.TB, bom *cdx.BOM, f Format, s Spec) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, bom, f, s); err != nil {
		t.Fatalf("encode %s %s: %v", f, s, err)
	}
	return buf.Bytes()
}

// validate checks data against the official schema of its format.
func validate(t testing.TB, f Format, s Spec, data []byte) {
	t.Helper()
	if f == FormatXML {
		validateXML(t, s, data)
		return
	}
	validateJSON(t, s, data)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./aibom -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the export (run go test ./aibom -update and review the diff):\n%s", name, firstDiff(want, got))
	}
}

func firstDiff(want, got []byte) string {
	wl, gl := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + string(w) + "\n  got:  " + string(g)
		}
	}
	return "(no line differs)"
}

// TestGolden exports the fixture as a model, a deployment and an
// environment, in JSON and XML for 1.6 and 1.7, validates each against the
// official schema and compares it byte for byte with testdata/aibom.
func TestGolden(t *testing.T) {
	f := newFixture(t)
	subjects := []struct {
		name string
		req  Request
	}{
		{"model-instruct-q4", Request{Model: f.q4}},
		{"model-instruct", Request{Model: f.instruct}},
		{"deployment-prod", Request{Deployment: f.prod}},
		{"environment-staging", Request{Environment: "staging"}},
	}
	variants := []struct {
		format Format
		spec   Spec
		ext    string
	}{
		{FormatJSON, Spec1_6, ".cdx.json"},
		{FormatXML, Spec1_6, ".cdx.xml"},
		{FormatJSON, Spec1_7, ".1.7.cdx.json"},
		{FormatXML, Spec1_7, ".1.7.cdx.xml"},
	}
	for _, s := range subjects {
		bom := export(t, f.store, s.req)
		for _, v := range variants {
			t.Run(s.name+v.ext, func(t *testing.T) {
				data := encode(t, bom, v.format, v.spec)
				validate(t, v.format, v.spec, data)
				golden(t, s.name+v.ext, data)
			})
		}
	}
}

// TestDeterministic: two exports of one graph, and an export after
// reopening the store, give the same bytes; so does an export of the same
// documents applied to a fresh store.
func TestDeterministic(t *testing.T) {
	f := newFixture(t)
	for _, req := range []Request{{Model: f.q4}, {Deployment: f.prod}, {Environment: "production"}} {
		first := encode(t, export(t, f.store, req), FormatJSON, Spec1_6)
		again := encode(t, export(t, f.store, req), FormatJSON, Spec1_6)
		if !bytes.Equal(first, again) {
			t.Fatalf("%+v: two exports differ:\n%s", req, firstDiff(first, again))
		}
		firstXML := encode(t, export(t, f.store, req), FormatXML, Spec1_6)
		f.reopen(t)
		reopened := encode(t, export(t, f.store, req), FormatJSON, Spec1_6)
		if !bytes.Equal(first, reopened) {
			t.Fatalf("%+v: export after reopening differs:\n%s", req, firstDiff(first, reopened))
		}
		if x := encode(t, export(t, f.store, req), FormatXML, Spec1_6); !bytes.Equal(firstXML, x) {
			t.Fatalf("%+v: XML export after reopening differs:\n%s", req, firstDiff(firstXML, x))
		}
		other := newFixture(t)
		fresh := encode(t, export(t, other.store, req), FormatJSON, Spec1_6)
		if !bytes.Equal(first, fresh) {
			t.Fatalf("%+v: export from a fresh store differs:\n%s", req, firstDiff(first, fresh))
		}
	}
}

// TestParallelDeterministic: reading and building in parallel gives the
// bytes a single goroutine gives.
func TestParallelDeterministic(t *testing.T) {
	s, model := benchGraph(t, 500)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(1)
	one := encode(t, export(t, s, Request{Model: model}), FormatJSON, Spec1_6)
	runtime.GOMAXPROCS(4)
	many := encode(t, export(t, s, Request{Model: model}), FormatJSON, Spec1_6)
	if !bytes.Equal(one, many) {
		t.Fatalf("parallel export differs:\n%s", firstDiff(one, many))
	}
	validateJSON(t, Spec1_6, many)
	ix := indexBOM(t, decode(t, many, FormatJSON))
	if n := len(*ix.bom.Components); n < 500 {
		t.Fatalf("%d components, want the 500 packages and more", n)
	}
}
