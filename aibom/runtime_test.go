package aibom

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/sbom"
)

// TestRuntimeMLBOMExport: a deployment known from a k8s-aibom runtime
// ML-BOM exports with each model's confidence (declared vs inferred) next
// to its deployment status, in CycloneDX (schema-valid) and SPDX 3.
func TestRuntimeMLBOMExport(t *testing.T) {
	data, err := os.ReadFile("../testdata/sbom/k8s-aibom-vllm-deployment.cdx.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := sbom.Parse(ctx(), data, graph.Document{Source: "vllm.cdx.json"}, sbom.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := openStore(t, filepath.Join(t.TempDir(), "g.db"))
	apply(t, s, b)
	dep := mustOne(t, s, "deployment:-/-/prod-inference/vllm-llama3")
	llama := mustOne(t, s, "hf://meta-llama/Llama-3.1-8B-Instruct")
	lora := mustOne(t, s, "hf://acme/llama3-support-lora")
	bom := export(t, s, Request{Deployment: dep.ID})
	cdxJSON := encode(t, bom, FormatJSON, Spec1_7)
	validate(t, FormatJSON, Spec1_7, cdxJSON)
	for ref, want := range map[string]string{bomRef(llama): "declared", bomRef(lora): "inferred"} {
		name := propDeployment + "model:" + ref + ":confidence"
		if got := propValue(*bom.Metadata.Component, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	spdx := string(encode(t, bom, FormatSPDX3, ""))
	if !strings.Contains(spdx, propDeployment+"model:"+bomRef(lora)+":confidence=inferred") {
		t.Error("the SPDX 3 export does not state the LoRA's inferred confidence")
	}
}
