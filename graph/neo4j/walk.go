package neo4j

import (
	"context"
	"fmt"
	"os"
	"sync"

	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/modelgraph/modelgraph/graph"
)

// maxPushedLimit is the largest Limit the pushed-down walk serves; larger
// walks go level by level (the server-side search keeps its seen set in
// lists that each level rebuilds).
const maxPushedLimit = idsPerQuery

// pushedLevels is how many breadth-first levels the pushed-down query
// unrolls. A walk that goes deeper continues one query per level from the
// last level the query found (memWalker reads what it lacks), so the
// answer is the same; the bound keeps the statement small, because
// Neo4j plans each new text once and a 16-level one took seconds to plan
// on the loaded dev machine. The lineage walks of the benchmark (impact
// from a dataset, trace from a deployment) finish within it.
const pushedLevels = 8

// walkLevels: MODELGRAPH_NEO4J_WALK=levels makes Walk use one query per
// breadth-first level instead of the pushed-down search (a profiling aid,
// to compare the two on one server; see docs/neo4j.md).
var walkLevels = os.Getenv("MODELGRAPH_NEO4J_WALK") == "levels"

// Walk answers a traversal with one query: the server runs the
// breadth-first search (qWalk) and returns every node it reached with its
// record and its adjacency, and graph.Walk replays the walk over that in
// memory, so the nodes, their order, depths, parents, edges and the
// Truncated and DepthLimited flags are exactly graph.Walk's (the embedded
// store's walk). Walks with a Limit above maxPushedLimit run one query per
// level inside one read transaction.
func (s *Store) Walk(ctx context.Context, req graph.TraverseRequest) (graph.TraverseResult, error) {
	if err := graph.CheckTraverse(&req); err != nil {
		return graph.TraverseResult{}, err
	}
	if walkLevels || req.Limit > maxPushedLimit {
		return s.traverseLevels(ctx, req)
	}
	from := make([]string, len(req.From))
	for i, id := range req.From {
		from[i] = string(id)
	}
	var kinds any // nil: every kind
	if len(req.NodeKinds) > 0 {
		ks := make([]string, len(req.NodeKinds))
		for i, k := range req.NodeKinds {
			ks[i] = string(k)
		}
		kinds = ks
	}
	q := walkQuery(req.Direction, req.EdgeKinds, min(req.MaxDepth, pushedLevels))
	params := map[string]any{"from": from, "kinds": kinds, "cap": req.Limit + len(req.From)}
	var res graph.TraverseResult
	err := s.read(ctx, "traverse", func(tx driver.ManagedTransaction) error {
		recs, err := run(ctx, tx, q, params)
		if err != nil {
			return err
		}
		m := &memWalker{
			tx:    tx,
			adj:   make(map[graph.NodeID][]graph.HalfEdge, len(recs)),
			nodes: make(map[graph.NodeID]graph.Node, len(recs)),
			edges: map[graph.EdgeRef]graph.Edge{},
		}
		for _, r := range recs {
			id := graph.NodeID(str(r.Values[0]))
			hs, err := decodeHalfEdges(id, r.Values[1], r.Values[2], true)
			if err != nil {
				return err
			}
			n, err := decodeNode(r.Values[3:])
			if err != nil {
				return err
			}
			m.nodes[id] = n
			plain := make([]graph.HalfEdge, len(hs))
			for i, h := range hs {
				plain[i] = h.HalfEdge
				m.addEdge(id, h)
			}
			m.adj[id] = plain
		}
		res, err = graph.Walk(ctx, m, req)
		return err
	})
	return res, err
}

// walkQueries caches qWalk's text per direction, edge kinds and depth.
var walkQueries sync.Map

func walkQuery(dir graph.Direction, kinds []graph.EdgeKind, depth int) string {
	key := fmt.Sprint(dir, kinds, depth)
	if q, ok := walkQueries.Load(key); ok {
		return q.(string)
	}
	q := qWalk(dir, kinds, depth)
	walkQueries.Store(key, q)
	return q
}

// memWalker is graph.Walker over what the pushed-down query returned;
// what it did not return (the last level's records and, at the depth
// limit, its adjacency) is read in the same transaction.
type memWalker struct {
	tx    driver.ManagedTransaction
	adj   map[graph.NodeID][]graph.HalfEdge
	nodes map[graph.NodeID]graph.Node
	edges map[graph.EdgeRef]graph.Edge
}

func (m *memWalker) Adjacent(ctx context.Context, ids []graph.NodeID, dir graph.Direction, kinds []graph.EdgeKind) ([][]graph.HalfEdge, error) {
	out := make([][]graph.HalfEdge, len(ids))
	var missing []graph.NodeID
	var at []int
	for i, id := range ids {
		hs, ok := m.adj[id]
		if !ok {
			missing = append(missing, id)
			at = append(at, i)
			continue
		}
		out[i] = hs
	}
	if len(missing) > 0 {
		adj, err := adjacentTx(ctx, m.tx, missing, dir, kinds, true)
		if err != nil {
			return nil, err
		}
		for j, hs := range adj {
			id := missing[j]
			plain := make([]graph.HalfEdge, len(hs))
			for k, h := range hs {
				plain[k] = h.HalfEdge
				m.addEdge(id, h)
			}
			out[at[j]] = plain
		}
	}
	return out, nil
}

func (m *memWalker) addEdge(id graph.NodeID, h halfEdge) {
	ref := graph.EdgeRef{From: id, Kind: h.Kind, To: h.Peer}
	if !h.Forward {
		ref = graph.EdgeRef{From: h.Peer, Kind: h.Kind, To: id}
	}
	m.edges[ref] = graph.Edge{EdgeRef: ref, Attrs: h.attrs, Docs: h.docs}
}

func (m *memWalker) LoadNodes(ctx context.Context, ids []graph.NodeID) ([]graph.Node, error) {
	var missing []graph.NodeID
	for _, id := range ids {
		if _, ok := m.nodes[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		ns, err := loadNodesTx(ctx, m.tx, missing)
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			m.nodes[n.ID] = n
		}
	}
	out := make([]graph.Node, len(ids))
	for i, id := range ids {
		out[i] = m.nodes[id]
	}
	return out, nil
}

func (m *memWalker) LoadEdges(ctx context.Context, refs []graph.EdgeRef) ([]graph.Edge, error) {
	var missing []graph.EdgeRef
	for _, r := range refs {
		if _, ok := m.edges[r]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		es, err := loadEdgesTx(ctx, m.tx, missing)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			m.edges[e.EdgeRef] = e
		}
	}
	out := make([]graph.Edge, len(refs))
	for i, r := range refs {
		out[i] = m.edges[r]
	}
	return out, nil
}
