package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// shadowDeployment is an unsigned deployment record putting an unsigned
// model in production: every demo model in production is verified, and
// the dashboard's "models in production that are not verified" panel is
// for exactly this (a team shipping a model with no signature).
const shadowDeployment = `{"_type":"https://in-toto.io/Statement/v1",` +
	`"subject":[{"name":"acme/shadow-chat","digest":{"sha256":"5ad0c2f39e0f1c8e7b5d9a2a3a6f0e4b7c1d2e3f405162738495a6b7c8d9e0f1"}}],` +
	`"predicateType":"https://modelgraph.dev/attestation/deployment/v1",` +
	`"predicate":{"environment":"production","cluster":"eu-west-1","namespace":"ml-serving","service":"shadow-chat",` +
	`"endpoint":"https://shadow.acme-health.example/v1","deployedAt":"2024-07-01T09:00:00Z"}}`

// TestUIDashboardOnDemo opens /ui on the demo (plus the shadow
// deployment): every dashboard panel has rows, the typeahead and the
// "did you mean" answer find fragments, the inventory downloads as CSV, and
// a row opens the lineage (impact) view.
func TestUIDashboardOnDemo(t *testing.T) {
	node := requireBrowser(t)
	base := serve(t)
	resp, err := http.Post(base+"/v1/ingest", "application/json", strings.NewReader(shadowDeployment))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		t.Fatalf("ingest the shadow deployment: %d", resp.StatusCode)
	}
	shot := filepath.Join(t.TempDir(), "ui-dashboard.png")
	if *update {
		shot = filepath.Join("..", "..", "..", "docs", "img", "ui-dashboard.png")
	}
	browse(t, node, "dashboard.mjs", base, shot, 700)
}
