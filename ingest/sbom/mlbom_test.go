package sbom

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelgraph/modelgraph/graph"
)

// The hand-written ML-BOM is valid CycloneDX 1.6.
func TestMLBOMFixtureIsValidCycloneDX16(t *testing.T) {
	c := jsonschema.NewCompiler()
	for _, f := range []struct{ id, file string }{
		{"http://cyclonedx.org/schema/bom-1.6.schema.json", "bom-1.6.schema.json"},
		{"http://cyclonedx.org/schema/spdx.schema.json", "spdx.schema.json"},
		{"http://cyclonedx.org/schema/jsf-0.82.schema.json", "jsf-0.82.schema.json"},
	} {
		raw, err := os.ReadFile(filepath.Join(corpus, "schema", f.file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(f.id, doc); err != nil {
			t.Fatal(err)
		}
	}
	sch, err := c.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(fixture(t, "mg-mlbom-1.6.json")))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatal(err)
	}
}

const (
	hFraud   = "sha256:b8a2c46e73c3ec2b38fe7a4087bafa7a93c6b5630238d22e5355325c9f53b367"
	hBase    = "sha256:a2d2e125f06e803fac8bd6a104673d220100c992e510e18a1bba52acddff1911"
	hOnnx    = "sha256:2b3a8817d7bd03f09b6f1a4f91a9eafa1b3dc1ba6e678f52300b877daf172314"
	hTx      = "sha256:634ade8a82e09a16e628d2dd1599de57cc04ac1b136ca4916c99a34e527dee61"
	hTxRaw   = "sha256:bfe3c4be1837008146840251e8a80132ba01e5cefa1cb3e393981e25a733b861"
	hTorch   = "sha256:51b9cb170033c16522b794a7c65eb51adab6f46eb1bb74e321437fc5bf89968d"
	hTransf  = "sha256:88f924a01421c2996a328f9be54ecff9eff0d87256f4b07e5af07b3ecb60234f"
	urlTx    = "s3://acme-datasets/transactions/2024-06/"
	urlLabel = "https://data.acme.example/fraud-labels-2024"
)

// TestMLBOM checks every node and edge of the ML-BOM, in JSON and in XML.
func TestMLBOM(t *testing.T) {
	for _, name := range []string{"mg-mlbom-1.6.json", "mg-mlbom-1.6.xml", "mg-mlbom-1.7.json"} {
		t.Run(name, func(t *testing.T) {
			b := parseFixture(t, name, Options{})
			type node struct {
				kind graph.NodeKind
				keys []string
			}
			want := []node{
				{graph.KindModel, []string{hFraud, "pkg:huggingface/acme/fraud-detector@3.1.0", "hf://acme/fraud-detector", "name:acme/fraud-detector"}},
				{graph.KindModel, []string{hBase, "pkg:huggingface/distilbert/distilbert-base-uncased@1c4513b2eedbda136f57676a34eea67aba266e5c", "hf://distilbert/distilbert-base-uncased", "name:distilbert/distilbert-base-uncased"}},
				{graph.KindModel, []string{hOnnx}},
				{graph.KindDataset, []string{hTx, urlTx}},
				{graph.KindDataset, []string{hTxRaw}},
				{graph.KindDataset, []string{urlLabel, "name:fraud-labels-2024"}},
				{graph.KindPackage, []string{"pkg:pypi/torch@2.3.1", hTorch}},
				{graph.KindPackage, []string{"pkg:pypi/transformers@4.41.2", hTransf}},
			}
			if len(b.Nodes) != len(want)+1 {
				for _, n := range b.Nodes {
					t.Log(n.Kind, n.Keys)
				}
				t.Fatalf("%d nodes, want %d", len(b.Nodes), len(want)+1)
			}
			idx := map[string]int{}
			for _, w := range want {
				i := find(b, w.kind, w.keys[0])
				if i < 0 {
					t.Fatalf("no %s %s", w.kind, w.keys[0])
				}
				got := slices.Clone(b.Nodes[i].Keys)
				sort.Strings(got)
				wk := slices.Clone(w.keys)
				sort.Strings(wk)
				if !slices.Equal(got, wk) {
					t.Errorf("%s keys %v, want %v", w.kind, got, wk)
				}
				idx[w.keys[0]] = i
			}
			fraud, base, onnx := idx[hFraud], idx[hBase], idx[hOnnx]
			tx, raw, labels := idx[hTx], idx[hTxRaw], idx[urlLabel]
			torch, transf := idx["pkg:pypi/torch@2.3.1"], idx["pkg:pypi/transformers@4.41.2"]

			type e struct {
				from int
				kind graph.EdgeKind
				to   int
			}
			wantEdges := []e{
				{graph.DocNode, graph.Describes, fraud},
				{fraud, graph.TrainedOn, tx},
				{fraud, graph.TrainedOn, labels},
				{fraud, graph.DerivedFrom, base},
				{tx, graph.DerivedFrom, raw},
				{fraud, graph.DependsOn, torch},
				{fraud, graph.DependsOn, transf},
				{transf, graph.DependsOn, torch},
			}
			if len(b.Edges) != len(wantEdges) {
				for _, x := range b.Edges {
					t.Log(b.Nodes[x.From].Keys[0], x.Kind, b.Nodes[x.To].Keys[0])
				}
				t.Fatalf("%d edges, want %d", len(b.Edges), len(wantEdges))
			}
			for _, w := range wantEdges {
				if edge(b, w.from, w.kind, w.to) == nil {
					t.Errorf("missing %v -%s-> %v", b.Nodes[w.from].Keys, w.kind, b.Nodes[w.to].Keys)
				}
			}
			if a := edge(b, fraud, graph.DerivedFrom, base).Attrs["pedigree"]; a != "ancestor" {
				t.Errorf("DERIVED_FROM pedigree=%q", a)
			}

			attrs := func(i int, kv ...string) {
				t.Helper()
				for j := 0; j < len(kv); j += 2 {
					if got := b.Nodes[i].Attrs[kv[j]]; got != kv[j+1] {
						t.Errorf("%v %s=%q, want %q", b.Nodes[i].Keys[0], kv[j], got, kv[j+1])
					}
				}
			}
			attrs(fraud, "approach", "supervised", "task", "text-classification", "architectureFamily", "transformer",
				"modelArchitecture", "DistilBertForSequenceClassification", "inputFormat", "string", "outputFormat", "float",
				"name", "fraud-detector", "version", "3.1.0", "license", "Apache-2.0", "revision", "3.1.0")
			attrs(tx, "dataType", "dataset", "classification", "PII", "owners", "Acme Risk", "custodians", "Data Platform Team",
				"stewards", "Acme Privacy Office", "contentsUrl", urlTx, "sensitiveData", "card numbers; merchant ids")
			attrs(labels, "classification", "confidential", "owners", "Acme Fraud Operations", "contentsUrl", urlLabel)
			attrs(onnx, "variantOf", hFraud)
			attrs(base, "revision", "1c4513b2eedbda136f57676a34eea67aba266e5c")
			if err := b.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// An ML-BOM whose dataset ref names nothing fails, naming the field.
func TestMLBOMDanglingDatasetRef(t *testing.T) {
	data := bytes.Replace(fixture(t, "mg-mlbom-1.6.json"), []byte(`{"ref": "data-transactions"}`), []byte(`{"ref": "no-such-ref"}`), 1)
	_, err := Parse(t.Context(), data, graph.Document{Source: "dangling.json"}, Options{})
	if err == nil || !contains(err, "dangling.json", `modelCard.modelParameters.datasets[0].ref: "no-such-ref" names no component`) {
		t.Fatalf("err = %v", err)
	}
}

// A malformed component hash is an error naming the component and hash.
func TestBadHash(t *testing.T) {
	data := bytes.Replace(fixture(t, "mg-mlbom-1.6.json"), []byte(`51b9cb170033c16522b794a7c65eb51adab6f46eb1bb74e321437fc5bf89968d`), []byte(`not-hex`), 1)
	_, err := Parse(t.Context(), data, graph.Document{Source: "badhash.json"}, Options{})
	if err == nil || !contains(err, "badhash.json", "hash", "not hex") {
		t.Fatalf("err = %v", err)
	}
}

// The ML-BOMs in CycloneDX 1.7, and the one in the OWASP AIBOM Generator's
// shape, are valid against the official schemas.
func TestMLBOMFixturesValidate(t *testing.T) {
	validCDX(t, "1.7", fixture(t, "mg-mlbom-1.7.json"))
	validCDX(t, "1.6", fixture(t, "owasp-aibom-zephyr-7b-beta.json"))
}

// TestOtherToolMLBOM: an ML-BOM as the OWASP AIBOM Generator writes it from
// a Hugging Face model card (a pkg:generic application wrapping one
// machine-learning-model component; datasets inline in the model card by
// hub id; the base model only as a base_model property) ingests into
// lineage: the model TRAINED_ON both datasets and DERIVED_FROM its base,
// all keyed by hub ids so they meet the nodes model cards and SLSA make.
func TestOtherToolMLBOM(t *testing.T) {
	b := parseFixture(t, "owasp-aibom-zephyr-7b-beta.json", Options{})
	m := find(b, graph.KindModel, "hf://HuggingFaceH4/zephyr-7b-beta")
	if m < 0 {
		t.Fatal("no model keyed hf://HuggingFaceH4/zephyr-7b-beta")
	}
	for _, ds := range []string{"hf://datasets/HuggingFaceH4/ultrachat_200k", "hf://datasets/HuggingFaceH4/ultrafeedback_binarized"} {
		d := find(b, graph.KindDataset, ds)
		if d < 0 {
			t.Fatalf("no dataset %s", ds)
		}
		if edge(b, m, graph.TrainedOn, d) == nil {
			t.Errorf("zephyr is not TRAINED_ON %s", ds)
		}
	}
	base := find(b, graph.KindModel, "hf://mistralai/Mistral-7B-v0.1")
	if base < 0 {
		t.Fatal("no base model hf://mistralai/Mistral-7B-v0.1")
	}
	e := edge(b, m, graph.DerivedFrom, base)
	if e == nil || e.Attrs["relation"] != "finetune" {
		t.Fatalf("zephyr DERIVED_FROM Mistral-7B-v0.1: %v", e)
	}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestBadBaseModel(t *testing.T) {
	data := bytes.Replace(fixture(t, "owasp-aibom-zephyr-7b-beta.json"), []byte(`"value": "mistralai/Mistral-7B-v0.1"`), []byte(`"value": "not a/hub/id"`), 1)
	_, err := Parse(t.Context(), data, graph.Document{Source: "badbase.json"}, Options{})
	if err == nil || !contains(err, "badbase.json", "base_model", "not a Hugging Face model id") {
		t.Fatalf("err = %v", err)
	}
}
