package main

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/internal/testserve"
)

// serve --admission-listen serves AdmissionReview over TLS with the
// configured mode and unknown rule, apart from the API.
func TestServeAdmissionWebhook(t *testing.T) {
	certs := t.TempDir()
	pool := testserve.WebhookCerts(t, certs)
	cfg := filepath.Join(t.TempDir(), "admission.yaml")
	if err := os.WriteFile(cfg, []byte("defaultMode: warn\nunknown: deny\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := runServe(t, "--admission-listen", "127.0.0.1:0", "--admission-tls-cert", filepath.Join(certs, "tls.crt"),
		"--admission-tls-key", filepath.Join(certs, "tls.key"), "--admission-config", cfg).
		wait(t, `admission webhook listening on (https://\S+)/validate`)
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
