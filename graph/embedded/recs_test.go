package embedded

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/modelgraph/modelgraph/graph"
)

// couldHoldNode and couldHoldEdge say, without recs.go's own tests, whether
// a stored record belongs in memory: it decodes (any schema but the JSON
// one) with no list spilled to the evidence bucket.
func couldHoldNode(v []byte) bool {
	if len(v) == 0 || v[0] == '{' {
		return false
	}
	rec := &nodeRec{}
	return decodeNodeIn(v, rec, &arena{}, &spillReader{}) == nil && len(rec.Keys) == len(rec.KeyDocs)
}

func couldHoldEdge(v []byte) bool {
	if len(v) == 0 || v[0] == '{' {
		return false
	}
	return decodeEdgeIn(v, &edgeRec{}, &arena{}, &spillReader{}) == nil
}

// sameRecords checks the records in memory against the file: every node
// and edge held in memory decodes as it does from the file, and every
// record without a spilled list is held (none is stale or missing). It
// returns how many records are in memory and how many in the file only.
func sameRecords(t *testing.T, s *store) (inMem, inFile int) {
	t.Helper()
	x := s.idx
	x.mu.RLock()
	defer x.mu.RUnlock()
	err := s.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bNodes).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			id := [16]byte(k)
			o, ok := x.ord[id]
			if !ok {
				return fmt.Errorf("node %x is not in the index", k)
			}
			want, err := loadNodesTx(tx, []graph.NodeID{graph.NodeIDFromBytes(k)}, func(int) [16]byte { return id })
			if err != nil {
				return err
			}
			ref := x.nrec[o]
			if ref == noRec {
				if couldHoldNode(v) {
					return fmt.Errorf("node %x could be in memory but is not", k)
				}
				inFile++
				continue
			}
			got, err := x.mem.node(ref, want[0].ID, &arena{})
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, want[0]) {
				return fmt.Errorf("node %x in memory:\n%+v\nin the file:\n%+v", k, got, want[0])
			}
			inMem++
		}
		c = tx.Bucket(bEdges).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			key := [33]byte(k)
			f, ok1 := x.ord[[16]byte(k[:16])]
			to, ok2 := x.ord[[16]byte(k[17:])]
			eid, ok3 := x.edgeID(f, to, k[16])
			if !ok1 || !ok2 || !ok3 {
				return fmt.Errorf("edge %x is not in the index", k)
			}
			r := graph.EdgeRef{From: graph.NodeIDFromBytes(k[:16]), Kind: graph.EdgeKindFromCode(k[16]), To: graph.NodeIDFromBytes(k[17:])}
			want, err := loadEdgesTx(tx, []graph.EdgeRef{r}, func(int) [33]byte { return key })
			if err != nil {
				return err
			}
			ref := x.erec[eid]
			if ref == noRec {
				if couldHoldEdge(v) {
					return fmt.Errorf("edge %x could be in memory but is not", k)
				}
				inFile++
				continue
			}
			got, err := x.mem.edge(ref, r, &arena{})
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, want[0]) {
				return fmt.Errorf("edge %x in memory:\n%+v\nin the file:\n%+v", k, got, want[0])
			}
			inMem++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return inMem, inFile
}

// hubs writes n documents that each name the same dataset (whose evidence
// list then spills), with an edge from one model to it (whose evidence
// spills too), attributes on both, and a new model per document.
func hubs(t *testing.T, s graph.Store, prefix string, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte(fmt.Sprint(prefix, i))), Type: "test"})
		d := b.Node(graph.KindDataset, graph.SHA256Key([]byte("hub")))
		b.Set(d, "license", fmt.Sprint("l", i%3))
		b.Edge(b.Node(graph.KindModel, graph.SHA256Key([]byte("model0"))), graph.TrainedOn, d, "split", "train")
		m := b.Node(graph.KindModel, graph.SHA256Key([]byte(fmt.Sprint(prefix, "m", i))))
		b.Set(m, "name", fmt.Sprint(prefix, i))
		b.Edge(m, graph.TrainedOn, d)
		b.Describes(m)
		if _, err := s.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
}

// sameWalks compares the driver's walk (records from memory and the
// file) with graph.Walk (records from the file) from every node given.
func sameWalks(t *testing.T, s *store, keys ...string) {
	t.Helper()
	ctx := context.Background()
	for _, key := range keys {
		ns, err := s.Lookup(ctx, key)
		if err != nil || len(ns) == 0 {
			t.Fatalf("lookup %s: %v", key, err)
		}
		for _, dir := range []graph.Direction{graph.Upstream, graph.Downstream, graph.Both} {
			req := graph.TraverseRequest{From: []graph.NodeID{ns[0].ID}, Direction: dir, MaxDepth: 4, Limit: 500}
			got, err1 := s.Traverse(ctx, req)
			want, err2 := graph.Walk(ctx, s, req)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("walk %s %v differs from graph.Walk", key, dir)
			}
		}
	}
}

// TestMemRecordsCurrent: the records held in memory stay those of the
// file across writes (new records, evidence added to old ones, lists that
// spill), merges, a clean reopen (loaded with the snapshot), a crash (no
// snapshot: rebuilt from the file), the slab's own compaction and the
// store's; walks over them return what graph.Walk returns.
func TestMemRecordsCurrent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "g.db")
	s, err := openTest(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check := func(stage string, s *testStore, wantFile bool) {
		t.Helper()
		s.drv.waitFill()
		inMem, inFile := sameRecords(t, s.drv)
		if inMem == 0 || wantFile && inFile == 0 {
			t.Fatalf("%s: %d records in memory, %d in the file only", stage, inMem, inFile)
		}
		if err := s.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	fill(t, s, "a", 40)
	check("first writes", s, false)
	fill(t, s, "b", 40) // the same nodes and edges again: evidence added
	check("evidence added", s, false)
	hubs(t, s, "h", 2*spillAt)
	check("spilled lists", s, true)
	sameWalks(t, s.drv, graph.SHA256Key([]byte("hub")), graph.SHA256Key([]byte("model0")), graph.SHA256Key([]byte("model7")))

	// Merges: each document joins two models.
	for i := 10; i < 30; i += 3 {
		b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte(fmt.Sprint("join", i))), Type: "test"})
		b.Node(graph.KindModel, graph.SHA256Key([]byte(fmt.Sprint("model", i))), graph.SHA256Key([]byte(fmt.Sprint("model", i+1))))
		r, err := s.Apply(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Merges) != 1 {
			t.Fatalf("%d merges", len(r.Merges))
		}
	}
	check("merges", s, true)
	sameWalks(t, s.drv, graph.SHA256Key([]byte("model10")), graph.SHA256Key([]byte("hub")))

	// The slab compacts itself once old versions pile up: forced here.
	s.drv.idx.mu.Lock()
	before := s.drv.idx.mem.total
	s.drv.idx.compactRecords()
	after := s.drv.idx.mem.total
	s.drv.idx.mu.Unlock()
	if after >= before {
		t.Fatalf("compaction kept %d of %d bytes", after, before)
	}
	check("slab compacted", s, true)
	fill(t, s, "c", 10)
	check("writes after the slab's compaction", s, true)

	// Clean reopen: the records come with the snapshot.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = openTest(path, Options{}); err != nil {
		t.Fatal(err)
	}
	if s.drv.snapTxid == 0 {
		t.Fatal("the snapshot was not loaded")
	}
	check("reopened", s, true)
	sameWalks(t, s.drv, graph.SHA256Key([]byte("hub")), graph.SHA256Key([]byte("model3")))
	hubs(t, s, "i", 10) // appends to lists loaded from the snapshot
	check("writes after reopening", s, true)

	// A crash: the file as a writer left it, with a stale snapshot beside
	// it (copied while the store is open; every commit was synced). The
	// index is rebuilt and the records are filled in the background, here
	// while documents are written and walks read.
	crash := filepath.Join(dir, "crash.db")
	copyFile(t, path, crash)
	copyFile(t, snapshotPath(path), snapshotPath(crash))
	c, err := openTest(crash, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.drv.snapTxid != 0 {
		t.Fatal("a stale snapshot was loaded")
	}
	hub, err := c.Lookup(ctx, graph.SHA256Key([]byte("hub")))
	if err != nil || len(hub) != 1 {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		var err error
		for range 50 {
			req := graph.TraverseRequest{From: []graph.NodeID{hub[0].ID}, Direction: graph.Both, MaxDepth: 3, Limit: 300}
			if _, err = c.drv.Traverse(ctx, req); err != nil {
				break
			}
		}
		done <- err
	}()
	hubs(t, c, "j", 20)
	fill(t, c, "k", 20)
	if err := <-done; err != nil {
		t.Fatalf("walk during the fill: %v", err)
	}
	check("after a crash, with writes during the fill", c, true)
	sameWalks(t, c.drv, graph.SHA256Key([]byte("hub")))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if c, err = openTest(crash, Options{}); err != nil {
		t.Fatal(err)
	}
	if c.drv.snapTxid == 0 {
		t.Fatal("no snapshot saved after the fill")
	}
	check("reopened after the crash", c, true)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The store's compaction saves the records with the new snapshot.
	dst := filepath.Join(dir, "compact.db")
	if err := Compact(path, dst); err != nil {
		t.Fatal(err)
	}
	k, err := openTest(dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if k.drv.snapTxid == 0 {
		t.Fatal("the compacted store's snapshot was not loaded")
	}
	check("compacted store", k, true)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
