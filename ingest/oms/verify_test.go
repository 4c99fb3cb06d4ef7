package oms_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/oms"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// fixtureModel is what a fixture signed: the directory, or its single file
// for the v0.3.1 and v1.0.0 elliptic-key fixtures (resource ".").
func fixtureModel(dir string) string {
	switch filepath.Base(dir) {
	case "v0.3.1-elliptic-key", "v1.0.0-elliptic-key":
		return filepath.Join(dir, "signme-1")
	}
	return dir
}

func fixtureDirs(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(fixtures, "v*"))
	if err != nil || len(dirs) != 13 {
		t.Fatalf("found %d fixture directories (%v), want 13", len(dirs), err)
	}
	return dirs
}

func verifyFixture(t *testing.T, dir string, pol *trust.Policy, opts oms.VerifyOptions) *oms.Report {
	t.Helper()
	sigPath := filepath.Join(dir, "model.sig")
	opts.SignaturePath = sigPath
	r, err := oms.VerifyModel(ctx, fixtureModel(dir), read(t, sigPath), pol, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestVerifyModelFixtures(t *testing.T) {
	pol := fixturePolicy(t)
	for _, dir := range fixtureDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			r := verifyFixture(t, dir, pol, oms.VerifyOptions{IgnorePaths: []string{"ignore-me"}})
			if r.Missing+r.Changed+r.Extra != 0 || r.Matched != r.Signed || r.Signed == 0 {
				t.Fatalf("files: %+v", r.Files)
			}
			if strings.HasPrefix(filepath.Base(dir), "v0.2.") {
				// Legacy: verified with model_signing's compatibility
				// encoding, as the reference does, and said so.
				s := r.Signatures[0]
				if !r.Verified || s.Status != graph.StatusVerified || s.Reason != envelope.ReasonLegacyEncoding || !strings.Contains(s.Reason, "legacy v0.2 encoding") {
					t.Fatalf("legacy report: verified=%v %+v", r.Verified, s)
				}
				return
			}
			if !r.Verified || !r.RootMatches || len(r.Problems()) != 0 {
				t.Fatalf("not verified: %v", r.Problems())
			}
		})
	}
}

// The v1.0.1 signatures did not record their ignore_paths; v1.1.0 did.
func TestVerifyModelIgnoreMe(t *testing.T) {
	pol := fixturePolicy(t)
	r := verifyFixture(t, filepath.Join(fixtures, "v1.0.1-sigstore"), pol, oms.VerifyOptions{})
	if r.Verified || r.Extra != 1 || r.Files[0].Path != "ignore-me" || r.Files[0].Status != oms.FileExtra {
		t.Fatalf("without --ignore-paths: %+v", r.Files)
	}
	r = verifyFixture(t, filepath.Join(fixtures, "v1.1.0-sigstore"), pol, oms.VerifyOptions{})
	if !r.Verified {
		t.Fatalf("v1.1.0 records ignore-me itself: %v", r.Problems())
	}
	// The signature file is excluded only when it is the one in the model.
	dir := copyDir(t, filepath.Join(fixtures, "v1.1.0-elliptic-key"))
	writeFiles(t, dir, map[string][]byte{"other.sig": read(t, filepath.Join(dir, "model.sig"))})
	r, err := oms.VerifyModel(ctx, dir, read(t, filepath.Join(dir, "other.sig")), pol, oms.VerifyOptions{SignaturePath: filepath.Join(dir, "other.sig")})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Verified {
		t.Fatalf("model.sig is in the predicate's ignore_paths, other.sig is the signature: %v", r.Problems())
	}
}

func TestVerifyModelWrongMaterial(t *testing.T) {
	other := envelopetest.NewKeySigner(t).PublicKey(t)
	wrong := []*trust.Policy{
		nil,
		keyPolicy(other),
		{Rules: []trust.Rule{{CAs: []trust.CABundle{envelopetest.NewCA(t, "x").Bundle(t)}}}},
		{Roots: []trust.Root{publicGood(t)}, Rules: []trust.Rule{{Identities: []trust.Identity{{Issuer: fixtureIssuer, SAN: "eve@us.ibm.com"}}}}},
		{Roots: []trust.Root{publicGood(t)}, Rules: []trust.Rule{{Identities: []trust.Identity{{Issuer: "https://github.com/login/oauth", SAN: fixtureSAN}}}}},
		{Roots: []trust.Root{envelopetest.NewKeyless(t).Root()}, Rules: []trust.Rule{{Identities: []trust.Identity{{Issuer: fixtureIssuer, SAN: fixtureSAN}}}}},
	}
	for _, dir := range fixtureDirs(t) {
		for i, pol := range wrong {
			r := verifyFixture(t, dir, pol, oms.VerifyOptions{IgnorePaths: []string{"ignore-me"}})
			if r.Verified || r.SignatureVerified {
				t.Errorf("%s with wrong policy %d: verified", filepath.Base(dir), i)
			}
			for _, s := range r.Signatures {
				if s.Status == graph.StatusVerified {
					t.Errorf("%s with wrong policy %d: signature %+v", filepath.Base(dir), i, s)
				}
			}
		}
	}
}

func TestVerifyModelTamperOnDisk(t *testing.T) {
	pol := fixturePolicy(t)
	base := filepath.Join(fixtures, "v1.1.0-elliptic-key")
	cases := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		path   string
		status oms.FileStatus
	}{
		{"changed byte", func(t *testing.T, dir string) {
			b := read(t, filepath.Join(dir, "signme-1"))
			b[0] ^= 1
			writeFiles(t, dir, map[string][]byte{"signme-1": b})
		}, "signme-1", oms.FileChanged},
		{"truncated", func(t *testing.T, dir string) {
			writeFiles(t, dir, map[string][]byte{"signme-2": {}})
		}, "signme-2", oms.FileChanged},
		{"missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "signme-2")); err != nil {
				t.Fatal(err)
			}
		}, "signme-2", oms.FileMissing},
		{"extra", func(t *testing.T, dir string) {
			writeFiles(t, dir, map[string][]byte{"backdoor.py": []byte("import os")})
		}, "backdoor.py", oms.FileExtra},
		{"extra nested", func(t *testing.T, dir string) {
			writeFiles(t, dir, map[string][]byte{"sub/dir/weights.bin": []byte("x")})
		}, "sub/dir/weights.bin", oms.FileExtra},
		{"extra in nested .git", func(t *testing.T, dir string) {
			// Only the root's git paths are ignored, as in model_signing.
			writeFiles(t, dir, map[string][]byte{"sub/.git/config": []byte("x")})
		}, "sub/.git/config", oms.FileExtra},
		{"renamed", func(t *testing.T, dir string) {
			if err := os.Rename(filepath.Join(dir, "signme-1"), filepath.Join(dir, "signme-3")); err != nil {
				t.Fatal(err)
			}
		}, "signme-1", oms.FileMissing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, base)
			c.tamper(t, dir)
			r, err := oms.VerifyModel(ctx, dir, read(t, filepath.Join(dir, "model.sig")), pol, oms.VerifyOptions{SignaturePath: filepath.Join(dir, "model.sig")})
			if err != nil {
				t.Fatal(err)
			}
			if r.Verified || !r.SignatureVerified {
				t.Fatalf("verified=%v signature=%v", r.Verified, r.SignatureVerified)
			}
			found := false
			for _, f := range r.Files {
				if f.Path == c.path {
					found = f.Status == c.status
				}
			}
			if !found {
				t.Fatalf("want %s %s in %+v", c.status, c.path, r.Files)
			}
		})
	}
}

func TestVerifyModelIgnoredPaths(t *testing.T) {
	pol := fixturePolicy(t)
	dir := copyDir(t, filepath.Join(fixtures, "v1.1.0-elliptic-key"))
	writeFiles(t, dir, map[string][]byte{
		".git/HEAD":        []byte("ref"),
		".gitattributes":   []byte("*"),
		".github/ci.yml":   []byte("on: push"),
		"notes/readme.txt": []byte("hello"),
		"scratch.tmp":      []byte("x"),
	})
	abs, err := filepath.Abs(filepath.Join(dir, "scratch.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	opts := oms.VerifyOptions{SignaturePath: filepath.Join(dir, "model.sig"), IgnorePaths: []string{"notes", abs, "../outside", "/elsewhere/x"}}
	r, err := oms.VerifyModel(ctx, dir, read(t, filepath.Join(dir, "model.sig")), pol, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Verified {
		t.Fatalf("ignored paths counted: %v", r.Problems())
	}
	opts.KeepGitPaths = true
	r, err = oms.VerifyModel(ctx, dir, read(t, filepath.Join(dir, "model.sig")), pol, opts)
	if err != nil {
		t.Fatal(err)
	}
	// v1.1.0 lists the git paths in its ignore_paths too.
	if !r.Verified {
		t.Fatalf("git paths from the predicate: %v", r.Problems())
	}
	// Unsigned files can be skipped on request.
	writeFiles(t, dir, map[string][]byte{"unsigned.bin": []byte("x")})
	opts.IgnoreUnsignedFiles = true
	r, err = oms.VerifyModel(ctx, dir, read(t, filepath.Join(dir, "model.sig")), pol, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Verified {
		t.Fatalf("ignore unsigned files: %v", r.Problems())
	}
}

func TestVerifyModelSymlinks(t *testing.T) {
	pol := fixturePolicy(t)
	dir := copyDir(t, filepath.Join(fixtures, "v1.1.0-elliptic-key"))
	outside := filepath.Join(t.TempDir(), "secret")
	writeFiles(t, filepath.Dir(outside), map[string][]byte{"secret": []byte("s")})
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	sig := read(t, filepath.Join(dir, "model.sig"))
	_, err := oms.VerifyModel(ctx, dir, sig, pol, oms.VerifyOptions{SignaturePath: filepath.Join(dir, "model.sig")})
	if !errors.Is(err, oms.ErrModelPath) || !strings.Contains(err.Error(), "link is a symlink") {
		t.Fatalf("symlink not refused: %v", err)
	}
	r, err := oms.VerifyModel(ctx, dir, sig, pol, oms.VerifyOptions{SignaturePath: filepath.Join(dir, "model.sig"), AllowSymlinks: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Verified || r.Extra != 1 {
		t.Fatalf("followed symlink should be an extra file: %+v", r.Files)
	}
}

// A manifest whose names leave the model is rejected before the model is
// read: the model path here does not even exist.
func TestVerifyModelRejectsTraversal(t *testing.T) {
	ks := envelopetest.NewKeySigner(t)
	for _, name := range []string{"../etc/passwd", "/etc/passwd", "a/../../b", `a\..\b`, "", "./", "a\x00b", "../x:0:10"} {
		method := "files"
		if strings.Count(name, ":") == 2 {
			method = "shards"
		}
		ser := map[string]any{"method": method, "hash_type": "sha256", "allow_symlinks": false}
		if method == "shards" {
			ser["shard_size"] = 10
		}
		stmt := statementJSON(t, "m", strings.Repeat("00", 32), map[string]any{
			"serialization": ser,
			"resources":     []any{map[string]string{"name": name, "algorithm": "sha256", "digest": strings.Repeat("00", 32)}},
		})
		_, err := oms.VerifyModel(ctx, filepath.Join(t.TempDir(), "does-not-exist"), ks.Bundle(t, statement.PayloadType, stmt), keyPolicy(ks.PublicKey(t)), oms.VerifyOptions{})
		if !errors.Is(err, oms.ErrInvalidDocument) || errors.Is(err, oms.ErrModelPath) || !strings.Contains(err.Error(), "resources[0].name") {
			t.Errorf("name %q: err = %v", name, err)
		}
	}
}

var generated = map[string][]byte{
	"config.json":          []byte(`{"layers": 2}`),
	"empty":                {},
	"weights/layer-0.bin":  bytes.Repeat([]byte{1, 2, 3, 4, 5}, 500), // 2500 bytes
	"weights/layer-1.bin":  bytes.Repeat([]byte{9}, 1000),            // exactly one shard
	"weights/layer-10.bin": bytes.Repeat([]byte{7}, 999),
	"a/b/c/deep.txt":       []byte("deep"),
	"same-as-config.json":  []byte(`{"layers": 2}`),
}

func TestVerifyModelSerializations(t *testing.T) {
	ks := envelopetest.NewKeySigner(t)
	pol := keyPolicy(ks.PublicKey(t))
	specs := []manifestSpec{
		{method: "files", hashType: "sha256"},
		{method: "files", hashType: "blake2b"},
		{method: "files", hashType: "blake3"},
		{method: "shards", hashType: "sha256", shardSize: 1000},
		{method: "shards", hashType: "blake2b", shardSize: 1000.0},
		{method: "shards", hashType: "sha256", shardSize: 7},
		// Spec-conforming forms model_signing does not write: blake3 shards
		// (it hashes blake3 by files) and hash_type as the shard algorithm.
		{method: "shards", hashType: "blake3", shardSize: 1000},
		{method: "shards", hashType: "sha256", shardSize: 1000, specShardAlg: true},
	}
	for _, spec := range specs {
		spec.name = "gen"
		t.Run(fmt.Sprintf("%s-%s-%v-%v", spec.method, spec.hashType, spec.shardSize, spec.specShardAlg), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "gen")
			writeFiles(t, dir, generated)
			sig := ks.Bundle(t, statement.PayloadType, manifest(t, spec, generated))
			for _, workers := range []int{1, 3} {
				r, err := oms.VerifyModel(ctx, dir, sig, pol, oms.VerifyOptions{Hasher: oms.Hasher{Workers: workers, ChunkSize: 64}})
				if err != nil {
					t.Fatal(err)
				}
				if !r.Verified {
					t.Fatalf("workers=%d: %v", workers, r.Problems())
				}
			}
			// Change one byte in the middle of the multi-shard file.
			b := bytes.Clone(generated["weights/layer-0.bin"])
			b[1500] ^= 0xff
			writeFiles(t, dir, map[string][]byte{"weights/layer-0.bin": b})
			r, err := oms.VerifyModel(ctx, dir, sig, pol, oms.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Verified || r.Changed != 1 {
				t.Fatalf("changed file not found: %+v", r.Files)
			}
			for _, f := range r.Files {
				if f.Path == "weights/layer-0.bin" && spec.method == "shards" && spec.shardSize == 1000 && !strings.Contains(f.Detail, "1 shard(s) differ: 1000:2000") {
					t.Fatalf("detail = %q", f.Detail)
				}
			}
		})
	}
}

func TestVerifyModelSignatureTamper(t *testing.T) {
	ks := envelopetest.NewKeySigner(t)
	pol := keyPolicy(ks.PublicKey(t))
	dir := filepath.Join(t.TempDir(), "gen")
	writeFiles(t, dir, generated)
	spec := manifestSpec{name: "gen", method: "files", hashType: "sha256"}
	good := manifest(t, spec, generated)

	// Re-signed with a trusted key, but the subject is not the resources'
	// root: the signer vouched for another model.
	var st map[string]any
	mustJSON(t, good, &st)
	st["subject"].([]any)[0].(map[string]any)["digest"] = map[string]any{"sha256": strings.Repeat("ab", 32)}
	badRoot := toJSON(t, st)
	r, err := oms.VerifyModel(ctx, dir, ks.Bundle(t, statement.PayloadType, badRoot), pol, oms.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Verified || r.SignatureVerified || r.RootMatches || r.Signatures[0].Status != graph.StatusFailed || r.Signatures[0].Reason != oms.ReasonRootMismatch {
		t.Fatalf("root mismatch: %+v", r.Signatures)
	}

	// A resource digest changed and the root recomputed, then signed by a
	// trusted key: the signature is good, the file does not match.
	mustJSON(t, good, &st)
	res := st["predicate"].(map[string]any)["resources"].([]any)[0].(map[string]any)
	d, _ := hex.DecodeString(res["digest"].(string))
	d[0] ^= 1
	res["digest"] = hex.EncodeToString(d)
	st["subject"].([]any)[0].(map[string]any)["digest"] = map[string]any{"sha256": rootOf(t, st)}
	r, err = oms.VerifyModel(ctx, dir, ks.Bundle(t, statement.PayloadType, toJSON(t, st)), pol, oms.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Verified || !r.SignatureVerified || r.Changed != 1 {
		t.Fatalf("resource digest: verified=%v sig=%v %+v", r.Verified, r.SignatureVerified, r.Files)
	}

	// The payload modified after signing.
	sig := envelopetest.Mutate(t, ks.Bundle(t, statement.PayloadType, good), func(b map[string]any) {
		b["dsseEnvelope"].(map[string]any)["payload"] = base64.StdEncoding.EncodeToString(toJSON(t, st))
	})
	r, err = oms.VerifyModel(ctx, dir, sig, pol, oms.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Verified || r.SignatureVerified || r.Signatures[0].Status != graph.StatusFailed {
		t.Fatalf("modified payload: %+v", r.Signatures)
	}

	// Signature bytes flipped.
	sig = envelopetest.Mutate(t, ks.Bundle(t, statement.PayloadType, good), func(b map[string]any) {
		s := b["dsseEnvelope"].(map[string]any)["signatures"].([]any)[0].(map[string]any)
		s["sig"] = envelopetest.FlipB64(t, s["sig"].(string), 5)
	})
	r, err = oms.VerifyModel(ctx, dir, sig, pol, oms.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Verified || r.Signatures[0].Status != graph.StatusFailed {
		t.Fatalf("flipped signature: %+v", r.Signatures)
	}

	// A bare statement (no signature at all) is never verified.
	r, err = oms.VerifyModel(ctx, dir, good, pol, oms.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Verified || r.Format != envelope.FormatStatement || len(r.Signatures) != 0 || r.Matched != r.Signed {
		t.Fatalf("unsigned statement: %+v", r)
	}
}

func TestVerifyModelErrors(t *testing.T) {
	ks := envelopetest.NewKeySigner(t)
	pol := keyPolicy(ks.PublicKey(t))
	dir := filepath.Join(t.TempDir(), "gen")
	writeFiles(t, dir, generated)
	if _, err := oms.VerifyModel(ctx, dir, []byte("garbage"), pol, oms.VerifyOptions{SignaturePath: "x.sig"}); !errors.Is(err, envelope.ErrInvalidDocument) || !strings.Contains(err.Error(), "x.sig") {
		t.Errorf("garbage signature: %v", err)
	}
	unknown := ks.Bundle(t, statement.PayloadType, manifest(t, manifestSpec{name: "gen", method: "files", hashType: "sha256"}, generated))
	sha3 := ks.Bundle(t, statement.PayloadType, bytes.ReplaceAll(manifest(t, manifestSpec{name: "gen", method: "files", hashType: "sha256"}, generated), []byte(`"hash_type":"sha256"`), []byte(`"hash_type":"sha3"`)))
	if _, err := oms.VerifyModel(ctx, dir, sha3, pol, oms.VerifyOptions{}); !errors.Is(err, oms.ErrInvalidDocument) || !strings.Contains(err.Error(), "hash_type") {
		t.Errorf("unknown hash type: %v", err)
	}
	if _, err := oms.VerifyModel(ctx, filepath.Join(dir, "nope"), unknown, pol, oms.VerifyOptions{}); !errors.Is(err, oms.ErrModelPath) {
		t.Errorf("missing model: %v", err)
	}
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := oms.VerifyModel(c, dir, unknown, pol, oms.VerifyOptions{}); err == nil {
		t.Error("cancelled context: no error")
	}
}
