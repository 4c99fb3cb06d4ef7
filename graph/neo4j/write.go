package neo4j

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/modelgraph/modelgraph/graph"
)

// source reads the stored graph for graph.Planner inside the chunk's write
// transaction. Neo4j runs read committed, so a value read and not locked
// may be changed by another transaction before this one commits; every
// read a planning decision depends on is therefore taken under a write
// lock held to commit, acquired before the read:
//
//   - documents: Stored merges each digest's (:DocRecord) (driver.go);
//   - keys: Owners merges each key's (:Key) entry and locks it (a new key's
//     entry is created here, without an owner, and filled or dropped by
//     write), then reads its owner;
//   - nodes: the owners (and any other node the planner loads) are locked,
//     then their records read; a node's keys, claims, evidence and edges
//     change only under its lock;
//   - edges: an edge is read or written only with both ends locked (its
//     ends are owners of the documents' keys, or nodes this transaction
//     creates); Incident (a merge) reads the edges of a locked node, then
//     locks their other ends, whose edges it re-points.
//
// Locks are taken in sorted order within each statement; two transactions
// that lock in different orders across statements may deadlock, which
// Neo4j detects and the driver retries (Update). Transactions whose
// documents share no key, document or node run in parallel.
type source struct {
	ctx    context.Context
	tx     driver.ManagedTransaction
	nodes  map[graph.NodeID]graph.Node // locked, with their records
	locked map[graph.NodeID]bool       // write-locked by this transaction
	// eid is the element id of every node locked or created by this
	// transaction: new edges find their ends by it (NodeByElementIdSeek,
	// no index lookup), and an end missing from it is an end this
	// transaction did not lock, which write refuses.
	eid map[graph.NodeID]string
	// freshKeys are the (:Key) entries Owners created (keys no node owns):
	// write gives each planned one its owner and deletes the others (keys
	// a node could not take: graph.Receipt.KeysNotAttached).
	freshKeys map[string]bool
}

func newSource(ctx context.Context, tx driver.ManagedTransaction) *source {
	return &source{ctx: ctx, tx: tx, nodes: map[graph.NodeID]graph.Node{}, locked: map[graph.NodeID]bool{}, eid: map[graph.NodeID]string{}, freshKeys: map[string]bool{}}
}

// Owners implements graph.PlanSource: it locks each key's (:Key) entry
// (creating the entries of new keys), reads the owners, then locks the
// owners and reads their records (kept for Nodes). One statement per
// idsPerQuery keys, then one per idsPerQuery owners.
func (s *source) Owners(ks []graph.KindKey) (map[graph.KindKey]graph.NodeID, error) {
	byName := make(map[string]graph.KindKey, len(ks))
	rows := make([]map[string]any, 0, len(ks))
	for _, kk := range ks {
		name := keyName(kk.Kind, kk.Key)
		if _, dup := byName[name]; dup {
			continue
		}
		byName[name] = kk
		rows = append(rows, map[string]any{"k": name, "kind": string(kk.Kind), "key": kk.Key})
	}
	slices.SortFunc(rows, func(a, b map[string]any) int { return strings.Compare(a["k"].(string), b["k"].(string)) })
	out := map[graph.KindKey]graph.NodeID{}
	var owners []graph.NodeID
	for len(rows) > 0 {
		part := rows[:min(len(rows), idsPerQuery)]
		rows = rows[len(part):]
		recs, err := run(s.ctx, s.tx, qLockKeys, map[string]any{"rows": part})
		if err != nil {
			return nil, fmt.Errorf("lock keys: %w", err)
		}
		for _, r := range recs {
			name := str(r.Values[0])
			id := str(r.Values[1])
			if id == "" {
				s.freshKeys[name] = true
				continue
			}
			out[byName[name]] = graph.NodeID(id)
			owners = append(owners, graph.NodeID(id))
		}
	}
	if err := s.lockNodes(owners, true); err != nil {
		return nil, err
	}
	return out, nil
}

// lockNodes write-locks the nodes of ids not locked yet, in id order, and
// (read) reads their records after the lock.
func (s *source) lockNodes(ids []graph.NodeID, read bool) error {
	var todo []string
	for _, id := range ids {
		if !s.locked[id] {
			todo = append(todo, string(id))
		}
	}
	todo = sortedUnique(todo)
	q := qLockPeers
	if read {
		q = qLockNodes
	}
	for len(todo) > 0 {
		part := todo[:min(len(todo), idsPerQuery)]
		todo = todo[len(part):]
		recs, err := run(s.ctx, s.tx, q, map[string]any{"ids": part})
		if err != nil {
			return fmt.Errorf("lock nodes: %w", err)
		}
		if !read && len(recs) != len(part) {
			return fmt.Errorf("lock nodes: %d of %d found", len(recs), len(part))
		}
		for _, id := range part {
			s.locked[graph.NodeID(id)] = true
		}
		for _, r := range recs {
			last := len(r.Values) - 1
			s.eid[graph.NodeID(str(r.Values[0]))] = str(r.Values[last])
			if !read {
				continue
			}
			n, err := decodeNode(r.Values[:last])
			if err != nil {
				return err
			}
			s.nodes[n.ID] = n
		}
	}
	return nil
}

// sortedUnique returns the distinct strings of l in order.
func sortedUnique(l []string) []string {
	out := slices.Clone(l)
	slices.Sort(out)
	return slices.Compact(out)
}

// Nodes implements graph.PlanSource: records of locked nodes (Owners
// locked and read the owners); any other is locked, then read.
func (s *source) Nodes(ids []graph.NodeID) (map[graph.NodeID]graph.Node, error) {
	var missing []graph.NodeID
	for _, id := range ids {
		if _, ok := s.nodes[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		for _, id := range missing {
			// Locked without its record (a merge's peer): read it now,
			// still under the lock.
			delete(s.locked, id)
		}
		if err := s.lockNodes(missing, true); err != nil {
			return nil, err
		}
	}
	out := make(map[graph.NodeID]graph.Node, len(ids))
	for _, id := range ids {
		if n, ok := s.nodes[id]; ok {
			out[id] = n
		}
	}
	return out, nil
}

// Edges implements graph.PlanSource.
func (s *source) Edges(refs []graph.EdgeRef) (map[graph.EdgeRef]graph.Edge, error) {
	out := make(map[graph.EdgeRef]graph.Edge, len(refs))
	err := loadEdgeRecords(s.ctx, s.tx, refs, func(ref graph.EdgeRef, attrs []graph.Attr, docs []string) {
		out[ref] = graph.Edge{EdgeRef: ref, Attrs: attrs, Docs: docs}
	})
	return out, err
}

// Incident implements graph.PlanSource (merges only: rare).
func (s *source) Incident(ids []graph.NodeID) ([]graph.Edge, error) {
	ps := make([]string, len(ids))
	for i, id := range ids {
		ps[i] = string(id)
	}
	// ids are locked (the planner loaded them), so their edges cannot
	// change under this transaction; the other ends are locked next.
	recs, err := run(s.ctx, s.tx, qIncident, map[string]any{"ids": ps})
	if err != nil {
		return nil, fmt.Errorf("read edges of merged nodes: %w", err)
	}
	seen := map[graph.EdgeRef]bool{}
	var out []graph.Edge
	var peers []graph.NodeID
	for _, r := range recs {
		ref := graph.EdgeRef{From: graph.NodeID(str(r.Values[0])), Kind: graph.EdgeKind(str(r.Values[1])), To: graph.NodeID(str(r.Values[2]))}
		if seen[ref] {
			continue // a self-loop matches from both ends
		}
		seen[ref] = true
		as, err := decodeAttrs(r.Values[3])
		if err != nil {
			return nil, fmt.Errorf("edge %s-%s->%s: %w", ref.From, ref.Kind, ref.To, err)
		}
		out = append(out, graph.Edge{EdgeRef: ref, Attrs: as, Docs: strs(r.Values[4])})
		peers = append(peers, ref.From, ref.To)
	}
	if err := s.lockNodes(peers, false); err != nil {
		return nil, err
	}
	return out, nil
}

// write sends the plan: documents, nodes, keys, edges, nodes removed by
// merges (with the edges the plan moved away from them), aliases, each as UNWIND statements of at most
// rowsPerStatement rows. graph.Fault is consulted after every statement
// with the running count of nodes and edges written, so an injected fault
// aborts the transaction after real writes.
func write(ctx context.Context, tx driver.ManagedTransaction, plan graph.Plan, src *source) error {
	freshKeys := src.freshKeys
	written := 0
	// check runs q with params and checks it applied want rows: statements
	// returning counts report the rows they matched (summed over UNION
	// parts), node creations return each node's id and element id (kept
	// for the edges), the others are checked by the server's counters.
	check := func(what, q string, params map[string]any, want int, applied func(driver.Counters) int) error {
		defer timeit("write "+what, time.Now())
		res, err := tx.Run(ctx, q, params)
		if err != nil {
			return fmt.Errorf("write %s: %w", what, err)
		}
		got := 0
		if applied == nil {
			recs, err := res.Collect(ctx)
			if err != nil {
				return fmt.Errorf("write %s: %w", what, err)
			}
			for _, r := range recs {
				if id, ok := r.Values[0].(string); ok {
					src.eid[graph.NodeID(id)] = str(r.Values[1])
					got++
					continue
				}
				n, _ := r.Values[0].(int64)
				got += int(n)
			}
		} else {
			sum, err := res.Consume(ctx)
			if err != nil {
				return fmt.Errorf("write %s: %w", what, err)
			}
			got = applied(sum.Counters())
		}
		if got != want {
			return fmt.Errorf("write %s: %d of %d rows applied", what, got, want)
		}
		return nil
	}
	// exec runs q over rows in parts of rowsPerStatement. Parts that write
	// nodes or edges count towards graph.Fault.
	exec := func(what, q string, rows []map[string]any, applied func(driver.Counters) int, counts bool) error {
		for len(rows) > 0 {
			part := rows[:min(len(rows), rowsPerStatement)]
			rows = rows[len(part):]
			if err := check(what, q, map[string]any{"rows": part}, len(part), applied); err != nil {
				return err
			}
			if counts {
				written += len(part)
				if err := graph.Fault(ctx, written); err != nil {
					return err
				}
			}
		}
		return nil
	}
	docRows := make([]map[string]any, len(plan.Docs))
	for i, doc := range plan.Docs {
		raw, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("document %s: %w", doc.Digest, err)
		}
		docRows[i] = map[string]any{"digest": doc.Digest, "json": string(raw)}
	}
	// Stored created each new document's record (its lock); fill it in.
	if err := exec("documents", qFillDocs, docRows, nil, false); err != nil {
		return err
	}
	nodeRow := func(n graph.Node) (map[string]any, error) {
		attrs, err := encodeAttrs(n.Attrs)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.ID, err)
		}
		kd, err := encodeKeyDocs(n.KeyDocs)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.ID, err)
		}
		js, err := encodeJoins(n.Joins)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.ID, err)
		}
		return map[string]any{"id": string(n.ID), "kind": string(n.Kind), "keys": n.Keys, "attrs": attrs, "docs": n.Docs, "keyDocs": kd, "joins": js,
			"searchText": searchText(n)}, nil // the full-text index's field (fulltext.go)
	}
	var updNodes, newNodes []map[string]any
	for _, n := range plan.NewNodes {
		row, err := nodeRow(n)
		if err != nil {
			return err
		}
		newNodes = append(newNodes, row)
	}
	for _, n := range plan.ChangedNodes {
		row, err := nodeRow(n)
		if err != nil {
			return err
		}
		updNodes = append(updNodes, row)
	}
	if len(newNodes) <= smallWriteRows {
		if err := exec("nodes", qCreateNodes, newNodes, nil, true); err != nil {
			return err
		}
	} else {
		newNodesOf := map[string][]map[string]any{}
		for _, row := range newNodes {
			k := row["kind"].(string)
			newNodesOf[k] = append(newNodesOf[k], row)
		}
		for _, k := range graph.NodeKinds {
			if err := exec("nodes", qCreateNodesOf[k], newNodesOf[string(k)], nil, true); err != nil {
				return err
			}
		}
	}
	if err := exec("nodes", qUpdateNodes, updNodes, nil, true); err != nil {
		return err
	}
	// Keys: a new key's (:Key) entry was created by Owners (its lock)
	// without an owner; it gets one here, as a moved key does. Entries of
	// keys no node took are deleted.
	var keyRows []map[string]any
	taken := map[string]bool{}
	for _, k := range plan.Keys {
		name := keyName(k.Kind, k.Key)
		if k.New {
			if !freshKeys[name] {
				return fmt.Errorf("write keys: new key %s was not locked", name)
			}
			taken[name] = true
		}
		keyRows = append(keyRows, map[string]any{"k": name, "node": string(k.Node)})
	}
	if err := exec("keys", qMoveKeys, keyRows, nil, false); err != nil {
		return err
	}
	var unused []map[string]any
	for _, name := range slices.Sorted(maps.Keys(freshKeys)) {
		if !taken[name] {
			unused = append(unused, map[string]any{"k": name})
		}
	}
	if err := exec("unused keys", qDropKeys, unused, nil, false); err != nil {
		return err
	}
	var newEdges []map[string]any
	updEdgesOf := map[graph.EdgeKind][]map[string]any{}
	for _, e := range plan.NewEdges {
		attrs, err := encodeAttrs(e.Attrs)
		if err != nil {
			return fmt.Errorf("edge %s-%s->%s: %w", e.From, e.Kind, e.To, err)
		}
		fe, ok1 := src.eid[e.From]
		te, ok2 := src.eid[e.To]
		if !ok1 || !ok2 {
			return fmt.Errorf("edge %s-%s->%s: an end is neither locked nor created by this transaction", e.From, e.Kind, e.To)
		}
		row := map[string]any{"fe": fe, "te": te, "kind": string(e.Kind), "key": edgeKey(e.From, e.To), "attrs": attrs, "docs": e.Docs}
		newEdges = append(newEdges, row)
	}
	for _, e := range plan.ChangedEdges {
		attrs, err := encodeAttrs(e.Attrs)
		if err != nil {
			return fmt.Errorf("edge %s-%s->%s: %w", e.From, e.Kind, e.To, err)
		}
		updEdgesOf[e.Kind] = append(updEdgesOf[e.Kind], map[string]any{"key": edgeKey(e.From, e.To), "attrs": attrs, "docs": e.Docs})
	}
	relsCreated := func(c driver.Counters) int { return c.RelationshipsCreated() }
	if len(newEdges) <= smallWriteRows {
		if err := exec("edges", qCreateEdges, newEdges, relsCreated, true); err != nil {
			return err
		}
	} else {
		newEdgesOf := map[string][]map[string]any{}
		for _, row := range newEdges {
			k := row["kind"].(string)
			newEdgesOf[k] = append(newEdgesOf[k], row)
		}
		for _, k := range graph.EdgeKinds {
			if err := exec("edges", qCreateEdgesOf[k], newEdgesOf[string(k)], relsCreated, true); err != nil {
				return err
			}
		}
	}
	for _, k := range graph.EdgeKinds {
		if err := exec("edges", qUpdateEdgesOf[k], updEdgesOf[k], nil, true); err != nil {
			return err
		}
	}
	// Merges: the absorbed nodes go with the edges that were re-pointed
	// away from them (created above at the survivor). Deleting them after
	// the new edges are in is also much faster: creating relationships in
	// a transaction that already deleted thousands at the same nodes took
	// Neo4j 5.26 ~0.7 ms each (BenchmarkMergeHub).
	var delNodes []map[string]any
	for _, id := range plan.DeletedNodes {
		delNodes = append(delNodes, map[string]any{"id": string(id)})
	}
	relsDeleted := 0
	if err := exec("removed nodes", qDeleteNodes, delNodes, func(c driver.Counters) int {
		relsDeleted += c.RelationshipsDeleted()
		return c.NodesDeleted()
	}, false); err != nil {
		return err
	}
	if relsDeleted != len(plan.DeletedEdges) {
		return fmt.Errorf("write removed nodes: %d edges went with them, the plan moved %d", relsDeleted, len(plan.DeletedEdges))
	}
	var aliases []map[string]any
	for _, a := range plan.Aliases {
		aliases = append(aliases, map[string]any{"from": string(a.From), "to": string(a.To)})
	}
	return exec("aliases", qSetAliases, aliases, nil, false)
}

// encodeAttrs stores claims as a JSON string property: a claim is a
// (name, value, evidence) triple, which Neo4j properties cannot nest.
func encodeAttrs(as []graph.Attr) (string, error) {
	if as == nil {
		as = []graph.Attr{}
	}
	b, err := json.Marshal(as)
	return string(b), err
}

// encodeKeyDocs stores per-key evidence as a JSON string property.
func encodeKeyDocs(kd []graph.KeyClaim) (string, error) {
	if kd == nil {
		kd = []graph.KeyClaim{}
	}
	b, err := json.Marshal(kd)
	return string(b), err
}

func decodeKeyDocs(v any) ([]graph.KeyClaim, error) {
	s, _ := v.(string)
	if s == "" {
		return nil, nil
	}
	var kd []graph.KeyClaim
	if err := jsonv2.Unmarshal([]byte(s), &kd); err != nil {
		return nil, fmt.Errorf("stored key evidence is corrupt: %w", err)
	}
	if len(kd) == 0 {
		return nil, nil
	}
	return kd, nil
}

// encodeJoins stores join evidence as a JSON string property.
func encodeJoins(js []graph.KeyJoin) (string, error) {
	if js == nil {
		js = []graph.KeyJoin{}
	}
	b, err := json.Marshal(js)
	return string(b), err
}

func decodeJoins(v any) ([]graph.KeyJoin, error) {
	s, _ := v.(string)
	if s == "" {
		return nil, nil
	}
	var js []graph.KeyJoin
	if err := jsonv2.Unmarshal([]byte(s), &js); err != nil {
		return nil, fmt.Errorf("stored join evidence is corrupt: %w", err)
	}
	if len(js) == 0 {
		return nil, nil
	}
	return js, nil
}

// The decoders use go-json-experiment/json (2.5x faster than encoding/json
// on a core package's 1,750-digest evidence, which every trace decodes;
// same results for these shapes); the encoders keep encoding/json, so the
// stored bytes do not change.
func decodeAttrs(v any) ([]graph.Attr, error) {
	s, _ := v.(string)
	if s == "" {
		return nil, nil
	}
	var as []graph.Attr
	if err := jsonv2.Unmarshal([]byte(s), &as); err != nil {
		return nil, fmt.Errorf("stored attributes are corrupt: %w", err)
	}
	if len(as) == 0 {
		return nil, nil
	}
	return as, nil
}
