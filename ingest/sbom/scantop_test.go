package sbom

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// scanTopRef is scanTop as it was before the structural-byte skip, kept
// as the reference the tests compare scanTop with.
func scanTopRef(b []byte) (members map[string][]byte, depth int, ok bool, items int) {
	members = map[string][]byte{}
	d, maxD := 0, 0
	inStr, esc := false, false
	expectKey := false
	keyStart, valStart := -1, -1
	key := ""
	end := func(i int) {
		if valStart >= 0 && key != "" {
			if _, dup := members[key]; !dup {
				members[key] = bytes.TrimSpace(b[valStart:i])
			}
		}
		valStart, key = -1, ""
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			if !esc {
				// Skip the string's body: to its closing quote, or to a
				// backslash before it.
				rest := b[i:]
				q := bytes.IndexByte(rest, '"')
				if q < 0 {
					break
				}
				if k := bytes.IndexByte(rest[:q], '\\'); k >= 0 {
					q = k
				}
				i += q
				c = b[i]
			}
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
				if keyStart >= 0 {
					if k := string(b[keyStart:i]); probed[k] || counted[k] {
						key = k
					}
					keyStart = -1
				}
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
			if d == 1 && expectKey {
				keyStart, expectKey = i+1, false
			}
		case ':':
			if d == 1 && valStart < 0 {
				valStart = i + 1
			}
		case ',':
			if d == 1 {
				end(i)
				expectKey = true
			}
		case '{', '[':
			d++
			if d > maxD {
				maxD = d
				if maxD > maxNesting {
					return members, maxD, false, items
				}
			}
			if d == 3 && c == '{' && counted[key] {
				if items++; items > maxComponents {
					return members, maxD, true, items
				}
			}
			if d == 1 {
				if c != '{' {
					return members, maxD, false, items
				}
				expectKey = true
			}
		case '}', ']':
			if d == 1 {
				end(i)
			}
			d--
			if d == 0 {
				return members, maxD, len(bytes.TrimSpace(b[i+1:])) == 0, items
			}
		}
	}
	return members, maxD, false, items
}

func jsonDocs(t testing.TB) map[string][]byte {
	var files []string
	for _, g := range []string{"../../testdata/sbom/*.json", "testdata/*.json", "../../testdata/*/*.json"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	docs := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil {
			docs[f] = b
		}
	}
	if len(docs) < 30 {
		t.Fatalf("%d JSON documents", len(docs))
	}
	return docs
}

func checkScanTop(t testing.TB, name string, b []byte) {
	m1, d1, ok1, n1 := scanTopRef(b)
	m2, d2, ok2, n2 := scanTop(b)
	if d1 != d2 || ok1 != ok2 || n1 != n2 || !reflect.DeepEqual(m1, m2) {
		t.Errorf("%s: scanTop = %d %v %d %q; the reference %d %v %d %q", name, d2, ok2, n2, keys(m2), d1, ok1, n1, keys(m1))
	}
}

func keys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestScanTopMatchesReference: scanTop gives what the byte-by-byte scan
// gave on every testdata JSON document, whole and cut short at several
// points, and on escapes, nesting and truncations.
func TestScanTopMatchesReference(t *testing.T) {
	for name, b := range jsonDocs(t) {
		checkScanTop(t, name, b)
		for _, cut := range []int{1, 7, len(b) / 3, len(b) / 2, len(b) - 1} {
			if cut < len(b) {
				checkScanTop(t, name+"/cut", b[:cut])
			}
		}
	}
	for _, s := range []string{
		`{"bomFormat":"CycloneDX","components":[{"a":"x\\"},{"b":"\\\""}]}`,
		`{"k\"ey":1,"spdxVersion":"SPDX-2.3","packages":[{},{}],"files":[{}]}`,
		`{"a":"\`, `{"a":"\"`, `{"a":"b"`, `[1]`, `{}`, `{} x`, `{"components":[[{}]]}`,
		`{"specVersion":"1.5","components":` + strings.Repeat("[", maxNesting+1),
		`{"x":{"bomFormat":"no"},"bomFormat":"CycloneDX","bomFormat":"dup"}`,
	} {
		checkScanTop(t, s, []byte(s))
	}
}

// FuzzScanTop: scanTop and the reference agree on any input.
func FuzzScanTop(f *testing.F) {
	for _, b := range jsonDocs(f) {
		if len(b) < 16<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"a":"\\","components":[{"x":"\""}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkScanTop(t, "fuzz", b)
	})
}
