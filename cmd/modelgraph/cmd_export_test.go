package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := NewRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// lineageFixtures are real documents: dataset attestations, SLSA training
// provenance and deployment records.
var lineageFixtures = []string{
	"dataset-raw.intoto.json", "dataset-derived.intoto.json", "slsa-v1-training.intoto.json",
	"aixv-training.intoto.json", "deployment-production.intoto.json", "deployment-staging.intoto.json",
}

func ingestFixtures(t *testing.T, dataDir string) {
	t.Helper()
	args := []string{"ingest", "--data-dir", dataDir}
	for _, f := range lineageFixtures {
		args = append(args, filepath.Join("..", "..", "testdata", "intoto", f))
	}
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	if n := strings.Count(out, "edges created"); n != len(lineageFixtures) {
		t.Fatalf("ingest printed %d receipts, want %d:\n%s", n, len(lineageFixtures), out)
	}
	out, err = run(t, append(args, "--output", "json")...)
	if err != nil || strings.Count(out, `"duplicate": true`) != len(lineageFixtures) {
		t.Fatalf("second ingest: %v, want every document a duplicate:\n%s", err, out)
	}
}

// firstWith returns the first node of kind having an outgoing edge of edge.
func firstWith(t *testing.T, dataDir string, kind graph.NodeKind, edge graph.EdgeKind) graph.Node {
	t.Helper()
	s, err := embedded.Open(filepath.Join(dataDir, "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ns, err := s.Nodes(context.Background(), graph.NodeQuery{Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		es, err := s.Edges(context.Background(), n.ID, graph.Out, edge)
		if err == nil && len(es) > 0 {
			return n
		}
	}
	t.Fatalf("no %s with a %s edge in the store", kind, edge)
	return graph.Node{}
}

func TestIngestThenExportAIBOM(t *testing.T) {
	dataDir := t.TempDir()
	ingestFixtures(t, dataDir)
	dep := firstWith(t, dataDir, graph.KindModel, graph.TrainedOn)
	outFile := filepath.Join(t.TempDir(), "bom.json")
	if out, err := run(t, "export", "aibom", "--data-dir", dataDir, "--model", string(dep.ID), "-o", outFile); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	first, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		Metadata    struct {
			Component struct {
				Type string `json:"type"`
			} `json:"component"`
		} `json:"metadata"`
		Components []struct {
			Type string `json:"type"`
		} `json:"components"`
	}
	if err := json.Unmarshal(first, &bom); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{bom.Metadata.Component.Type: 1}
	for _, c := range bom.Components {
		kinds[c.Type]++
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.6" || kinds["machine-learning-model"] == 0 || kinds["data"] == 0 {
		t.Fatalf("exported BOM %s %s with components %v: want 1.6 with models and datasets", bom.BOMFormat, bom.SpecVersion, kinds)
	}
	// Deterministic: a second export is byte-identical.
	again, err := run(t, "export", "aibom", "--data-dir", dataDir, "--model", string(dep.ID))
	if err != nil || strings.TrimSpace(again) != strings.TrimSpace(string(first)) {
		t.Fatalf("second export differs (%v)", err)
	}
	if _, err := run(t, "export", "aibom", "--data-dir", dataDir, "--model", "name:no-such-model"); err == nil {
		t.Fatal("export of an unknown model succeeded")
	}
	// Over HTTP.
	base := startServe(t, "--data-dir", dataDir)
	resp, err := http.Get(base + "/v1/aibom/" + string(dep.ID) + "?format=xml&spec=1.7")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("http://cyclonedx.org/schema/bom/1.7")) {
		t.Fatalf("GET /v1/aibom: %d %.300s", resp.StatusCode, body)
	}
	// Through GraphQL: the same bytes as the CLI export.
	q := `{"query":"{ aibom(ref: \"` + string(dep.ID) + `\") { mediaType document } }"}`
	resp, err = http.Post(base+"/graphql", "application/json", strings.NewReader(q))
	if err != nil {
		t.Fatal(err)
	}
	var gq struct {
		Data struct {
			AIBOM struct {
				MediaType string `json:"mediaType"`
				Document  string `json:"document"`
			} `json:"aibom"`
		} `json:"data"`
		Errors []any `json:"errors"`
	}
	err = json.NewDecoder(resp.Body).Decode(&gq)
	resp.Body.Close()
	if err != nil || len(gq.Errors) > 0 || !strings.Contains(gq.Data.AIBOM.MediaType, "json") ||
		strings.TrimSpace(gq.Data.AIBOM.Document) != strings.TrimSpace(string(first)) {
		t.Fatalf("GraphQL aibom: %v %v %q; want the CLI's bytes", err, gq.Errors, gq.Data.AIBOM.MediaType)
	}
	resp, err = http.Get(base + "/v1/aibom/name:nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /v1/aibom of an unknown ref: %d, want 404", resp.StatusCode)
	}
}

// TestExportAIBOMSPDX3: the SPDX 3 AI-BOM is the same document from the
// CLI (--format spdx3), HTTP (?format=spdx3) and GraphQL (format: "spdx3").
func TestExportAIBOMSPDX3(t *testing.T) {
	dataDir := t.TempDir()
	ingestFixtures(t, dataDir)
	m := firstWith(t, dataDir, graph.KindModel, graph.TrainedOn)
	cli, err := run(t, "export", "aibom", "--data-dir", dataDir, "--model", string(m.ID), "--format", "spdx3")
	if err != nil {
		t.Fatalf("export: %v\n%s", err, cli)
	}
	var doc struct {
		Context string `json:"@context"`
		Graph   []struct {
			Type string `json:"type"`
		} `json:"@graph"`
	}
	if err := json.Unmarshal([]byte(cli), &doc); err != nil {
		t.Fatalf("CLI SPDX 3 export is not JSON: %v", err)
	}
	types := map[string]int{}
	for _, e := range doc.Graph {
		types[e.Type]++
	}
	if doc.Context != "https://spdx.org/rdf/3.0.1/spdx-context.jsonld" || types["ai_AIPackage"] == 0 || types["dataset_DatasetPackage"] == 0 || types["SpdxDocument"] != 1 {
		t.Fatalf("SPDX 3 export: context %q, element types %v", doc.Context, types)
	}
	base := startServe(t, "--data-dir", dataDir)
	resp, err := http.Get(base + "/v1/aibom/" + string(m.ID) + "?format=spdx3")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/spdx+json" ||
		strings.TrimSpace(string(body)) != strings.TrimSpace(cli) {
		t.Fatalf("GET /v1/aibom?format=spdx3: %d %q, same as the CLI: %v", resp.StatusCode, resp.Header.Get("Content-Type"), strings.TrimSpace(string(body)) == strings.TrimSpace(cli))
	}
	q := `{"query":"{ aibom(ref: \"` + string(m.ID) + `\", format: \"spdx3\") { mediaType document } }"}`
	resp, err = http.Post(base+"/graphql", "application/json", strings.NewReader(q))
	if err != nil {
		t.Fatal(err)
	}
	var gq struct {
		Data struct {
			AIBOM struct {
				MediaType string `json:"mediaType"`
				Document  string `json:"document"`
			} `json:"aibom"`
		} `json:"data"`
		Errors []any `json:"errors"`
	}
	err = json.NewDecoder(resp.Body).Decode(&gq)
	resp.Body.Close()
	if err != nil || len(gq.Errors) > 0 || gq.Data.AIBOM.MediaType != "application/spdx+json" ||
		strings.TrimSpace(gq.Data.AIBOM.Document) != strings.TrimSpace(cli) {
		t.Fatalf("GraphQL aibom(format: spdx3): %v %v %q; want the CLI's bytes", err, gq.Errors, gq.Data.AIBOM.MediaType)
	}
	if _, err := run(t, "export", "aibom", "--data-dir", dataDir, "--model", string(m.ID), "--format", "spdx3", "--spec", "2.3"); err == nil {
		t.Fatal("--format spdx3 --spec 2.3 accepted")
	}
	// One rule reads the format name (aibom.ParseFormat): every spelling
	// the CLI accepts is the API's, and a bad one is refused naming the
	// formats as the caller's error (BAD_USER_INPUT, not INTERNAL).
	for _, f := range []string{"spdx", "SPDX-3", "spdx3-json"} {
		out, err := run(t, "export", "aibom", "--server", base, "--model", string(m.ID), "--format", f)
		if err != nil || out != cli {
			t.Errorf("--format %s: %v, same bytes as spdx3: %v", f, err, out == cli)
		}
	}
	out, err := run(t, "export", "aibom", "--server", base, "--model", string(m.ID), "--format", "pdf")
	if err == nil || !strings.Contains(err.Error()+out, `format "pdf": want cyclonedx-json, cyclonedx-xml or spdx3`) || !strings.Contains(err.Error(), "BAD_USER_INPUT") {
		t.Errorf("export aibom --format pdf: %v %q, want BAD_USER_INPUT naming the formats", err, out)
	}
}
