package ingesttest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

// recorder is a testing.TB that keeps what Errorf said.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestLines(t *testing.T) {
	b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("d")), Type: "test", Source: "d"})
	m := b.Node(graph.KindModel, "name:m")
	d := b.Node(graph.KindDataset, "name:d")
	b.Set(m, "license", "mit")
	b.Edge(m, graph.TrainedOn, d, "split", "train")
	b.Describes(m)
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := Nodes(b), []string{"Dataset [name:d]", "Model [name:m] {license=mit}"}; !slices.Equal(got, want) {
		t.Errorf("nodes %q, want %q", got, want)
	}
	// The subject keys Validate put on DESCRIBES are the subject's own: left out.
	if got, want := Edges(b), []string{"Document -DESCRIBES-> Model(name:m)", "Model(name:m) -TRAINED_ON-> Dataset(name:d) {split=train}"}; !slices.Equal(got, want) {
		t.Errorf("edges %q, want %q", got, want)
	}

	r := &recorder{TB: t}
	SameLines(r, "edges", Edges(b), []string{"Model(name:m) -TRAINED_ON-> Dataset(name:d) {split=train}", "Document -DESCRIBES-> Model(name:m)"})
	if len(r.errs) != 0 {
		t.Errorf("same lines in another order: %v", r.errs)
	}
	SameLines(r, "nodes", Nodes(b), []string{"Dataset [name:d]", "Model [name:x]"})
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "unexpected: Model [name:m] {license=mit}") || !strings.Contains(r.errs[0], "missing:    Model [name:x]") {
		t.Errorf("a wrong line: %v", r.errs)
	}
}
