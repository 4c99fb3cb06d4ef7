package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/ingest/trust"
)

const omsFixtures = "../../testdata/oms"

func fx(p string) string { return filepath.Join(omsFixtures, p) }

// TestModelFixtures: every kind of signature model_signing writes
// verifies against its trust material, and the report says so.
func TestModelFixtures(t *testing.T) {
	key := fx("keys/certificate/signing-key-pub.pem")
	cases := []struct {
		name   string
		target string
		o      Options
	}{
		{"key", fx("v1.1.0-elliptic-key"), Options{Trust: trust.Material{PublicKeys: []string{key}}}},
		{"key, single file", fx("v1.0.0-elliptic-key/signme-1"), Options{Signature: fx("v1.0.0-elliptic-key/model.sig"), Trust: trust.Material{PublicKeys: []string{key}}}},
		{"certificate chain", fx("v1.0.1-certificate"), Options{IgnorePaths: []string{"ignore-me"},
			Trust: trust.Material{CertChains: []string{fx("keys/certificate/ca-cert.pem"), fx("keys/certificate/int-ca-cert.pem")}}}},
		{"keyless, embedded root", fx("v1.1.0-sigstore"), Options{Trust: trust.Material{Identity: "stefanb@us.ibm.com", Issuer: "https://sigstore.verify.ibm.com/oauth2"}}},
		{"legacy v0.2, certificate", fx("v0.2.0-certificate"), Options{Trust: trust.Material{CertChains: []string{fx("keys/certificate/ca-cert.pem")}}}},
		{"keyless, regexp, root file", fx("v1.0.0-sigstore"), Options{Trust: trust.Material{IdentityRegexp: `^stefanb@`, IssuerRegexp: `ibm\.com`,
			TrustedRoots: []string{fx("trusted_root.public-good.json")}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Model(context.Background(), c.target, c.o)
			if err != nil {
				t.Fatal(err)
			}
			if err := Failure(c.target, r); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := WriteText(&out, r); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "Result     VERIFIED") || !strings.Contains(out.String(), ": verified") {
				t.Fatalf("output:\n%s", out.String())
			}
			if strings.HasPrefix(c.name, "legacy") != strings.Contains(out.String(), "legacy v0.2 encoding") {
				t.Fatalf("the report must say when the legacy v0.2 encoding was used:\n%s", out.String())
			}
		})
	}
}

// TestModelFailure: a changed file fails with a report naming it, and
// Failure names the model and the first problems.
func TestModelFailure(t *testing.T) {
	dir := t.TempDir()
	src := fx("v1.1.0-elliptic-key")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "signme-1" {
			b = append(b, '!')
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Model(context.Background(), dir, Options{Trust: trust.Material{PublicKeys: []string{fx("keys/certificate/signing-key-pub.pem")}}})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_ = WriteText(&out, r)
	if r.Verified || !strings.Contains(out.String(), "Result     FAILED") || !strings.Contains(out.String(), "signme-1") {
		t.Fatalf("changed file: verified %v\n%s", r.Verified, out.String())
	}
	if err := Failure(dir, r); err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "signme-1") {
		t.Fatalf("Failure: %v", err)
	}
}

// TestModelUsage: checks that cannot run say what is missing.
func TestModelUsage(t *testing.T) {
	key := trust.Material{PublicKeys: []string{fx("keys/certificate/signing-key-pub.pem")}}
	for _, c := range []struct {
		target string
		o      Options
		want   string
	}{
		{fx("v1.1.0-elliptic-key"), Options{}, "no trust material"},
		{fx("v1.0.0-elliptic-key/signme-1"), Options{Trust: key}, "--signature is required when the model is a single file"},
		{"oci://localhost:5000/acme/llm:v1", Options{Trust: key}, "--signature is required for a model packaged as an OCI artifact"},
		{"oci-layout:" + t.TempDir(), Options{Trust: key}, "--signature is required"},
		{fx("v1.1.0-elliptic-key"), Options{Trust: key, Workers: -1}, "--workers"},
		{fx("v1.1.0-elliptic-key"), Options{Trust: key, Signature: filepath.Join(t.TempDir(), "none.sig")}, "signature:"},
	} {
		if _, err := Model(context.Background(), c.target, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: err = %v, want %q", c.target, c.o, err, c.want)
		}
	}
}

// TestPrint: JSON readers get JSON for a check that could not run too,
// and the returned error decides the exit status.
func TestPrint(t *testing.T) {
	target := fx("v1.1.0-elliptic-key")
	_, cause := Model(context.Background(), target, Options{})
	var out bytes.Buffer
	if err := Print(&out, true, target, nil, cause); err != cause {
		t.Fatalf("Print returned %v, want %v", err, cause)
	}
	var got struct {
		Path     string `json:"path"`
		Verified bool   `json:"verified"`
		Error    string `json:"error"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.Path != target || got.Verified || !strings.Contains(got.Error, "no trust material") {
		t.Fatalf("JSON %s: %v", out.String(), err)
	}
	r, err := Model(context.Background(), target, Options{Trust: trust.Material{PublicKeys: []string{fx("keys/certificate/signing-key-pub.pem")}}})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := Print(&out, true, target, r, nil); err != nil || !json.Valid(out.Bytes()) || !strings.Contains(out.String(), `"verified": true`) {
		t.Fatalf("verified model: %v\n%s", err, out.String())
	}
}
