package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
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
//	out half-edges: edges × (peer ordinal 4, kind 1)
//	crc32c(4) of everything before it
var snapshotMagic = [8]byte{'M', 'G', 'I', 'D', 'X', 0, 0, 1}

const snapshotHeader = 8 + 4*8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errStaleSnapshot says the snapshot does not describe the store as it is.
var errStaleSnapshot = errors.New("index snapshot is stale")

func snapshotPath(dbPath string) string { return dbPath + ".idx" }

// saveSnapshot writes x as of transaction txid, atomically (temporary file,
// rename). It is not fsynced: a torn file fails its checksum.
func saveSnapshot(path string, x *index, txid uint64) error {
	x.mu.RLock()
	// Slots of nodes merges removed are left out: live nodes are
	// renumbered densely (their edges never point at a removed node).
	newOrd := make([]uint32, len(x.ids))
	n := 0
	for i, id := range x.ids {
		if o, ok := x.ord[id]; ok && o == uint32(i) {
			newOrd[i] = uint32(n)
			n++
		}
	}
	live := func(i int) bool { o, ok := x.ord[x.ids[i]]; return ok && o == uint32(i) }
	e := x.edges
	size := snapshotHeader + n*21 + int(e)*5 + 4
	b := make([]byte, 0, size)
	b = append(b, snapshotMagic[:]...)
	b = binary.LittleEndian.AppendUint64(b, txid)
	b = binary.LittleEndian.AppendUint64(b, uint64(n))
	b = binary.LittleEndian.AppendUint64(b, uint64(e))
	b = binary.LittleEndian.AppendUint64(b, uint64(x.docs))
	for i, id := range x.ids {
		if live(i) {
			b = append(b, id[:]...)
		}
	}
	for i, k := range x.kinds {
		if live(i) {
			b = append(b, k)
		}
	}
	for i, hs := range x.out {
		if live(i) {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(hs)))
		}
	}
	for i, hs := range x.out {
		if !live(i) {
			continue
		}
		for _, h := range hs {
			b = binary.LittleEndian.AppendUint32(b, newOrd[h.peer])
			b = append(b, h.kind)
		}
	}
	x.mu.RUnlock()
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
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

// loadSnapshot reads the snapshot at path if it describes transaction txid.
func loadSnapshot(path string, txid uint64) (*index, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < snapshotHeader+4 || [8]byte(b[:8]) != snapshotMagic {
		return nil, fmt.Errorf("%w: not an index snapshot of this layout", errStaleSnapshot)
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", errStaleSnapshot)
	}
	le := binary.LittleEndian
	if got := le.Uint64(b[8:]); got != txid {
		return nil, fmt.Errorf("%w: taken at transaction %d, store is at %d", errStaleSnapshot, got, txid)
	}
	n, e, docs := le.Uint64(b[16:]), le.Uint64(b[24:]), le.Uint64(b[32:])
	if n > 1<<32 || e > 1<<40 || uint64(len(body)) != snapshotHeader+n*21+e*5 {
		return nil, fmt.Errorf("%w: sizes do not add up", errStaleSnapshot)
	}
	p := b[snapshotHeader:]
	x := &index{
		ord:   make(map[[16]byte]uint32, n),
		ids:   make([][16]byte, n),
		kinds: make([]uint8, n),
		out:   make([][]half, n),
		in:    make([][]half, n),
		docs:  int64(docs),
		edges: int64(e),
	}
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
			hs[j] = half{peer: peer, kind: kind}
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
			x.in[h.peer] = append(x.in[h.peer], half{peer: uint32(f), kind: h.kind})
		}
	}
	return x, nil
}
