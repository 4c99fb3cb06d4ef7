package aibom

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// TestXMLFixStillNeeded proves that cyclonedx-go's own XML for an AI-BOM
// with dataset references and declarations fails the official XSD. When a
// cyclonedx-go upgrade makes it pass, fixXML can go.
func TestXMLFixStillNeeded(t *testing.T) {
	f := newFixture(t)
	bom := export(t, f.store, Request{Model: f.q4})
	var raw bytes.Buffer
	if err := cdx.NewBOMEncoder(&raw, cdx.BOMFileFormatXML).SetPretty(true).EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		t.Fatal(err)
	}
	validateXML(t, Spec1_6, encode(t, bom, FormatXML, Spec1_6)) // skips without xmllint
	out, err := xmllint(t, Spec1_6, raw.Bytes())
	if err == nil {
		t.Fatal("cyclonedx-go now writes XSD-valid XML for this BOM: remove fixXML")
	}
	for _, want := range []string{"attribute 'ref': The attribute 'ref' is not allowed", "Element '{http://cyclonedx.org/schema/bom/1.6}ref': This element is not expected"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("xmllint no longer reports %q:\n%s", want, out)
		}
	}
}

// TestXMLFixIsNoOpOnValidXML: output that is already valid passes through
// byte for byte, so the fix cannot damage what it does not target.
func TestXMLFixIsNoOpOnValidXML(t *testing.T) {
	f := newFixture(t)
	for _, req := range []Request{{Model: f.q4}, {Environment: "production"}} {
		fixed := encode(t, export(t, f.store, req), FormatXML, Spec1_7)
		again, err := fixXML(fixed)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fixed, again) {
			t.Fatalf("fixXML changed valid XML:\n%s", firstDiff(fixed, again))
		}
	}
	inline := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components><component type="machine-learning-model"><name>m</name><modelCard><modelParameters><datasets><dataset><type>dataset</type><name>d</name></dataset></datasets></modelParameters></modelCard></component></components></bom>`)
	if got, err := fixXML(inline); err != nil || !bytes.Equal(got, inline) {
		t.Fatalf("an inline dataset must pass unchanged: %v\n%s", err, got)
	}
	for _, bad := range []string{"<bom><unclosed></bom>", "<bom><datasets><dataset><ref>x</ref>"} {
		if _, err := fixXML([]byte(bad)); err == nil {
			t.Errorf("fixXML(%q) accepted malformed XML", bad)
		}
	}
}

// xmllint validates data against the XSD and returns its output.
func xmllint(t *testing.T, spec Spec, data []byte) ([]byte, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bom.xml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return exec.Command("xmllint", "--nonet", "--noout", "--schema", filepath.Join(xsdDir[spec], "bom-"+string(spec)+".xsd"), path).CombinedOutput()
}
