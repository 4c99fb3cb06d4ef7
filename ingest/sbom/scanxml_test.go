package sbom

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/modelgraph/modelgraph/graph"
)

func xmlDocs(t testing.TB) map[string][]byte {
	files, _ := filepath.Glob("../../testdata/sbom/*.xml")
	more, _ := filepath.Glob("testdata/*.xml")
	docs := map[string][]byte{}
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[filepath.Base(f)] = b
	}
	return docs
}

// xmlVariants are the testdata XML documents and damaged or unusual
// versions of them: truncated, with junk, a DOCTYPE, comments, CDATA,
// processing instructions, a prefixed root, another namespace, a second
// root, deep nesting, attributes holding '>' and entities.
func xmlVariants(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	for name, b := range xmlDocs(t) {
		out[name] = b
		out[name+"/truncated"] = b[:len(b)*2/3]
		out[name+"/trailing-text"] = append(bytes.Clone(b), "junk"...)
		out[name+"/trailing-comment"] = append(bytes.Clone(b), "\n<!-- after -->\n"...)
		out[name+"/trailing-element"] = append(bytes.Clone(b), "<component/>"...)
		out[name+"/doctype"] = []byte(strings.Replace(string(b), "<bom", "<!DOCTYPE bom>\n<bom", 1))
		out[name+"/comment-first"] = []byte(strings.Replace(string(b), "<bom", "<!-- a <bom> in a comment --><bom", 1))
		out[name+"/gt-attr"] = []byte(strings.Replace(string(b), "<component ", `<component x="a>b" `, 1))
		out[name+"/cdata"] = []byte(strings.Replace(string(b), "<components>", "<components><![CDATA[<component>]]>", 1))
		out[name+"/bad-entity"] = []byte(strings.Replace(string(b), "<components>", "<components>&nosuch;", 1))
		out[name+"/prefixed"] = []byte(strings.Replace(strings.Replace(string(b), "<bom", "<c:bom", 1), "</bom>", "</c:bom>", 1))
		out[name+"/other-ns"] = []byte(strings.Replace(string(b), "http://cyclonedx.org/schema/bom/", "http://example.org/", 1))
		out[name+"/mismatched"] = []byte(strings.Replace(string(b), "</components>", "</componentz>", 1))
		out[name+"/pi"] = []byte(strings.Replace(string(b), "<components>", "<components><?x y?>", 1))
		out[name+"/deep"] = []byte(strings.Replace(string(b), "<components>", "<components>"+strings.Repeat("<a>", maxNesting+2)+strings.Repeat("</a>", maxNesting+2), 1))
	}
	return out
}

// TestScanXMLMatchesSniffXML: wherever scanXML is sure, it says what
// sniffXML says or the CycloneDX decoder refuses the document (then Parse
// asks sniffXML); it is sure on every testdata XML BOM sniffXML accepts.
func TestScanXMLMatchesSniffXML(t *testing.T) {
	sure := 0
	for name, b := range xmlVariants(t) {
		checkScanXML(t, name, b)
		if _, ok := scanXML(b); ok {
			sure++
		}
	}
	for name, b := range xmlDocs(t) {
		if _, ok := scanXML(b); !ok && sniffXML(b).kind == kindCycloneDX {
			t.Errorf("%s: scanXML not sure of a CycloneDX document", name)
		}
	}
	if sure < len(xmlDocs(t)) {
		t.Errorf("sure on %d documents", sure)
	}
}

func checkScanXML(t testing.TB, name string, b []byte) {
	s, ok := scanXML(b)
	if !ok {
		return
	}
	want := sniffXML(b)
	if s == want {
		return
	}
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(b), cdx.BOMFileFormatXML).Decode(&bom); err == nil {
		t.Errorf("%s: scanXML %+v, sniffXML %+v, and the document decodes", name, s, want)
	}
}

// TestParseXMLFastScanUnchanged: Parse gives the same batch or the same
// error with scanXML as with sniffXML alone, on every variant.
func TestParseXMLFastScanUnchanged(t *testing.T) {
	for name, b := range xmlVariants(t) {
		fastXMLScan = false
		ob, oerr := Parse(t.Context(), b, graph.Document{Source: "x"}, Options{})
		fastXMLScan = true
		nb, nerr := Parse(t.Context(), b, graph.Document{Source: "x"}, Options{})
		if (oerr == nil) != (nerr == nil) || (oerr != nil && oerr.Error() != nerr.Error()) {
			t.Errorf("%s: sniffXML alone: %v; with scanXML: %v", name, oerr, nerr)
			continue
		}
		if oerr == nil && renderBatch(ob) != renderBatch(nb) {
			t.Errorf("%s: batches differ", name)
		}
	}
}

// FuzzScanXML: scanXML is sure only where sniffXML agrees or the decoder
// refuses the document.
func FuzzScanXML(f *testing.F) {
	for _, b := range xmlVariants(f) {
		if len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte(`<bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components><component type="library"><name>a</name></component></components></bom>`))
	f.Add([]byte(`<?xml version="1.0"?><bom xmlns='http://cyclonedx.org/schema/bom/1.4' x = "y"/>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<20 {
			return
		}
		checkScanXML(t, "fuzz", b)
	})
}
