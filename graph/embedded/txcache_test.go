package embedded

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

// The writer keeps the records a committed write touched for the next
// one (txCache.keepNodes); a write that fails changes records in place
// before failing, and none of that may survive into the next write.
func TestFailedWriteKeepsNoRecords(t *testing.T) {
	ctx := context.Background()
	doc := func(name, license string, model string) *graph.Batch {
		b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte(name)), Type: "test"})
		p := b.Node(graph.KindPackage, "pkg:pypi/numpy@1.26.0")
		b.Set(p, "license", license)
		m := b.Node(graph.KindModel, graph.SHA256Key([]byte(model)))
		b.Edge(m, graph.DependsOn, p)
		return b
	}
	dump := func(s *testStore) string { return checkedDump(t, s) }
	s, err := openTest(filepath.Join(t.TempDir(), "g.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Apply(ctx, doc("a", "MIT", "m1")); err != nil {
		t.Fatal(err)
	}
	// numpy's record (kept from the first write) gains b's document and
	// claim, then the write fails.
	if _, err := s.Apply(graph.WithFault(ctx, 2), doc("b", "BSD", "m2")); !errors.Is(err, graph.ErrInjectedFault) {
		t.Fatalf("faulted write: %v", err)
	}
	if _, err := s.Apply(ctx, doc("c", "MIT", "m3")); err != nil {
		t.Fatal(err)
	}
	fresh, err := openTest(filepath.Join(t.TempDir(), "fresh.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	for _, name := range []string{"a", "c"} {
		if _, err := fresh.Apply(ctx, doc(name, "MIT", map[string]string{"a": "m1", "c": "m3"}[name])); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := dump(s), dump(fresh); got != want {
		t.Fatalf("after a failed write:\n%s\nwant\n%s", got, want)
	}
}

// The same for edge records (txCache.keepEdges): every document names the
// edge m -> numpy with a claim; the failing one changes the kept edge
// record, its fourth and last write (after the document's node, numpy and
// m), and fails after it.
func TestFailedWriteKeepsNoEdgeRecords(t *testing.T) {
	ctx := context.Background()
	doc := func(name, scope string) *graph.Batch {
		b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte(name)), Type: "test"})
		p := b.Node(graph.KindPackage, "pkg:pypi/numpy@1.26.0")
		m := b.Node(graph.KindModel, graph.SHA256Key([]byte("m")))
		b.Edge(m, graph.DependsOn, p, "scope", scope)
		return b
	}
	s, err := openTest(filepath.Join(t.TempDir(), "g.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Apply(ctx, doc("a", "runtime")); err != nil {
		t.Fatal(err)
	}
	if s.drv.hotEdges == nil || len(s.drv.hotEdges) != 1 {
		t.Fatalf("%d edge records kept after a write", len(s.drv.hotEdges))
	}
	if _, err := s.Apply(graph.WithFault(ctx, 4), doc("b", "test")); !errors.Is(err, graph.ErrInjectedFault) {
		t.Fatalf("faulted write: %v", err)
	}
	if _, err := s.Apply(ctx, doc("c", "runtime")); err != nil {
		t.Fatal(err)
	}
	fresh, err := openTest(filepath.Join(t.TempDir(), "fresh.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	for _, name := range []string{"a", "c"} {
		if _, err := fresh.Apply(ctx, doc(name, "runtime")); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := checkedDump(t, s), checkedDump(t, fresh); got != want {
		t.Fatalf("after a failed write:\n%s\nwant\n%s", got, want)
	}
}
