package search

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

func testNode(kind graph.NodeKind, keys []string, attrs ...string) graph.Node {
	n := graph.Node{ID: graph.NewNodeID(kind, keys[0]), Kind: kind, Keys: keys}
	for i := 0; i+1 < len(attrs); i += 2 {
		n.Attrs = append(n.Attrs, graph.Attr{Name: attrs[i], Value: attrs[i+1]})
	}
	return n
}

// sameIndex compares what searches read: live entries by id, the term
// tree, the postings of live entries, the fuzzy vocabulary and its order.
func sameIndex(t *testing.T, a, b *Index) {
	t.Helper()
	if a.Len() != b.Len() {
		t.Fatalf("live entries %d vs %d", a.Len(), b.Len())
	}
	for id, sa := range a.byID {
		sb, ok := b.byID[id]
		if !ok {
			t.Fatalf("%s missing after load", id)
		}
		ea, eb := a.entries[sa], b.entries[sb]
		if ea.kind != eb.kind || !slices.Equal(ea.terms, eb.terms) || !slices.Equal(ea.tokens, eb.tokens) {
			t.Fatalf("%s: %+v vs %+v", id, ea, eb)
		}
	}
	terms := func(x *Index) (out []string) {
		x.terms.Ascend(func(it termItem) bool {
			out = append(out, it.term+"\x00"+string(x.entries[it.slot].id))
			return true
		})
		return out
	}
	if ta, tb := terms(a), terms(b); !slices.Equal(ta, tb) {
		t.Fatalf("term trees differ: %d vs %d terms", len(ta), len(tb))
	}
	live := func(x *Index, w string) (ids []graph.NodeID) {
		for _, s := range x.postings[w] {
			if e := x.entries[s]; !e.dead {
				ids = append(ids, e.id)
			}
		}
		return ids
	}
	for w := range a.postings {
		if la, lb := live(a, w), live(b, w); !slices.Equal(la, lb) {
			t.Fatalf("postings of %q: %v vs %v", w, la, lb)
		}
	}
	for l, ws := range a.byLen {
		var alive []string
		for _, w := range ws {
			if len(live(a, w)) > 0 {
				alive = append(alive, w)
			}
		}
		if !slices.Equal(alive, b.byLen[l]) {
			t.Fatalf("fuzzy vocabulary of length %d: %v vs %v", l, alive, b.byLen[l])
		}
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	x := New()
	var nodes []graph.Node
	for i := range 300 {
		nodes = append(nodes,
			testNode(graph.KindModel, []string{fmt.Sprintf("name:org/model-%d", i), graph.SHA256Key(fmt.Appendf(nil, "w%d", i))}, "name", fmt.Sprintf("org/model-%d", i), "version", "v1"),
			testNode(graph.KindDeployment, []string{fmt.Sprintf("deployment:prod/eu/ns/svc-%d", i)}, "service", fmt.Sprintf("svc-%d", i), "cluster", "eu"),
		)
	}
	nodes = append(nodes, testNode(graph.KindIdentity, []string{"oidc:https://accounts.example|alice@example.com"}, "identity", "alice@example.com"))
	for _, n := range nodes {
		x.Put(n)
	}
	// Re-indexed and removed nodes leave dead slots and dead postings
	// behind: the snapshot leaves them out.
	x.Put(testNode(graph.KindModel, []string{"name:org/model-7", "name:org/renamed"}, "name", "org/renamed"))
	x.Remove(nodes[9].ID)
	x.Put(testNode(graph.KindDataset, []string{"name:org/onlyword-zebra"}))
	x.Remove(graph.NewNodeID(graph.KindDataset, "name:org/onlyword-zebra"))

	path := filepath.Join(t.TempDir(), "g.db.search")
	st := Stamp{Tx: 42, Nodes: int64(x.Len()), Documents: 7}
	if err := x.Save(path, st); err != nil {
		t.Fatal(err)
	}
	y, err := Load(path, st)
	if err != nil {
		t.Fatal(err)
	}
	sameIndex(t, x, y)
	if _, dead := y.postings["zebra"]; dead {
		t.Error("a word of removed nodes only survived the snapshot")
	}
	for _, q := range []string{"org/model-12", "org/model-1", "model 12", "modle 12", "svc-3", "alice@example.com", "alice", "renamed", "org/model-9", "sha256:" + nodes[0].Keys[1][7:20], "zebra"} {
		if a, b := x.Search(Query{Text: q, Limit: 20}), y.Search(Query{Text: q, Limit: 20}); !slices.EqualFunc(a, b, func(h, k Hit) bool {
			return h.ID == k.ID && h.Tier == k.Tier && h.Matched == k.Matched
		}) {
			t.Errorf("%q: %v before, %v after", q, a, b)
		}
	}
	// The loaded index keeps following writes.
	y.Put(testNode(graph.KindModel, []string{"name:org/fresh"}))
	y.Remove(nodes[0].ID)
	if h := y.Search(Query{Text: "org/fresh"}); len(h) != 1 || h[0].Tier != TierExact {
		t.Errorf("put after load: %+v", h)
	}
	if y.Has(nodes[0].ID) || slices.ContainsFunc(y.Search(Query{Text: "org/model-0"}), func(h Hit) bool { return h.ID == nodes[0].ID }) {
		t.Error("a node removed after load is still found")
	}

	// Another stamp, a flipped byte, a truncated file, a foreign file: stale.
	for _, other := range []Stamp{{Tx: 43, Nodes: st.Nodes, Documents: 7}, {Tx: 42, Nodes: st.Nodes + 1, Documents: 7}, {Tx: 42, Nodes: st.Nodes, Documents: 8}} {
		if _, err := Load(path, other); !errors.Is(err, ErrStaleSnapshot) {
			t.Errorf("stamp %+v: %v", other, err)
		}
	}
	b, _ := os.ReadFile(path)
	for name, mut := range map[string][]byte{
		"flipped":   func() []byte { c := slices.Clone(b); c[len(c)/2] ^= 1; return c }(),
		"truncated": b[:len(b)-10],
		"foreign":   []byte("not a snapshot at all, not at all"),
	} {
		if err := os.WriteFile(path, mut, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path, st); !errors.Is(err, ErrStaleSnapshot) {
			t.Errorf("%s file: %v", name, err)
		}
	}
}
