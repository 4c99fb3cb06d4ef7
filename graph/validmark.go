package graph

import "hash/maphash"

// validMark is what Batch.Validate accepted, in a few words: a keyed hash
// (hash/maphash, seeded per process, so no input can be crafted to collide)
// of everything Validate checks or normalises, and the sizes.
type validMark struct {
	ok           bool
	sum          uint64
	nodes, edges int
}

var markSeed = maphash.MakeSeed()

// mark fingerprints the batch. Attribute maps are hashed order-free (a sum
// of per-entry hashes), so map iteration order does not matter.
func (b *Batch) mark() validMark {
	var h maphash.Hash
	h.SetSeed(markSeed)
	str := func(s string) {
		var n [8]byte
		putU64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.WriteString(s)
	}
	num := func(v uint64) {
		var n [8]byte
		putU64(n[:], v)
		h.Write(n[:])
	}
	attrs := func(as map[string]string) {
		num(uint64(len(as)))
		var sum uint64
		for k, v := range as {
			sum += maphash.String(markSeed, k) ^ (maphash.String(markSeed, v) * 0x9e3779b97f4a7c15)
		}
		num(sum)
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
	return validMark{ok: true, sum: h.Sum64(), nodes: len(b.Nodes), edges: len(b.Edges)}
}

func putU64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}
