package synth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/envelope"
)

func smallPlan(t *testing.T) *Plan {
	t.Helper()
	pl, err := NewPlan(Params{Seed: 7, Datasets: 4, Models: 6, FilesPerModel: 3, PackagesPerSBOM: 25, PackagePool: 40, CorePackages: 4, PackageDeps: 2, Deployments: 3})
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

func documents(t *testing.T, pl *Plan, s *Signer) []Doc {
	t.Helper()
	var docs []Doc
	if err := pl.Documents(s, func(d Doc) error { docs = append(docs, d); return nil }); err != nil {
		t.Fatal(err)
	}
	return docs
}

func payload(t *testing.T, d Doc) []byte {
	t.Helper()
	if !d.Signed {
		return d.Data
	}
	var env struct {
		Payload      string `json:"payload"`
		DSSEEnvelope *struct {
			Payload string `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(d.Data, &env); err != nil {
		t.Fatalf("%s: %v", d.Name, err)
	}
	p := env.Payload
	if env.DSSEEnvelope != nil {
		p = env.DSSEEnvelope.Payload
	}
	raw, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		t.Fatalf("%s: %v", d.Name, err)
	}
	return raw
}

// Same seed, same key and same payloads; only ECDSA signature bytes vary.
func TestDocumentsDeterministic(t *testing.T) {
	s1, err := NewSigner(3)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := NewSigner(3)
	if err != nil {
		t.Fatal(err)
	}
	if s1.Hint() != s2.Hint() || !bytes.Equal(s1.PublicKeyPEM(), s2.PublicKeyPEM()) {
		t.Fatal("one seed gave two keys")
	}
	s3, err := NewSigner(4)
	if err != nil {
		t.Fatal(err)
	}
	if s3.Hint() == s1.Hint() {
		t.Fatal("two seeds gave one key")
	}
	a, b := documents(t, smallPlan(t), s1), documents(t, smallPlan(t), s2)
	if len(a) != len(b) {
		t.Fatalf("%d vs %d documents", len(a), len(b))
	}
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(payload(t, a[i]), payload(t, b[i])) {
			t.Fatalf("document %d (%s) differs between runs", i, a[i].Name)
		}
	}
}

// Every signed document verifies against the signer's policy through the
// same envelope code the pipeline uses, and fails when tampered with.
func TestDocumentsVerify(t *testing.T) {
	s, err := NewSigner(1)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := s.Policy()
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewSigner(2)
	if err != nil {
		t.Fatal(err)
	}
	otherPol, err := other.Policy()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	kinds := map[DocKind]int{}
	for _, d := range documents(t, smallPlan(t), s) {
		kinds[d.Kind]++
		if !d.Signed {
			continue
		}
		o, err := envelope.Open(ctx, d.Data, pol)
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		if len(o.Signatures) != 1 || o.Signatures[0].Status != graph.StatusVerified || o.Signatures[0].KeyID != s.Hint() {
			t.Fatalf("%s: signatures %+v, want one verified by %s", d.Name, o.Signatures, s.Hint())
		}
		if o.Statement == nil {
			t.Fatalf("%s: payload is not an in-toto statement", d.Name)
		}
		o, err = envelope.Open(ctx, d.Data, otherPol)
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		if o.Signatures[0].Status == graph.StatusVerified {
			t.Fatalf("%s: verified against another key", d.Name)
		}
		tampered := bytes.Replace(d.Data, []byte(`"payload":"`), []byte(`"payload":"eyJ`), 1)
		if o, err := envelope.Open(ctx, tampered, pol); err == nil && o.Verified() {
			t.Fatalf("%s: tampered payload verified", d.Name)
		}
	}
	for _, k := range []DocKind{DocDataset, DocOMS, DocTraining, DocSBOM, DocDeployment} {
		if kinds[k] == 0 {
			t.Errorf("no %s documents", k)
		}
	}
}

// The attestations and SBOMs ingest end to end into the lineage the plan
// describes: deployed models reachable downstream from their datasets.
func TestDocumentsIngest(t *testing.T) {
	s, err := NewSigner(1)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := s.Policy()
	if err != nil {
		t.Fatal(err)
	}
	store := openStore(t)
	p := &ingest.Pipeline{Store: store, Parser: ingest.NewParser(pol)}
	ctx := context.Background()
	pl := smallPlan(t)
	for _, d := range documents(t, pl, s) {
		res, err := p.Ingest(ctx, ingest.Input{Data: d.Data, Source: d.Name})
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		want := graph.StatusUnsigned
		if d.Signed {
			want = graph.StatusVerified
		}
		if got := res[0].Document.Status(); got != want {
			t.Fatalf("%s: status %s, want %s (%+v)", d.Name, got, want, res[0].Document.Signatures)
		}
	}
	dp := pl.Deployments[0]
	model := pl.Models[dp.Model]
	ds, err := store.Lookup(ctx, model.Key)
	if err != nil || len(ds) != 1 || ds[0].Kind != graph.KindModel {
		t.Fatalf("model %s: %v %v", model.Name, ds, err)
	}
	start, err := store.Lookup(ctx, pl.Datasets[model.Datasets[0]].Key)
	if err != nil || len(start) == 0 {
		t.Fatalf("dataset: %v %v", start, err)
	}
	res, err := store.Traverse(ctx, graph.TraverseRequest{From: []graph.NodeID{start[0].ID}, Direction: graph.Downstream,
		EdgeKinds: []graph.EdgeKind{graph.TrainedOn, graph.DerivedFrom, graph.DeployedAs}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, st := range res.Steps {
		if st.Node.Kind == graph.KindDeployment && containsKey(st.Node.Keys, dp.Key()) {
			found = true
		}
	}
	if !found {
		t.Fatalf("deployment %s not downstream of its model's dataset", dp.Key())
	}
	m, err := store.Edges(ctx, ds[0].ID, graph.Out, graph.DependsOn)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != len(model.Packages) {
		t.Errorf("model depends on %d packages, SBOM lists %d", len(m), len(model.Packages))
	}
}

func containsKey(keys []string, k string) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}
