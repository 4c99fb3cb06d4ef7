// Package mem is an in-memory graph.Driver: the reference driver. It
// holds the graph in maps, writes through graph.DB's planner (its
// transaction is a graph.PlanTx, as graph/neo4j's is), and is what a new
// backend can be compared with: it runs the driver harness
// (graph/graphtest) and the differential test (internal/query/querytest)
// in a plain go test, with no server. It keeps nothing on disk and copies
// the graph at every write, so it is for tests and small graphs only.
package mem

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/modelgraph/modelgraph/graph"
)

// state is one version of the graph. Writers build the next version on a
// copy and publish it at commit, so readers never see half a write.
type state struct {
	nodes   map[graph.NodeID]graph.Node
	keys    map[graph.KindKey]graph.NodeID
	edges   map[graph.EdgeRef]graph.Edge
	adj     map[graph.NodeID]map[graph.EdgeRef]bool // incident edges of each node
	aliases map[graph.NodeID]graph.NodeID
	docs    map[string]graph.Document
}

func newState() *state {
	return &state{
		nodes:   map[graph.NodeID]graph.Node{},
		keys:    map[graph.KindKey]graph.NodeID{},
		edges:   map[graph.EdgeRef]graph.Edge{},
		adj:     map[graph.NodeID]map[graph.EdgeRef]bool{},
		aliases: map[graph.NodeID]graph.NodeID{},
		docs:    map[string]graph.Document{},
	}
}

func (s *state) clone() *state {
	c := &state{
		nodes:   maps.Clone(s.nodes),
		keys:    maps.Clone(s.keys),
		edges:   maps.Clone(s.edges),
		adj:     make(map[graph.NodeID]map[graph.EdgeRef]bool, len(s.adj)),
		aliases: maps.Clone(s.aliases),
		docs:    maps.Clone(s.docs),
	}
	for id, es := range s.adj {
		c.adj[id] = maps.Clone(es)
	}
	return c
}

// store is the storage several drivers may share (Reopen).
type store struct {
	mu  sync.RWMutex // guards cur
	cur *state
	wmu sync.Mutex // the writer lock
}

// Driver is the in-memory graph.Driver.
type Driver struct {
	st *store
}

var (
	_ graph.Driver  = (*Driver)(nil)
	_ graph.Checker = (*Driver)(nil)
	_ graph.PlanTx  = (*tx)(nil)
)

// New returns a driver over an empty graph.
func New() *Driver { return &Driver{st: &store{cur: newState()}} }

// Open returns graph.DB over a new, empty in-memory graph.
func Open() *graph.DB { return graph.Open(New(), graph.Options{}) }

// Reopen returns another driver over the same graph (a restart, for the
// harness: what was committed is there).
func (d *Driver) Reopen() *Driver { return &Driver{st: d.st} }

// Close implements graph.Driver; the graph stays for Reopen.
func (d *Driver) Close() error { return nil }

func (d *Driver) read() *state {
	d.st.mu.RLock()
	defer d.st.mu.RUnlock()
	return d.st.cur
}

// ---- reads: copies, so no caller can change the stored graph ----

func cloneStrings(ss []string) []string {
	if ss == nil {
		return nil
	}
	return slices.Clone(ss)
}

func cloneAttrs(as []graph.Attr) []graph.Attr {
	out := make([]graph.Attr, len(as))
	for i, a := range as {
		out[i] = graph.Attr{Name: a.Name, Value: a.Value, Docs: cloneStrings(a.Docs)}
	}
	return out
}

// cloneNode copies n in the form every driver returns: Attrs never nil,
// KeyDocs and Joins nil when empty.
func cloneNode(n graph.Node) graph.Node {
	c := graph.Node{ID: n.ID, Kind: n.Kind, Keys: cloneStrings(n.Keys), Attrs: cloneAttrs(n.Attrs), Docs: cloneStrings(n.Docs)}
	for _, kd := range n.KeyDocs {
		c.KeyDocs = append(c.KeyDocs, graph.KeyClaim{Key: kd.Key, Docs: cloneStrings(kd.Docs)})
	}
	for _, j := range n.Joins {
		c.Joins = append(c.Joins, graph.KeyJoin{Keys: cloneStrings(j.Keys), Docs: cloneStrings(j.Docs)})
	}
	return c
}

func cloneEdge(e graph.Edge) graph.Edge {
	return graph.Edge{EdgeRef: e.EdgeRef, Attrs: cloneAttrs(e.Attrs), Docs: cloneStrings(e.Docs)}
}

// Node implements graph.DriverReader.
func (d *Driver) Node(ctx context.Context, id graph.NodeID) (graph.Node, error) {
	s := d.read()
	cur := id
	for range 64 {
		if n, ok := s.nodes[cur]; ok {
			return cloneNode(n), nil
		}
		next, ok := s.aliases[cur]
		if !ok {
			break
		}
		cur = next
	}
	return graph.Node{}, fmt.Errorf("node %s: %w", id, graph.ErrNotFound)
}

// Lookup implements graph.DriverReader.
func (d *Driver) Lookup(ctx context.Context, key string) ([]graph.Node, error) {
	s := d.read()
	var out []graph.Node
	for _, kind := range graph.NodeKinds {
		if id, ok := s.keys[graph.KindKey{Kind: kind, Key: key}]; ok {
			out = append(out, cloneNode(s.nodes[id]))
		}
	}
	return out, nil
}

// Nodes implements graph.DriverReader.
func (d *Driver) Nodes(ctx context.Context, q graph.NodeQuery) ([]graph.Node, error) {
	s := d.read()
	var ids []graph.NodeID
	for id, n := range s.nodes {
		if n.Kind == q.Kind && id > q.After {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = ids[:min(len(ids), q.Limit)]
	out := make([]graph.Node, len(ids))
	for i, id := range ids {
		out[i] = cloneNode(s.nodes[id])
	}
	return out, nil
}

// Adjacent implements graph.Walker.
func (d *Driver) Adjacent(ctx context.Context, ids []graph.NodeID, dir graph.Direction, kinds []graph.EdgeKind) ([][]graph.HalfEdge, error) {
	s := d.read()
	out := make([][]graph.HalfEdge, len(ids))
	for i, id := range ids {
		for ref := range s.adj[id] {
			if len(kinds) > 0 && !slices.Contains(kinds, ref.Kind) {
				continue
			}
			// A loop is seen from both of its ends.
			if ref.From == id && dir.Follows(ref.Kind, true) {
				out[i] = append(out[i], graph.HalfEdge{Kind: ref.Kind, Peer: ref.To, PeerKind: s.nodes[ref.To].Kind, Forward: true})
			}
			if ref.To == id && dir.Follows(ref.Kind, false) {
				out[i] = append(out[i], graph.HalfEdge{Kind: ref.Kind, Peer: ref.From, PeerKind: s.nodes[ref.From].Kind, Forward: false})
			}
		}
	}
	return out, nil
}

// LoadNodes implements graph.Walker.
func (d *Driver) LoadNodes(ctx context.Context, ids []graph.NodeID) ([]graph.Node, error) {
	s := d.read()
	out := make([]graph.Node, len(ids))
	for i, id := range ids {
		n, ok := s.nodes[id]
		if !ok {
			return nil, fmt.Errorf("node %s: %w", id, graph.ErrNotFound)
		}
		out[i] = cloneNode(n)
	}
	return out, nil
}

// LoadEdges implements graph.Walker.
func (d *Driver) LoadEdges(ctx context.Context, refs []graph.EdgeRef) ([]graph.Edge, error) {
	s := d.read()
	out := make([]graph.Edge, len(refs))
	for i, r := range refs {
		e, ok := s.edges[r]
		if !ok {
			return nil, fmt.Errorf("edge %s-%s->%s: %w", r.From, r.Kind, r.To, graph.ErrNotFound)
		}
		out[i] = cloneEdge(e)
	}
	return out, nil
}

// Documents implements graph.DriverReader.
func (d *Driver) Documents(ctx context.Context, digests ...string) ([]graph.Document, error) {
	s := d.read()
	var out []graph.Document
	for _, dg := range digests {
		if doc, ok := s.docs[dg]; ok {
			doc.Signatures = slices.Clone(doc.Signatures)
			out = append(out, doc)
		}
	}
	return out, nil
}

// Stats implements graph.DriverReader.
func (d *Driver) Stats(ctx context.Context) (graph.Stats, error) {
	s := d.read()
	st := graph.Stats{Nodes: int64(len(s.nodes)), Edges: int64(len(s.edges)), Documents: int64(len(s.docs)),
		NodeKinds: map[graph.NodeKind]int64{}, EdgeKinds: map[graph.EdgeKind]int64{}}
	for _, n := range s.nodes {
		st.NodeKinds[n.Kind]++
	}
	for r := range s.edges {
		st.EdgeKinds[r.Kind]++
	}
	return st, nil
}

// ---- writes ----

// Update implements graph.DriverWriter: fn plans over a copy of the
// graph, which becomes the graph when fn succeeds.
func (d *Driver) Update(ctx context.Context, fn func(graph.Tx) error) error {
	d.st.wmu.Lock()
	defer d.st.wmu.Unlock()
	t := &tx{s: d.read().clone()}
	if err := fn(t); err != nil {
		return err
	}
	d.st.mu.Lock()
	d.st.cur = t.s
	d.st.mu.Unlock()
	return nil
}

// tx is a write transaction over the next version of the graph.
type tx struct{ s *state }

// Stored implements graph.Tx.
func (t *tx) Stored(digests []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, d := range digests {
		if _, ok := t.s.docs[d]; ok {
			out[d] = true
		}
	}
	return out, nil
}

// Owners implements graph.PlanSource.
func (t *tx) Owners(keys []graph.KindKey) (map[graph.KindKey]graph.NodeID, error) {
	out := map[graph.KindKey]graph.NodeID{}
	for _, k := range keys {
		if id, ok := t.s.keys[k]; ok {
			out[k] = id
		}
	}
	return out, nil
}

// Nodes implements graph.PlanSource.
func (t *tx) Nodes(ids []graph.NodeID) (map[graph.NodeID]graph.Node, error) {
	out := make(map[graph.NodeID]graph.Node, len(ids))
	for _, id := range ids {
		if n, ok := t.s.nodes[id]; ok {
			out[id] = cloneNode(n)
		}
	}
	return out, nil
}

// Edges implements graph.PlanSource.
func (t *tx) Edges(refs []graph.EdgeRef) (map[graph.EdgeRef]graph.Edge, error) {
	out := map[graph.EdgeRef]graph.Edge{}
	for _, r := range refs {
		if e, ok := t.s.edges[r]; ok {
			out[r] = cloneEdge(e)
		}
	}
	return out, nil
}

// Incident implements graph.PlanSource.
func (t *tx) Incident(ids []graph.NodeID) ([]graph.Edge, error) {
	seen := map[graph.EdgeRef]bool{}
	var out []graph.Edge
	for _, id := range ids {
		for r := range t.s.adj[id] {
			if !seen[r] {
				seen[r] = true
				out = append(out, cloneEdge(t.s.edges[r]))
			}
		}
	}
	slices.SortFunc(out, func(a, b graph.Edge) int { return graph.CmpEdgeRef(a.EdgeRef, b.EdgeRef) })
	return out, nil
}

func (t *tx) link(r graph.EdgeRef) {
	for _, id := range []graph.NodeID{r.From, r.To} {
		if t.s.adj[id] == nil {
			t.s.adj[id] = map[graph.EdgeRef]bool{}
		}
		t.s.adj[id][r] = true
	}
}

func (t *tx) unlink(r graph.EdgeRef) {
	for _, id := range []graph.NodeID{r.From, r.To} {
		delete(t.s.adj[id], r)
		if len(t.s.adj[id]) == 0 {
			delete(t.s.adj, id)
		}
	}
}

// Put implements graph.PlanTx, checking each change against the graph as
// a server's constraints would, and calling graph.Fault after the nodes
// and after the edges.
func (t *tx) Put(ctx context.Context, p graph.Plan) error {
	s := t.s
	for _, doc := range p.Docs {
		if _, ok := s.docs[doc.Digest]; ok {
			return fmt.Errorf("mem: document %s is already stored", doc.Digest)
		}
		s.docs[doc.Digest] = doc
	}
	written := 0
	for _, n := range p.NewNodes {
		if _, ok := s.nodes[n.ID]; ok {
			return fmt.Errorf("mem: new node %s exists", n.ID)
		}
		s.nodes[n.ID] = cloneNode(n)
	}
	for _, n := range p.ChangedNodes {
		if _, ok := s.nodes[n.ID]; !ok {
			return fmt.Errorf("mem: changed node %s does not exist", n.ID)
		}
		s.nodes[n.ID] = cloneNode(n)
	}
	written += len(p.NewNodes) + len(p.ChangedNodes)
	if err := graph.Fault(ctx, written); err != nil {
		return err
	}
	for _, k := range p.Keys {
		if _, owned := s.keys[k.KindKey]; owned == k.New {
			return fmt.Errorf("mem: key %s/%s: new %v but owned %v", k.Kind, k.Key, k.New, owned)
		}
		s.keys[k.KindKey] = k.Node
	}
	for _, r := range p.DeletedEdges {
		if _, ok := s.edges[r]; !ok {
			return fmt.Errorf("mem: deleted edge %s-%s->%s does not exist", r.From, r.Kind, r.To)
		}
		delete(s.edges, r)
		t.unlink(r)
	}
	for _, e := range p.NewEdges {
		if _, ok := s.edges[e.EdgeRef]; ok {
			return fmt.Errorf("mem: new edge %s-%s->%s exists", e.From, e.Kind, e.To)
		}
		s.edges[e.EdgeRef] = cloneEdge(e)
		t.link(e.EdgeRef)
	}
	for _, e := range p.ChangedEdges {
		if _, ok := s.edges[e.EdgeRef]; !ok {
			return fmt.Errorf("mem: changed edge %s-%s->%s does not exist", e.From, e.Kind, e.To)
		}
		s.edges[e.EdgeRef] = cloneEdge(e)
	}
	written += len(p.NewEdges) + len(p.ChangedEdges)
	if err := graph.Fault(ctx, written); err != nil {
		return err
	}
	for _, id := range p.DeletedNodes {
		if len(s.adj[id]) > 0 {
			return fmt.Errorf("mem: deleted node %s still has %d edges the plan did not move", id, len(s.adj[id]))
		}
		delete(s.nodes, id)
	}
	for _, a := range p.Aliases {
		s.aliases[a.From] = a.To
	}
	return nil
}

// Check implements graph.Checker.
func (d *Driver) Check(ctx context.Context) error {
	s := d.read()
	var errs []error
	for kk, id := range s.keys {
		n, ok := s.nodes[id]
		if !ok || n.Kind != kk.Kind || !slices.Contains(n.Keys, kk.Key) {
			errs = append(errs, fmt.Errorf("key %s/%s points at %s, which does not hold it", kk.Kind, kk.Key, id))
		}
	}
	for id, n := range s.nodes {
		if want := graph.NodeIDFor(n.Kind, n.Keys); want != id {
			errs = append(errs, fmt.Errorf("node %s has id %s by its keys", id, want))
		}
		for _, k := range n.Keys {
			if s.keys[graph.KindKey{Kind: n.Kind, Key: k}] != id {
				errs = append(errs, fmt.Errorf("node %s key %s is not indexed to it", id, k))
			}
		}
		if len(n.Docs) == 0 {
			errs = append(errs, fmt.Errorf("node %s has no evidence", id))
		}
	}
	for r, e := range s.edges {
		if _, ok := s.nodes[r.From]; !ok {
			errs = append(errs, fmt.Errorf("edge %s-%s->%s: no from node", r.From, r.Kind, r.To))
		}
		if _, ok := s.nodes[r.To]; !ok {
			errs = append(errs, fmt.Errorf("edge %s-%s->%s: no to node", r.From, r.Kind, r.To))
		}
		if len(e.Docs) == 0 {
			errs = append(errs, fmt.Errorf("edge %s-%s->%s has no evidence", r.From, r.Kind, r.To))
		}
		if !s.adj[r.From][r] || !s.adj[r.To][r] {
			errs = append(errs, fmt.Errorf("edge %s-%s->%s is missing from the adjacency", r.From, r.Kind, r.To))
		}
	}
	for from := range s.aliases {
		if _, live := s.nodes[from]; live {
			errs = append(errs, fmt.Errorf("alias %s names a live node", from))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return cmp.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}
