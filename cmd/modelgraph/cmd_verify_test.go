package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/oms"
)

const omsFixtures = "../../testdata/oms"

func fx(p string) string { return filepath.Join(omsFixtures, p) }

// runVerify drives the command tree like a user would.
func runVerify(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := NewRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"verify", "model"}, args...))
	err := root.Execute()
	return out.String(), err
}

func TestVerifyModelCommandFailures(t *testing.T) {
	key := fx("keys/certificate/signing-key-pub.pem")
	tampered := filepath.Join(t.TempDir(), "model")
	if err := os.MkdirAll(tampered, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"model.sig", "signme-1", "signme-2", "ignore-me"} {
		b, err := os.ReadFile(fx("v1.1.0-elliptic-key/" + f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "signme-2" {
			b = append(b, '!')
		}
		if err := os.WriteFile(filepath.Join(tampered, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, want string
		args       []string
	}{
		{"extra file", "extra    ignore-me", []string{fx("v1.0.1-elliptic-key"), "--public-key", key}},
		{"changed file", "changed  signme-2", []string{tampered, "--public-key", key}},
		{"wrong key", "failed", []string{fx("v1.1.0-elliptic-key"), "--cert-chain", fx("keys/certificate/ca-cert.pem"), "--public-key", writeTempKey(t)}},
		{"wrong identity", "is not one the trust policy allows", []string{fx("v1.1.0-sigstore"), "--identity", "eve@us.ibm.com", "--issuer", "https://sigstore.verify.ibm.com/oauth2"}},
		{"chain not to a trusted CA", "does not lead to a trusted CA", []string{fx("v1.1.0-certificate"), "--cert-chain", fx("keys/certificate/int-ca-cert.pem"), "--cert-chain", writeTempCA(t)}},
		{"legacy, wrong CA", "failed", []string{fx("v0.2.0-certificate"), "--cert-chain", writeTempCA(t)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := runVerify(t, c.args...)
			if err == nil || exitCode(err) != 1 {
				t.Fatalf("err = %v, want exit 1\n%s", err, out)
			}
			if !strings.Contains(out, "Result     FAILED") || !strings.Contains(out, c.want) {
				t.Fatalf("output lacks %q:\n%s", c.want, out)
			}
		})
	}
}

func TestVerifyModelCommandJSON(t *testing.T) {
	out, err := runVerify(t, fx("v1.0.1-elliptic-key"), "--public-key", fx("keys/certificate/signing-key-pub.pem"), "-o", "json")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("err = %v", err)
	}
	var r oms.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Verified || !r.SignatureVerified || r.Extra != 1 || r.Matched != 2 || r.Signatures[0].Status != "verified" {
		t.Fatalf("report = %+v", r)
	}
}

// JSON reports name every file that differs, with its status, path and
// digests; a check that cannot run is JSON too.
func TestVerifyModelCommandJSONFiles(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"model.sig", "signme-1", "signme-2"} {
		b, err := os.ReadFile(fx("v1.1.0-elliptic-key/" + f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "signme-1" {
			continue // missing
		}
		if f == "signme-2" {
			b = append(b, '!') // changed
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "new.bin"), []byte("x"), 0o644); err != nil { // extra
		t.Fatal(err)
	}
	out, err := runVerify(t, dir, "--public-key", fx("keys/certificate/signing-key-pub.pem"), "-o", "json")
	if exitCode(err) != 1 {
		t.Fatalf("err = %v", err)
	}
	var r oms.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := map[string]oms.FileStatus{"new.bin": oms.FileExtra, "signme-1": oms.FileMissing, "signme-2": oms.FileChanged}
	if len(r.Files) != 3 || r.Missing != 1 || r.Extra != 1 || r.Changed != 1 {
		t.Fatalf("files: %+v", r.Files)
	}
	for _, f := range r.Files {
		if want[f.Path] != f.Status {
			t.Errorf("%s: %s, want %s", f.Path, f.Status, want[f.Path])
		}
		if f.Status == oms.FileChanged && (!strings.HasPrefix(f.Expected, "sha256:") || !strings.HasPrefix(f.Actual, "sha256:") || f.Expected == f.Actual) {
			t.Errorf("changed file without digests: %+v", f)
		}
	}
	out, err = runVerify(t, dir, "--signature", fx("v1.1.0-elliptic-key/signme-1"), "--public-key", fx("keys/certificate/signing-key-pub.pem"), "-o", "json")
	var e struct {
		Verified bool   `json:"verified"`
		Error    string `json:"error"`
	}
	if exitCode(err) != 1 || json.Unmarshal([]byte(out), &e) != nil || e.Verified || e.Error == "" {
		t.Fatalf("unreadable signature: %v\n%s", err, out)
	}
}

func TestVerifyModelCommandPolicy(t *testing.T) {
	dir := t.TempDir()
	key, err := filepath.Abs(fx("keys/certificate/signing-key-pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pol := filepath.Join(dir, "trust.yaml")
	write := func(doc string) {
		if err := os.WriteFile(pol, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("version: 1\nrules:\n  - name: release\n    subjects: [\"v1.1.0-*\"]\n    keys: [{path: " + key + "}]\n")
	if out, err := runVerify(t, fx("v1.1.0-elliptic-key"), "--policy", pol); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The same key is not trusted for another model.
	out, err := runVerify(t, fx("v1.0.1-elliptic-key"), "--policy", pol, "--ignore-paths", "ignore-me")
	if err == nil || !strings.Contains(out, "does not allow") {
		t.Fatalf("err = %v\n%s", err, out)
	}
	write("version: 1\nrules: [{keys: [{path: /nope.pem}]}]\n")
	if _, err := runVerify(t, fx("v1.1.0-elliptic-key"), "--policy", pol); err == nil || !strings.Contains(err.Error(), "--policy") {
		t.Fatalf("bad policy: %v", err)
	}
}

func TestVerifyModelCommandUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{fx("v1.1.0-elliptic-key")}, "no trust material"},
		{[]string{fx("v1.1.0-elliptic-key"), "--identity", "x@y"}, "issuer"},
		{[]string{fx("v1.1.0-elliptic-key"), "--public-key", "/does/not/exist"}, "--public-key"},
		{[]string{fx("v1.1.0-elliptic-key"), "--public-key", fx("keys/certificate/signing-key-pub.pem"), "-o", "xml"}, "--output"},
		{[]string{fx("v1.0.0-elliptic-key/signme-1"), "--public-key", fx("keys/certificate/signing-key-pub.pem")}, "--signature is required"},
		{[]string{fx("v1.1.0-elliptic-key"), "--public-key", fx("keys/certificate/signing-key-pub.pem"), "--signature", fx("v1.1.0-elliptic-key/signme-1")}, "not a JSON object"},
		{[]string{"a", "b"}, "accepts 1 arg"},
	} {
		if _, err := runVerify(t, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.args, err, c.want)
		}
	}
}

func writeTempKey(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "other.pub")
	if err := os.WriteFile(p, envelopetest.NewKeySigner(t).PublicPEM(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeTempCA(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(p, envelopetest.NewCA(t, "other").RootPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
