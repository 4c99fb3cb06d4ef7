package bolt

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
}

type half struct {
	peer uint32
	kind uint8
}

func newIndex() *index { return &index{ord: make(map[[16]byte]uint32)} }

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
	x.out[f] = append(x.out[f], half{peer: t, kind: kind})
	x.in[t] = append(x.in[t], half{peer: f, kind: kind})
	x.ekinds[kind]++
	x.edges++
}

// delta is what one committed transaction adds to the index.
type delta struct {
	nodes []nodeAdd
	edges []edgeAdd
	docs  int64
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
	x.docs += d.docs
}

// adjacent returns the half-edges of id that dir follows, limited to kinds.
func (x *index) adjacent(id graph.NodeID, dir graph.Direction, kinds map[graph.EdgeKind]bool) []graph.HalfEdge {
	x.mu.RLock()
	defer x.mu.RUnlock()
	o, ok := x.ord[id.Bytes()]
	if !ok {
		return nil
	}
	var hs []graph.HalfEdge
	add := func(list []half, forward bool) {
		for _, h := range list {
			k := graph.EdgeKindFromCode(h.kind)
			if kinds != nil && !kinds[k] {
				continue
			}
			if !dir.Follows(k, forward) {
				continue
			}
			hs = append(hs, graph.HalfEdge{
				Kind:     k,
				Peer:     graph.NodeIDFromBytes(x.ids[h.peer][:]),
				PeerKind: graph.NodeKindFromCode(x.kinds[h.peer]),
				Forward:  forward,
			})
		}
	}
	add(x.out[o], true)
	add(x.in[o], false)
	return hs
}

func (x *index) stats() graph.Stats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	s := graph.Stats{
		Nodes:     int64(len(x.ids)),
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
