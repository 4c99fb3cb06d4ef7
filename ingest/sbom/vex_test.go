package sbom

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

func contains(err error, subs ...string) bool {
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			return false
		}
	}
	return errors.Is(err, ErrInvalidDocument)
}

type affectsWant struct {
	vuln, target              string
	status, justification     string
	notesContain, stmtContain string
}

func checkAffects(t *testing.T, b *graph.Batch, ws []affectsWant) {
	t.Helper()
	n := 0
	for _, e := range b.Edges {
		if e.Kind == graph.Affects {
			n++
		}
	}
	if n != len(ws) {
		t.Errorf("%d AFFECTS edges, want %d", n, len(ws))
	}
	for _, w := range ws {
		v := find(b, graph.KindVulnerability, "vuln:"+w.vuln)
		p := find(b, graph.KindPackage, w.target)
		if v < 0 || p < 0 {
			t.Errorf("missing vuln %s (%d) or package %s (%d)", w.vuln, v, w.target, p)
			continue
		}
		e := edge(b, v, graph.Affects, p)
		if e == nil {
			t.Errorf("no %s -AFFECTS-> %s", w.vuln, w.target)
			continue
		}
		if e.Attrs["status"] != w.status || e.Attrs["justification"] != w.justification {
			t.Errorf("%s -> %s: status=%q justification=%q, want %q %q", w.vuln, w.target, e.Attrs["status"], e.Attrs["justification"], w.status, w.justification)
		}
		if !strings.Contains(e.Attrs["statusNotes"], w.notesContain) || !strings.Contains(e.Attrs["statement"], w.stmtContain) {
			t.Errorf("%s -> %s: statusNotes=%q statement=%q", w.vuln, w.target, e.Attrs["statusNotes"], e.Attrs["statement"])
		}
	}
}

func TestVEX(t *testing.T) {
	tests := []struct {
		file string
		want []affectsWant
	}{
		{"guac-open-vex-affected.json", []affectsWant{
			{vuln: "CVE-1234-5678", target: "pkg:apk/wolfi/bash@1.0.0", status: "affected", stmtContain: "This is a test action statement"},
		}},
		{"guac-open-vex-not-affected.json", []affectsWant{
			{vuln: "CVE-2023-12345", target: "pkg:oci/git@sha256%3A23a264e6e429852221a963e9f17338ba3f5796dc7086e46439a6f4482cf6e0cb",
				status: "not_affected", justification: "inline_mitigations_already_exist", stmtContain: "mitigated"},
		}},
		// analysis.state "exploitable" is affected; the versions listed
		// against the product's bom-ref become GUAC's pkg:guac/pkg purls.
		{"guac-cyclonedx-vex-affected.json", []affectsWant{
			{vuln: "CVE-2021-44228", target: "pkg:guac/pkg/product-ABC@2.4", status: "affected", notesContain: "Versions of Product ABC are affected"},
			{vuln: "CVE-2021-44228", target: "pkg:guac/pkg/product-ABC@2.6", status: "affected", notesContain: "Versions of Product ABC are affected"},
		}},
		{"guac-cyclonedx-vex.xml", []affectsWant{
			{vuln: "CVE-2018-7489", target: "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#jackson-databind-2.8.0",
				status: "not_affected", justification: "vulnerable_code_not_in_execute_path", notesContain: "optional explanation"},
		}},
		{"guac-rhsa-csaf.json", []affectsWant{
			{vuln: "CVE-2023-0286", target: "pkg:rpm/redhat/openssl@1.1.1k-7.el8_6?arch=x86_64&epoch=1", status: "affected", stmtContain: "access.redhat.com"},
			{vuln: "CVE-2023-0286", target: "pkg:rpm/redhat/openssl@1.1.1k-8.el8_6?arch=aarch64&epoch=1", status: "fixed", stmtContain: "access.redhat.com"},
			{vuln: "CVE-2023-0286", target: "pkg:rpm/redhat/nginx@1.20.1-1.module%2Bel8.8.0%2B20359%2B9bd89172.1", status: "fixed", stmtContain: "access.redhat.com"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			checkAffects(t, parseFixture(t, tc.file, Options{}), tc.want)
		})
	}
	b := parseFixture(t, "guac-cyclonedx-vex-affected.json", Options{})
	if v := find(b, graph.KindVulnerability, "vuln:CVE-2021-44228"); b.Nodes[v].Attrs["score.CVSSv31"] != "10" {
		t.Errorf("vulnerability attrs %v, want score.CVSSv31=10", b.Nodes[v].Attrs)
	}
}

// Within one document the strongest statement wins whatever the order.
func TestVEXConflictingStatements(t *testing.T) {
	doc := func(first, second string) []byte {
		return []byte(`{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/1","author":"a","timestamp":"2024-01-01T00:00:00Z","version":1,
"statements":[{"vulnerability":{"name":"CVE-2024-0001"},"products":[{"@id":"pkg:pypi/torch@2.3.1"}],"status":"` + first + `"` + just(first) + `},
{"vulnerability":{"name":"CVE-2024-0001"},"products":[{"@id":"pkg:pypi/torch@2.3.1"}],"status":"` + second + `"` + just(second) + `}]}`)
	}
	for _, order := range [][2]string{{"not_affected", "affected"}, {"affected", "not_affected"}} {
		b, err := Parse(t.Context(), doc(order[0], order[1]), graph.Document{Source: "conflict"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkAffects(t, b, []affectsWant{{vuln: "CVE-2024-0001", target: "pkg:pypi/torch@2.3.1", status: "affected"}})
	}
}

func just(status string) string {
	if status == "not_affected" {
		return `,"justification":"component_not_present"`
	}
	return ""
}

func TestVEXErrors(t *testing.T) {
	base := fixture(t, "guac-open-vex-affected.json")
	tests := []struct {
		name, from, to, want string
	}{
		{"status", `"status": "affected"`, `"status": "maybe"`, `statements[0].status: "maybe" is not`},
		{"product", `"@id": "pkg:apk/wolfi/bash@1.0.0"`, `"@id": "not a purl"`, `statements[0].products[0].@id`},
		{"vuln", `"name": "CVE-1234-5678"`, `"name": ""`, `statements[0].vulnerability.name: empty`},
		{"timestamp", `"timestamp": "2023-01-19T02:36:03.290252574-06:00",`, ``, `timestamp: missing`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Replace(base, []byte(tc.from), []byte(tc.to), 1)
			if bytes.Equal(data, base) {
				t.Fatal("replacement did not apply")
			}
			b, err := Parse(t.Context(), data, graph.Document{Source: "bad-vex.json"}, Options{})
			if b != nil || err == nil || !contains(err, "bad-vex.json", tc.want) {
				t.Fatalf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
	csaf := bytes.Replace(fixture(t, "guac-rhsa-csaf.json"), []byte(`"cve": "CVE-2023-0286"`), []byte(`"cve": ""`), 1)
	if _, err := Parse(t.Context(), csaf, graph.Document{Source: "bad-csaf.json"}, Options{}); err == nil || !contains(err, "bad-csaf.json", "vulnerabilities[0].cve") {
		t.Fatalf("csaf err = %v", err)
	}
}
