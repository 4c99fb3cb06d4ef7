package sbom

import (
	"errors"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

func TestDetectRejects(t *testing.T) {
	for name, data := range map[string]string{
		"empty":         "",
		"binary":        "\x00\x01\x02",
		"json array":    `[1,2]`,
		"other json":    `{"name":"x"}`,
		"broken json":   `{"bomFormat":"CycloneDX",`,
		"other xml":     `<?xml version="1.0"?><project xmlns="http://maven.apache.org/POM/4.0.0"></project>`,
		"spdx tagvalue": "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n",
		"spdx 3":        `{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","@graph":[]}`,
		"slsa":          `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + imageDigest[7:] + `"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`,
	} {
		if ft, ok := Detect([]byte(data)); ok {
			t.Errorf("%s: Detect = %q", name, ft)
		}
		b, err := Parse(t.Context(), []byte(data), graph.Document{Source: name}, Options{})
		if b != nil || !errors.Is(err, ErrInvalidDocument) {
			t.Errorf("%s: Parse err = %v", name, err)
		}
	}
}

// Detection reads top-level members only, and is not fooled by strings.
func TestDetectTopLevelOnly(t *testing.T) {
	for data, want := range map[string]string{
		`{"x":{"bomFormat":"CycloneDX","specVersion":"1.6"}}`:                              "",
		`{"note":"\"bomFormat\": {[","spdxVersion":"SPDX-2.3"}`:                            TypeSPDX,
		`{"bomFormat":"CycloneDX","specVersion":"1.6","vulnerabilities":[{"id":"CVE-1"}]}`: TypeCycloneDXVEX,
		`{"bomFormat":"CycloneDX","components":[{}],"vulnerabilities":[{"id":"CVE-1"}]}`:   TypeCycloneDX,
		`{"bomFormat":"CycloneDX","vulnerabilities":[ ]}`:                                  TypeCycloneDX,
		`{"bomFormat":"CycloneDX"} trailing`:                                               "",
		`{"document":{"csaf_version":"2.0"}}`:                                              TypeCSAF,
	} {
		if got, _ := Detect([]byte(data)); got != want {
			t.Errorf("Detect(%s) = %q, want %q", data, got, want)
		}
	}
}
