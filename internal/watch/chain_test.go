package watch_test

import (
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// The supply chain of the watch tests: real in-toto statements signed with
// sigstore-go test keys, verified against a policy with roles
// (docs/security.md), as in internal/query/trust_scenario_test.go.

type keys struct {
	model, deploy, advisory, stranger *envelopetest.KeySigner
}

func newKeys(t testing.TB) (*keys, *trust.Policy) {
	k := &keys{model: envelopetest.NewKeySigner(t), deploy: envelopetest.NewKeySigner(t),
		advisory: envelopetest.NewKeySigner(t), stranger: envelopetest.NewKeySigner(t)}
	pol := &trust.Policy{Rules: []trust.Rule{
		{Name: "model-signers", Roles: []graph.Role{graph.RoleModelSignature, graph.RoleProvenance}, Keys: []trust.PublicKey{k.model.PublicKey(t)}},
		{Name: "deployers", Roles: []graph.Role{graph.RoleDeployment}, Keys: []trust.PublicKey{k.deploy.PublicKey(t)}},
		{Name: "advisories", Roles: []graph.Role{graph.RoleAdvisory}, Keys: []trust.PublicKey{k.advisory.PublicKey(t)}},
	}}
	if err := pol.Validate(); err != nil {
		t.Fatal(err)
	}
	return k, pol
}

func dg(s string) string { return strings.Repeat(s, 64)[:64] }

func statement(t testing.TB, pt, name, sha string, pred map[string]any) []byte {
	t.Helper()
	return envelopetest.Statement(t, pt, pred, envelopetest.Subject{Name: name, SHA256: sha})
}

func provenance(t testing.TB, name, sha string) []byte {
	return statement(t, "https://slsa.dev/provenance/v1", name, sha, map[string]any{
		"buildDefinition": map[string]any{"buildType": "https://ml.acme.example/buildtypes/training/v1", "externalParameters": map[string]any{}},
		"runDetails":      map[string]any{"builder": map[string]any{"id": "https://ml.acme.example/runners/gpu@v2"}},
	})
}

func deployment(t testing.TB, name, sha, env, service string) []byte {
	return statement(t, "https://modelgraph.dev/attestation/deployment/v1", name, sha, map[string]any{
		"environment": env, "cluster": "eu-west-1", "namespace": "ml", "service": service, "deployedAt": "2026-01-01T00:00:00Z"})
}

func advisory(t testing.TB, id, severity, name, sha string) []byte {
	return statement(t, "https://aixv.org/attestation/advisory/v1", name, sha, map[string]any{
		"advisory_id": id, "severity": severity, "status": "active", "summary": "test advisory " + id,
		"affected": []any{map[string]any{"digest": "sha256:" + sha, "artifact_type": "model"}},
	})
}

const pt = envelopetest.InTotoPayloadType

type doc struct {
	name string
	data []byte
}

// Models of the chain.
var (
	modelA = dg("a1") // signed, deployed in production
	modelB = dg("b2") // its provenance's signature fails; deployed in staging
	modelC = dg("c3") // signed, deployed in production; later a forged document about it fails
)

// supplyChain is the chain before any advisory: it yields one
// unverified-deployment event (B in staging) and one verification-failed
// event (the forged document about C, deployed in production).
func supplyChain(t testing.TB, k *keys) []doc {
	return []doc{
		{"prov-a", k.model.DSSE(t, pt, provenance(t, "acme/a", modelA))},
		{"deploy-a", k.deploy.DSSE(t, pt, deployment(t, "acme/a", modelA, "production", "chat"))},
		{"prov-b", k.stranger.DSSE(t, pt, provenance(t, "acme/b", modelB))},
		{"deploy-b", k.deploy.DSSE(t, pt, deployment(t, "acme/b", modelB, "staging", "search"))},
		{"prov-c", k.model.DSSE(t, pt, provenance(t, "acme/c", modelC))},
		{"deploy-c", k.deploy.DSSE(t, pt, deployment(t, "acme/c", modelC, "production", "summarize"))},
		{"forged-c", k.stranger.DSSE(t, pt, provenance(t, "acme/c", modelC))},
	}
}

// advisories: a signed critical one on A, an unsigned low one on C.
func advisories(t testing.TB, k *keys) []doc {
	return []doc{
		{"advisory-a", k.advisory.DSSE(t, pt, advisory(t, "AIXV-2026-1", "critical", "acme/a", modelA))},
		{"advisory-c", advisory(t, "AIXV-2026-2", "low", "acme/c", modelC)},
	}
}
