package search

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"unicode/utf8"

	"github.com/modelgraph/modelgraph/graph"
)

// The in-memory index of the embedded store is saved beside the store file
// (SnapshotPath) when the server closes it, stamped with the store's state:
// bbolt's last committed transaction id and the node and document counts.
// At the next start Open loads it when the stamp still matches the store,
// i.e. nothing was committed since; anything else (a crash after writes, a
// write by another process, a torn or foreign file, another layout) is
// detected and the index is rebuilt from the store, which stays the only
// source of truth. This is graph/embedded's adjacency snapshot
// (graph/embedded/snapshot.go) applied to the search index.
//
// Layout (integers are unsigned varints, strings are a length and bytes):
//
//	magic(8) tx(8) nodes(8) documents(8)
//	vocabulary: count, words (the fuzzy vocabulary by length first, in
//	  its order, then the other words)
//	entries: count, then each: id, kind ordinal, terms (count, strings),
//	  words (count, vocabulary ordinals, ascending)
//	term order: count, then (entry, term ordinal) pairs in term order
//	crc32c(4) of everything before it
var snapshotMagic = [8]byte{'M', 'G', 'S', 'R', 'C', 'H', 0, 1}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrStaleSnapshot says a snapshot does not describe the store as it is.
var ErrStaleSnapshot = errors.New("search index snapshot is stale")

// Stamp names the state of a store a snapshot describes.
type Stamp struct {
	Tx        uint64
	Nodes     int64
	Documents int64
}

// fileStore is the capability of a store kept in one local file (the
// embedded driver, reached through graph.DB.As): its index is saved beside
// the file, stamped with the store's last committed transaction.
type fileStore interface {
	FileState() (path string, tx uint64, err error)
}

// fileStoreOf returns r's fileStore capability, if it has one.
func fileStoreOf(r any) (fileStore, bool) {
	if f, ok := r.(fileStore); ok {
		return f, true
	}
	var f fileStore
	if a, ok := r.(interface{ As(any) bool }); ok && a.As(&f) {
		return f, true
	}
	return nil, false
}

// SnapshotPath is where the index snapshot of the store at dbPath lives.
func SnapshotPath(dbPath string) string { return dbPath + ".search" }

// snapshotOf returns the snapshot path and the current stamp of r, or
// ok=false when r is not a store whose index is saved.
func snapshotOf(ctx context.Context, r graph.Reader) (path string, st Stamp, ok bool) {
	f, ok := fileStoreOf(r)
	if !ok {
		return "", Stamp{}, false
	}
	dbPath, tx, err := f.FileState()
	if err != nil {
		return "", Stamp{}, false
	}
	st.Tx = tx
	gs, err := r.Stats(ctx)
	if err != nil {
		return "", Stamp{}, false
	}
	st.Nodes, st.Documents = gs.Nodes, gs.Documents
	return SnapshotPath(dbPath), st, true
}

var kindOrdinal = func() map[graph.NodeKind]uint64 {
	m := map[graph.NodeKind]uint64{}
	for i, k := range graph.NodeKinds {
		m[k] = uint64(i)
	}
	return m
}()

// Save writes x, stamped st, to path atomically (temporary file, rename).
// It is not fsynced: a torn file fails its checksum.
func (x *Index) Save(path string, st Stamp) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	err = x.writeTo(tmp, st)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("save search index: %w", err)
	}
	return nil
}

func (x *Index) writeTo(f io.Writer, st Stamp) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	h := crc32.New(castagnoli)
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	var buf [binary.MaxVarintLen64]byte
	uv := func(v uint64) { _, _ = w.Write(buf[:binary.PutUvarint(buf[:], v)]) }
	str := func(s string) { uv(uint64(len(s))); _, _ = w.WriteString(s) }
	_, _ = w.Write(snapshotMagic[:])
	for _, v := range []uint64{st.Tx, uint64(st.Nodes), uint64(st.Documents)} {
		_, _ = w.Write(binary.LittleEndian.AppendUint64(nil, v))
	}
	// Vocabulary: words with a live posting, the fuzzy ones in their
	// order (fuzzyWords stops after maxExpand, so order is behaviour).
	liveWord := func(word string) bool {
		for _, slot := range x.postings[word] {
			if !x.entries[slot].dead {
				return true
			}
		}
		return false
	}
	ord := make(map[string]uint64, len(x.postings))
	var vocab []string
	lens := make([]int, 0, len(x.byLen))
	for l := range x.byLen {
		lens = append(lens, l)
	}
	slices.Sort(lens)
	for _, l := range lens {
		for _, word := range x.byLen[l] {
			if liveWord(word) {
				ord[word] = uint64(len(vocab))
				vocab = append(vocab, word)
			}
		}
	}
	x.vocab.Ascend(func(word string) bool {
		if _, done := ord[word]; !done && liveWord(word) {
			ord[word] = uint64(len(vocab))
			vocab = append(vocab, word)
		}
		return true
	})
	uv(uint64(len(vocab)))
	for _, word := range vocab {
		str(word)
	}
	// Entries, live ones renumbered densely.
	slot := make([]uint64, len(x.entries))
	uv(uint64(x.live))
	n := uint64(0)
	for i := range x.entries {
		e := &x.entries[i]
		if e.dead {
			continue
		}
		slot[i] = n
		n++
		str(string(e.id))
		uv(kindOrdinal[e.kind])
		uv(uint64(len(e.terms)))
		for _, t := range e.terms {
			str(t)
		}
		uv(uint64(len(e.tokens)))
		for _, t := range e.tokens {
			uv(ord[t])
		}
	}
	uv(uint64(x.terms.Len()))
	x.terms.Ascend(func(it termItem) bool {
		e := &x.entries[it.slot]
		uv(slot[it.slot])
		uv(uint64(slices.Index(e.terms, it.term)))
		return true
	})
	if err := w.Flush(); err != nil {
		return err
	}
	_, err := f.Write(binary.LittleEndian.AppendUint32(nil, h.Sum32()))
	return err
}

// Load reads the snapshot at path if it describes the store at stamp st.
func Load(path string, st Stamp) (*Index, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	x, err := decodeSnapshot(b, st)
	if err != nil {
		return nil, fmt.Errorf("load search index %s: %w", path, err)
	}
	return x, nil
}

func decodeSnapshot(b []byte, st Stamp) (*Index, error) {
	const header = 8 + 3*8
	if len(b) < header+4 || [8]byte(b[:8]) != snapshotMagic {
		return nil, fmt.Errorf("%w: not a search index snapshot of this layout", ErrStaleSnapshot)
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrStaleSnapshot)
	}
	le := binary.LittleEndian
	got := Stamp{Tx: le.Uint64(b[8:]), Nodes: int64(le.Uint64(b[16:])), Documents: int64(le.Uint64(b[24:]))}
	if got != st {
		return nil, fmt.Errorf("%w: taken at %+v, store is at %+v", ErrStaleSnapshot, got, st)
	}
	p := body[header:]
	bad := false
	uv := func() uint64 {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			bad, p = true, nil
			return 0
		}
		p = p[n:]
		return v
	}
	count := func(per int) int {
		v := uv()
		if v > uint64(len(p)/per+1) {
			bad, p = true, nil
			return 0
		}
		return int(v)
	}
	str := func() string {
		n := uv()
		if n > uint64(len(p)) {
			bad, p = true, nil
			return ""
		}
		s := string(p[:n])
		p = p[n:]
		return s
	}
	x := New()
	vocab := make([]string, count(1))
	for i := range vocab {
		vocab[i] = str()
	}
	if bad {
		return nil, fmt.Errorf("%w: truncated vocabulary", ErrStaleSnapshot)
	}
	postings := make([][]uint32, len(vocab))
	x.entries = make([]entry, count(4))
	x.byID = make(map[graph.NodeID]uint32, len(x.entries))
	for i := range x.entries {
		e := &x.entries[i]
		e.id = graph.NodeID(str())
		k := uv()
		if k >= uint64(len(graph.NodeKinds)) {
			return nil, fmt.Errorf("%w: entry %d: kind %d", ErrStaleSnapshot, i, k)
		}
		e.kind = graph.NodeKinds[k]
		e.terms = make([]string, count(1))
		for j := range e.terms {
			e.terms[j] = str()
		}
		e.tokens = make([]string, count(1))
		for j := range e.tokens {
			o := uv()
			if o >= uint64(len(vocab)) {
				return nil, fmt.Errorf("%w: entry %d: word %d", ErrStaleSnapshot, i, o)
			}
			e.tokens[j] = vocab[o]
			postings[o] = append(postings[o], uint32(i))
		}
		if bad {
			return nil, fmt.Errorf("%w: truncated entries", ErrStaleSnapshot)
		}
		if _, dup := x.byID[e.id]; dup {
			return nil, fmt.Errorf("%w: repeated node id %s", ErrStaleSnapshot, e.id)
		}
		x.byID[e.id] = uint32(i)
	}
	x.live = len(x.entries)
	for o, word := range vocab {
		if len(postings[o]) == 0 {
			return nil, fmt.Errorf("%w: word %q has no entry", ErrStaleSnapshot, word)
		}
		x.postings[word] = postings[o]
		x.vocab.ReplaceOrInsert(word)
		if lettersOnly(word) {
			l := utf8.RuneCountInString(word)
			x.byLen[l] = append(x.byLen[l], word)
		}
	}
	nt := count(2)
	var prev termItem
	for i := 0; i < nt; i++ {
		s, j := uv(), uv()
		if bad || s >= uint64(len(x.entries)) || j >= uint64(len(x.entries[s].terms)) {
			return nil, fmt.Errorf("%w: term %d out of range", ErrStaleSnapshot, i)
		}
		it := termItem{x.entries[s].terms[j], uint32(s)}
		if i > 0 && !lessTerm(prev, it) {
			return nil, fmt.Errorf("%w: terms out of order at %d", ErrStaleSnapshot, i)
		}
		prev = it
		x.terms.ReplaceOrInsert(it)
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrStaleSnapshot, len(p))
	}
	return x, nil
}

// Open returns the index of r: loaded from its snapshot when r is the
// embedded store and the snapshot still describes it, else built from r
// (Build).
func Open(ctx context.Context, r graph.Reader) (*Index, error) {
	if path, st, ok := snapshotOf(ctx, r); ok {
		if x, err := Load(path, st); err == nil {
			return x, nil
		}
	}
	return Build(ctx, r)
}

// OpenSaved is Open that, when it had to build the index, saves it as
// the store's snapshot for the next process (the CLI opens the store once
// per command). Call it only while nothing else writes to r.
func OpenSaved(ctx context.Context, r graph.Reader) (*Index, error) {
	if path, st, ok := snapshotOf(ctx, r); ok {
		if x, err := Load(path, st); err == nil {
			return x, nil
		}
	}
	x, err := Build(ctx, r)
	if err != nil {
		return nil, err
	}
	_ = SaveFor(ctx, r, x)
	return x, nil
}

// SaveFor saves x as the snapshot of r (best effort: nothing happens when
// r's index is not saved). Call it only when x reflects every write r has
// committed.
func SaveFor(ctx context.Context, r graph.Reader, x *Index) error {
	path, st, ok := snapshotOf(ctx, r)
	if !ok {
		return nil
	}
	if err := x.Save(path, st); err != nil {
		_ = os.Remove(path)
		return err
	}
	return nil
}
