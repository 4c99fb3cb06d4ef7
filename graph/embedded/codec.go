package embedded

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unsafe"

	bbolt "go.etcd.io/bbolt"

	"github.com/modelgraph/modelgraph/graph"
)

// Node and edge records are stored in a compact binary form (schema 4;
// schema 3 records, read as well, put the owner's documents after the
// other lists and have no back-references; schema 2 had no per-key
// evidence, schema 1 was JSON: both are refused at open, see store.go):
// decoding them is what every traversal spends its time on, and evidence
// lists of popular packages hold thousands of document digests. Schema 1
// stores wrote JSON; both are read (a JSON record starts with '{'), records
// are rewritten in binary when next touched.
//
//	node: 0x04 kind(1) docs keys attrs joins   (schema 3: 0x03 kind keys attrs docs joins)
//	edge: 0x05 docs attrs                      (schema 3: 0x02 attrs docs)
//	keys:  uvarint n, n × (str key, docs): each key with the documents
//	       that named it for this node (graph.Node.KeyDocs)
//	joins: uvarint n, n × (uvarint m, m × str key, docs): key sets named
//	       together and by which documents (graph.Node.Joins)
//	attrs: uvarint n, n × (str name, str value, docs)
//	docs:  uvarint 2n, n × digest; or uvarint 1: spilled (see below); or
//	       uvarint 3: the same documents as the owner's (its docs list,
//	       which comes first and is inline): a package every SBOM names
//	       by the same keys with the same claims stores its list once,
//	       not once per key and claim (schema 4)
//	str:   uvarint len, bytes
//	digest: 0x00 + 32 bytes for "sha256:<64 lower hex>", else 0x01 + str
//
// An evidence list longer than spillAt is spilled: its entries become keys
// of the evidence bucket (nodeEv for nodes, edgeEv for edges), so adding a
// document to the signing key's Identity node or to numpy is one key put,
// not a rewrite of a list naming every document:
//
//	owner (node id 16 | edge key 33) 0x00 ref          the owner's documents
//	owner 0x01 attrHash(8) ref                         documents of one attribute
//	owner 0x02 keyHash(8) ref                          documents of one key (nodes)
//	owner 0x03 joinHash(8) ref                         documents of one key set (nodes)
//	ref: 0x00 + 32 raw sha256 bytes, or 0x01 + the digest string
const recBinary = 0x02

// recNode tags a node record of schema 3 (keys carry their evidence).
const recNode = 0x03

// recNode4 and recEdge4 tag the records of schema 4: the owner's documents
// first, so the lists after them can refer to it (listSame).
const (
	recNode4 = 0x04
	recEdge4 = 0x05
)

// listSame is the header of an evidence list equal to its owner's
// documents (schema 4 records).
const listSame = 3

// spillAt is the longest evidence list kept inside its record.
const spillAt = 64

const (
	scopeDocs = 0x00
	scopeAttr = 0x01
	scopeKey  = 0x02
	scopeJoin = 0x03
)

// attrHash names an attribute (name and value) inside its owner's
// evidence keys.
func attrHash(name, value string) [8]byte {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(value))
	var sum [32]byte
	return [8]byte(h.Sum(sum[:0]))
}

// evPrefix is the evidence key prefix of a list of owner: its documents
// (name == nil) or those of one attribute.
func evPrefix(owner []byte, attr *graph.Attr) []byte {
	p := make([]byte, 0, len(owner)+1+8)
	p = append(p, owner...)
	if attr == nil {
		return append(p, scopeDocs)
	}
	h := attrHash(attr.Name, attr.Value)
	p = append(p, scopeAttr)
	return append(p, h[:]...)
}

// evKeyPrefix is the evidence key prefix of the documents that named key
// for node owner.
func evKeyPrefix(owner []byte, key string) []byte {
	h := sha256.Sum256([]byte(key))
	p := make([]byte, 0, len(owner)+1+8)
	p = append(p, owner...)
	p = append(p, scopeKey)
	return append(p, h[:8]...)
}

// evJoinPrefix is the evidence key prefix of the documents that named the
// key set keys (sorted) together for node owner.
func evJoinPrefix(owner []byte, keys []string) []byte {
	h := sha256.Sum256([]byte(graph.JoinID(keys)))
	p := make([]byte, 0, len(owner)+1+8)
	p = append(p, owner...)
	p = append(p, scopeJoin)
	return append(p, h[:8]...)
}

var errCorrupt = errors.New("record is truncated or malformed")

// Sanity bounds while decoding, so a corrupt length cannot make us allocate
// gigabytes.
const maxDecodeCount = 1 << 26

func encodeNode(rec *nodeRec) []byte {
	n := 2 + sizeStrs(rec.Keys) + sizeAttrs(rec.Attrs) + sizeDocs(rec.Docs)
	for _, kd := range rec.KeyDocs {
		n += sizeDocs(kd.Docs)
	}
	b := make([]byte, 0, n)
	b = append(b, recNode4, rec.Kind.Code())
	b = appendDocs(b, rec.Docs)
	b = binary.AppendUvarint(b, uint64(len(rec.Keys)))
	for _, k := range rec.Keys {
		b = appendStr(b, k)
		var docs []string
		if i, ok := slices.BinarySearchFunc(rec.KeyDocs, k, func(c graph.KeyClaim, k string) int { return strings.Compare(c.Key, k) }); ok {
			docs = rec.KeyDocs[i].Docs
		}
		b = appendDocsSame(b, docs, rec.Docs)
	}
	b = appendAttrs(b, rec.Attrs, rec.Docs)
	b = binary.AppendUvarint(b, uint64(len(rec.Joins)))
	for _, j := range rec.Joins {
		b = binary.AppendUvarint(b, uint64(len(j.Keys)))
		for _, k := range j.Keys {
			b = appendStr(b, k)
		}
		b = appendDocsSame(b, j.Docs, rec.Docs)
	}
	return b
}

func encodeEdge(rec *edgeRec) []byte {
	n := 1 + sizeAttrs(rec.Attrs) + sizeDocs(rec.Docs)
	b := make([]byte, 0, n)
	b = append(b, recEdge4)
	b = appendDocs(b, rec.Docs)
	return appendAttrs(b, rec.Attrs, rec.Docs)
}

func decodeNode(v []byte, rec *nodeRec) error { return decodeNodeIn(v, rec, nil, nil) }

func decodeEdge(v []byte, rec *edgeRec) error { return decodeEdgeIn(v, rec, nil, nil) }

// spillReader reads spilled evidence lists of one owner. The bucket is
// looked up on first use: most records have no spilled list, and point
// reads (an AI-BOM export reads thousands of packages one by one) should
// not pay for it.
type spillReader struct {
	tx    *bbolt.Tx
	name  []byte
	b     *bbolt.Bucket
	owner []byte
}

// readPrefix returns the documents of the list under prefix, in string
// order.
func (r *spillReader) readPrefix(prefix []byte, a *arena) ([]string, error) {
	if r.b == nil {
		if r.tx == nil {
			return nil, fmt.Errorf("%w: spilled evidence but no bucket", errCorrupt)
		}
		if r.b = r.tx.Bucket(r.name); r.b == nil {
			return nil, fmt.Errorf("%w: spilled evidence but no %s bucket", errCorrupt, r.name)
		}
	}
	var out []string
	mixed := false
	c := r.b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ref := k[len(prefix):]
		switch {
		case len(ref) == 33 && ref[0] == 0:
			if a != nil {
				out = append(out, a.digest(ref[1:]))
			} else {
				out = append(out, sha256Prefix+hex.EncodeToString(ref[1:]))
			}
		case len(ref) > 1 && ref[0] == 1:
			out = append(out, string(ref[1:]))
			mixed = true
		default:
			return nil, fmt.Errorf("%w: evidence key %x", errCorrupt, k)
		}
	}
	if mixed {
		slices.Sort(out)
	}
	return out, nil
}

// decodeNodeIn decodes with strings from a (nil: allocated one by one) and
// spilled lists read through sr (nil: left empty).
func decodeNodeIn(v []byte, rec *nodeRec, a *arena, sr *spillReader) error {
	if len(v) > 0 && v[0] == '{' {
		return json.Unmarshal(v, rec)
	}
	if len(v) < 2 || (v[0] != recNode && v[0] != recNode4) {
		return errCorrupt
	}
	rec.Kind = graph.NodeKindFromCode(v[1])
	if rec.Kind == "" {
		return fmt.Errorf("%w: node kind code %d", errCorrupt, v[1])
	}
	d := decoder{b: v[2:], arena: a, sr: sr}
	v4 := v[0] == recNode4
	if v4 {
		rec.Docs = d.ownerDocs()
	}
	n := d.count()
	if n > 0 {
		rec.Keys = d.stringList(n)
		rec.KeyDocs = slab(a, arenaField(a, func(a *arena) *[]graph.KeyClaim { return &a.claims }), n)
		for i := range rec.Keys {
			rec.Keys[i] = d.str()
			rec.KeyDocs[i] = graph.KeyClaim{Key: rec.Keys[i], Docs: d.keyDocs(rec.Keys[i])}
		}
	}
	rec.Attrs = d.attrs()
	if !v4 {
		rec.Docs = d.docs(nil)
	}
	if n := d.count(); n > 0 {
		rec.Joins = slab(a, arenaField(a, func(a *arena) *[]graph.KeyJoin { return &a.joins }), n)
		for i := range rec.Joins {
			m := d.count()
			if d.err != nil {
				break
			}
			ks := d.stringList(m)
			for j := range ks {
				ks[j] = d.str()
			}
			rec.Joins[i] = graph.KeyJoin{Keys: ks, Docs: d.joinDocs(ks)}
		}
	}
	return d.done()
}

func decodeEdgeIn(v []byte, rec *edgeRec, a *arena, sr *spillReader) error {
	if len(v) > 0 && v[0] == '{' {
		return json.Unmarshal(v, rec)
	}
	if len(v) < 1 || (v[0] != recBinary && v[0] != recEdge4) {
		return errCorrupt
	}
	d := decoder{b: v[1:], arena: a, sr: sr}
	if v[0] == recEdge4 {
		rec.Docs = d.ownerDocs()
		rec.Attrs = d.attrs()
	} else {
		rec.Attrs = d.attrs()
		rec.Docs = d.docs(nil)
	}
	return d.done()
}

func sizeStrs(ss []string) int {
	n := binary.MaxVarintLen32
	for _, s := range ss {
		n += binary.MaxVarintLen32 + len(s)
	}
	return n
}

func sizeDocs(ds []string) int {
	n := binary.MaxVarintLen32
	for _, d := range ds {
		n += 1 + binary.MaxVarintLen32 + len(d) // upper bound
	}
	return n
}

func sizeAttrs(as []graph.Attr) int {
	n := binary.MaxVarintLen32
	for _, a := range as {
		n += 2*binary.MaxVarintLen32 + len(a.Name) + len(a.Value) + sizeDocs(a.Docs)
	}
	return n
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendAttrs(b []byte, as []graph.Attr, owner []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(as)))
	for _, a := range as {
		b = appendStr(b, a.Name)
		b = appendStr(b, a.Value)
		b = appendDocsSame(b, a.Docs, owner)
	}
	return b
}

// appendDocsSame appends ds, as listSame when it equals owner (the
// owner's documents, inline: these records never spill).
func appendDocsSame(b []byte, ds, owner []string) []byte {
	if len(ds) > 0 && slices.Equal(ds, owner) {
		return binary.AppendUvarint(b, listSame)
	}
	return appendDocs(b, ds)
}

const sha256Prefix = "sha256:"

func appendDocs(b []byte, ds []string) []byte {
	b = binary.AppendUvarint(b, 2*uint64(len(ds)))
	for _, d := range ds {
		if raw, ok := sha256Raw(d); ok {
			b = append(b, 0)
			b = append(b, raw[:]...)
			continue
		}
		b = append(b, 1)
		b = appendStr(b, d)
	}
	return b
}

// sha256Raw returns the 32 bytes of a normalised sha256 digest key; other
// strings (and upper-case hex, which would not round-trip) are stored as
// they are.
func sha256Raw(d string) (raw [32]byte, ok bool) {
	if len(d) != len(sha256Prefix)+64 || d[:len(sha256Prefix)] != sha256Prefix {
		return raw, false
	}
	for i := len(sha256Prefix); i < len(d); i++ {
		c := d[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return raw, false
		}
	}
	_, err := hex.Decode(raw[:], []byte(d[len(sha256Prefix):]))
	return raw, err == nil
}

// decoder reads the binary form; the first error sticks and later reads
// return zero values. With an arena, strings share its buffers instead of
// being allocated one by one.
type decoder struct {
	b     []byte
	err   error
	arena *arena
	sr    *spillReader
	// The owner's documents once read, for lists that are the same
	// (listSame; schema 4): sameOK when they were inline.
	sameOK bool
	same   []string
	sameW  []docRef
}

// arena hands out strings carved from shared buffers: a traversal decodes
// thousands of small strings (keys, document digests), and allocating each
// one was most of its cost. A string keeps its whole buffer alive, so an
// arena lives for one read call.
type arena struct {
	buf   []byte
	chunk int
	// strs is a slab the string lists of decoded records are cut from
	// (one allocation for many lists).
	strs      []string
	strsChunk int
	// Slabs the record lists of decoded nodes and edges are cut from.
	claims []graph.KeyClaim
	joins  []graph.KeyJoin
	attrs  []graph.Attr
}

// arenaField is field(a), or nil for a nil arena.
func arenaField[T any](a *arena, field func(*arena) *[]T) *[]T {
	if a == nil {
		return nil
	}
	return field(a)
}

// slab returns n zero values cut from *s (nil arena: a new slice), its
// capacity n so an append by the caller copies it.
func slab[T any](a *arena, s *[]T, n int) []T {
	if a == nil {
		return make([]T, n)
	}
	if cap(*s)-len(*s) < n {
		*s = make([]T, 0, max(n, 64))
	}
	start := len(*s)
	*s = (*s)[:start+n]
	return (*s)[start : start+n : start+n]
}

// Chunks start small (a lookup needs a few hundred bytes) and double.
const (
	arenaFirst = 1 << 10
	arenaMax   = 64 << 10
)

func (a *arena) alloc(n int) []byte {
	if cap(a.buf)-len(a.buf) < n {
		a.chunk = min(max(2*a.chunk, arenaFirst), arenaMax)
		a.buf = make([]byte, 0, max(n, a.chunk))
	}
	start := len(a.buf)
	a.buf = a.buf[:start+n]
	return a.buf[start : start+n : start+n]
}

// reserve makes room for n bytes in one chunk.
func (a *arena) reserve(n int) {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, n)
		a.chunk = min(n, arenaMax)
	}
}

// decodedSize estimates the arena bytes records of n stored bytes decode
// into: digests are stored raw (32 bytes) and decoded as keys (71 bytes).
func decodedSize(n int) int { return n * 9 / 4 }

// strings returns a list of n empty strings from the arena's slab, its
// capacity n so an append by the caller copies it.
func (a *arena) strings(n int) []string {
	if cap(a.strs)-len(a.strs) < n {
		a.strsChunk = min(max(2*a.strsChunk, 64), 4096)
		a.strs = make([]string, 0, max(n, a.strsChunk))
	}
	start := len(a.strs)
	a.strs = a.strs[:start+n]
	return a.strs[start : start+n : start+n]
}

// stringList is make([]string, n), from the arena when there is one.
func (d *decoder) stringList(n int) []string {
	if d.arena != nil {
		return d.arena.strings(n)
	}
	return make([]string, n)
}

// str copies b into the arena.
func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	dst := a.alloc(len(b))
	copy(dst, b)
	return unsafe.String(unsafe.SliceData(dst), len(dst))
}

// digest formats a raw sha256 digest as its key.
func (a *arena) digest(raw []byte) string {
	dst := a.alloc(len(sha256Prefix) + 64)
	copy(dst, sha256Prefix)
	hex.Encode(dst[len(sha256Prefix):], raw)
	return unsafe.String(unsafe.SliceData(dst), len(dst))
}

// hexID formats a node id.
func (a *arena) hexID(id []byte) string {
	dst := a.alloc(2 * len(id))
	hex.Encode(dst, id)
	return unsafe.String(unsafe.SliceData(dst), len(dst))
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) count() int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > maxDecodeCount || v > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *decoder) str() string {
	n := d.count()
	if d.err != nil || n > len(d.b) {
		d.fail()
		return ""
	}
	var s string
	if d.arena != nil {
		s = d.arena.str(d.b[:n])
	} else {
		s = string(d.b[:n])
	}
	d.b = d.b[n:]
	return s
}

// List forms an evidence list header gives.
const (
	formInline = iota
	formSpilled
	formSame
)

// listLen reads an evidence list header: its form, and its length when
// inline. listSame is accepted only after the owner's inline documents
// (one or more: an empty list is written as such).
func (d *decoder) listLen() (n int, form int) {
	if d.err != nil {
		return 0, formInline
	}
	v, k := binary.Uvarint(d.b)
	if k <= 0 || v > 2*maxDecodeCount || (v%2 == 1 && v != 1 && (v != listSame || !d.sameOK)) || v/2 > uint64(len(d.b)) {
		d.fail()
		return 0, formInline
	}
	d.b = d.b[k:]
	switch v {
	case 1:
		return 0, formSpilled
	case listSame:
		return 0, formSame
	}
	return int(v / 2), formInline
}

// sameList returns a copy of the owner's documents (a list may be handed
// to callers that change it).
func (d *decoder) sameList() []string {
	out := d.stringList(len(d.same))
	copy(out, d.same)
	return out
}

// ownerDocs reads the owner's documents at the head of a schema 4 record
// and keeps them for the lists that are the same.
func (d *decoder) ownerDocs() []string {
	n, form := d.listLen()
	if form == formInline {
		out := d.docList(n)
		d.same, d.sameOK = out, d.err == nil && n > 0
		return out
	}
	return d.spilled(func() []byte { return evPrefix(d.sr.owner, nil) })
}

// spilled reads a spilled list (prefix its evidence key prefix) through
// d.sr, or leaves it empty without one.
func (d *decoder) spilled(prefix func() []byte) []string {
	if d.sr == nil || d.err != nil {
		return nil
	}
	out, err := d.sr.readPrefix(prefix(), d.arena)
	if err != nil && d.err == nil {
		d.err = err
	}
	return out
}

// docs reads the evidence list of the record (attr nil) or of attr.
func (d *decoder) docs(attr *graph.Attr) []string {
	n, form := d.listLen()
	switch form {
	case formSpilled:
		return d.spilled(func() []byte { return evPrefix(d.sr.owner, attr) })
	case formSame:
		return d.sameList()
	}
	return d.docList(n)
}

// docList reads n inline evidence entries.
func (d *decoder) docList(n int) []string {
	if n == 0 {
		return nil
	}
	out := d.stringList(n)
	var buf [len(sha256Prefix) + 64]byte
	copy(buf[:], sha256Prefix)
	for i := range out {
		if d.err != nil || len(d.b) == 0 {
			d.fail()
			return nil
		}
		tag := d.b[0]
		d.b = d.b[1:]
		switch tag {
		case 0:
			if len(d.b) < 32 {
				d.fail()
				return nil
			}
			if d.arena != nil {
				out[i] = d.arena.digest(d.b[:32])
			} else {
				hex.Encode(buf[len(sha256Prefix):], d.b[:32])
				out[i] = string(buf[:])
			}
			d.b = d.b[32:]
		case 1:
			out[i] = d.str()
		default:
			d.fail()
			return nil
		}
	}
	return out
}

// joinDocs reads the evidence list of one key set of a node.
func (d *decoder) joinDocs(keys []string) []string {
	n, form := d.listLen()
	switch form {
	case formSpilled:
		return d.spilled(func() []byte { return evJoinPrefix(d.sr.owner, keys) })
	case formSame:
		return d.sameList()
	}
	return d.docList(n)
}

// keyDocs reads the evidence list of one key of a node.
func (d *decoder) keyDocs(key string) []string {
	n, form := d.listLen()
	switch form {
	case formSpilled:
		return d.spilled(func() []byte { return evKeyPrefix(d.sr.owner, key) })
	case formSame:
		return d.sameList()
	}
	return d.docList(n)
}

func (d *decoder) attrs() []graph.Attr {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := slab(d.arena, arenaField(d.arena, func(a *arena) *[]graph.Attr { return &a.attrs }), n)
	for i := range out {
		out[i].Name = d.str()
		out[i].Value = d.str()
		out[i].Docs = d.docs(&out[i])
	}
	if d.err != nil {
		return nil
	}
	return out
}

func (d *decoder) done() error {
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(d.b))
	}
	return nil
}
