package sbom

import (
	"fmt"
	"testing"
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
