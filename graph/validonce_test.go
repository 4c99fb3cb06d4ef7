package graph_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/mem"
)

func onceBatch(t *testing.T) *graph.Batch {
	t.Helper()
	b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("once")), Type: "t"})
	m := b.Node(graph.KindModel, "sha256:"+strings.Repeat("ab", 32), graph.NameKey("m"))
	p := b.Node(graph.KindPackage, "pkg:pypi/torch@2.3.0")
	b.Set(p, "version", "2.3.0")
	b.Edge(m, graph.DependsOn, p, "scope", "required")
	b.Describes(m)
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestValidateOnce: a batch validated and unchanged since costs the store's
// Validate no allocation (the work is not redone); every kind of change
// made after the first Validate, through the exported fields as well as
// the builder, is validated again, so the store never writes an unchecked
// batch.
func TestValidateOnce(t *testing.T) {
	b := onceBatch(t)
	if n := testing.AllocsPerRun(20, func() {
		if err := b.Validate(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("second Validate of an unchanged batch: %v allocations, want 0 (validated again)", n)
	}
	huge := strings.Repeat("x", graph.MaxAttrValueLen+1)
	mutations := map[string]func(b *graph.Batch){
		"bad key in place":        func(b *graph.Batch) { b.Nodes[1].Keys[0] = "no scheme" },
		"huge node attr":          func(b *graph.Batch) { b.Nodes[2].Attrs["version"] = huge },
		"new node attr name":      func(b *graph.Batch) { b.Nodes[2].Attrs["bad\nname"] = "v" },
		"huge edge attr":          func(b *graph.Batch) { b.Edges[0].Attrs["x"] = huge },
		"edge out of range":       func(b *graph.Batch) { b.Edges[0].To = 99 },
		"node kind":               func(b *graph.Batch) { b.Nodes[2].Kind = "Nonsense" },
		"doc digest":              func(b *graph.Batch) { b.Doc.Digest = "SHA256:" + strings.Repeat("AB", 32) },
		"doc type":                func(b *graph.Batch) { b.Doc.Type = "" },
		"signature status":        func(b *graph.Batch) { b.Doc.Signatures = []graph.Signature{{Status: "bogus"}} },
		"keys emptied":            func(b *graph.Batch) { b.Nodes[2].Keys = nil },
		"node added, no key":      func(b *graph.Batch) { b.Nodes = append(b.Nodes, graph.NodeSpec{Kind: graph.KindPackage}) },
		"edge added, bad kind":    func(b *graph.Batch) { b.Edges = append(b.Edges, graph.EdgeSpec{From: 0, To: 1, Kind: "NOPE"}) },
		"builder edge bad attr":   func(b *graph.Batch) { b.Edge(1, graph.DependsOn, 2, "", "v") },
		"builder node bad key":    func(b *graph.Batch) { b.Node(graph.KindPackage, "noscheme") },
		"builder attr too large":  func(b *graph.Batch) { b.Set(1, "x", huge) },
		"attr replaced same size": func(b *graph.Batch) { delete(b.Nodes[2].Attrs, "version"); b.Nodes[2].Attrs["\x00ersion"] = "2.3.0" },
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			b := onceBatch(t)
			mutate(b)
			err := b.Validate()
			if !errors.Is(err, graph.ErrInvalidBatch) {
				t.Fatalf("Validate after the change = %v, want ErrInvalidBatch", err)
			}
			// The store (graph.DB) refuses it too, and writes nothing.
			db := graph.Open(mem.New(), graph.Options{})
			defer db.Close()
			if _, err := db.Apply(context.Background(), b); !errors.Is(err, graph.ErrInvalidBatch) {
				t.Fatalf("DB.Apply after the change = %v, want ErrInvalidBatch", err)
			}
			if _, err := db.ApplyAll(context.Background(), []*graph.Batch{b}); !errors.Is(err, graph.ErrInvalidBatch) {
				t.Fatalf("DB.ApplyAll after the change = %v, want ErrInvalidBatch", err)
			}
			st, err := db.Stats(context.Background())
			if err != nil || st.Documents != 0 {
				t.Fatalf("store holds %+v (%v) after refusing", st, err)
			}
		})
	}
	// A valid change made after Validate is normalised by the second one.
	b = onceBatch(t)
	b.Nodes[1].Keys[0] = "SHA-256:" + strings.Repeat("CD", 32)
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := b.Nodes[1].Keys[0], "sha256:"+strings.Repeat("cd", 32); got != want {
		t.Fatalf("key after the second Validate = %q, want %q", got, want)
	}
}
