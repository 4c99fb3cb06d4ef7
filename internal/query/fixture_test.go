package query

import (
	"context"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/advisory"
	"github.com/modelgraph/modelgraph/internal/testserve"
)

// The incident world used by most tests:
//
//	raw "clinical-notes@v3" <-DERIVED_FROM- clean <-TRAINED_ON- base "acme/llm-7b" (signed provenance + OMS)
//	base -PRODUCED_BY-> run -USES-> clean; base -BUILT_FROM-> src; base -CONTAINS-> weights, tokenizer
//	ft "acme/llm-7b-chat" -DERIVED_FROM-> base   (unsigned model card)
//	ft -TRAINED_ON-> sft "chat-sft"              (provenance whose signature FAILED)
//	quant -DERIVED_FROM-> ft; quantOld -DERIVED_FROM-> ft; ft2 -DERIVED_FROM-> base (OMS, verified)
//	lora -DERIVED_FROM-> quant                   (unsigned card)
//	quant -DEPLOYED_AS-> prod (signed record); ft -DEPLOYED_AS-> staging (unsigned record);
//	records describe the model they deploy, as ingest maps them
//	prod -DEPENDS_ON-> torch 2.1.0 -DEPENDS_ON-> numpy 1.26.4; quant -DEPENDS_ON-> transformers 4.30.0;
//	ft2 -DEPENDS_ON-> torch 2.3.0                (unsigned SBOM)
//	cycA <-> cycB DERIVED_FROM cycle             (unsigned card describing cycA only)
//	advisory ACME-2026-001 (active) -AFFECTS-> sft
type world struct {
	s    *embedded.Store
	q    *Service
	docs map[string]string // doc name -> digest
	ids  map[string]graph.NodeID
	at   time.Time
}

var (
	sigCI       = graph.Signature{Method: "keyless", Identity: "ci@acme.dev", Issuer: "https://token.actions.githubusercontent.com", Status: graph.StatusVerified}
	sigData     = graph.Signature{Method: "keyless", Identity: "data-team@acme.dev", Issuer: "https://accounts.google.com", Status: graph.StatusVerified}
	sigOMS      = graph.Signature{Method: "key", KeyID: "oms-key-1", Status: graph.StatusVerified}
	sigMallory  = graph.Signature{Method: "keyless", Identity: "mallory@evil.example", Issuer: "https://accounts.google.com", Status: graph.StatusFailed, Reason: "certificate chain does not verify"}
	keyProd     = "deployment:prod/eu-1/chat/api"
	keyStaging  = "deployment:staging/-/-/api"
	purlTorch21 = "pkg:pypi/torch@2.1.0"
	purlTorch23 = "pkg:pypi/torch@2.3.0"
	purlNumpy   = "pkg:pypi/numpy@1.26.4"
	purlTrans   = "pkg:pypi/transformers@4.30.0"
)

// D is a test artifact digest.
func D(s string) string { return graph.SHA256Key([]byte("artifact:" + s)) }

func ctxT() context.Context { return context.Background() }

func openStore(t *testing.T) *embedded.Store {
	t.Helper()
	return testserve.Embedded(t)
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{s: openStore(t), docs: map[string]string{}, ids: map[string]graph.NodeID{}, at: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	w.q = New(w.s)
	w.build(t)
	return w
}

// doc starts a batch with an explicit ingestion time, one minute after the
// previous document, so "latest claim" answers do not depend on the clock.
func (w *world) doc(name, typ string, sigs ...graph.Signature) *graph.Batch {
	w.at = w.at.Add(time.Minute)
	d := graph.Document{Digest: graph.SHA256Key([]byte("doc:" + name)), Type: typ, Source: name, Signatures: sigs, IngestedAt: w.at}
	w.docs[name] = d.Digest
	return graph.NewBatch(d)
}

func (w *world) apply(t *testing.T, b *graph.Batch) {
	t.Helper()
	if _, err := w.s.Apply(ctxT(), b); err != nil {
		t.Fatalf("apply %s: %v", b.Doc.Source, err)
	}
}

func model(b *graph.Batch, label, name string) int {
	i := b.Node(graph.KindModel, D(label), graph.NameKey(name))
	b.Set(i, "name", name)
	return i
}

func (w *world) build(t *testing.T) {
	b := w.doc("dataset-att", "dataset-attestation", sigData)
	raw := b.Node(graph.KindDataset, D("raw"), graph.NameKey("clinical-notes@v3"))
	b.Set(raw, "name", "clinical-notes")
	b.Set(raw, "version", "v3")
	clean := b.Node(graph.KindDataset, D("clean"), graph.NameKey("clinical-notes-clean"))
	b.Set(clean, "name", "clinical-notes-clean")
	b.Edge(clean, graph.DerivedFrom, raw)
	b.Describes(clean)
	w.apply(t, b)

	b = w.doc("base-prov", "slsa-provenance", sigCI)
	base := b.Node(graph.KindModel, D("base"), graph.NameKey("acme/llm-7b"), "hf://acme/llm-7b")
	b.Set(base, "name", "acme/llm-7b")
	clean = b.Node(graph.KindDataset, D("clean"))
	run := b.Node(graph.KindTrainingRun, "run:base")
	b.Set(run, "builder", "https://github.com/acme/train/.github/workflows/train.yml")
	src := b.Node(graph.KindSource, "git+https://github.com/acme/train@"+fortyHex)
	b.Edge(base, graph.TrainedOn, clean, "split", "train")
	b.Edge(base, graph.ProducedBy, run)
	b.Edge(run, graph.Uses, clean, "role", "input")
	b.Edge(base, graph.BuiltFrom, src)
	b.Describes(base)
	w.apply(t, b)

	b = w.doc("base-oms", "oms", sigOMS)
	base = b.Node(graph.KindModel, D("base"))
	weights := b.Node(graph.KindFile, D("base-weights"))
	tok := b.Node(graph.KindFile, D("tokenizer"))
	b.Edge(base, graph.Contains, weights, "path", "model.safetensors")
	b.Edge(base, graph.Contains, tok, "path", "tokenizer.json")
	b.Describes(base)
	w.apply(t, b)

	b = w.doc("ft-card", "hf-model-card")
	ft := model(b, "ft", "acme/llm-7b-chat")
	b.Edge(ft, graph.DerivedFrom, b.Node(graph.KindModel, D("base")), "relation", "finetune")
	b.Describes(ft)
	w.apply(t, b)

	b = w.doc("ft-prov", "slsa-provenance", sigMallory)
	ft = b.Node(graph.KindModel, D("ft"))
	sft := b.Node(graph.KindDataset, D("sft"), graph.NameKey("chat-sft"))
	b.Set(sft, "name", "chat-sft")
	b.Edge(ft, graph.TrainedOn, sft, "split", "train")
	b.Describes(ft)
	w.apply(t, b)

	for _, v := range []struct{ doc, label, name, parent, rel string }{
		{"quant-oms", "quant", "acme/llm-7b-chat-q4", "ft", "quantized"},
		{"quant-old-oms", "quant-old", "acme/llm-7b-chat-q8", "ft", "quantized"},
		{"ft2-oms", "ft2", "acme/llm-7b-legal", "base", "adapter"},
	} {
		b = w.doc(v.doc, "oms", sigOMS)
		m := model(b, v.label, v.name)
		b.Edge(m, graph.DerivedFrom, b.Node(graph.KindModel, D(v.parent)), "relation", v.rel)
		b.Describes(m)
		w.apply(t, b)
	}

	b = w.doc("lora-card", "hf-model-card")
	lora := model(b, "lora", "acme/llm-7b-chat-q4-lora")
	b.Edge(lora, graph.DerivedFrom, b.Node(graph.KindModel, D("quant")), "relation", "adapter")
	b.Describes(lora)
	w.apply(t, b)

	b = w.doc("deploy-prod", "deployment-record", sigCI)
	prod := b.Node(graph.KindDeployment, keyProd)
	b.Set(prod, "environment", "prod")
	quantInRecord := b.Node(graph.KindModel, D("quant"))
	b.Edge(quantInRecord, graph.DeployedAs, prod, "deployedAt", "2026-03-01T00:00:00Z", "status", "active")
	b.Describes(quantInRecord) // records describe the model they deploy
	w.apply(t, b)

	b = w.doc("deploy-staging", "deployment-record")
	staging := b.Node(graph.KindDeployment, keyStaging)
	b.Set(staging, "environment", "staging")
	ftInRecord := b.Node(graph.KindModel, D("ft"))
	b.Edge(ftInRecord, graph.DeployedAs, staging, "deployedAt", "2026-02-01T00:00:00Z", "status", "active")
	b.Describes(ftInRecord)
	w.apply(t, b)

	b = w.doc("serving-sbom", "cyclonedx")
	prod = b.Node(graph.KindDeployment, keyProd)
	torch := b.Node(graph.KindPackage, purlTorch21)
	numpy := b.Node(graph.KindPackage, purlNumpy)
	trans := b.Node(graph.KindPackage, purlTrans)
	torch23 := b.Node(graph.KindPackage, purlTorch23)
	b.Edge(prod, graph.DependsOn, torch)
	b.Edge(torch, graph.DependsOn, numpy)
	b.Edge(b.Node(graph.KindModel, D("quant")), graph.DependsOn, trans)
	b.Edge(b.Node(graph.KindModel, D("ft2")), graph.DependsOn, torch23)
	b.Describes(prod)
	w.apply(t, b)

	b = w.doc("cycle-card", "hf-model-card")
	a := model(b, "cyc-a", "cyc-a")
	c := model(b, "cyc-b", "cyc-b")
	b.Edge(a, graph.DerivedFrom, c, "relation", "merge")
	b.Edge(c, graph.DerivedFrom, a, "relation", "merge")
	b.Describes(a)
	w.apply(t, b)

	w.advisory(t, advisory.Input{ID: "ACME-2026-001", Severity: "high", Summary: "chat-sft contains leaked records", Affects: []string{"name:chat-sft"}})

	for label, key := range map[string]string{
		"raw": D("raw"), "clean": D("clean"), "base": D("base"), "ft": D("ft"), "sft": D("sft"), "quant": D("quant"),
		"quantOld": D("quant-old"), "ft2": D("ft2"), "lora": D("lora"), "cycA": D("cyc-a"), "cycB": D("cyc-b"),
		"weights": D("base-weights"), "tokenizer": D("tokenizer"), "run": "run:base", "src": "git+https://github.com/acme/train@" + fortyHex,
		"prod": keyProd, "staging": keyStaging, "torch": purlTorch21, "torch23": purlTorch23, "numpy": purlNumpy, "trans": purlTrans,
		"adv": "advisory:ACME-2026-001",
	} {
		ns, err := w.s.Lookup(ctxT(), key)
		if err != nil || len(ns) != 1 {
			t.Fatalf("fixture lookup %s: %v, %v", label, ns, err)
		}
		w.ids[label] = ns[0].ID
	}
}

const fortyHex = "0123456789abcdef0123456789abcdef01234567"

// advisoryDoc is the advisory document createAdvisory records for in (the
// same steps as internal/gql CreateAdvisory: affects resolved by Resolve).
func (w *world) advisoryDoc(in advisory.Input) ([]byte, error) {
	return advisory.FromInput(ctxT(), in, func(ctx context.Context, ref string) ([]advisory.Target, error) {
		ns, err := w.q.Resolve(ctx, ref, advisory.AffectableKinds...)
		ts := make([]advisory.Target, len(ns))
		for i, n := range ns {
			ts[i] = advisory.Target{Kind: n.Kind, Key: n.Keys[0]}
		}
		return ts, err
	})
}

// advisory records an advisory as createAdvisory does (its document through
// the ingest parser), one minute after the previous document.
func (w *world) advisory(t *testing.T, in advisory.Input) graph.Receipt {
	t.Helper()
	data, err := w.advisoryDoc(in)
	if err != nil {
		t.Fatalf("advisory %s: %v", in.ID, err)
	}
	ps, err := ingest.NewParser(nil).Parse(ctxT(), ingest.Input{Data: data, Source: "test"})
	if err != nil {
		t.Fatalf("advisory %s: %v", in.ID, err)
	}
	b := ps[0].Batch
	w.at = w.at.Add(time.Minute)
	b.Doc.IngestedAt = w.at
	w.docs["advisory:"+in.ID+":"+in.Status] = b.Doc.Digest
	r, err := w.s.Apply(ctxT(), b)
	if err != nil {
		t.Fatalf("apply advisory %s: %v", in.ID, err)
	}
	return r
}

// name maps a node id back to its fixture label (for readable failures).
func (w *world) name(id graph.NodeID) string {
	for k, v := range w.ids {
		if v == id {
			return k
		}
	}
	return string(id)
}
