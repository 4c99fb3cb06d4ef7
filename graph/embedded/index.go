package embedded

import (
	"sync"

	"github.com/modelgraph/modelgraph/graph"
)

// index is the in-memory adjacency of the whole graph, rebuilt at open and
// updated after each commit. Traversals never touch disk until they load the
// records of what they reached. Nodes are numbered densely so a half-edge is
// 8 bytes; at 1M nodes / 5M edges the index is ~200 MB.
type index struct {
	mu     sync.RWMutex
	ord    map[[16]byte]uint32
	ids    [][16]byte
	kinds  []uint8
	out    [][]half
	in     [][]half
	nkinds [256]int64
	ekinds [256]int64
	edges  int64
	docs   int64
	// dead counts ordinals of nodes a merge removed: their ord entry is
	// gone and their lists are empty; ids keeps the slot so ordinals stay
	// dense. A snapshot is not saved while there are any (see Close).
	dead int64
	// Records in memory (recs.go): nrec[ord] and erec[edge id] reference
	// a node's and an edge's record in mem, or are noRec (read from the
	// file). Edge ids are dense; a removed edge's id is not reused.
	nrec []uint32
	erec []uint32
	mem  *recMem
}

type half struct {
	peer uint32
	kind uint8
	eid  uint32 // the edge's id (erec)
}

func newIndex() *index { return &index{ord: make(map[[16]byte]uint32), mem: newRecMem()} }

// addNode registers id (idempotent) and returns its ordinal.
func (x *index) addNode(id [16]byte, kind uint8) uint32 {
	if o, ok := x.ord[id]; ok {
		return o
	}
	o := uint32(len(x.ids))
	x.ord[id] = o
	x.ids = append(x.ids, id)
	x.kinds = append(x.kinds, kind)
	x.out = append(x.out, nil)
	x.in = append(x.in, nil)
	x.nrec = append(x.nrec, noRec)
	x.nkinds[kind]++
	return o
}

// addEdge adds from -kind-> to; both nodes must be known. Callers only add
// edges that were created (absent on disk), so no duplicate check is needed:
// one transaction at a time creates an edge.
func (x *index) addEdge(from, to [16]byte, kind uint8) {
	f, ok1 := x.ord[from]
	t, ok2 := x.ord[to]
	if !ok1 || !ok2 {
		return
	}
	x.addEdgeOrd(f, t, kind)
}

func (x *index) addEdgeOrd(f, t uint32, kind uint8) uint32 {
	eid := uint32(len(x.erec))
	x.erec = append(x.erec, noRec)
	x.out[f] = append(x.out[f], half{peer: t, kind: kind, eid: eid})
	x.in[t] = append(x.in[t], half{peer: f, kind: kind, eid: eid})
	x.ekinds[kind]++
	x.edges++
	return eid
}

// delta is what one committed transaction changes in the index: nodes
// and edges added, then (merges) edges and nodes removed. A removed node
// or edge is never added again (ids only shrink), so applying the adds
// before the removals is right whatever their order in the transaction.
type delta struct {
	nodes    []nodeAdd
	edges    []edgeAdd
	delEdges []edgeAdd
	delNodes [][16]byte
	docs     int64
	// recs are the records the transaction wrote (captureRecords).
	recs []recUpdate
}

type nodeAdd struct {
	id   [16]byte
	kind uint8
}

type edgeAdd struct {
	from, to [16]byte
	kind     uint8
}

func (x *index) apply(d *delta) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, n := range d.nodes {
		x.addNode(n.id, n.kind)
	}
	for _, e := range d.edges {
		x.addEdge(e.from, e.to, e.kind)
	}
	x.removeEdges(d.delEdges)
	for _, id := range d.delNodes {
		x.removeNode(id)
	}
	x.docs += d.docs
	x.applyRecords(d.recs)
}

// removeEdges drops the given edges, filtering each affected list once.
func (x *index) removeEdges(es []edgeAdd) {
	if len(es) == 0 {
		return
	}
	type hk struct {
		at   uint32
		peer uint32
		kind uint8
	}
	outDel, inDel := map[hk]bool{}, map[hk]bool{}
	for _, e := range es {
		f, ok1 := x.ord[e.from]
		t, ok2 := x.ord[e.to]
		if !ok1 || !ok2 {
			continue
		}
		outDel[hk{f, t, e.kind}] = true
		inDel[hk{t, f, e.kind}] = true
	}
	filter := func(lists [][]half, del map[hk]bool, free bool) {
		done := map[uint32]bool{}
		for k := range del {
			if done[k.at] {
				continue
			}
			done[k.at] = true
			l := lists[k.at]
			out := l[:0:0]
			for _, h := range l {
				if !del[hk{k.at, h.peer, h.kind}] {
					out = append(out, h)
				} else if free {
					x.mem.release(x.erec[h.eid])
					x.erec[h.eid] = noRec
				}
			}
			lists[k.at] = out
		}
	}
	n := int64(0)
	for k := range outDel {
		for _, h := range x.out[k.at] {
			if h.peer == k.peer && h.kind == k.kind {
				n++
				x.ekinds[k.kind]--
				break
			}
		}
	}
	filter(x.out, outDel, true)
	filter(x.in, inDel, false)
	x.edges -= n
}

// removeNode drops a node whose edges were removed.
func (x *index) removeNode(id [16]byte) {
	o, ok := x.ord[id]
	if !ok {
		return
	}
	delete(x.ord, id)
	x.nkinds[x.kinds[o]]--
	x.out[o], x.in[o] = nil, nil
	x.mem.release(x.nrec[o])
	x.nrec[o] = noRec
	x.dead++
}

// incident returns the edge keys (from, kind, to) of every edge of id.
func (x *index) incident(id [16]byte) [][33]byte {
	x.mu.RLock()
	defer x.mu.RUnlock()
	o, ok := x.ord[id]
	if !ok {
		return nil
	}
	var out [][33]byte
	var k [33]byte
	for _, h := range x.out[o] {
		copy(k[:16], id[:])
		k[16] = h.kind
		copy(k[17:], x.ids[h.peer][:])
		out = append(out, k)
	}
	for _, h := range x.in[o] {
		copy(k[:16], x.ids[h.peer][:])
		k[16] = h.kind
		copy(k[17:], id[:])
		out = append(out, k)
	}
	return out
}

// kindMask is a set of edge kinds by code (codes are < 32).
type kindMask uint32

func maskOf(kinds []graph.EdgeKind) kindMask {
	if len(kinds) == 0 {
		return ^kindMask(0)
	}
	var m kindMask
	for _, k := range kinds {
		m |= 1 << k.Code()
	}
	return m
}

// follows returns the kinds dir follows from an edge's From end (out) and
// from its To end (in), so the loop below tests bits, not strings.
func follows(dir graph.Direction, kinds kindMask) (out, in kindMask) {
	for _, k := range graph.EdgeKinds {
		bit := kindMask(1) << k.Code()
		if kinds&bit == 0 {
			continue
		}
		if dir.Follows(k, true) {
			out |= bit
		}
		if dir.Follows(k, false) {
			in |= bit
		}
	}
	return out, in
}

// adjacent returns the half-edges of id that dir follows, limited to kinds.
func (x *index) adjacent(id graph.NodeID, outMask, inMask kindMask, a *arena) []graph.HalfEdge {
	x.mu.RLock()
	defer x.mu.RUnlock()
	o, ok := x.ord[id.Bytes()]
	if !ok {
		return nil
	}
	var hs []graph.HalfEdge
	add := func(list []half, mask kindMask, forward bool) {
		for _, h := range list {
			if mask&(1<<h.kind) == 0 {
				continue
			}
			hs = append(hs, graph.HalfEdge{
				Kind:     graph.EdgeKindFromCode(h.kind),
				Peer:     graph.NodeID(a.hexID(x.ids[h.peer][:])),
				PeerKind: graph.NodeKindFromCode(x.kinds[h.peer]),
				Forward:  forward,
			})
		}
	}
	if outMask != 0 {
		add(x.out[o], outMask, true)
	}
	if inMask != 0 {
		add(x.in[o], inMask, false)
	}
	return hs
}

func (x *index) stats() graph.Stats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	s := graph.Stats{
		Nodes:     int64(len(x.ids)) - x.dead,
		Edges:     x.edges,
		Documents: x.docs,
		NodeKinds: map[graph.NodeKind]int64{},
		EdgeKinds: map[graph.EdgeKind]int64{},
	}
	for c, n := range x.nkinds {
		if n > 0 {
			s.NodeKinds[graph.NodeKindFromCode(uint8(c))] = n
		}
	}
	for c, n := range x.ekinds {
		if n > 0 {
			s.EdgeKinds[graph.EdgeKindFromCode(uint8(c))] = n
		}
	}
	return s
}
