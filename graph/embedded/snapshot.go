package embedded

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// The index is rebuilt at open by scanning every node and edge key. At a
// million nodes that scan takes seconds and faults the whole edge bucket
// into memory (the pages stay mapped, counted in the process's RSS). So a
// clean Close saves the index next to the store, stamped with bbolt's
// transaction id; Open loads it when the stamp still matches the store,
// i.e. nothing was committed since. Anything else (a crash after writes, a
// torn or foreign file, another layout) is detected and the index is
// rebuilt from the store, which stays the only source of truth.
//
//	magic(8) txid(8) nodes(8) edges(8) documents(8)
//	ids: nodes × 16, kinds: nodes × 1, out-degrees: nodes × 4 (little endian)
//	out half-edges: edges × (peer ordinal 4, kind 1); edge ids are their
//	  positions in this list
//	records in memory (recs.go): docTable bytes(8) docTable count(8) slab bytes(8)
//	  docTable: count × (uvarint len, digest)
//	  slab: the records, in chunks of chunkSize (a record never crosses one)
//	  refs: nodes × 4, then edges × 4 (noRec: in the file only)
//	crc32c(4) of everything before it
//
// The header is read first: a snapshot of another transaction is refused
// before the rest of it is read.
var snapshotMagic = [8]byte{'M', 'G', 'I', 'D', 'X', 0, 0, 3}

const snapshotHeader = 8 + 4*8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errStaleSnapshot says the snapshot does not describe the store as it is.
var errStaleSnapshot = errors.New("index snapshot is stale")

func snapshotPath(dbPath string) string { return dbPath + ".idx" }

// saveSnapshot writes x as of transaction txid, atomically (temporary file,
// rename). It is not fsynced: a torn file fails its checksum.
func saveSnapshot(path string, x *index, txid uint64) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if err := writeSnapshot(tmp, x, txid); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func writeSnapshot(f io.Writer, x *index, txid uint64) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	bw := bufio.NewWriterSize(f, 1<<20)
	h := crc32.New(castagnoli)
	w := io.MultiWriter(bw, h)
	var le = binary.LittleEndian
	var scratch []byte
	put := func(b []byte) {
		_, _ = w.Write(b) // a write error sticks in bw: Flush reports it
	}
	// Slots of nodes merges removed are left out: live nodes are
	// renumbered densely (their edges never point at a removed node).
	newOrd := make([]uint32, len(x.ids))
	n := 0
	live := make([]bool, len(x.ids))
	for i, id := range x.ids {
		if o, ok := x.ord[id]; ok && o == uint32(i) {
			newOrd[i] = uint32(n)
			live[i] = true
			n++
		}
	}
	e := x.edges
	scratch = append(scratch[:0], snapshotMagic[:]...)
	scratch = le.AppendUint64(scratch, txid)
	scratch = le.AppendUint64(scratch, uint64(n))
	scratch = le.AppendUint64(scratch, uint64(e))
	scratch = le.AppendUint64(scratch, uint64(x.docs))
	put(scratch)
	for i, id := range x.ids {
		if live[i] {
			put(id[:])
		}
	}
	scratch = scratch[:0]
	for i, k := range x.kinds {
		if live[i] {
			scratch = append(scratch, k)
		}
	}
	put(scratch)
	scratch = scratch[:0]
	for i, hs := range x.out {
		if live[i] {
			scratch = le.AppendUint32(scratch, uint32(len(hs)))
		}
	}
	put(scratch)
	var hb [5]byte
	for i, hs := range x.out {
		if !live[i] {
			continue
		}
		for _, h := range hs {
			le.PutUint32(hb[:], newOrd[h.peer])
			hb[4] = h.kind
			put(hb[:])
		}
	}
	// The records: the document table, then the live records laid out
	// afresh (no garbage) in chunk order, then their new references.
	m := x.mem
	docBytes := 0
	for _, d := range m.docs {
		docBytes += uvarintLen(uint64(len(d))) + len(d)
	}
	// eachLiveRec calls f with every live record reference in snapshot
	// order (the nodes', then the edges' in adjacency order): once to lay
	// them out, once to write them.
	eachLiveRec := func(f func(ref uint32)) {
		for i := range x.ids {
			if live[i] {
				f(x.nrec[i])
			}
		}
		for i, hs := range x.out {
			if !live[i] {
				continue
			}
			for _, h := range hs {
				f(x.erec[h.eid])
			}
		}
	}
	refs := make([]uint32, 0, n+int(e))
	slabLen, used := 0, 0
	place := func(ref uint32) {
		if ref == noRec {
			refs = append(refs, noRec)
			return
		}
		k := uvarintLen(uint64(len(m.get(ref)))) + len(m.get(ref))
		if used+k > chunkSize {
			slabLen += chunkSize - used
			used = 0
		}
		refs = append(refs, uint32(slabLen>>chunkBits)<<chunkBits|uint32(used))
		slabLen += k
		used += k
	}
	eachLiveRec(place)
	if slabLen >= maxChunks<<chunkBits {
		return errors.New("index snapshot: records do not fit")
	}
	scratch = le.AppendUint64(scratch[:0], uint64(docBytes))
	scratch = le.AppendUint64(scratch, uint64(len(m.docs)))
	scratch = le.AppendUint64(scratch, uint64(slabLen))
	put(scratch)
	for _, d := range m.docs {
		scratch = binary.AppendUvarint(scratch[:0], uint64(len(d)))
		put(append(scratch, d...))
	}
	zero := make([]byte, 256)
	used = 0
	write := func(ref uint32) {
		if ref == noRec {
			return
		}
		v := m.get(ref)
		scratch = binary.AppendUvarint(scratch[:0], uint64(len(v)))
		k := len(scratch) + len(v)
		for used+k > chunkSize {
			pad := min(chunkSize-used, len(zero))
			put(zero[:pad])
			if used += pad; used == chunkSize {
				used = 0
			}
		}
		put(scratch)
		put(v)
		used += k
	}
	eachLiveRec(write)
	scratch = scratch[:0]
	for _, r := range refs {
		scratch = le.AppendUint32(scratch, r)
		if len(scratch) >= 1<<16 {
			put(scratch)
			scratch = scratch[:0]
		}
	}
	put(scratch)
	_, _ = bw.Write(le.AppendUint32(nil, h.Sum32()))
	return bw.Flush()
}

func uvarintLen(v uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], v)
}

// loadSnapshot reads the snapshot at path if it describes transaction txid.
func loadSnapshot(path string, txid uint64) (*index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := uint64(fi.Size())
	h := crc32.New(castagnoli)
	r := io.TeeReader(bufio.NewReaderSize(f, 1<<20), h)
	read := func(n uint64) ([]byte, error) {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("%w: %v", errStaleSnapshot, err)
		}
		return b, nil
	}
	le := binary.LittleEndian
	b, err := read(snapshotHeader)
	if err != nil || [8]byte(b[:8]) != snapshotMagic {
		return nil, fmt.Errorf("%w: not an index snapshot of this layout", errStaleSnapshot)
	}
	if got := le.Uint64(b[8:]); got != txid {
		return nil, fmt.Errorf("%w: taken at transaction %d, store is at %d", errStaleSnapshot, got, txid)
	}
	n, e, docs := le.Uint64(b[16:]), le.Uint64(b[24:]), le.Uint64(b[32:])
	if n > 1<<32-2 || e > 1<<32-2 || snapshotHeader+n*21+e*5+24+4*(n+e)+4 > size {
		return nil, fmt.Errorf("%w: sizes do not add up", errStaleSnapshot)
	}
	p, err := read(n*21 + e*5)
	if err != nil {
		return nil, err
	}
	x := &index{
		ord:   make(map[[16]byte]uint32, n),
		ids:   make([][16]byte, n),
		kinds: make([]uint8, n),
		out:   make([][]half, n),
		in:    make([][]half, n),
		docs:  int64(docs),
		edges: int64(e),
		mem:   newRecMem(),
	}
	ok := false
	defer func() {
		if !ok {
			x.mem.free()
		}
	}()
	for i := range x.ids {
		x.ids[i] = [16]byte(p[:16])
		x.ord[x.ids[i]] = uint32(i)
		p = p[16:]
	}
	if uint64(len(x.ord)) != n {
		return nil, fmt.Errorf("%w: repeated node id", errStaleSnapshot)
	}
	copy(x.kinds, p[:n])
	p = p[n:]
	for _, k := range x.kinds {
		x.nkinds[k]++
	}
	deg := p[:n*4]
	p = p[n*4:]
	// One backing array per direction; each node's list is a full slice
	// of it (cap = len), so a later append moves that list alone.
	outAll := make([]half, e)
	inDeg := make([]uint32, n)
	off := uint64(0)
	for i := range x.out {
		d := uint64(le.Uint32(deg[i*4:]))
		if off+d > e {
			return nil, fmt.Errorf("%w: degrees exceed the edge count", errStaleSnapshot)
		}
		hs := outAll[off : off+d : off+d]
		for j := range hs {
			peer, kind := le.Uint32(p), p[4]
			p = p[5:]
			if uint64(peer) >= n || kind == 0 {
				return nil, fmt.Errorf("%w: half-edge out of range", errStaleSnapshot)
			}
			hs[j] = half{peer: peer, kind: kind, eid: uint32(off) + uint32(j)}
			inDeg[peer]++
			x.ekinds[kind]++
		}
		x.out[i] = hs
		off += d
	}
	if off != e {
		return nil, fmt.Errorf("%w: degrees do not add up to the edge count", errStaleSnapshot)
	}
	inAll := make([]half, e)
	off = 0
	for i, d := range inDeg {
		x.in[i] = inAll[off : off : off+uint64(d)]
		off += uint64(d)
	}
	for f, hs := range x.out {
		for _, h := range hs {
			x.in[h.peer] = append(x.in[h.peer], half{peer: uint32(f), kind: h.kind, eid: h.eid})
		}
	}

	// Records.
	if b, err = read(24); err != nil {
		return nil, err
	}
	docBytes, ndocs, slabLen := le.Uint64(b), le.Uint64(b[8:]), le.Uint64(b[16:])
	if docBytes > size || ndocs > docBytes || slabLen > size || slabLen >= maxChunks<<chunkBits ||
		snapshotHeader+n*21+e*5+24+docBytes+slabLen+4*(n+e)+4 != size {
		return nil, fmt.Errorf("%w: record sizes do not add up", errStaleSnapshot)
	}
	if p, err = read(docBytes); err != nil {
		return nil, err
	}
	m := x.mem
	m.docs = make([]string, ndocs)
	m.docOrd = make(map[string]uint32, ndocs)
	for i := range m.docs {
		l, k := binary.Uvarint(p)
		if k <= 0 || l > uint64(len(p)-k) {
			return nil, fmt.Errorf("%w: document table", errStaleSnapshot)
		}
		m.docs[i] = string(p[k : k+int(l)])
		m.docOrd[m.docs[i]] = uint32(i)
		p = p[k+int(l):]
	}
	if len(p) != 0 || len(m.docOrd) != len(m.docs) {
		return nil, fmt.Errorf("%w: document table", errStaleSnapshot)
	}
	for left := slabLen; left > 0; {
		c, err := newChunk()
		if err != nil {
			return nil, err
		}
		m.chunks = append(m.chunks, c)
		k := min(left, chunkSize)
		if _, err := io.ReadFull(r, c[:k]); err != nil {
			return nil, fmt.Errorf("%w: %v", errStaleSnapshot, err)
		}
		m.used = int(k)
		left -= k
	}
	if p, err = read(4 * (n + e)); err != nil {
		return nil, err
	}
	x.nrec = make([]uint32, n)
	x.erec = make([]uint32, e)
	valid := func(ref uint32) bool {
		if ref == noRec {
			return true
		}
		ci, o := int(ref>>chunkBits), int(ref&(chunkSize-1))
		if ci >= len(m.chunks) || ci == len(m.chunks)-1 && o >= m.used {
			return false
		}
		c := m.chunks[ci][o:]
		l, k := binary.Uvarint(c)
		if k <= 0 || l > uint64(len(c)-k) {
			return false
		}
		m.live += int64(k) + int64(l)
		return true
	}
	for i := range x.nrec {
		if x.nrec[i] = le.Uint32(p[4*i:]); !valid(x.nrec[i]) {
			return nil, fmt.Errorf("%w: record reference out of range", errStaleSnapshot)
		}
	}
	p = p[4*n:]
	for i := range x.erec {
		if x.erec[i] = le.Uint32(p[4*i:]); !valid(x.erec[i]) {
			return nil, fmt.Errorf("%w: record reference out of range", errStaleSnapshot)
		}
	}
	m.total = m.live
	sum := h.Sum32()
	var sb [4]byte
	if _, err := io.ReadFull(r, sb[:]); err != nil || le.Uint32(sb[:]) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", errStaleSnapshot)
	}
	ok = true
	return x, nil
}
