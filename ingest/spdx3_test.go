package ingest_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// TestSPDX3ThroughPipeline: SPDX 3 JSON-LD is detected (with no content
// type, as application/spdx+json and as application/ld+json) and parsed by
// ingest/spdx3; SPDX 2 JSON sent as application/spdx+json stays SPDX 2.
func TestSPDX3ThroughPipeline(t *testing.T) {
	data := read(t, "spdx3/spdx-examples-ai-example01.spdx3.json")
	for _, ct := range []string{"", "application/spdx+json", "application/ld+json"} {
		if f, err := ingest.Detect(data, ct); err != nil || f != ingest.FormatSPDX3 {
			t.Errorf("content type %q: %s, %v; want spdx3", ct, f, err)
		}
	}
	if f, err := ingest.Detect(read(t, "sbom/guac-alpine-spdx.json"), "application/spdx+json"); err != nil || f != ingest.FormatSPDX {
		t.Errorf("SPDX 2 as application/spdx+json: %s, %v", f, err)
	}
	p, s := newPipeline(t, nil)
	rs := ingestOK(t, p, ingest.Input{Data: data, Source: "ai-example01"})
	if len(rs) != 1 || rs[0].Format != ingest.FormatSPDX3 {
		t.Fatalf("results %+v", rs)
	}
	ns, err := s.Lookup(context.Background(), "https://my-first-aibom.com/word-model")
	if err != nil || len(ns) != 1 || ns[0].Kind != graph.KindModel {
		t.Fatalf("word-model: %v %v", ns, err)
	}
	es, err := s.Edges(context.Background(), ns[0].ID, graph.Out, graph.TrainedOn)
	if err != nil || len(es) != 1 {
		t.Fatalf("word-model TRAINED_ON: %v %v", es, err)
	}
}

// TestSignedSPDX3: an SPDX 3 document as the predicate of a signed in-toto
// statement is verified against the trust policy and read by ingest/spdx3;
// the statement's subject joins the document's root element (the dataset),
// which a verified document now vouches for.
func TestSignedSPDX3(t *testing.T) {
	signer := envelopetest.NewKeySigner(t)
	pol := &trust.Policy{Rules: []trust.Rule{{Name: "data", Keys: []trust.PublicKey{signer.PublicKey(t)}}}}
	p, s := newPipeline(t, pol)
	const subject = "5a3c1a0ad5f4e3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8"
	st, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": "owid-co2-data.tar", "digest": map[string]string{"sha256": subject}}},
		"predicateType": "https://spdx.dev/Document/v3",
		"predicate":     json.RawMessage(read(t, "spdx3/spdx-examples-dataset-example01.spdx3.json")),
	})
	if err != nil {
		t.Fatal(err)
	}
	rs := ingestOK(t, p, ingest.Input{Data: signer.DSSE(t, statement.PayloadType, st), Source: "signed-spdx3"})
	if rs[0].Receipt.Status != graph.StatusVerified {
		t.Fatalf("status %s, want verified", rs[0].Receipt.Status)
	}
	ns, err := s.Lookup(context.Background(), "sha256:"+subject)
	if err != nil || len(ns) != 1 || ns[0].Kind != graph.KindDataset {
		t.Fatalf("subject: %v %v; want the dataset", ns, err)
	}
	if !slices.Contains(ns[0].Keys, "sha256:434d75c84cf86456c16193dbc53beef31eb63f3387425882ddb2ef6acb9d472c") {
		t.Errorf("the subject did not join the dataset node: keys %v", ns[0].Keys)
	}
	docs, err := s.Edges(context.Background(), ns[0].ID, graph.In, graph.Describes)
	if err != nil || len(docs) != 1 {
		t.Fatalf("dataset described by %v, %v", docs, err)
	}
	d, err := s.Documents(context.Background(), rs[0].Receipt.Document)
	if err != nil || len(d) != 1 || d[0].Type != "spdx3" || d[0].PredicateType != "https://spdx.dev/Document/v3" {
		t.Fatalf("document %+v, %v", d, err)
	}
}
