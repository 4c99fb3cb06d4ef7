package oms_test

import (
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/oms"
	"github.com/modelgraph/modelgraph/ingest/statement"
)

// ociManifestJSON is an OCI image manifest whose layers are files, stored
// raw and titled with their paths (what ModelPack, oras and the Go port
// of model_signing write), in name order.
func ociManifestJSON(t *testing.T, files map[string][]byte, untitled ...[]byte) []byte {
	t.Helper()
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	desc := func(b []byte) map[string]any {
		s := sha256.Sum256(b)
		return map[string]any{"mediaType": "application/vnd.cncf.model.weight.v1.raw", "digest": "sha256:" + hex.EncodeToString(s[:]), "size": len(b)}
	}
	var layers []any
	for _, n := range names {
		d := desc(files[n])
		d["annotations"] = map[string]string{oms.AnnotationTitle: n}
		layers = append(layers, d)
	}
	for _, b := range untitled {
		layers = append(layers, desc(b))
	}
	cfg := desc([]byte("{}"))
	cfg["mediaType"] = "application/vnd.cncf.model.config.v1+json"
	b, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": layers})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyOCI(t *testing.T) {
	ks := envelopetest.NewKeySigner(t)
	pol := keyPolicy(ks.PublicKey(t))
	files := map[string][]byte{"config.json": []byte(`{"a":1}`), "weights/0.bin": []byte("w0"), "weights/1.bin": []byte("w1")}
	sign := func(fs map[string][]byte, spec manifestSpec) []byte {
		return ks.Bundle(t, statement.PayloadType, manifest(t, spec, fs))
	}
	files8 := manifestSpec{name: "llm", method: "files", hashType: "sha256"}
	sig := sign(files, files8)
	without := func(name string) map[string][]byte {
		out := map[string][]byte{}
		for n, b := range files {
			if n != name {
				out[n] = b
			}
		}
		return out
	}
	with := func(name string, b []byte) map[string][]byte {
		out := without(name)
		out[name] = b
		return out
	}
	cases := []struct {
		name     string
		manifest []byte
		sig      []byte
		opts     oms.VerifyOptions
		verified bool
		status   map[string]oms.FileStatus
	}{
		{"same files", ociManifestJSON(t, files), sig, oms.VerifyOptions{}, true, nil},
		{"changed layer", ociManifestJSON(t, with("weights/1.bin", []byte("w1!"))), sig, oms.VerifyOptions{}, false, map[string]oms.FileStatus{"weights/1.bin": oms.FileChanged}},
		{"missing layer", ociManifestJSON(t, without("weights/0.bin")), sig, oms.VerifyOptions{}, false, map[string]oms.FileStatus{"weights/0.bin": oms.FileMissing}},
		{"extra layer", ociManifestJSON(t, with("README.md", []byte("hi"))), sig, oms.VerifyOptions{}, false, map[string]oms.FileStatus{"README.md": oms.FileExtra}},
		{"extra layer, unsigned files ignored", ociManifestJSON(t, with("README.md", []byte("hi"))), sig, oms.VerifyOptions{IgnoreUnsignedFiles: true}, true, nil},
		{"extra layer, ignored path", ociManifestJSON(t, with("README.md", []byte("hi"))), sig, oms.VerifyOptions{IgnorePaths: []string{"README.md"}}, true, nil},
		{"untitled layer", ociManifestJSON(t, files, []byte("blob")), sig, oms.VerifyOptions{}, false, map[string]oms.FileStatus{"layer_003.tar.gz": oms.FileExtra}},
		// The config blob counts only when signed (the Go port's include-config).
		{"config blob signed", ociManifestJSON(t, without("config.json")), sign(with("config.json", []byte("{}")), files8), oms.VerifyOptions{}, true, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := oms.VerifyOCI(ctx, "oci://test", c.manifest, c.sig, pol, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.Verified != c.verified {
				t.Fatalf("verified = %v: %v", r.Verified, r.Problems())
			}
			for p, st := range c.status {
				if !hasFile(r, p, st) {
					t.Fatalf("%s is not %s: %+v", p, st, r.Files)
				}
			}
		})
	}
	// Shards and other hashes cannot be compared with blob digests.
	shards := sign(files, manifestSpec{name: "llm", method: "shards", hashType: "sha256", shardSize: 1024})
	if _, err := oms.VerifyOCI(ctx, "x", ociManifestJSON(t, files), shards, pol, oms.VerifyOptions{}); !errors.Is(err, oms.ErrUnsupported) {
		t.Fatalf("shards: %v", err)
	}
	if _, err := oms.VerifyOCI(ctx, "x", []byte(`{"schemaVersion":2,"manifests":[]}`), sig, pol, oms.VerifyOptions{}); err == nil {
		t.Fatal("an index verified as a model")
	}
	bad := []byte(`{"schemaVersion":2,"layers":[{"digest":"sha256:00","annotations":{"org.opencontainers.image.title":"a"}}]}`)
	if _, err := oms.VerifyOCI(ctx, "x", bad, sig, pol, oms.VerifyOptions{}); !errors.Is(err, oms.ErrModelPath) {
		t.Fatalf("bad digest: %v", err)
	}
	escape := ociManifestJSON(t, map[string][]byte{"../x": []byte("x")})
	if _, err := oms.VerifyOCI(ctx, "x", escape, sig, pol, oms.VerifyOptions{}); !errors.Is(err, oms.ErrModelPath) {
		t.Fatalf("title leaving the model: %v", err)
	}
	if _, ok := oms.MatchOCI(ctx, sig, ociManifestJSON(t, files)); !ok {
		t.Fatal("MatchOCI: same files do not match")
	}
	if _, ok := oms.MatchOCI(ctx, sig, ociManifestJSON(t, without("config.json"))); ok {
		t.Fatal("MatchOCI: a missing file matches")
	}
}

// A model signed with model_signing from its directory verifies against
// the OCI manifest that packages the same files.
func TestReferenceSignedOCI(t *testing.T) {
	py := modelSigningPython(t)
	work := t.TempDir()
	keyPath := filepath.Join(work, "k.key")
	pub := pubKey(t, newECKey(t, elliptic.P256(), keyPath))
	files := map[string][]byte{"config.json": []byte(`{"a":1}`), "weights/0.bin": []byte("w0"), "tokenizer/vocab.txt": []byte("a\nb\n")}
	dir := filepath.Join(work, "llm")
	writeFiles(t, dir, files)
	sig := filepath.Join(work, "model.sig")
	signCLI(t, py, "key", dir, "--private_key", keyPath, "--signature", sig)
	r, err := oms.VerifyOCI(ctx, "oci://test", ociManifestJSON(t, files), read(t, sig), keyPolicy(pub), oms.VerifyOptions{})
	if err != nil || !r.Verified || r.Matched != 3 {
		t.Fatalf("%v %v", err, r)
	}
	files["weights/0.bin"] = []byte("w0!")
	r, err = oms.VerifyOCI(ctx, "oci://test", ociManifestJSON(t, files), read(t, sig), keyPolicy(pub), oms.VerifyOptions{})
	if err != nil || r.Verified || !hasFile(r, "weights/0.bin", oms.FileChanged) {
		t.Fatalf("changed layer: %v %v", err, fmt.Sprint(r.Files))
	}
}
