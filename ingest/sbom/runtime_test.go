package sbom

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
)

const cdxSchemas = "../../testdata/cyclonedx-schemas"

// cdxSchema compiles the official CycloneDX JSON schema of version v
// (1.6 or 1.7) offline.
func cdxSchema(t *testing.T, v string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	for _, f := range []string{"bom-" + v + ".schema.json", "spdx.schema.json", "jsf-0.82.schema.json", "cryptography-defs.schema.json"} {
		raw, err := os.ReadFile(filepath.Join(cdxSchemas, f))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource("http://cyclonedx.org/schema/"+f, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("http://cyclonedx.org/schema/bom-" + v + ".schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validCDX(t *testing.T, v string, data []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := cdxSchema(t, v).Validate(inst); err != nil {
		t.Fatalf("not valid CycloneDX %s: %v", v, err)
	}
}

func openBolt(t *testing.T) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func oneOf(t *testing.T, r graph.Reader, key string, kind graph.NodeKind) graph.Node {
	t.Helper()
	ns, err := r.Lookup(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if n.Kind == kind {
			return n
		}
	}
	t.Fatalf("no %s keyed %s", kind, key)
	return graph.Node{}
}

func edgeBetween(t *testing.T, r graph.Reader, from, to graph.Node, kind graph.EdgeKind) graph.Edge {
	t.Helper()
	es, err := r.Edges(context.Background(), from.ID, graph.Out, kind)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.To == to.ID {
			return e
		}
	}
	t.Fatalf("no %s edge %v -> %v", kind, from.Keys, to.Keys)
	return graph.Edge{}
}

// TestRuntimeMLBOM: a k8s-aibom runtime ML-BOM (≤ v1.6 property names)
// makes its workload a Deployment that the models it names are DEPLOYED_AS
// into and that DEPENDS_ON its serving image by digest, each edge keeping
// k8s-aibom's confidence: the model named both by --model (declared) and
// by HF_MODEL_ID (inferred) is declared, with both claims listed; the LoRA
// named only by a heuristic is inferred. The model meets the node a model
// card or SLSA document keyed by its hub id made.
func TestRuntimeMLBOM(t *testing.T) {
	ctx := context.Background()
	data := fixture(t, "k8s-aibom-vllm-deployment.cdx.json")
	validCDX(t, "1.6", data)
	st := openBolt(t)
	// What a model card said earlier about the model.
	card := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("card")), Type: "hf-model-card"})
	card.Describes(card.Node(graph.KindModel, "hf://meta-llama/Llama-3.1-8B-Instruct", "name:meta-llama/Llama-3.1-8B-Instruct"))
	if _, err := st.Apply(ctx, card); err != nil {
		t.Fatal(err)
	}
	llama := oneOf(t, st, "hf://meta-llama/Llama-3.1-8B-Instruct", graph.KindModel)

	b, err := Parse(ctx, data, graph.Document{Source: "vllm.cdx.json"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	dep := oneOf(t, st, "deployment:-/-/prod-inference/vllm-llama3", graph.KindDeployment)
	if !slices.Contains(dep.Keys, "k8s-uid:5f0c8a2e-3b1d-4c6e-9a7f-2d4b8e1c0a93") {
		t.Errorf("deployment keys %v lack the workload uid", dep.Keys)
	}
	for name, want := range map[string]string{"namespace": "prod-inference", "service": "vllm-llama3", "workloadKind": "Deployment",
		"workloadCategory": "inference", "runtime": "vllm v0.6.3", "modelVolume": "llama-weights /models persistentVolumeClaim"} {
		if got := dep.Attr(name); got != want {
			t.Errorf("deployment %s = %q, want %q", name, got, want)
		}
	}
	if got := oneOf(t, st, "hf://meta-llama/Llama-3.1-8B-Instruct", graph.KindModel); got.ID != llama.ID {
		t.Fatal("the runtime BOM's model is not the model card's node")
	}
	e := edgeBetween(t, st, llama, dep, graph.DeployedAs)
	if e.Attr("confidence") != "declared" || e.Attr("evidenceSource") != "container_arg" || e.Attr("status") != "active" {
		t.Errorf("llama DEPLOYED_AS: confidence %q source %q status %q, want declared container_arg active", e.Attr("confidence"), e.Attr("evidenceSource"), e.Attr("status"))
	}
	if c := e.Attr("claims"); !strings.Contains(c, "declared container_arg") || !strings.Contains(c, "inferred env_var") {
		t.Errorf("llama DEPLOYED_AS claims = %q, want both the declared and the inferred claim", c)
	}
	lora := oneOf(t, st, "hf://acme/llama3-support-lora", graph.KindModel)
	if e := edgeBetween(t, st, lora, dep, graph.DeployedAs); e.Attr("confidence") != "inferred" {
		t.Errorf("lora DEPLOYED_AS confidence = %q, want inferred", e.Attr("confidence"))
	}
	img := oneOf(t, st, "sha256:4f2b7b5a9e3cf0f04c5f1e0d6a2b9c8e7d6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b", graph.KindPackage)
	ie := edgeBetween(t, st, dep, img, graph.DependsOn)
	if ie.Attr("role") != "servingImage" || ie.Attr("confidence") != "declared" {
		t.Errorf("image edge role %q confidence %q", ie.Attr("role"), ie.Attr("confidence"))
	}
	if !slices.ContainsFunc(img.Keys, func(k string) bool { return strings.HasPrefix(k, "pkg:oci/vllm-openai@sha256") }) {
		t.Errorf("image keys %v lack the pkg:oci purl deployment records use", img.Keys)
	}
	// Downstream of the model: its deployment.
	res, err := st.Traverse(ctx, graph.TraverseRequest{From: []graph.NodeID{llama.ID}, Direction: graph.Downstream, EdgeKinds: []graph.EdgeKind{graph.DeployedAs}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(res.Steps, func(s graph.Step) bool { return s.Node.ID == dep.ID }) {
		t.Error("the model's downstream does not reach its deployment")
	}
	// No package SBOM reading: the runtime components are not packages.
	if ns, _ := st.Lookup(ctx, "pkg:guac/cdx/vllm-llama3"); len(ns) != 0 {
		t.Errorf("the workload was also read as a package SBOM subject: %v", ns)
	}
}

// TestRuntimeMLBOM17: the v1.7 colon taxonomy (k8s-aibom:workload:kind,
// k8s-aibom:confidence...) in a CycloneDX 1.7 BOM: a KServe model keyed by
// its hash and storage URI, verified, and the image by its pkg:oci digest.
func TestRuntimeMLBOM17(t *testing.T) {
	ctx := context.Background()
	data := fixture(t, "k8s-aibom-kserve-1.7.cdx.json")
	validCDX(t, "1.7", data)
	st := openBolt(t)
	b, err := Parse(ctx, data, graph.Document{Source: "kserve.cdx.json"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	dep := oneOf(t, st, "k8s-uid:0b7d1e54-91c2-4f0a-8d33-6a1e2f7c9b10", graph.KindDeployment)
	if dep.Attr("workloadKind") != "InferenceService" || dep.Attr("namespace") != "fraud" || dep.Attr("runtime") != "xgboost" {
		t.Errorf("deployment attrs %v", dep.Attrs)
	}
	m := oneOf(t, st, "gs://acme-models/fraud/xgb-v3", graph.KindModel)
	if !slices.Contains(m.Keys, "sha256:b8a2c46e73c3ec2b38fe7a4087bafa7a93c6b5630238d22e5355325c9f53b367") {
		t.Errorf("model keys %v", m.Keys)
	}
	if e := edgeBetween(t, st, m, dep, graph.DeployedAs); e.Attr("confidence") != "verified" || e.Attr("evidenceSource") != "crd_field" {
		t.Errorf("DEPLOYED_AS confidence %q source %q", e.Attr("confidence"), e.Attr("evidenceSource"))
	}
	if m.Attr("signatureStatus") != "verified" {
		t.Errorf("model signatureStatus = %q", m.Attr("signatureStatus"))
	}
	img := oneOf(t, st, "sha256:9c1f0e2d3b4a5968778695a4b3c2d1e0f9e8d7c6b5a4938271605f4e3d2c1b0a", graph.KindPackage)
	if e := edgeBetween(t, st, dep, img, graph.DependsOn); e.Attr("confidence") != "declared" {
		t.Errorf("image confidence %q", e.Attr("confidence"))
	}
}

func TestRuntimeMLBOMNeedsAName(t *testing.T) {
	data := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"metadata":{"component":{"type":"application","name":" ",
		"properties":[{"name":"aibom.workload.kind","value":"Deployment"}]}}}`)
	_, err := Parse(context.Background(), data, graph.Document{Source: "noname.cdx.json"}, Options{})
	if err == nil || !strings.Contains(err.Error(), "metadata.component") || !strings.Contains(err.Error(), "noname.cdx.json") {
		t.Fatalf("want an error naming the document and metadata.component, got %v", err)
	}
}
