package embedded

import (
	"bytes"
	"maps"
	"slices"

	bbolt "go.etcd.io/bbolt"

	"github.com/modelgraph/modelgraph/graph"
)

// txCache holds one write transaction's records in memory and writes them
// once, in key order, when the transaction is about to commit.
//
// Both halves matter at scale. A popular package's record (its evidence
// list names every SBOM that lists it) was decoded and re-encoded for every
// document of a bulk write; now it is once per transaction. And bbolt
// inserts into an in-memory node by shifting the node's entries, splitting
// nodes only at commit, so a large transaction of random keys (node ids and
// edge keys are hashes) is quadratic in the entries landing in one node,
// while keys put in ascending order append. Profiles of a 10k-node bulk
// load spent 40% in that shifting and 35% in JSON; see docs/performance.md.
type txCache struct {
	tx    *bbolt.Tx
	docs  map[string][]byte
	nodes map[[16]byte]*nodeEntry
	keys  map[string][16]byte // new key index entries: keyIndexKey -> id
	kinds map[[17]byte]struct{}
	edges map[[33]byte]*edgeEntry
	// Merges: absorbed node ids -> the node that absorbed them.
	aliases map[[16]byte][16]byte
	// created lists, per node, the edges this transaction created at it:
	// with the committed index they are all its edges (merges move them).
	created map[[16]byte][][33]byte

	bDocs, bNodes, bKeys, bKinds, bEdges, bNodeEv, bEdgeEv, bAliases *bbolt.Bucket
	// Lookups before flush go through one cursor per bucket (nothing is
	// put until flush): a Bucket.Get makes a cursor each time.
	gDocs, gNodes, gKeys, gEdges *getter
	// committed caches key index entries as committed (see keyCache).
	committed *keyCache
	kbuf      []byte
	jbuf      []byte    // key set ids (wNode.addJoin)
	refs      *refArena // new lists' first room (docSet.addIn)
	// Records are encoded into scratch and copied into slab (bbolt holds
	// the values it is given until the commit writes them); full slabs go
	// to used, and free holds the last transaction's for reuse.
	scratch, slab []byte
	used, free    [][]byte
	// hot holds node records as the last committed transaction left them
	// (see keepNodes); an entry moves to nodes when first used.
	hot map[[16]byte]*nodeEntry
	// hotEdges likewise holds edge records (see keepEdges).
	hotEdges map[[33]byte]*edgeEntry
}

type nodeEntry struct {
	rec     wNode
	present bool // exists on disk or was created in this transaction
	onDisk  bool
	dirty   bool
	deleted bool // absorbed by a merge
}

type edgeEntry struct {
	rec     wEdge
	onDisk  bool
	dirty   bool
	deleted bool // re-pointed by a merge
}

// fillPercent packs pages fuller than bbolt's default (half full) when a
// transaction splits them: keys here are hashes, so later inserts land
// anywhere and a page split at 50% stays half empty. Fuller pages make a
// smaller file, fewer pages per lookup and less of the file mapped.
const fillPercent = 0.9

func newTxCache(tx *bbolt.Tx, committed *keyCache) *txCache {
	for _, name := range buckets {
		if b := tx.Bucket(name); b != nil {
			b.FillPercent = fillPercent
		}
	}
	c := &txCache{
		tx:    tx,
		docs:  map[string][]byte{},
		nodes: map[[16]byte]*nodeEntry{},
		keys:  map[string][16]byte{},
		kinds: map[[17]byte]struct{}{},
		edges: map[[33]byte]*edgeEntry{},

		aliases:  map[[16]byte][16]byte{},
		created:  map[[16]byte][][33]byte{},
		bAliases: tx.Bucket(bAliases),
		bDocs:    tx.Bucket(bDocs),
		bNodes:   tx.Bucket(bNodes),
		bKeys:    tx.Bucket(bKeys),
		bKinds:   tx.Bucket(bKinds),
		bEdges:   tx.Bucket(bEdges),

		bNodeEv: tx.Bucket(bNodeEv),
		bEdgeEv: tx.Bucket(bEdgeEv),

		committed: committed,
	}
	c.gDocs, c.gNodes = &getter{c: c.bDocs.Cursor()}, &getter{c: c.bNodes.Cursor()}
	c.gKeys, c.gEdges = &getter{c: c.bKeys.Cursor()}, &getter{c: c.bEdges.Cursor()}
	return c
}

// keyCache holds key index entries (keyIndexKey -> node id) as committed,
// across write transactions: bulk imports name the same packages again and
// again, and each lookup in the keys bucket is a B-tree search over long
// purl strings. Entries come from the bucket before the transaction's own
// puts (which flush writes at the end), or from a committed transaction's
// puts, so they are always the committed state; keys are never deleted
// (a merge re-points them, through a put). Bounded: it starts over when
// full.
type keyCache struct {
	m map[string][16]byte
}

// maxKeyCache bounds the key cache (~10 MiB with purl-sized keys).
const maxKeyCache = 1 << 16

func (k *keyCache) put(key string, id [16]byte) {
	if len(k.m) >= maxKeyCache {
		k.m = nil
	}
	if k.m == nil {
		k.m = make(map[string][16]byte)
	}
	k.m[key] = id
}

// committedKeys records the puts of a transaction that committed.
func (k *keyCache) committedKeys(keys map[string][16]byte) {
	for key, id := range keys {
		k.put(key, id)
	}
}

func (c *txCache) hasDoc(digest string) bool {
	if _, ok := c.docs[digest]; ok {
		return true
	}
	c.kbuf = append(c.kbuf[:0], digest...)
	return c.gDocs.get(c.kbuf) != nil
}

func (c *txCache) putDoc(digest string, raw []byte) { c.docs[digest] = raw }

// key returns the node owning key k of kind code kc.
func (c *txCache) key(k string, kc uint8) ([16]byte, bool) {
	c.kbuf = append(append(c.kbuf[:0], k...), 0, kc)
	if id, ok := c.keys[string(c.kbuf)]; ok {
		return id, true
	}
	if id, ok := c.committed.m[string(c.kbuf)]; ok {
		return id, true
	}
	if v := c.gKeys.get(c.kbuf); len(v) == 16 {
		id := [16]byte(v)
		c.committed.put(string(c.kbuf), id)
		return id, true
	}
	return [16]byte{}, false
}

func (c *txCache) putKey(k string, kc uint8, id [16]byte) {
	c.keys[string(keyIndexKey(k, kc))] = id
}

// node returns the record of id for modification, or nil when there is no
// such node.
func (c *txCache) node(id [16]byte) (*wNode, error) {
	e, ok := c.nodes[id]
	if !ok && c.fromHot(id) {
		e, ok = c.nodes[id], true
	}
	if !ok {
		e = &nodeEntry{}
		if v := c.gNodes.get(id[:]); v != nil {
			var err error
			if e.rec, err = decodeWNode(v, c.bNodeEv, id); err != nil {
				return nil, err
			}
			e.present, e.onDisk = true, true
		}
		c.nodes[id] = e
	}
	if !e.present || e.deleted {
		return nil, nil
	}
	return &e.rec, nil
}

// fromHot moves id's record from the last transaction's into this one's,
// its spilled lists reading this transaction's evidence bucket.
func (c *txCache) fromHot(id [16]byte) bool {
	e, ok := c.hot[id]
	if !ok {
		return false
	}
	delete(c.hot, id)
	e.rec.rebind(c.bNodeEv)
	c.nodes[id] = e
	return true
}

// maxHotBytes bounds the records kept between transactions (estimated
// from their lists; a transaction holds them all while it runs anyway).
const maxHotBytes = 16 << 20

// keepNodes returns the records of the nodes this transaction read or
// wrote, as committed, for the next transaction (call after a successful
// commit): bulk imports touch the same packages group after group, and
// looking up and decoding their records again cost the writer ~4%
// (BenchmarkWriteRepeatedSBOMs). Up to maxHotBytes of them.
func (c *txCache) keepNodes() map[[16]byte]*nodeEntry {
	out := make(map[[16]byte]*nodeEntry, len(c.nodes))
	budget := maxHotBytes
	for id, e := range c.nodes {
		if !e.present || e.deleted || e.rec.hasAdded() {
			continue
		}
		if budget -= e.rec.size(); budget < 0 {
			break
		}
		e.dirty, e.onDisk = false, true
		// A spilled list's bucket would keep the committed transaction
		// (its B-tree nodes and values) alive: fromHot binds the next.
		e.rec.rebind(nil)
		out[id] = e
	}
	return out
}

// maxHotEdgeBytes bounds the edge records kept between transactions.
const maxHotEdgeBytes = 8 << 20

// keepEdges is keepNodes for edge records: dependency edges between
// packages are named again by every copy of an SBOM, and reading and
// decoding them again was ~4% of the bulk writer (docs/performance.md).
func (c *txCache) keepEdges() map[[33]byte]*edgeEntry {
	out := make(map[[33]byte]*edgeEntry, len(c.edges))
	budget := maxHotEdgeBytes
	for k, e := range c.edges {
		if e.deleted || !e.onDisk && !e.dirty || e.rec.hasAdded() {
			continue
		}
		if budget -= e.rec.size(); budget < 0 {
			break
		}
		e.dirty, e.onDisk = false, true
		e.rec.rebind(nil)
		out[k] = e
	}
	return out
}

// newNode creates the record of a node that node reported missing.
func (c *txCache) newNode(id [16]byte, kind graph.NodeKind) *wNode {
	c.fromHot(id)
	e := c.nodes[id]
	if e == nil {
		e = &nodeEntry{}
		c.nodes[id] = e
	}
	*e = nodeEntry{rec: wNode{kind: kind}, present: true, onDisk: e.onDisk, dirty: true}
	var kk [17]byte
	kk[0] = kind.Code()
	copy(kk[1:], id[:])
	c.kinds[kk] = struct{}{}
	return &e.rec
}

func (c *txCache) dirtyNode(id [16]byte) { c.nodes[id].dirty = true }

// deleteNode removes node id (absorbed by into): its record, kind entry and
// spilled evidence go at flush, its id becomes an alias of into. The
// caller has moved its keys and edges.
func (c *txCache) deleteNode(id, into [16]byte) {
	e := c.nodes[id]
	e.deleted, e.dirty = true, false
	var kk [17]byte
	kk[0] = e.rec.kind.Code()
	copy(kk[1:], id[:])
	delete(c.kinds, kk)
	c.aliases[id] = into
	for from, to := range c.aliases {
		if to == id {
			c.aliases[from] = into
		}
	}
}

// resolve follows this transaction's merges from id.
func (c *txCache) resolve(id [16]byte) [16]byte {
	for range 64 {
		to, ok := c.aliases[id]
		if !ok {
			return id
		}
		id = to
	}
	return id
}

// edge returns the record of the edge with key k for modification; created
// reports that it did not exist (the caller then always writes it).
func (c *txCache) edge(k [33]byte) (rec *wEdge, created bool, err error) {
	if e, ok := c.edges[k]; ok {
		return &e.rec, false, nil
	}
	if e, ok := c.hotEdges[k]; ok {
		delete(c.hotEdges, k)
		e.rec.rebind(c.bEdgeEv)
		c.edges[k] = e
		return &e.rec, false, nil
	}
	e := &edgeEntry{}
	if v := c.gEdges.get(k[:]); v != nil {
		if e.rec, err = decodeWEdge(v, c.bEdgeEv, k); err != nil {
			return nil, false, err
		}
		e.onDisk = true
	} else {
		created = true
		from, to := [16]byte(k[:16]), [16]byte(k[17:])
		c.created[from] = append(c.created[from], k)
		if to != from {
			c.created[to] = append(c.created[to], k)
		}
	}
	c.edges[k] = e
	return &e.rec, created, nil
}

func (c *txCache) dirtyEdge(k [33]byte) { c.edges[k].dirty = true }

// deleteEdge removes edge k (re-pointed by a merge) at flush.
func (c *txCache) deleteEdge(k [33]byte) {
	e := c.edges[k]
	e.deleted, e.dirty = true, false
}

// slabSize is the size of the chunks keep copies records into; up to
// maxFreeSlabs of them (16 MiB) are kept for the next transaction.
const (
	slabSize     = 256 << 10
	maxFreeSlabs = 64
)

// keep copies an encoded record into the transaction's slab.
func (c *txCache) keep(b []byte) []byte {
	if cap(c.slab)-len(c.slab) < len(b) {
		if cap(c.slab) == slabSize {
			c.used = append(c.used, c.slab)
		}
		if n := len(c.free); n > 0 && len(b) <= slabSize {
			c.slab, c.free = c.free[n-1][:0], c.free[:n-1]
		} else {
			c.slab = make([]byte, 0, max(len(b), slabSize))
		}
	}
	start := len(c.slab)
	c.slab = append(c.slab, b...)
	return c.slab[start:len(c.slab):len(c.slab)]
}

// slabs returns the slabs for the next transaction's cache (call once
// this one's bbolt transaction has ended).
func (c *txCache) slabs() [][]byte {
	out := append(c.free, c.used...)
	if cap(c.slab) == slabSize {
		out = append(out, c.slab)
	}
	c.slab, c.used, c.free = nil, nil, nil
	if len(out) > maxFreeSlabs {
		clear(out[maxFreeSlabs:])
		out = out[:maxFreeSlabs]
	}
	return out
}

// deletePrefix deletes every key of b starting with prefix.
func deletePrefix(b *bbolt.Bucket, prefix []byte) error {
	var ks [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ks = append(ks, slices.Clone(k))
	}
	for _, k := range ks {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// flush writes everything changed, each bucket in ascending key order.
func (c *txCache) flush() error {
	for _, d := range slices.Sorted(maps.Keys(c.docs)) {
		if err := c.bDocs.Put([]byte(d), c.docs[d]); err != nil {
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.keys)) {
		id := c.keys[k]
		if err := c.bKeys.Put([]byte(k), id[:]); err != nil {
			return err
		}
	}
	kinds := slices.SortedFunc(maps.Keys(c.kinds), func(a, b [17]byte) int { return bytes.Compare(a[:], b[:]) })
	for _, k := range kinds {
		if err := c.bKinds.Put(k[:], nil); err != nil {
			return err
		}
	}
	// Merges: absorbed nodes and re-pointed edges go, with their spilled
	// evidence (their records were copied to their new owners).
	var gone [][16]byte
	for id, e := range c.nodes {
		if e.deleted && e.onDisk {
			gone = append(gone, id)
		}
	}
	slices.SortFunc(gone, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range gone {
		var kk [17]byte
		kk[0] = c.nodes[id].rec.kind.Code()
		copy(kk[1:], id[:])
		if err := c.bNodes.Delete(id[:]); err != nil {
			return err
		}
		if err := c.bKinds.Delete(kk[:]); err != nil {
			return err
		}
		if err := deletePrefix(c.bNodeEv, id[:]); err != nil {
			return err
		}
	}
	var goneEdges [][33]byte
	for k, e := range c.edges {
		if e.deleted && e.onDisk {
			goneEdges = append(goneEdges, k)
		}
	}
	slices.SortFunc(goneEdges, func(a, b [33]byte) int { return bytes.Compare(a[:], b[:]) })
	for _, k := range goneEdges {
		if err := c.bEdges.Delete(k[:]); err != nil {
			return err
		}
		if err := deletePrefix(c.bEdgeEv, k[:]); err != nil {
			return err
		}
	}
	var from [][16]byte
	for id := range c.aliases {
		from = append(from, id)
	}
	slices.SortFunc(from, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range from {
		to := c.aliases[id]
		if err := c.bAliases.Put(id[:], to[:]); err != nil {
			return err
		}
	}
	var ids [][16]byte
	for id, e := range c.nodes {
		if e.dirty && !e.deleted {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range ids {
		var err error
		if c.scratch, err = c.nodes[id].rec.encodeTo(c.scratch[:0], c.bNodeEv, id); err != nil {
			return err
		}
		v := c.keep(c.scratch)
		if err := c.bNodes.Put(id[:], v); err != nil {
			return err
		}
	}
	var eks [][33]byte
	for k, e := range c.edges {
		if e.dirty && !e.deleted {
			eks = append(eks, k)
		}
	}
	slices.SortFunc(eks, func(a, b [33]byte) int { return bytes.Compare(a[:], b[:]) })
	for _, k := range eks {
		var err error
		if c.scratch, err = c.edges[k].rec.encodeTo(c.scratch[:0], c.bEdgeEv, k); err != nil {
			return err
		}
		v := c.keep(c.scratch)
		if err := c.bEdges.Put(k[:], v); err != nil {
			return err
		}
	}
	return nil
}
