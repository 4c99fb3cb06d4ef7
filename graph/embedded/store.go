// Package bolt is the embedded graph store: one bbolt file under the data
// dir, fsynced before a write is acknowledged, with an in-memory adjacency
// index for fast traversal (loaded from the snapshot a clean Close leaves
// next to the file, else rebuilt from the store). One writer, many readers;
// concurrent Apply calls are group-committed (one fsync for many
// documents). docs/performance.md has the figures and the profiles behind
// the design: binary records, a per-transaction write cache flushed in key
// order, long evidence lists spilled into their own buckets.
package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/modelgraph/modelgraph/graph"
)

// Bucket layout (schema version 3):
//
//	meta    "version" -> "3"
//	docs    digest -> JSON graph.Document
//	nodes   id(16) -> nodeRec (binary, codec.go; keys carry their evidence)
//	keys    key 0x00 kindcode -> id(16)
//	kinds   kindcode id(16) -> nil       (list nodes by kind in id order)
//	edges   from(16) kindcode to(16) -> edgeRec (binary; JSON in version 1)
//	aliases id(16) -> id(16)             (an id a merge absorbed -> the absorbing node,
//	                                      which may itself be an alias: follow the chain)
var (
	bMeta  = []byte("meta")
	bDocs  = []byte("docs")
	bNodes = []byte("nodes")
	bKeys  = []byte("keys")
	bKinds = []byte("kinds")
	bEdges = []byte("edges")
	// Spilled evidence lists (codec.go).
	bNodeEv = []byte("nodeev")
	bEdgeEv = []byte("edgeev")
	// Ids absorbed by merges.
	bAliases = []byte("aliases")
)

var buckets = [][]byte{bMeta, bDocs, bNodes, bKeys, bKinds, bEdges, bNodeEv, bEdgeEv, bAliases}

// schemaVersion 3 stores per-key evidence in node records and merges nodes
// whose keys a document joins (aliases bucket). Stores of versions 1 and 2
// are refused: their nodes lack per-key evidence and may hold nodes that
// the identity rule now merges, and neither can be reconstructed without
// the documents. Re-ingest them into a new store.
const schemaVersion = "3"

// Options tune Open.
type Options struct {
	// Timeout waits this long for the file lock held by another process
	// (default 2 s) instead of hanging.
	Timeout time.Duration
	// MaxGroup caps how many concurrent documents share one commit
	// (default 256).
	MaxGroup int
	// NoIndexSnapshot always rebuilds the in-memory index from the store at
	// open and saves none at close (see snapshot.go).
	NoIndexSnapshot bool
}

// Store is the embedded backend. It implements graph.Store.
type Store struct {
	path     string
	opts     Options
	db       *bbolt.DB
	idx      *index
	reqs     chan *applyReq
	maxGroup int
	done     chan struct{}
	closeMu  sync.RWMutex
	closed   bool
}

var (
	_ graph.Store      = (*Store)(nil)
	_ graph.WriteState = (*txWriter)(nil)
)

type nodeRec struct {
	Kind    graph.NodeKind   `json:"k"`
	Keys    []string         `json:"keys"`
	Attrs   []graph.Attr     `json:"a,omitempty"`
	Docs    []string         `json:"d"`
	KeyDocs []graph.KeyClaim `json:"kd,omitempty"`
	Joins   []graph.KeyJoin  `json:"j,omitempty"`
}

type edgeRec struct {
	Attrs []graph.Attr `json:"a,omitempty"`
	Docs  []string     `json:"d"`
}

// Open opens (creating if needed) the store at path and rebuilds the index.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.MaxGroup <= 0 {
		opts.MaxGroup = 256
	}
	// The freelist is synced: without it bbolt rebuilds it at open by
	// visiting every page of the file, which at a million nodes takes
	// seconds and leaves the whole file mapped into the process.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: opts.Timeout, FreelistType: bbolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("open graph store %q: %w", path, err)
	}
	// Only write when there is something to create or upgrade: a commit
	// would also make the index snapshot look stale.
	ready := false
	_ = db.View(func(tx *bbolt.Tx) error {
		ready = true
		for _, name := range buckets {
			ready = ready && tx.Bucket(name) != nil
		}
		ready = ready && string(tx.Bucket(bMeta).Get([]byte("version"))) == schemaVersion
		return nil
	})
	if !ready {
		if err := db.Update(func(tx *bbolt.Tx) error {
			for _, name := range buckets {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			meta := tx.Bucket(bMeta)
			switch v := meta.Get([]byte("version")); {
			case v == nil:
				if tx.Bucket(bNodes).Stats().KeyN > 0 {
					return errors.New("graph store has nodes but no schema version")
				}
				return meta.Put([]byte("version"), []byte(schemaVersion))
			case string(v) == "1" || string(v) == "2":
				return fmt.Errorf("graph store schema version %s predates per-key evidence and merged node identity (version %s); "+
					"it cannot be upgraded in place: ingest the documents again into a new store", v, schemaVersion)
			case string(v) != schemaVersion:
				return fmt.Errorf("graph store schema version %q, this binary reads %q", v, schemaVersion)
			}
			return nil
		}); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("open graph store %q: %w", path, err)
		}
	}
	s := &Store{path: path, opts: opts, db: db, reqs: make(chan *applyReq, opts.MaxGroup), maxGroup: opts.MaxGroup, done: make(chan struct{})}
	if !opts.NoIndexSnapshot {
		if txid, err := txID(db); err == nil {
			s.idx, _ = loadSnapshot(snapshotPath(path), txid)
		}
	}
	if s.idx == nil {
		if s.idx, err = rebuild(db); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("open graph store %q: rebuild index: %w", path, err)
		}
	}
	go s.writer()
	return s, nil
}

func txID(db *bbolt.DB) (uint64, error) {
	var id uint64
	err := db.View(func(tx *bbolt.Tx) error { id = uint64(tx.ID()); return nil })
	return id, err
}

func rebuild(db *bbolt.DB) (*index, error) {
	x := newIndex()
	err := db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bKinds).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) != 17 {
				return fmt.Errorf("kinds: bad key length %d", len(k))
			}
			x.addNode([16]byte(k[1:]), k[0])
		}
		// Edges come sorted by their From id: look each From up once.
		var from [16]byte
		f, fok := uint32(0), false
		c = tx.Bucket(bEdges).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) != 33 {
				return fmt.Errorf("edges: bad key length %d", len(k))
			}
			if [16]byte(k[:16]) != from || f == 0 && !fok {
				from = [16]byte(k[:16])
				f, fok = x.ord[from]
			}
			t, tok := x.ord[[16]byte(k[17:])]
			if fok && tok {
				x.addEdgeOrd(f, t, k[16])
			}
		}
		x.docs = int64(tx.Bucket(bDocs).Stats().KeyN)
		return nil
	})
	return x, err
}

// Close waits for pending writes and closes the file.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.reqs)
	s.closeMu.Unlock()
	<-s.done
	if !s.opts.NoIndexSnapshot {
		// Best effort: without a snapshot the next open rebuilds.
		snap := snapshotPath(s.path)
		if txid, err := txID(s.db); err != nil || saveSnapshot(snap, s.idx, txid) != nil {
			_ = os.Remove(snap)
		}
	}
	return s.db.Close()
}

// DB exposes the bbolt handle for backups (bbolt's Tx.WriteTo) and checks.
func (s *Store) DB() *bbolt.DB { return s.db }

type applyReq struct {
	ctx      context.Context
	batches  []*graph.Batch
	receipts []graph.Receipt
	delta    delta
	err      error
	done     chan struct{}
}

// Apply writes one document atomically; see graph.Writer.
func (s *Store) Apply(ctx context.Context, b *graph.Batch) (graph.Receipt, error) {
	rs, err := s.submit(ctx, []*graph.Batch{b})
	if err != nil {
		return graph.Receipt{}, err
	}
	return rs[0], nil
}

// ApplyAll writes many documents in one transaction; see graph.Writer.
func (s *Store) ApplyAll(ctx context.Context, bs []*graph.Batch) ([]graph.Receipt, error) {
	if len(bs) == 0 {
		return nil, nil
	}
	return s.submit(ctx, bs)
}

func (s *Store) submit(ctx context.Context, bs []*graph.Batch) ([]graph.Receipt, error) {
	for _, b := range bs {
		if b == nil {
			return nil, fmt.Errorf("%w: nil batch", graph.ErrInvalidBatch)
		}
		if err := b.Validate(); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req := &applyReq{ctx: ctx, batches: bs, done: make(chan struct{})}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return nil, graph.ErrClosed
	}
	s.reqs <- req
	s.closeMu.RUnlock()
	<-req.done // the write is not abandoned on ctx cancel: it is already queued
	if req.err != nil {
		return nil, req.err
	}
	return req.receipts, nil
}

// writer is the single writing goroutine. It takes every request queued
// while the previous commit was syncing and commits them together: a lone
// request pays no waiting, concurrent ones share an fsync. If one request
// fails, the group is rolled back and the others are retried without it,
// so a failing document never takes another's write with it.
func (s *Store) writer() {
	defer close(s.done)
	for first := range s.reqs {
		group := []*applyReq{first}
	drain:
		for len(group) < s.maxGroup {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break drain
				}
				group = append(group, r)
			default:
				break drain
			}
		}
		s.commit(group)
	}
}

func (s *Store) commit(group []*applyReq) {
	for len(group) > 0 {
		failed := -1
		err := s.db.Update(func(tx *bbolt.Tx) error {
			c := newTxCache(tx)
			for i, r := range group {
				if err := r.run(c, s.idx); err != nil {
					failed = i
					return err
				}
			}
			return c.flush()
		})
		if failed >= 0 {
			r := group[failed]
			group = slices.Delete(group, failed, failed+1)
			if len(group) > 0 {
				// Retry the failed one alone so a transient interaction with
				// the group is not blamed on it.
				r.err = s.db.Update(func(tx *bbolt.Tx) error {
					c := newTxCache(tx)
					if err := r.run(c, s.idx); err != nil {
						return err
					}
					return c.flush()
				})
			} else {
				r.err = err
			}
			if r.err == nil {
				s.idx.apply(&r.delta)
			}
			close(r.done)
			continue
		}
		for _, r := range group {
			r.err = err
			if err == nil {
				s.idx.apply(&r.delta)
			}
			close(r.done)
		}
		return
	}
}

// run applies the request's batches through c, resetting its results first
// because a group may be retried.
func (r *applyReq) run(c *txCache, idx *index) error {
	r.receipts = r.receipts[:0]
	r.delta = delta{}
	w := &txWriter{c: c, idx: idx, ctx: r.ctx, delta: &r.delta}
	for _, b := range r.batches {
		rc, err := w.apply(b)
		if err != nil {
			return err
		}
		r.receipts = append(r.receipts, rc)
	}
	return nil
}

type txWriter struct {
	c       *txCache
	idx     *index // committed adjacency (merges find a node's edges here)
	doc     string // the document being applied, and its raw form
	ref     docRef
	ctx     context.Context
	delta   *delta
	written int
}

func (w *txWriter) tick() error {
	w.written++
	return graph.Fault(w.ctx, w.written)
}

func (w *txWriter) apply(b *graph.Batch) (graph.Receipt, error) {
	doc := b.Doc
	rc := graph.Receipt{Document: doc.Digest, Status: doc.Status()}
	if w.c.hasDoc(doc.Digest) {
		rc.Duplicate = true
		return rc, nil
	}
	if doc.IngestedAt.IsZero() {
		doc.IngestedAt = time.Now().UTC().Truncate(time.Millisecond)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return rc, err
	}
	w.c.putDoc(doc.Digest, raw)
	w.delta.docs++
	w.doc, w.ref = doc.Digest, toDocRef(doc.Digest)
	// The write algorithm is graph's (graph/apply.go); txWriter supplies
	// the record primitives.
	ids, err := graph.ApplyNodes(w, b, &rc)
	if err != nil {
		return rc, err
	}
	if err := graph.ApplyEdges(w, b, ids, &rc); err != nil {
		return rc, err
	}
	return rc, nil
}

// docRef returns the raw form of doc (the document being applied).
func (w *txWriter) docRef(doc string) docRef {
	if doc == w.doc {
		return w.ref
	}
	return toDocRef(doc)
}

// Owner implements graph.WriteState.
func (w *txWriter) Owner(kind graph.NodeKind, key string) (graph.NodeID, error) {
	if v, ok := w.c.key(key, kind.Code()); ok {
		return graph.NodeIDFromBytes(v[:]), nil
	}
	return "", nil
}

// node returns the record of id, which must exist.
func (w *txWriter) node(id graph.NodeID) (*wNode, error) {
	rec, err := w.c.node(id.Bytes())
	if err != nil {
		return nil, fmt.Errorf("node %s is corrupt: %w", id, err)
	}
	if rec == nil {
		return nil, fmt.Errorf("key index or plan points at missing node %s", id)
	}
	return rec, nil
}

// KeyCount implements graph.WriteState.
func (w *txWriter) KeyCount(id graph.NodeID) (int, error) {
	rec, err := w.node(id)
	if err != nil {
		return 0, err
	}
	return len(rec.keys), nil
}

// Exists implements graph.WriteState.
func (w *txWriter) Exists(id graph.NodeID) (bool, error) {
	rec, err := w.c.node(id.Bytes())
	return rec != nil, err
}

// Create implements graph.WriteState.
func (w *txWriter) Create(id graph.NodeID, kind graph.NodeKind) error {
	b := id.Bytes()
	w.c.newNode(b, kind)
	w.delta.nodes = append(w.delta.nodes, nodeAdd{id: b, kind: kind.Code()})
	return nil
}

// Fold implements graph.WriteState.
func (w *txWriter) Fold(from, into graph.NodeID) error {
	dst, err := w.node(into)
	if err != nil {
		return err
	}
	return w.absorb(from.Bytes(), into.Bytes(), dst)
}

// Current implements graph.WriteState.
func (w *txWriter) Current(id graph.NodeID) graph.NodeID {
	if len(w.c.aliases) == 0 {
		return id
	}
	b := id.Bytes()
	if r := w.c.resolve(b); r != b {
		return graph.NodeIDFromBytes(r[:])
	}
	return id
}

// AttachKey implements graph.WriteState.
func (w *txWriter) AttachKey(id graph.NodeID, kind graph.NodeKind, key string) error {
	rec, err := w.node(id)
	if err != nil {
		return err
	}
	b := id.Bytes()
	w.c.putKey(key, kind.Code(), b)
	rec.addKey(key)
	w.c.dirtyNode(b)
	return nil
}

// AddNodeEvidence implements graph.WriteState.
func (w *txWriter) AddNodeEvidence(id graph.NodeID, doc string, named []string, claims map[string]string) (bool, error) {
	rec, err := w.node(id)
	if err != nil {
		return false, err
	}
	ref := w.docRef(doc)
	changed := false
	for _, k := range named {
		if rec.addKeyDoc(k, ref) {
			changed = true
		}
	}
	if rec.addJoin(named, ref) {
		changed = true
	}
	var c1 bool
	rec.attrs, c1 = mergeAttrs(rec.attrs, ref, claims)
	if rec.docs.add(ref) || c1 {
		changed = true
	}
	if changed {
		w.c.dirtyNode(id.Bytes())
	}
	return changed, nil
}

// AddEdgeEvidence implements graph.WriteState.
func (w *txWriter) AddEdgeEvidence(r graph.EdgeRef, doc string, claims map[string]string) (created, changed bool, err error) {
	var key [33]byte
	from, to := r.From.Bytes(), r.To.Bytes()
	copy(key[:16], from[:])
	key[16] = r.Kind.Code()
	copy(key[17:], to[:])
	rec, created, err := w.c.edge(key)
	if err != nil {
		return false, false, fmt.Errorf("stored edge is corrupt: %w", err)
	}
	ref := w.docRef(doc)
	var c1 bool
	rec.attrs, c1 = mergeAttrs(rec.attrs, ref, claims)
	changed = rec.docs.add(ref) || c1
	if !created && !changed {
		return false, false, nil
	}
	w.c.dirtyEdge(key)
	if created {
		w.delta.edges = append(w.delta.edges, edgeAdd{from: from, to: to, kind: key[16]})
	}
	return created, changed, nil
}

// Wrote implements graph.WriteState.
func (w *txWriter) Wrote() error { return w.tick() }

// absorb folds node a into node into (record dst): keys, key evidence,
// claims and documents move, every edge of a is re-pointed (merging with
// an edge already there; a loop stays a loop), a is deleted and becomes
// an alias of into. Receipts do not count the moved edges.
func (w *txWriter) absorb(a, into [16]byte, dst *wNode) error {
	src, err := w.c.node(a)
	if err != nil {
		return err
	}
	if src == nil {
		return fmt.Errorf("node %x is missing", a)
	}
	kc := src.kind.Code()
	for i := range src.keys {
		k := &src.keys[i]
		w.c.putKey(k.key, kc, into)
		ds, err := k.docs.fresh()
		if err != nil {
			return err
		}
		j, found := dst.keyIndex(k.key)
		if found {
			return fmt.Errorf("key %q is on both nodes", k.key)
		}
		dst.keys = slices.Insert(dst.keys, j, wKey{key: k.key, docs: ds})
	}
	if dst.attrs, err = mergeWAttrs(dst.attrs, src.attrs); err != nil {
		return err
	}
	for i := range src.joins {
		j := &src.joins[i]
		k, found := dst.joinIndex(j.id)
		if !found {
			ds, err := j.docs.fresh()
			if err != nil {
				return err
			}
			dst.joins = slices.Insert(dst.joins, k, wJoin{keys: j.keys, id: j.id, docs: ds})
			continue
		}
		if _, err := dst.joins[k].docs.addAll(&j.docs); err != nil {
			return err
		}
	}
	if _, err := dst.docs.addAll(&src.docs); err != nil {
		return err
	}
	w.c.dirtyNode(into)
	// Every edge of a: committed ones from the index, this transaction's
	// from the cache; re-pointed ones already gone are skipped.
	seen := map[[33]byte]bool{}
	var moving [][33]byte
	add := func(k [33]byte) {
		if seen[k] {
			return
		}
		seen[k] = true
		if e, ok := w.c.edges[k]; ok && e.deleted {
			return
		}
		moving = append(moving, k)
	}
	for _, k := range w.idx.incident(a) {
		add(k)
	}
	for _, k := range w.c.created[a] {
		add(k)
	}
	slices.SortFunc(moving, func(x, y [33]byte) int { return bytes.Compare(x[:], y[:]) })
	for _, k := range moving {
		old, created, err := w.c.edge(k)
		if err != nil {
			return fmt.Errorf("edge %x is corrupt: %w", k, err)
		}
		if created {
			return fmt.Errorf("edge %x is in the index but not stored", k)
		}
		nk := k
		if [16]byte(k[:16]) == a {
			copy(nk[:16], into[:])
		}
		if [16]byte(k[17:]) == a {
			copy(nk[17:], into[:])
		}
		dstE, created, err := w.c.edge(nk)
		if err != nil {
			return fmt.Errorf("edge %x is corrupt: %w", nk, err)
		}
		if dstE.attrs, err = mergeWAttrs(dstE.attrs, old.attrs); err != nil {
			return err
		}
		if _, err := dstE.docs.addAll(&old.docs); err != nil {
			return err
		}
		w.c.dirtyEdge(nk)
		w.c.deleteEdge(k)
		w.delta.delEdges = append(w.delta.delEdges, edgeAdd{from: [16]byte(k[:16]), to: [16]byte(k[17:]), kind: k[16]})
		if created {
			w.delta.edges = append(w.delta.edges, edgeAdd{from: [16]byte(nk[:16]), to: [16]byte(nk[17:]), kind: nk[16]})
		}
	}
	w.c.deleteNode(a, into)
	w.delta.delNodes = append(w.delta.delNodes, a)
	return nil
}

func keyIndexKey(k string, kind uint8) []byte {
	b := make([]byte, 0, len(k)+2)
	b = append(b, k...)
	return append(b, 0, kind)
}

// ---- reads ----

func (s *Store) view(fn func(tx *bbolt.Tx) error) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return graph.ErrClosed
	}
	return s.db.View(fn)
}

// loadNode reads node id; nid is its string form when the caller has it
// (saves formatting it again), a the arena for its strings (may be nil).
func loadNode(tx *bbolt.Tx, id [16]byte, nid graph.NodeID, a *arena) (graph.Node, error) {
	v := tx.Bucket(bNodes).Get(id[:])
	if v == nil {
		return graph.Node{}, fmt.Errorf("node %x: %w", id, graph.ErrNotFound)
	}
	var rec nodeRec
	if err := decodeNodeIn(v, &rec, a, &spillReader{tx: tx, name: bNodeEv, owner: id[:]}); err != nil {
		return graph.Node{}, fmt.Errorf("node %x is corrupt: %w", id, err)
	}
	if nid == "" {
		nid = graph.NodeIDFromBytes(id[:])
	}
	return graph.Node{ID: nid, Kind: rec.Kind, Keys: rec.Keys, Attrs: nonNil(rec.Attrs), Docs: rec.Docs, KeyDocs: rec.KeyDocs, Joins: rec.Joins}, nil
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
	var n graph.Node
	err := s.view(func(tx *bbolt.Tx) (err error) {
		n, err = loadNode(tx, id.Bytes(), id, nil)
		if !errors.Is(err, graph.ErrNotFound) {
			return err
		}
		// An id a merge absorbed: follow its aliases.
		cur := id.Bytes()
		for range maxAliasHops {
			to := tx.Bucket(bAliases).Get(cur[:])
			if len(to) != 16 {
				break
			}
			cur = [16]byte(to)
			if tx.Bucket(bNodes).Get(cur[:]) != nil {
				n, err = loadNode(tx, cur, "", nil)
				return err
			}
		}
		return err
	})
	return n, err
}

// maxAliasHops bounds the alias chain Node follows (each hop is a merge
// that happened after the previous one).
const maxAliasHops = 64

// Lookup implements graph.Reader.
func (s *Store) Lookup(ctx context.Context, key string) ([]graph.Node, error) {
	k, err := graph.NormalizeKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: lookup: %v", graph.ErrInvalidQuery, err)
	}
	var out []graph.Node
	err = s.view(func(tx *bbolt.Tx) error {
		prefix := append([]byte(k), 0)
		c := tx.Bucket(bKeys).Cursor()
		a := &arena{}
		for kk, v := c.Seek(prefix); kk != nil && bytes.HasPrefix(kk, prefix); kk, v = c.Next() {
			if len(kk) != len(prefix)+1 {
				continue
			}
			n, err := loadNode(tx, [16]byte(v), "", a)
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	return out, err
}

// Nodes implements graph.Reader.
func (s *Store) Nodes(ctx context.Context, q graph.NodeQuery) ([]graph.Node, error) {
	limit, err := graph.CheckNodeQuery(q)
	if err != nil {
		return nil, err
	}
	var out []graph.Node
	err = s.view(func(tx *bbolt.Tx) error {
		kc := q.Kind.Code()
		seek := []byte{kc}
		if q.After != "" {
			b := q.After.Bytes()
			seek = append(seek, b[:]...)
			seek = append(seek, 0) // strictly after
		}
		c := tx.Bucket(bKinds).Cursor()
		a := &arena{}
		for k, _ := c.Seek(seek); k != nil && k[0] == kc && len(out) < limit; k, _ = c.Next() {
			n, err := loadNode(tx, [16]byte(k[1:]), "", a)
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	return out, err
}

// Edges implements graph.Reader.
func (s *Store) Edges(ctx context.Context, id graph.NodeID, dir graph.Direction, kinds ...graph.EdgeKind) ([]graph.Edge, error) {
	if !dir.Valid() {
		return nil, fmt.Errorf("%w: edges: direction %d is not valid", graph.ErrInvalidQuery, dir)
	}
	if !id.Valid() {
		return nil, fmt.Errorf("node %q: %w", id, graph.ErrNotFound)
	}
	om, im := follows(dir, maskOf(kinds))
	hs := s.idx.adjacent(id, om, im, &arena{})
	graph.SortHalfEdges(hs)
	refs := make([]graph.EdgeRef, len(hs))
	for i, h := range hs {
		refs[i] = graph.EdgeRef{From: id, Kind: h.Kind, To: h.Peer}
		if !h.Forward {
			refs[i] = graph.EdgeRef{From: h.Peer, Kind: h.Kind, To: id}
		}
	}
	return s.LoadEdges(ctx, refs)
}

// Traverse implements graph.Reader with graph.Walk over the index.
func (s *Store) Traverse(ctx context.Context, req graph.TraverseRequest) (graph.TraverseResult, error) {
	return graph.Walk(ctx, s, req)
}

// Adjacent implements graph.Walker from the in-memory index.
func (s *Store) Adjacent(ctx context.Context, ids []graph.NodeID, dir graph.Direction, kinds []graph.EdgeKind) ([][]graph.HalfEdge, error) {
	om, im := follows(dir, maskOf(kinds))
	out := make([][]graph.HalfEdge, len(ids))
	a := &arena{}
	for i, id := range ids {
		out[i] = s.idx.adjacent(id, om, im, a)
	}
	return out, nil
}

// LoadNodes implements graph.Walker.
func (s *Store) LoadNodes(ctx context.Context, ids []graph.NodeID) ([]graph.Node, error) {
	out := make([]graph.Node, len(ids))
	err := s.view(func(tx *bbolt.Tx) error {
		a := &arena{}
		for i, id := range ids {
			if !id.Valid() {
				return fmt.Errorf("node %q: %w", id, graph.ErrNotFound)
			}
			n, err := loadNode(tx, id.Bytes(), id, a)
			if err != nil {
				return err
			}
			out[i] = n
		}
		return nil
	})
	return out, err
}

// LoadEdges implements graph.Walker.
func (s *Store) LoadEdges(ctx context.Context, refs []graph.EdgeRef) ([]graph.Edge, error) {
	out := make([]graph.Edge, len(refs))
	err := s.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bEdges)
		a := &arena{}
		var key [33]byte
		for i, r := range refs {
			f, t := r.From.Bytes(), r.To.Bytes()
			copy(key[:16], f[:])
			key[16] = r.Kind.Code()
			copy(key[17:], t[:])
			v := b.Get(key[:])
			if v == nil {
				return fmt.Errorf("edge %s-%s->%s: %w", r.From, r.Kind, r.To, graph.ErrNotFound)
			}
			var rec edgeRec
			if err := decodeEdgeIn(v, &rec, a, &spillReader{tx: tx, name: bEdgeEv, owner: key[:]}); err != nil {
				return fmt.Errorf("edge %s-%s->%s is corrupt: %w", r.From, r.Kind, r.To, err)
			}
			out[i] = graph.Edge{EdgeRef: r, Attrs: nonNil(rec.Attrs), Docs: rec.Docs}
		}
		return nil
	})
	return out, err
}

// Documents implements graph.Reader.
func (s *Store) Documents(ctx context.Context, digests ...string) ([]graph.Document, error) {
	var out []graph.Document
	err := s.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bDocs)
		for _, d := range digests {
			if nd, err := graph.NormalizeKey(d); err == nil {
				d = nd
			}
			v := b.Get([]byte(d))
			if v == nil {
				continue
			}
			var doc graph.Document
			if err := json.Unmarshal(v, &doc); err != nil {
				return fmt.Errorf("document %s is corrupt: %w", d, err)
			}
			out = append(out, doc)
		}
		return nil
	})
	return out, err
}

// Stats implements graph.Reader.
func (s *Store) Stats(ctx context.Context) (graph.Stats, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return graph.Stats{}, graph.ErrClosed
	}
	return s.idx.stats(), nil
}

// Check verifies graph invariants on disk: every edge's ends exist, every
// key points at a node that lists it, every node is in the kind index.
// Tests run it at cleanup, as bbolt's own tests run tx.Check.
func (s *Store) Check() error {
	return s.view(func(tx *bbolt.Tx) error {
		var errs []error
		nodes := tx.Bucket(bNodes)
		_ = tx.Bucket(bEdges).ForEach(func(k, _ []byte) error {
			if nodes.Get(k[:16]) == nil || nodes.Get(k[17:]) == nil {
				errs = append(errs, fmt.Errorf("edge %x has a dangling end", k))
			}
			return nil
		})
		_ = tx.Bucket(bKeys).ForEach(func(k, v []byte) error {
			raw := nodes.Get(v)
			if raw == nil {
				errs = append(errs, fmt.Errorf("key %q points at missing node %x", k, v))
				return nil
			}
			var rec nodeRec
			if err := decodeNode(raw, &rec); err != nil {
				errs = append(errs, fmt.Errorf("node %x is corrupt: %w", v, err))
				return nil
			}
			if !slices.Contains(rec.Keys, string(k[:len(k)-2])) {
				errs = append(errs, fmt.Errorf("key %q not listed by its node %x", k[:len(k)-2], v))
			}
			return nil
		})
		_ = nodes.ForEach(func(k, v []byte) error {
			var rec nodeRec
			if err := decodeNode(v, &rec); err != nil {
				errs = append(errs, fmt.Errorf("node %x is corrupt: %w", k, err))
				return nil
			}
			if id := graph.NodeIDFor(rec.Kind, rec.Keys).Bytes(); !bytes.Equal(id[:], k) {
				errs = append(errs, fmt.Errorf("node %x has id %x by its keys", k, id))
			}
			for _, key := range rec.Keys {
				if got := tx.Bucket(bKeys).Get(keyIndexKey(key, rec.Kind.Code())); !bytes.Equal(got, k) {
					errs = append(errs, fmt.Errorf("node %x key %q is indexed to %x", k, key, got))
				}
			}
			return nil
		})
		_ = tx.Bucket(bAliases).ForEach(func(k, v []byte) error {
			if nodes.Get(k) != nil {
				errs = append(errs, fmt.Errorf("alias %x names a live node", k))
			}
			return nil
		})
		edges := tx.Bucket(bEdges)
		for _, ev := range []struct {
			b     []byte
			owner int
			in    *bbolt.Bucket
		}{{bNodeEv, 16, nodes}, {bEdgeEv, 33, edges}} {
			_ = tx.Bucket(ev.b).ForEach(func(k, _ []byte) error {
				if len(k) < ev.owner+2 || ev.in.Get(k[:ev.owner]) == nil {
					errs = append(errs, fmt.Errorf("%s: evidence key %x has no owner", ev.b, k))
				}
				return nil
			})
		}
		n := 0
		_ = tx.Bucket(bKinds).ForEach(func(k, _ []byte) error { n++; return nil })
		if total := nodes.Stats().KeyN; total != n {
			errs = append(errs, fmt.Errorf("%d nodes but %d in the kind index", total, n))
		}
		return errors.Join(errs...)
	})
}
