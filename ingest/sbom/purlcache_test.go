package sbom

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	asmhelpers "github.com/guacsec/guac/pkg/assembler/helpers"
)

// TestPurlCache: the shared memo gives what the normalisation gives, on
// the first call and the next, and stays within purlCacheMax entries.
func TestPurlCache(t *testing.T) {
	for _, p := range []string{
		"pkg:pypi/torch@2.3.0", "pkg:maven/org.apache/log4j-core@2.14.1?type=jar&classifier=x",
		"pkg:oci/img@sha256%3Aabc?repository_url=ghcr.io/x/img", "pkg:npm/%40scope/name@1.0.0",
	} {
		want, err := canonPurlUncached(p)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			got, err := canonPurl(p)
			if err != nil || got.canon != want.canon || got.plain != want.plain || got.p.Name != want.p.Name || got.p.Version != want.p.Version {
				t.Fatalf("canonPurl(%q) = %+v, %v; want %+v", p, got, err, want)
			}
		}
	}
	for i := range purlCacheMax + 10 {
		if _, err := canonPurl(fmt.Sprintf("pkg:pypi/p%d@1", i)); err != nil {
			t.Fatal(err)
		}
	}
	purlCache.mu.RLock()
	n := len(purlCache.m)
	purlCache.mu.RUnlock()
	if n > purlCacheMax {
		t.Fatalf("purl cache holds %d entries, limit %d", n, purlCacheMax)
	}
	if _, err := canonPurl("not a purl"); err == nil {
		t.Fatal("an invalid purl accepted")
	}
}

// TestSpecPurlMemo: purlToPkg's memo gives PurlToPkg's spec and
// PkgInputSpecToPurl of it for every purl of every CycloneDX component in
// testdata, on the first call and from the memo, and stays bounded.
func TestSpecPurlMemo(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/sbom/*.json")
	n := 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		var bom struct {
			Components []struct {
				Purl string `json:"purl"`
			} `json:"components"`
		}
		if json.Unmarshal(data, &bom) != nil {
			continue
		}
		for _, c := range bom.Components {
			s, err := asmhelpers.PurlToPkg(c.Purl)
			if c.Purl == "" || err != nil {
				continue
			}
			want := asmhelpers.PkgInputSpecToPurl(s)
			for range 2 {
				s2, sp, err := purlToPkg(c.Purl)
				if err != nil {
					t.Fatal(err)
				}
				if got := asmhelpers.PkgInputSpecToPurl(s2); got != want {
					t.Fatalf("purlToPkg(%q) gives a spec for %q, want %q", c.Purl, got, want)
				}
				if sp != want {
					t.Fatalf("purlToPkg(%q) gives the purl %q, want %q", c.Purl, sp, want)
				}
				if s2.Name != s.Name || s2.Type != s.Type || len(s2.Qualifiers) != len(s.Qualifiers) {
					t.Fatalf("purlToPkg(%q) = %+v, want %+v", c.Purl, s2, s)
				}
			}
			n++
		}
	}
	if n < 1000 {
		t.Fatalf("checked %d purls", n)
	}
	for i := range purlCacheMax + 10 {
		p := fmt.Sprintf("pkg:pypi/p%d@1", i)
		if _, _, err := purlToPkg(p); err != nil {
			t.Fatal(err)
		}
	}
	specMemo.mu.RLock()
	m := len(specMemo.m)
	specMemo.mu.RUnlock()
	if m > purlCacheMax {
		t.Fatalf("memo holds %d entries, limit %d", m, purlCacheMax)
	}
}
