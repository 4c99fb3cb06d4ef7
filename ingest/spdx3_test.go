package ingest_test

import (
	"context"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
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
