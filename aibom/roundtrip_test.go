package aibom

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/sbom"
	"github.com/modelgraph/modelgraph/ingest/spdx3"
)

// lineageEdge is an edge named by its ends' identifying keys, so that two
// stores can be compared.
type lineageEdge struct{ from, kind, to string }

// identKey is the key that identifies a node across stores: its smallest
// digest, else its smallest purl.
func identKey(n graph.Node) string {
	var best string
	for _, k := range n.Keys {
		if graph.IsDigestKey(k) && (best == "" || k < best) {
			best = k
		}
	}
	if best != "" {
		return string(n.Kind) + " " + best
	}
	for _, k := range n.Keys {
		if strings.HasPrefix(k, "pkg:") && (best == "" || k < best) {
			best = k
		}
	}
	return string(n.Kind) + " " + best
}

// lineage lists the TRAINED_ON, DERIVED_FROM and DEPENDS_ON edges between
// models, datasets and packages reachable from the models and datasets
// keyed by starts.
func lineage(t *testing.T, r graph.Reader, starts ...string) []lineageEdge {
	t.Helper()
	var from []graph.NodeID
	for _, start := range starts {
		ns, err := r.Lookup(ctx(), start)
		if err != nil {
			t.Fatal(err)
		}
		n := len(from)
		for _, nd := range ns {
			if nd.Kind == graph.KindModel || nd.Kind == graph.KindDataset {
				from = append(from, nd.ID)
			}
		}
		if len(from) != n+1 {
			t.Fatalf("%s names %d models and datasets", start, len(from)-n)
		}
	}
	kinds := []graph.EdgeKind{graph.TrainedOn, graph.DerivedFrom, graph.DependsOn}
	res, err := r.Traverse(ctx(), graph.TraverseRequest{From: from, Direction: graph.Out, EdgeKinds: kinds,
		NodeKinds: []graph.NodeKind{graph.KindModel, graph.KindDataset, graph.KindPackage}})
	if err != nil {
		t.Fatal(err)
	}
	key := map[graph.NodeID]string{}
	for _, s := range res.Steps {
		key[s.Node.ID] = identKey(s.Node)
	}
	var out []lineageEdge
	for _, s := range res.Steps {
		es, err := r.Edges(ctx(), s.Node.ID, graph.Out, kinds...)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if to, ok := key[e.To]; ok {
				out = append(out, lineageEdge{key[e.From], string(e.Kind), to})
			}
		}
	}
	slices.SortFunc(out, func(a, b lineageEdge) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return out
}

// TestIngestRoundTrip: an exported BOM (CycloneDX 1.6 and 1.7, JSON and
// XML, each valid against its official schema) ingested back as an SBOM (by
// ingest/sbom, into an empty store) reproduces every lineage edge of the
// model's supply chain: datasets, base models, dataset sources, packages.
//
// ingest/sbom adds edges of its own: following GUAC, the BOM's subject
// DEPENDS_ON every component the BOM lists, nested files included (as
// packages). Those are the only extra edges allowed. From XML, the
// model-card dataset references are lost: cyclonedx-go cannot decode the
// schema-valid form (see fixXML), so TRAINED_ON is compared in JSON only.
func TestIngestRoundTrip(t *testing.T) {
	f := newFixture(t)
	starts := []string{digest("instruct-q4"), digest("clean")}
	want := lineage(t, f.store, starts...)
	if len(want) < 8 {
		t.Fatalf("fixture lineage has only %d edges", len(want))
	}
	subject := identKey(mustOne(t, f.store, digest("instruct-q4")))
	bom := export(t, f.store, Request{Model: f.q4})
	for _, v := range []struct {
		format Format
		spec   Spec
	}{{FormatJSON, Spec1_6}, {FormatXML, Spec1_6}, {FormatJSON, Spec1_7}, {FormatXML, Spec1_7}} {
		format := v.format
		t.Run(string(format)+"-"+string(v.spec), func(t *testing.T) {
			data := encode(t, bom, format, v.spec)
			validate(t, format, v.spec, data)
			b, err := sbom.Parse(ctx(), data, graph.Document{Source: "aibom." + string(format)}, sbom.Options{})
			if err != nil {
				t.Fatalf("ingest/sbom rejects the export: %v", err)
			}
			s := openStore(t, filepath.Join(t.TempDir(), "g.db"))
			apply(t, s, b)
			got := lineage(t, s, starts...)
			for _, e := range want {
				if format == FormatXML && e.kind == string(graph.TrainedOn) {
					continue
				}
				if !slices.Contains(got, e) {
					t.Errorf("lost in the round trip: %v", e)
				}
			}
			for _, e := range got {
				if !slices.Contains(want, e) && (e.from != subject || e.kind != string(graph.DependsOn)) {
					t.Errorf("added by the round trip: %v", e)
				}
			}
		})
	}
}

// TestSPDX3RoundTrip: the SPDX 3 export ingested back by ingest/spdx3 into
// an empty store gives exactly the same lineage answers: every TRAINED_ON,
// DERIVED_FROM (models and datasets) and DEPENDS_ON edge comes back, and
// none is added. The derivation kinds (relation) come back too.
func TestSPDX3RoundTrip(t *testing.T) {
	f := newFixture(t)
	starts := []string{digest("instruct-q4"), digest("clean")}
	want := lineage(t, f.store, starts...)
	if len(want) < 8 {
		t.Fatalf("fixture lineage has only %d edges", len(want))
	}
	data := encode(t, export(t, f.store, Request{Model: f.q4}), FormatSPDX3, "")
	b, err := spdx3.Parse(data, graph.Document{Source: "aibom.spdx3.json"})
	if err != nil {
		t.Fatalf("ingest/spdx3 rejects the export: %v", err)
	}
	s := openStore(t, filepath.Join(t.TempDir(), "g.db"))
	apply(t, s, b)
	got := lineage(t, s, starts...)
	if !slices.Equal(got, want) {
		for _, e := range want {
			if !slices.Contains(got, e) {
				t.Errorf("lost in the round trip: %v", e)
			}
		}
		for _, e := range got {
			if !slices.Contains(want, e) {
				t.Errorf("added by the round trip: %v", e)
			}
		}
	}
	// Same answers to "what was it trained on, what does it derive from":
	// the relation of each DERIVED_FROM edge survives.
	for _, key := range []string{digest("instruct-q4"), digest("instruct")} {
		a, b := mustOne(t, f.store, key), mustOne(t, s, key)
		ea, err := f.store.Edges(ctx(), a.ID, graph.Out, graph.DerivedFrom)
		if err != nil {
			t.Fatal(err)
		}
		eb, err := s.Edges(ctx(), b.ID, graph.Out, graph.DerivedFrom)
		if err != nil {
			t.Fatal(err)
		}
		if len(ea) != 1 || len(eb) != 1 || ea[0].Attr("relation") != eb[0].Attr("relation") {
			t.Errorf("%s DERIVED_FROM relation: store %v, round trip %v", key, ea, eb)
		}
	}
}
