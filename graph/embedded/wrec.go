package embedded

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"unsafe"

	bbolt "go.etcd.io/bbolt"

	"github.com/modelgraph/modelgraph/graph"
)

// The write path keeps evidence lists in raw form. A signing key's
// Identity node and the core packages every SBOM lists collect one entry
// per document; converting those lists to strings, inserting into them in
// sorted position and converting back, for every write that touches them,
// made bulk ingest quadratic (half of a 1M-node load's CPU time). Here a
// sha256 digest stays 32 bytes, new entries are appended unsorted and
// merged once when the record is encoded, so a write costs O(list) memory
// copying, not O(list) string work.

// docRef is a document digest: sha256 digests (every digest the ingest
// pipeline produces) as raw bytes, anything else as its string.
type docRef struct {
	raw [32]byte
	s   string // "" for a raw sha256 digest
}

func toDocRef(d string) docRef {
	if raw, ok := sha256Raw(d); ok {
		return docRef{raw: raw}
	}
	return docRef{s: d}
}

func (d docRef) String() string {
	if d.s != "" {
		return d.s
	}
	return sha256Prefix + hex.EncodeToString(d.raw[:])
}

// cmpDocRef orders as the digests' strings do (the order graph.AddSorted
// keeps), without building strings in the common all-sha256 case.
func cmpDocRef(a, b docRef) int {
	if a.s == "" && b.s == "" {
		return bytes.Compare(a.raw[:], b.raw[:])
	}
	return strings.Compare(a.String(), b.String())
}

// docSet is a sorted, unique evidence list plus entries added since it was
// read. A spilled set keeps its entries in the evidence bucket (b, under
// prefix); sorted is then empty and added holds the new ones.
type docSet struct {
	sorted  []docRef
	added   []docRef
	inAdded map[docRef]struct{} // once added is long enough to need it

	spilled bool
	b       *bbolt.Bucket
	prefix  []byte
}

// evKey is the evidence key of d under prefix.
func evKey(prefix []byte, d docRef) []byte {
	k := make([]byte, 0, len(prefix)+1+max(32, len(d.s)))
	k = append(k, prefix...)
	if d.s == "" {
		k = append(k, 0)
		return append(k, d.raw[:]...)
	}
	k = append(k, 1)
	return append(k, d.s...)
}

// hasKey reports whether b holds k. Evidence keys have empty values,
// which Bucket.Get reports as nil, like a missing key.
func hasKey(b *bbolt.Bucket, k []byte) bool {
	got, _ := b.Cursor().Seek(k)
	return bytes.Equal(got, k)
}

// refArena hands out the first room of docSet.added lists: most lists
// gain one or two documents per write transaction, and a small slice each
// was 4% of a bulk ingest's allocation. A list is merged (added set to
// nil) when flush encodes its record, so every list taken from the arena
// is done with when the transaction ends, and the store reuses the arena
// for the next one (keepNodes and keepEdges keep no record that still
// holds an added list).
type refArena struct {
	chunks [][]docRef
	i, off int // the chunk and offset being handed out
}

const (
	refArenaChunk = 1024 // docRefs (48 KiB)
	refRoom       = 2
	// A group of 32 documents of the 20x corpus adds to ~33k lists
	// (~65 chunks): up to 6 MiB are kept between transactions.
	maxRefChunks = 128
)

// take returns an empty list with room for refRoom entries.
func (a *refArena) take() []docRef {
	if a == nil {
		return nil
	}
	if a.i >= len(a.chunks) || a.off+refRoom > refArenaChunk {
		if a.i < len(a.chunks) {
			a.i++
		}
		if a.i >= len(a.chunks) {
			a.chunks = append(a.chunks, make([]docRef, refArenaChunk))
		}
		a.off = 0
	}
	s := a.chunks[a.i][a.off : a.off : a.off+refRoom]
	a.off += refRoom
	return s
}

// reset makes the arena's room available again (no list taken from it
// may be in use).
func (a *refArena) reset() {
	if len(a.chunks) > maxRefChunks {
		clear(a.chunks[maxRefChunks:])
		a.chunks = a.chunks[:maxRefChunks]
	}
	a.i, a.off = 0, 0
}

// add inserts d and reports whether it was absent.
func (s *docSet) add(d docRef) bool { return s.addIn(d, nil) }

// addIn is add taking a new added list's room from a (may be nil).
func (s *docSet) addIn(d docRef, a *refArena) bool {
	if s.spilled {
		if hasKey(s.b, evKey(s.prefix, d)) {
			return false
		}
	} else if _, found := slices.BinarySearchFunc(s.sorted, d, cmpDocRef); found {
		return false
	}
	if s.inAdded != nil {
		if _, ok := s.inAdded[d]; ok {
			return false
		}
	} else if slices.Contains(s.added, d) {
		return false
	}
	if s.added == nil {
		s.added = a.take()
	}
	s.added = append(s.added, d)
	if s.inAdded == nil && len(s.added) > 32 {
		s.inAdded = make(map[docRef]struct{}, 2*len(s.added))
		for _, a := range s.added {
			s.inAdded[a] = struct{}{}
		}
	} else if s.inAdded != nil {
		s.inAdded[d] = struct{}{}
	}
	return true
}

func (s *docSet) rebind(ev *bbolt.Bucket) {
	if s.spilled {
		s.b = ev
	}
}

func (s *docSet) size() int {
	return 64 + len(s.prefix) + int(unsafe.Sizeof(docRef{}))*(cap(s.sorted)+cap(s.added))
}

func (s *docSet) len() int {
	if s.spilled {
		return 0 // only the marker is stored
	}
	return len(s.sorted) + len(s.added)
}

// evSpec names an evidence list of an owner; its key prefix in the
// evidence bucket is computed only for a list that spills (two SHA-256
// sums for a key or claim list: most lists never need it).
type evSpec struct {
	owner []byte // node id (16) or edge key (33)
	scope byte
	a, b  string   // scopeAttr: name, value; scopeKey: the key
	keys  []string // scopeJoin: the key set
}

func (e *evSpec) prefix() []byte {
	switch e.scope {
	case scopeAttr:
		return evPrefix(e.owner, &graph.Attr{Name: e.a, Value: e.b})
	case scopeKey:
		return evKeyPrefix(e.owner, e.a)
	case scopeJoin:
		return evJoinPrefix(e.owner, e.keys)
	}
	return evPrefix(e.owner, nil)
}

// sameAs is what a record's later lists compare with: its owner's
// documents as encoded (now, inline) and as they were before this
// transaction's additions (old, added).
type sameAs struct {
	now, old, added []docRef
}

// ownerSame captures s (the owner's documents) before it is encoded.
// Encoding sorts s.added in place before merging it (all), so added reads
// sorted afterwards.
func ownerSame(s *docSet) sameAs {
	if s.spilled {
		return sameAs{}
	}
	return sameAs{old: s.sorted, added: s.added}
}

// appendTo writes the list into a record: inline while short (as listSame
// when it equals same.now, the owner's inline documents); otherwise its
// new entries go to the evidence bucket b under spec's prefix (all of them
// when it spills now) and the record holds the marker.
func (s *docSet) appendTo(rec []byte, b *bbolt.Bucket, spec *evSpec, same *sameAs) ([]byte, error) {
	if same != nil && len(same.now) > 0 && !s.spilled {
		// The common case without merging: this list was read as the same
		// as the owner's (it shares its slice) and gained the same
		// documents in the same order since.
		if len(s.sorted) == len(same.old) && (len(s.sorted) == 0 || &s.sorted[0] == &same.old[0]) && len(s.added) == len(same.added) && sortedEqual(s.added, same.added) {
			s.sorted, s.added, s.inAdded = same.now, nil, nil
			return binary.AppendUvarint(rec, listSame), nil
		}
	}
	if !s.spilled && s.len() <= spillAt {
		all := s.all()
		if same != nil && len(all) > 0 && slices.Equal(all, same.now) {
			// Share the owner's list: one copy in memory too.
			s.sorted = same.now
			return binary.AppendUvarint(rec, listSame), nil
		}
		return appendDocRefs(rec, all), nil
	}
	var put []docRef
	var prefix []byte
	if s.spilled {
		slices.SortFunc(s.added, cmpDocRef)
		put, prefix = s.added, s.prefix
	} else {
		put, prefix = s.all(), spec.prefix()
		s.spilled, s.b, s.prefix = true, b, prefix
	}
	for _, d := range put {
		if err := b.Put(evKey(prefix, d), nil); err != nil {
			return nil, err
		}
	}
	s.sorted, s.added, s.inAdded = nil, nil, nil
	return binary.AppendUvarint(rec, 1), nil
}

// sortedEqual sorts a (entries added to a list, in place: encoding sorts
// them anyway) and reports whether it equals b (sorted).
func sortedEqual(a, b []docRef) bool {
	if len(a) > 1 {
		slices.SortFunc(a, cmpDocRef)
	}
	return slices.Equal(a, b)
}

// inlineList returns the list a record's later lists may be the same as:
// s's, when it is inline (call after appendTo), else nil.
func (s *docSet) inlineList() []docRef {
	if s.spilled || len(s.sorted) == 0 {
		return nil
	}
	return s.sorted
}

// all returns the merged, sorted list (and keeps it merged).
func (s *docSet) all() []docRef {
	if len(s.added) == 0 {
		return s.sorted
	}
	slices.SortFunc(s.added, cmpDocRef)
	out := make([]docRef, 0, len(s.sorted)+len(s.added))
	i, j := 0, 0
	for i < len(s.sorted) && j < len(s.added) {
		if cmpDocRef(s.sorted[i], s.added[j]) < 0 {
			out = append(out, s.sorted[i])
			i++
		} else {
			out = append(out, s.added[j])
			j++
		}
	}
	out = append(out, s.sorted[i:]...)
	out = append(out, s.added[j:]...)
	s.sorted, s.added, s.inAdded = out, nil, nil
	return out
}

type wAttr struct {
	name, value string
	docs        docSet
}

// wKey is one key of a node with the documents that named it.
type wKey struct {
	key  string
	docs docSet
}

// wJoin is a key set some documents named together.
type wJoin struct {
	keys []string // sorted
	id   string   // graph.JoinID(keys)
	docs docSet
}

// wNode and wEdge are records as the write path holds them.
type wNode struct {
	kind  graph.NodeKind
	keys  []wKey // sorted by key
	attrs []wAttr
	docs  docSet
	joins []wJoin // sorted by id
}

// hasAdded reports whether any of w's lists holds entries not yet merged
// (taken from a transaction's refArena).
func (w *wNode) hasAdded() bool {
	if w.docs.added != nil {
		return true
	}
	for i := range w.keys {
		if w.keys[i].docs.added != nil {
			return true
		}
	}
	for i := range w.attrs {
		if w.attrs[i].docs.added != nil {
			return true
		}
	}
	for i := range w.joins {
		if w.joins[i].docs.added != nil {
			return true
		}
	}
	return false
}

func (w *wEdge) hasAdded() bool {
	if w.docs.added != nil {
		return true
	}
	for i := range w.attrs {
		if w.attrs[i].docs.added != nil {
			return true
		}
	}
	return false
}

// rebind points w's spilled lists at ev (a later transaction's bucket).
func (w *wNode) rebind(ev *bbolt.Bucket) {
	w.docs.rebind(ev)
	for i := range w.keys {
		w.keys[i].docs.rebind(ev)
	}
	for i := range w.attrs {
		w.attrs[i].docs.rebind(ev)
	}
	for i := range w.joins {
		w.joins[i].docs.rebind(ev)
	}
}

// size estimates the memory w holds (lists shared with the owner's are
// counted again: an upper bound).
func (w *wNode) size() int {
	n := 256 + w.docs.size()
	for i := range w.keys {
		n += 64 + len(w.keys[i].key) + w.keys[i].docs.size()
	}
	for i := range w.attrs {
		n += 96 + len(w.attrs[i].name) + len(w.attrs[i].value) + w.attrs[i].docs.size()
	}
	for i := range w.joins {
		n += 96 + len(w.joins[i].id) + w.joins[i].docs.size()
	}
	return n
}

func (w *wNode) joinIndex(id string) (int, bool) {
	return slices.BinarySearchFunc(w.joins, id, func(j wJoin, id string) int { return strings.Compare(j.id, id) })
}

// addJoin records that doc named keys (two or more) together; scratch
// is a buffer for the key set's id.
func (w *wNode) addJoin(keys []string, doc docRef, scratch *[]byte, a *refArena) bool {
	if len(keys) < 2 {
		return false
	}
	ks := keys
	if !sortedUnique(keys) {
		ks = slices.Clone(keys)
		slices.Sort(ks)
		ks = slices.Compact(ks)
	}
	// The key set's id (graph.JoinID) is built in scratch and looked up
	// in place: a string and a copy of the keys are made only for a new
	// join (the ids were 2% of a bulk ingest's allocation).
	idb := (*scratch)[:0]
	for j, k := range ks {
		if j > 0 {
			idb = append(idb, 0)
		}
		idb = append(idb, k...)
	}
	*scratch = idb
	i, hi := 0, len(w.joins)
	for i < hi { // w.joinIndex, comparing with idb without a string
		if h := int(uint(i+hi) >> 1); w.joins[h].id < string(idb) {
			i = h + 1
		} else {
			hi = h
		}
	}
	if i < len(w.joins) && w.joins[i].id == string(idb) {
		return w.joins[i].docs.addIn(doc, a)
	}
	if &ks[0] == &keys[0] {
		ks = slices.Clone(ks)
	}
	w.joins = slices.Insert(w.joins, i, wJoin{keys: ks, id: string(idb), docs: docSet{sorted: []docRef{doc}}})
	return true
}

// sortedUnique reports whether ks is strictly increasing.
func sortedUnique(ks []string) bool {
	for i := 1; i < len(ks); i++ {
		if ks[i-1] >= ks[i] {
			return false
		}
	}
	return true
}

// keyIndex returns where key is (or would be) in w.keys.
func (w *wNode) keyIndex(key string) (int, bool) {
	return slices.BinarySearchFunc(w.keys, key, func(k wKey, key string) int { return strings.Compare(k.key, key) })
}

// addKey attaches key (with no evidence yet) unless present.
func (w *wNode) addKey(key string) {
	if i, found := w.keyIndex(key); !found {
		w.keys = slices.Insert(w.keys, i, wKey{key: key})
	}
}

// addKeyDoc records that doc named key (which the node has) for it.
func (w *wNode) addKeyDoc(key string, doc docRef, a *refArena) bool {
	i, found := w.keyIndex(key)
	if !found {
		return false
	}
	return w.keys[i].docs.addIn(doc, a)
}

type wEdge struct {
	attrs []wAttr
	docs  docSet
}

// mergeAttrs adds the claims name=value (from doc) to as, as
// graph.MergeAttrs does: sorted by (name, value), evidence merged.
func mergeAttrs(as []wAttr, doc docRef, claims map[string]string, a *refArena) ([]wAttr, bool) {
	changed := false
	for name, value := range claims {
		i, found := slices.BinarySearchFunc(as, wAttr{name: name, value: value}, func(a, b wAttr) int {
			if c := strings.Compare(a.name, b.name); c != 0 {
				return c
			}
			return strings.Compare(a.value, b.value)
		})
		if !found {
			as = slices.Insert(as, i, wAttr{name: name, value: value, docs: docSet{sorted: []docRef{doc}}})
			changed = true
			continue
		}
		if as[i].docs.addIn(doc, a) {
			changed = true
		}
	}
	return as, changed
}

func appendDocRefs(b []byte, ds []docRef) []byte {
	b = binary.AppendUvarint(b, 2*uint64(len(ds)))
	for _, d := range ds {
		if d.s == "" {
			b = append(b, 0)
			b = append(b, d.raw[:]...)
			continue
		}
		b = append(b, 1)
		b = appendStr(b, d.s)
	}
	return b
}

// sizeDocRefs bounds the encoded size of an inline list of n entries
// (digests that are not sha256 may be longer: append grows then).
func sizeDocRefs(n int) int { return binary.MaxVarintLen32 + n*33 }

func sizeWAttrs(as []wAttr) int {
	n := binary.MaxVarintLen32
	for i := range as {
		n += 2*binary.MaxVarintLen32 + len(as[i].name) + len(as[i].value) + sizeDocRefs(as[i].docs.len())
	}
	return n
}

// encodeAttrs writes the claims of owner (a node id or an edge key).
func encodeAttrs(rec []byte, attrs []wAttr, ev *bbolt.Bucket, owner []byte, same *sameAs) ([]byte, error) {
	rec = binary.AppendUvarint(rec, uint64(len(attrs)))
	var err error
	for i := range attrs {
		a := &attrs[i]
		rec = appendStr(rec, a.name)
		rec = appendStr(rec, a.value)
		if rec, err = a.docs.appendTo(rec, ev, &evSpec{owner: owner, scope: scopeAttr, a: a.name, b: a.value}, same); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// encode returns node id's record (schema 4), putting spilled evidence
// into ev.
func (w *wNode) encode(ev *bbolt.Bucket, id [16]byte) ([]byte, error) {
	n := 2 + sizeWAttrs(w.attrs) + sizeDocRefs(w.docs.len()) + 2*binary.MaxVarintLen32
	for i := range w.keys {
		n += binary.MaxVarintLen32 + len(w.keys[i].key) + sizeDocRefs(w.keys[i].docs.len())
	}
	for i := range w.joins {
		n += binary.MaxVarintLen32 + sizeDocRefs(w.joins[i].docs.len())
		for _, k := range w.joins[i].keys {
			n += binary.MaxVarintLen32 + len(k)
		}
	}
	return w.encodeTo(make([]byte, 0, n), ev, id)
}

// encodeTo appends node id's record to b.
func (w *wNode) encodeTo(b []byte, ev *bbolt.Bucket, id [16]byte) ([]byte, error) {
	b = append(b, recNode4, w.kind.Code())
	owner := id[:]
	same := ownerSame(&w.docs)
	b, err := w.docs.appendTo(b, ev, &evSpec{owner: owner, scope: scopeDocs}, nil)
	if err != nil {
		return nil, err
	}
	same.now = w.docs.inlineList()
	b = binary.AppendUvarint(b, uint64(len(w.keys)))
	for i := range w.keys {
		k := &w.keys[i]
		b = appendStr(b, k.key)
		if b, err = k.docs.appendTo(b, ev, &evSpec{owner: owner, scope: scopeKey, a: k.key}, &same); err != nil {
			return nil, err
		}
	}
	if b, err = encodeAttrs(b, w.attrs, ev, owner, &same); err != nil {
		return nil, err
	}
	b = binary.AppendUvarint(b, uint64(len(w.joins)))
	for i := range w.joins {
		j := &w.joins[i]
		b = binary.AppendUvarint(b, uint64(len(j.keys)))
		for _, k := range j.keys {
			b = appendStr(b, k)
		}
		if b, err = j.docs.appendTo(b, ev, &evSpec{owner: owner, scope: scopeJoin, keys: j.keys}, &same); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// rebind points w's spilled lists at ev (a later transaction's bucket).
func (w *wEdge) rebind(ev *bbolt.Bucket) {
	w.docs.rebind(ev)
	for i := range w.attrs {
		w.attrs[i].docs.rebind(ev)
	}
}

// size estimates the memory w holds (as wNode.size).
func (w *wEdge) size() int {
	n := 128 + w.docs.size()
	for i := range w.attrs {
		n += 96 + len(w.attrs[i].name) + len(w.attrs[i].value) + w.attrs[i].docs.size()
	}
	return n
}

// encodeTo appends edge key's record (schema 4) to b, putting spilled
// evidence into ev.
func (w *wEdge) encodeTo(b []byte, ev *bbolt.Bucket, key [33]byte) ([]byte, error) {
	b = append(b, recEdge4)
	owner := key[:]
	same := ownerSame(&w.docs)
	b, err := w.docs.appendTo(b, ev, &evSpec{owner: owner, scope: scopeDocs}, nil)
	if err != nil {
		return nil, err
	}
	same.now = w.docs.inlineList()
	return encodeAttrs(b, w.attrs, ev, owner, &same)
}

// decodeWNode decodes node id's record (schema 3 or 4) for writing;
// spilled lists refer to ev.
func decodeWNode(v []byte, ev *bbolt.Bucket, id [16]byte) (wNode, error) {
	if len(v) < 2 || (v[0] != recNode && v[0] != recNode4) {
		return wNode{}, errCorrupt
	}
	w := wNode{kind: graph.NodeKindFromCode(v[1])}
	if w.kind == "" {
		return wNode{}, errCorrupt
	}
	d := decoder{b: v[2:]}
	owner := id[:]
	v4 := v[0] == recNode4
	if v4 {
		w.docs = d.ownerDocSet(ev, owner)
	}
	if n := d.count(); n > 0 {
		w.keys = make([]wKey, n)
		for i := range w.keys {
			w.keys[i].key = d.str()
			w.keys[i].docs = d.docSet(ev, &evSpec{owner: owner, scope: scopeKey, a: w.keys[i].key})
		}
	}
	w.attrs = d.wattrs(ev, owner)
	if !v4 {
		w.docs = d.docSet(ev, &evSpec{owner: owner, scope: scopeDocs})
	}
	if n := d.count(); n > 0 {
		w.joins = make([]wJoin, n)
		for i := range w.joins {
			m := d.count()
			if d.err != nil {
				break
			}
			ks := make([]string, m)
			for j := range ks {
				ks[j] = d.str()
			}
			w.joins[i] = wJoin{keys: ks, id: graph.JoinID(ks), docs: d.docSet(ev, &evSpec{owner: owner, scope: scopeJoin, keys: ks})}
		}
	}
	return w, d.done()
}

// decodeWEdge decodes edge key's record for writing.
func decodeWEdge(v []byte, ev *bbolt.Bucket, key [33]byte) (wEdge, error) {
	if len(v) > 0 && v[0] == '{' {
		var rec edgeRec
		if err := decodeEdge(v, &rec); err != nil {
			return wEdge{}, err
		}
		return wEdge{attrs: toWAttrs(rec.Attrs), docs: toDocSet(rec.Docs)}, nil
	}
	if len(v) < 1 || (v[0] != recBinary && v[0] != recEdge4) {
		return wEdge{}, errCorrupt
	}
	d := decoder{b: v[1:]}
	var w wEdge
	if v[0] == recEdge4 {
		w.docs = d.ownerDocSet(ev, key[:])
		w.attrs = d.wattrs(ev, key[:])
	} else {
		w.attrs = d.wattrs(ev, key[:])
		w.docs = d.docSet(ev, &evSpec{owner: key[:], scope: scopeDocs})
	}
	return w, d.done()
}

// entries returns every document of s, spilled ones included, sorted.
func (s *docSet) entries() ([]docRef, error) {
	if !s.spilled {
		return slices.Clone(s.all()), nil
	}
	var out []docRef
	c := s.b.Cursor()
	for k, _ := c.Seek(s.prefix); k != nil && bytes.HasPrefix(k, s.prefix); k, _ = c.Next() {
		ref := k[len(s.prefix):]
		switch {
		case len(ref) == 33 && ref[0] == 0:
			out = append(out, docRef{raw: [32]byte(ref[1:])})
		case len(ref) > 1 && ref[0] == 1:
			out = append(out, docRef{s: string(ref[1:])})
		default:
			return nil, fmt.Errorf("%w: evidence key %x", errCorrupt, k)
		}
	}
	out = append(out, s.added...)
	slices.SortFunc(out, cmpDocRef)
	return slices.CompactFunc(out, func(a, b docRef) bool { return cmpDocRef(a, b) == 0 }), nil
}

// fresh returns an unspilled copy of s holding all its documents, for a
// record that moves to another owner (a merge).
func (s *docSet) fresh() (docSet, error) {
	all, err := s.entries()
	return docSet{sorted: all}, err
}

// addAll adds every document of src to s and reports whether any was new.
func (s *docSet) addAll(src *docSet) (bool, error) {
	all, err := src.entries()
	if err != nil {
		return false, err
	}
	changed := false
	for _, d := range all {
		if s.add(d) {
			changed = true
		}
	}
	return changed, nil
}

// mergeWAttrs folds src's claims and their evidence into dst.
func mergeWAttrs(dst, src []wAttr) ([]wAttr, error) {
	for i := range src {
		a := &src[i]
		j, found := slices.BinarySearchFunc(dst, *a, func(x, y wAttr) int {
			if c := strings.Compare(x.name, y.name); c != 0 {
				return c
			}
			return strings.Compare(x.value, y.value)
		})
		if !found {
			ds, err := a.docs.fresh()
			if err != nil {
				return nil, err
			}
			dst = slices.Insert(dst, j, wAttr{name: a.name, value: a.value, docs: ds})
			continue
		}
		if _, err := dst[j].docs.addAll(&a.docs); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

func toDocSet(ds []string) docSet {
	s := docSet{sorted: make([]docRef, len(ds))}
	for i, d := range ds {
		s.sorted[i] = toDocRef(d)
	}
	// A JSON record's list is sorted as strings; the refs compare the same.
	return s
}

func toWAttrs(as []graph.Attr) []wAttr {
	if len(as) == 0 {
		return nil
	}
	out := make([]wAttr, len(as))
	for i, a := range as {
		out[i] = wAttr{name: a.Name, value: a.Value, docs: toDocSet(a.Docs)}
	}
	return out
}

// docSet reads an evidence list for writing (spec names it in the
// evidence bucket ev, used only when it is spilled). A list that is the
// same as the owner's shares its slice: nothing changes a docSet's sorted
// slice in place.
func (d *decoder) docSet(ev *bbolt.Bucket, spec *evSpec) docSet {
	n, form := d.listLen()
	switch form {
	case formSpilled:
		return docSet{spilled: true, b: ev, prefix: spec.prefix()}
	case formSame:
		return docSet{sorted: d.sameW}
	}
	if n == 0 || d.err != nil {
		return docSet{}
	}
	out := make([]docRef, n)
	for i := range out {
		if d.err != nil || len(d.b) == 0 {
			d.fail()
			return docSet{}
		}
		tag := d.b[0]
		d.b = d.b[1:]
		switch tag {
		case 0:
			if len(d.b) < 32 {
				d.fail()
				return docSet{}
			}
			out[i].raw = [32]byte(d.b[:32])
			d.b = d.b[32:]
		case 1:
			out[i].s = d.str()
		default:
			d.fail()
			return docSet{}
		}
	}
	return docSet{sorted: out}
}

// ownerDocSet reads the owner's documents at the head of a schema 4
// record, for writing, and keeps them for the lists that are the same.
func (d *decoder) ownerDocSet(ev *bbolt.Bucket, owner []byte) docSet {
	s := d.docSet(ev, &evSpec{owner: owner, scope: scopeDocs})
	if !s.spilled && d.err == nil && len(s.sorted) > 0 {
		d.sameW, d.sameOK = s.sorted, true
	}
	return s
}

func (d *decoder) wattrs(ev *bbolt.Bucket, owner []byte) []wAttr {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]wAttr, n)
	for i := range out {
		out[i].name = d.str()
		out[i].value = d.str()
		out[i].docs = d.docSet(ev, &evSpec{owner: owner, scope: scopeAttr, a: out[i].name, b: out[i].value})
	}
	if d.err != nil {
		return nil
	}
	return out
}
