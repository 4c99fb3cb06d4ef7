package embedded

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

func fill(t *testing.T, s graph.Store, prefix string, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte(fmt.Sprint(prefix, i))), Type: "test"})
		m := b.Node(graph.KindModel, graph.SHA256Key([]byte(fmt.Sprint("model", i))))
		b.Edge(m, graph.TrainedOn, b.Node(graph.KindDataset, graph.SHA256Key([]byte(fmt.Sprint("data", i%5)))))
		if i > 0 {
			b.Edge(m, graph.DerivedFrom, b.Node(graph.KindModel, graph.SHA256Key([]byte(fmt.Sprint("model", i-1)))), "relation", "finetune")
		}
		b.Describes(m)
		if _, err := s.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
}

// adjacency is the index as sets, whatever the ordinals and list order.
func adjacency(x *index) map[[16]byte][]string {
	out := map[[16]byte][]string{}
	for o, id := range x.ids {
		if cur, ok := x.ord[id]; !ok || cur != uint32(o) {
			continue // the slot of a node a merge removed
		}
		var hs []string
		for _, h := range x.out[o] {
			hs = append(hs, fmt.Sprintf("out %d %x", h.kind, x.ids[h.peer]))
		}
		for _, h := range x.in[o] {
			hs = append(hs, fmt.Sprintf("in %d %x", h.kind, x.ids[h.peer]))
		}
		slices.Sort(hs)
		out[id] = append(hs, fmt.Sprint("kind ", x.kinds[o]))
	}
	return out
}

func sameIndex(t *testing.T, got, want *index) {
	t.Helper()
	if !reflect.DeepEqual(got.stats(), want.stats()) {
		t.Fatalf("stats %+v, want %+v", got.stats(), want.stats())
	}
	if !reflect.DeepEqual(adjacency(got), adjacency(want)) {
		t.Fatal("adjacency differs")
	}
}

// Merges remove nodes and re-point edges in the in-memory index as on
// disk: the index equals a rebuild, and the snapshot saved at close leaves
// the removed slots out and loads as that same index.
func TestIndexAfterMerges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	s, err := openTest(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fill(t, s, "a", 30)
	// Give model i the name of model i+1's dataset partner: each document
	// joins two models (one merge each), inside one ApplyAll and alone.
	var bs []*graph.Batch
	for i := 0; i < 28; i += 3 {
		b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte(fmt.Sprint("join", i))), Type: "test"})
		b.Node(graph.KindModel, graph.SHA256Key([]byte(fmt.Sprint("model", i))), graph.SHA256Key([]byte(fmt.Sprint("model", i+1))))
		bs = append(bs, b)
	}
	if _, err := s.ApplyAll(ctx, bs[:2]); err != nil {
		t.Fatal(err)
	}
	merges := 0
	for _, b := range bs[2:] {
		r, err := s.Apply(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		merges += len(r.Merges)
	}
	if merges != len(bs)-2 {
		t.Fatalf("%d merges, want %d", merges, len(bs)-2)
	}
	want, err := rebuild(s.drv.db)
	if err != nil {
		t.Fatal(err)
	}
	sameIndex(t, s.drv.idx, want)
	if st := s.drv.idx.stats(); st.Nodes != 30+5+30 /* models, datasets, documents; each join document adds one node and removes one */ {
		t.Fatalf("stats after merges %+v", st)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = openTest(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	txid, _ := txID(s.drv.db)
	loaded, err := loadSnapshot(snapshotPath(path), txid)
	if err != nil {
		t.Fatalf("no snapshot after merges: %v", err)
	}
	sameIndex(t, loaded, want)
}

func TestIndexSnapshot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	s, err := openTest(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s, "a", 50)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	snap := snapshotPath(path)
	first, err := os.ReadFile(snap)
	if err != nil {
		t.Fatalf("no snapshot after a clean close: %v", err)
	}

	// Loaded, it is the index a rebuild gives, and it keeps working.
	s, err = openTest(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := rebuild(s.drv.db)
	if err != nil {
		t.Fatal(err)
	}
	txid, _ := txID(s.drv.db)
	loaded, err := loadSnapshot(snap, txid)
	if err != nil {
		t.Fatalf("snapshot not loaded: %v", err)
	}
	sameIndex(t, loaded, want)
	sameIndex(t, s.drv.idx, want)
	fill(t, s, "b", 20) // appends into the snapshot's shared backing arrays
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A snapshot older than the store (as after a crash following writes)
	// is ignored; so is a damaged one.
	for name, data := range map[string][]byte{
		"stale":     first,
		"corrupt":   append(append([]byte{}, first[:len(first)/2]...), 0xff),
		"truncated": first[:20],
	} {
		if err := os.WriteFile(snap, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err = openTest(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := rebuild(s.drv.db)
		if err != nil {
			t.Fatal(err)
		}
		sameIndex(t, s.drv.idx, want)
		if st := s.drv.idx.stats(); st.Documents != 70 {
			t.Fatalf("%s snapshot: %d documents, want 70", name, st.Documents)
		}
		if err := s.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}

	if err := os.Remove(snap); err != nil {
		t.Fatal(err)
	}
	s, err = openTest(path, Options{NoIndexSnapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(snap); !os.IsNotExist(err) {
		t.Fatalf("NoIndexSnapshot wrote a snapshot: %v", err)
	}
}

// A snapshot file is input like any other: whatever it holds, loading it
// either fails or yields a consistent index.
func FuzzLoadSnapshot(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "g.db")
	s, err := openTest(path, Options{})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	for i := range 5 {
		b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte(fmt.Sprint("f", i))), Type: "test"})
		b.Edge(b.Node(graph.KindModel, graph.SHA256Key([]byte(fmt.Sprint("m", i)))), graph.TrainedOn, b.Node(graph.KindDataset, graph.SHA256Key([]byte("d"))))
		if _, err := s.Apply(ctx, b); err != nil {
			f.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(snapshotPath(path))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:snapshotHeader])
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "x.idx")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var txid uint64
		if len(data) >= 16 {
			txid = binary.LittleEndian.Uint64(data[8:])
		}
		x, err := loadSnapshot(p, txid)
		if err != nil {
			return
		}
		if len(x.ids) != len(x.kinds) || len(x.ids) != len(x.out) || len(x.ids) != len(x.in) || len(x.ord) != len(x.ids) {
			t.Fatalf("inconsistent index from %d bytes", len(data))
		}
		var outN, inN int64
		for i := range x.ids {
			outN += int64(len(x.out[i]))
			inN += int64(len(x.in[i]))
		}
		if outN != x.edges || inN != x.edges {
			t.Fatalf("edges %d, out %d, in %d", x.edges, outN, inN)
		}
	})
}

func TestCompact(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	s, err := openTest(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s, "c", 300)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Compact(src, dst); err != nil {
		t.Fatal(err)
	}
	if err := Compact(src, dst); err == nil {
		t.Fatal("compacted over an existing file")
	}
	a, _ := os.Stat(src)
	b, _ := os.Stat(dst)
	if b.Size() >= a.Size() {
		t.Errorf("compacted file is %d bytes, source %d", b.Size(), a.Size())
	}
	c, err := openTest(dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	txid, _ := txID(c.drv.db)
	if _, err := loadSnapshot(snapshotPath(dst), txid); err != nil {
		t.Errorf("no fresh index snapshot after compaction: %v", err)
	}
	o, err := openTest(src, Options{NoIndexSnapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	sameIndex(t, c.drv.idx, o.drv.idx)
	ctx := context.Background()
	for i := range 300 {
		key := graph.SHA256Key([]byte(fmt.Sprint("model", i)))
		x, err1 := o.Lookup(ctx, key)
		y, err2 := c.Lookup(ctx, key)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(x, y) {
			t.Fatalf("%s differs after compaction: %v %v", key, err1, err2)
		}
	}
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestSnapshotKeptWhenUnchanged: a store opened from its snapshot and
// closed without a write keeps the snapshot file as it is; after a write
// the snapshot is saved again and describes the new state.
func TestSnapshotKeptWhenUnchanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s, "a", 20)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(snapshotPath(path))
	if err != nil {
		t.Fatalf("no snapshot after the first close: %v", err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(snapshotPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Fatal("the snapshot was rewritten although nothing was committed")
	}
	ts, err := openTest(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, ts, "b", 5)
	want := adjacency(ts.drv.idx)
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(snapshotPath(path)); err != nil || os.SameFile(before, st) {
		t.Fatalf("the snapshot was not saved again after a write (%v)", err)
	}
	ts, err = openTest(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	if ts.drv.snapTxid == 0 {
		t.Fatal("the index was rebuilt: the saved snapshot did not match the store")
	}
	if !reflect.DeepEqual(adjacency(ts.drv.idx), want) {
		t.Fatal("the snapshot saved after the write does not hold the write")
	}
}
