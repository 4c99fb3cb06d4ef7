package query_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/trust"
	"github.com/modelgraph/modelgraph/internal/admission"
	"github.com/modelgraph/modelgraph/internal/query"
)

// omsRoot is the root digest of the model the reference model_signing
// tool signed in testdata/oms/v1.1.0-elliptic-key.
const omsRoot = "sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4"

// omsReference is that OMS signature and the public key it was signed with.
func omsReference(t *testing.T) ([]byte, trust.PublicKey) {
	t.Helper()
	sig, err := os.ReadFile("../../testdata/oms/v1.1.0-elliptic-key/model.sig")
	if err != nil {
		t.Fatal(err)
	}
	key, err := trust.LoadPublicKey("../../testdata/oms/keys/certificate/signing-key-pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	return sig, key
}

// The LoRA adapter of the field report: its OMS signature (signed by the
// reference model_signing tool, root digest only), then its Hugging Face
// card (hub id only, with its base model), then a deployment record naming
// both the root digest and the hub id. In every order they are one model:
// the staging deployment is reached from the base model, and the hub key
// is never dropped.
func TestAdapterIdentityIsOneNodeInAnyOrder(t *testing.T) {
	sig, omsKey := omsReference(t)
	s, _ := newSigners(t)
	pol := &trust.Policy{Rules: []trust.Rule{
		{Name: "oms", Roles: []graph.Role{graph.RoleModelSignature}, Keys: []trust.PublicKey{omsKey}},
		{Name: "deployers", Roles: []graph.Role{graph.RoleDeployment}, Keys: []trust.PublicKey{s.deploy.PublicKey(t)}},
	}}
	card := []byte("---\nbase_model: acme/llm-7b\nbase_model_relation: adapter\nlicense: apache-2.0\nlibrary_name: peft\n---\n# acme/adapter\n")
	record := s.deploy.DSSE(t, pt, deployment(t, subj{name: "acme/adapter", uri: "hf://acme/adapter", sha: omsRoot[len("sha256:"):]}, "staging", "2025-05-01T00:00:00Z", ""))
	inputs := []ingest.Input{
		{Data: sig, Source: "oms"},
		{Data: card, Source: "card", Subject: "hf://acme/adapter", ContentType: "text/markdown"},
		{Data: record, Source: "deployment"},
	}
	orders := [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	ctx := context.Background()
	for _, order := range orders {
		w := newTWorld(t, pol)
		for _, i := range order {
			res, err := w.pipe.Ingest(ctx, inputs[i])
			if err != nil {
				t.Fatalf("order %v: ingest %s: %v", order, inputs[i].Source, err)
			}
			for _, r := range res {
				if len(r.Receipt.KeysNotAttached) > 0 {
					t.Errorf("order %v: %s: keys not attached: %v", order, inputs[i].Source, r.Receipt.KeysNotAttached)
				}
			}
		}
		byHub, err := w.q.Lookup(ctx, "hf://acme/adapter")
		if err != nil {
			t.Fatalf("order %v: %v", order, err)
		}
		byDigest, err := w.q.Lookup(ctx, omsRoot)
		if err != nil {
			t.Fatalf("order %v: %v", order, err)
		}
		models := func(ds []query.NodeDetail) []query.NodeDetail {
			return slices.DeleteFunc(slices.Clone(ds), func(d query.NodeDetail) bool { return d.Node.Kind != graph.KindModel })
		}
		h, d := models(byHub), models(byDigest)
		if len(h) != 1 || len(d) != 1 || h[0].Node.ID != d[0].Node.ID {
			t.Fatalf("order %v: hub id and root digest name %d and %d models, want one and the same", order, len(h), len(d))
		}
		if !d[0].Identity.Verified {
			t.Errorf("order %v: by digest: %+v, want verified by the OMS signature", order, d[0].Identity)
		}
		im, err := w.q.Impact(ctx, "hf://acme/llm-7b", query.LineageOptions{})
		if err != nil {
			t.Fatalf("order %v: %v", order, err)
		}
		found := false
		for _, r := range im.Reached {
			found = found || r.Node.Kind == graph.KindDeployment
		}
		if !found {
			t.Errorf("order %v: the staging deployment is not reached from the base model", order)
		}
	}
}

// A model signed with the reference model_signing tool by a key the policy
// does not hold for model signatures: its OMS signature fails, and a
// resolved advisory and a deployment record, both signed by keys trusted
// for their own roles, never make it verified (the field report's case).
func TestFailedOMSSignatureIsNotLaunderedByOtherRoles(t *testing.T) {
	sig, omsKey := omsReference(t)
	s, _ := newSigners(t)
	pol := &trust.Policy{Rules: []trust.Rule{
		{Name: "model-signers", Roles: []graph.Role{graph.RoleModelSignature}, Keys: []trust.PublicKey{s.model.PublicKey(t)}},
		// The reference tool's key is trusted, but only for advisories.
		{Name: "advisories", Roles: []graph.Role{graph.RoleAdvisory}, Keys: []trust.PublicKey{s.advisory.PublicKey(t), omsKey}},
		{Name: "deployers", Roles: []graph.Role{graph.RoleDeployment}, Keys: []trust.PublicKey{s.deploy.PublicKey(t)}},
	}}
	m := subj{name: "acme/model", sha: omsRoot[len("sha256:"):]}
	docs := []namedDoc{
		{"oms", sig},
		{"advisory-resolved", s.advisory.DSSE(t, pt, advisory(t, "AIXV-5", "resolved", m))},
		{"deployment", s.deploy.DSSE(t, pt, deployment(t, m, "production", "2025-05-01T00:00:00Z", ""))},
	}
	permutations(docs, func(order []namedDoc) {
		w := newTWorld(t, pol)
		for _, d := range order {
			w.push(t, d.name, d.data)
		}
		d, err := admission.Decide(context.Background(), w.q, omsRoot, admission.DefaultPolicy())
		if err != nil {
			t.Fatal(err)
		}
		if d.Allow || d.Identity.Verified || d.Identity.Status != graph.StatusFailed {
			t.Fatalf("order %s: admission %+v, want denied, status failed", orderName(order), d)
		}
	})
}
