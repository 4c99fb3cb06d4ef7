package posture_test

// Chains of real documents (in-toto statements, OMS manifests, CycloneDX
// SBOMs, a real Scorecard result) signed with sigstore-go test keys and
// verified by the ingest pipeline against a trust policy with roles.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/trust"
	"github.com/modelgraph/modelgraph/internal/posture"
	"github.com/modelgraph/modelgraph/internal/query"
)

const pt = envelopetest.InTotoPayloadType

// The real repository the real Scorecard result is about.
const (
	scRepo   = "github.com/ossf/scorecard"
	scCommit = "d99ae690a90ece02d0fd74c3c5875190c4da76d7"
)

type signers struct {
	model, prov, data, deploy, sbom, advisory, scorecard, stranger *envelopetest.KeySigner
}

func newSigners(t *testing.T) (*signers, *trust.Policy) {
	s := &signers{}
	for _, k := range []**envelopetest.KeySigner{&s.model, &s.prov, &s.data, &s.deploy, &s.sbom, &s.advisory, &s.scorecard, &s.stranger} {
		*k = envelopetest.NewKeySigner(t)
	}
	rule := func(name string, k *envelopetest.KeySigner, r graph.Role) trust.Rule {
		return trust.Rule{Name: name, Roles: []graph.Role{r}, Keys: []trust.PublicKey{k.PublicKey(t)}}
	}
	pol := &trust.Policy{Rules: []trust.Rule{
		rule("model-signers", s.model, graph.RoleModelSignature),
		rule("ci-provenance", s.prov, graph.RoleProvenance),
		rule("data-team", s.data, graph.RoleDataset),
		rule("deployers", s.deploy, graph.RoleDeployment),
		rule("sbom", s.sbom, graph.RoleSBOM),
		rule("security", s.advisory, graph.RoleAdvisory),
		rule("scorecard", s.scorecard, graph.RoleScorecard),
	}}
	if err := pol.Validate(); err != nil {
		t.Fatal(err)
	}
	return s, pol
}

func dg(s string) string { return strings.Repeat(s, 64)[:64] }

type obj = map[string]any

type subj struct{ name, sha string }

func statement(t *testing.T, predType string, pred any, subjects ...subj) []byte {
	t.Helper()
	var ss []envelopetest.Subject
	for _, s := range subjects {
		ss = append(ss, envelopetest.Subject{Name: s.name, SHA256: s.sha})
	}
	return envelopetest.Statement(t, predType, pred, ss...)
}

// model is a model of the chain: its digest is the OMS root digest of its
// one weights file (sha256 over the file's digest, model_signing "files").
type model struct {
	name string
	sha  string
	file string // the weights file's sha256
}

func newModel(name, fileDigest string) model {
	b, _ := hex.DecodeString(fileDigest)
	sum := sha256.Sum256(b)
	return model{name: name, sha: hex.EncodeToString(sum[:]), file: fileDigest}
}

func (m model) subj() subj { return subj{m.name, m.sha} }

func oms(t *testing.T, m model) []byte {
	return statement(t, "https://model_signing/signature/v1.0", obj{
		"resources":     []obj{{"algorithm": "sha256", "name": "model.safetensors", "digest": m.file}},
		"serialization": obj{"method": "files", "hash_type": "sha256", "allow_symlinks": false, "ignore_paths": []string{}},
	}, m.subj())
}

func provenance(t *testing.T, m model, deps ...obj) []byte {
	return statement(t, "https://slsa.dev/provenance/v1", obj{
		"buildDefinition": obj{"buildType": "https://ml.acme.example/buildtypes/training/v1", "externalParameters": obj{}, "resolvedDependencies": deps},
		"runDetails":      obj{"builder": obj{"id": "https://ml.acme.example/runners/gpu@v2"}, "metadata": obj{"invocationId": "run-" + m.name}},
	}, m.subj())
}

func datasetDep(name, sha string) obj {
	return obj{"name": name, "uri": "s3://acme-data/" + name + ".parquet", "digest": obj{"sha256": sha}, "annotations": obj{"kind": "dataset", "split": "train"}}
}

func modelDep(m model) obj {
	return obj{"name": m.name, "uri": "hf://" + m.name, "digest": obj{"sha256": m.sha}, "annotations": obj{"kind": "base-model", "relation": "finetune"}}
}

func sourceDep(repo, commit string) obj {
	return obj{"uri": "git+https://" + repo + "@refs/heads/main", "digest": obj{"gitCommit": commit}}
}

func datasetAttestation(t *testing.T, name, sha string, sensitive bool, license string) []byte {
	pred := obj{"name": name, "version": "1", "uri": "s3://acme-data/" + name + ".parquet"}
	if license != "" {
		pred["license"] = license
	}
	if sensitive {
		pred["sensitiveData"] = obj{"pii": true, "phi": false, "categories": []string{"health"}}
	}
	return statement(t, "https://modelgraph.dev/attestation/dataset/v1", pred, subj{name + ".parquet", sha})
}

const image, imageSHA = "ghcr.io/acme/server:1.0", "abababababababababababababababababababababababababababababababab"

func deployment(t *testing.T, m model, withImage bool) []byte {
	pred := obj{"environment": "production", "cluster": "eu-west-1", "namespace": "ml", "service": "chat", "deployedAt": "2025-05-01T00:00:00Z"}
	if withImage {
		pred["servingImage"] = obj{"name": image, "digest": obj{"sha256": imageSHA}}
	}
	return statement(t, "https://modelgraph.dev/attestation/deployment/v1", pred, m.subj())
}

// sbom is the serving image's CycloneDX SBOM, optionally with a scanner's
// finding of a vulnerability in one package.
func sbom(t *testing.T, vulnerable bool) []byte {
	t.Helper()
	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{Component: &cdx.Component{BOMRef: "image", Type: cdx.ComponentTypeContainer, Name: "ghcr.io/acme/server", Version: "1.0"}}
	comps := []cdx.Component{
		{BOMRef: "pkg:pypi/torch@2.3.0", Type: cdx.ComponentTypeLibrary, Name: "torch", Version: "2.3.0", PackageURL: "pkg:pypi/torch@2.3.0"},
		{BOMRef: "pkg:pypi/pyyaml@5.3", Type: cdx.ComponentTypeLibrary, Name: "pyyaml", Version: "5.3", PackageURL: "pkg:pypi/pyyaml@5.3"},
	}
	bom.Components = &comps
	deps := []cdx.Dependency{{Ref: "image", Dependencies: &[]string{"pkg:pypi/torch@2.3.0", "pkg:pypi/pyyaml@5.3"}}}
	bom.Dependencies = &deps
	if vulnerable {
		bom.Vulnerabilities = &[]cdx.Vulnerability{{BOMRef: "v1", ID: "CVE-2020-14343", Affects: &[]cdx.Affects{{Ref: "pkg:pypi/pyyaml@5.3"}}}}
	}
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).EncodeVersion(bom, cdx.SpecVersion1_5); err != nil {
		t.Fatal(err)
	}
	return statement(t, "https://cyclonedx.org/bom", json.RawMessage(buf.Bytes()), subj{"ghcr.io/acme/server", imageSHA})
}

func advisory(t *testing.T, id string, about model) []byte {
	return statement(t, "https://aixv.org/attestation/advisory/v1", obj{
		"advisory_id": id, "severity": "critical", "status": "active", "summary": "test advisory",
		"affected": []obj{{"digest": "sha256:" + about.sha, "artifact_type": "model"}},
	}, about.subj())
}

func realScorecard(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "scorecard-ossf-scorecard-2024-05-25.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type world struct {
	store *embedded.Store
	q     *query.Service
	pipe  *ingest.Pipeline
	ps    *posture.Service
}

func newWorld(t *testing.T, pol *trust.Policy) *world {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	q := query.New(s)
	ps, err := posture.New(q, posture.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	return &world{store: s, q: q, pipe: &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)}, ps: ps}
}

func (w *world) push(t *testing.T, name string, doc []byte) {
	t.Helper()
	if _, err := w.pipe.Ingest(context.Background(), ingest.Input{Data: doc, Source: name}); err != nil {
		t.Fatalf("ingest %s: %v", name, err)
	}
}

func (w *world) posture(t *testing.T, ref string) posture.Posture {
	t.Helper()
	p, err := w.ps.Posture(context.Background(), ref)
	if err != nil {
		t.Fatalf("posture %s: %v", ref, err)
	}
	return p
}
