package oms_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/oms"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// modelSigningPython is the python that has sigstore's model_signing:
// MODELGRAPH_MODEL_SIGNING_PY, else the venv the project's own script
// (deploy/dev/install-model-signing.sh) installs under .cache. In CI the
// script runs (it is idempotent), so the interop tests never skip there;
// locally they skip when neither is present.
func modelSigningPython(t *testing.T) string {
	t.Helper()
	if py := os.Getenv("MODELGRAPH_MODEL_SIGNING_PY"); py != "" {
		return py
	}
	if os.Getenv("CI") != "" {
		installOnce.Do(func() {
			cmd := exec.Command("../../deploy/dev/install-model-signing.sh")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			installedPy = strings.TrimSpace(string(out))
			if err != nil {
				installErr = fmt.Errorf("%v: %s", err, stderr.String())
			}
		})
		if installErr != nil || installedPy == "" {
			t.Fatalf("CI must run the model_signing interop tests; deploy/dev/install-model-signing.sh: %v", installErr)
		}
		return installedPy
	}
	if venv, err := filepath.Abs("../../.cache/model-signing-venv/bin/python"); err == nil {
		if _, err := os.Stat(venv); err == nil {
			return venv
		}
	}
	t.Skip(`model_signing interop: export MODELGRAPH_MODEL_SIGNING_PY="$(deploy/dev/install-model-signing.sh)"`)
	return ""
}

var (
	installOnce sync.Once
	installedPy string
	installErr  error
)

func runPython(t *testing.T, py string, args ...string) {
	t.Helper()
	cmd := exec.Command(py, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "MODEL_SIGNING_LOG_LEVEL=WARNING")
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", py, args, err, out.String())
	}
}

// interopModel writes a small model: nested files, an empty one, one of a
// few MiB (several 1 MiB shards), and git files that signing ignores.
func interopModel(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tiny-llm")
	big := make([]byte, 3<<20+12345)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string][]byte{
		"config.json":              []byte(`{"architectures": ["TinyLLM"], "hidden_size": 64}`),
		"model.safetensors":        big,
		"tokenizer/vocab.txt":      []byte("a\nb\nc\n"),
		"tokenizer/special/eos":    []byte("</s>"),
		"empty.txt":                {},
		"README.md":                []byte("# tiny"),
		".gitignore":               []byte("*.pyc"),
		".git/HEAD":                []byte("ref: refs/heads/main"),
		"tokenizer/merges-10.txt":  []byte("x y"),
		"tokenizer/merges-9.txt":   []byte("y z"),
		"dir.with.dots/weights.pt": []byte("pt"),
	})
	return dir
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func newECKey(t *testing.T, curve elliptic.Curve, path string) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, path, "PRIVATE KEY", der)
	return k
}

func pubKey(t *testing.T, k *ecdsa.PrivateKey) trust.PublicKey {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	p, err := trust.ParsePublicKey(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), "interop")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func verifyInterop(t *testing.T, dir, sigPath string, pol *trust.Policy) *oms.Report {
	t.Helper()
	r, err := oms.VerifyModel(ctx, dir, read(t, sigPath), pol, oms.VerifyOptions{SignaturePath: sigPath})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestInteropModelSigningCertificate(t *testing.T) {
	py := modelSigningPython(t)
	work := t.TempDir()
	rootKey := newECKey(t, elliptic.P384(), filepath.Join(work, "root.key"))
	root := envelopetest.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "interop-root"}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, rootKey, &rootKey.PublicKey)
	interKey := newECKey(t, elliptic.P384(), filepath.Join(work, "int.key"))
	inter := envelopetest.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "interop-intermediate"}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, root, rootKey, &interKey.PublicKey)
	leafKeyPath := filepath.Join(work, "leaf.key")
	leafKey := newECKey(t, elliptic.P256(), leafKeyPath)
	leaf := envelopetest.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "release-signer"}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}, inter, interKey, &leafKey.PublicKey)
	writePEM(t, filepath.Join(work, "root.pem"), "CERTIFICATE", root.Raw)
	writePEM(t, filepath.Join(work, "int.pem"), "CERTIFICATE", inter.Raw)
	writePEM(t, filepath.Join(work, "leaf.pem"), "CERTIFICATE", leaf.Raw)

	dir := interopModel(t)
	sigPath := filepath.Join(work, "model.sig")
	runPython(t, py, "-m", "model_signing", "sign", "certificate", dir,
		"--private_key", leafKeyPath, "--signing_certificate", filepath.Join(work, "leaf.pem"),
		"--certificate_chain", filepath.Join(work, "int.pem"), "--signature", sigPath)

	ca, err := trust.LoadCABundle(filepath.Join(work, "root.pem"))
	if err != nil {
		t.Fatal(err)
	}
	r := verifyInterop(t, dir, sigPath, &trust.Policy{Rules: []trust.Rule{{CAs: []trust.CABundle{ca}}}})
	if !r.Verified || r.Signatures[0].Identity != "CN=release-signer" || r.Signatures[0].Issuer != "CN=interop-intermediate" {
		t.Fatalf("verified=%v %v %+v", r.Verified, r.Problems(), r.Signatures)
	}
	// Trusting only the intermediate (no anchor) is not trusting the chain;
	// another CA is not either.
	rk2 := newECKey(t, elliptic.P256(), filepath.Join(work, "root2.key"))
	root2 := envelopetest.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "interop-root"}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, rk2, &rk2.PublicKey)
	if r := verifyInterop(t, dir, sigPath, &trust.Policy{Rules: []trust.Rule{{CAs: []trust.CABundle{{Source: "impostor", Roots: []*x509.Certificate{root2}}}}}}); r.SignatureVerified {
		t.Fatal("verified against a CA with the same name but another key")
	}
}
