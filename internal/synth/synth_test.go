package synth

import (
	"testing"
)

func TestDeterministicAndValid(t *testing.T) {
	p := ForNodes(3000)
	a, b := Generate(p), Generate(p)
	if len(a.Batches) != len(b.Batches) || len(a.Batches) == 0 {
		t.Fatalf("batch counts %d vs %d", len(a.Batches), len(b.Batches))
	}
	for i := range a.Batches {
		if err := a.Batches[i].Validate(); err != nil {
			t.Fatal(err)
		}
		if a.Batches[i].Doc.Digest != b.Batches[i].Doc.Digest || len(a.Batches[i].Edges) != len(b.Batches[i].Edges) {
			t.Fatalf("batch %d differs between runs with the same seed", i)
		}
	}
	p.Seed = 2
	c := Generate(p)
	same := true
	for i := range min(len(a.Batches), len(c.Batches)) {
		if len(a.Batches[i].Edges) != len(c.Batches[i].Edges) {
			same = false
		}
	}
	if same {
		t.Fatal("another seed gave the same chain")
	}
}
