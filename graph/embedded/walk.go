package embedded

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"

	bbolt "go.etcd.io/bbolt"

	"github.com/modelgraph/modelgraph/graph"
)

// Traverse implements graph.Traverser: graph.Walk's breadth-first walk run
// over the index's ordinals instead of through Adjacent. graph.Walk asks
// for each level's adjacency as half-edges named by hex id strings, sorts
// them by string and keeps a map of visited ids: at 100k nodes that was a
// fifth of an impact query's CPU, and most of its allocations. Here the
// walk marks ordinals in a pooled array, sorts 8-byte half-edges by the
// same canonical order (edge kind code, peer id, forward first: a peer's
// hex id orders as its bytes), and formats ids only for the nodes reached.
// The records of what was reached are then read in one transaction. The
// result is graph.Walk's, step for step (TestTraverseEqualsWalk).
func (s *store) Traverse(ctx context.Context, req graph.TraverseRequest) (graph.TraverseResult, error) {
	ws := scratchPool.Get().(*walkScratch)
	defer scratchPool.Put(ws)
	x := s.idx
	x.mu.RLock()
	locked := true
	defer func() {
		if locked {
			x.mu.RUnlock()
		}
	}()
	res, ok, err := x.walk(ctx, req, ws)
	if err != nil {
		return graph.TraverseResult{}, err
	}
	if !ok {
		x.mu.RUnlock()
		locked = false
		// A start the index does not hold (unknown, or an id a merge
		// absorbed): graph.Walk reports it as it always has.
		return graph.Walk(ctx, s, req)
	}
	vs := ws.visits
	ids := make([]graph.NodeID, len(vs))
	buf := make([]byte, 32*len(vs))
	for i := range vs {
		dst := buf[32*i : 32*i+32 : 32*i+32]
		hex.Encode(dst, vs[i].id[:])
		ids[i] = graph.NodeID(dst)
	}
	nrefs := 0
	for i := range vs {
		if vs[i].parent >= 0 {
			nrefs++
		}
	}
	refs := make([]graph.EdgeRef, 0, nrefs)
	for i := range vs {
		v := &vs[i]
		if v.parent < 0 {
			continue
		}
		ref := graph.EdgeRef{Kind: graph.EdgeKindFromCode(v.kind)}
		if v.forward { // parent -kind-> v
			ref.From, ref.To = ids[v.parent], ids[i]
		} else {
			ref.From, ref.To = ids[i], ids[v.parent]
		}
		refs = append(refs, ref)
	}
	// keyOf is the stored key of the edge visit i was reached through.
	keyOf := func(i int) [33]byte {
		v := &vs[i]
		p := &vs[v.parent]
		var k [33]byte
		if v.forward {
			copy(k[:16], p.id[:])
			copy(k[17:], v.id[:])
		} else {
			copy(k[:16], v.id[:])
			copy(k[17:], p.id[:])
		}
		k[16] = v.kind
		return k
	}
	// Records held in memory are decoded under the index lock (the
	// adjacency and the records are of the same commit); the others are
	// read from the file after it. First every record is found (its
	// loads do not depend on each other, so their cache misses overlap),
	// then the arena is sized for all of them.
	raws := append(ws.raws[:0], make([][]byte, 2*len(vs))...)
	ws.raws = raws
	size := 0
	for i := range vs {
		v := &vs[i]
		if ref := x.nrec[v.ord]; ref != noRec {
			raws[2*i] = x.mem.get(ref)
			size += len(raws[2*i])
		}
		if v.parent >= 0 {
			if ref := x.erec[v.eid]; ref != noRec {
				raws[2*i+1] = x.mem.get(ref)
				size += len(raws[2*i+1])
			}
		}
	}
	nodes := make([]graph.Node, len(vs))
	edges := make([]graph.Edge, len(refs))
	var missN, missE []int // visits
	a := &arena{}
	a.reserve(memDecodedSize(size))
	ei := 0
	for i := range vs {
		v := &vs[i]
		if raw := raws[2*i]; raw != nil {
			if nodes[i], err = x.mem.decodeNode(raw, ids[i], a); err != nil {
				return graph.TraverseResult{}, fmt.Errorf("node %x in memory is corrupt: %w", v.id, err)
			}
		} else {
			missN = append(missN, i)
		}
		if v.parent < 0 {
			continue
		}
		if raw := raws[2*i+1]; raw != nil {
			if edges[ei], err = x.mem.decodeEdge(raw, refs[ei], a); err != nil {
				return graph.TraverseResult{}, fmt.Errorf("edge %x in memory is corrupt: %w", keyOf(i), err)
			}
		} else {
			missE = append(missE, i)
		}
		ei++
	}
	clear(raws)
	x.mu.RUnlock()
	locked = false
	if len(missN)+len(missE) > 0 {
		// ei of a visit: its position among the visits with a parent.
		eidx := make(map[int]int, len(missE))
		for i, k := 0, 0; i < len(vs); i++ {
			if vs[i].parent >= 0 {
				eidx[i] = k
				k++
			}
		}
		err = s.view(func(tx *bbolt.Tx) error {
			ns, err := loadNodesTx(tx, make([]graph.NodeID, len(missN)), func(j int) [16]byte { return vs[missN[j]].id })
			if err != nil {
				return err
			}
			for j, i := range missN {
				ns[j].ID = ids[i]
				nodes[i] = ns[j]
			}
			es, err := loadEdgesTx(tx, make([]graph.EdgeRef, len(missE)), func(j int) [33]byte { return keyOf(missE[j]) })
			if err != nil {
				return err
			}
			for j, i := range missE {
				k := eidx[i]
				es[j].EdgeRef = refs[k]
				edges[k] = es[j]
			}
			return nil
		})
		if err != nil {
			return graph.TraverseResult{}, err
		}
	}
	res.Steps = make([]graph.Step, len(vs))
	ei = 0
	for i := range vs {
		v := &vs[i]
		res.Steps[i] = graph.Step{Node: nodes[i], Depth: int(v.depth)}
		if v.parent >= 0 {
			res.Steps[i].Parent = ids[v.parent]
			res.Steps[i].Via = &edges[ei]
			ei++
		}
	}
	return res, nil
}

// walkScratch is one walk's working memory, reused through scratchPool so
// a walk allocates only its result.
type walkScratch struct {
	mark     []uint32 // mark[ord] == gen: visited in this walk
	gen      uint32
	hs       []wHalf
	visits   []wVisit
	frontier []int32 // indexes into visits
	next     []int32
	raws     [][]byte // records found in memory: node, edge per visit
}

var scratchPool = sync.Pool{New: func() any { return new(walkScratch) }}

type wHalf struct {
	peer    uint32
	eid     uint32
	kind    uint8
	forward bool
}

type wVisit struct {
	ord     uint32
	id      [16]byte
	depth   int32
	parent  int32 // index of the parent visit; -1 for a start
	eid     uint32
	kind    uint8 // the edge it was reached through
	forward bool  // that edge runs from the parent to it
}

// walk runs graph.Walk's traversal over the index into ws.visits; ok is
// false when a start is not in the index (the caller falls back to
// graph.Walk). req has been checked (graph.CheckTraverse). x.mu is held
// for reading.
func (x *index) walk(ctx context.Context, req graph.TraverseRequest, ws *walkScratch) (res graph.TraverseResult, ok bool, err error) {
	var allowed [256]bool
	filter := len(req.NodeKinds) > 0
	for _, k := range req.NodeKinds {
		allowed[k.Code()] = true
	}
	om, im := follows(req.Direction, maskOf(req.EdgeKinds))

	if n := len(x.ids); len(ws.mark) < n {
		ws.mark = make([]uint32, n+n/8)
		ws.gen = 0
	}
	ws.gen++
	if ws.gen == 0 { // wrapped: every old mark could collide
		clear(ws.mark)
		ws.gen = 1
	}
	gen, mark := ws.gen, ws.mark
	ws.visits = ws.visits[:0]
	ws.frontier = ws.frontier[:0]
	for _, id := range req.From {
		b := id.Bytes()
		o, found := x.ord[b]
		if !found {
			return res, false, nil
		}
		if mark[o] == gen { // a repeated start
			continue
		}
		mark[o] = gen
		ws.frontier = append(ws.frontier, int32(len(ws.visits)))
		ws.visits = append(ws.visits, wVisit{ord: o, id: b, parent: -1})
	}
	reached := 0
	for depth := 1; len(ws.frontier) > 0 && !res.Truncated; depth++ {
		if err := ctx.Err(); err != nil {
			return res, false, err
		}
		ws.next = ws.next[:0]
	expand:
		for _, vi := range ws.frontier {
			o := ws.visits[vi].ord
			hs := ws.hs[:0]
			if om != 0 {
				for _, h := range x.out[o] {
					if om&(1<<h.kind) != 0 {
						hs = append(hs, wHalf{peer: h.peer, kind: h.kind, eid: h.eid, forward: true})
					}
				}
			}
			if im != 0 {
				for _, h := range x.in[o] {
					if im&(1<<h.kind) != 0 {
						hs = append(hs, wHalf{peer: h.peer, kind: h.kind, eid: h.eid})
					}
				}
			}
			ws.hs = hs
			// graph.SortHalfEdges' order: kind code, peer id, forward first.
			slices.SortFunc(hs, func(a, b wHalf) int {
				if c := cmp.Compare(a.kind, b.kind); c != 0 {
					return c
				}
				if a.peer != b.peer {
					return bytes.Compare(x.ids[a.peer][:], x.ids[b.peer][:])
				}
				switch {
				case a.forward == b.forward:
					return 0
				case a.forward:
					return -1
				}
				return 1
			})
			for _, h := range hs {
				if mark[h.peer] == gen {
					continue
				}
				if filter && !allowed[x.kinds[h.peer]] {
					continue
				}
				if depth > req.MaxDepth {
					res.DepthLimited = true
					break expand
				}
				if reached == req.Limit {
					res.Truncated = true
					break expand
				}
				mark[h.peer] = gen
				ws.next = append(ws.next, int32(len(ws.visits)))
				ws.visits = append(ws.visits, wVisit{ord: h.peer, id: x.ids[h.peer], depth: int32(depth), parent: vi, eid: h.eid, kind: h.kind, forward: h.forward})
				reached++
			}
		}
		if res.DepthLimited {
			break
		}
		ws.frontier, ws.next = ws.next, ws.frontier
	}
	return res, true, nil
}

// loadNodesTx reads the nodes ids (key(i) is ids[i]'s bytes) in tx.
func loadNodesTx(tx *bbolt.Tx, ids []graph.NodeID, key func(i int) [16]byte) ([]graph.Node, error) {
	out := make([]graph.Node, len(ids))
	// Find every record first, then decode them into one arena sized for
	// all of them: a walk's strings in one or two allocations, not a chunk
	// per doubling (the arena's growth wasted half its bytes).
	g := newGetter(tx, bNodes)
	raws := make([][]byte, len(ids))
	size := 0
	for i := range ids {
		b := key(i)
		if raws[i] = g.get(b[:]); raws[i] == nil {
			return nil, fmt.Errorf("node %x: %w", b, graph.ErrNotFound)
		}
		size += len(raws[i])
	}
	a := &arena{}
	a.reserve(decodedSize(size))
	var kb [16]byte
	sr := &spillReader{tx: tx, name: bNodeEv, owner: kb[:]}
	rec := &nodeRec{}
	for i, id := range ids {
		kb = key(i)
		n, err := decodeLoaded(raws[i], kb, id, a, sr, rec)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// loadEdgesTx reads the edges refs (key(i) is refs[i]'s stored key) in tx.
func loadEdgesTx(tx *bbolt.Tx, refs []graph.EdgeRef, key func(i int) [33]byte) ([]graph.Edge, error) {
	out := make([]graph.Edge, len(refs))
	g := newGetter(tx, bEdges)
	a := &arena{}
	var k [33]byte
	sr := &spillReader{tx: tx, name: bEdgeEv, owner: k[:]}
	var rec edgeRec
	for i, r := range refs {
		k = key(i)
		v := g.get(k[:])
		if v == nil {
			return nil, fmt.Errorf("edge %s-%s->%s: %w", r.From, r.Kind, r.To, graph.ErrNotFound)
		}
		rec = edgeRec{}
		if err := decodeEdgeIn(v, &rec, a, sr); err != nil {
			return nil, fmt.Errorf("edge %s-%s->%s is corrupt: %w", r.From, r.Kind, r.To, err)
		}
		out[i] = graph.Edge{EdgeRef: r, Attrs: nonNil(rec.Attrs), Docs: rec.Docs}
	}
	return out, nil
}
