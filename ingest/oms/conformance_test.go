package oms_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/oms"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// A correctly signed OMS payload whose in-toto _type is Statement v0.1 is
// not a model signature (spec §8.3, and model_signing refuses it): verify
// model reports an error naming _type instead of "verified".
func TestVerifyModelRejectsStatementV01(t *testing.T) {
	ks := envelopetest.NewKeySigner(t)
	dir := filepath.Join(t.TempDir(), "gen")
	writeFiles(t, dir, generated)
	good := manifest(t, manifestSpec{name: "gen", method: "files", hashType: "sha256"}, generated)
	if r, err := oms.VerifyModel(ctx, dir, ks.Bundle(t, statement.PayloadType, good), keyPolicy(ks.PublicKey(t)), oms.VerifyOptions{}); err != nil || !r.Verified {
		t.Fatalf("control: %v %v", err, r)
	}
	v01 := bytes.Replace(good, []byte(statement.TypeV1), []byte(statement.TypeV01), 1)
	if bytes.Equal(v01, good) {
		t.Fatal("statement type not replaced")
	}
	r, err := oms.VerifyModel(ctx, dir, ks.Bundle(t, statement.PayloadType, v01), keyPolicy(ks.PublicKey(t)), oms.VerifyOptions{})
	if !errors.Is(err, oms.ErrInvalidDocument) || !strings.Contains(err.Error(), "_type") || r != nil {
		t.Fatalf("Statement v0.1: report %v, err %v", r, err)
	}
}

// clientTrustConfig wraps the public-good trusted root in a sigstore client
// trust configuration, as model_signing's --trust_config reads.
func clientTrustConfig(t *testing.T) string {
	t.Helper()
	var tr any
	mustJSON(t, read(t, filepath.Join(fixtures, "trusted_root.public-good.json")), &tr)
	cfg := map[string]any{
		"mediaType":   "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
		"trustedRoot": tr,
		"signingConfig": map[string]any{
			"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
			"caUrls":    []any{map[string]any{"url": "https://fulcio.sigstore.dev", "majorApiVersion": 1, "validFor": map[string]any{"start": "2023-04-14T21:38:40Z"}, "operator": "sigstore.dev"}},
			"oidcUrls":  []any{},
			"rekorTlogUrls": []any{map[string]any{"url": "https://rekor.sigstore.dev", "majorApiVersion": 1,
				"validFor": map[string]any{"start": "2021-01-12T11:53:27Z"}, "operator": "sigstore.dev"}},
			"tsaUrls":         []any{},
			"rekorTlogConfig": map[string]any{"selector": "ANY"},
			"tsaConfig":       map[string]any{"selector": "ANY"},
		},
	}
	p := filepath.Join(t.TempDir(), "trust_config.json")
	writeFiles(t, filepath.Dir(p), map[string][]byte{"trust_config.json": toJSON(t, cfg)})
	return p
}

// A private sigstore instance can be given as a trusted_root.json or as a
// client trust configuration (model_signing's --trust_config).
func TestKeylessWithClientTrustConfig(t *testing.T) {
	r, err := trust.LoadTrustedRoot(clientTrustConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	id := []trust.Identity{{Issuer: fixtureIssuer, SAN: fixtureSAN}}
	rep := verifyFixture(t, filepath.Join(fixtures, "v1.1.0-sigstore"), &trust.Policy{Roots: []trust.Root{r}, Rules: []trust.Rule{{Identities: id}}}, oms.VerifyOptions{})
	if !rep.Verified {
		t.Fatalf("not verified with the trust config: %v", rep.Problems())
	}
	// A trust config of another instance does not verify it.
	other := envelopetest.NewKeyless(t).Root()
	rep = verifyFixture(t, filepath.Join(fixtures, "v1.1.0-sigstore"), &trust.Policy{Roots: []trust.Root{other}, Rules: []trust.Rule{{Identities: id}}}, oms.VerifyOptions{})
	if rep.SignatureVerified {
		t.Fatal("verified against another instance")
	}
	if _, err := trust.ParseTrustedRoot([]byte(`{"mediaType":"application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"}`), "empty"); err == nil || !strings.Contains(err.Error(), "trustedRoot is missing") {
		t.Fatalf("empty trust config: %v", err)
	}
}

// Spec §5.2.1: verifiers ignore unrecognized fields in resource
// descriptors (and in the predicate, §5.2); §6.1.2 item 5: a single-file
// model's resource is its file name (model_signing writes "."): both
// verify.
func TestResourceExtrasAndSingleFileNames(t *testing.T) {
	ks := envelopetest.NewKeySigner(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "weights.bin")
	writeFiles(t, dir, map[string][]byte{"weights.bin": []byte("w")})
	d := digest("sha256", []byte("w"))
	for _, name := range []string{"weights.bin", "."} {
		st := statementJSON(t, "weights.bin", hexOf(digest("sha256", d)), map[string]any{
			"serialization": map[string]any{"method": "files", "hash_type": "sha256", "allow_symlinks": false, "future": 1},
			"resources": []any{map[string]any{"name": name, "algorithm": "sha256", "digest": hexOf(d),
				"media_type": "application/octet-stream", "annotations": map[string]any{"k": "v"}, "uri": "file:///x"}},
			"model_card": map[string]any{"ignored": true},
		})
		r, err := oms.VerifyModel(ctx, file, ks.Bundle(t, statement.PayloadType, st), keyPolicy(ks.PublicKey(t)), oms.VerifyOptions{})
		if err != nil || !r.Verified || r.Matched != 1 {
			t.Fatalf("resource %q: %v %v", name, err, r)
		}
	}
}

func hexOf(b []byte) string { return fmt.Sprintf("%x", b) }
