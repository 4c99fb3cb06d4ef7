package embedded

import (
	"encoding/binary"
	"fmt"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/modelgraph/modelgraph/graph"
)

// Records in memory. A walk over the index reaches its nodes in memory,
// but reading what it reached used to cost two B-tree searches in the
// mapped file per node (its record, and the edge it came through): at 1M
// nodes two thirds of an impact query's CPU. So the index also holds a
// compact copy of every node and edge record whose evidence is all inline
// (records with a spilled list, the hubs, stay in the file only):
//
//   - a document table numbers every evidence digest (71k documents at 1M
//     nodes), so an evidence entry is a uvarint ordinal instead of 33 bytes;
//   - the records, re-encoded with those ordinals (memNode/memEdge below),
//     live in a slab of 16 MiB chunks mapped outside the Go heap (the
//     collector neither scans them nor counts them towards its goal);
//   - the index holds one uint32 reference per node ordinal and per edge
//     (half-edges carry their edge's id).
//
// The stored format is unchanged: a record in memory is the stored one
// decoded by codec.go and re-encoded here, so decoding it back gives the
// same graph.Node or graph.Edge (TestMemRecordsCurrent). After every
// commit the records the transaction wrote replace their copies, encoded
// from the write cache's records, which flush left exactly as stored
// (captureRecords; TestWriteListsRandom checks the two agree); the snapshot
// saved at close carries the table and the slab.
//
//	memNode: kind(1) uvarint nkeys, nkeys × (key, docs)
//	         uvarint nattrs, nattrs × (str name, str value, docs)
//	         docs, uvarint njoins, njoins × (uvarint m, m × key, docs)
//	memEdge: uvarint nattrs, nattrs × (str, str, docs), docs
//	docs:    uvarint n, n × uvarint document ordinal
//	str:     uvarint len, bytes
//	key:     uvarint 1, 32 bytes (a "sha256:<hex>" key, raw); or
//	         uvarint 2×len, bytes
//
// Every record in the slab is preceded by its uvarint length.

// noRec marks a node or edge whose record is read from the file.
const noRec = ^uint32(0)

const (
	chunkBits = 24
	chunkSize = 1 << chunkBits
	// maxMemRec is the largest record held in memory.
	maxMemRec = 1 << 16
	maxChunks = 1<<(32-chunkBits) - 1 // the last would make noRec a ref
)

// recMem is the slab and the document table; the index's lock guards it.
type recMem struct {
	chunks [][]byte // each chunkSize long, mapped off the heap
	used   int      // bytes used in the last chunk
	live   int64    // bytes of records referenced
	total  int64    // bytes of records written (live + garbage)

	docs   []string
	docOrd map[string]uint32
	// rawOrd caches docOrd's entries for sha256 digests by their raw
	// bytes (filled as records are put; a snapshot loads only docOrd).
	rawOrd map[[32]byte]uint32

	buf []byte // encoding scratch
	// owner and ords: the owner's documents of the record being encoded
	// from the write cache and their ordinals (ownerOrds).
	owner []docRef
	ords  []uint32
}

func newRecMem() *recMem { return &recMem{docOrd: map[string]uint32{}} }

// free releases the chunks. No decoded value points into them (strings
// are copied out), so this is safe once no reader holds the index lock.
func (m *recMem) free() {
	for _, c := range m.chunks {
		freeChunk(c)
	}
	m.chunks, m.used, m.live, m.total = nil, 0, 0, 0
}

// docRefOrd is doc's ordinal: a sha256 digest is looked up by its raw
// bytes (no string built), the table's string made once per document.
func (m *recMem) docRefOrd(d docRef) uint32 {
	if d.s != "" {
		return m.doc(d.s)
	}
	if o, ok := m.rawOrd[d.raw]; ok {
		return o
	}
	o := m.doc(d.String())
	if m.rawOrd == nil {
		m.rawOrd = make(map[[32]byte]uint32)
	}
	m.rawOrd[d.raw] = o
	return o
}

func (m *recMem) doc(d string) uint32 {
	if o, ok := m.docOrd[d]; ok {
		return o
	}
	o := uint32(len(m.docs))
	d = strings.Clone(d) // d may be in a decoding arena
	m.docs = append(m.docs, d)
	m.docOrd[d] = o
	return o
}

// put stores body (length-prefixed) and returns its reference, or noRec
// when it is too large to hold or the slab is full.
func (m *recMem) put(body []byte) uint32 {
	var hdr [binary.MaxVarintLen32]byte
	h := binary.PutUvarint(hdr[:], uint64(len(body)))
	n := h + len(body)
	if len(body) > maxMemRec {
		return noRec
	}
	if len(m.chunks) == 0 || m.used+n > chunkSize {
		if len(m.chunks) == maxChunks {
			return noRec
		}
		c, err := newChunk()
		if err != nil {
			return noRec
		}
		m.chunks = append(m.chunks, c)
		m.used = 0
	}
	ci := len(m.chunks) - 1
	c := m.chunks[ci]
	off := m.used
	copy(c[off:], hdr[:h])
	copy(c[off+h:], body)
	m.used += n
	m.live += int64(n)
	m.total += int64(n)
	return uint32(ci)<<chunkBits | uint32(off)
}

// get returns the record at ref (whose length prefix it skips).
func (m *recMem) get(ref uint32) []byte {
	c := m.chunks[ref>>chunkBits][ref&(chunkSize-1):]
	n, k := binary.Uvarint(c)
	return c[k : k+int(n)]
}

// release marks the record at ref garbage.
func (m *recMem) release(ref uint32) {
	if ref == noRec {
		return
	}
	c := m.chunks[ref>>chunkBits][ref&(chunkSize-1):]
	n, k := binary.Uvarint(c)
	m.live -= int64(k) + int64(n)
}

// ---- encoding ----

func (m *recMem) appendDocs(b []byte, ds []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ds)))
	for _, d := range ds {
		b = binary.AppendUvarint(b, uint64(m.doc(d)))
	}
	return b
}

func (m *recMem) appendAttrs(b []byte, as []graph.Attr) []byte {
	b = binary.AppendUvarint(b, uint64(len(as)))
	for _, a := range as {
		b = appendStr(b, a.Name)
		b = appendStr(b, a.Value)
		b = m.appendDocs(b, a.Docs)
	}
	return b
}

// encodeNode re-encodes a decoded record (every list inline).
func (m *recMem) encodeNode(rec *nodeRec) []byte {
	b := append(m.buf[:0], rec.Kind.Code())
	b = binary.AppendUvarint(b, uint64(len(rec.KeyDocs)))
	for _, kd := range rec.KeyDocs {
		b = appendKey(b, kd.Key)
		b = m.appendDocs(b, kd.Docs)
	}
	b = m.appendAttrs(b, rec.Attrs)
	b = m.appendDocs(b, rec.Docs)
	b = binary.AppendUvarint(b, uint64(len(rec.Joins)))
	for _, j := range rec.Joins {
		b = binary.AppendUvarint(b, uint64(len(j.Keys)))
		for _, k := range j.Keys {
			b = appendKey(b, k)
		}
		b = m.appendDocs(b, j.Docs)
	}
	m.buf = b
	return b
}

func (m *recMem) encodeEdge(rec *edgeRec) []byte {
	b := m.appendAttrs(m.buf[:0], rec.Attrs)
	b = m.appendDocs(b, rec.Docs)
	m.buf = b
	return b
}

// appendKey writes a node key, a sha256 digest as its 32 bytes (most
// keys: 39 bytes less each).
func appendKey(b []byte, k string) []byte {
	if raw, ok := sha256Raw(k); ok {
		b = append(b, 1)
		return append(b, raw[:]...)
	}
	b = binary.AppendUvarint(b, 2*uint64(len(k)))
	return append(b, k...)
}

// putNode stores rec, nil meaning "read it from the file".
func (m *recMem) putNode(rec *nodeRec) uint32 {
	if rec == nil {
		return noRec
	}
	return m.put(m.encodeNode(rec))
}

func (m *recMem) putEdge(rec *edgeRec) uint32 {
	if rec == nil {
		return noRec
	}
	return m.put(m.encodeEdge(rec))
}

// putWNode stores a record as flush wrote it (the bytes encodeNode gives
// for the stored record decoded), or returns noRec when a list spilled.
func (m *recMem) putWNode(w *wNode) uint32 {
	b, ok := m.encodeWNode(w)
	if !ok {
		return noRec
	}
	return m.put(b)
}

func (m *recMem) putWEdge(w *wEdge) uint32 {
	if w.docs.spilled || attrsSpilled(w.attrs) {
		return noRec
	}
	m.ownerOrds(&w.docs)
	b := binary.AppendUvarint(m.buf[:0], uint64(len(w.attrs)))
	b = m.appendWAttrs(b, w.attrs)
	b = m.appendDocSet(b, &w.docs)
	m.buf = b
	return m.put(b)
}

func (m *recMem) encodeWNode(w *wNode) ([]byte, bool) {
	if w.spilled() {
		return nil, false // before any document is numbered
	}
	m.ownerOrds(&w.docs)
	b := append(m.buf[:0], w.kind.Code())
	b = binary.AppendUvarint(b, uint64(len(w.keys)))
	for i := range w.keys {
		b = appendKey(b, w.keys[i].key)
		b = m.appendDocSet(b, &w.keys[i].docs)
	}
	b = binary.AppendUvarint(b, uint64(len(w.attrs)))
	b = m.appendWAttrs(b, w.attrs)
	b = m.appendDocSet(b, &w.docs)
	b = binary.AppendUvarint(b, uint64(len(w.joins)))
	for i := range w.joins {
		j := &w.joins[i]
		b = binary.AppendUvarint(b, uint64(len(j.keys)))
		for _, k := range j.keys {
			b = appendKey(b, k)
		}
		b = m.appendDocSet(b, &j.docs)
	}
	m.buf = b
	return b, true
}

// ownerOrds numbers the owner's documents (s, inline) first: most of a
// record's lists share its slice (flush makes a list equal to the owner's
// share it), and appendDocSet then copies these ordinals.
func (m *recMem) ownerOrds(s *docSet) {
	ds := s.all()
	m.owner = ds
	m.ords = m.ords[:0]
	for _, d := range ds {
		m.ords = append(m.ords, m.docRefOrd(d))
	}
}

// spilled reports whether any of w's lists spilled.
func (w *wNode) spilled() bool {
	if w.docs.spilled || attrsSpilled(w.attrs) {
		return true
	}
	for i := range w.keys {
		if w.keys[i].docs.spilled {
			return true
		}
	}
	for i := range w.joins {
		if w.joins[i].docs.spilled {
			return true
		}
	}
	return false
}

func attrsSpilled(as []wAttr) bool {
	for i := range as {
		if as[i].docs.spilled {
			return true
		}
	}
	return false
}

// appendWAttrs writes the claims after their count (no list spilled).
func (m *recMem) appendWAttrs(b []byte, as []wAttr) []byte {
	for i := range as {
		b = appendStr(b, as[i].name)
		b = appendStr(b, as[i].value)
		b = m.appendDocSet(b, &as[i].docs)
	}
	return b
}

// appendDocSet writes an inline list as appendDocs does.
func (m *recMem) appendDocSet(b []byte, s *docSet) []byte {
	ds := s.all()
	b = binary.AppendUvarint(b, uint64(len(ds)))
	if len(ds) > 0 && len(ds) == len(m.owner) && &ds[0] == &m.owner[0] {
		for _, o := range m.ords {
			b = binary.AppendUvarint(b, uint64(o))
		}
		return b
	}
	for _, d := range ds {
		b = binary.AppendUvarint(b, uint64(m.docRefOrd(d)))
	}
	return b
}

// memNodeOf decodes the stored record v for memory: nil when it has a
// spilled list (a spill reader without a transaction fails on the first
// one) or does not decode (reads from the file report it as before), or
// is a schema 1 JSON record (its key evidence is not in KeyDocs' order).
func memNodeOf(v []byte, a *arena) *nodeRec {
	if len(v) == 0 || (v[0] != recNode && v[0] != recNode4) {
		return nil
	}
	rec := &nodeRec{}
	if decodeNodeIn(v, rec, a, &spillReader{}) != nil {
		return nil
	}
	if len(rec.Keys) != len(rec.KeyDocs) {
		return nil
	}
	return rec
}

func memEdgeOf(v []byte, a *arena) *edgeRec {
	if len(v) == 0 || (v[0] != recBinary && v[0] != recEdge4) {
		return nil
	}
	rec := &edgeRec{}
	if decodeEdgeIn(v, rec, a, &spillReader{}) != nil {
		return nil
	}
	return rec
}

// ---- decoding ----

// memDecoder reads a memNode or memEdge into the shapes decodeNodeIn and
// decodeEdgeIn give: the same lists from the same arena slabs, strings
// copied into the arena (the slab may be freed by a later compaction),
// evidence digests shared from the document table.
type memDecoder struct {
	b    []byte
	a    *arena
	docs []string
	err  error
}

func (d *memDecoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *memDecoder) count() int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

// key reads a node key (appendKey).
func (d *memDecoder) key() string {
	if d.err != nil {
		return ""
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return ""
	}
	d.b = d.b[n:]
	if v == 1 {
		if len(d.b) < 32 {
			d.fail()
			return ""
		}
		s := d.a.digest(d.b[:32])
		d.b = d.b[32:]
		return s
	}
	if v%2 == 1 || v/2 > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := d.a.str(d.b[:v/2])
	d.b = d.b[v/2:]
	return s
}

// ord reads a document ordinal.
func (d *memDecoder) ord() int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v >= uint64(len(d.docs)) {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *memDecoder) str() string {
	n := d.count()
	if d.err != nil || n > len(d.b) {
		d.fail()
		return ""
	}
	s := d.a.str(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *memDecoder) docList() []string {
	n := d.count()
	if n == 0 || d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.fail()
		return nil
	}
	out := d.a.strings(n)
	for i := range out {
		o := d.ord()
		if d.err != nil {
			d.fail()
			return nil
		}
		out[i] = d.docs[o]
	}
	return out
}

func (d *memDecoder) attrs() []graph.Attr {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := slab(d.a, &d.a.attrs, n)
	for i := range out {
		out[i].Name = d.str()
		out[i].Value = d.str()
		out[i].Docs = d.docList()
	}
	if d.err != nil {
		return nil
	}
	return out
}

func (d *memDecoder) done() error {
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(d.b))
	}
	return nil
}

// memDecodedSize bounds the arena bytes records of n bytes decode into
// (strings are copied; a raw sha256 key grows from 33 to 71 bytes).
func memDecodedSize(n int) int { return n * 9 / 4 }

// node decodes the memNode at ref as the graph.Node decodeLoaded gives.
func (m *recMem) node(ref uint32, nid graph.NodeID, a *arena) (graph.Node, error) {
	return m.decodeNode(m.get(ref), nid, a)
}

// decodeNode decodes the memNode v.
func (m *recMem) decodeNode(v []byte, nid graph.NodeID, a *arena) (graph.Node, error) {
	if len(v) < 1 {
		return graph.Node{}, errCorrupt
	}
	var rec nodeRec
	rec.Kind = graph.NodeKindFromCode(v[0])
	d := memDecoder{b: v[1:], a: a, docs: m.docs}
	if n := d.count(); n > 0 {
		rec.Keys = a.strings(n)
		rec.KeyDocs = slab(a, &a.claims, n)
		for i := range rec.Keys {
			rec.Keys[i] = d.key()
			rec.KeyDocs[i] = graph.KeyClaim{Key: rec.Keys[i], Docs: d.docList()}
		}
	}
	rec.Attrs = d.attrs()
	rec.Docs = d.docList()
	if n := d.count(); n > 0 {
		rec.Joins = slab(a, &a.joins, n)
		for i := range rec.Joins {
			k := d.count()
			if d.err != nil {
				break
			}
			ks := a.strings(k)
			for j := range ks {
				ks[j] = d.key()
			}
			rec.Joins[i] = graph.KeyJoin{Keys: ks, Docs: d.docList()}
		}
	}
	if err := d.done(); err != nil {
		return graph.Node{}, err
	}
	return graph.Node{ID: nid, Kind: rec.Kind, Keys: rec.Keys, Attrs: nonNil(rec.Attrs), Docs: rec.Docs, KeyDocs: rec.KeyDocs, Joins: rec.Joins}, nil
}

// edge decodes the memEdge at ref as loadEdgesTx gives it.
func (m *recMem) edge(ref uint32, r graph.EdgeRef, a *arena) (graph.Edge, error) {
	return m.decodeEdge(m.get(ref), r, a)
}

// decodeEdge decodes the memEdge v.
func (m *recMem) decodeEdge(v []byte, r graph.EdgeRef, a *arena) (graph.Edge, error) {
	d := memDecoder{b: v, a: a, docs: m.docs}
	attrs := d.attrs()
	docs := d.docList()
	if err := d.done(); err != nil {
		return graph.Edge{}, err
	}
	return graph.Edge{EdgeRef: r, Attrs: nonNil(attrs), Docs: docs}, nil
}

// ---- keeping them current ----

// recUpdate is one record a committed transaction wrote, as the write
// cache holds it after flush (wNode and wEdge then hold exactly what the
// stored record decodes to: flush leaves every inline list merged and
// sorted, a list that spilled marked so).
type recUpdate struct {
	node bool
	id   [16]byte // node
	key  [33]byte // edge
	wn   *wNode
	we   *wEdge
}

// captureRecords takes, in the write transaction after the cache's flush,
// every node and edge record it wrote; the index encodes them for memory
// with the rest of the delta once the commit is durable (the records stay
// unchanged until then: the next write transaction waits for it). Encoding
// from the cache's records instead of decoding the values flush just
// encoded saved ~180 MB of allocation per 20x-corpus ingest
// (docs/performance.md).
func captureRecords(c *txCache, d *delta) {
	for id, e := range c.nodes {
		if !e.dirty || e.deleted {
			continue
		}
		d.recs = append(d.recs, recUpdate{node: true, id: id, wn: &e.rec})
	}
	for k, e := range c.edges {
		if !e.dirty || e.deleted {
			continue
		}
		d.recs = append(d.recs, recUpdate{key: k, we: &e.rec})
	}
}

// applyRecords replaces the records a commit wrote (x.mu held for
// writing, after the delta's adjacency changes).
func (x *index) applyRecords(us []recUpdate) {
	for i := range us {
		u := &us[i]
		if u.node {
			o, ok := x.ord[u.id]
			if !ok {
				continue
			}
			x.mem.release(x.nrec[o])
			x.nrec[o] = x.mem.putWNode(u.wn)
			continue
		}
		f, ok1 := x.ord[[16]byte(u.key[:16])]
		t, ok2 := x.ord[[16]byte(u.key[17:])]
		if !ok1 || !ok2 {
			continue
		}
		eid, ok := x.edgeID(f, t, u.key[16])
		if !ok {
			continue
		}
		x.mem.release(x.erec[eid])
		x.erec[eid] = x.mem.putWEdge(u.we)
	}
	x.maybeCompact()
}

// edgeID finds the id of edge f -kind-> t, scanning the shorter list.
func (x *index) edgeID(f, t uint32, kind uint8) (uint32, bool) {
	if len(x.out[f]) <= len(x.in[t]) {
		for _, h := range x.out[f] {
			if h.peer == t && h.kind == kind {
				return h.eid, true
			}
		}
		return 0, false
	}
	for _, h := range x.in[t] {
		if h.peer == f && h.kind == kind {
			return h.eid, true
		}
	}
	return 0, false
}

// maybeCompact copies the live records into new chunks once garbage (old
// versions of rewritten records) is more than half the slab.
func (x *index) maybeCompact() {
	m := x.mem
	if g := m.total - m.live; g < chunkSize || g < m.live {
		return
	}
	x.compactRecords()
}

func (x *index) compactRecords() {
	old := x.mem
	m := &recMem{docs: old.docs, docOrd: old.docOrd, rawOrd: old.rawOrd}
	move := func(ref uint32) uint32 {
		if ref == noRec {
			return noRec
		}
		return m.put(old.get(ref))
	}
	for o, ref := range x.nrec {
		x.nrec[o] = move(ref)
	}
	for e, ref := range x.erec {
		x.erec[e] = move(ref)
	}
	old.free()
	x.mem = m
}

// ---- after a rebuild ----

// A rebuild (no snapshot: a crash, a first open) scans only keys; the
// records are put in memory by a background fill, so the open is not
// slowed by decoding every record. Until a record is filled, walks read
// it from the file. Each batch holds the index lock for writing and
// reads in a transaction begun under it: it sees every commit already
// applied to the index (and perhaps one committed but not yet applied,
// whose records then replace the same values), so it never puts back an
// older record than the index has.
type filler struct {
	stop     chan struct{}
	done     chan struct{}
	complete bool // every record was considered (set before done closes)
}

func (s *store) startFill() {
	f := &filler{stop: make(chan struct{}), done: make(chan struct{})}
	s.fill = f
	go func() {
		defer close(f.done)
		f.complete = s.idx.fillAll(s.db, f.stop)
	}()
}

// waitFill waits until the background fill has finished.
func (s *store) waitFill() {
	if s.fill != nil {
		<-s.fill.done
	}
}

// stopFill stops the background fill and reports whether it had finished.
func (s *store) stopFill() bool {
	f := s.fill
	if f == nil {
		return true
	}
	s.fill = nil
	close(f.stop)
	<-f.done
	return f.complete
}

// resetArena empties a for reuse: the fill decodes a record into it and
// copies it into the slab at once, so its buffers are reused (a rebuild's
// garbage otherwise grew the heap by hundreds of MB at 1M).
func resetArena(a *arena) *arena {
	a.buf = a.buf[:0]
	a.strs = a.strs[:0]
	a.claims = a.claims[:0]
	a.joins = a.joins[:0]
	a.attrs = a.attrs[:0]
	return a
}

// fillBatch is how many nodes (with their out-edges) one batch fills.
const fillBatch = 64

// fillAll puts every node's record and its out-edges' in memory.
func (x *index) fillAll(db *bbolt.DB, stop <-chan struct{}) bool {
	a := &arena{}
	for start := 0; ; start += fillBatch {
		select {
		case <-stop:
			return false
		default:
		}
		x.mu.Lock()
		n := len(x.ids)
		if start >= n {
			x.mu.Unlock()
			return true
		}
		err := db.View(func(tx *bbolt.Tx) error {
			nodes, edges := newGetter(tx, bNodes), newGetter(tx, bEdges)
			var k [33]byte
			for o := start; o < min(start+fillBatch, n); o++ {
				id := x.ids[o]
				if cur, ok := x.ord[id]; !ok || cur != uint32(o) {
					continue
				}
				x.mem.release(x.nrec[o])
				x.nrec[o] = x.mem.putNode(memNodeOf(nodes.get(id[:]), resetArena(a)))
				copy(k[:16], id[:])
				for _, h := range x.out[o] {
					k[16] = h.kind
					copy(k[17:], x.ids[h.peer][:])
					x.mem.release(x.erec[h.eid])
					x.erec[h.eid] = x.mem.putEdge(memEdgeOf(edges.get(k[:]), resetArena(a)))
				}
			}
			return nil
		})
		x.mu.Unlock()
		if err != nil {
			return false
		}
	}
}
