package ui

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzHandler: whatever the path and Accept-Encoding, the handler answers
// with one of its statuses, serves only embedded files, and always sends
// nosniff.
func FuzzHandler(f *testing.F) {
	all, err := assets()
	if err != nil {
		f.Fatal(err)
	}
	for name := range all {
		f.Add("/ui/"+name, "gzip")
	}
	for _, p := range []string{"/ui", "/ui/", "/ui/../ui/", "/ui/%2e%2e/", "/ui//index.html", "/ui/index.html/", "/ui/\x00", "/uiindex.html", "/"} {
		f.Add(p, "gzip;q=0")
	}
	f.Add("/ui/", "gzip;q=")
	f.Add("/ui/", ";;,,gzip;q=1e309")
	h := Handler()
	f.Fuzz(func(t *testing.T, path, enc string) {
		u := &url.URL{Path: path}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL = u
		req.Header.Set("Accept-Encoding", enc)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			name := strings.TrimPrefix(path, Prefix)
			if name == "" {
				name = "index.html"
			}
			if _, ok := all[name]; !ok || !strings.HasPrefix(path, Prefix) {
				t.Fatalf("%q served 200 but names no embedded file", path)
			}
			if rec.Header().Get("Content-Security-Policy") != ContentSecurityPolicy {
				t.Fatalf("%q served without the CSP", path)
			}
		case http.StatusMovedPermanently:
			if path != "/ui" {
				t.Fatalf("%q redirected", path)
			}
		case http.StatusNotFound:
		default:
			t.Fatalf("%q: status %d", path, rec.Code)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%q: no nosniff", path)
		}
		if rec.Header().Get("Content-Encoding") == "gzip" && !acceptsGzip(enc) {
			t.Fatalf("gzip sent for Accept-Encoding %q", enc)
		}
	})
}
