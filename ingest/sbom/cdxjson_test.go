package sbom

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// cdxJSONFiles is every CycloneDX JSON document in the repository's
// testdata (the shared SBOM fixtures, the GUAC examples, the AI-BOM and
// end-to-end ones).
func cdxJSONFiles(t testing.TB) map[string][]byte {
	return testdataDocs(t, "CycloneDX JSON", 20, func(s sniffed) bool { return s.kind == kindCycloneDX && !s.xml })
}

// decodeBoth decodes data with decodeCDXJSON (the fast path, with its
// fallback) and with the reflective decode alone.
func decodeBoth(data []byte) (fast, slow *cdx.BOM, ferr, serr error) {
	s := sniff(data)
	fast, slow = new(cdx.BOM), new(cdx.BOM)
	ferr = decodeCDXJSON(data, s, fast)
	serr = decodeCDXJSONReflective(data, s, slow)
	return
}

func sameDecode(data []byte) error {
	fast, slow, ferr, serr := decodeBoth(data)
	if fmt.Sprint(ferr) != fmt.Sprint(serr) {
		return fmt.Errorf("errors differ: fast path %v, reflective %v", ferr, serr)
	}
	if serr == nil && !reflect.DeepEqual(fast, slow) {
		return fmt.Errorf("the decoded BOMs differ")
	}
	return nil
}

// TestCDXFastDecodeMatches: on every CycloneDX JSON in testdata, and on
// variants of one that the fast path must hand back to the reflective
// decoder (unknown, re-cased, duplicate and escaped names, nulls,
// numbers, invalid UTF-8, escapes), decodeCDXJSON gives exactly the
// reflective decode's BOM (reflect.DeepEqual, which also tells a nil
// slice from an empty one) or its error. Most real files must take the
// fast path whole, or it would be dead weight.
func TestCDXFastDecodeMatches(t *testing.T) {
	files := cdxJSONFiles(t)
	fastWhole := 0
	for f, data := range files {
		if err := sameDecode(data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		var bom cdx.BOM
		if decodeCDXJSONFast(data, sniff(data), &bom) == nil {
			fastWhole++
		}
	}
	if fastWhole*4 < len(files)*3 {
		t.Errorf("the fast path decoded only %d of %d files without falling back", fastWhole, len(files))
	}

	base := `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"bom-ref":"root","type":"application","name":"app"}},` +
		`"components":[{"bom-ref":"a","type":"library","name":"a","version":"1","purl":"pkg:npm/a@1",` +
		`"hashes":[{"alg":"SHA-256","content":"00"}],"licenses":[{"license":{"id":"MIT","url":"u"}},{"expression":"MIT OR X"}],` +
		`"externalReferences":[{"url":"https://x","type":"vcs"}],"properties":[{"name":"p","value":"v"}],"components":[{"type":"file","name":"f"}]}],` +
		`"dependencies":[{"ref":"root","dependsOn":["a"]},{"ref":"a"}]}`
	variants := map[string]string{
		"plain":              base,
		"unknown name":       strings.Replace(base, `"version":"1"`, `"version":"1","x-extra":{"a":[1,2]}`, 1),
		"cased name":         strings.Replace(base, `"version":"1"`, `"VERSION":"1"`, 1),
		"duplicate name":     strings.Replace(base, `"version":"1"`, `"version":"1","version":"2"`, 1),
		"duplicate array":    strings.Replace(base, `"properties":[`, `"properties":[{"name":"q","value":"w"}],"properties":[`, 1),
		"escaped name":       strings.Replace(base, `"version":"1"`, `"versio\u006e":"1"`, 1),
		"null string":        strings.Replace(base, `"version":"1"`, `"version":null`, 1),
		"null slice":         strings.Replace(base, `"hashes":[`, `"hashes":null,"x":[`, 1),
		"null element":       strings.Replace(base, `"hashes":[`, `"hashes":[null,`, 1),
		"null license":       strings.Replace(base, `{"license":{"id":"MIT","url":"u"}}`, `{"license":null}`, 1),
		"null component":     strings.Replace(base, `"components":[{"bom-ref"`, `"components":[null,{"bom-ref"`, 1),
		"null dependsOn":     strings.Replace(base, `"dependsOn":["a"]`, `"dependsOn":[null]`, 1),
		"number for string":  strings.Replace(base, `"version":"1"`, `"version":1`, 1),
		"object for string":  strings.Replace(base, `"name":"a"`, `"name":{}`, 1),
		"empty arrays":       strings.Replace(base, `"hashes":[{"alg":"SHA-256","content":"00"}]`, `"hashes":[],"omniborId":[]`, 1),
		"escapes":            strings.Replace(base, `"name":"a"`, `"name":"a\"b\\c\/d\u00e9\n"`, 1),
		"escaped surrogate":  strings.Replace(base, `"name":"a"`, `"name":"a\ud800"`, 1),
		"invalid utf-8":      strings.Replace(base, `"name":"a"`, "\"name\":\"a\xff\"", 1),
		"non-ascii":          strings.Replace(base, `"name":"a"`, `"name":"é€😀"`, 1),
		"reflective fields":  strings.Replace(base, `"version":"1"`, `"version":"1","supplier":{"name":"s"},"modified":true,"tags":["t"],"pedigree":{"ancestors":[{"type":"library","name":"anc","hashes":[{"alg":"MD5","content":"11"}]}]}`, 1),
		"bad spec version":   strings.Replace(base, `"specVersion":"1.6"`, `"specVersion":"9.9"`, 1),
		"truncated":          base[:len(base)-30],
		"trailing garbage":   base + "x",
		"array for object":   strings.Replace(base, `"components":[{"type":"file","name":"f"}]`, `"components":{"a":1}`, 1),
		"ext ref hashes":     strings.Replace(base, `"type":"vcs"`, `"type":"vcs","hashes":[{"alg":"MD5","content":"1"}],"comment":"c","properties":[]`, 1),
		"license properties": strings.Replace(base, `{"id":"MIT","url":"u"}`, `{"id":"MIT","url":"u","name":"n","bom-ref":"l","acknowledgement":"declared","text":{"content":"t"},"properties":[{"name":"a","value":"b"}]}`, 1),
		"metadata null":      strings.Replace(base, `"component":{"bom-ref":"root","type":"application","name":"app"}`, `"component":null`, 1),
		"provides":           strings.Replace(base, `{"ref":"a"}`, `{"ref":"a","provides":["root"]}`, 1),
	}
	for name, v := range variants {
		if err := sameDecode([]byte(v)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzCDXDecodeMatches: for any input, decodeCDXJSON (fast path and
// fallback) and the reflective decode give the same BOM or the same error.
func FuzzCDXDecodeMatches(f *testing.F) {
	for _, data := range cdxJSONFiles(f) {
		if len(data) <= 16<<10 { // larger seeds slow every mutation and minimisation down
			f.Add(data)
		}
	}
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"a","hashes":[{"alg":"MD5","content":"1"}],"licenses":[{"license":{"id":"MIT"}}],"components":[]}],"dependencies":[{"ref":"a","dependsOn":[]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := sameDecode(data); err != nil {
			t.Fatal(err)
		}
	})
}
