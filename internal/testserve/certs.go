package testserve

import (
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot is the module's root directory (found from this file, so it
// does not depend on the test's working directory).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testserve: cannot locate the repository")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// WebhookCerts runs deploy/dev/webhook-certs.sh into dir (a CA, kept when
// dir has one; a serving certificate for 127.0.0.1 and localhost, renewed
// on every run; a client certificate: docs/admission.md) and returns a
// pool holding the CA, for clients of the admission webhook's TLS
// listener.
func WebhookCerts(t testing.TB, dir string) *x509.CertPool {
	t.Helper()
	if out, err := exec.Command("bash", filepath.Join(RepoRoot(t), "deploy", "dev", "webhook-certs.sh"), dir).CombinedOutput(); err != nil {
		t.Fatalf("webhook-certs.sh: %v\n%s", err, out)
	}
	ca, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("webhook-certs.sh wrote no CA certificate to %s", dir)
	}
	return pool
}
