package intoto_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest/modelcard"
)

// A lineage built purely from documents, applied to the bbolt store:
// raw dataset → derived dataset → base model (SLSA v1) → fine-tune (AIXV) →
// quantized variant (model card) → two deployments. Nodes meet only through
// the keys the documents carry (digests, hf:// ids).
func TestLineageFromDocuments(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	card, err := os.ReadFile("../../testdata/modelcard/llm-7b-chat-gguf.md")
	if err != nil {
		t.Fatal(err)
	}
	cardBatch, err := modelcard.Parse(card, graph.Document{Digest: graph.SHA256Key(card), Source: "llm-7b-chat-gguf.md"}, modelcard.Options{Name: "hf://acme/llm-7b-chat-GGUF"})
	if err != nil {
		t.Fatal(err)
	}
	batches := []*graph.Batch{
		ingest(t, "dataset-raw.intoto.json"),
		ingest(t, "dataset-derived.intoto.json"),
		ingest(t, "slsa-v1-training.intoto.json"),
		ingest(t, "aixv-training.intoto.json"),
		cardBatch,
		ingest(t, "deployment-production.intoto.json"),
		ingest(t, "deployment-staging.intoto.json"),
	}
	for _, b := range batches {
		if _, err := s.Apply(ctx, b); err != nil {
			t.Fatalf("%s: %v", b.Doc.Source, err)
		}
	}

	one := func(kind graph.NodeKind, key string) graph.Node {
		t.Helper()
		ns, err := s.Lookup(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		var hits []graph.Node
		for _, n := range ns {
			if n.Kind == kind {
				hits = append(hits, n)
			}
		}
		if len(hits) != 1 {
			t.Fatalf("%s %s: %d nodes", kind, key, len(hits))
		}
		return hits[0]
	}
	raw := one(graph.KindDataset, "sha256:"+h("1"))
	derived := one(graph.KindDataset, "sha256:"+h("2"))
	base := one(graph.KindModel, "sha256:"+h("3"))
	ft := one(graph.KindModel, "sha256:"+h("4"))
	quant := one(graph.KindModel, "hf://acme/llm-7b-chat-GGUF")
	prod := one(graph.KindDeployment, "deployment:production/eu-west-1/ml-serving/clinical-chat")
	staging := one(graph.KindDeployment, "deployment:staging/eu-west-1/ml-staging/clinical-chat")

	// The joins the documents imply: AIXV gave the base model its hub id,
	// the card reached the fine-tune by hub id, the deployments reached the
	// card's model by hub id and gave it its digest.
	if one(graph.KindModel, "hf://acme/llm-7b").ID != base.ID || one(graph.KindModel, "hf://acme/llm-7b-chat").ID != ft.ID ||
		one(graph.KindModel, "sha256:"+h("5")).ID != quant.ID || one(graph.KindDataset, "name:acme/clinical-notes-raw@2024-01").ID != raw.ID {
		t.Error("documents did not meet on shared keys")
	}

	reach := func(from graph.NodeID, dir graph.Direction, kind graph.NodeKind) (graph.TraverseResult, []graph.NodeID) {
		t.Helper()
		res, err := s.Traverse(ctx, graph.TraverseRequest{From: []graph.NodeID{from}, Direction: dir})
		if err != nil {
			t.Fatal(err)
		}
		if res.Truncated || res.DepthLimited {
			t.Fatalf("traversal cut short: %+v", res)
		}
		var ids []graph.NodeID
		for _, st := range res.Steps {
			if st.Node.Kind == kind && st.Node.ID != from {
				ids = append(ids, st.Node.ID)
			}
		}
		slices.Sort(ids)
		return res, ids
	}
	sorted := func(ids ...graph.NodeID) []graph.NodeID { slices.Sort(ids); return ids }

	// Upstream of the quantized model: exactly both datasets, and its two
	// ancestors.
	if _, got := reach(quant.ID, graph.Upstream, graph.KindDataset); !slices.Equal(got, sorted(raw.ID, derived.ID)) {
		t.Errorf("datasets upstream of the quantized model: %v, want %v", got, sorted(raw.ID, derived.ID))
	}
	if _, got := reach(quant.ID, graph.Upstream, graph.KindModel); !slices.Equal(got, sorted(base.ID, ft.ID)) {
		t.Errorf("models upstream of the quantized model: %v", got)
	}
	if _, got := reach(quant.ID, graph.Upstream, graph.KindDeployment); len(got) != 0 {
		t.Errorf("deployments upstream: %v", got)
	}

	// Downstream of the raw dataset: exactly both deployments, reached by
	// the shortest path raw <- derived <- fine-tune <- quantized -> deployment.
	res, got := reach(raw.ID, graph.Downstream, graph.KindDeployment)
	if !slices.Equal(got, sorted(prod.ID, staging.ID)) {
		t.Fatalf("deployments downstream of the raw dataset: %v, want %v", got, sorted(prod.ID, staging.ID))
	}
	var kinds []graph.EdgeKind
	for _, e := range res.PathTo(prod.ID) {
		kinds = append(kinds, e.Kind)
	}
	if want := []graph.EdgeKind{graph.DerivedFrom, graph.TrainedOn, graph.DerivedFrom, graph.DeployedAs}; !slices.Equal(kinds, want) {
		t.Errorf("path to production: %v, want %v", kinds, want)
	}
	path := res.PathTo(staging.ID)
	if last := path[len(path)-1]; last.Attr("status") != "withdrawn" || last.Attr("undeployedAt") != "2024-06-12T18:00:00Z" {
		t.Errorf("staging deployment edge attrs %v", last.Attrs)
	}
	if _, got := reach(raw.ID, graph.Downstream, graph.KindModel); !slices.Equal(got, sorted(base.ID, ft.ID, quant.ID)) {
		t.Errorf("models downstream of the raw dataset: %v", got)
	}
}
