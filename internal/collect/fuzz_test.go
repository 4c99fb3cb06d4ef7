package collect

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/sbom"
)

// FuzzParse: any spec either parses into a collector or fails with
// ErrInvalidSpec; it never panics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"dir:/evidence", "dir:./x?watch=false&debounce=1s&maxsize=10&subject=sha256:00&role=serving-image",
		"oci:localhost:5000/acme/llm-7b:v1?insecure&interval=1m&maxreferrers=5&maxtags=2&timeout=5s",
		"oci:ghcr.io/acme/app@sha256:" + strings.Repeat("a", 64), "oci:r/x?%zz", "dir:?", "x", "",
		"dir:/a?watch=1&watch=0", "oci:r?maxsize=-1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		c, err := Parse(spec, Options{})
		if err != nil {
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("%q: error %v does not wrap ErrInvalidSpec", spec, err)
			}
			return
		}
		if c == nil || !strings.HasPrefix(c.String(), spec[:3]) {
			t.Fatalf("%q: collector %v", spec, c)
		}
	})
}

// FuzzModelBOM: whatever a registry's model manifest holds, the ML-BOM
// built from it is one the SBOM parser reads, describing the manifest
// digest as a Model.
func FuzzModelBOM(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.cncf.model.config.v1+json","digest":"sha256:` + strings.Repeat("1", 64) + `","size":2},` +
		`"layers":[{"mediaType":"application/vnd.cncf.model.weight.v1.raw","digest":"sha256:` + strings.Repeat("2", 64) + `","size":10,"annotations":{"org.opencontainers.image.title":"model.safetensors"}}]}`))
	f.Add([]byte(`{"layers":[{"digest":"sha512:` + strings.Repeat("3", 128) + `"},{"annotations":{"org.opencontainers.image.title":"a\"b<c>"}}]}`))
	f.Add([]byte(`{}`))
	repo, err := name.NewRepository("registry.example/acme/llm-7b")
	if err != nil {
		f.Fatal(err)
	}
	manifest := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("f", 64)}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var m v1.Manifest
		if json.Unmarshal(raw, &m) != nil || len(m.Layers) > 64 {
			return
		}
		bom, err := modelBOM(repo, repo.Tag("v1"), manifest, &m)
		if err != nil {
			t.Fatalf("modelBOM: %v", err)
		}
		b, err := sbom.Parse(context.Background(), bom, graph.Document{Source: "fuzz"}, sbom.Options{Subject: manifest.String()})
		if err != nil {
			t.Fatalf("the model BOM does not parse: %v\n%s", err, bom)
		}
		found := false
		for _, n := range b.Nodes {
			if n.Kind == graph.KindModel {
				for _, k := range n.Keys {
					found = found || k == manifest.String()
				}
			}
		}
		if !found {
			t.Fatalf("no Model keyed by the manifest digest:\n%s", bom)
		}
	})
}

// FuzzClassify: classification is total and only ever hints content types
// the pipeline knows.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"application/vnd.dev.sigstore.bundle.v0.3+json", "application/vnd.dev.sigstore.bundle+json;version=0.2",
		"application/vnd.dsse.envelope.v1+json", "application/vnd.in-toto+json", "application/vnd.cyclonedx+xml",
		"text/spdx+json", "text/spdx", MediaCosignSimpleSigning, "application/octet-stream", "", "APPLICATION/VND.CYCLONEDX+JSON ; charset=utf-8",
	} {
		f.Add(s, "application/vnd.cyclonedx+json")
	}
	known := map[string]bool{"": true, "application/vnd.dev.sigstore.bundle.v0.3+json": true, "application/vnd.dev.sigstore.bundle+json": true,
		"application/vnd.cyclonedx+json": true, "application/vnd.cyclonedx+xml": true, "application/vnd.cyclonedx": true,
		"application/spdx+json": true, "text/spdx": true}
	f.Fuzz(func(t *testing.T, layer, artifact string) {
		k, ct := classify(layer, artifact)
		if !known[ct] {
			t.Fatalf("classify(%q, %q) hints %q", layer, artifact, ct)
		}
		if k == kindNone && ct != "" {
			t.Fatalf("classify(%q, %q): no kind but hint %q", layer, artifact, ct)
		}
	})
}
