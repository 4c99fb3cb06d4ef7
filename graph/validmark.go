package graph

import (
	"hash/maphash"
	"math/bits"
)

// validMark is what Batch.Validate accepted, in a few words: a keyed hash
// (hash/maphash, seeded per process, so no input can be crafted to collide)
// of everything Validate checks or normalises, and the sizes.
type validMark struct {
	ok           bool
	sum          uint64
	nodes, edges int
}

var markSeed = maphash.MakeSeed()

// mark fingerprints the batch. Each string is hashed on its own
// (maphash.String: no copy into a hash's buffer, no length prefix, as the
// string's bounds are the call's) and folded into an order-dependent
// chain; attribute maps are hashed order-free (a sum of per-entry
// hashes), so map iteration order does not matter.
func (b *Batch) mark() validMark {
	var sum uint64
	num := func(v uint64) {
		sum = bits.RotateLeft64(sum^v, 29) * 0x9e3779b97f4a7c15
	}
	str := func(s string) { num(maphash.String(markSeed, s)) }
	attrs := func(as map[string]string) {
		num(uint64(len(as)))
		var s uint64
		for k, v := range as {
			s += maphash.String(markSeed, k) ^ (maphash.String(markSeed, v) * 0x9e3779b97f4a7c15)
		}
		num(s)
	}
	str(b.Doc.Digest)
	str(b.Doc.Type)
	num(uint64(len(b.Doc.Signatures)))
	for _, s := range b.Doc.Signatures {
		str(string(s.Status))
	}
	for i := range b.Nodes {
		n := &b.Nodes[i]
		str(string(n.Kind))
		num(uint64(len(n.Keys)))
		for _, k := range n.Keys {
			str(k)
		}
		attrs(n.Attrs)
	}
	for i := range b.Edges {
		e := &b.Edges[i]
		str(string(e.Kind))
		num(uint64(int64(e.From)))
		num(uint64(int64(e.To)))
		attrs(e.Attrs)
	}
	return validMark{ok: true, sum: sum, nodes: len(b.Nodes), edges: len(b.Edges)}
}
