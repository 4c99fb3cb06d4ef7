package aibom

import (
	"errors"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

func TestResolve(t *testing.T) {
	f := newFixture(t)
	q4hex := strings.TrimPrefix(digest("instruct-q4"), "sha256:")
	tests := []struct {
		ref  string
		id   graph.NodeID
		kind graph.NodeKind
	}{
		{string(f.q4), f.q4, graph.KindModel},
		{digest("instruct-q4"), f.q4, graph.KindModel},
		{"SHA-256:" + strings.ToUpper(q4hex), f.q4, graph.KindModel},
		{q4hex, f.q4, graph.KindModel},
		{"acme/llm-7b-instruct", f.instruct, graph.KindModel},
		{"name:acme/llm-7b-instruct", f.instruct, graph.KindModel},
		{"  hf://acme/llm-7b  ", f.base, graph.KindModel},
		{"pkg:pypi/torch@2.3.1", f.torch, graph.KindPackage},
		{"deployment:prod/chat-api", f.prod, graph.KindDeployment},
		{"clinical-notes@v3", f.raw, graph.KindDataset},
	}
	for _, tc := range tests {
		id, kind, err := Resolve(ctx(), f.store, tc.ref)
		if err != nil || id != tc.id || kind != tc.kind {
			t.Errorf("Resolve(%q) = %s %s, %v; want %s %s", tc.ref, kind, id, err, tc.kind, tc.id)
		}
	}
	for _, ref := range []string{"acme/unknown", "sha256:" + strings.Repeat("0", 64), string(graph.NewNodeID(graph.KindModel, "x")), "hf://nope", "pkg:pypi/nope@1"} {
		if _, _, err := Resolve(ctx(), f.store, ref); !errors.Is(err, graph.ErrNotFound) {
			t.Errorf("Resolve(%q) error %v, want ErrNotFound", ref, err)
		}
	}
	for _, ref := range []string{"", "   ", strings.Repeat("x", graph.MaxKeyLen+1)} {
		if _, _, err := Resolve(ctx(), f.store, ref); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Resolve(%.10q) error %v, want ErrInvalidRequest", ref, err)
		}
	}
}

func TestResolveAmbiguous(t *testing.T) {
	s := openStore(t, t.TempDir()+"/g.db")
	shared := digest("shared")
	b := graph.NewBatch(doc("ambiguous", "test", "", fixtureTime))
	m := b.Node(graph.KindModel, digest("chat-model"), graph.NameKey("chat"))
	d := b.Node(graph.KindDeployment, "deployment:chat", graph.NameKey("chat"))
	b.Node(graph.KindFile, shared)
	b.Node(graph.KindDataset, shared)
	single := b.Node(graph.KindModel, digest("single-file-model"))
	b.Node(graph.KindFile, digest("single-file-model"))
	b.Edge(m, graph.DeployedAs, d)
	b.Describes(single)
	apply(t, s, b)

	mID := mustOne(t, s, digest("chat-model")).ID
	dID := mustOne(t, s, "deployment:chat").ID
	_, _, err := Resolve(ctx(), s, "chat")
	if !errors.Is(err, ErrAmbiguous) || !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("Resolve(chat) error %v, want ErrAmbiguous", err)
	}
	for _, want := range []string{string(mID), string(dID), "Model", "Deployment", "name:chat"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ambiguity error %q does not name %s", err, want)
		}
	}
	// Neither a file nor a dataset can be exported: still ambiguous.
	if _, _, err := Resolve(ctx(), s, shared); !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), "File") || !strings.Contains(err.Error(), "Dataset") {
		t.Fatalf("Resolve(shared digest) error %v, want ErrAmbiguous naming the file and the dataset", err)
	}
	// A model and its single file share a digest: the model wins.
	id, kind, err := Resolve(ctx(), s, digest("single-file-model"))
	if err != nil || kind != graph.KindModel || id != graph.NewNodeID(graph.KindModel, digest("single-file-model")) {
		t.Fatalf("Resolve(single-file model) = %s %s, %v", kind, id, err)
	}
}
