package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// serve --admission-listen serves AdmissionReview over TLS with the
// configured mode and unknown rule, apart from the API.
func TestServeAdmissionWebhook(t *testing.T) {
	certs := t.TempDir()
	if out, err := exec.Command("bash", filepath.Join("..", "..", "deploy", "dev", "webhook-certs.sh"), certs).CombinedOutput(); err != nil {
		t.Fatalf("webhook-certs.sh: %v\n%s", err, out)
	}
	cfg := filepath.Join(t.TempDir(), "admission.yaml")
	if err := os.WriteFile(cfg, []byte("defaultMode: warn\nunknown: deny\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	root := NewRootCommand()
	root.SetArgs([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "warn",
		"--admission-listen", "127.0.0.1:0", "--admission-tls-cert", filepath.Join(certs, "tls.crt"),
		"--admission-tls-key", filepath.Join(certs, "tls.key"), "--admission-config", cfg})
	root.SetOut(out)
	root.SetErr(out)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve exited with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not shut down")
		}
	})
	re := regexp.MustCompile(`admission webhook listening on (https://\S+)/validate`)
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("webhook did not start: %s", out.String())
	}
	ca, err := os.ReadFile(filepath.Join(certs, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	review := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"ml","operation":"CREATE",
	  "object":{"metadata":{"name":"p","annotations":{"modelgraph.dev/model":"hf://nobody/knows"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}`
	for path, allowed := range map[string]bool{"/validate": true, "/validate/enforce": false} {
		resp, err := client.Post(base+path, "application/json", strings.NewReader(review))
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Response struct {
				UID      string   `json:"uid"`
				Allowed  bool     `json:"allowed"`
				Warnings []string `json:"warnings"`
			} `json:"response"`
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || got.Response.UID != "u1" || got.Response.Allowed != allowed {
			t.Fatalf("%s: %+v %v", path, got, err)
		}
		if allowed && (len(got.Response.Warnings) == 0 || !strings.Contains(got.Response.Warnings[0], "rule known failed")) {
			t.Fatalf("%s: warn mode (from the config) without the warning: %+v", path, got)
		}
	}
	// The webhook port serves no API.
	resp, err := client.Get(base + "/graphql")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /graphql on the webhook port: %d", resp.StatusCode)
	}
}
