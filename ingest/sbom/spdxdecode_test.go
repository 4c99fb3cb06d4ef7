package sbom

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	spdxjson "github.com/spdx/tools-golang/json"
)

// spdxJSONFiles are the SPDX 2.x JSON documents in testdata.
func spdxJSONFiles(t testing.TB) map[string][]byte {
	return testdataDocs(t, "SPDX JSON", 5, func(s sniffed) bool { return s.kind == kindSPDX })
}

// sameSPDX decodes data as the parser does (the version from the first
// scan, then decodeSPDX2) and as tools-golang's json.Read does, and says
// how they differ: the same document, or both an error.
func sameSPDX(data []byte) (string, bool) {
	var version string
	_ = json.Unmarshal([]byte(sniff(data).spdxVersion), &version)
	fast, ferr := decodeSPDX2(data, version)
	slow, serr := spdxjson.Read(bytes.NewReader(data))
	switch {
	case (ferr == nil) != (serr == nil):
		return "errors differ: decodeSPDX2 " + errString(ferr) + ", json.Read " + errString(serr), false
	case ferr == nil && !reflect.DeepEqual(fast, slow):
		return "documents differ", false
	}
	return "", true
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestDecodeSPDX2MatchesToolsGolang: every SPDX 2.x document in testdata,
// and variants of one (other versions, wrong types, truncation, escapes),
// decode to what tools-golang's json.Read gives, or fail where it fails.
func TestDecodeSPDX2MatchesToolsGolang(t *testing.T) {
	docs := spdxJSONFiles(t)
	ok := 0
	for name, data := range docs {
		if why, same := sameSPDX(data); !same {
			t.Errorf("%s: %s", name, why)
		}
		var version string
		_ = json.Unmarshal([]byte(sniff(data).spdxVersion), &version)
		if d, err := decodeSPDX2(data, version); err == nil && len(d.Packages) > 0 {
			ok++
		}
	}
	if ok < 3 {
		t.Errorf("only %d documents decoded with packages", ok)
	}
	base := `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"n","documentNamespace":"https://x/1",` +
		`"creationInfo":{"created":"2023-01-01T00:00:00Z","creators":["Tool: t"]},` +
		`"packages":[{"SPDXID":"SPDXRef-p","name":"p","versionInfo":"1","downloadLocation":"NOASSERTION",` +
		`"checksums":[{"algorithm":"SHA256","checksumValue":"00"}],"externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/p@1"}]}],` +
		`"relationships":[{"spdxElementId":"SPDXRef-DOCUMENT","relationshipType":"DESCRIBES","relatedSpdxElement":"SPDXRef-p"}]}`
	r := func(old, new string) string { return string(bytes.Replace([]byte(base), []byte(old), []byte(new), 1)) }
	for name, v := range map[string]string{
		"2.3":               base,
		"2.2":               r(`SPDX-2.3`, `SPDX-2.2`),
		"2.1":               r(`SPDX-2.3`, `SPDX-2.1`),
		"2.4":               r(`SPDX-2.3`, `SPDX-2.4`),
		"number for string": r(`"versionInfo":"1"`, `"versionInfo":1`),
		"escapes":           r(`"name":"p"`, `"name":"p\"\u00e9\ud800"`),
		"invalid utf-8":     r(`"name":"p"`, "\"name\":\"p\xff\""),
		"truncated":         base[:len(base)-20],
		"trailing garbage":  base + "x",
		"duplicate name":    r(`"name":"p"`, `"name":"p","name":"q"`),
		"case-folded name":  r(`"name":"p"`, `"NAME":"p"`),
		"null packages":     r(`"packages":[`, `"packages":null,"x":[`),
		"bad checksum":      r(`"algorithm":"SHA256"`, `"algorithm":7`),
		"huge number":       r(`"name":"n"`, `"name":"n","x":1e400`),
		"huge nested":       r(`"versionInfo":"1"`, `"versionInfo":"1","y":[{"z":-2E+999}]`),
		"long integer":      r(`"name":"n"`, `"name":"n","x":`+strings.Repeat("9", 400)),
		"fine number":       r(`"name":"n"`, `"name":"n","x":1.5e300`),
	} {
		if why, same := sameSPDX([]byte(v)); !same {
			t.Errorf("%s: %s", name, why)
		}
	}
}

// FuzzDecodeSPDX2: for any input, decodeSPDX2 and tools-golang's json.Read
// give the same document or both fail.
func FuzzDecodeSPDX2(f *testing.F) {
	for _, data := range spdxJSONFiles(f) {
		if len(data) <= 16<<10 {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"spdxVersion":"SPDX-2.2","SPDXID":"SPDXRef-DOCUMENT","packages":[{"SPDXID":"SPDXRef-a","name":"a"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if why, same := sameSPDX(data); !same {
			t.Fatal(why)
		}
	})
}

// BenchmarkSPDXDecode: decodeSPDX2 against tools-golang's json.Read over
// the SPDX 2.x documents in testdata.
func BenchmarkSPDXDecode(b *testing.B) {
	docs := spdxJSONFiles(b)
	var total int64
	for _, d := range docs {
		total += int64(len(d))
	}
	b.Run("decodeSPDX2", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			for _, d := range docs {
				var version string
				_ = json.Unmarshal([]byte(sniff(d).spdxVersion), &version)
				_, _ = decodeSPDX2(d, version)
			}
		}
	})
	b.Run("json.Read", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			for _, d := range docs {
				_, _ = spdxjson.Read(bytes.NewReader(d))
			}
		}
	})
}
