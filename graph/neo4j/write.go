package neo4j

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/modelgraph/modelgraph/graph"
)

// source reads the stored graph for graph.Planner inside the chunk's write
// transaction. The writer lock guarantees it does not change until commit.
type source struct {
	ctx   context.Context
	tx    driver.ManagedTransaction
	nodes map[graph.NodeID]graph.Node // records read with their keys' owners
}

// Owners implements graph.PlanSource: one query per idsPerQuery keys, which
// also returns the owners' records.
func (s *source) Owners(ks []graph.KindKey) (map[graph.KindKey]graph.NodeID, error) {
	byName := make(map[string]graph.KindKey, len(ks))
	names := make([]string, len(ks))
	for i, kk := range ks {
		names[i] = keyName(kk.Kind, kk.Key)
		byName[names[i]] = kk
	}
	slices.Sort(names)
	out := map[graph.KindKey]graph.NodeID{}
	for len(names) > 0 {
		part := names[:min(len(names), idsPerQuery)]
		names = names[len(part):]
		recs, err := run(s.ctx, s.tx, qKeyOwners, map[string]any{"ks": part})
		if err != nil {
			return nil, fmt.Errorf("read keys: %w", err)
		}
		for _, r := range recs {
			n, err := decodeNode(r.Values[1:])
			if err != nil {
				return nil, err
			}
			for _, kk := range strs(r.Values[0]) {
				out[byName[kk]] = n.ID
			}
			s.nodes[n.ID] = n
		}
	}
	return out, nil
}

// Nodes implements graph.PlanSource.
func (s *source) Nodes(ids []graph.NodeID) (map[graph.NodeID]graph.Node, error) {
	out := make(map[graph.NodeID]graph.Node, len(ids))
	var missing []string
	for _, id := range ids {
		if n, ok := s.nodes[id]; ok {
			out[id] = n
		} else {
			missing = append(missing, string(id))
		}
	}
	for len(missing) > 0 {
		part := missing[:min(len(missing), idsPerQuery)]
		missing = missing[len(part):]
		recs, err := run(s.ctx, s.tx, qLoadNodes, map[string]any{"ids": part})
		if err != nil {
			return nil, fmt.Errorf("read nodes: %w", err)
		}
		for _, r := range recs {
			n, err := decodeNode(r.Values)
			if err != nil {
				return nil, err
			}
			out[n.ID] = n
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
	recs, err := run(s.ctx, s.tx, qIncident, map[string]any{"ids": ps})
	if err != nil {
		return nil, fmt.Errorf("read edges of merged nodes: %w", err)
	}
	seen := map[graph.EdgeRef]bool{}
	var out []graph.Edge
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
	}
	return out, nil
}

// write sends the plan: documents, nodes, keys, edges, nodes removed by
// merges (with the edges the plan moved away from them), aliases, each as UNWIND statements of at most
// rowsPerStatement rows. graph.Fault is consulted after every statement
// with the running count of nodes and edges written, so an injected fault
// aborts the transaction after real writes.
func write(ctx context.Context, tx driver.ManagedTransaction, plan graph.Plan) error {
	written := 0
	// check runs q with params and checks it applied want rows: statements
	// returning counts report the rows they matched (summed over UNION
	// parts), the others are checked by the server's counters.
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
	created := func(c driver.Counters) int { return c.NodesCreated() }
	docRows := make([]map[string]any, len(plan.Docs))
	for i, doc := range plan.Docs {
		raw, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("document %s: %w", doc.Digest, err)
		}
		docRows[i] = map[string]any{"digest": doc.Digest, "json": string(raw)}
	}
	if err := exec("documents", qCreateDocs, docRows, created, false); err != nil {
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
		if err := exec("nodes", qCreateNodes, newNodes, created, true); err != nil {
			return err
		}
	} else {
		newNodesOf := map[string][]map[string]any{}
		for _, row := range newNodes {
			k := row["kind"].(string)
			newNodesOf[k] = append(newNodesOf[k], row)
		}
		for _, k := range graph.NodeKinds {
			if err := exec("nodes", qCreateNodesOf[k], newNodesOf[string(k)], created, true); err != nil {
				return err
			}
		}
	}
	if err := exec("nodes", qUpdateNodes, updNodes, nil, true); err != nil {
		return err
	}
	var newKeys, movedKeys []map[string]any
	for _, k := range plan.Keys {
		row := map[string]any{"k": keyName(k.Kind, k.Key), "kind": string(k.Kind), "key": k.Key, "node": string(k.Node)}
		if k.New {
			newKeys = append(newKeys, row)
		} else {
			movedKeys = append(movedKeys, row)
		}
	}
	if err := exec("keys", qCreateKeys, newKeys, created, false); err != nil {
		return err
	}
	if err := exec("moved keys", qMoveKeys, movedKeys, nil, false); err != nil {
		return err
	}
	var newEdges []map[string]any
	updEdgesOf := map[graph.EdgeKind][]map[string]any{}
	for _, e := range plan.NewEdges {
		attrs, err := encodeAttrs(e.Attrs)
		if err != nil {
			return fmt.Errorf("edge %s-%s->%s: %w", e.From, e.Kind, e.To, err)
		}
		row := map[string]any{"f": string(e.From), "t": string(e.To), "kind": string(e.Kind), "key": edgeKey(e.From, e.To), "attrs": attrs, "docs": e.Docs}
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
