package graph

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// refBatch is Batch.Node as it was before it normalised each key once
// (two passes, each normalising and looking up every key): the
// reference Node and AddKey must agree with.
type refBatch struct {
	nodes []NodeSpec
	byKey map[kindKey]int
}

func (b *refBatch) node(kind NodeKind, keys ...string) int {
	idx := -1
	for _, k := range keys {
		if k == "" {
			continue
		}
		if nk, err := NormalizeKey(k); err == nil {
			k = nk
		}
		if i, ok := b.byKey[kindKey{kind, k}]; ok {
			idx = i
			break
		}
	}
	if idx < 0 {
		idx = len(b.nodes)
		b.nodes = append(b.nodes, NodeSpec{Kind: kind, Keys: make([]string, 0, len(keys))})
	}
	for _, k := range keys {
		if k == "" {
			continue
		}
		if nk, err := NormalizeKey(k); err == nil {
			k = nk
		}
		mk := kindKey{kind, k}
		if j, ok := b.byKey[mk]; ok {
			if j != idx && !slices.Contains(b.nodes[idx].Keys, k) {
				b.nodes[idx].Keys = append(b.nodes[idx].Keys, k)
			}
			continue
		}
		b.byKey[mk] = idx
		b.nodes[idx].Keys = append(b.nodes[idx].Keys, k)
	}
	return idx
}

// TestNodeAndAddKeyMatchReference drives Batch.Node and Batch.AddKey and
// the reference with the same random calls (keys that collide after
// normalisation, repeat within a call, are empty or invalid, more than
// four at once) and compares the returned indices, the nodes' keys and
// the key index after every call.
func TestNodeAndAddKeyMatchReference(t *testing.T) {
	hex := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	pool := []string{"", "pkg:pypi/numpy@1.0", " pkg:pypi/numpy@1.0 ", "pkg:pypi/torch", "name:x", "nokey",
		"sha256:" + hex, "SHA-256:" + hex[:60] + "ABCD", "sha256:" + hex[:60] + "abcd", "sha1:" + hex[:40],
		"md5:" + hex[:32], "sha256:zz", "https://example.com/a", "pkg:npm/a@1", "pkg:npm/b@2", "name:y"}
	kinds := []NodeKind{KindPackage, KindFile, KindModel}
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		b := &Batch{}
		ref := &refBatch{byKey: map[kindKey]int{}}
		for step := 0; step < 60; step++ {
			var got, want int
			if i := r.IntN(len(b.Nodes) + 1); i < len(b.Nodes) && len(b.Nodes[i].Keys) > 0 && r.IntN(2) == 0 {
				k := pool[r.IntN(len(pool))]
				n := ref.nodes[i]
				want = ref.node(n.Kind, n.Keys[0], k)
				got = b.AddKey(i, k)
			} else {
				kind := kinds[r.IntN(len(kinds))]
				keys := make([]string, r.IntN(7))
				for j := range keys {
					keys[j] = pool[r.IntN(len(pool))]
				}
				want = ref.node(kind, keys...)
				got = b.Node(kind, keys...)
			}
			if got != want {
				t.Fatalf("seed %d step %d: index %d, reference %d", seed, step, got, want)
			}
			if len(b.Nodes) != len(ref.nodes) {
				t.Fatalf("seed %d step %d: %d nodes, reference %d", seed, step, len(b.Nodes), len(ref.nodes))
			}
			for i := range b.Nodes {
				if b.Nodes[i].Kind != ref.nodes[i].Kind || !slices.Equal(b.Nodes[i].Keys, ref.nodes[i].Keys) {
					t.Fatalf("seed %d step %d: node %d %v %q, reference %v %q", seed, step, i,
						b.Nodes[i].Kind, b.Nodes[i].Keys, ref.nodes[i].Kind, ref.nodes[i].Keys)
				}
			}
			if !reflect.DeepEqual(b.byKey, ref.byKey) {
				t.Fatalf("seed %d step %d: key index differs", seed, step)
			}
		}
	}
}

// BenchmarkNodeKeys: what an SBOM's translation does to a batch per
// package (a node by its plain and canonical purl, the purl named again,
// two digests attached), by Batch.Node and AddKey ("batch") and by the
// former Node ("reference", refBatch: each key normalised twice, the
// digest attached by Node(kind, first key, digest)).
func BenchmarkNodeKeys(b *testing.B) {
	const n = 2000
	plain, canon, d1, d2 := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i := range n {
		plain[i] = fmt.Sprintf("pkg:maven/org.example/lib%d@1.%d.0", i, i)
		canon[i] = plain[i] + "?type=jar"
		d1[i] = fmt.Sprintf("sha256:%064x", i)
		d2[i] = fmt.Sprintf("sha1:%040x", i)
	}
	b.Run("batch", func(b *testing.B) {
		for b.Loop() {
			bt := &Batch{}
			bt.ReserveAll(n, 0, 2*n)
			for i := range n {
				j := bt.Node(KindPackage, plain[i], canon[i])
				bt.Node(KindPackage, canon[i])
				bt.AddKey(j, d1[i])
				bt.AddKey(j, d2[i])
			}
		}
	})
	b.Run("reference", func(b *testing.B) {
		for b.Loop() {
			rb := &refBatch{byKey: make(map[kindKey]int, 4*n), nodes: make([]NodeSpec, 0, n)}
			for i := range n {
				j := rb.node(KindPackage, plain[i], canon[i])
				rb.node(KindPackage, canon[i])
				rb.node(KindPackage, rb.nodes[j].Keys[0], d1[i])
				rb.node(KindPackage, rb.nodes[j].Keys[0], d2[i])
			}
		}
	})
}
