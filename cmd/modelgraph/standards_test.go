package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestStandardsEndToEnd: an SPDX 3 AI-BOM and a k8s-aibom runtime ML-BOM
// ingested through the CLI answer lineage questions over GraphQL: the SPDX
// model's upstream reaches its dataset, and the model a workload runs
// reaches the deployment on a hop that shows how the runtime BOM knew it
// (confidence declared) beside the hop's signature status.
func TestStandardsEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	out, err := run(t, "ingest", "--data-dir", dataDir,
		filepath.Join("..", "..", "testdata", "spdx3", "spdx-examples-ai-example01.spdx3.json"),
		filepath.Join("..", "..", "testdata", "sbom", "k8s-aibom-vllm-deployment.cdx.json"))
	if err != nil {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	base := startServe(t, "--data-dir", dataDir)
	gql := func(q string, v any) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"query": q})
		resp, err := http.Post(base+"/graphql", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			Data   json.RawMessage `json:"data"`
			Errors []any           `json:"errors"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || len(r.Errors) > 0 {
			t.Fatalf("GraphQL %s: %v %v", q, err, r.Errors)
		}
		if err := json.Unmarshal(r.Data, v); err != nil {
			t.Fatal(err)
		}
	}
	type hop struct {
		Kind   string `json:"kind"`
		Status string `json:"status"`
		Attrs  []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"attrs"`
	}
	type lineage struct {
		Reached []struct {
			Node struct {
				Kind string   `json:"kind"`
				Keys []string `json:"keys"`
			} `json:"node"`
			Path []hop `json:"path"`
		} `json:"reached"`
	}
	const fields = `{ reached { node { kind keys } path { kind status attrs { name value } } } }`

	var tr struct{ Trace lineage }
	gql(`{ trace(ref: "https://my-first-aibom.com/word-model") `+fields+` }`, &tr)
	found := false
	for _, r := range tr.Trace.Reached {
		if r.Node.Kind == "Dataset" && strings.Contains(strings.Join(r.Node.Keys, " "), "https://my-first-aibom.com/IAMdataset") {
			found = len(r.Path) == 1 && r.Path[0].Kind == "TRAINED_ON"
		}
	}
	if !found {
		t.Errorf("trace of the SPDX 3 word-model does not reach IAMdataset by TRAINED_ON: %+v", tr.Trace.Reached)
	}

	var im struct{ Impact lineage }
	gql(`{ impact(ref: "hf://meta-llama/Llama-3.1-8B-Instruct") `+fields+` }`, &im)
	found = false
	for _, r := range im.Impact.Reached {
		if r.Node.Kind != "Deployment" || len(r.Path) != 1 {
			continue
		}
		h := r.Path[0]
		attrs := map[string]string{}
		for _, a := range h.Attrs {
			attrs[a.Name] = a.Value
		}
		found = h.Kind == "DEPLOYED_AS" && attrs["confidence"] == "declared" && h.Status == "unsigned"
		if !found {
			t.Errorf("hop to the deployment: %s status %s attrs %v", h.Kind, h.Status, attrs)
		}
	}
	if !found {
		t.Errorf("impact of the model does not reach its deployment: %+v", im.Impact.Reached)
	}
}
