package collect_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/oms"
	"github.com/modelgraph/modelgraph/ingest/trust"
	"github.com/modelgraph/modelgraph/internal/collect"
)

// modelImage packages files as a CNCF ModelPack artifact: one raw layer
// per file, titled with its path, in path order.
func modelImage(t *testing.T, files map[string][]byte) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, "application/vnd.cncf.model.config.v1+json")
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		var err error
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:       static.NewLayer(files[n], "application/vnd.cncf.model.weight.v1.raw"),
			MediaType:   "application/vnd.cncf.model.weight.v1.raw",
			Annotations: map[string]string{collect.AnnotationTitle: n},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return img
}

// omsSignature signs, with key, the OMS statement a signer writes for the
// unpacked files (files/sha256).
func omsSignature(t *testing.T, key *envelopetest.KeySigner, modelName string, files map[string][]byte) []byte {
	t.Helper()
	dir := filepath.Join(t.TempDir(), modelName)
	for n, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := oms.Digest(context.Background(), dir, oms.DigestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := statement(t, modelName, strings.TrimPrefix(d.RootDigest, "sha256:"), oms.PredicateType, map[string]any{
		"serialization": map[string]any{"method": "files", "hash_type": "sha256", "allow_symlinks": false},
		"resources":     d.Resources,
	})
	return key.Bundle(t, envelopetest.InTotoPayloadType, st)
}

// An OMS signature attached to a model packaged as an OCI artifact:
// verified against the image manifest without pulling a layer (registry
// and OCI layout), and ingested by the OCI collector so that the model
// node carries both the image digest and the OMS root digest.
func TestOCIModelSignedWithOMS(t *testing.T) {
	files := map[string][]byte{
		"model.safetensors":   []byte("weights v1"),
		"tokenizer/vocab.txt": []byte("a\nb\n"),
		"config.json":         []byte(`{"layers": 2}`),
	}
	key := envelopetest.NewKeySigner(t)
	pol := &trust.Policy{Rules: []trust.Rule{{Name: "release", Keys: []trust.PublicKey{key.PublicKey(t)}}}}
	sig := omsSignature(t, key, "llm-7b", files)
	other := omsSignature(t, key, "llm-7b-old", map[string][]byte{"model.safetensors": []byte("weights v0")})
	for _, reg := range []struct {
		name  string
		start func(*testing.T) string
	}{{"distribution", distributionRegistry}, {"ggcr-referrers-api", ggcrRegistry}} {
		t.Run(reg.name, func(t *testing.T) {
			host := reg.start(t)
			repo, err := name.NewRepository(host + "/acme/llm-7b")
			if err != nil {
				t.Fatal(err)
			}
			img := modelImage(t, files)
			if err := remote.Write(repo.Tag("v1"), img); err != nil {
				t.Fatal(err)
			}
			digest, _ := img.Digest()
			raw, _ := img.RawManifest()
			model := v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: digest, Size: int64(len(raw))}
			push(t, repo, "", "application/vnd.dev.sigstore.bundle.v0.3+json", &model, layerSpec{data: sig, mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json"})
			push(t, repo, "", "application/vnd.dev.sigstore.bundle.v0.3+json", &model, layerSpec{data: other, mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json"})
			// v2: one file changed.
			changed := map[string][]byte{"model.safetensors": []byte("weights v2"), "tokenizer/vocab.txt": files["tokenizer/vocab.txt"], "config.json": files["config.json"]}
			if err := remote.Write(repo.Tag("v2"), modelImage(t, changed)); err != nil {
				t.Fatal(err)
			}

			// Verify: the manifest only.
			src := collect.ManifestSource{Insecure: true}
			got, gotDigest, err := src.FetchManifest(context.Background(), repo.Tag("v1").String())
			if err != nil || gotDigest != digest.String() {
				t.Fatalf("fetch: %v %s", err, gotDigest)
			}
			r, err := oms.VerifyOCI(context.Background(), "oci://"+repo.Tag("v1").String(), got, sig, pol, oms.VerifyOptions{})
			if err != nil || !r.Verified || r.Matched != 3 {
				t.Fatalf("v1: %v %v", err, r.Problems())
			}
			v2, _, err := src.FetchManifest(context.Background(), repo.Tag("v2").String())
			if err != nil {
				t.Fatal(err)
			}
			r, err = oms.VerifyOCI(context.Background(), "v2", v2, sig, pol, oms.VerifyOptions{})
			if err != nil || r.Verified || r.Changed != 1 || r.Files[1].Path != "model.safetensors" || r.Files[1].Status != oms.FileChanged {
				t.Fatalf("v2 verified or misreported: %v %+v", err, r)
			}

			// Ingest through the collector.
			p, store := newPipeline(t, pol)
			rec := newRecorder()
			run := &collect.Runner{Pipeline: p, OnOutcome: rec.add, Log: quiet}
			c, err := collect.Parse("oci:"+repo.Tag("v1").String()+"?insecure", collect.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := run.Run(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			for _, o := range rec.all() {
				if o.Err != nil {
					t.Errorf("%s: %v", o.Source, o.Err)
				}
			}
			d, err := oms.Digest(context.Background(), writeTree(t, files), oms.DigestOptions{})
			if err != nil {
				t.Fatal(err)
			}
			m := lookup(t, store, digest.String(), graph.KindModel)
			if !slices.Contains(m.Keys, d.RootDigest) || m.Attr("ociManifest") != digest.String() {
				t.Fatalf("model node %+v lacks the OMS root digest %s or the image digest", m, d.RootDigest)
			}
			docs := storedDocs(t, store, docDigest(t, p, sig), docDigest(t, p, other))
			if len(docs) != 2 || docs[0].Status() != graph.StatusVerified {
				t.Fatalf("documents: %+v", docs)
			}
			// The signature over other files is recorded, but not as this image.
			od, _ := oms.Digest(context.Background(), writeTree(t, map[string][]byte{"model.safetensors": []byte("weights v0")}), oms.DigestOptions{})
			for _, n := range lookupAll(t, store, od.RootDigest) {
				if slices.Contains(n.Keys, digest.String()) {
					t.Fatalf("a signature over other files was tied to the image: %+v", n)
				}
			}

			// The same check from an OCI image layout.
			lp, err := layout.Write(filepath.Join(t.TempDir(), "layout"), empty.Index)
			if err != nil {
				t.Fatal(err)
			}
			if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v1"})); err != nil {
				t.Fatal(err)
			}
			for _, spec := range []string{string(lp), string(lp) + ":v1", string(lp) + "@" + digest.String()} {
				lm, ld, err := src.LayoutManifest(spec)
				if err != nil || ld != digest.String() {
					t.Fatalf("layout %s: %v %s", spec, err, ld)
				}
				if r, err := oms.VerifyOCI(context.Background(), spec, lm, sig, pol, oms.VerifyOptions{}); err != nil || !r.Verified {
					t.Fatalf("layout %s: %v %v", spec, err, r.Problems())
				}
			}
			if _, _, err := src.LayoutManifest(string(lp) + ":v9"); err == nil {
				t.Fatal("a missing tag resolved")
			}
		})
	}
}

func writeTree(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "m")
	for n, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
