package guacexport

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Khan/genqlient/graphql"
	"github.com/guacsec/guac/pkg/assembler/backends"
	_ "github.com/guacsec/guac/pkg/assembler/backends/keyvalue" // registers "keyvalue"
	model "github.com/guacsec/guac/pkg/assembler/clients/generated"
	asmhelpers "github.com/guacsec/guac/pkg/assembler/helpers"
	"github.com/guacsec/guac/pkg/assembler/kv/memmap"
	"github.com/guacsec/guac/pkg/assembler/server"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest/sbom"
	"github.com/modelgraph/modelgraph/internal/testserve"
)

const corpus = "../../testdata/sbom"

// guacServer starts GUAC's own GraphQL server over its in-memory keyvalue
// backend and returns its endpoint and a client for queries.
func guacServer(t testing.TB) (string, graphql.Client) {
	t.Helper()
	ctx := context.Background()
	be, err := backends.Get("keyvalue", ctx, memmap.GetStore())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.GetGraphqlServer(ctx, be))
	t.Cleanup(ts.Close)
	return ts.URL, graphql.NewClient(ts.URL, ts.Client())
}

func openStore(t testing.TB) *embedded.Store {
	t.Helper()
	return testserve.Embedded(t)
}

func apply(t testing.TB, st graph.Store, b *graph.Batch) {
	t.Helper()
	if _, err := st.Apply(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func ingestFile(t testing.TB, st graph.Store, name string, opts sbom.Options) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpus, name))
	if err != nil {
		t.Fatal(err)
	}
	b, err := sbom.Parse(context.Background(), data, graph.Document{Source: name}, opts)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, st, b)
}

const (
	hFraud = "b8a2c46e73c3ec2b38fe7a4087bafa7a93c6b5630238d22e5355325c9f53b367"
	hBase  = "a2d2e125f06e803fac8bd6a104673d220100c992e510e18a1bba52acddff1911"
	hOnnx  = "2b3a8817d7bd03f09b6f1a4f91a9eafa1b3dc1ba6e678f52300b877daf172314"
	hTx    = "634ade8a82e09a16e628d2dd1599de57cc04ac1b136ca4916c99a34e527dee61"
	hImg   = "cbaa390ec61abd889dfa5146a411c11717c19ef9e5e18458dbdc06439076ffe7" // guac-alpine-cyclonedx.json
	hCode  = "5555555555555555555555555555555555555555555555555555555555555555"
)

// mlGraph builds an ML supply chain: the ML-BOM (models, datasets,
// packages), a training run, a deployment whose serving image has an SBOM,
// and an advisory.
func mlGraph(t testing.TB) *embedded.Store {
	st := openStore(t)
	ingestFile(t, st, "mg-mlbom-1.6.json", sbom.Options{})
	ingestFile(t, st, "guac-alpine-cyclonedx.json", sbom.Options{Role: sbom.RoleServingImage})

	run := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("slsa")), Type: "slsa-provenance"})
	r := run.Node(graph.KindTrainingRun, "run:https://ci.acme.example/builder|42")
	run.Set(r, "builderId", "https://ci.acme.example/builder")
	run.Set(r, "buildType", "https://acme.example/train/v1")
	run.Set(r, "startedOn", "2026-11-01T10:00:00Z")
	run.Set(r, "finishedOn", "2026-11-01T12:30:00Z")
	m := run.Node(graph.KindModel, "sha256:"+hFraud)
	run.Edge(m, graph.ProducedBy, r)
	run.Edge(r, graph.Uses, run.Node(graph.KindDataset, "sha256:"+hTx), "role", "dataset")
	run.Edge(r, graph.Uses, run.Node(graph.KindSource, "sha256:"+hCode), "role", "code")
	apply(t, st, run)

	dep := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("deploy")), Type: "deployment-record"})
	d := dep.Node(graph.KindDeployment, "deployment:prod/eu-1/fraud/scorer")
	dep.Edge(dep.Node(graph.KindModel, "sha256:"+hFraud), graph.DeployedAs, d, "status", "active")
	dep.Edge(d, graph.DependsOn, dep.Node(graph.KindPackage, "sha256:"+hImg), "role", "servingImage")
	apply(t, st, dep)

	adv := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("advisory")), Type: "aixv-advisory"})
	a := adv.Node(graph.KindAdvisory, "advisory:ACME-2026-007")
	adv.Set(a, "summary", "ONNX export leaks training rows")
	adv.Set(a, "severity", "high")
	adv.Edge(a, graph.Affects, adv.Node(graph.KindModel, "sha256:"+hOnnx), "status", "affected")
	adv.Edge(a, graph.Affects, adv.Node(graph.KindPackage, "pkg:pypi/transformers@4.41.2"), "status", "affected")
	adv.Edge(a, graph.Affects, adv.Node(graph.KindPackage, "pkg:pypi/torch@2.3.1"), "status", "withdrawn")
	apply(t, st, adv)
	return st
}

func art(hex string) *model.ArtifactSpec {
	alg := "sha256"
	return &model.ArtifactSpec{Algorithm: &alg, Digest: &hex}
}

func TestExport(t *testing.T) {
	ctx := t.Context()
	st := mlGraph(t)
	endpoint, c := guacServer(t)

	res, err := Export(ctx, st, endpoint, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Models != 3 || res.Datasets != 3 || res.Deployments != 1 || res.TrainingRuns != 1 || res.Advisories != 1 {
		t.Errorf("read %+v", res)
	}
	if res.HasSBOM != 2 || res.CertifyBad != 2 {
		t.Errorf("sent %d HasSBOM, %d CertifyBad; want 2, 2", res.HasSBOM, res.CertifyBad)
	}
	if !slices.ContainsFunc(res.Skipped, func(s string) bool { return strings.Contains(s, "withdrawn") }) {
		t.Errorf("withdrawn advisory edge not reported as skipped: %v", res.Skipped)
	}

	// IsOccurrence: the fraud model's artifact is the hub package.
	occ, err := model.Occurrences(ctx, c, model.IsOccurrenceSpec{Artifact: art(hFraud)})
	if err != nil {
		t.Fatal(err)
	}
	var purls []string
	for _, o := range occ.IsOccurrence {
		if p, ok := o.Subject.(*model.AllIsOccurrencesTreeSubjectPackage); ok {
			purls = append(purls, asmhelpers.AllPkgTreeToPurl(&p.AllPkgTree))
		}
	}
	if !slices.Contains(purls, "pkg:huggingface/acme/fraud-detector@3.1.0") {
		t.Errorf("occurrences of the fraud model: %v", purls)
	}

	// HasSLSA: builder, build type, and materials from the run and the
	// model card (datasets trained on, base model, run inputs).
	slsa, err := model.HasSLSA(ctx, c, model.HasSLSASpec{Subject: art(hFraud)})
	if err != nil {
		t.Fatal(err)
	}
	if len(slsa.HasSLSA) != 1 {
		t.Fatalf("%d HasSLSA for the fraud model, want 1", len(slsa.HasSLSA))
	}
	s := slsa.HasSLSA[0].Slsa
	if s.BuiltBy.Uri != "https://ci.acme.example/builder" || s.BuildType != "https://acme.example/train/v1" || s.StartedOn == nil || s.StartedOn.Hour() != 10 {
		t.Errorf("slsa %+v", s)
	}
	var mats []string
	for _, m := range s.BuiltFrom {
		mats = append(mats, m.Digest)
	}
	slices.Sort(mats)
	if want := slices.Sorted(slices.Values([]string{hTx, hBase, hCode})); !slices.Equal(mats, want) {
		t.Errorf("materials %v, want %v", mats, want)
	}

	// HasSBOM: the ML-BOM for the model, the serving SBOM for the image,
	// each including the packages of its own document only.
	for _, tc := range []struct {
		subject string
		n       int
		has     string
		hasNot  string
	}{
		{hFraud, 2, "pkg:pypi/torch@2.3.1", "pkg:alpine/musl"},
		{hImg, 14, "pkg:alpine/musl@1.2.3-r0", "pkg:pypi/torch"},
	} {
		sb, err := model.HasSBOMs(ctx, c, model.HasSBOMSpec{Subject: &model.PackageOrArtifactSpec{Artifact: art(tc.subject)}})
		if err != nil {
			t.Fatal(err)
		}
		if len(sb.HasSBOM) != 1 {
			t.Fatalf("%s: %d HasSBOM, want 1", tc.subject, len(sb.HasSBOM))
		}
		var inc []string
		for _, sw := range sb.HasSBOM[0].IncludedSoftware {
			if p, ok := sw.(*model.AllHasSBOMTreeIncludedSoftwarePackage); ok {
				inc = append(inc, asmhelpers.AllPkgTreeToPurl(&p.AllPkgTree))
			}
		}
		deps := len(sb.HasSBOM[0].IncludedDependencies)
		if deps != tc.n {
			t.Errorf("%s: %d included dependencies, want %d", tc.subject, deps, tc.n)
		}
		joined := strings.Join(inc, " ")
		if !strings.Contains(joined, tc.has) || strings.Contains(joined, tc.hasNot) {
			t.Errorf("%s: included %v", tc.subject, inc)
		}
	}

	// HasMetadata: attributes and the edges GUAC has no verb for.
	meta := func(hex, key string) []string {
		t.Helper()
		hm, err := model.HasMetadata(ctx, c, model.HasMetadataSpec{Subject: &model.PackageSourceOrArtifactSpec{Artifact: art(hex)}, Key: &key})
		if err != nil {
			t.Fatal(err)
		}
		var vs []string
		for _, h := range hm.HasMetadata {
			vs = append(vs, h.Value)
		}
		slices.Sort(vs)
		return vs
	}
	for _, tc := range []struct {
		hex, key string
		want     []string
	}{
		{hFraud, "modelgraph.task", []string{"text-classification"}},
		{hFraud, "modelgraph.kind", []string{"Model"}},
		{hFraud, "modelgraph.trainedOn", []string{"https://data.acme.example/fraud-labels-2024", "sha256:" + hTx}},
		{hFraud, "modelgraph.deployedAs", []string{"deployment:prod/eu-1/fraud/scorer"}},
		{hTx, "modelgraph.classification", []string{"PII"}},
		{hImg, "modelgraph.deployment", []string{"deployment:prod/eu-1/fraud/scorer"}},
	} {
		if got := meta(tc.hex, tc.key); !slices.Equal(got, tc.want) {
			t.Errorf("%s %s = %v, want %v", tc.hex[:8], tc.key, got, tc.want)
		}
	}

	// CertifyBad: the affected model artifact and package; not the
	// withdrawn one. (GUAC's keyvalue backend fails on CertifyBad queries
	// filtered by a package without one, so all are listed.)
	cb, err := model.CertifyBad(ctx, c, model.CertifyBadSpec{})
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	for _, b := range cb.CertifyBad {
		if !strings.Contains(b.Justification, "advisory:ACME-2026-007: ONNX export leaks training rows (severity high)") {
			t.Errorf("justification %q", b.Justification)
		}
		switch s := b.Subject.(type) {
		case *model.AllCertifyBadSubjectArtifact:
			bad = append(bad, s.Algorithm+":"+s.Digest)
		case *model.AllCertifyBadSubjectPackage:
			bad = append(bad, asmhelpers.AllPkgTreeToPurl(&s.AllPkgTree))
		}
	}
	slices.Sort(bad)
	if want := []string{"pkg:pypi/transformers@4.41.2", "sha256:" + hOnnx}; !slices.Equal(bad, want) {
		t.Errorf("CertifyBad subjects %v, want %v", bad, want)
	}

	// Exporting again adds nothing: timestamps come from the documents.
	count := func() int {
		hm, err := model.HasMetadata(ctx, c, model.HasMetadataSpec{Subject: &model.PackageSourceOrArtifactSpec{Artifact: art(hFraud)}})
		if err != nil {
			t.Fatal(err)
		}
		return len(hm.HasMetadata)
	}
	before := count()
	if _, err := Export(ctx, st, endpoint, Options{}); err != nil {
		t.Fatal(err)
	}
	if after := count(); after != before {
		t.Errorf("re-export: %d HasMetadata, was %d", after, before)
	}
}

func TestExportErrors(t *testing.T) {
	if _, err := Export(t.Context(), nil, "http://localhost/query", Options{}); err == nil {
		t.Error("nil reader accepted")
	}
	st := openStore(t)
	for _, ep := range []string{"", "localhost:8080", "ftp://x/query"} {
		if _, err := Export(t.Context(), st, ep, Options{}); err == nil {
			t.Errorf("endpoint %q accepted", ep)
		}
	}
	// A server that is not GUAC fails with the endpoint in the error.
	ts := httptest.NewServer(nil)
	defer ts.Close()
	apply(t, st, mlBatch())
	if _, err := Export(t.Context(), st, ts.URL, Options{}); err == nil || !strings.Contains(err.Error(), ts.URL) {
		t.Errorf("err = %v", err)
	}
}

func mlBatch() *graph.Batch {
	b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("m")), Type: "test"})
	m := b.Node(graph.KindModel, "sha256:"+hFraud, "hf://acme/fraud-detector")
	b.Set(m, "task", "x")
	return b
}
