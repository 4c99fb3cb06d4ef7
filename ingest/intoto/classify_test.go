package intoto_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/intoto"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

// provenanceWith maps a SLSA v1 statement with one resolved dependency and
// returns the batch and the dependency's node index.
func provenanceWith(t *testing.T, buildType, dep string) (*graph.Batch, int) {
	t.Helper()
	pred := `{"buildDefinition":{"buildType":"` + buildType + `","externalParameters":{},"resolvedDependencies":[` + dep + `]},"runDetails":{"builder":{"id":"b"}}}`
	b, err := mapStatement(t, stmt(intoto.PredicateSLSAv1, pred))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range b.Edges {
		if e.Kind == graph.Uses {
			return b, e.To
		}
	}
	t.Fatal("no USES edge")
	return nil, 0
}

// The "Inputs" table of docs/mapping.md, rule by rule.
func TestClassifyInputs(t *testing.T) {
	const training = "https://example.com/training/v1"
	const build = "https://example.com/container-build/v1"
	model := "sha256:" + h("a") // the subject, m.safetensors: a Model in any build
	tests := []struct {
		name, buildType, dep string
		kind                 graph.NodeKind
		keys                 []string
		attrs                map[string]string
		edge                 string // subject -> input edge, "" for none
	}{
		{"hf dataset", training, `{"uri":"hf://datasets/acme/notes@v2"}`, graph.KindDataset,
			[]string{"hf://datasets/acme/notes", "name:acme/notes"}, map[string]string{"revision": "v2"}, "TRAINED_ON"},
		{"hf dataset web", training, `{"uri":"https://huggingface.co/datasets/acme/notes/tree/abc"}`, graph.KindDataset,
			[]string{"hf://datasets/acme/notes", "name:acme/notes"}, map[string]string{"revision": "abc"}, "TRAINED_ON"},
		{"hf model commit", training, `{"uri":"hf://meta-llama/Llama-2-7b-hf","digest":{"gitCommit":"` + commit + `"}}`, graph.KindModel,
			[]string{"hf://meta-llama/Llama-2-7b-hf", "name:meta-llama/Llama-2-7b-hf"}, map[string]string{"revision": commit}, "DERIVED_FROM {relation=finetune}"},
		{"hf legacy web file", training, `{"uri":"https://huggingface.co/gpt2/resolve/main/model.safetensors"}`, graph.KindModel,
			[]string{"hf://gpt2", "name:gpt2"}, map[string]string{"revision": "main"}, "DERIVED_FROM {relation=finetune}"},
		{"hf purl", training, `{"uri":"pkg:huggingface/acme/llm-7b@abc123"}`, graph.KindModel,
			[]string{"hf://acme/llm-7b", "name:acme/llm-7b", "pkg:huggingface/acme/llm-7b@abc123"}, map[string]string{"revision": "abc123"}, "DERIVED_FROM {relation=finetune}"},
		{"hf purl dataset", training, `{"uri":"pkg:huggingface/acme/notes?repository_type=dataset"}`, graph.KindDataset,
			[]string{"hf://datasets/acme/notes", "name:acme/notes", "pkg:huggingface/acme/notes?repository_type=dataset"}, nil, "TRAINED_ON"},
		{"hf relation annotation", "quantize", `{"uri":"hf://acme/base","annotations":{"relation":"Fine-Tune"}}`, graph.KindModel,
			[]string{"hf://acme/base", "name:acme/base"}, nil, "DERIVED_FROM {relation=finetune}"},
		{"relation from build type", "https://example.com/quantize/v1", `{"uri":"hf://acme/base"}`, graph.KindModel,
			[]string{"hf://acme/base", "name:acme/base"}, nil, "DERIVED_FROM {relation=quantized}"},
		{"s3 dataset", training, `{"uri":"s3://acme/datasets/x/"}`, graph.KindDataset, []string{"s3://acme/datasets/x/"}, nil, "TRAINED_ON"},
		{"gs data file", training, `{"uri":"gs://bucket/train.parquet","digest":{"sha256":"` + h("b") + `"}}`, graph.KindDataset,
			[]string{"sha256:" + h("b"), "gs://bucket/train.parquet"}, nil, "TRAINED_ON"},
		{"s3 file no digest", training, `{"uri":"s3://acme/builds/x.tar"}`, graph.KindFile, []string{"s3://acme/builds/x.tar"}, nil, ""},
		{"s3 file digest", training, `{"uri":"s3://acme/builds/x.tar","digest":{"sha256":"` + h("b") + `"}}`, graph.KindFile,
			[]string{"sha256:" + h("b")}, map[string]string{"uri": "s3://acme/builds/x.tar"}, ""},
		{"dataset annotation", training, `{"uri":"https://example.com/x.tar.gz","annotations":{"kind":"dataset","split":"validation"}}`, graph.KindDataset,
			[]string{"https://example.com/x.tar.gz"}, nil, "TRAINED_ON {split=validation}"},
		{"model annotation", build, `{"uri":"https://example.com/w","digest":{"sha256":"` + h("b") + `"},"annotations":{"artifact_type":"base-model"}}`, graph.KindModel,
			[]string{"sha256:" + h("b")}, nil, "DERIVED_FROM {relation=finetune}"},
		{"source annotation", training, `{"uri":"https://example.com/code.tar.gz","digest":{"sha256":"` + h("b") + `"},"annotations":{"kind":"source"}}`, graph.KindSource,
			[]string{"sha256:" + h("b"), "https://example.com/code.tar.gz"}, nil, "BUILT_FROM"},
		{"model file", training, `{"uri":"s3://models/base.safetensors","digest":{"sha256":"` + h("b") + `"}}`, graph.KindModel,
			[]string{"sha256:" + h("b")}, map[string]string{"uri": "s3://models/base.safetensors"}, "DERIVED_FROM {relation=finetune}"},
		{"model file no digest", training, `{"uri":"s3://models/base.gguf"}`, graph.KindModel, []string{"s3://models/base.gguf"}, nil, "DERIVED_FROM {relation=finetune}"},
		{"bin in training", training, `{"uri":"s3://w/base.bin","digest":{"sha256":"` + h("b") + `"}}`, graph.KindModel, []string{"sha256:" + h("b")}, nil, "DERIVED_FROM {relation=finetune}"},
		{"bin elsewhere", build, `{"uri":"s3://w/base.bin","digest":{"sha256":"` + h("b") + `"}}`, graph.KindFile, []string{"sha256:" + h("b")}, nil, ""},
		{"git ssh", training, `{"uri":"git+ssh://git@github.com/acme/x.git@v1.0","digest":{"sha1":"` + commit + `"}}`, graph.KindSource,
			[]string{"git+ssh://github.com/acme/x@" + commit}, map[string]string{"uri": "git+ssh://github.com/acme/x", "ref": "v1.0", "commit": commit}, "BUILT_FROM"},
		{"git scp", training, `{"uri":"git@gitlab.com:acme/group/x.git"}`, graph.KindSource,
			[]string{"git+ssh://gitlab.com/acme/group/x"}, nil, "BUILT_FROM"},
		{"git commit ref", training, `{"uri":"git+https://github.com/acme/x@` + commit + `"}`, graph.KindSource,
			[]string{"git+https://github.com/acme/x@" + commit}, map[string]string{"commit": commit}, "BUILT_FROM"},
		{"github release asset", training, `{"uri":"https://github.com/acme/x/releases/download/v1/x.tar.gz","digest":{"sha256":"` + h("c") + `"}}`, graph.KindFile,
			[]string{"sha256:" + h("c")}, nil, ""},
		{"oci tag", training, `{"uri":"oci://ghcr.io/acme/img:1.0"}`, graph.KindPackage,
			[]string{"pkg:oci/img?repository_url=ghcr.io%2Facme%2Fimg&tag=1.0"}, map[string]string{"image": "ghcr.io/acme/img"}, "DEPENDS_ON"},
		{"docker purl", training, `{"uri":"pkg:docker/library/python@sha256%3A` + h("d") + `"}`, graph.KindPackage,
			[]string{"sha256:" + h("d"), "pkg:docker/library/python@sha256%3A" + h("d")}, nil, "DEPENDS_ON"},
		{"image media type", training, `{"name":"ghcr.io/acme/tool@sha256:` + h("e") + `","mediaType":"application/vnd.oci.image.manifest.v1+json"}`, graph.KindPackage,
			[]string{"sha256:" + h("e"), "pkg:oci/tool@sha256%3A" + h("e") + "?repository_url=ghcr.io%2Facme%2Ftool"}, nil, "DEPENDS_ON"},
		{"pypi purl", training, `{"uri":"pkg:pypi/numpy@1.26.0"}`, graph.KindPackage, []string{"pkg:pypi/numpy@1.26.0"}, nil, "DEPENDS_ON"},
		{"plain url", build, `{"uri":"https://example.com/tool.tar.gz"}`, graph.KindFile, []string{"https://example.com/tool.tar.gz"}, nil, ""},
		{"credentials dropped", build, `{"uri":"https://user:secret@example.com/tool.tar.gz"}`, graph.KindFile, []string{"https://example.com/tool.tar.gz"}, map[string]string{"uri": "https://example.com/tool.tar.gz"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, i := provenanceWith(t, tt.buildType, tt.dep)
			n := b.Nodes[i]
			if n.Kind != tt.kind || !slices.Equal(n.Keys, tt.keys) {
				t.Errorf("got %s %v, want %s %v", n.Kind, n.Keys, tt.kind, tt.keys)
			}
			for k, v := range tt.attrs {
				if n.Attrs[k] != v {
					t.Errorf("attr %s = %q, want %q (all: %v)", k, n.Attrs[k], v, n.Attrs)
				}
			}
			var lineage []string
			for _, e := range edges(b) {
				if strings.HasPrefix(e, "Model("+model+")") && !strings.Contains(e, "PRODUCED_BY") {
					lineage = append(lineage, e)
				}
			}
			var want []string
			if tt.edge != "" {
				kind, attrs, _ := strings.Cut(tt.edge, " ")
				if attrs != "" {
					attrs = " " + attrs
				}
				want = []string{fmt.Sprintf("Model(%s) -%s-> %s%s", model, kind, label(b, i), attrs)}
			}
			if !slices.Equal(lineage, want) {
				t.Errorf("lineage edges %q, want %q", lineage, want)
			}
		})
	}
}

func TestClassifyMaterialNamesNothing(t *testing.T) {
	_, err := mapStatement(t, stmt(intoto.PredicateSLSAv1, `{"buildDefinition":{"buildType":"t","externalParameters":{},"resolvedDependencies":[{"name":"weights"}]},"runDetails":{"builder":{"id":"b"}}}`))
	if err == nil || !strings.Contains(err.Error(), "/predicate/buildDefinition/resolvedDependencies/0") {
		t.Errorf("got %v", err)
	}
}

// Subjects: models by extension, Hugging Face reference or training build.
func TestClassifySubjects(t *testing.T) {
	sub := func(name string) string {
		return `{"name":"` + name + `","digest":{"sha256":"` + h("a") + `"}}`
	}
	tests := []struct {
		subject, buildType string
		kind               graph.NodeKind
	}{
		{sub("model.gguf"), "make", graph.KindModel},
		{sub("weights.bin"), "https://x/train/v1", graph.KindModel},
		{sub("weights.bin"), "make", graph.KindFile},
		{sub("app.tar"), "finetune-job", graph.KindModel},
		{sub("app.tar"), "make", graph.KindFile},
		{sub("hf://datasets/acme/x"), "https://x/train/v1", graph.KindDataset},
		{sub("pkg:huggingface/acme/m@1"), "make", graph.KindModel},
	}
	for _, tt := range tests {
		js := `{"_type":"https://in-toto.io/Statement/v0.1","subject":[` + tt.subject + `],"predicateType":"` + intoto.PredicateSLSAv02 +
			`","predicate":{"builder":{"id":"b"},"buildType":"` + tt.buildType + `"}}`
		b, err := mapStatement(t, js)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.Nodes[b.Edges[0].To].Kind; got != tt.kind {
			t.Errorf("%s in %q: %s, want %s", tt.subject, tt.buildType, got, tt.kind)
		}
	}
}

// SLSA v0.1 (recipe) maps like v0.2.
func TestSLSAv01(t *testing.T) {
	b, err := mapStatement(t, stmt(intoto.PredicateSLSAv01, `{"builder":{"id":"https://ci.example/b"},"recipe":{"type":"https://x/train/v1","entryPoint":"train.py","arguments":{"lr":0.1}},
		"metadata":{"buildInvocationId":"42","buildFinishedOn":"2021-01-01T00:00:00+02:00"},"materials":[{"uri":"hf://datasets/acme/d"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	run := "run:https://ci.example/b|42"
	sameLines(t, "edges", edges(b), []string{
		"Document -DESCRIBES-> Model(sha256:" + h("a") + ")",
		"Model(sha256:" + h("a") + ") -PRODUCED_BY-> TrainingRun(" + run + ")",
		"Model(sha256:" + h("a") + ") -TRAINED_ON-> Dataset(hf://datasets/acme/d)",
		"TrainingRun(" + run + ") -USES-> Dataset(hf://datasets/acme/d) {role=material}",
	})
	sameLines(t, "nodes", nodes(b), []string{
		"Dataset [hf://datasets/acme/d name:acme/d]",
		"Model [sha256:" + h("a") + "] {name=m.safetensors}",
		"TrainingRun [" + run + "] {buildType=https://x/train/v1, builderId=https://ci.example/b, entryPoint=train.py, finishedOn=2020-12-31T22:00:00Z, invocationId=42, parameters={\"lr\":0.1}, runType=training}",
	})
}

// Unknown predicate types still record the document and its subjects.
func TestUnknownPredicate(t *testing.T) {
	js := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"m.onnx","digest":{"sha256":"` + h("a") + `"}},{"name":"README","digest":{"sha512":"` + strings.Repeat("b", 128) + `"}}],
		"predicateType":"https://example.com/custom/v3","predicate":"anything, not even an object"}`
	b, err := mapStatement(t, js)
	if err != nil {
		t.Fatal(err)
	}
	if b.Doc.Type != intoto.DocInToto || b.Nodes[graph.DocNode].Attrs["predicateType"] != "https://example.com/custom/v3" {
		t.Errorf("doc %+v attrs %v", b.Doc, b.Nodes[graph.DocNode].Attrs)
	}
	sameLines(t, "nodes", nodes(b), []string{
		"Model [sha256:" + h("a") + "] {name=m.onnx}",
		"File [sha512:" + strings.Repeat("b", 128) + "] {name=README}",
	})
	sameLines(t, "edges", edges(b), []string{
		"Document -DESCRIBES-> Model(sha256:" + h("a") + ")",
		"Document -DESCRIBES-> File(sha512:" + strings.Repeat("b", 128) + ")",
	})
	if intoto.Supported("https://example.com/custom/v3") || !intoto.Supported(intoto.PredicateSLSAv1) || len(intoto.SupportedPredicateTypes()) != 8 {
		t.Error("Supported")
	}
}

// An AIXV deployment denied by policy deploys nothing.
func TestAIXVDeploymentDenied(t *testing.T) {
	b, err := mapStatement(t, stmt(intoto.PredicateAIXVDeployment, `{"policy_decision":"deny","policy_id":"p1","environment":"prod","service":"s"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range b.Nodes {
		if n.Kind == graph.KindDeployment {
			t.Errorf("denied admission made a deployment %v", n.Keys)
		}
	}
	if a := b.Nodes[graph.DocNode].Attrs; a["policyDecision"] != "deny" || a["policyId"] != "p1" {
		t.Errorf("doc attrs %v", a)
	}
}

// A dataset attested as several files: the files are CONTAINED.
func TestDatasetShards(t *testing.T) {
	js := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"part-0.parquet","digest":{"sha256":"` + h("a") + `"}},{"name":"part-1.parquet","digest":{"sha256":"` + h("b") + `"}}],
		"predicateType":"` + intoto.PredicateDataset + `","predicate":{"name":"acme/web"}}`
	b, err := mapStatement(t, js)
	if err != nil {
		t.Fatal(err)
	}
	sameLines(t, "edges", edges(b), []string{
		"Dataset(name:acme/web) -CONTAINS-> File(sha256:" + h("a") + ")",
		"Dataset(name:acme/web) -CONTAINS-> File(sha256:" + h("b") + ")",
		"Document -DESCRIBES-> Dataset(name:acme/web)",
		"Document -DESCRIBES-> File(sha256:" + h("a") + ")",
		"Document -DESCRIBES-> File(sha256:" + h("b") + ")",
	})
}
