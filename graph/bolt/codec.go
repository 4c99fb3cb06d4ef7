package bolt

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"unsafe"

	"github.com/modelgraph/modelgraph/graph"
)

// Node and edge records are stored in a compact binary form (schema 2):
// decoding them is what every traversal spends its time on, and evidence
// lists of popular packages hold thousands of document digests. Schema 1
// stores wrote JSON; both are read (a JSON record starts with '{'), records
// are rewritten in binary when next touched.
//
//	node: 0x02 kind(1) keys attrs docs
//	edge: 0x02 attrs docs
//	keys:  uvarint n, n × str
//	attrs: uvarint n, n × (str name, str value, docs)
//	docs:  uvarint n, n × digest
//	str:   uvarint len, bytes
//	digest: 0x00 + 32 bytes for "sha256:<64 lower hex>", else 0x01 + str
const recBinary = 0x02

var errCorrupt = errors.New("record is truncated or malformed")

// Sanity bounds while decoding, so a corrupt length cannot make us allocate
// gigabytes.
const maxDecodeCount = 1 << 26

func encodeNode(rec *nodeRec) []byte {
	n := 2 + sizeStrs(rec.Keys) + sizeAttrs(rec.Attrs) + sizeDocs(rec.Docs)
	b := make([]byte, 0, n)
	b = append(b, recBinary, rec.Kind.Code())
	b = binary.AppendUvarint(b, uint64(len(rec.Keys)))
	for _, k := range rec.Keys {
		b = appendStr(b, k)
	}
	b = appendAttrs(b, rec.Attrs)
	return appendDocs(b, rec.Docs)
}

func encodeEdge(rec *edgeRec) []byte {
	n := 1 + sizeAttrs(rec.Attrs) + sizeDocs(rec.Docs)
	b := make([]byte, 0, n)
	b = append(b, recBinary)
	b = appendAttrs(b, rec.Attrs)
	return appendDocs(b, rec.Docs)
}

func decodeNode(v []byte, rec *nodeRec) error { return decodeNodeIn(v, rec, nil) }

func decodeEdge(v []byte, rec *edgeRec) error { return decodeEdgeIn(v, rec, nil) }

// decodeNodeIn decodes with strings from a (nil: allocated one by one).
func decodeNodeIn(v []byte, rec *nodeRec, a *arena) error {
	if len(v) > 0 && v[0] == '{' {
		return json.Unmarshal(v, rec)
	}
	if len(v) < 2 || v[0] != recBinary {
		return errCorrupt
	}
	rec.Kind = graph.NodeKindFromCode(v[1])
	if rec.Kind == "" {
		return fmt.Errorf("%w: node kind code %d", errCorrupt, v[1])
	}
	d := decoder{b: v[2:], arena: a}
	n := d.count()
	if n > 0 {
		rec.Keys = make([]string, n)
		for i := range rec.Keys {
			rec.Keys[i] = d.str()
		}
	}
	rec.Attrs = d.attrs()
	rec.Docs = d.docs()
	return d.done()
}

func decodeEdgeIn(v []byte, rec *edgeRec, a *arena) error {
	if len(v) > 0 && v[0] == '{' {
		return json.Unmarshal(v, rec)
	}
	if len(v) < 1 || v[0] != recBinary {
		return errCorrupt
	}
	d := decoder{b: v[1:], arena: a}
	rec.Attrs = d.attrs()
	rec.Docs = d.docs()
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

func appendAttrs(b []byte, as []graph.Attr) []byte {
	b = binary.AppendUvarint(b, uint64(len(as)))
	for _, a := range as {
		b = appendStr(b, a.Name)
		b = appendStr(b, a.Value)
		b = appendDocs(b, a.Docs)
	}
	return b
}

const sha256Prefix = "sha256:"

func appendDocs(b []byte, ds []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ds)))
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
}

// arena hands out strings carved from shared buffers: a traversal decodes
// thousands of small strings (keys, document digests), and allocating each
// one was most of its cost. A string keeps its whole buffer alive, so an
// arena lives for one read call.
type arena struct {
	buf   []byte
	chunk int
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

func (d *decoder) docs() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
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

func (d *decoder) attrs() []graph.Attr {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]graph.Attr, n)
	for i := range out {
		out[i].Name = d.str()
		out[i].Value = d.str()
		out[i].Docs = d.docs()
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
