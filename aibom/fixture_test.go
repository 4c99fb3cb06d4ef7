package aibom

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
)

// fixture is the supply chain most tests export:
//
//	raw-notes <-DERIVED_FROM- clean-notes <-TRAINED_ON- instruct -DERIVED_FROM(finetune)-> base
//	instruct-q4 -DERIVED_FROM(quantized)-> instruct;  instruct -PRODUCED_BY-> run
//	run -USES-> clean-notes, base, git source; run -DEPENDS_ON-> accelerate (training only)
//	instruct -DEPENDS_ON-> transformers -> torch, safetensors (from an SBOM)
//	instruct-q4 -DEPLOYED_AS-> prod (production) -DEPENDS_ON-> serving image -> transformers
//	instruct -DEPLOYED_AS-> staging (staging)
//
// Evidence: a verified keyless OMS signature over instruct-q4, a failed
// key signature over instruct, a verified key-signed dataset attestation,
// and unsigned provenance, SBOM, model card and deployment records.
type fixture struct {
	store                           *embedded.Store
	path                            string
	q4, instruct, base              graph.NodeID
	raw, clean                      graph.NodeID
	prod, staging, run              graph.NodeID
	transformers, torch, accelerate graph.NodeID
	omsDigest, failedDigest         string
}

var fixtureTime = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func digest(s string) string { return graph.SHA256Key([]byte("artifact:" + s)) }

func hexOf(s string, n int) string {
	var out string
	for i := 0; len(out) < n; i++ {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", s, i)))
		out += hex.EncodeToString(h[:])
	}
	return out[:n]
}

func doc(name, typ, predicate string, at time.Time, sigs ...graph.Signature) graph.Document {
	return graph.Document{
		Digest: graph.SHA256Key([]byte("document:" + name)), Type: typ, PredicateType: predicate,
		Source: name, Size: int64(100 + len(name)), Signatures: sigs, IngestedAt: at,
	}
}

func openStore(t testing.TB, path string) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(path, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func apply(t testing.TB, s graph.Store, bs ...*graph.Batch) {
	t.Helper()
	for _, b := range bs {
		if _, err := s.Apply(context.Background(), b); err != nil {
			t.Fatalf("apply %s: %v", b.Doc.Source, err)
		}
	}
}

func mustOne(t testing.TB, r graph.Reader, key string) graph.Node {
	t.Helper()
	ns, err := r.Lookup(context.Background(), key)
	if err != nil || len(ns) != 1 {
		t.Fatalf("lookup %s: %d nodes, %v", key, len(ns), err)
	}
	return ns[0]
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{path: filepath.Join(t.TempDir(), "g.db")}
	f.store = openStore(t, f.path)
	at := func(h int) time.Time { return fixtureTime.Add(time.Duration(h) * time.Hour) }

	// Model card: lineage and descriptive claims, unsigned.
	card := graph.NewBatch(doc("README.md", "hf-model-card", "", at(0)))
	base := card.Node(graph.KindModel, digest("base"), graph.NameKey("acme/llm-7b"), "hf://acme/llm-7b")
	card.Set(base, "license", "llama2")
	card.Set(base, "version", "2.0")
	instruct := card.Node(graph.KindModel, digest("instruct"), graph.NameKey("acme/llm-7b-instruct"), "hf://acme/llm-7b-instruct")
	card.Set(instruct, "license", "apache-2.0")
	card.Set(instruct, "pipelineTag", "text-generation")
	card.Set(instruct, "model_type", "llama")
	card.Set(instruct, "architecture", "LlamaForCausalLM")
	card.Set(instruct, "approach", "supervised")
	card.Set(instruct, "version", "1.1")
	card.Set(instruct, "intended_use", "clinical note summarisation")
	card.Set(instruct, "base_model_revision", "main")
	clean := card.Node(graph.KindDataset, digest("clean"), graph.NameKey("clinical-notes-clean"), "hf://datasets/acme/clinical-notes-clean")
	raw := card.Node(graph.KindDataset, digest("raw"), graph.NameKey("clinical-notes@v3"), "s3://acme-data/raw/clinical-notes-v3")
	card.Set(raw, "version", "v3")
	card.Set(raw, "license", "CC-BY-4.0")
	card.Edge(instruct, graph.DerivedFrom, base, "relation", "finetune")
	card.Edge(instruct, graph.TrainedOn, clean, "split", "train")
	card.Edge(clean, graph.DerivedFrom, raw)
	card.Describes(instruct)

	// Failed key signature over the fine-tune's files.
	failed := graph.NewBatch(doc("instruct/model.sig", "oms", "https://model_signing/signature/v1.0", at(1),
		graph.Signature{Method: "key", KeyID: "3f1c0ffee", Status: graph.StatusFailed, Reason: "signature does not verify with the trusted key"}))
	fi := failed.Node(graph.KindModel, digest("instruct"))
	weights := failed.Node(graph.KindFile, "sha256:"+hexOf("instruct-weights", 64))
	tok := failed.Node(graph.KindFile, "blake2b:"+hexOf("tokenizer", 128))
	failed.Edge(fi, graph.Contains, weights, "path", "model.safetensors")
	failed.Edge(fi, graph.Contains, tok, "path", "tokenizer.json")
	failed.Describes(fi)

	// Verified keyless OMS signature over the quantized model.
	oms := graph.NewBatch(doc("instruct-q4/model.sig", "oms", "https://model_signing/signature/v1.0", at(2),
		graph.Signature{Method: "keyless", Identity: "release-bot@acme.example", Issuer: "https://accounts.google.com",
			Status: graph.StatusVerified, LogIndex: 123456789, IntegratedTime: at(2).Add(-time.Minute)}))
	q4 := oms.Node(graph.KindModel, digest("instruct-q4"), graph.NameKey("acme/llm-7b-instruct-q4"), "hf://acme/llm-7b-instruct-q4")
	gguf := oms.Node(graph.KindFile, "blake3:"+hexOf("q4-gguf", 64))
	cfg := oms.Node(graph.KindFile, "sha256:"+hexOf("q4-config", 64))
	oms.Edge(q4, graph.Contains, gguf, "path", "model-q4_k_m.gguf")
	oms.Edge(q4, graph.Contains, cfg, "path", "config.json")
	oms.Set(q4, "quantization", "q4_k_m")
	oms.Describes(q4)

	// Lineage of the quantized model, claimed by the quantization job.
	quant := graph.NewBatch(doc("quantize-job.json", "modelgraph-lineage", "", at(3)))
	qq := quant.Node(graph.KindModel, digest("instruct-q4"))
	qi := quant.Node(graph.KindModel, digest("instruct"))
	quant.Edge(qq, graph.DerivedFrom, qi, "relation", "quantized")
	quant.Describes(qq)

	// Verified dataset attestation.
	data := graph.NewBatch(doc("clean-notes.intoto.json", "in-toto", "https://acme.example/dataset/v1", at(4),
		graph.Signature{Method: "key", KeyID: "data-team-key", Status: graph.StatusVerified}))
	dc := data.Node(graph.KindDataset, digest("clean"))
	data.Set(dc, "classification", "confidential")
	data.Set(dc, "sensitive_data", "PHI")
	data.Set(dc, "sensitive_data", "PHI") // repeated claims merge
	data.Set(dc, "pii", "true")
	data.Set(dc, "owner", "Acme Clinical Data Governance")
	data.Set(dc, "custodian", "Acme Data Platform")
	data.Set(dc, "license", "cc-by-nc-4.0")
	data.Describes(dc)

	// Unsigned SLSA provenance of the fine-tune.
	prov := graph.NewBatch(doc("instruct.provenance.json", "slsa-provenance", "https://slsa.dev/provenance/v1", at(5)))
	pi := prov.Node(graph.KindModel, digest("instruct"))
	run := prov.Node(graph.KindTrainingRun, "https://ci.acme.example/runs/42")
	prov.Set(run, "builderId", "https://ci.acme.example/builders/gpu-a100")
	prov.Set(run, "startedOn", "2026-03-01T08:00:00Z")
	prov.Set(run, "finishedOn", "2026-03-02T17:30:00+01:00")
	prov.Set(run, "buildType", "https://acme.example/train/v1")
	pc := prov.Node(graph.KindDataset, digest("clean"))
	pb := prov.Node(graph.KindModel, digest("base"))
	src := prov.Node(graph.KindSource, "git+https://github.com/acme/train@4f2a9c1")
	acc := prov.Node(graph.KindPackage, "pkg:pypi/accelerate@0.30.1")
	prov.Set(acc, "license", "Apache-2.0")
	prov.Edge(pi, graph.ProducedBy, run)
	prov.Edge(run, graph.Uses, pc)
	prov.Edge(run, graph.Uses, pb)
	prov.Edge(run, graph.Uses, src)
	prov.Edge(run, graph.DependsOn, acc)
	prov.Edge(pi, graph.BuiltFrom, src)
	prov.Describes(pi)

	// Unsigned SBOM of the fine-tune's runtime and the serving image.
	sbom := graph.NewBatch(doc("serving.cdx.json", "cyclonedx", "", at(6)))
	si := sbom.Node(graph.KindModel, digest("instruct"))
	tr := sbom.Node(graph.KindPackage, "pkg:pypi/transformers@4.41.2")
	sbom.Set(tr, "license", "Apache-2.0")
	torch := sbom.Node(graph.KindPackage, "pkg:pypi/torch@2.3.1", "sha256:"+hexOf("torch-wheel", 64))
	sbom.Set(torch, "license", "BSD-3-Clause")
	sbom.Set(torch, "name", "torch")
	sbom.Set(torch, "version", "2.3.1")
	sbom.Set(torch, "componentType", "framework") // as ingest/sbom records the SBOM's type
	sbom.Set(torch, "publisher", "PyTorch Foundation")
	st := sbom.Node(graph.KindPackage, "pkg:pypi/safetensors@0.4.3")
	sbom.Set(st, "license", "Apache-2.0")
	img := sbom.Node(graph.KindPackage, "pkg:oci/llm-server@sha256%3A"+hexOf("image", 64)+"?repository_url=ghcr.io/acme/llm-server")
	sbom.Set(img, "name", "llm-server")
	sbom.Set(img, "version", "1.4.0")
	sbom.Edge(si, graph.DependsOn, tr)
	sbom.Edge(si, graph.DependsOn, st)
	sbom.Edge(tr, graph.DependsOn, torch)
	sbom.Edge(tr, graph.DependsOn, st)
	sbom.Edge(img, graph.DependsOn, tr)
	sbom.Describes(img)

	// Deployment records.
	dep := graph.NewBatch(doc("deployments.json", "deployment-record", "", at(7)))
	dq := dep.Node(graph.KindModel, digest("instruct-q4"))
	di := dep.Node(graph.KindModel, digest("instruct"))
	dimg := dep.Node(graph.KindPackage, "pkg:oci/llm-server@sha256%3A"+hexOf("image", 64)+"?repository_url=ghcr.io/acme/llm-server")
	prod := dep.Node(graph.KindDeployment, "deployment:prod/chat-api")
	dep.Set(prod, "name", "chat-api (prod)")
	dep.Set(prod, "environment", "production")
	dep.Set(prod, "cluster", "gke-prod-eu1")
	dep.Set(prod, "namespace", "ml-serving")
	dep.Set(prod, "endpoint", "https://chat.acme.example/v1")
	staging := dep.Node(graph.KindDeployment, "deployment:staging/chat-api")
	dep.Set(staging, "environment", "staging")
	dep.Set(staging, "cluster", "gke-staging-eu1")
	dep.Edge(dq, graph.DeployedAs, prod, "status", "active", "deployedAt", "2026-03-10T12:00:00Z")
	dep.Edge(di, graph.DeployedAs, staging, "status", "withdrawn", "deployedAt", "2026-03-05T09:00:00Z", "undeployedAt", "2026-03-09T18:00:00Z")
	dep.Edge(prod, graph.DependsOn, dimg)
	dep.Edge(staging, graph.DependsOn, dimg)
	dep.Describes(prod)
	dep.Describes(staging)

	apply(t, f.store, card, failed, oms, quant, data, prov, sbom, dep)

	r := f.store
	f.q4 = mustOne(t, r, digest("instruct-q4")).ID
	f.instruct = mustOne(t, r, graph.NameKey("acme/llm-7b-instruct")).ID
	f.base = mustOne(t, r, graph.NameKey("acme/llm-7b")).ID
	f.raw = mustOne(t, r, digest("raw")).ID
	f.clean = mustOne(t, r, digest("clean")).ID
	f.prod = mustOne(t, r, "deployment:prod/chat-api").ID
	f.staging = mustOne(t, r, "deployment:staging/chat-api").ID
	f.run = mustOne(t, r, "https://ci.acme.example/runs/42").ID
	f.transformers = mustOne(t, r, "pkg:pypi/transformers@4.41.2").ID
	f.torch = mustOne(t, r, "pkg:pypi/torch@2.3.1").ID
	f.accelerate = mustOne(t, r, "pkg:pypi/accelerate@0.30.1").ID
	f.omsDigest = oms.Doc.Digest
	f.failedDigest = failed.Doc.Digest
	return f
}

// reopen closes the store and opens the file again.
func (f *fixture) reopen(t testing.TB) {
	t.Helper()
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	f.store = openStore(t, f.path)
}

func ref(kind graph.NodeKind, id graph.NodeID) string {
	return strings.ToLower(string(kind)) + "-" + string(id)
}
