package gql

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/graph/ref"
)

// TestDisplayName: Node.displayName is graph/ref's display rule, for every
// spelling of the reference the resolve query accepts.
func TestDisplayName(t *testing.T) {
	s, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("card")), Type: "hf-model-card"})
	m := b.Node(graph.KindModel, graph.SHA256Key([]byte("weights")), ref.HFModel("acme/llm-7b"), ref.Name("acme/llm-7b"))
	b.Set(m, "name", "acme/llm-7b")
	b.Set(m, "version", "1.2")
	if _, err := s.Apply(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	ns, err := s.Lookup(context.Background(), ref.HFModel("acme/llm-7b"))
	if err != nil || len(ns) != 1 {
		t.Fatal(ns, err)
	}
	want := ref.DisplayName(ns[0])
	if want != "acme/llm-7b@1.2" {
		t.Fatalf("DisplayName = %q", want)
	}
	h, _ := newHandler(Options{Reader: s})
	for _, spelling := range []string{"acme/llm-7b", "https://huggingface.co/acme/llm-7b/tree/main", "hf://acme/llm-7b@v1"} {
		q, _ := json.Marshal(spelling)
		rec := post(t, h, `{ resolve(ref: `+string(q)+`) { name displayName } }`)
		var out struct {
			Data struct {
				Resolve []struct{ Name, DisplayName string }
			}
			Errors []any
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Errors) > 0 || len(out.Data.Resolve) != 1 {
			t.Fatalf("resolve(%q): %s", spelling, rec.Body)
		}
		if got := out.Data.Resolve[0]; got.DisplayName != want || got.Name != want {
			t.Errorf("resolve(%q) = %+v, want displayName and name %q", spelling, got, want)
		}
	}
}
