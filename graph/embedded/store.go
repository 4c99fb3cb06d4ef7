// Package embedded is the embedded graph store: a graph.Driver on one
// bbolt file under the data dir, fsynced before a write is acknowledged,
// with an in-memory adjacency index for fast traversal (loaded from the
// snapshot a clean Close leaves next to the file, else rebuilt from the
// store). Open returns graph.DB over it: validation, the write algorithm,
// group commit (one fsync for many concurrent documents), the walk and
// fault injection are graph's. One writer, many readers. docs/performance.md has the figures and the profiles behind
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
	"runtime"
	"slices"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/modelgraph/modelgraph/graph"
)

// Bucket layout (schema version 4):
//
//	meta    "version" -> "4"
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
// whose keys a document joins (aliases bucket); 4 writes records whose
// owner's documents come first and whose other lists may be "the same"
// (codec.go). A version 3 store is upgraded at open (its records read as
// they are and are rewritten in the new form when next written; a
// version 3 binary then refuses the store by its version instead of
// misreading records). Stores of versions 1 and 2 are refused: their
// nodes lack per-key evidence and may hold nodes that the identity rule
// now merges, and neither can be reconstructed without the documents.
// Re-ingest them into a new store.
const schemaVersion = "4"

// upgradable are the older versions openStore upgrades in place.
var upgradable = map[string]bool{"3": true}

// Options tune Open.
type Options struct {
	// Timeout waits this long for the file lock held by another process
	// (default 2 s) instead of hanging.
	Timeout time.Duration
	// MaxGroup caps how many concurrent documents share one commit
	// (default graph.DefaultMaxGroup).
	MaxGroup int
	// NoIndexSnapshot always rebuilds the in-memory index from the store at
	// open and saves none at close (see snapshot.go).
	NoIndexSnapshot bool
}

// initialMmap is the smallest mapping of the store file (see openStore).
const initialMmap = 1 << 30

// Store is the embedded store: graph.DB over this package's driver.
type Store = graph.DB

// store is the embedded graph.Driver.
type store struct {
	path string
	opts Options
	db   *bbolt.DB
	idx  *index
	// writeMu holds a transaction and the index update after its commit
	// together: a write's merges read the committed adjacency.
	writeMu sync.Mutex
	// snapTxid is the transaction id of the snapshot the index was loaded
	// from (0: rebuilt): when the store is still at it at Close, the
	// snapshot on disk is current and is not written again.
	snapTxid uint64
	// fill puts the records in memory after a rebuild (recs.go).
	fill *filler
	// keys caches committed key index entries for the writer (writeMu).
	keys keyCache
	// hot holds the node records the last committed write transaction
	// touched, decoded, as committed (writeMu; nil after a failed write).
	hot      map[[16]byte]*nodeEntry
	hotEdges map[[33]byte]*edgeEntry
	// recs and slabs are scratch handed from one write transaction to the
	// next (writeMu): the delta's record list, and the chunks the cache
	// copies encoded records into for bbolt, which holds them only until
	// its transaction ends.
	recs  []recUpdate
	slabs [][]byte
	refs  refArena
}

var (
	_ graph.Driver    = (*store)(nil)
	_ graph.Checker   = (*store)(nil)
	_ graph.RecordTx  = (*txWriter)(nil)
	_ graph.Traverser = (*store)(nil)
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

// Open opens (creating if needed) the store at path and loads or rebuilds
// the index.
func Open(path string, opts Options) (*Store, error) {
	s, err := openStore(path, opts)
	if err != nil {
		return nil, err
	}
	return graph.Open(s, graph.Options{MaxGroup: opts.MaxGroup}), nil
}

// openStore opens the driver.
func openStore(path string, opts Options) (*store, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	// The freelist is synced: without it bbolt rebuilds it at open by
	// visiting every page of the file, which at a million nodes takes
	// seconds and leaves the whole file mapped into the process.
	//
	// The file is mapped at least initialMmap bytes from the start: bbolt
	// otherwise doubles the mapping as the file grows, and each remap
	// copies every record the write transaction holds out of the old
	// mapping (and waits for readers). Address space only: untouched
	// pages of the mapping cost no memory. Not on Windows, where bbolt
	// grows the file to the mapping's size.
	mm := initialMmap
	if runtime.GOOS == "windows" {
		mm = 0
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: opts.Timeout, FreelistType: bbolt.FreelistMapType, InitialMmapSize: mm})
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
			case upgradable[string(v)]:
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
	s := &store{path: path, opts: opts, db: db}
	if !opts.NoIndexSnapshot {
		if txid, err := txID(db); err == nil {
			if s.idx, _ = loadSnapshot(snapshotPath(path), txid); s.idx != nil {
				s.snapTxid = txid
			}
		}
	}
	if s.idx == nil {
		if s.idx, err = rebuild(db); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("open graph store %q: rebuild index: %w", path, err)
		}
		s.startFill()
	}
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

// Close implements graph.Driver: it saves the index snapshot and closes
// the file (graph.DB calls it when no call is in flight).
func (s *store) Close() error {
	if !s.opts.NoIndexSnapshot {
		// The snapshot carries the records: let a background fill (after
		// a rebuild) finish first.
		s.waitFill()
	}
	if filled := s.stopFill(); !filled && !s.opts.NoIndexSnapshot {
		_ = os.Remove(snapshotPath(s.path)) // the fill failed: rebuild next time
	} else if !s.opts.NoIndexSnapshot {
		// Best effort: without a snapshot the next open rebuilds. A store
		// nothing was committed to since its snapshot was loaded keeps it
		// (at 1M nodes the rewrite is ~50 MB and most of a second).
		snap := snapshotPath(s.path)
		txid, err := txID(s.db)
		if err != nil || txid != s.snapTxid || s.snapTxid == 0 {
			if err != nil || saveSnapshot(snap, s.idx, txid) != nil {
				_ = os.Remove(snap)
			}
		}
	}
	err := s.db.Close()
	s.idx.mu.Lock()
	s.idx.mem.free()
	s.idx.mu.Unlock()
	return err
}

// Update implements graph.DriverWriter: one bbolt transaction through a
// write cache flushed in key order, then the index update.
func (s *store) Update(ctx context.Context, fn func(graph.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var d delta
	var c *txCache
	// The records kept from the last write are handed to this one and
	// changed in place: unless it commits, none of them is kept.
	hot, hotEdges := s.hot, s.hotEdges
	s.hot, s.hotEdges = nil, nil
	err := s.db.Update(func(tx *bbolt.Tx) error {
		d = delta{recs: s.recs[:0]}
		c = newTxCache(tx, &s.keys)
		c.hot, hot = hot, nil
		c.hotEdges, hotEdges = hotEdges, nil
		c.free, s.slabs = s.slabs, nil
		s.refs.reset()
		c.refs = &s.refs
		if err := fn(&txWriter{c: c, idx: s.idx, delta: &d}); err != nil {
			return err
		}
		if err := c.flush(); err != nil {
			return err
		}
		captureRecords(c, &d)
		return nil
	})
	if c != nil {
		// The transaction is over: bbolt holds none of the slabs now.
		s.slabs = c.slabs()
	}
	if err != nil {
		return err
	}
	s.keys.committedKeys(c.keys)
	s.hot = c.keepNodes()
	s.hotEdges = c.keepEdges()
	s.idx.apply(&d)
	clear(d.recs) // they point into the records kept in hot
	s.recs = d.recs[:0]
	return nil
}

// txWriter is a write transaction: graph.RecordTx over the cache.
type txWriter struct {
	c     *txCache
	idx   *index // committed adjacency (merges find a node's edges here)
	doc   string // the document being applied, and its raw form
	ref   docRef
	delta *delta
}

// Stored implements graph.Tx.
func (w *txWriter) Stored(digests []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, d := range digests {
		if w.c.hasDoc(d) {
			out[d] = true
		}
	}
	return out, nil
}

// PutDocument implements graph.RecordTx; the evidence written next is
// this document's.
func (w *txWriter) PutDocument(doc graph.Document) error {
	raw, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	w.c.putDoc(doc.Digest, raw)
	w.delta.docs++
	w.doc, w.ref = doc.Digest, toDocRef(doc.Digest)
	return nil
}

// docRef returns the raw form of doc (the document being applied).
func (w *txWriter) docRef(doc string) docRef {
	if doc == w.doc {
		return w.ref
	}
	return toDocRef(doc)
}

// Owner implements graph.Records.
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

// KeyCount implements graph.Records.
func (w *txWriter) KeyCount(id graph.NodeID) (int, error) {
	rec, err := w.node(id)
	if err != nil {
		return 0, err
	}
	return len(rec.keys), nil
}

// Exists implements graph.Records.
func (w *txWriter) Exists(id graph.NodeID) (bool, error) {
	rec, err := w.c.node(id.Bytes())
	return rec != nil, err
}

// Create implements graph.Records.
func (w *txWriter) Create(id graph.NodeID, kind graph.NodeKind) error {
	b := id.Bytes()
	w.c.newNode(b, kind)
	w.delta.nodes = append(w.delta.nodes, nodeAdd{id: b, kind: kind.Code()})
	return nil
}

// Fold implements graph.Records.
func (w *txWriter) Fold(from, into graph.NodeID) error {
	dst, err := w.node(into)
	if err != nil {
		return err
	}
	return w.absorb(from.Bytes(), into.Bytes(), dst)
}

// Current implements graph.Records.
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

// AttachKey implements graph.Records.
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

// AddNodeEvidence implements graph.Records.
func (w *txWriter) AddNodeEvidence(id graph.NodeID, doc string, named []string, claims map[string]string) (bool, error) {
	rec, err := w.node(id)
	if err != nil {
		return false, err
	}
	ref := w.docRef(doc)
	changed := false
	for _, k := range named {
		if rec.addKeyDoc(k, ref, w.c.refs) {
			changed = true
		}
	}
	if rec.addJoin(named, ref, &w.c.jbuf, w.c.refs) {
		changed = true
	}
	var c1 bool
	rec.attrs, c1 = mergeAttrs(rec.attrs, ref, claims, w.c.refs)
	if rec.docs.addIn(ref, w.c.refs) || c1 {
		changed = true
	}
	if changed {
		w.c.dirtyNode(id.Bytes())
	}
	return changed, nil
}

// AddEdgeEvidence implements graph.Records.
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
	rec.attrs, c1 = mergeAttrs(rec.attrs, ref, claims, w.c.refs)
	changed = rec.docs.addIn(ref, w.c.refs) || c1
	if !created && !changed {
		return false, false, nil
	}
	w.c.dirtyEdge(key)
	if created {
		w.delta.edges = append(w.delta.edges, edgeAdd{from: from, to: to, kind: key[16]})
	}
	return created, changed, nil
}

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

func (s *store) view(fn func(tx *bbolt.Tx) error) error { return s.db.View(fn) }

// loadNode reads node id; nid is its string form when the caller has it
// (saves formatting it again), a the arena for its strings (may be nil).
func loadNode(tx *bbolt.Tx, g *getter, id [16]byte, nid graph.NodeID, a *arena) (graph.Node, error) {
	v := g.get(id[:])
	if v == nil {
		return graph.Node{}, fmt.Errorf("node %x: %w", id, graph.ErrNotFound)
	}
	return decodeLoaded(v, id, nid, a, &spillReader{tx: tx, name: bNodeEv, owner: id[:]}, &nodeRec{})
}

// decodeLoaded decodes the stored record v of node id into rec (zeroed
// first), its spilled lists through sr (a reader of the node evidence
// bucket whose owner is id; rec and sr are reused across calls).
func decodeLoaded(v []byte, id [16]byte, nid graph.NodeID, a *arena, sr *spillReader, rec *nodeRec) (graph.Node, error) {
	*rec = nodeRec{}
	if err := decodeNodeIn(v, rec, a, sr); err != nil {
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

// Node implements graph.DriverReader.
func (s *store) Node(ctx context.Context, id graph.NodeID) (graph.Node, error) {
	var n graph.Node
	err := s.view(func(tx *bbolt.Tx) (err error) {
		n, err = loadNode(tx, newGetter(tx, bNodes), id.Bytes(), id, nil)
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
				n, err = loadNode(tx, newGetter(tx, bNodes), cur, "", nil)
				return err
			}
		}
		return err
	})
	return n, err
}

// getter looks keys up in one bucket through one cursor: a Bucket.Get
// makes a cursor and grows its stack each time (~5 allocations per
// lookup, two lookups per node a walk reaches); a cursor's Seek reuses
// them. The buckets it reads hold no sub-buckets.
type getter struct{ c *bbolt.Cursor }

func newGetter(tx *bbolt.Tx, bucket []byte) *getter {
	return &getter{c: tx.Bucket(bucket).Cursor()}
}

func (g *getter) get(key []byte) []byte {
	k, v := g.c.Seek(key)
	if !bytes.Equal(k, key) {
		return nil
	}
	return v
}

// maxAliasHops bounds the alias chain Node follows (each hop is a merge
// that happened after the previous one).
const maxAliasHops = 64

// Lookup implements graph.DriverReader (key normalised).
func (s *store) Lookup(ctx context.Context, key string) ([]graph.Node, error) {
	var out []graph.Node
	err := s.view(func(tx *bbolt.Tx) error {
		prefix := append([]byte(key), 0)
		c := tx.Bucket(bKeys).Cursor()
		a := &arena{}
		g := newGetter(tx, bNodes)
		for kk, v := c.Seek(prefix); kk != nil && bytes.HasPrefix(kk, prefix); kk, v = c.Next() {
			if len(kk) != len(prefix)+1 {
				continue
			}
			n, err := loadNode(tx, g, [16]byte(v), "", a)
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	return out, err
}

// Nodes implements graph.DriverReader (q checked).
func (s *store) Nodes(ctx context.Context, q graph.NodeQuery) ([]graph.Node, error) {
	limit := q.Limit
	var out []graph.Node
	err := s.view(func(tx *bbolt.Tx) error {
		kc := q.Kind.Code()
		seek := []byte{kc}
		if q.After != "" {
			b := q.After.Bytes()
			seek = append(seek, b[:]...)
			seek = append(seek, 0) // strictly after
		}
		c := tx.Bucket(bKinds).Cursor()
		a := &arena{}
		g := newGetter(tx, bNodes)
		for k, _ := c.Seek(seek); k != nil && k[0] == kc && len(out) < limit; k, _ = c.Next() {
			n, err := loadNode(tx, g, [16]byte(k[1:]), "", a)
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	return out, err
}

// Adjacent implements graph.Walker from the in-memory index.
func (s *store) Adjacent(ctx context.Context, ids []graph.NodeID, dir graph.Direction, kinds []graph.EdgeKind) ([][]graph.HalfEdge, error) {
	om, im := follows(dir, maskOf(kinds))
	out := make([][]graph.HalfEdge, len(ids))
	a := &arena{}
	for i, id := range ids {
		out[i] = s.idx.adjacent(id, om, im, a)
	}
	return out, nil
}

// LoadNodes implements graph.Walker.
func (s *store) LoadNodes(ctx context.Context, ids []graph.NodeID) ([]graph.Node, error) {
	for _, id := range ids {
		if !id.Valid() {
			return nil, fmt.Errorf("node %q: %w", id, graph.ErrNotFound)
		}
	}
	var out []graph.Node
	err := s.view(func(tx *bbolt.Tx) (err error) {
		out, err = loadNodesTx(tx, ids, func(i int) [16]byte { return ids[i].Bytes() })
		return err
	})
	return out, err
}

// LoadEdges implements graph.Walker.
func (s *store) LoadEdges(ctx context.Context, refs []graph.EdgeRef) ([]graph.Edge, error) {
	var out []graph.Edge
	err := s.view(func(tx *bbolt.Tx) (err error) {
		out, err = loadEdgesTx(tx, refs, func(i int) [33]byte {
			var k [33]byte
			f, t := refs[i].From.Bytes(), refs[i].To.Bytes()
			copy(k[:16], f[:])
			k[16] = refs[i].Kind.Code()
			copy(k[17:], t[:])
			return k
		})
		return err
	})
	return out, err
}

// Documents implements graph.DriverReader.
func (s *store) Documents(ctx context.Context, digests ...string) ([]graph.Document, error) {
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

// Stats implements graph.DriverReader.
func (s *store) Stats(ctx context.Context) (graph.Stats, error) {
	return s.idx.stats(), nil
}

// Check implements graph.Checker on disk: every edge's ends exist, every
// key points at a node that lists it, every node is in the kind index and
// has the id its keys give, no alias names a live node, spilled evidence
// has its owner. Tests run it at cleanup (graph.DB.Check), as bbolt's own
// tests run tx.Check.
func (s *store) Check(ctx context.Context) error {
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

// FileState is the capability of a store kept in one local file (reached
// with graph.DB.As): the file's path and the id of its last committed
// transaction, which every write advances. internal/search stamps the
// search index it saves beside the store with it, so a saved index is
// used only while the store has not changed since.
func (s *store) FileState() (path string, tx uint64, err error) {
	tx, err = txID(s.db)
	return s.db.Path(), tx, err
}
