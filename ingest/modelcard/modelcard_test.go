package modelcard_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/ingesttest"
	"github.com/modelgraph/modelgraph/ingest/modelcard"
)

const testdata = "../../testdata/modelcard"

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func doc(name string, data []byte) graph.Document {
	return graph.Document{Digest: graph.SHA256Key(data), Source: name}
}

func TestCards(t *testing.T) {
	tests := []struct {
		file    string
		opts    []modelcard.Options
		docType string
		nodes   []string
		edges   []string
	}{{
		file: "llm-7b-chat-gguf.md", opts: []modelcard.Options{{Name: "hf://acme/llm-7b-chat-GGUF"}}, docType: modelcard.DocModelCard,
		nodes: []string{
			"Model [hf://acme/llm-7b-chat-GGUF name:acme/llm-7b-chat-GGUF] {evalTasks=text-generation, language=en, libraryName=gguf, license=apache-2.0, metric:bigbio/med_qa/accuracy=0.612, metric:bigbio/med_qa/f1=0.58, modelName=llm-7b-chat-GGUF, pipelineTag=text-generation, tags=gguf,quantized,medical}",
			"Model [hf://acme/llm-7b-chat name:acme/llm-7b-chat]",
		},
		edges: []string{
			"Document -DESCRIBES-> Model(hf://acme/llm-7b-chat-GGUF)",
			"Model(hf://acme/llm-7b-chat-GGUF) -DERIVED_FROM-> Model(hf://acme/llm-7b-chat) {relation=quantized}",
		},
	}, {
		// Without Options the card's model-index name (not org/name) is a name only.
		file: "llm-7b-chat-gguf.md", docType: modelcard.DocModelCard,
		nodes: []string{
			"Model [name:llm-7b-chat-GGUF] {evalTasks=text-generation, language=en, libraryName=gguf, license=apache-2.0, metric:bigbio/med_qa/accuracy=0.612, metric:bigbio/med_qa/f1=0.58, modelName=llm-7b-chat-GGUF, pipelineTag=text-generation, tags=gguf,quantized,medical}",
			"Model [hf://acme/llm-7b-chat name:acme/llm-7b-chat]",
		},
		edges: []string{
			"Document -DESCRIBES-> Model(name:llm-7b-chat-GGUF)",
			"Model(name:llm-7b-chat-GGUF) -DERIVED_FROM-> Model(hf://acme/llm-7b-chat) {relation=quantized}",
		},
	}, {
		file: "merged-model.md", docType: modelcard.DocModelCard,
		nodes: []string{
			"Model [hf://acme/llm-7b-merged name:acme/llm-7b-merged] {license=other, licenseName=acme-research, modelName=acme/llm-7b-merged}",
			"Model [hf://acme/llm-7b-chat name:acme/llm-7b-chat]",
			"Model [hf://acme/llm-7b-code name:acme/llm-7b-code]",
			"Dataset [hf://datasets/acme/clinical-notes name:acme/clinical-notes]",
			"Dataset [hf://datasets/acme/code-instructions name:acme/code-instructions]",
		},
		edges: []string{
			"Document -DESCRIBES-> Model(hf://acme/llm-7b-merged)",
			"Model(hf://acme/llm-7b-merged) -DERIVED_FROM-> Model(hf://acme/llm-7b-chat) {relation=merge}",
			"Model(hf://acme/llm-7b-merged) -DERIVED_FROM-> Model(hf://acme/llm-7b-code) {relation=merge}",
			"Model(hf://acme/llm-7b-merged) -TRAINED_ON-> Dataset(hf://datasets/acme/clinical-notes)",
			"Model(hf://acme/llm-7b-merged) -TRAINED_ON-> Dataset(hf://datasets/acme/code-instructions)",
		},
	}, {
		file: "clinical-notes-dataset.md", opts: []modelcard.Options{{Name: "https://huggingface.co/datasets/acme/clinical-notes"}}, docType: modelcard.DocDatasetCard,
		nodes: []string{
			"Dataset [hf://datasets/acme/clinical-notes name:acme/clinical-notes] {language=en, license=cc-by-4.0, prettyName=Clinical Notes, sizeCategories=10K<n<100K, sourceDatasetsOther=other-hospital-records, taskCategories=text-generation,question-answering}",
			"Dataset [hf://datasets/acme/clinical-notes-raw name:acme/clinical-notes-raw]",
		},
		edges: []string{
			"Document -DESCRIBES-> Dataset(hf://datasets/acme/clinical-notes)",
			"Dataset(hf://datasets/acme/clinical-notes) -DERIVED_FROM-> Dataset(hf://datasets/acme/clinical-notes-raw)",
		},
	}, {
		// Kind decided from the fields; the pretty name becomes a name key.
		file: "clinical-notes-dataset.md", docType: modelcard.DocDatasetCard,
		nodes: []string{
			"Dataset [name:Clinical Notes] {language=en, license=cc-by-4.0, prettyName=Clinical Notes, sizeCategories=10K<n<100K, sourceDatasetsOther=other-hospital-records, taskCategories=text-generation,question-answering}",
			"Dataset [hf://datasets/acme/clinical-notes-raw name:acme/clinical-notes-raw]",
		},
		edges: []string{
			"Document -DESCRIBES-> Dataset(name:Clinical Notes)",
			"Dataset(name:Clinical Notes) -DERIVED_FROM-> Dataset(hf://datasets/acme/clinical-notes-raw)",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := read(t, tt.file)
			if !modelcard.Detect(data) {
				t.Error("Detect = false")
			}
			b, err := modelcard.Parse(data, doc(tt.file, data), tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if b.Doc.Type != tt.docType || b.Nodes[graph.DocNode].Attrs["status"] != "unsigned" {
				t.Errorf("doc type %q attrs %v", b.Doc.Type, b.Nodes[graph.DocNode].Attrs)
			}
			ingesttest.SameLines(t, "nodes", ingesttest.Nodes(b), tt.nodes)
			ingesttest.SameLines(t, "edges", ingesttest.Edges(b), tt.edges)
		})
	}
}

// A card is unsigned unless the caller supplies verified signatures.
func TestCardSignatures(t *testing.T) {
	data := read(t, "llm-7b-chat-gguf.md")
	d := doc("card.md", data)
	d.Signatures = []graph.Signature{{Method: "keyless", Identity: "release@acme.example", Issuer: "https://accounts.google.com", Status: graph.StatusVerified}}
	b, err := modelcard.Parse(data, d, modelcard.Options{Name: "acme/llm-7b-chat-GGUF"})
	if err != nil {
		t.Fatal(err)
	}
	e := ingesttest.Edges(b)
	if b.Nodes[graph.DocNode].Attrs["status"] != "verified" || !slices.Contains(e, "Document -SIGNED_BY-> Identity(oidc:https://accounts.google.com|release@acme.example) {method=keyless, status=verified}") {
		t.Errorf("status %q edges %q", b.Nodes[graph.DocNode].Attrs["status"], e)
	}
}

func TestCardErrors(t *testing.T) {
	card := func(fm string) []byte { return []byte("---\n" + fm + "\n---\nbody\n") }
	tests := []struct {
		name     string
		data     []byte
		opts     []modelcard.Options
		sentinel error
		msg      string
	}{
		{"no front matter", []byte("# Model\n"), nil, modelcard.ErrNoFrontMatter, "does not start with a --- line"},
		{"unclosed", []byte("---\nlicense: mit\n"), nil, modelcard.ErrNoFrontMatter, "no closing --- line"},
		{"not a card", read(t, "not-a-card.md"), nil, modelcard.ErrNoFrontMatter, "no model or dataset card field"},
		{"not a mapping", card("- a\n- b"), nil, modelcard.ErrNoFrontMatter, "not a mapping"},
		{"bad yaml", card("license: [mit"), nil, modelcard.ErrYAML, "yaml"},
		{"alias bomb", read(t, "alias-bomb.md"), nil, modelcard.ErrYAML, "line 4: YAML aliases (*a) are not accepted"},
		{"single alias", card("license: &l mit\nlicense_name: *l"), []modelcard.Options{{Name: "a/b"}}, modelcard.ErrYAML, "aliases"},
		{"deep", card("license: mit\nx: " + strings.Repeat("[", modelcard.MaxYAMLDepth+1) + strings.Repeat("]", modelcard.MaxYAMLDepth+1)), nil, modelcard.ErrYAML, "nesting deeper than"},
		{"too many nodes", card("license: mit\nx: [" + strings.Repeat("1,", modelcard.MaxYAMLNodes) + "1]"), nil, modelcard.ErrYAML, "YAML nodes"},
		{"front matter size", card("license: mit\n#" + strings.Repeat("x", modelcard.MaxFrontMatterBytes)), nil, modelcard.ErrLimit, "front matter exceeds"},
		{"card size", make([]byte, modelcard.MaxCardBytes+1), nil, modelcard.ErrLimit, "card is"},
		{"no name", card("license: mit"), nil, modelcard.ErrField, "pass Options.Name"},
		{"bad relation", card("base_model: a/b\nbase_model_relation: cousin"), []modelcard.Options{{Name: "a/c"}}, modelcard.ErrField, "line 3: base_model_relation: \"cousin\" is not adapter|merge|quantized|finetune"},
		{"bad base model", card("base_model:\n  - a/b\n  - not an id"), []modelcard.Options{{Name: "a/c"}}, modelcard.ErrField, "line 4: base_model[1]: \"not an id\" is not a Hugging Face model id"},
		{"dataset as base", card("base_model: hf://datasets/a/b"), []modelcard.Options{{Name: "a/c"}}, modelcard.ErrField, "base_model[0]"},
		{"base model mapping", card("base_model: {a: b}"), []modelcard.Options{{Name: "a/c"}}, modelcard.ErrField, "base_model: must be a string or a list of strings"},
		{"nested list", card("datasets: [[a]]"), []modelcard.Options{{Name: "a/c"}}, modelcard.ErrField, "datasets[0]: must be a string"},
		{"too many bases", card("base_model: [" + strings.Repeat("a/b,", modelcard.MaxListItems) + "a/b]"), []modelcard.Options{{Name: "a/c"}}, modelcard.ErrLimit, "base_model"},
		{"bad source dataset", card("pretty_name: X\nsource_datasets: [extended|a b]"), nil, modelcard.ErrField, "source_datasets[0]"},
		{"model-index type", card("model-index: {name: x}"), []modelcard.Options{{Name: "a/c"}}, modelcard.ErrField, "model-index: must be a list"},
		{"name kind mismatch", card("license: mit"), []modelcard.Options{{Name: "hf://datasets/a/b", Kind: modelcard.KindModel}}, modelcard.ErrInvalidCard, "does not name a model"},
		{"bad kind", card("license: mit"), []modelcard.Options{{Kind: "space"}}, modelcard.ErrInvalidCard, "Options.Kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := modelcard.Parse(tt.data, doc("card.md", tt.data), tt.opts...)
			if !errors.Is(err, tt.sentinel) || !errors.Is(err, modelcard.ErrInvalidCard) {
				t.Fatalf("error %v does not wrap %v", err, tt.sentinel)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), "card.md") {
				t.Errorf("message %q lacks %q or the document name", err, tt.msg)
			}
		})
	}
	if _, err := modelcard.Parse(read(t, "merged-model.md"), graph.Document{}); !errors.Is(err, modelcard.ErrInvalidCard) {
		t.Errorf("missing digest: %v", err)
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"---\nlicense: mit\n---\n", true},
		{"\xef\xbb\xbf---\r\npipeline_tag: text-generation\r\n---\r\n# x", true},
		{"---\ntask_categories: [text-generation]\n...\n", true},
		{"---\ntitle: x\n---\n", false},
		{"# README\n---\nlicense: mit\n---\n", false},
		{"---\nlicense: mit\n", false},
		{"", false},
	} {
		if got := modelcard.Detect([]byte(tc.in)); got != tc.want {
			t.Errorf("Detect(%q) = %v", tc.in, got)
		}
	}
	if modelcard.Detect(read(t, "alias-bomb.md")) {
		t.Error("an alias bomb is detected as a card")
	}
}

// Metrics past MaxMetrics are counted, not kept.
func TestMetricsLimit(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("---\nmodel-index:\n- name: m\n  results:\n  - dataset: {type: d}\n    metrics:\n")
	for i := range modelcard.MaxMetrics + 3 {
		fmt.Fprintf(&sb, "    - {type: m%d, value: %d}\n", i, i)
	}
	sb.WriteString("---\n")
	data := []byte(sb.String())
	b, err := modelcard.Parse(data, doc("m.md", data), modelcard.Options{Name: "a/m"})
	if err != nil {
		t.Fatal(err)
	}
	a := b.Nodes[1].Attrs
	if a["metricsOmitted"] != "3" || a["metric:d/m0"] != "0" || a[fmt.Sprintf("metric:d/m%d", modelcard.MaxMetrics)] != "" {
		t.Errorf("attrs %v", a)
	}
}
