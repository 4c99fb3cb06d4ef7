package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"

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
// read.
type docSet struct {
	sorted  []docRef
	added   []docRef
	inAdded map[docRef]struct{} // once added is long enough to need it
}

// add inserts d and reports whether it was absent.
func (s *docSet) add(d docRef) bool {
	if _, found := slices.BinarySearchFunc(s.sorted, d, cmpDocRef); found {
		return false
	}
	if s.inAdded != nil {
		if _, ok := s.inAdded[d]; ok {
			return false
		}
	} else if slices.Contains(s.added, d) {
		return false
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

func (s *docSet) len() int { return len(s.sorted) + len(s.added) }

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

// wNode and wEdge are records as the write path holds them.
type wNode struct {
	kind  graph.NodeKind
	keys  []string
	attrs []wAttr
	docs  docSet
}

type wEdge struct {
	attrs []wAttr
	docs  docSet
}

// mergeAttrs adds the claims name=value (from doc) to as, as
// graph.MergeAttrs does: sorted by (name, value), evidence merged.
func mergeAttrs(as []wAttr, doc docRef, claims map[string]string) ([]wAttr, bool) {
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
		if as[i].docs.add(doc) {
			changed = true
		}
	}
	return as, changed
}

func appendDocRefs(b []byte, ds []docRef) []byte {
	b = binary.AppendUvarint(b, uint64(len(ds)))
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

func sizeDocRefs(n int) int { return binary.MaxVarintLen32 + n*33 }

func appendWAttrs(b []byte, as []wAttr) []byte {
	b = binary.AppendUvarint(b, uint64(len(as)))
	for i := range as {
		b = appendStr(b, as[i].name)
		b = appendStr(b, as[i].value)
		b = appendDocRefs(b, as[i].docs.all())
	}
	return b
}

func sizeWAttrs(as []wAttr) int {
	n := binary.MaxVarintLen32
	for i := range as {
		n += 2*binary.MaxVarintLen32 + len(as[i].name) + len(as[i].value) + sizeDocRefs(as[i].docs.len())
	}
	return n
}

func (w *wNode) encode() []byte {
	n := 2 + sizeStrs(w.keys) + sizeWAttrs(w.attrs) + sizeDocRefs(w.docs.len())
	b := make([]byte, 0, n)
	b = append(b, recBinary, w.kind.Code())
	b = binary.AppendUvarint(b, uint64(len(w.keys)))
	for _, k := range w.keys {
		b = appendStr(b, k)
	}
	b = appendWAttrs(b, w.attrs)
	return appendDocRefs(b, w.docs.all())
}

func (w *wEdge) encode() []byte {
	b := make([]byte, 0, 1+sizeWAttrs(w.attrs)+sizeDocRefs(w.docs.len()))
	b = append(b, recBinary)
	b = appendWAttrs(b, w.attrs)
	return appendDocRefs(b, w.docs.all())
}

func decodeWNode(v []byte) (wNode, error) {
	if len(v) > 0 && v[0] == '{' {
		var rec nodeRec
		if err := decodeNode(v, &rec); err != nil {
			return wNode{}, err
		}
		return wNode{kind: rec.Kind, keys: rec.Keys, attrs: toWAttrs(rec.Attrs), docs: toDocSet(rec.Docs)}, nil
	}
	if len(v) < 2 || v[0] != recBinary {
		return wNode{}, errCorrupt
	}
	w := wNode{kind: graph.NodeKindFromCode(v[1])}
	if w.kind == "" {
		return wNode{}, errCorrupt
	}
	d := decoder{b: v[2:]}
	if n := d.count(); n > 0 {
		w.keys = make([]string, n)
		for i := range w.keys {
			w.keys[i] = d.str()
		}
	}
	w.attrs = d.wattrs()
	w.docs.sorted = d.docRefs()
	return w, d.done()
}

func decodeWEdge(v []byte) (wEdge, error) {
	if len(v) > 0 && v[0] == '{' {
		var rec edgeRec
		if err := decodeEdge(v, &rec); err != nil {
			return wEdge{}, err
		}
		return wEdge{attrs: toWAttrs(rec.Attrs), docs: toDocSet(rec.Docs)}, nil
	}
	if len(v) < 1 || v[0] != recBinary {
		return wEdge{}, errCorrupt
	}
	d := decoder{b: v[1:]}
	w := wEdge{attrs: d.wattrs()}
	w.docs.sorted = d.docRefs()
	return w, d.done()
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

func (d *decoder) docRefs() []docRef {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]docRef, n)
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
			out[i].raw = [32]byte(d.b[:32])
			d.b = d.b[32:]
		case 1:
			out[i].s = d.str()
		default:
			d.fail()
			return nil
		}
	}
	return out
}

func (d *decoder) wattrs() []wAttr {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]wAttr, n)
	for i := range out {
		out[i].name = d.str()
		out[i].value = d.str()
		out[i].docs.sorted = d.docRefs()
	}
	if d.err != nil {
		return nil
	}
	return out
}
