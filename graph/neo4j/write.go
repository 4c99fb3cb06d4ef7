package neo4j

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/modelgraph/modelgraph/graph"
)

// Apply writes one document atomically; see graph.Writer.
func (s *Store) Apply(ctx context.Context, b *graph.Batch) (graph.Receipt, error) {
	rs, err := s.ApplyAll(ctx, []*graph.Batch{b})
	if err != nil {
		return graph.Receipt{}, err
	}
	return rs[0], nil
}

// ApplyAll validates every batch, then writes them in transactions of at
// most Config.BulkSize documents (and about maxChunkItems nodes and edges).
// Each transaction is atomic. When a call needs several transactions and
// one fails, the earlier ones stay committed: the error says how many
// documents were written and the receipts returned are theirs; applying the
// same call again is safe because stored documents are duplicates. A call
// that fits in one transaction is all-or-nothing, as on graph/bolt.
func (s *Store) ApplyAll(ctx context.Context, bs []*graph.Batch) ([]graph.Receipt, error) {
	for _, b := range bs {
		if b == nil {
			return nil, fmt.Errorf("%w: nil batch", graph.ErrInvalidBatch)
		}
		if err := b.Validate(); err != nil {
			return nil, err
		}
	}
	if len(bs) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	release, err := s.enter()
	if err != nil {
		return nil, err
	}
	defer release()
	sess := s.session(ctx, driver.AccessModeWrite)
	defer sess.Close(ctx)
	out := make([]graph.Receipt, 0, len(bs))
	for start := 0; start < len(bs); {
		end := s.chunkEnd(bs, start)
		var rs []graph.Receipt
		_, err := sess.ExecuteWrite(ctx, func(tx driver.ManagedTransaction) (any, error) {
			// The driver may run this again after a transient error: the
			// plan is rebuilt from what the database holds now.
			var err error
			rs, err = applyChunk(ctx, tx, bs[start:end])
			return nil, err
		})
		if err != nil {
			err = wrap("apply", err)
			if start > 0 {
				return out, fmt.Errorf("documents %d to %d of %d not written (the first %d are committed): %w", start, len(bs)-1, len(bs), start, err)
			}
			return nil, err
		}
		out = append(out, rs...)
		start = end
	}
	return out, nil
}

func (s *Store) chunkEnd(bs []*graph.Batch, start int) int {
	items := 0
	end := start
	for end < len(bs) && end-start < s.bulkSize {
		n := len(bs[end].Nodes) + len(bs[end].Edges)
		if end > start && items+n > maxChunkItems {
			break
		}
		items += n
		end++
	}
	return end
}

// nodeState is a node as the chunk being planned sees it: loaded from the
// database or created by an earlier document of the chunk.
type nodeState struct {
	kind    graph.NodeKind
	keys    []string
	attrs   []graph.Attr
	docs    []string
	created bool // by this chunk
	dirty   bool
}

type edgeState struct {
	attrs   []graph.Attr
	docs    []string
	created bool
	dirty   bool
}

// planner replays graph/bolt's write algorithm document by document over an
// in-memory overlay of the part of the graph the chunk touches. The writer
// lock guarantees the overlay's base does not change until commit.
type planner struct {
	owner   map[string]graph.NodeID // keyName -> owning node
	nodes   map[graph.NodeID]*nodeState
	edges   map[graph.EdgeRef]*edgeState
	newKeys []map[string]any
	docRows []map[string]any
	// resolved node ids per batch (nil for duplicates)
	ids [][]graph.NodeID
}

// applyChunk writes bs inside tx: lock, read what the chunk touches, plan
// in Go, write with UNWIND statements, calling graph.Fault after each.
func applyChunk(ctx context.Context, tx driver.ManagedTransaction, bs []*graph.Batch) ([]graph.Receipt, error) {
	if err := lockWriter(ctx, tx); err != nil {
		return nil, err
	}
	p := &planner{
		owner: map[string]graph.NodeID{},
		nodes: map[graph.NodeID]*nodeState{},
		edges: map[graph.EdgeRef]*edgeState{},
		ids:   make([][]graph.NodeID, len(bs)),
	}
	stored, err := p.loadDocs(ctx, tx, bs)
	if err != nil {
		return nil, err
	}
	if err := p.loadKeys(ctx, tx, bs, stored); err != nil {
		return nil, err
	}
	rs := make([]graph.Receipt, len(bs))
	seen := map[string]bool{}
	for i, b := range bs {
		rs[i] = graph.Receipt{Document: b.Doc.Digest, Status: b.Doc.Status()}
		if stored[b.Doc.Digest] || seen[b.Doc.Digest] {
			rs[i].Duplicate = true
			continue
		}
		seen[b.Doc.Digest] = true
		if err := p.planNodes(b, i, &rs[i]); err != nil {
			return nil, err
		}
	}
	if err := p.loadEdges(ctx, tx, bs); err != nil {
		return nil, err
	}
	for i, b := range bs {
		if p.ids[i] != nil {
			p.planEdges(b, p.ids[i], &rs[i])
		}
	}
	if err := p.write(ctx, tx); err != nil {
		return nil, err
	}
	return rs, nil
}

// loadDocs returns which of the chunk's documents are already stored.
func (p *planner) loadDocs(ctx context.Context, tx driver.ManagedTransaction, bs []*graph.Batch) (map[string]bool, error) {
	digests := make([]string, len(bs))
	for i, b := range bs {
		digests[i] = b.Doc.Digest
	}
	recs, err := run(ctx, tx, qStoredDocs, map[string]any{"ds": digests})
	if err != nil {
		return nil, fmt.Errorf("read documents: %w", err)
	}
	stored := make(map[string]bool, len(recs))
	for _, r := range recs {
		stored[str(r.Values[0])] = true
	}
	return stored, nil
}

// loadKeys reads the owners of every key the new documents name, with the
// owners' records.
func (p *planner) loadKeys(ctx context.Context, tx driver.ManagedTransaction, bs []*graph.Batch, stored map[string]bool) error {
	set := map[string]bool{}
	for _, b := range bs {
		if stored[b.Doc.Digest] {
			continue
		}
		for _, n := range b.Nodes {
			for _, k := range n.Keys {
				set[keyName(n.Kind, k)] = true
			}
		}
	}
	names := slices.Sorted(maps.Keys(set))
	for len(names) > 0 {
		part := names[:min(len(names), idsPerQuery)]
		names = names[len(part):]
		recs, err := run(ctx, tx, qKeyOwners, map[string]any{"ks": part})
		if err != nil {
			return fmt.Errorf("read keys: %w", err)
		}
		for _, r := range recs {
			id := graph.NodeID(str(r.Values[1]))
			for _, kk := range strs(r.Values[0]) {
				p.owner[kk] = id
			}
			if p.nodes[id] != nil {
				continue
			}
			attrs, err := decodeAttrs(r.Values[4])
			if err != nil {
				return fmt.Errorf("node %s: %w", id, err)
			}
			p.nodes[id] = &nodeState{kind: graph.NodeKind(str(r.Values[2])), keys: strs(r.Values[3]), attrs: attrs, docs: strs(r.Values[5])}
		}
	}
	return nil
}

// planNodes resolves each spec as graph/bolt's upsertNode does: the node
// owning the first already-owned key (in spec order), else a new node whose
// id derives from the first key; free keys are attached, keys owned by
// another node stay there.
func (p *planner) planNodes(b *graph.Batch, bi int, rc *graph.Receipt) error {
	doc := b.Doc
	if doc.IngestedAt.IsZero() {
		doc.IngestedAt = time.Now().UTC().Truncate(time.Millisecond)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("document %s: %w", doc.Digest, err)
	}
	p.docRows = append(p.docRows, map[string]any{"digest": doc.Digest, "json": string(raw)})
	ids := make([]graph.NodeID, len(b.Nodes))
	for i := range b.Nodes {
		spec := &b.Nodes[i]
		var id graph.NodeID
		found := false
		free := make([]string, 0, len(spec.Keys))
		for _, k := range spec.Keys {
			if o, ok := p.owner[keyName(spec.Kind, k)]; ok {
				if !found {
					id, found = o, true
				}
				continue
			}
			free = append(free, k)
		}
		var st *nodeState
		created := false
		if found {
			if st = p.nodes[id]; st == nil {
				return fmt.Errorf("document %s: nodes[%d]: key index points at missing node %s", doc.Digest, i, id)
			}
		} else {
			id = graph.NewNodeID(spec.Kind, spec.Keys[0])
			if p.nodes[id] != nil {
				return fmt.Errorf("document %s: nodes[%d]: node id %s already exists for another key", doc.Digest, i, id)
			}
			st = &nodeState{kind: spec.Kind, created: true}
			p.nodes[id] = st
			created = true
		}
		changed := created
		for _, k := range free {
			p.owner[keyName(spec.Kind, k)] = id
			p.newKeys = append(p.newKeys, map[string]any{"k": keyName(spec.Kind, k), "kind": string(spec.Kind), "key": k, "node": string(id)})
			st.keys, _ = graph.AddSorted(st.keys, k)
			changed = true
		}
		var c1, c2 bool
		st.attrs, c1 = graph.MergeAttrs(st.attrs, doc.Digest, spec.Attrs)
		st.docs, c2 = graph.AddSorted(st.docs, doc.Digest)
		ids[i] = id
		if !changed && !c1 && !c2 {
			continue
		}
		st.dirty = true
		if created {
			rc.NodesCreated++
		} else {
			rc.NodesTouched++
		}
	}
	p.ids[bi] = ids
	return nil
}

// loadEdges reads the stored edges the chunk's documents name; an edge with
// an end created by this chunk cannot exist yet.
func (p *planner) loadEdges(ctx context.Context, tx driver.ManagedTransaction, bs []*graph.Batch) error {
	var refs []graph.EdgeRef
	seen := map[graph.EdgeRef]bool{}
	for bi, b := range bs {
		ids := p.ids[bi]
		if ids == nil {
			continue
		}
		for _, e := range b.Edges {
			ref := graph.EdgeRef{From: ids[e.From], Kind: e.Kind, To: ids[e.To]}
			if seen[ref] || p.nodes[ref.From].created || p.nodes[ref.To].created {
				continue
			}
			seen[ref] = true
			refs = append(refs, ref)
		}
	}
	return loadEdgeRecords(ctx, tx, refs, func(ref graph.EdgeRef, attrs []graph.Attr, docs []string) {
		p.edges[ref] = &edgeState{attrs: attrs, docs: docs}
	})
}

// planEdges merges each edge's claims as graph/bolt does: an edge is
// written (and counted) only when it is new or gained a claim or evidence.
func (p *planner) planEdges(b *graph.Batch, ids []graph.NodeID, rc *graph.Receipt) {
	for _, e := range b.Edges {
		ref := graph.EdgeRef{From: ids[e.From], Kind: e.Kind, To: ids[e.To]}
		st := p.edges[ref]
		created := false
		if st == nil {
			st = &edgeState{created: true}
			p.edges[ref] = st
			created = true
		}
		var c1, c2 bool
		st.attrs, c1 = graph.MergeAttrs(st.attrs, b.Doc.Digest, e.Attrs)
		st.docs, c2 = graph.AddSorted(st.docs, b.Doc.Digest)
		if !created && !c1 && !c2 {
			continue
		}
		st.dirty = true
		if created {
			rc.EdgesCreated++
		} else {
			rc.EdgesTouched++
		}
	}
}

// write sends the plan: documents, nodes, keys, edges, each as UNWIND
// statements of at most rowsPerStatement rows. graph.Fault is consulted
// after every statement with the running count of nodes and edges written,
// so an injected fault aborts the transaction after real writes.
func (p *planner) write(ctx context.Context, tx driver.ManagedTransaction) error {
	written := 0
	// check runs q with params and checks it applied want rows: statements
	// returning counts report the rows they matched (summed over UNION
	// parts), the others are checked by the server's counters.
	check := func(what, q string, params map[string]any, want int, applied func(driver.Counters) int) error {
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
	if err := exec("documents", qCreateDocs, p.docRows, created, false); err != nil {
		return err
	}
	var newNodes, updNodes []map[string]any
	for _, id := range slices.Sorted(maps.Keys(p.nodes)) {
		st := p.nodes[id]
		if !st.dirty {
			continue
		}
		attrs, err := encodeAttrs(st.attrs)
		if err != nil {
			return fmt.Errorf("node %s: %w", id, err)
		}
		row := map[string]any{"id": string(id), "kind": string(st.kind), "keys": st.keys, "attrs": attrs, "docs": st.docs}
		if st.created {
			newNodes = append(newNodes, row)
		} else {
			updNodes = append(updNodes, row)
		}
	}
	if err := exec("nodes", qCreateNodes, newNodes, created, true); err != nil {
		return err
	}
	if err := exec("nodes", qUpdateNodes, updNodes, nil, true); err != nil {
		return err
	}
	if err := exec("keys", qCreateKeys, p.newKeys, created, false); err != nil {
		return err
	}
	var newEdges []map[string]any
	var updEdges []edgeRow
	for _, ref := range slices.SortedFunc(maps.Keys(p.edges), cmpRef) {
		st := p.edges[ref]
		if !st.dirty {
			continue
		}
		attrs, err := encodeAttrs(st.attrs)
		if err != nil {
			return fmt.Errorf("edge %s-%s->%s: %w", ref.From, ref.Kind, ref.To, err)
		}
		if st.created {
			newEdges = append(newEdges, map[string]any{"f": string(ref.From), "t": string(ref.To), "kind": string(ref.Kind), "key": edgeKey(ref.From, ref.To), "attrs": attrs, "docs": st.docs})
		} else {
			updEdges = append(updEdges, edgeRow{ref.Kind, map[string]any{"key": edgeKey(ref.From, ref.To), "attrs": attrs, "docs": st.docs}})
		}
	}
	if err := exec("edges", qCreateEdges, newEdges, func(c driver.Counters) int { return c.RelationshipsCreated() }, true); err != nil {
		return err
	}
	for len(updEdges) > 0 {
		part := updEdges[:min(len(updEdges), rowsPerStatement)]
		updEdges = updEdges[len(part):]
		params := make(map[string]any, len(graph.EdgeKinds))
		for _, k := range graph.EdgeKinds {
			params[edgeParam(k)] = []map[string]any{}
		}
		for _, r := range part {
			p := edgeParam(r.kind)
			params[p] = append(params[p].([]map[string]any), r.row)
		}
		if err := check("edges", qUpdateEdges, params, len(part), nil); err != nil {
			return err
		}
		written += len(part)
		if err := graph.Fault(ctx, written); err != nil {
			return err
		}
	}
	return nil
}

type edgeRow struct {
	kind graph.EdgeKind
	row  map[string]any
}

func cmpRef(a, b graph.EdgeRef) int {
	switch {
	case a.From != b.From:
		return cmpStr(string(a.From), string(b.From))
	case a.Kind != b.Kind:
		return int(a.Kind.Code()) - int(b.Kind.Code())
	}
	return cmpStr(string(a.To), string(b.To))
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
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

func decodeAttrs(v any) ([]graph.Attr, error) {
	s, _ := v.(string)
	if s == "" {
		return nil, nil
	}
	var as []graph.Attr
	if err := json.Unmarshal([]byte(s), &as); err != nil {
		return nil, fmt.Errorf("stored attributes are corrupt: %w", err)
	}
	if len(as) == 0 {
		return nil, nil
	}
	return as, nil
}
