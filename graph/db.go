package graph

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"time"
)

// Options tune a DB.
type Options struct {
	// MaxGroup caps how many concurrent Apply calls share one transaction
	// (group commit); DefaultMaxGroup when 0.
	MaxGroup int
	// MaxGroupItems caps the nodes and edges of one grouped transaction
	// (none when 0); a single document is never split.
	MaxGroupItems int
	// ChunkApplyAll makes ApplyAll write in transactions within the two
	// caps instead of one: when a later one fails the earlier ones stay
	// committed, the error says how many documents were written and the
	// receipts returned are theirs (applying the call again is safe:
	// stored documents are duplicates). For servers, whose transaction
	// state lives in their heap.
	ChunkApplyAll bool
	// Writers is how many groups of concurrent Apply calls may be written
	// at once, each in its own transaction (1 when 0): for drivers whose
	// transactions lock only what they touch (graph/neo4j), so groups
	// sharing nothing commit in parallel and the others wait for each
	// other in the backend.
	Writers int
}

// DefaultMaxGroup is Options.MaxGroup's default.
const DefaultMaxGroup = 256

// DB is the one Store: a Driver under the rules every backend shares. It
// validates batches and read requests; plans each write with the one write
// algorithm (ApplyNodes, ApplyEdges: identity, merges, evidence, receipts)
// over the driver's transaction; group-commits concurrent Apply calls
// (a document that fails in a group is retried alone, so it never takes
// another's write with it); runs the walk (Walk, or the driver's
// Traverser); injects faults (WithFault); and refuses calls after Close.
// It is safe for concurrent use.
type DB struct {
	drv  Driver
	opts Options
	now  func() time.Time

	mu     sync.RWMutex
	closed bool

	group groupQueue
}

var _ Store = (*DB)(nil)

// Open makes drv a Store. The DB owns drv: Close closes it.
func Open(drv Driver, opts Options) *DB {
	if opts.MaxGroup <= 0 {
		opts.MaxGroup = DefaultMaxGroup
	}
	return &DB{drv: drv, opts: opts, now: func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }}
}

// enter holds the close lock for the duration of an operation.
func (d *DB) enter() (release func(), err error) {
	d.mu.RLock()
	if d.closed {
		d.mu.RUnlock()
		return nil, ErrClosed
	}
	return d.mu.RUnlock, nil
}

// Close waits for the calls in flight, then closes the driver. Later calls
// fail with ErrClosed; a second Close does nothing.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	return d.drv.Close()
}

// Check verifies the stored graph's invariants through the driver's
// Checker; a driver without one fails it (the contract harness runs it
// after every test). It scans the whole graph: for tests and operators,
// not for request paths.
func (d *DB) Check(ctx context.Context) error {
	release, err := d.enter()
	if err != nil {
		return err
	}
	defer release()
	c, ok := d.drv.(Checker)
	if !ok {
		return fmt.Errorf("graph: check: driver %T has no invariant check (graph.Checker)", d.drv)
	}
	return c.Check(ctx)
}

// ---- writes ----

func validate(bs []*Batch) error {
	for _, b := range bs {
		if b == nil {
			return fmt.Errorf("%w: nil batch", ErrInvalidBatch)
		}
		if err := b.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Apply writes one document atomically; see Writer. Concurrent calls
// share transactions: the first caller leads, writing every document
// queued while it works (up to the Options caps per transaction), planned
// one after the other, so each receipt is what applying them in sequence
// gives; up to Options.Writers callers lead at once, each writing its own
// groups (the driver orders overlapping transactions, so receipts are
// those of the commit order). A call whose context asks for a fault
// (WithFault) runs alone.
func (d *DB) Apply(ctx context.Context, b *Batch) (Receipt, error) {
	if err := validate([]*Batch{b}); err != nil {
		return Receipt{}, err
	}
	if err := ctx.Err(); err != nil {
		return Receipt{}, err
	}
	release, err := d.enter()
	if err != nil {
		return Receipt{}, err
	}
	defer release()
	if Fault(ctx, math.MaxInt) != nil {
		return d.applyOne(ctx, b)
	}
	req := &applyReq{ctx: ctx, b: b, done: make(chan applyRes, 1)}
	d.group.mu.Lock()
	d.group.queue = append(d.group.queue, req)
	if d.group.leaders >= max(1, d.opts.Writers) {
		d.group.mu.Unlock()
		res := <-req.done // not abandoned on ctx cancel: it is queued
		return res.r, res.err
	}
	d.group.leaders++
	d.group.mu.Unlock()
	d.lead(req)
	res := <-req.done
	return res.r, res.err
}

// ApplyAll validates every batch, then writes them in one transaction
// (or in chunks: Options.ChunkApplyAll); see Writer.
func (d *DB) ApplyAll(ctx context.Context, bs []*Batch) ([]Receipt, error) {
	if err := validate(bs); err != nil {
		return nil, err
	}
	if len(bs) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	release, err := d.enter()
	if err != nil {
		return nil, err
	}
	defer release()
	if !d.opts.ChunkApplyAll {
		return d.write(ctx, bs)
	}
	out := make([]Receipt, 0, len(bs))
	for start := 0; start < len(bs); {
		end := d.chunkEnd(bs, start)
		rs, err := d.write(ctx, bs[start:end])
		if err != nil {
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

func (d *DB) applyOne(ctx context.Context, b *Batch) (Receipt, error) {
	rs, err := d.write(ctx, []*Batch{b})
	if err != nil {
		return Receipt{}, err
	}
	return rs[0], nil
}

// chunkEnd returns the end of the transaction starting at bs[start]:
// at most MaxGroup documents and MaxGroupItems nodes and edges, at least
// one document.
func (d *DB) chunkEnd(bs []*Batch, start int) int {
	items := 0
	end := start
	for end < len(bs) && end-start < d.opts.MaxGroup {
		n := len(bs[end].Nodes) + len(bs[end].Edges)
		if d.opts.MaxGroupItems > 0 && end > start && items+n > d.opts.MaxGroupItems {
			break
		}
		items += n
		end++
	}
	return end
}

type applyReq struct {
	ctx  context.Context
	b    *Batch
	done chan applyRes
}

type applyRes struct {
	r   Receipt
	err error
}

// groupQueue holds the Apply calls waiting for the leader.
type groupQueue struct {
	mu      sync.Mutex
	queue   []*applyReq
	leaders int // goroutines writing groups (at most Options.Writers)
}

// lead writes queued documents in groups until its own (mine) is done;
// then, if others are queued, it hands the leadership to a goroutine.
func (d *DB) lead(mine *applyReq) {
	for {
		d.group.mu.Lock()
		if len(d.group.queue) == 0 {
			d.group.leaders--
			d.group.mu.Unlock()
			return
		}
		if len(mine.done) > 0 {
			d.group.mu.Unlock()
			go d.lead(&applyReq{done: make(chan applyRes, 1)})
			return
		}
		batches := make([]*Batch, len(d.group.queue))
		for i, r := range d.group.queue {
			batches[i] = r.b
		}
		n := d.chunkEnd(batches, 0)
		group := slices.Clone(d.group.queue[:n])
		d.group.queue = slices.Delete(d.group.queue, 0, n)
		d.group.mu.Unlock()
		d.applyGroup(group)
	}
}

// applyGroup writes group in one transaction, or each alone when that
// fails. A caller whose context ended before the write is left out.
func (d *DB) applyGroup(group []*applyReq) {
	live := group[:0]
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.done <- applyRes{err: err}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	if len(live) > 1 {
		bs := make([]*Batch, len(live))
		for i, r := range live {
			bs[i] = r.b
		}
		// The group's transaction is not cancelled with its first caller.
		rs, err := d.write(context.WithoutCancel(live[0].ctx), bs)
		if err == nil {
			for i, r := range live {
				r.done <- applyRes{r: rs[i]}
			}
			return
		}
	}
	for _, r := range live {
		rc, err := d.applyOne(r.ctx, r.b)
		r.done <- applyRes{r: rc, err: err}
	}
}

// write applies bs (validated) in one driver transaction.
func (d *DB) write(ctx context.Context, bs []*Batch) ([]Receipt, error) {
	var rs []Receipt
	err := d.drv.Update(ctx, func(tx Tx) error {
		var err error
		rs, err = d.applyTx(ctx, tx, bs)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rs, nil
}

// applyTx decides and writes bs inside tx: documents already stored (or
// earlier in bs) are duplicates; the others go through the write
// algorithm, over the driver's records or a Planner.
func (d *DB) applyTx(ctx context.Context, tx Tx, bs []*Batch) ([]Receipt, error) {
	digests := make([]string, len(bs))
	for i, b := range bs {
		digests[i] = b.Doc.Digest
	}
	stored, err := tx.Stored(digests)
	if err != nil {
		return nil, err
	}
	rs := make([]Receipt, len(bs))
	fresh := make([]bool, len(bs))
	seen := make(map[string]bool, len(bs))
	for i, b := range bs {
		rs[i] = Receipt{Document: b.Doc.Digest, Status: b.Doc.Status()}
		if stored[b.Doc.Digest] || seen[b.Doc.Digest] {
			rs[i].Duplicate = true
			continue
		}
		seen[b.Doc.Digest] = true
		fresh[i] = true
	}
	switch t := tx.(type) {
	case RecordTx:
		return rs, d.applyRecords(ctx, t, bs, fresh, rs)
	case PlanTx:
		return rs, d.applyPlan(ctx, t, bs, fresh, rs)
	}
	return nil, fmt.Errorf("graph: driver transaction %T is neither a PlanTx nor a RecordTx", tx)
}

// applyRecords runs the write algorithm over the driver's records.
func (d *DB) applyRecords(ctx context.Context, t RecordTx, bs []*Batch, fresh []bool, rs []Receipt) error {
	st := &faultState{Records: t, ctx: ctx}
	for i, b := range bs {
		if !fresh[i] {
			continue
		}
		doc := b.Doc
		if doc.IngestedAt.IsZero() {
			doc.IngestedAt = d.now()
		}
		if err := t.PutDocument(doc); err != nil {
			return fmt.Errorf("document %s: %w", doc.Digest, err)
		}
		ids, err := ApplyNodes(st, b, &rs[i])
		if err != nil {
			return err
		}
		if err := ApplyEdges(st, b, ids, &rs[i]); err != nil {
			return err
		}
	}
	return nil
}

// applyPlan plans bs with a Planner over t and writes the plan.
func (d *DB) applyPlan(ctx context.Context, t PlanTx, bs []*Batch, fresh []bool, rs []Receipt) error {
	p := NewPlanner(t)
	p.now = d.now
	var todo []*Batch
	for i, b := range bs {
		if fresh[i] {
			todo = append(todo, b)
		}
	}
	if err := p.Preload(todo); err != nil {
		return err
	}
	at := make([]int, len(bs))
	for i, b := range bs {
		at[i] = -1
		if !fresh[i] {
			continue
		}
		var err error
		if at[i], err = p.Apply(b); err != nil {
			return err
		}
	}
	plan, err := p.Plan()
	if err != nil {
		return err
	}
	prs := p.Receipts()
	for i := range bs {
		if at[i] >= 0 {
			rs[i] = prs[at[i]]
		}
	}
	return t.Put(ctx, plan)
}

// faultState is a RecordTx's records as the write algorithm's WriteState:
// Wrote counts the writes and fails when the context asks (WithFault).
type faultState struct {
	Records
	ctx     context.Context
	written int
}

func (s *faultState) Wrote() error {
	s.written++
	return Fault(s.ctx, s.written)
}

// ---- reads ----

// Node implements Reader.
func (d *DB) Node(ctx context.Context, id NodeID) (Node, error) {
	if !id.Valid() {
		return Node{}, fmt.Errorf("node %q: %w", truncate(string(id), 40), ErrNotFound)
	}
	release, err := d.enter()
	if err != nil {
		return Node{}, err
	}
	defer release()
	return d.drv.Node(ctx, id)
}

// Lookup implements Reader.
func (d *DB) Lookup(ctx context.Context, key string) ([]Node, error) {
	k, err := NormalizeKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: lookup: %w", ErrInvalidQuery, err)
	}
	release, err := d.enter()
	if err != nil {
		return nil, err
	}
	defer release()
	return d.drv.Lookup(ctx, k)
}

// Nodes implements Reader.
func (d *DB) Nodes(ctx context.Context, q NodeQuery) ([]Node, error) {
	limit, err := CheckNodeQuery(q)
	if err != nil {
		return nil, err
	}
	q.Limit = limit
	release, err := d.enter()
	if err != nil {
		return nil, err
	}
	defer release()
	return d.drv.Nodes(ctx, q)
}

// Edges implements Reader. Unknown kinds match nothing.
func (d *DB) Edges(ctx context.Context, id NodeID, dir Direction, kinds ...EdgeKind) ([]Edge, error) {
	if !dir.Valid() {
		return nil, fmt.Errorf("%w: edges: direction %d is not valid", ErrInvalidQuery, dir)
	}
	if !id.Valid() {
		return nil, fmt.Errorf("node %q: %w", truncate(string(id), 40), ErrNotFound)
	}
	release, err := d.enter()
	if err != nil {
		return nil, err
	}
	defer release()
	valid := slices.DeleteFunc(slices.Clone(kinds), func(k EdgeKind) bool { return !k.Valid() })
	if len(kinds) > 0 && len(valid) == 0 {
		return []Edge{}, nil
	}
	if er, ok := d.drv.(EdgeReader); ok {
		return er.Edges(ctx, id, dir, valid...)
	}
	adj, err := d.drv.Adjacent(ctx, []NodeID{id}, dir, valid)
	if err != nil {
		return nil, err
	}
	if len(adj) != 1 {
		return nil, fmt.Errorf("edges: driver returned %d adjacency lists for one node", len(adj))
	}
	hs := adj[0]
	SortHalfEdges(hs)
	refs := make([]EdgeRef, 0, len(hs))
	for _, h := range hs {
		if !dir.Follows(h.Kind, h.Forward) {
			continue
		}
		if h.Forward {
			refs = append(refs, EdgeRef{From: id, Kind: h.Kind, To: h.Peer})
		} else {
			refs = append(refs, EdgeRef{From: h.Peer, Kind: h.Kind, To: id})
		}
	}
	return d.drv.LoadEdges(ctx, refs)
}

// Traverse implements Reader: Walk over the driver, or the driver's own
// Traverser (which runs Walk inside its read transaction).
func (d *DB) Traverse(ctx context.Context, req TraverseRequest) (TraverseResult, error) {
	if err := CheckTraverse(&req); err != nil {
		return TraverseResult{}, err
	}
	release, err := d.enter()
	if err != nil {
		return TraverseResult{}, err
	}
	defer release()
	if tr, ok := d.drv.(Traverser); ok {
		return tr.Traverse(ctx, req)
	}
	return Walk(ctx, d.drv, req)
}

// Documents implements Reader.
func (d *DB) Documents(ctx context.Context, digests ...string) ([]Document, error) {
	want := make([]string, len(digests))
	for i, dg := range digests {
		if nd, err := NormalizeKey(dg); err == nil {
			dg = nd
		}
		want[i] = dg
	}
	release, err := d.enter()
	if err != nil {
		return nil, err
	}
	defer release()
	return d.drv.Documents(ctx, want...)
}

// Stats implements Reader.
func (d *DB) Stats(ctx context.Context) (Stats, error) {
	release, err := d.enter()
	if err != nil {
		return Stats{}, err
	}
	defer release()
	return d.drv.Stats(ctx)
}

// As exposes a capability of the driver that the Store contract does not
// name (go-cloud's As): target must be a non-nil pointer to an interface
// type; when the driver implements that interface, *target is set to the
// driver and As reports true. Used for optional features a caller can do
// without, such as a backend's own full-text index (search.FullText).
// Calls through the capability bypass the DB (no ErrClosed check, no
// fault injection); a capability is read-only by convention.
func (d *DB) As(target any) bool {
	v := reflect.ValueOf(target)
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Interface {
		return false
	}
	dv := reflect.ValueOf(d.drv)
	if !dv.IsValid() || !dv.Type().Implements(v.Elem().Type()) {
		return false
	}
	v.Elem().Set(dv)
	return true
}
