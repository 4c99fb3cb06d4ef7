package graph

import (
	"fmt"
	"slices"
	"testing"
)

func TestNodeIDFor(t *testing.T) {
	keys := []string{"name:a", "sha256:" + fmt.Sprintf("%064x", 7), "hf://org/a"}
	want := NewNodeID(KindModel, keys[0])
	for _, k := range keys[1:] {
		want = min(want, NewNodeID(KindModel, k))
	}
	for i := range keys {
		rot := append(slices.Clone(keys[i:]), keys[:i]...)
		if got := NodeIDFor(KindModel, rot); got != want {
			t.Fatalf("NodeIDFor(%v) = %s, want %s whatever the order", rot, got, want)
		}
	}
	if NodeIDFor(KindDataset, keys) == want {
		t.Fatal("the kind is not part of the id")
	}
	if NodeIDFor(KindModel, keys[:1]) != NewNodeID(KindModel, keys[0]) {
		t.Fatal("a one-key node's id is not NewNodeID of its key")
	}
}

func TestResolve(t *testing.T) {
	k := []string{"name:a", "name:b", "name:c", "name:d"}
	idOf := func(ks ...string) NodeID { return NodeIDFor(KindModel, ks) }
	count := map[NodeID]int{}
	kc := func(id NodeID) int { return count[id] }

	// No key owned: a new node named by all its keys.
	r := Resolve(1, KindModel, k[:2], []NodeID{"", ""}, kc)
	if len(r.Fold) != 0 || r.ID != idOf(k[:2]...) || !slices.Equal(r.Attach, k[:2]) || !slices.Equal(r.Named, k[:2]) || len(r.Notes) != 0 {
		t.Fatalf("new node: %+v", r)
	}

	// One owner, one free key: the free key joins; the id is the smallest
	// of all keys (the node is renamed when the new key's id is smaller).
	a := idOf(k[0])
	count[a] = 1
	r = Resolve(1, KindModel, []string{k[0], k[1]}, []NodeID{a, ""}, kc)
	if !slices.Equal(r.Fold, []NodeID{a}) || r.ID != idOf(k[0], k[1]) || !slices.Equal(r.Attach, []string{k[1]}) {
		t.Fatalf("attach: %+v", r)
	}
	if renamed := r.ID != a; renamed != slices.Equal(r.Absorbed(), []NodeID{a}) {
		t.Fatalf("absorbed %v, renamed %v", r.Absorbed(), renamed)
	}

	// Two owners: one node, whatever the order of the keys.
	b := idOf(k[2], k[3])
	count[b] = 2
	r1 := Resolve(1, KindModel, []string{k[0], k[2]}, []NodeID{a, b}, kc)
	r2 := Resolve(1, KindModel, []string{k[2], k[0]}, []NodeID{b, a}, kc)
	want := idOf(k[0], k[2], k[3])
	if r1.ID != want || r2.ID != want || !slices.Equal(r1.Fold, r2.Fold) || len(r1.Fold) != 2 || len(r1.Absorbed()) != 1 {
		t.Fatalf("merge: %+v / %+v, want id %s", r1, r2, want)
	}

	// Over the limit: the smallest owner keeps the spec, the others and the
	// keys that do not fit are reported.
	count[a] = MaxKeysPerStoredNode - 1
	r = Resolve(3, KindModel, []string{k[0], k[2], "name:x", "name:y"}, []NodeID{a, b, "", ""}, kc)
	keep := a
	if len(r.Fold) != 1 || r.Fold[0] != min(a, b) {
		t.Fatalf("limit: fold %v, want only the smallest owner", r.Fold)
	}
	if keep != r.Fold[0] {
		// b is smaller: it keeps the spec and has room for both free keys.
		if len(r.Notes) != 1 || r.Notes[0].Key != k[0] || r.Notes[0].Owner != a {
			t.Fatalf("limit (b kept): %+v", r)
		}
		return
	}
	if !slices.Equal(r.Attach, []string{"name:x"}) || len(r.Notes) != 2 || r.Notes[0].Key != k[2] || r.Notes[0].Owner != b || r.Notes[1].Key != "name:y" || r.Notes[1].Spec != 3 {
		t.Fatalf("limit: %+v", r)
	}
	if !slices.Equal(r.Named, []string{k[0], "name:x"}) {
		t.Fatalf("limit: named %v", r.Named)
	}
}

func TestUnions(t *testing.T) {
	a := []Attr{{"l", "mit", []string{"d1"}}, {"n", "x", []string{"d2"}}}
	b := []Attr{{"l", "mit", []string{"d0", "d1"}}, {"m", "y", []string{"d3"}}}
	got := UnionAttrs(a, b)
	want := []Attr{{"l", "mit", []string{"d0", "d1"}}, {"m", "y", []string{"d3"}}, {"n", "x", []string{"d2"}}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("UnionAttrs = %v", got)
	}
	kd := UnionKeyClaims([]KeyClaim{{"a", []string{"d1"}}}, []KeyClaim{{"a", []string{"d0"}}, {"b", []string{"d2"}}})
	if fmt.Sprint(kd) != fmt.Sprint([]KeyClaim{{"a", []string{"d0", "d1"}}, {"b", []string{"d2"}}}) {
		t.Fatalf("UnionKeyClaims = %v", kd)
	}
	kd, changed := AddKeyDoc(kd, "a", "d1")
	if changed {
		t.Fatal("AddKeyDoc of a known doc changed the list")
	}
	if kd, changed = AddKeyDoc(kd, "0", "d9"); !changed || kd[0].Key != "0" {
		t.Fatalf("AddKeyDoc of a new key: %v", kd)
	}
	ref := Repoint(EdgeRef{From: "x", Kind: DerivedFrom, To: "y"}, map[NodeID]NodeID{"y": "x"})
	if ref.From != "x" || ref.To != "x" {
		t.Fatalf("a merge of both ends keeps the edge as a loop: %+v", ref)
	}
}
