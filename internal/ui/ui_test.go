package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func get(t *testing.T, h http.Handler, method, target string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var assetRef = regexp.MustCompile(`(?:src|href)="([^"]+)"`)

// pageAssets are the files index.html loads.
func pageAssets(t *testing.T, index []byte) []string {
	t.Helper()
	var out []string
	for _, m := range assetRef.FindAllSubmatch(index, -1) {
		ref := string(m[1])
		if ref == "./" {
			continue // the brand link back to the page
		}
		out = append(out, ref)
	}
	return out
}

func TestPageAndAssets(t *testing.T) {
	h := Handler()
	r := get(t, h, http.MethodGet, "/ui/")
	index := body(t, r)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("GET /ui/: %d %s", r.StatusCode, index)
	}
	for k, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-cache",
		"Content-Security-Policy": ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("GET /ui/ %s = %q, want %q", k, got, want)
		}
	}
	if !bytes.Contains(index, []byte(`id="cy"`)) || !bytes.Contains(index, []byte(`id="legend"`)) {
		t.Errorf("index.html is not the lineage page:\n%s", index)
	}
	same := get(t, h, http.MethodGet, "/ui/index.html")
	if b := body(t, same); same.StatusCode != http.StatusOK || !bytes.Equal(b, index) {
		t.Errorf("GET /ui/index.html: %d, same page %v", same.StatusCode, bytes.Equal(b, index))
	}

	refs := pageAssets(t, index)
	wantTypes := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	seen := map[string]bool{}
	for _, ref := range refs {
		if strings.Contains(ref, ":") || strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
			t.Errorf("index.html loads %q: assets must be relative to the page (no CDN, no absolute path)", ref)
			continue
		}
		r := get(t, h, http.MethodGet, "/ui/"+ref)
		b := body(t, r)
		if r.StatusCode != http.StatusOK || len(b) == 0 {
			t.Errorf("GET /ui/%s: %d, %d bytes", ref, r.StatusCode, len(b))
			continue
		}
		ext := filepath.Ext(ref)
		seen[ext] = true
		if got := r.Header.Get("Content-Type"); got != wantTypes[ext] {
			t.Errorf("GET /ui/%s Content-Type %q, want %q", ref, got, wantTypes[ext])
		}
		if got := r.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("GET /ui/%s Cache-Control %q: hashed assets are immutable", ref, got)
		}
		if r.Header.Get("Content-Security-Policy") != ContentSecurityPolicy || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET /ui/%s lacks the security headers: %v", ref, r.Header)
		}
	}
	for _, ext := range []string{".js", ".css", ".svg"} {
		if !seen[ext] {
			t.Errorf("index.html loads no %s file (refs %v)", ext, refs)
		}
	}
}

// TestDistIsConsistent: every embedded file is one the page loads (a
// rebuild that left old hashed files behind would ship dead weight), and
// the page has no inline script or style for the CSP to refuse.
func TestDistIsConsistent(t *testing.T) {
	all, err := assets()
	if err != nil {
		t.Fatal(err)
	}
	index := all["index.html"].body
	refs := pageAssets(t, index)
	for name := range all {
		if name != "index.html" && !slices.Contains(refs, name) {
			t.Errorf("dist/%s is embedded but index.html does not load it", name)
		}
	}
	for _, bad := range []string{"<style", " style=", "javascript:", " onclick=", " onload=", "http://", "https://"} {
		if bytes.Contains(index, []byte(bad)) {
			t.Errorf("index.html contains %q", bad)
		}
	}
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAll(index, -1) {
		if !bytes.Contains(m, []byte(" src=")) {
			t.Errorf("inline script %s", m)
		}
	}
	var total int
	for _, a := range all {
		total += len(a.body)
	}
	// cytoscape (~430 KB minified) and dagre are most of it.
	if total > 1<<20 {
		t.Errorf("dist is %d bytes; keep it under 1 MiB (minified, no source maps)", total)
	}
}

// TestDistMatchesSources recomputes the digest build.mjs writes into
// index.html over web/, so a source change committed without rebuilding
// dist/ fails here instead of shipping a stale page.
func TestDistMatchesSources(t *testing.T) {
	all, err := assets()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`modelgraph-ui sources (sha256:[0-9a-f]{64})`).FindSubmatch(all["index.html"].body)
	if m == nil {
		t.Fatal("index.html carries no sources digest")
	}
	files := []string{"build.mjs", "package.json", "package-lock.json"}
	err = fs.WalkDir(os.DirFS("web"), "src", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".test.mjs") {
			return err
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("web", filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s\n%d\n", f, len(b))
		h.Write(b)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != string(m[1]) {
		t.Errorf("dist/ was built from other sources (%s) than web/ holds (%s): run go generate ./internal/ui", m[1], got)
	}
}

func TestRoutes(t *testing.T) {
	h := Handler()
	r := get(t, h, http.MethodGet, "/ui")
	if r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != "ui/" {
		t.Errorf("GET /ui: %d Location %q, want 301 to ui/", r.StatusCode, r.Header.Get("Location"))
	}
	r = get(t, h, http.MethodGet, "/ui?x=1")
	if r.Header.Get("Location") != "ui/?x=1" {
		t.Errorf("GET /ui?x=1 Location %q", r.Header.Get("Location"))
	}
	for _, p := range []string{"/ui/nope.js", "/ui/app.js", "/ui/dist/index.html", "/ui/../ui/index.html", "/ui/assets/", "/uix", "/graphql"} {
		r := get(t, h, http.MethodGet, p)
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.StatusCode)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: 404 without nosniff", p)
		}
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		r := get(t, h, m, "/ui/")
		if r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /ui/: %d Allow %q", m, r.StatusCode, r.Header.Get("Allow"))
		}
	}
	r = get(t, h, http.MethodHead, "/ui/")
	if b := body(t, r); r.StatusCode != http.StatusOK || len(b) != 0 || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("HEAD /ui/: %d, %d body bytes, %q", r.StatusCode, len(b), r.Header.Get("Content-Type"))
	}
}

func TestCompressionAndRevalidation(t *testing.T) {
	h := Handler()
	all, err := assets()
	if err != nil {
		t.Fatal(err)
	}
	var script string
	for name := range all {
		if strings.HasSuffix(name, ".js") {
			script = "/ui/" + name
		}
	}
	plain := get(t, h, http.MethodGet, script)
	pb := body(t, plain)
	if plain.Header.Get("Content-Encoding") != "" || plain.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("identity response: Content-Encoding %q Vary %q", plain.Header.Get("Content-Encoding"), plain.Header.Get("Vary"))
	}
	gz := get(t, h, http.MethodGet, script, "Accept-Encoding", "br, gzip")
	gb := body(t, gz)
	if gz.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Accept-Encoding gzip: Content-Encoding %q", gz.Header.Get("Content-Encoding"))
	}
	if len(gb) >= len(pb)/2 {
		t.Errorf("gzip body %d bytes for %d: not compressed", len(gb), len(pb))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gb))
	if err != nil {
		t.Fatal(err)
	}
	un, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(un, pb) {
		t.Errorf("gzip body does not decompress to the script (err %v)", err)
	}
	if gz.Header.Get("ETag") == plain.Header.Get("ETag") || plain.Header.Get("ETag") == "" {
		t.Errorf("ETags %q and %q: each representation needs its own", plain.Header.Get("ETag"), gz.Header.Get("ETag"))
	}
	refused := get(t, h, http.MethodGet, script, "Accept-Encoding", "gzip;q=0, identity")
	if refused.Header.Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 still got gzip")
	}

	index := get(t, h, http.MethodGet, "/ui/")
	etag := index.Header.Get("ETag")
	again := get(t, h, http.MethodGet, "/ui/", "If-None-Match", etag)
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %s: %d, want 304", etag, again.StatusCode)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for v, want := range map[string]bool{
		"":                        false,
		"gzip":                    true,
		"GZIP":                    true,
		"deflate, gzip;q=1.0, *":  true,
		"gzip;q=0":                false,
		"gzip; q=0.000":           false,
		"gzip;q=0.5":              true,
		"br":                      false,
		"x-gzip":                  false,
		"gzip;level=1":            true,
		"identity, gzip ; q=0.01": true,
	} {
		if got := acceptsGzip(v); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestLoadRejectsBadDist(t *testing.T) {
	if _, err := load(fstest.MapFS{"app.js": {Data: []byte("x")}}); err == nil || !strings.Contains(err.Error(), "index.html") {
		t.Errorf("dist without index.html: %v", err)
	}
	if _, err := load(fstest.MapFS{"index.html": {Data: []byte("x")}, "app.js.map": {Data: []byte("{}")}}); err == nil || !strings.Contains(err.Error(), "app.js.map") {
		t.Errorf("dist with a file of unknown type: %v", err)
	}
	broken := handler(func() (map[string]*asset, error) { return nil, fs.ErrNotExist })
	if r := get(t, broken, http.MethodGet, "/ui/"); r.StatusCode != http.StatusInternalServerError {
		t.Errorf("unloadable dist: %d", r.StatusCode)
	}
}
