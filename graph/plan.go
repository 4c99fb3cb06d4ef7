package graph

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// The write planner: a pure function from documents and the part of the
// stored graph they touch to the writes that apply them. A backend reads
// through a PlanSource inside its write transaction, feeds each new
// document to Planner.Apply, then executes Planner.Plan atomically. The
// Planner runs the one write algorithm (ApplyNodes, ApplyEdges in
// apply.go) over an overlay of graph.Node records; graph/neo4j writes
// through it. graph/embedded runs the same algorithm over its own records
// (raw evidence lists, spilled to their own buckets), so the two cannot
// decide differently; the contract suite checks they give one graph.

// KindKey names a key within a node kind.
type KindKey struct {
	Kind NodeKind
	Key  string
}

// PlanSource reads the stored graph for a Planner. Calls come in batches.
type PlanSource interface {
	// Owners returns the stored owner of each key that has one.
	Owners(keys []KindKey) (map[KindKey]NodeID, error)
	// Nodes returns the stored records of ids (each exists).
	Nodes(ids []NodeID) (map[NodeID]Node, error)
	// Edges returns those of refs that are stored.
	Edges(refs []EdgeRef) (map[EdgeRef]Edge, error)
	// Incident returns every stored edge with an end in ids.
	Incident(ids []NodeID) ([]Edge, error)
}

// Plan is what a Planner decided: the writes that apply its documents.
// Lists are sorted (nodes by id, edges by ref, keys by kind and key).
type Plan struct {
	Docs         []Document
	NewNodes     []Node
	ChangedNodes []Node
	DeletedNodes []NodeID   // absorbed by merges; their edges are in DeletedEdges
	Keys         []KeyOwner // keys to point at a node: new, or moved by a merge
	NewEdges     []Edge
	ChangedEdges []Edge
	DeletedEdges []EdgeRef // re-pointed by merges
	Aliases      []Alias   // absorbed ids -> the node that absorbed them
}

// KeyOwner says which node owns a key; New when no node owned it before.
type KeyOwner struct {
	KindKey
	Node NodeID
	New  bool
}

// Alias maps an absorbed node id to the node that absorbed it.
type Alias struct {
	From, To NodeID
}

type planNode struct {
	n       Node
	stored  bool
	dirty   bool
	deleted bool
}

type planEdge struct {
	e       Edge
	stored  bool
	dirty   bool
	deleted bool
}

type pendingEdges struct {
	b   *Batch
	ids []NodeID
	rc  int
}

// Planner plans documents one after the other over an overlay of the
// stored graph. It is not safe for concurrent use; the backend must keep
// what the planner read unchanged until the plan is written (a writer
// lock, or locks on what it reads).
type Planner struct {
	src       PlanSource
	owner     map[KindKey]NodeID // known owners; "" = known to be free
	storedKey map[KindKey]bool
	nodes     map[NodeID]*planNode
	edges     map[EdgeRef]*planEdge
	aliases   map[NodeID]NodeID
	keyMoves  map[KindKey]NodeID
	incident  map[NodeID]bool  // stored edges of these nodes are in the overlay
	absent    map[EdgeRef]bool // edges the source was asked for and lacks
	docs      []Document
	receipts  []Receipt
	pending   []pendingEdges
	now       func() time.Time
}

// NewPlanner starts a plan over src.
func NewPlanner(src PlanSource) *Planner {
	return &Planner{
		src:       src,
		owner:     map[KindKey]NodeID{},
		storedKey: map[KindKey]bool{},
		nodes:     map[NodeID]*planNode{},
		edges:     map[EdgeRef]*planEdge{},
		aliases:   map[NodeID]NodeID{},
		keyMoves:  map[KindKey]NodeID{},
		incident:  map[NodeID]bool{},
		absent:    map[EdgeRef]bool{},
		now:       func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) },
	}
}

// Preload asks the source, in one call each, for the owners of every key
// the batches name and for the owners' records, so Apply rarely reads.
func (p *Planner) Preload(bs []*Batch) error {
	var ks []KindKey
	seen := map[KindKey]bool{}
	for _, b := range bs {
		for _, n := range b.Nodes {
			for _, k := range n.Keys {
				kk := KindKey{n.Kind, k}
				if _, known := p.owner[kk]; !known && !seen[kk] {
					seen[kk] = true
					ks = append(ks, kk)
				}
			}
		}
	}
	return p.learnOwners(ks)
}

func (p *Planner) learnOwners(ks []KindKey) error {
	if len(ks) == 0 {
		return nil
	}
	got, err := p.src.Owners(ks)
	if err != nil {
		return err
	}
	var load []NodeID
	for _, kk := range ks {
		id, ok := got[kk]
		p.owner[kk] = id
		if !ok {
			continue
		}
		p.storedKey[kk] = true
		if _, known := p.nodes[id]; !known && !slices.Contains(load, id) {
			load = append(load, id)
		}
	}
	if len(load) == 0 {
		return nil
	}
	recs, err := p.src.Nodes(load)
	if err != nil {
		return err
	}
	for _, id := range load {
		n, ok := recs[id]
		if !ok {
			return fmt.Errorf("key index points at missing node %s", id)
		}
		p.nodes[id] = &planNode{n: n, stored: true}
	}
	return nil
}

// Apply plans one document (validated, and not already stored). It returns
// the document's receipt index for Receipts.
func (p *Planner) Apply(b *Batch) (int, error) {
	doc := b.Doc
	if doc.IngestedAt.IsZero() {
		doc.IngestedAt = p.now()
	}
	p.docs = append(p.docs, doc)
	ri := len(p.receipts)
	p.receipts = append(p.receipts, Receipt{Document: doc.Digest, Status: doc.Status()})
	if err := p.Preload([]*Batch{b}); err != nil {
		return ri, err
	}
	ids, err := ApplyNodes((*planState)(p), b, &p.receipts[ri])
	if err != nil {
		return ri, err
	}
	if len(b.Edges) > 0 {
		p.pending = append(p.pending, pendingEdges{b: b, ids: ids, rc: ri})
	}
	return ri, nil
}

// planState is the Planner as the write algorithm's WriteState.
type planState Planner

// Owner implements WriteState (owners were preloaded by Apply).
func (s *planState) Owner(kind NodeKind, key string) (NodeID, error) {
	return s.owner[KindKey{kind, key}], nil
}

// KeyCount implements WriteState.
func (s *planState) KeyCount(id NodeID) (int, error) {
	n := s.nodes[id]
	if n == nil || n.deleted {
		return 0, fmt.Errorf("key index points at missing node %s", id)
	}
	return len(n.n.Keys), nil
}

// Exists implements WriteState.
func (s *planState) Exists(id NodeID) (bool, error) {
	n := s.nodes[id]
	return n != nil && !n.deleted, nil
}

// Create implements WriteState.
func (s *planState) Create(id NodeID, kind NodeKind) error {
	s.nodes[id] = &planNode{n: Node{ID: id, Kind: kind}, dirty: true}
	return nil
}

// Fold implements WriteState. The edges of documents planned so far are
// planned first: their ends are final until now.
func (s *planState) Fold(from, into NodeID) error {
	p := (*Planner)(s)
	if err := p.flushEdges(); err != nil {
		return err
	}
	return p.absorb(from, p.nodes[into])
}

// Current implements WriteState.
func (s *planState) Current(id NodeID) NodeID { return (*Planner)(s).resolve(id) }

// AttachKey implements WriteState.
func (s *planState) AttachKey(id NodeID, kind NodeKind, key string) error {
	kk := KindKey{kind, key}
	s.owner[kk] = id
	s.keyMoves[kk] = id
	n := s.nodes[id]
	n.n.Keys, _ = AddSorted(n.n.Keys, key)
	n.dirty = true
	return nil
}

// AddNodeEvidence implements WriteState.
func (s *planState) AddNodeEvidence(id NodeID, doc string, named []string, claims map[string]string) (bool, error) {
	n := s.nodes[id]
	changed := false
	var c bool
	for _, k := range named {
		n.n.KeyDocs, c = AddKeyDoc(n.n.KeyDocs, k, doc)
		changed = changed || c
	}
	n.n.Joins, c = AddJoin(n.n.Joins, named, doc)
	changed = changed || c
	n.n.Attrs, c = MergeAttrs(n.n.Attrs, doc, claims)
	changed = changed || c
	n.n.Docs, c = AddSorted(n.n.Docs, doc)
	changed = changed || c
	if changed {
		n.dirty = true
	}
	return changed, nil
}

// AddEdgeEvidence implements WriteState.
func (s *planState) AddEdgeEvidence(ref EdgeRef, doc string, claims map[string]string) (created, changed bool, err error) {
	p := (*Planner)(s)
	pe, err := p.edge(ref)
	if err != nil {
		return false, false, err
	}
	if pe == nil {
		pe = &planEdge{e: Edge{EdgeRef: ref}}
		p.edges[ref] = pe
		created = true
	}
	var c1, c2 bool
	pe.e.Attrs, c1 = MergeAttrs(pe.e.Attrs, doc, claims)
	pe.e.Docs, c2 = AddSorted(pe.e.Docs, doc)
	changed = c1 || c2
	if created || changed {
		pe.dirty = true
	}
	return created, changed, nil
}

// Wrote implements WriteState: the backend counts its writes when it
// executes the plan.
func (s *planState) Wrote() error { return nil }

// absorb folds node a into target: keys, evidence and edges move; a
// becomes an alias of target.
func (p *Planner) absorb(a NodeID, target *planNode) error {
	src := p.nodes[a]
	if src == nil || src.deleted {
		return fmt.Errorf("merge: node %s is not loaded", a)
	}
	into := target.n.ID
	target.n = MergeNode(target.n, src.n)
	target.n.ID = into
	target.dirty = true
	for _, k := range src.n.Keys {
		kk := KindKey{src.n.Kind, k}
		if _, planned := p.keyMoves[kk]; !planned && src.stored {
			// A key of the stored node (not one this plan attached): its
			// (:Key) entry exists and moves.
			p.storedKey[kk] = true
		}
		p.owner[kk] = into
		p.keyMoves[kk] = into
	}
	if src.stored {
		src.deleted = true
	} else {
		delete(p.nodes, a)
	}
	p.aliases[a] = into
	for from, to := range p.aliases {
		if to == a {
			p.aliases[from] = into
		}
	}
	// Every edge of a, stored or planned, moves to target.
	if src.stored && !p.incident[a] {
		p.incident[a] = true
		es, err := p.src.Incident([]NodeID{a})
		if err != nil {
			return err
		}
		for _, e := range es {
			if _, known := p.edges[e.EdgeRef]; !known {
				p.edges[e.EdgeRef] = &planEdge{e: e, stored: true}
			}
		}
	}
	var moving []EdgeRef
	for ref, pe := range p.edges {
		if !pe.deleted && (ref.From == a || ref.To == a) {
			moving = append(moving, ref)
		}
	}
	slices.SortFunc(moving, CmpEdgeRef)
	rename := map[NodeID]NodeID{a: into}
	for _, ref := range moving {
		pe := p.edges[ref]
		if pe.stored {
			pe.deleted = true
		} else {
			delete(p.edges, ref)
		}
		nr := Repoint(ref, rename)
		dst, err := p.edge(nr)
		if err != nil {
			return err
		}
		if dst == nil {
			dst = &planEdge{e: Edge{EdgeRef: nr}}
			p.edges[nr] = dst
		}
		moved := pe.e
		moved.EdgeRef = nr
		dst.e = MergeEdge(dst.e, moved)
		dst.e.EdgeRef = nr
		dst.dirty = true
	}
	return nil
}

// unstored reports whether id is known not to be in the store: created or
// deleted by this plan. A node the plan never loaded may be stored.
func (p *Planner) unstored(id NodeID) bool {
	n := p.nodes[id]
	return n != nil && (!n.stored || n.deleted)
}

// mayBeStored reports whether ref may be a stored edge the overlay lacks.
func (p *Planner) mayBeStored(ref EdgeRef) bool {
	return !p.unstored(ref.From) && !p.unstored(ref.To) && !p.incident[ref.From] && !p.incident[ref.To]
}

// edge returns the overlay's edge ref, reading it from the source when it
// may be stored; nil when there is none.
func (p *Planner) edge(ref EdgeRef) (*planEdge, error) {
	if pe, ok := p.edges[ref]; ok {
		if pe.deleted {
			return nil, fmt.Errorf("edge %s-%s->%s was deleted by this plan", ref.From, ref.Kind, ref.To)
		}
		return pe, nil
	}
	if !p.mayBeStored(ref) || p.absent[ref] {
		return nil, nil
	}
	got, err := p.src.Edges([]EdgeRef{ref})
	if err != nil {
		return nil, err
	}
	if e, ok := got[ref]; ok {
		pe := &planEdge{e: e, stored: true}
		p.edges[ref] = pe
		return pe, nil
	}
	p.absent[ref] = true
	return nil, nil
}

func (p *Planner) resolve(id NodeID) NodeID {
	for range 64 {
		to, ok := p.aliases[id]
		if !ok {
			return id
		}
		id = to
	}
	return id
}

// flushEdges plans the edges of documents applied so far: their ends are
// final until the next merge, which calls this first.
func (p *Planner) flushEdges() error {
	if len(p.pending) == 0 {
		return nil
	}
	pending := p.pending
	p.pending = nil
	var load []EdgeRef
	seen := map[EdgeRef]bool{}
	for _, pd := range pending {
		for _, e := range pd.b.Edges {
			ref := EdgeRef{From: p.resolve(pd.ids[e.From]), Kind: e.Kind, To: p.resolve(pd.ids[e.To])}
			if _, ok := p.edges[ref]; ok || seen[ref] {
				continue
			}
			if !p.mayBeStored(ref) || p.absent[ref] {
				continue
			}
			seen[ref] = true
			load = append(load, ref)
		}
	}
	if len(load) > 0 {
		got, err := p.src.Edges(load)
		if err != nil {
			return err
		}
		for _, ref := range load {
			if e, ok := got[ref]; ok {
				p.edges[ref] = &planEdge{e: e, stored: true}
			} else {
				p.absent[ref] = true
			}
		}
	}
	for _, pd := range pending {
		if err := ApplyEdges((*planState)(p), pd.b, pd.ids, &p.receipts[pd.rc]); err != nil {
			return err
		}
	}
	return nil
}

// Receipts returns the receipts of the documents applied, in order. Call
// it after Plan.
func (p *Planner) Receipts() []Receipt { return p.receipts }

// Plan finishes planning and returns the writes.
func (p *Planner) Plan() (Plan, error) {
	if err := p.flushEdges(); err != nil {
		return Plan{}, err
	}
	var pl Plan
	pl.Docs = p.docs
	for _, id := range slices.Sorted(maps.Keys(p.nodes)) {
		n := p.nodes[id]
		switch {
		case n.deleted:
			pl.DeletedNodes = append(pl.DeletedNodes, id)
		case !n.dirty:
		case n.stored:
			pl.ChangedNodes = append(pl.ChangedNodes, n.n)
		default:
			pl.NewNodes = append(pl.NewNodes, n.n)
		}
	}
	for _, kk := range slices.SortedFunc(maps.Keys(p.keyMoves), cmpKindKey) {
		pl.Keys = append(pl.Keys, KeyOwner{KindKey: kk, Node: p.resolve(p.keyMoves[kk]), New: !p.storedKey[kk]})
	}
	for _, ref := range slices.SortedFunc(maps.Keys(p.edges), CmpEdgeRef) {
		e := p.edges[ref]
		switch {
		case e.deleted:
			pl.DeletedEdges = append(pl.DeletedEdges, ref)
		case !e.dirty:
		case e.stored:
			pl.ChangedEdges = append(pl.ChangedEdges, e.e)
		default:
			pl.NewEdges = append(pl.NewEdges, e.e)
		}
	}
	for _, from := range slices.Sorted(maps.Keys(p.aliases)) {
		pl.Aliases = append(pl.Aliases, Alias{From: from, To: p.resolve(from)})
	}
	return pl, nil
}

func cmpKindKey(a, b KindKey) int {
	if c := cmp.Compare(a.Kind.Code(), b.Kind.Code()); c != 0 {
		return c
	}
	return cmp.Compare(a.Key, b.Key)
}

// CmpEdgeRef orders edge refs by from id, kind code, to id.
func CmpEdgeRef(a, b EdgeRef) int {
	if c := cmp.Compare(a.From, b.From); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Kind.Code(), b.Kind.Code()); c != 0 {
		return c
	}
	return cmp.Compare(a.To, b.To)
}
