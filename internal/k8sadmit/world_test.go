package k8sadmit

// Shared test world: a real bolt store, the real ingest pipeline with a
// trust policy with roles, and real in-toto statements signed with
// sigstore-go test keys (envelopetest), as in internal/query's
// trust_scenario_test.go.

import (
	"context"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/trust"
	"github.com/modelgraph/modelgraph/internal/query"
	"github.com/modelgraph/modelgraph/internal/testserve"
)

const pt = envelopetest.InTotoPayloadType

type signers struct {
	prov, advisory, stranger *envelopetest.KeySigner
}

func newPolicy(t testing.TB) (*signers, *trust.Policy) {
	s := &signers{prov: envelopetest.NewKeySigner(t), advisory: envelopetest.NewKeySigner(t), stranger: envelopetest.NewKeySigner(t)}
	pol := &trust.Policy{Rules: []trust.Rule{
		{Name: "ci-provenance", Roles: []graph.Role{graph.RoleProvenance}, Keys: []trust.PublicKey{s.prov.PublicKey(t)}},
		{Name: "advisories", Roles: []graph.Role{graph.RoleAdvisory}, Keys: []trust.PublicKey{s.advisory.PublicKey(t)}},
	}}
	if err := pol.Validate(); err != nil {
		t.Fatal(err)
	}
	return s, pol
}

func dg(s string) string { return strings.Repeat(s, 64)[:64] }

type subj struct{ name, sha string }

func statement(t testing.TB, predType string, subjects []subj, pred map[string]any) []byte {
	t.Helper()
	var ss []envelopetest.Subject
	for _, s := range subjects {
		ss = append(ss, envelopetest.Subject{Name: s.name, SHA256: s.sha})
	}
	return envelopetest.Statement(t, predType, pred, ss...)
}

func provenance(t testing.TB, subjects ...subj) []byte {
	return statement(t, "https://slsa.dev/provenance/v1", subjects, map[string]any{
		"buildDefinition": map[string]any{"buildType": "https://ml.acme.example/buildtypes/training/v1", "externalParameters": map[string]any{}},
		"runDetails":      map[string]any{"builder": map[string]any{"id": "https://ml.acme.example/runners/gpu@v2"}},
	})
}

func advisory(t testing.TB, id, status string, about subj) []byte {
	return statement(t, "https://aixv.org/attestation/advisory/v1", []subj{about}, map[string]any{
		"advisory_id": id, "severity": "critical", "status": status, "summary": "test advisory",
		"affected": []any{map[string]any{"digest": "sha256:" + about.sha, "artifact_type": "model"}},
	})
}

type world struct {
	store *embedded.Store
	q     *query.Service
	pipe  *ingest.Pipeline
	s     *signers
	// document digests by name, as ingested
	docs map[string]string
}

func newWorld(t testing.TB) *world {
	t.Helper()
	s, pol := newPolicy(t)
	st := testserve.Embedded(t)
	return &world{store: st, q: query.New(st), pipe: &ingest.Pipeline{Store: st, Parser: ingest.NewParser(pol)}, s: s, docs: map[string]string{}}
}

func (w *world) push(t testing.TB, name string, doc []byte) {
	t.Helper()
	res, err := w.pipe.Ingest(context.Background(), ingest.Input{Data: doc, Source: name})
	if err != nil {
		t.Fatalf("ingest %s: %v", name, err)
	}
	w.docs[name] = res[0].Document.Digest
}
