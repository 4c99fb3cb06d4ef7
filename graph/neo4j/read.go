package neo4j

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/modelgraph/modelgraph/graph"
)

// decodeNode reads the seven nodeColumns.
func decodeNode(vs []any) (graph.Node, error) {
	n := graph.Node{ID: graph.NodeID(str(vs[0])), Kind: graph.NodeKind(str(vs[1])), Keys: strs(vs[2]), Docs: strs(vs[4])}
	as, err := decodeAttrs(vs[3])
	if err != nil {
		return graph.Node{}, fmt.Errorf("node %s: %w", n.ID, err)
	}
	n.Attrs = nonNil(as)
	if n.KeyDocs, err = decodeKeyDocs(vs[5]); err != nil {
		return graph.Node{}, fmt.Errorf("node %s: %w", n.ID, err)
	}
	if n.Joins, err = decodeJoins(vs[6]); err != nil {
		return graph.Node{}, fmt.Errorf("node %s: %w", n.ID, err)
	}
	return n, nil
}

func nonNil(as []graph.Attr) []graph.Attr {
	if as == nil {
		return []graph.Attr{}
	}
	return as
}

// Node implements graph.Reader.
func (s *Store) Node(ctx context.Context, id graph.NodeID) (graph.Node, error) {
	if !id.Valid() {
		return graph.Node{}, fmt.Errorf("node %q: %w", id, graph.ErrNotFound)
	}
	ns, err := s.LoadNodes(ctx, []graph.NodeID{id})
	if err == nil {
		return ns[0], nil
	}
	if !errors.Is(err, graph.ErrNotFound) {
		return graph.Node{}, err
	}
	// An id a merge absorbed: follow its aliases to the node that has it.
	cur := id
	for range maxAliasHops {
		var next graph.NodeID
		if err := s.read(ctx, "alias", func(tx driver.ManagedTransaction) error {
			recs, err := run(ctx, tx, qAlias, map[string]any{"id": string(cur)})
			if err == nil && len(recs) == 1 {
				next = graph.NodeID(str(recs[0].Values[0]))
			}
			return err
		}); err != nil {
			return graph.Node{}, err
		}
		if next == "" {
			break
		}
		ns, err := s.LoadNodes(ctx, []graph.NodeID{next})
		if err == nil {
			return ns[0], nil
		}
		if !errors.Is(err, graph.ErrNotFound) {
			return graph.Node{}, err
		}
		cur = next
	}
	return graph.Node{}, fmt.Errorf("node %s: %w", id, graph.ErrNotFound)
}

// maxAliasHops bounds the alias chain Node follows (each hop is a merge
// that happened after the previous one).
const maxAliasHops = 64

// Lookup implements graph.Reader: one index seek per node kind, results in
// kind order (as graph/embedded lists them).
func (s *Store) Lookup(ctx context.Context, key string) ([]graph.Node, error) {
	k, err := graph.NormalizeKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: lookup: %w", graph.ErrInvalidQuery, err)
	}
	names := make([]string, len(graph.NodeKinds))
	for i, kind := range graph.NodeKinds {
		names[i] = keyName(kind, k)
	}
	out, err := s.readNodes(ctx, "lookup", qLookup, map[string]any{"ks": names})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b graph.Node) int { return cmp.Compare(a.Kind.Code(), b.Kind.Code()) })
	return out, nil
}

// Nodes implements graph.Reader.
func (s *Store) Nodes(ctx context.Context, q graph.NodeQuery) ([]graph.Node, error) {
	limit, err := graph.CheckNodeQuery(q)
	if err != nil {
		return nil, err
	}
	return s.readNodes(ctx, "nodes", qNodes, map[string]any{"kind": string(q.Kind), "after": string(q.After), "limit": limit})
}

// readNodes runs q (returning nodeColumns) in one read transaction and
// decodes its rows, in the order q gives them.
func (s *Store) readNodes(ctx context.Context, what, q string, params map[string]any) ([]graph.Node, error) {
	var out []graph.Node
	err := s.read(ctx, what, func(tx driver.ManagedTransaction) error {
		out = nil
		recs, err := run(ctx, tx, q, params)
		if err != nil {
			return err
		}
		for _, r := range recs {
			n, err := decodeNode(r.Values)
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	return out, err
}

// halfEdge is a HalfEdge with the edge's record when asked for.
type halfEdge struct {
	graph.HalfEdge
	attrs []graph.Attr
	docs  []string
}

// adjacent fetches, for each id, the incident edges dir follows: one query
// for the whole frontier (per idsPerQuery ids), each direction expanded
// only for the types it can follow, so a dense node is not expanded on the
// side the walk ignores.
func (s *Store) adjacent(ctx context.Context, ids []graph.NodeID, dir graph.Direction, kinds []graph.EdgeKind, records bool) ([][]halfEdge, error) {
	var out [][]halfEdge
	err := s.read(ctx, "adjacent", func(tx driver.ManagedTransaction) error {
		var err error
		out, err = adjacentTx(ctx, tx, ids, dir, kinds, records)
		return err
	})
	return out, err
}

// adjacentTx is adjacent inside tx.
func adjacentTx(ctx context.Context, tx driver.ManagedTransaction, ids []graph.NodeID, dir graph.Direction, kinds []graph.EdgeKind, records bool) ([][]halfEdge, error) {
	out := make([][]halfEdge, len(ids))
	q := qAdjacent(dir, kinds, records)
	if q == "" {
		return out, nil
	}
	pos := make(map[graph.NodeID][]int, len(ids))
	for i, id := range ids {
		pos[id] = append(pos[id], i)
	}
	for start := 0; start < len(ids); start += idsPerQuery {
		part := ids[start:min(len(ids), start+idsPerQuery)]
		ps := make([]string, len(part))
		for i, id := range part {
			ps[i] = string(id)
		}
		recs, err := run(ctx, tx, q, map[string]any{"ids": ps})
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			id := graph.NodeID(str(r.Values[0]))
			hs, err := decodeHalfEdges(id, r.Values[1], r.Values[2], records)
			if err != nil {
				return nil, err
			}
			for _, i := range pos[id] {
				out[i] = hs
			}
		}
	}
	return out, nil
}

// decodeHalfEdges reads qAdjacent's outs and ins columns of node id.
func decodeHalfEdges(id graph.NodeID, outs, ins any, records bool) ([]halfEdge, error) {
	var hs []halfEdge
	for col, forward := range []bool{true, false} {
		l, _ := []any{outs, ins}[col].([]any)
		for _, x := range l {
			row, _ := x.([]any)
			h := halfEdge{HalfEdge: graph.HalfEdge{Kind: graph.EdgeKind(str(row[0])), Peer: graph.NodeID(str(row[1])), PeerKind: graph.NodeKind(str(row[2])), Forward: forward}}
			if records {
				as, err := decodeAttrs(row[3])
				if err != nil {
					return nil, fmt.Errorf("edge of %s: %w", id, err)
				}
				h.attrs, h.docs = nonNil(as), strs(row[4])
			}
			hs = append(hs, h)
		}
	}
	return hs, nil
}

// Edges implements graph.Reader.
func (s *Store) Edges(ctx context.Context, id graph.NodeID, dir graph.Direction, kinds ...graph.EdgeKind) ([]graph.Edge, error) {
	if !dir.Valid() {
		return nil, fmt.Errorf("%w: edges: direction %d is not valid", graph.ErrInvalidQuery, dir)
	}
	if !id.Valid() {
		return nil, fmt.Errorf("node %q: %w", id, graph.ErrNotFound)
	}
	// Unknown kinds match nothing (as on graph/embedded); they never reach Cypher.
	valid := slices.DeleteFunc(slices.Clone(kinds), func(k graph.EdgeKind) bool { return !k.Valid() })
	var hs []halfEdge
	if len(kinds) == 0 || len(valid) > 0 {
		adj, err := s.adjacent(ctx, []graph.NodeID{id}, dir, valid, true)
		if err != nil {
			return nil, err
		}
		hs = adj[0]
	}
	// Sort with the canonical order; (kind, peer, forward) names one edge.
	type rec struct {
		attrs []graph.Attr
		docs  []string
	}
	recs := make(map[graph.HalfEdge]rec, len(hs))
	plain := make([]graph.HalfEdge, len(hs))
	for i, h := range hs {
		plain[i] = h.HalfEdge
		recs[h.HalfEdge] = rec{h.attrs, h.docs}
	}
	graph.SortHalfEdges(plain)
	out := make([]graph.Edge, len(plain))
	for i, h := range plain {
		ref := graph.EdgeRef{From: id, Kind: h.Kind, To: h.Peer}
		if !h.Forward {
			ref = graph.EdgeRef{From: h.Peer, Kind: h.Kind, To: id}
		}
		out[i] = graph.Edge{EdgeRef: ref, Attrs: recs[h].attrs, Docs: recs[h].docs}
	}
	return out, nil
}

// Traverse implements graph.Reader with Walk (walk.go): one query per walk,
// replayed by graph.Walk, so both backends visit the same nodes in the same
// order.
func (s *Store) Traverse(ctx context.Context, req graph.TraverseRequest) (graph.TraverseResult, error) {
	return s.Walk(ctx, req)
}

// traverseLevels is graph.Walk over the store inside one read transaction
// on one connection: one query per breadth-first level, then one for the
// reached nodes (the adjacency queries bring the edges' records), with no
// session or transaction set-up between them, and every level sees the
// same committed state. Walk uses it for walks too large to push down.
func (s *Store) traverseLevels(ctx context.Context, req graph.TraverseRequest) (graph.TraverseResult, error) {
	if err := graph.CheckTraverse(&req); err != nil {
		return graph.TraverseResult{}, err
	}
	var res graph.TraverseResult
	err := s.read(ctx, "traverse", func(tx driver.ManagedTransaction) error {
		var err error
		res, err = graph.Walk(ctx, &txWalker{tx: tx, edges: map[graph.EdgeRef]graph.Edge{}}, req)
		return err
	})
	return res, err
}

// txWalker is graph.Walker inside one read transaction. Adjacency queries
// return the edges' records too, kept in edges, so the walk's final
// LoadEdges costs no query (one round trip per edge kind saved).
type txWalker struct {
	tx    driver.ManagedTransaction
	edges map[graph.EdgeRef]graph.Edge
}

func (w *txWalker) Adjacent(ctx context.Context, ids []graph.NodeID, dir graph.Direction, kinds []graph.EdgeKind) ([][]graph.HalfEdge, error) {
	adj, err := adjacentTx(ctx, w.tx, ids, dir, kinds, true)
	if err != nil {
		return nil, err
	}
	for i, hs := range adj {
		for _, h := range hs {
			ref := graph.EdgeRef{From: ids[i], Kind: h.Kind, To: h.Peer}
			if !h.Forward {
				ref = graph.EdgeRef{From: h.Peer, Kind: h.Kind, To: ids[i]}
			}
			w.edges[ref] = graph.Edge{EdgeRef: ref, Attrs: h.attrs, Docs: h.docs}
		}
	}
	return plainAdjacency(adj), nil
}

func (w *txWalker) LoadNodes(ctx context.Context, ids []graph.NodeID) ([]graph.Node, error) {
	return loadNodesTx(ctx, w.tx, ids)
}

func (w *txWalker) LoadEdges(ctx context.Context, refs []graph.EdgeRef) ([]graph.Edge, error) {
	out := make([]graph.Edge, len(refs))
	var missing []graph.EdgeRef
	var at []int
	for i, r := range refs {
		if e, ok := w.edges[r]; ok {
			out[i] = e
			continue
		}
		missing = append(missing, r)
		at = append(at, i)
	}
	if len(missing) > 0 {
		es, err := loadEdgesTx(ctx, w.tx, missing)
		if err != nil {
			return nil, err
		}
		for j, e := range es {
			out[at[j]] = e
		}
	}
	return out, nil
}

func plainAdjacency(adj [][]halfEdge) [][]graph.HalfEdge {
	out := make([][]graph.HalfEdge, len(adj))
	for i, hs := range adj {
		if hs == nil {
			continue
		}
		out[i] = make([]graph.HalfEdge, len(hs))
		for j, h := range hs {
			out[i][j] = h.HalfEdge
		}
	}
	return out
}

// Adjacent implements graph.Walker: one query for the whole frontier.
func (s *Store) Adjacent(ctx context.Context, ids []graph.NodeID, dir graph.Direction, kinds []graph.EdgeKind) ([][]graph.HalfEdge, error) {
	adj, err := s.adjacent(ctx, ids, dir, kinds, false)
	if err != nil {
		return nil, err
	}
	return plainAdjacency(adj), nil
}

// LoadNodes implements graph.Walker.
func (s *Store) LoadNodes(ctx context.Context, ids []graph.NodeID) ([]graph.Node, error) {
	var out []graph.Node
	err := s.read(ctx, "load nodes", func(tx driver.ManagedTransaction) error {
		var err error
		out, err = loadNodesTx(ctx, tx, ids)
		return err
	})
	return out, err
}

// loadNodesTx loads ids inside tx, in one query per idsPerQuery ids.
func loadNodesTx(ctx context.Context, tx driver.ManagedTransaction, ids []graph.NodeID) ([]graph.Node, error) {
	for _, id := range ids {
		if !id.Valid() {
			return nil, fmt.Errorf("node %q: %w", id, graph.ErrNotFound)
		}
	}
	byID := make(map[graph.NodeID]graph.Node, len(ids))
	for start := 0; start < len(ids); start += idsPerQuery {
		part := ids[start:min(len(ids), start+idsPerQuery)]
		ps := make([]string, len(part))
		for i, id := range part {
			ps[i] = string(id)
		}
		recs, err := run(ctx, tx, qLoadNodes, map[string]any{"ids": ps})
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			n, err := decodeNode(r.Values)
			if err != nil {
				return nil, err
			}
			byID[n.ID] = n
		}
	}
	out := make([]graph.Node, len(ids))
	for i, id := range ids {
		n, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("node %s: %w", id, graph.ErrNotFound)
		}
		out[i] = n
	}
	return out, nil
}

// LoadEdges implements graph.Walker.
func (s *Store) LoadEdges(ctx context.Context, refs []graph.EdgeRef) ([]graph.Edge, error) {
	var out []graph.Edge
	err := s.read(ctx, "load edges", func(tx driver.ManagedTransaction) error {
		var err error
		out, err = loadEdgesTx(ctx, tx, refs)
		return err
	})
	return out, err
}

// loadEdgesTx loads refs inside tx.
func loadEdgesTx(ctx context.Context, tx driver.ManagedTransaction, refs []graph.EdgeRef) ([]graph.Edge, error) {
	for _, r := range refs {
		if !r.Kind.Valid() || !r.From.Valid() || !r.To.Valid() {
			return nil, fmt.Errorf("edge %s-%s->%s: %w", r.From, r.Kind, r.To, graph.ErrNotFound)
		}
	}
	type rec struct {
		attrs []graph.Attr
		docs  []string
	}
	byRef := make(map[graph.EdgeRef]rec, len(refs))
	if err := loadEdgeRecords(ctx, tx, refs, func(ref graph.EdgeRef, attrs []graph.Attr, docs []string) {
		byRef[ref] = rec{nonNil(attrs), docs}
	}); err != nil {
		return nil, err
	}
	out := make([]graph.Edge, len(refs))
	for i, r := range refs {
		e, ok := byRef[r]
		if !ok {
			return nil, fmt.Errorf("edge %s-%s->%s: %w", r.From, r.Kind, r.To, graph.ErrNotFound)
		}
		out[i] = graph.Edge{EdgeRef: r, Attrs: e.attrs, Docs: e.docs}
	}
	return out, nil
}

// loadEdgeRecords calls fn for each of refs that exists: one query per
// edge kind present (per idsPerQuery refs).
func loadEdgeRecords(ctx context.Context, tx driver.ManagedTransaction, refs []graph.EdgeRef, fn func(ref graph.EdgeRef, attrs []graph.Attr, docs []string)) error {
	byKind := map[graph.EdgeKind][]string{}
	byKey := make(map[edgeID]graph.EdgeRef, len(refs))
	for _, r := range refs {
		k := edgeKey(r.From, r.To)
		if _, dup := byKey[edgeID{r.Kind, k}]; dup {
			continue
		}
		byKey[edgeID{r.Kind, k}] = r
		byKind[r.Kind] = append(byKind[r.Kind], k)
	}
	for _, kind := range graph.EdgeKinds {
		keys := byKind[kind]
		for len(keys) > 0 {
			part := keys[:min(len(keys), idsPerQuery)]
			keys = keys[len(part):]
			recs, err := run(ctx, tx, qLoadEdgesOf[kind], map[string]any{"keys": part})
			if err != nil {
				return fmt.Errorf("read edges: %w", err)
			}
			for _, r := range recs {
				ref, ok := byKey[edgeID{kind, str(r.Values[0])}]
				if !ok {
					return fmt.Errorf("read edges: unexpected edge %v %v", kind, r.Values[0])
				}
				as, err := decodeAttrs(r.Values[1])
				if err != nil {
					return fmt.Errorf("edge %s-%s->%s: %w", ref.From, ref.Kind, ref.To, err)
				}
				fn(ref, as, strs(r.Values[2]))
			}
		}
	}
	return nil
}

type edgeID struct {
	kind graph.EdgeKind
	key  string
}

// Documents implements graph.Reader.
func (s *Store) Documents(ctx context.Context, digests ...string) ([]graph.Document, error) {
	want := make([]string, len(digests))
	for i, d := range digests {
		if nd, err := graph.NormalizeKey(d); err == nil {
			d = nd
		}
		want[i] = d
	}
	raw := map[string]string{}
	err := s.read(ctx, "documents", func(tx driver.ManagedTransaction) error {
		clear(raw)
		recs, err := run(ctx, tx, qDocuments, map[string]any{"ds": want})
		if err != nil {
			return err
		}
		for _, r := range recs {
			raw[str(r.Values[0])] = str(r.Values[1])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []graph.Document
	for _, d := range want {
		v, ok := raw[d]
		if !ok {
			continue
		}
		var doc graph.Document
		if err := json.Unmarshal([]byte(v), &doc); err != nil {
			return nil, fmt.Errorf("document %s is corrupt: %w", d, err)
		}
		out = append(out, doc)
	}
	return out, nil
}

// Stats implements graph.Reader.
func (s *Store) Stats(ctx context.Context) (graph.Stats, error) {
	var st graph.Stats
	err := s.read(ctx, "stats", func(tx driver.ManagedTransaction) error {
		st = graph.Stats{NodeKinds: map[graph.NodeKind]int64{}, EdgeKinds: map[graph.EdgeKind]int64{}}
		recs, err := run(ctx, tx, statsQuery, nil)
		if err != nil {
			return err
		}
		for _, r := range recs {
			c, _ := r.Values[2].(int64)
			if c == 0 {
				continue
			}
			switch str(r.Values[0]) {
			case "n":
				st.NodeKinds[graph.NodeKind(str(r.Values[1]))] = c
				st.Nodes += c
			case "e":
				st.EdgeKinds[graph.EdgeKind(str(r.Values[1]))] = c
				st.Edges += c
			case "d":
				st.Documents = c
			}
		}
		return nil
	})
	return st, err
}
