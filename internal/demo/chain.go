package demo

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	graphref "github.com/modelgraph/modelgraph/graph/ref"
	"github.com/modelgraph/modelgraph/ingest"
)

// Predicate types the demo writes.
const (
	predOMS        = "https://model_signing/signature/v1.0"
	predSLSA       = "https://slsa.dev/provenance/v1"
	predDataset    = "https://modelgraph.dev/attestation/dataset/v1"
	predDeployment = "https://modelgraph.dev/attestation/deployment/v1"
	predAIXVTrain  = "https://aixv.org/attestation/training/v1"
	predAIXVAdv    = "https://aixv.org/attestation/advisory/v1"
	predCycloneDX  = "https://cyclonedx.org/bom"
	roleServing    = "serving-image"
)

// Names a reader of docs/demo.md meets; tests refer to them too.
const (
	DatasetRaw      = "acme/clinical-notes-raw"
	DatasetClinical = "acme/clinical-notes"
	DatasetWeb      = "acme/web-corpus"
	DatasetChat     = "acme/chat-instructions"

	ModelBase     = "acme/llm-7b"
	ModelChat     = "acme/llm-7b-chat"
	ModelClinical = "acme/llm-7b-clinical"
	ModelChatQ4   = "acme/llm-7b-chat-q4"
	ModelAdapter  = "acme/llm-7b-summarizer-lora"

	ImageLlamaCpp    = "ghcr.io/acme/llama-cpp-server"
	ImageModelServer = "ghcr.io/acme/model-server"

	AdvisoryID        = "AIXV-2024-0042"
	VulnerablePackage = "pkg:pypi/transformers@4.30.0"
)

// bytesFor returns n pseudo-random bytes fixed by label.
func bytesFor(label string, n int) []byte {
	seed := sha256.Sum256([]byte("modelgraph demo v1: " + label))
	r := rand.NewChaCha8(seed)
	b := make([]byte, n)
	_, _ = r.Read(b) // ChaCha8.Read never fails
	return b
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// commit returns a fixed git commit id for label.
func commit(label string) string {
	s := sha1.Sum([]byte("modelgraph demo commit: " + label))
	return hex.EncodeToString(s[:])
}

// statement is an in-toto v1 statement; field order is fixed so the bytes
// are too.
type statement struct {
	Type          string    `json:"_type"`
	Subject       []subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     any       `json:"predicate"`
}

type subject struct {
	Name   string            `json:"name"`
	URI    string            `json:"uri,omitempty"`
	Digest map[string]string `json:"digest"`
}

func newStatement(predicateType string, predicate any, subjects ...subject) ([]byte, error) {
	return json.Marshal(statement{Type: "https://in-toto.io/Statement/v1", Subject: subjects, PredicateType: predicateType, Predicate: predicate})
}

// obj is a JSON object; encoding/json writes map keys sorted.
type obj = map[string]any

type dataset struct {
	name, version, file, uri string
	digest                   string // sha256 hex of the archive
	predicate                obj
}

type file struct {
	path string
	data []byte
}

type model struct {
	name  string
	files []file
	root  string // OMS root digest (hex)
}

// newModel hashes files as model_signing's "files" serialization does:
// resources sorted by path, the root the sha256 of their digests in order.
func newModel(name string, files ...file) *model {
	slices.SortFunc(files, func(a, b file) int {
		switch {
		case a.path < b.path:
			return -1
		case a.path > b.path:
			return 1
		}
		return 0
	})
	h := sha256.New()
	for _, f := range files {
		s := sha256.Sum256(f.data)
		h.Write(s[:])
	}
	return &model{name: name, files: files, root: hex.EncodeToString(h.Sum(nil))}
}

func (m *model) subject() subject {
	return subject{Name: m.name, URI: graphref.HFModel(m.name), Digest: map[string]string{"sha256": m.root}}
}

// omsStatement is the OpenSSF Model Signing v1.0 manifest of m.
func (m *model) omsStatement() ([]byte, error) {
	var res []obj
	for _, f := range m.files {
		res = append(res, obj{"algorithm": "sha256", "name": f.path, "digest": sha256Hex(f.data)})
	}
	return newStatement(predOMS, obj{
		"resources": res,
		"serialization": obj{
			"method":         "files",
			"hash_type":      "sha256",
			"allow_symlinks": false,
			"ignore_paths":   []string{".git", ".gitattributes", ".github", ".gitignore", "model.sig"},
		},
	}, subject{Name: m.name, Digest: map[string]string{"sha256": m.root}})
}

type image struct {
	name, tag, digest string
	packages          []string // purls; the image depends on the first, the first on the rest
}

func (i image) ref() string { return i.name + ":" + i.tag }

// chain holds the generated supply chain.
type chain struct {
	raw, clinical, web, chat    *dataset
	base, chatM, clinicalM, q4  *model
	adapter                     *model
	llamaCpp, modelServer       image
	tokenizer                   []byte
	trainerImage, trainerCommit string
	quantizerCommit, codeDigest string
}

func newChain() *chain {
	c := &chain{}
	c.raw = &dataset{
		name: DatasetRaw, version: "2024-01", file: "datasets/clinical-notes-raw-2024-01.tar",
		uri: "s3://acme-data/datasets/clinical-notes-raw/2024-01/",
	}
	c.raw.digest = sha256Hex(bytesFor(c.raw.file, 64<<10))
	c.raw.predicate = obj{
		"name": c.raw.name, "version": c.raw.version, "uri": c.raw.uri,
		"license":     "LicenseRef-acme-internal",
		"description": "Discharge notes exported from the EHR of two partner hospitals.",
		"collection": obj{
			"method":  "EHR export",
			"period":  obj{"start": "2023-01-01", "end": "2023-12-31"},
			"sources": []string{"ehr://hospital-a", "ehr://hospital-b"},
		},
		"sensitiveData": obj{"pii": true, "phi": true, "categories": []string{"dates", "health", "names"}},
	}
	c.clinical = &dataset{
		name: DatasetClinical, version: "v3", file: "datasets/clinical-notes-v3.tar",
		uri: "s3://acme-data/datasets/clinical-notes/v3/",
	}
	c.clinical.digest = sha256Hex(bytesFor(c.clinical.file, 48<<10))
	c.clinical.predicate = obj{
		"name": c.clinical.name, "version": c.clinical.version, "uri": c.clinical.uri,
		"license":     "LicenseRef-acme-internal",
		"description": "De-identified discharge notes for model training.",
		"sourceDatasets": []obj{{
			"name": c.raw.name, "version": c.raw.version, "uri": c.raw.uri,
			"digest": obj{"sha256": c.raw.digest},
		}},
		"preprocessing": []any{
			"deduplicate",
			obj{"name": "phi-scrub", "tool": "presidio", "version": "2.2.354"},
			obj{"name": "quality-filter", "tool": "acme-dq", "version": "1.4.0"},
		},
		"sensitiveData": obj{"pii": false, "phi": false},
	}
	c.web = &dataset{
		name: DatasetWeb, version: "2024-03", file: "datasets/web-corpus-2024-03.tar",
		uri: "s3://acme-data/datasets/web-corpus/2024-03/",
	}
	c.web.digest = sha256Hex(bytesFor(c.web.file, 96<<10))
	c.web.predicate = obj{
		"name": c.web.name, "version": c.web.version, "uri": c.web.uri,
		"license":       "CC-BY-4.0",
		"description":   "Filtered English web text.",
		"collection":    obj{"method": "web crawl", "period": obj{"start": "2023-06-01", "end": "2024-02-29"}},
		"preprocessing": []any{"language-id", "deduplicate", obj{"name": "toxicity-filter", "tool": "acme-dq", "version": "1.4.0"}},
		"sensitiveData": obj{"pii": false, "phi": false},
	}
	c.chat = &dataset{
		name: DatasetChat, version: "v1", file: "datasets/chat-instructions-v1.jsonl",
		uri: "s3://acme-data/datasets/chat-instructions/v1/",
	}
	c.chat.digest = sha256Hex(bytesFor(c.chat.file, 24<<10))
	c.chat.predicate = obj{
		"name": c.chat.name, "version": c.chat.version, "uri": c.chat.uri,
		"license":       "CC-BY-SA-4.0",
		"description":   "Instruction/response pairs written by Acme annotators.",
		"sensitiveData": obj{"pii": false, "phi": false},
	}

	// One tokenizer shared by the base model and its fine-tunes: the file
	// an incident may start from.
	c.tokenizer = []byte(fmt.Sprintf(`{"version":"1.0","model":{"type":"BPE","vocab_size":32000,"merges_sha256":%q}}`, sha256Hex(bytesFor("tokenizer/merges", 4<<10))))
	config := func(name string, extra string) []byte {
		return []byte(fmt.Sprintf(`{"_name_or_path":%q,"architectures":["LlamaForCausalLM"],"hidden_size":4096,"num_hidden_layers":32,"vocab_size":32000%s}`, name, extra))
	}
	c.base = newModel(ModelBase,
		file{"config.json", config(ModelBase, "")},
		file{"model-00001-of-00002.safetensors", bytesFor(ModelBase+"/shard1", 32<<10)},
		file{"model-00002-of-00002.safetensors", bytesFor(ModelBase+"/shard2", 32<<10)},
		file{"tokenizer.json", c.tokenizer},
	)
	c.chatM = newModel(ModelChat,
		file{"config.json", config(ModelChat, `,"chat_template":"acme-v1"`)},
		file{"generation_config.json", []byte(`{"temperature":0.7,"top_p":0.9}`)},
		file{"model.safetensors", bytesFor(ModelChat+"/weights", 32<<10)},
		file{"tokenizer.json", c.tokenizer},
	)
	c.clinicalM = newModel(ModelClinical,
		file{"config.json", config(ModelClinical, "")},
		file{"model.safetensors", bytesFor(ModelClinical+"/weights", 32<<10)},
		file{"tokenizer.json", c.tokenizer},
	)
	c.q4 = newModel(ModelChatQ4,
		file{"llm-7b-chat.Q4_K_M.gguf", bytesFor(ModelChatQ4+"/gguf", 16<<10)},
	)
	c.adapter = newModel(ModelAdapter,
		file{"adapter_config.json", []byte(`{"base_model_name_or_path":"acme/llm-7b","peft_type":"LORA","r":16,"lora_alpha":32}`)},
		file{"adapter_model.safetensors", bytesFor(ModelAdapter+"/weights", 8<<10)},
	)

	c.llamaCpp = image{name: ImageLlamaCpp, tag: "b3000", digest: sha256Hex(bytesFor("image/llama-cpp-server:b3000", 1024)), packages: []string{
		"pkg:github/ggerganov/llama.cpp@b3000",
		"pkg:deb/debian/libc6@2.36-9+deb12u7?arch=amd64&distro=debian-12",
		"pkg:deb/debian/libssl3@3.0.13-1~deb12u1?arch=amd64&distro=debian-12",
		"pkg:deb/debian/libgomp1@12.2.0-14?arch=amd64&distro=debian-12",
	}}
	c.modelServer = image{name: ImageModelServer, tag: "1.8.0", digest: sha256Hex(bytesFor("image/model-server:1.8.0", 1024)), packages: []string{
		"pkg:pypi/acme-model-server@1.8.0",
		VulnerablePackage,
		"pkg:pypi/torch@2.0.1",
		"pkg:pypi/accelerate@0.20.3",
		"pkg:pypi/fastapi@0.99.1",
		"pkg:pypi/uvicorn@0.22.0",
	}}
	c.trainerImage = sha256Hex(bytesFor("image/trainer-cuda:12.1", 1024))
	c.trainerCommit = commit("acme/trainer@main")
	c.quantizerCommit = commit("ggerganov/llama.cpp@b3000")
	c.codeDigest = sha256Hex(bytesFor("acme/trainer/ft-clinical.tar", 1024))
	return c
}

// build signs and lists every document in ingestion order: what a
// platform's pipelines would push over two months.
func build(s *signers) ([]ingest.Input, error) {
	c := newChain()
	var out []ingest.Input
	var err error
	add := func(source string, sign func([]byte) ([]byte, error), stmt func() ([]byte, error)) {
		if err != nil {
			return
		}
		var st, doc []byte
		if st, err = stmt(); err != nil {
			err = fmt.Errorf("%s: %w", source, err)
			return
		}
		if doc, err = sign(st); err != nil {
			err = fmt.Errorf("%s: %w", source, err)
			return
		}
		out = append(out, ingest.Input{Data: doc, Source: SourcePrefix + source})
	}

	for _, d := range []*dataset{c.raw, c.clinical, c.web, c.chat} {
		add(d.file+".dsse.json", s.data.dsse, func() ([]byte, error) {
			return newStatement(predDataset, d.predicate, subject{Name: d.file, Digest: map[string]string{"sha256": d.digest}})
		})
	}

	// The base model: SLSA provenance of its training run, then its OMS
	// signature.
	add("models/acme/llm-7b/provenance.dsse.json", s.ml.dsse, func() ([]byte, error) {
		return newStatement(predSLSA, slsa(
			"https://ml.acme.example/buildtypes/training/v1",
			obj{"config": "configs/llm-7b.yaml", "epochs": 3, "learning_rate": 0.0003, "seed": 1234},
			[]obj{
				{"uri": "git+https://github.com/acme/trainer@refs/heads/main", "digest": obj{"gitCommit": c.trainerCommit}},
				datasetDep(c.clinical, "train"),
				datasetDep(c.web, "train"),
				{"uri": "oci://ghcr.io/acme/trainer-cuda@sha256:" + c.trainerImage, "digest": obj{"sha256": c.trainerImage}},
			},
			"train-llm-7b-2024-05-01", "2024-05-01T08:00:00Z", "2024-05-03T17:30:00Z",
		), c.base.subject())
	})
	add("models/acme/llm-7b/model.sig", s.ml.bundle, c.base.omsStatement)

	// Chat fine-tune (SLSA), clinical fine-tune (AIXV training).
	add("models/acme/llm-7b-chat/provenance.dsse.json", s.ml.dsse, func() ([]byte, error) {
		return newStatement(predSLSA, slsa(
			"https://ml.acme.example/buildtypes/fine-tune/v1",
			obj{"config": "configs/llm-7b-chat.yaml", "epochs": 2, "learning_rate": 0.00002},
			[]obj{
				{"uri": "git+https://github.com/acme/trainer@refs/heads/main", "digest": obj{"gitCommit": c.trainerCommit}},
				modelDep(c.base, "base-model", "finetune"),
				datasetDep(c.chat, "train"),
			},
			"ft-llm-7b-chat-2024-05-20", "2024-05-20T07:00:00Z", "2024-05-21T02:10:00Z",
		), c.chatM.subject())
	})
	add("models/acme/llm-7b-chat/model.sig", s.ml.bundle, c.chatM.omsStatement)
	add("models/acme/llm-7b-clinical/training.dsse.json", s.ml.dsse, func() ([]byte, error) {
		return newStatement(predAIXVTrain, obj{
			"parent_models": []obj{{"digest": "sha256:" + c.base.root, "uri": graphref.HFModel(c.base.name), "name": c.base.name, "relation": "finetune"}},
			"datasets":      []obj{{"digest": "sha256:" + c.clinical.digest, "uri": c.clinical.uri, "split": "train"}},
			"training_run": obj{
				"id":                 "ft-llm-7b-clinical-2024-06-02",
				"framework":          "pytorch",
				"framework_version":  "2.3.0",
				"code_digest":        "sha256:" + c.codeDigest,
				"environment_digest": "sha256:" + c.trainerImage,
				"started_on":         "2024-06-02T06:00:00Z",
				"finished_on":        "2024-06-03T01:45:00Z",
			},
			"hyperparameters": obj{"learning_rate": 0.00002, "epochs": 2, "lora_rank": 16, "merged": true},
		}, c.clinicalM.subject())
	})
	add("models/acme/llm-7b-clinical/model.sig", s.ml.bundle, c.clinicalM.omsStatement)

	// Quantized variant of the chat model.
	add("models/acme/llm-7b-chat-q4/provenance.dsse.json", s.ml.dsse, func() ([]byte, error) {
		return newStatement(predSLSA, slsa(
			"https://ml.acme.example/buildtypes/quantize/v1",
			obj{"method": "Q4_K_M", "tool": "llama.cpp/quantize"},
			[]obj{
				modelDep(c.chatM, "model", "quantized"),
				{"uri": "git+https://github.com/ggerganov/llama.cpp@refs/tags/b3000", "digest": obj{"gitCommit": c.quantizerCommit}},
			},
			"quantize-llm-7b-chat-q4-2024-06-18", "2024-06-18T10:00:00Z", "2024-06-18T10:20:00Z",
		), c.q4.subject())
	})
	add("models/acme/llm-7b-chat-q4/model.sig", s.ml.bundle, c.q4.omsStatement)

	// The LoRA adapter has only a model card: its link to the base model
	// is an unsigned claim.
	if err == nil {
		out = append(out, ingest.Input{Data: adapterCard(), Source: SourcePrefix + "models/acme/llm-7b-summarizer-lora/README.md", Subject: ModelAdapter})
	}

	// Serving images' SBOMs, signed by the deploy pipeline.
	for _, img := range []image{c.llamaCpp, c.modelServer} {
		add(fmt.Sprintf("images/%s-%s.cdx.dsse.json", lastSegment(img.name), img.tag), s.deploy.dsse, func() ([]byte, error) {
			bom, err := imageBOM(img)
			if err != nil {
				return nil, err
			}
			return newStatement(predCycloneDX, json.RawMessage(bom), subject{Name: img.name, Digest: map[string]string{"sha256": img.digest}})
		})
		if err == nil {
			out[len(out)-1].Role = roleServing
		}
	}

	// Deployments: the chat model went to production, was replaced by its
	// quantized variant; the clinical fine-tune and the adapter run in
	// staging.
	prod := obj{"environment": "production", "cluster": "eu-west-1", "namespace": "ml-serving", "service": "clinical-chat", "endpoint": "https://chat.acme-health.example/v1"}
	staging := func(service, endpoint string) obj {
		return obj{"environment": "staging", "cluster": "eu-west-1", "namespace": "ml-staging", "service": service, "endpoint": endpoint}
	}
	for _, d := range []struct {
		source   string
		m        *model
		where    obj
		img      image
		from, to string
	}{
		{"deployments/production-clinical-chat-2024-05-27.dsse.json", c.chatM, prod, c.llamaCpp, "2024-05-27T09:00:00Z", ""},
		{"deployments/staging-clinical-assist-2024-06-10.dsse.json", c.clinicalM, staging("clinical-assist", "https://assist.staging.acme-health.example/v1"), c.modelServer, "2024-06-10T14:00:00Z", ""},
		{"deployments/staging-note-summarizer-2024-06-12.dsse.json", c.adapter, staging("note-summarizer", "https://summarize.staging.acme-health.example/v1"), c.modelServer, "2024-06-12T10:00:00Z", ""},
		{"deployments/production-clinical-chat-2024-06-20-withdrawn.dsse.json", c.chatM, prod, c.llamaCpp, "2024-05-27T09:00:00Z", "2024-06-20T09:00:00Z"},
		{"deployments/production-clinical-chat-2024-06-20.dsse.json", c.q4, prod, c.llamaCpp, "2024-06-20T09:00:00Z", ""},
	} {
		add(d.source, s.deploy.dsse, func() ([]byte, error) {
			p := obj{"servingImage": obj{"name": d.img.ref(), "digest": obj{"sha256": d.img.digest}}, "deployedAt": d.from}
			for k, v := range d.where {
				p[k] = v
			}
			if d.to != "" {
				p["undeployedAt"] = d.to
			}
			return newStatement(predDeployment, p, d.m.subject())
		})
	}

	// The security team's advisory: clinical-notes v3 still holds PHI.
	add("advisories/"+AdvisoryID+".dsse.json", s.security.dsse, func() ([]byte, error) {
		return newStatement(predAIXVAdv, obj{
			"advisory_id": AdvisoryID,
			"affected": []obj{
				{"digest": "sha256:" + c.clinical.digest, "artifact_type": "dataset"},
				{"digest": "sha256:" + c.base.root, "selector": "descendants"},
			},
			"severity":            "critical",
			"status":              "active",
			"reason_code":         "training-data-contamination",
			"recommended_actions": []string{"rollback", "retrain"},
			"summary":             "Unredacted patient records (PHI) found in acme/clinical-notes v3; models trained on it may reproduce them.",
			"references":          []string{"https://security.acme-health.example/advisories/" + AdvisoryID},
		}, subject{Name: c.base.name, Digest: map[string]string{"sha256": c.base.root}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func slsa(buildType string, params obj, deps []obj, invocation, started, finished string) obj {
	return obj{
		"buildDefinition": obj{
			"buildType":            buildType,
			"externalParameters":   params,
			"internalParameters":   obj{"gpu_pool": "a100-80g"},
			"resolvedDependencies": deps,
		},
		"runDetails": obj{
			"builder":  obj{"id": "https://ml.acme.example/runners/gpu@v2"},
			"metadata": obj{"invocationId": invocation, "startedOn": started, "finishedOn": finished},
		},
	}
}

func datasetDep(d *dataset, split string) obj {
	return obj{"name": d.name, "uri": d.uri, "digest": obj{"sha256": d.digest}, "annotations": obj{"kind": "dataset", "split": split}}
}

func modelDep(m *model, kind, relation string) obj {
	return obj{"name": m.name, "uri": graphref.HFModel(m.name), "digest": obj{"sha256": m.root}, "annotations": obj{"kind": kind, "relation": relation}}
}

// imageBOM is a serving image's CycloneDX SBOM as a scanner writes it: the
// image, its packages, and which depends on which.
func imageBOM(img image) ([]byte, error) {
	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{
		Timestamp: "2024-05-25T12:00:00Z",
		Tools:     &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: "syft", Version: "1.4.1"}}},
		Component: &cdx.Component{BOMRef: "image", Type: cdx.ComponentTypeContainer, Name: img.name, Version: img.tag},
	}
	var comps []cdx.Component
	var refs []string
	for _, p := range img.packages {
		name, version := purlNameVersion(p)
		comps = append(comps, cdx.Component{BOMRef: p, Type: cdx.ComponentTypeLibrary, Name: name, Version: version, PackageURL: p})
		refs = append(refs, p)
	}
	bom.Components = &comps
	deps := []cdx.Dependency{{Ref: "image", Dependencies: &[]string{refs[0]}}}
	rest := slices.Clone(refs[1:])
	deps = append(deps, cdx.Dependency{Ref: refs[0], Dependencies: &rest})
	for _, r := range refs[1:] {
		deps = append(deps, cdx.Dependency{Ref: r})
	}
	bom.Dependencies = &deps
	bom.SerialNumber = "urn:uuid:" + uuidFor("sbom/"+img.ref())
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).SetPretty(false).EncodeVersion(bom, cdx.SpecVersion1_5); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

// purlNameVersion splits the name and version out of a purl for display.
func purlNameVersion(p string) (string, string) {
	rest, _, _ := strings.Cut(p, "?")
	at := strings.LastIndexByte(rest, '@')
	return lastSegment(rest[:at]), rest[at+1:]
}

// uuidFor is a fixed RFC 4122 version-4-shaped UUID for label.
func uuidFor(label string) string {
	b := bytesFor("uuid/"+label, 16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func lastSegment(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

// adapterCard is the LoRA adapter's Hugging Face model card.
func adapterCard() []byte {
	return []byte(`---
license: apache-2.0
library_name: peft
pipeline_tag: summarization
base_model: acme/llm-7b
base_model_relation: adapter
language:
- en
tags:
- lora
- clinical
- summarization
---

# acme/llm-7b-summarizer-lora

A LoRA adapter (rank 16) on acme/llm-7b that summarises hospital discharge
notes into a five-line handover. Trained by the clinical NLP team; not signed.

## Intended use

Draft summaries for clinicians to review. Not for unsupervised use.
`)
}
