// Package ui serves modelgraph's lineage web page at /ui/: search a
// digest, name, purl or URI, see the supply chain around it, read the
// evidence behind each node and edge, and list the deployments an incident
// reaches. The page talks only to the server's GraphQL endpoint (and
// downloads AI-BOMs from /v1/aibom/), so it holds no data itself and needs
// no authentication to load: its requests carry the token the user pastes.
//
// The page is built from web/ (npm, esbuild) into dist/, which is committed
// so that `go build` needs no Node toolchain; `go generate` rebuilds it.
package ui

//go:generate sh -c "cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build"

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Prefix is the path the page is served under. Handler expects request
// paths that still carry it (mount it with the pattern "GET /ui/" and
// "GET /ui", not behind http.StripPrefix).
const Prefix = "/ui/"

// ContentSecurityPolicy lets the page load and fetch only from its own
// origin: no inline script or style, no framing, no plugins.
const ContentSecurityPolicy = "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

//go:embed dist
var dist embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	name        string
	body        []byte
	gzipped     []byte // nil when compression does not pay
	contentType string
	etag        string
	immutable   bool // content-hashed name: cache for a year
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
}

// minGzip is the size below which assets are sent as they are.
const minGzip = 1024

func load(fsys fs.FS) (map[string]*asset, error) {
	out := map[string]*asset{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return fmt.Errorf("ui: %s: no content type for %q files", p, path.Ext(p))
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("ui: %w", err)
		}
		sum := sha256.Sum256(b)
		a := &asset{name: p, body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, immutable: p != "index.html"}
		if len(b) >= minGzip && !strings.HasPrefix(ct, "image/png") {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			if _, err := zw.Write(b); err != nil {
				return fmt.Errorf("ui: compress %s: %w", p, err)
			}
			if err := zw.Close(); err != nil {
				return fmt.Errorf("ui: compress %s: %w", p, err)
			}
			if buf.Len() < len(b)*9/10 {
				a.gzipped = buf.Bytes()
			}
		}
		out[p] = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out["index.html"] == nil {
		return nil, fmt.Errorf("ui: dist has no index.html (run go generate ./internal/ui)")
	}
	return out, nil
}

var assets = sync.OnceValues(func() (map[string]*asset, error) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	return load(sub)
})

// Handler serves the page: /ui redirects to /ui/, /ui/ is the page
// (revalidated on every load), /ui/<hashed name> its script, stylesheet
// and icon (cached for a year), anything else under /ui/ is 404.
func Handler() http.Handler {
	return handler(assets)
}

func handler(load func() (map[string]*asset, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
			// Relative, so that a proxy mounting the server under a
			// prefix keeps it.
			target := path.Base(Prefix) + "/"
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			h.Set("Location", target)
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if name == "" {
			name = "index.html"
		}
		all, err := load()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		a, ok := all[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		serve(w, r, a)
	})
}

func serve(w http.ResponseWriter, r *http.Request, a *asset) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	if a.contentType == contentTypes[".html"] {
		h.Set("X-Frame-Options", "DENY")
	}
	if a.immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body, etag := a.body, a.etag
	if a.gzipped != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			// A strong ETag names one representation.
			body, etag = a.gzipped, strings.TrimSuffix(a.etag, `"`)+`-gz"`
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reads Accept-Encoding enough to honour "gzip;q=0".
func acceptsGzip(v string) bool {
	for part := range strings.SplitSeq(v, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				return err == nil && q > 0
			}
		}
		return true
	}
	return false
}
