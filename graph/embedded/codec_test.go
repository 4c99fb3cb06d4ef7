package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/modelgraph/modelgraph/graph"
)

var (
	docA = graph.SHA256Key([]byte("a"))
	docB = graph.SHA256Key([]byte("b"))
)

func TestCodecRoundTrip(t *testing.T) {
	nodes := []nodeRec{
		{Kind: graph.KindModel, Keys: []string{"name:acme/llm", docA}, Docs: []string{docA, docB},
			KeyDocs: []graph.KeyClaim{{Key: "name:acme/llm", Docs: []string{docB}}, {Key: docA, Docs: []string{docA, docB}}},
			Joins:   []graph.KeyJoin{{Keys: []string{"name:acme/llm", docA}, Docs: []string{docB}}}},
		{Kind: graph.KindPackage, Keys: []string{"pkg:pypi/numpy@1.26.0"}, KeyDocs: []graph.KeyClaim{{Key: "pkg:pypi/numpy@1.26.0", Docs: []string{docB}}},
			Attrs: []graph.Attr{{Name: "license", Value: "BSD-3-Clause", Docs: []string{docA}}, {Name: "x", Value: "", Docs: []string{"sha512:" + strings.Repeat("ab", 64), "SHA256:ODD"}}},
			Docs:  []string{"sha256:" + strings.Repeat("A", 64), docB}},
		{Kind: graph.KindDocument, Keys: []string{docB}, Docs: []string{docB}, KeyDocs: []graph.KeyClaim{{Key: docB, Docs: []string{docB}}}, Attrs: []graph.Attr{{Name: "type", Value: strings.Repeat("é", 300), Docs: []string{docB}}}},
	}
	for _, rec := range nodes {
		raw := encodeNode(&rec)
		var got nodeRec
		if err := decodeNode(raw, &got); err != nil {
			t.Fatalf("%+v: %v", rec, err)
		}
		if !reflect.DeepEqual(got, rec) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, rec)
		}
		// Schema 3 records (written by earlier binaries) read the same.
		var old nodeRec
		if err := decodeNode(encodeNodeV3(&rec), &old); err != nil || !reflect.DeepEqual(old, rec) {
			t.Fatalf("schema 3 record: %+v %v", old, err)
		}
		// Every truncation is an error, never a panic or a silent partial record.
		for i := range len(raw) {
			var part nodeRec
			if err := decodeNode(raw[:i], &part); err == nil {
				t.Fatalf("%+v truncated to %d bytes decoded", rec, i)
			}
		}
		if err := decodeNode(append(raw, 0), &got); !errors.Is(err, errCorrupt) {
			t.Fatalf("trailing byte: %v", err)
		}
	}
	for _, e := range []edgeRec{
		{Attrs: []graph.Attr{{Name: "split", Value: "train", Docs: []string{docA}}}, Docs: []string{docA, docB}},
		{Attrs: []graph.Attr{{Name: "scope", Value: "runtime", Docs: []string{docA, docB}}}, Docs: []string{docA, docB}},
	} {
		var got, old edgeRec
		if err := decodeEdge(encodeEdge(&e), &got); err != nil || !reflect.DeepEqual(got, e) {
			t.Fatalf("edge round trip: %+v %v", got, err)
		}
		if err := decodeEdge(encodeEdgeV3(&e), &old); err != nil || !reflect.DeepEqual(old, e) {
			t.Fatalf("schema 3 edge: %+v %v", old, err)
		}
	}
	// The binary form is what makes traversals cheap: a sha256 evidence
	// entry is 33 bytes, not a 73-byte JSON string.
	big := nodeRec{Kind: graph.KindPackage, Keys: []string{"pkg:pypi/numpy@1.26.0"}, KeyDocs: []graph.KeyClaim{{Key: "pkg:pypi/numpy@1.26.0"}}}
	for i := range 1000 {
		big.Docs = append(big.Docs, graph.SHA256Key([]byte{byte(i), byte(i >> 8)}))
	}
	js, _ := json.Marshal(big)
	if bin := encodeNode(&big); len(bin)*2 > len(js) {
		t.Errorf("binary record is %d bytes, JSON %d", len(bin), len(js))
	}
}

func TestDecodeRejects(t *testing.T) {
	for name, raw := range map[string][]byte{
		"empty":         nil,
		"unknown form":  {0x07, 1},
		"old binary":    {recBinary, 1, 0, 0, 0},
		"bad kind":      {recNode, 0xee, 0, 0, 0},
		"huge count":    {recNode, 1, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"bad doc tag":   {recNode, 1, 1, 1, 'k', 0, 0, 1, 9},
		"short digest":  {recNode, 1, 1, 1, 'k', 0, 0, 1, 0, 1, 2},
		"bad key docs":  {recNode, 1, 1, 1, 'k', 3, 0, 0},
		"invalid JSON":  []byte(`{"k":`),
		"string length": {recNode, 1, 1, 5, 'k'},
		// listSame only after the owner's inline documents, in schema 4.
		"same in schema 3":      {recNode, 1, 1, 1, 'k', listSame, 0, 0, 0},
		"owner docs as same":    {recNode4, 1, listSame, 0, 0, 0},
		"same after spilled":    {recNode4, 1, 1, 1, 1, 'k', listSame, 0, 0},
		"same after no docs":    {recNode4, 1, 0, 1, 1, 'k', listSame, 0, 0},
		"other odd list":        {recNode4, 1, 0, 1, 1, 'k', 5, 0, 0},
		"schema 3 tag, 4 order": {recNode, 1, 2, 0, 1, 2, 3, 1, 1, 'k', 0, 0, 0},
	} {
		var rec nodeRec
		if err := decodeNode(raw, &rec); err == nil {
			t.Errorf("%s: decoded %+v", name, rec)
		}
	}
	var e edgeRec
	if err := decodeEdge([]byte{recBinary, 1}, &e); err == nil {
		t.Error("truncated edge decoded")
	}
	if err := decodeEdge([]byte{recEdge4, listSame, 0}, &e); err == nil {
		t.Error("edge whose documents are 'the same' decoded")
	}
}

// Lists equal to the owner's documents are stored once: a package every
// document names by the same keys with the same claims (the common case
// in bulk SBOM imports) costs one list, not one per key and claim.
func TestSameListsStoredOnce(t *testing.T) {
	var docs []string
	for i := range 20 {
		docs = append(docs, graph.SHA256Key([]byte{byte(i)}))
	}
	slices.Sort(docs)
	rec := nodeRec{Kind: graph.KindPackage, Keys: []string{"pkg:pypi/numpy@1.26.0", "sha256:" + strings.Repeat("0", 64)}, Docs: docs,
		KeyDocs: []graph.KeyClaim{{Key: "pkg:pypi/numpy@1.26.0", Docs: docs}, {Key: "sha256:" + strings.Repeat("0", 64), Docs: docs[:3]}},
		Attrs:   []graph.Attr{{Name: "license", Value: "BSD-3-Clause", Docs: docs}, {Name: "name", Value: "numpy", Docs: docs}},
		Joins:   []graph.KeyJoin{{Keys: []string{"pkg:pypi/numpy@1.26.0", "sha256:" + strings.Repeat("0", 64)}, Docs: docs}}}
	raw, old := encodeNode(&rec), encodeNodeV3(&rec)
	var got nodeRec
	if err := decodeNode(raw, &got); err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	// Four lists equal the documents; one (3 entries) does not.
	if want := len(old) - 4*(20*33+1) + 4; len(raw) != want {
		t.Errorf("record is %d bytes (schema 3: %d), want %d", len(raw), len(old), want)
	}
	// Decoded lists do not alias each other: a caller changing one
	// changes nothing else.
	got.KeyDocs[0].Docs[0] = "changed"
	if got.Docs[0] == "changed" || got.Attrs[0].Docs[0] == "changed" {
		t.Fatal("decoded lists share storage")
	}
	// The write path writes the same bytes and reads both forms.
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "w.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id := [16]byte{7}
	if err := db.Update(func(tx *bbolt.Tx) error {
		ev, err := tx.CreateBucket(bNodeEv)
		if err != nil {
			return err
		}
		for _, v := range [][]byte{raw, old} {
			w, err := decodeWNode(v, ev, id)
			if err != nil {
				return err
			}
			again, err := w.encode(ev, id)
			if err != nil {
				return err
			}
			if !bytes.Equal(again, raw) {
				t.Errorf("write path re-encoded %d bytes as %d bytes, want the %d of encodeNode", len(v), len(again), len(raw))
			}
			// A document named by one key only: that key's list and the
			// owner's part ways, the others stay the same.
			d := toDocRef(graph.SHA256Key([]byte("late")))
			w.docs.add(d)
			w.keys[1].docs.add(d)
			v2, err := w.encode(ev, id)
			if err != nil {
				return err
			}
			var r2 nodeRec
			if err := decodeNode(v2, &r2); err != nil {
				return err
			}
			if len(r2.Docs) != 21 || len(r2.KeyDocs[0].Docs) != 20 || len(r2.KeyDocs[1].Docs) != 4 || len(r2.Attrs[0].Docs) != 20 || len(r2.Joins[0].Docs) != 20 {
				t.Errorf("after a partial document: docs %d, keys %d/%d, attr %d, join %d", len(r2.Docs), len(r2.KeyDocs[0].Docs), len(r2.KeyDocs[1].Docs), len(r2.Attrs[0].Docs), len(r2.Joins[0].Docs))
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// encodeNodeV3 and encodeEdgeV3 write records as schema 3 binaries did
// (owner's documents after the other lists, every list in full).
func encodeNodeV3(rec *nodeRec) []byte {
	b := []byte{recNode, rec.Kind.Code()}
	b = binary.AppendUvarint(b, uint64(len(rec.Keys)))
	for _, k := range rec.Keys {
		b = appendStr(b, k)
		var docs []string
		for _, kd := range rec.KeyDocs {
			if kd.Key == k {
				docs = kd.Docs
			}
		}
		b = appendDocs(b, docs)
	}
	b = appendAttrs(b, rec.Attrs, nil)
	b = appendDocs(b, rec.Docs)
	b = binary.AppendUvarint(b, uint64(len(rec.Joins)))
	for _, j := range rec.Joins {
		b = binary.AppendUvarint(b, uint64(len(j.Keys)))
		for _, k := range j.Keys {
			b = appendStr(b, k)
		}
		b = appendDocs(b, j.Docs)
	}
	return b
}

func encodeEdgeV3(rec *edgeRec) []byte {
	b := appendAttrs([]byte{recBinary}, rec.Attrs, nil)
	return appendDocs(b, rec.Docs)
}

// Stores of schema 1 (JSON records) and 2 (no per-key evidence) are
// refused with an error that says why and what to do, and are left as
// they were.
func TestOldSchemasRefused(t *testing.T) {
	for _, v := range []string{"1", "2"} {
		path := filepath.Join(t.TempDir(), "old.db")
		db, err := bbolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(func(tx *bbolt.Tx) error {
			for _, name := range [][]byte{bMeta, bDocs, bNodes, bKeys, bKinds, bEdges} {
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
			return tx.Bucket(bMeta).Put([]byte("version"), []byte(v))
		}); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		_, err = openTest(path, Options{})
		if err == nil || !strings.Contains(err.Error(), "schema version "+v) || !strings.Contains(err.Error(), "ingest the documents again") {
			t.Fatalf("version %s: open error %v, want a refusal naming the version and the remedy", v, err)
		}
		db, err = bbolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = db.View(func(tx *bbolt.Tx) error {
			if got := tx.Bucket(bMeta).Get([]byte("version")); string(got) != v {
				t.Errorf("refused store's version changed to %q", got)
			}
			if tx.Bucket(bAliases) != nil {
				t.Errorf("refused store was modified")
			}
			return nil
		})
		_ = db.Close()
	}
}

func FuzzDecodeRecord(f *testing.F) {
	rec := nodeRec{Kind: graph.KindModel, Keys: []string{docA}, KeyDocs: []graph.KeyClaim{{Key: docA, Docs: []string{docA}}}, Attrs: []graph.Attr{{Name: "n", Value: "v", Docs: []string{docA, "x:y"}}}, Docs: []string{docA}}
	f.Add(encodeNode(&rec))
	f.Add(encodeNodeV3(&rec))
	js, _ := json.Marshal(rec)
	f.Add(js)
	e := edgeRec{Docs: []string{docB}}
	f.Add(encodeEdge(&e))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var n nodeRec
		if decodeNode(raw, &n) == nil && len(raw) > 0 && (raw[0] == recNode || raw[0] == recNode4) {
			// What decodes re-encodes to the same bytes (one canonical form),
			// except the sha256 spellings the encoder normalises to raw form.
			var again nodeRec
			if err := decodeNode(encodeNode(&n), &again); err != nil || !reflect.DeepEqual(again, n) {
				t.Fatalf("re-decode: %+v vs %+v: %v", again, n, err)
			}
		}
		var e edgeRec
		_ = decodeEdge(raw, &e)
	})
}

// The write path's raw evidence lists, inline and spilled, must end up
// exactly as graph's shared helpers would have left them (both backends
// merge identically).
func TestWriteRecordsMatchGraphMerge(t *testing.T) {
	docs := []string{docB, "sha512:" + strings.Repeat("cd", 64), docA, "sha1:" + strings.Repeat("e", 40)}
	for i := range 3 * spillAt {
		docs = append(docs, graph.SHA256Key([]byte{byte(i)}))
	}
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "w.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id := [16]byte{1, 2, 3}
	var want []graph.Attr
	var wantDocs []string
	var w wNode
	w.kind = graph.KindIdentity
	err = db.Update(func(tx *bbolt.Tx) error {
		ev, err := tx.CreateBucket(bNodeEv)
		if err != nil {
			return err
		}
		for i, d := range append(docs, docs[:10]...) {
			claims := map[string]string{"method": "key", "n": []string{"x", "y", "z"}[i%3]}
			var c1, c2 bool
			want, c1 = graph.MergeAttrs(want, d, claims)
			wantDocs, c2 = graph.AddSorted(wantDocs, d)
			var g1 bool
			w.attrs, g1 = mergeAttrs(w.attrs, toDocRef(d), claims, nil)
			g2 := w.docs.add(toDocRef(d))
			if c1 != g1 || c2 != g2 {
				t.Fatalf("doc %d: changed %v/%v, graph says %v/%v", i, g1, g2, c1, c2)
			}
			if i%17 == 0 {
				// Round trip through the stored form midway, as a later
				// transaction would.
				v, err := w.encode(ev, id)
				if err != nil {
					return err
				}
				if w, err = decodeWNode(v, ev, id); err != nil {
					return err
				}
			}
		}
		v, err := w.encode(ev, id)
		if err != nil {
			return err
		}
		var got nodeRec
		if err := decodeNodeIn(v, &got, &arena{}, &spillReader{b: ev, owner: id[:]}); err != nil {
			return err
		}
		if !reflect.DeepEqual(got.Attrs, want) || !reflect.DeepEqual(got.Docs, wantDocs) {
			t.Fatalf("write path merged differently:\n got %v %v\nwant %v %v", got.Attrs, got.Docs, want, wantDocs)
		}
		if !w.docs.spilled || len(v) > 200 {
			t.Fatalf("a %d-document list was not spilled: record is %d bytes", len(wantDocs), len(v))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Through the public API: a hub node and edge collect more documents than
// fit inline; reads return every one, in order, after a reopen too.
func TestSpilledEvidence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	s, err := openTest(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var want []string
	n := 2*spillAt + 5
	var bs []*graph.Batch
	for i := range n {
		b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte(fmt.Sprint("sbom", i))), Type: "test"})
		m := b.Node(graph.KindModel, graph.SHA256Key([]byte(fmt.Sprint("m", i))))
		torch := b.Node(graph.KindPackage, "pkg:pypi/torch@2.5.1")
		numpy := b.Node(graph.KindPackage, "pkg:pypi/numpy@1.26.0")
		b.Set(numpy, "license", "BSD-3-Clause")
		b.Node(graph.KindModel, "name:shared", docA) // a key set every document joins
		b.Edge(m, graph.DependsOn, torch)
		b.Edge(torch, graph.DependsOn, numpy, "scope", "runtime")
		want, _ = graph.AddSorted(want, b.Doc.Digest)
		if i%3 == 0 {
			if _, err := s.Apply(ctx, b); err != nil { // one at a time
				t.Fatal(err)
			}
		} else {
			bs = append(bs, b) // and in bulk
		}
	}
	if _, err := s.ApplyAll(ctx, bs); err != nil {
		t.Fatal(err)
	}
	check := func(s *testStore) {
		t.Helper()
		ns, err := s.Lookup(ctx, "pkg:pypi/numpy@1.26.0")
		if err != nil || len(ns) != 1 {
			t.Fatalf("%v %v", ns, err)
		}
		if !reflect.DeepEqual(ns[0].Docs, want) || len(ns[0].Attrs) != 1 || !reflect.DeepEqual(ns[0].Attrs[0].Docs, want) {
			t.Fatalf("numpy: %d docs, attrs %d; want %d", len(ns[0].Docs), len(ns[0].Attrs), len(want))
		}
		es, err := s.Edges(ctx, ns[0].ID, graph.In)
		if err != nil || len(es) != 1 || !reflect.DeepEqual(es[0].Docs, want) || !reflect.DeepEqual(es[0].Attrs[0].Docs, want) {
			t.Fatalf("torch -> numpy: %+v %v", es, err)
		}
		sh, err := s.Lookup(ctx, "name:shared")
		if err != nil || len(sh) != 1 {
			t.Fatalf("%v %v", sh, err)
		}
		if len(sh[0].Joins) != 1 || !reflect.DeepEqual(sh[0].Joins[0].Docs, want) || !reflect.DeepEqual(sh[0].KeyDocs[0].Docs, want) || !reflect.DeepEqual(sh[0].KeyDocs[1].Docs, want) {
			t.Fatalf("shared model: joins %d, key evidence %d/%d docs; want %d", len(sh[0].Joins), len(sh[0].KeyDocs[0].Docs), len(sh[0].KeyDocs[1].Docs), len(want))
		}
		if err := s.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	check(s)
	// A document already recorded changes nothing, spilled or not.
	r, err := s.Apply(ctx, bs[0])
	if err != nil || !r.Duplicate {
		t.Fatalf("%+v %v", r, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = openTest(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s)
	if err := s.drv.view(func(tx *bbolt.Tx) error {
		id := graph.NewNodeID(graph.KindPackage, "pkg:pypi/numpy@1.26.0").Bytes()
		if v := tx.Bucket(bNodes).Get(id[:]); len(v) > 200 {
			t.Errorf("numpy's record is %d bytes: evidence not spilled", len(v))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// A schema 3 store opens: its version becomes 4 (a schema 3 binary then
// refuses it by version), its records read as before and take new
// documents like a store that was always schema 4.
func TestSchema3StoreUpgraded(t *testing.T) {
	ctx := context.Background()
	batches := func(from, to int) []*graph.Batch {
		var bs []*graph.Batch
		for i := from; i < to; i++ {
			b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte(fmt.Sprint("doc", i))), Type: "test"})
			m := b.Node(graph.KindModel, graph.SHA256Key([]byte(fmt.Sprint("m", i%3))), "name:model"+fmt.Sprint(i%3))
			p := b.Node(graph.KindPackage, "pkg:pypi/numpy@1.26.0")
			b.Set(p, "license", []string{"BSD-3-Clause", "MIT"}[i%2])
			b.Edge(m, graph.DependsOn, p, "scope", "runtime")
			bs = append(bs, b)
		}
		return bs
	}
	dump := func(s *testStore) string { return checkedDump(t, s) }
	path := filepath.Join(t.TempDir(), "g.db")
	s, err := openTest(path, Options{NoIndexSnapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyAll(ctx, batches(0, 10)); err != nil {
		t.Fatal(err)
	}
	before := dump(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Rewrite every record as a schema 3 binary would have.
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		for _, r := range []struct {
			b      []byte
			encode func([]byte) ([]byte, error)
		}{
			{bNodes, func(v []byte) ([]byte, error) { var n nodeRec; err := decodeNode(v, &n); return encodeNodeV3(&n), err }},
			{bEdges, func(v []byte) ([]byte, error) { var e edgeRec; err := decodeEdge(v, &e); return encodeEdgeV3(&e), err }},
		} {
			b := tx.Bucket(r.b)
			var ks, vs [][]byte
			if err := b.ForEach(func(k, v []byte) error {
				old, err := r.encode(v)
				ks, vs = append(ks, slices.Clone(k)), append(vs, old)
				return err
			}); err != nil {
				return err
			}
			for i := range ks {
				if err := b.Put(ks[i], vs[i]); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bMeta).Put([]byte("version"), []byte("3"))
	}); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	if s, err = openTest(path, Options{NoIndexSnapshot: true}); err != nil {
		t.Fatal(err)
	}
	if got := dump(s); got != before {
		t.Fatalf("schema 3 records read differently:\n%s\nwant\n%s", got, before)
	}
	if _, err := s.ApplyAll(ctx, batches(10, 20)); err != nil {
		t.Fatal(err)
	}
	after := dump(s)
	var version string
	_ = s.drv.view(func(tx *bbolt.Tx) error { version = string(tx.Bucket(bMeta).Get([]byte("version"))); return nil })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if version != schemaVersion {
		t.Errorf("upgraded store has version %q", version)
	}
	fresh, err := openTest(filepath.Join(t.TempDir(), "fresh.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if _, err := fresh.ApplyAll(ctx, batches(0, 20)); err != nil {
		t.Fatal(err)
	}
	if want := dump(fresh); after != want {
		t.Fatalf("upgraded store after more documents:\n%s\nwant\n%s", after, want)
	}
}

// The write path's lists, with "same" lists shared and encoded without
// merging, end up as graph's helpers would leave them: random documents
// naming random subsets of a node's keys and claims, round trips through
// the stored form at random points, lists spilling on the way.
func TestWriteListsRandom(t *testing.T) {
	for seed := range 20 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		db, err := bbolt.Open(filepath.Join(t.TempDir(), "w.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		keys := []string{"k1", "k2", "k3"}
		var want nodeRec
		want.Kind = graph.KindPackage
		wantKD := map[string][]string{}
		var w wNode
		var jbuf []byte
		refs := &refArena{} // reset at each round trip below, as the store does per transaction
		w.kind = graph.KindPackage
		for _, k := range keys {
			w.addKey(k)
		}
		id := [16]byte{byte(seed)}
		n := 10 + rng.IntN(120)
		err = db.Update(func(tx *bbolt.Tx) error {
			ev, err := tx.CreateBucket(bNodeEv)
			if err != nil {
				return err
			}
			for i := range n {
				d := graph.SHA256Key([]byte{byte(i), byte(seed)})
				if i > 0 && rng.IntN(8) == 0 {
					d = graph.SHA256Key([]byte{byte(rng.IntN(i)), byte(seed)}) // a document seen before
				}
				if rng.IntN(10) == 0 {
					d = fmt.Sprint("urn:doc:", i%7) // not a sha256 digest: kept as a string
				}
				var named []string
				for _, k := range keys {
					if rng.IntN(6) > 0 {
						named = append(named, k)
					}
				}
				if rng.IntN(3) == 0 {
					rng.Shuffle(len(named), func(i, j int) { named[i], named[j] = named[j], named[i] }) // addJoin sorts
				}
				claims := map[string]string{}
				if rng.IntN(3) > 0 {
					claims["license"] = []string{"MIT", "BSD"}[rng.IntN(2)]
				}
				if rng.IntN(4) > 0 {
					claims["name"] = "numpy"
				}
				ref := toDocRef(d)
				changed := false
				for _, k := range named {
					changed = w.addKeyDoc(k, ref, refs) || changed
					wantKD[k], _ = graph.AddSorted(wantKD[k], d)
				}
				changed = w.addJoin(named, ref, &jbuf, refs) || changed
				want.Joins, _ = graph.AddJoin(want.Joins, named, d)
				var c bool
				w.attrs, c = mergeAttrs(w.attrs, ref, claims, refs)
				changed = changed || c
				want.Attrs, _ = graph.MergeAttrs(want.Attrs, d, claims)
				changed = w.docs.addIn(ref, refs) || changed
				want.Docs, _ = graph.AddSorted(want.Docs, d)
				_ = changed
				if rng.IntN(4) == 0 {
					v, err := w.encode(ev, id)
					if err != nil {
						return err
					}
					sameMemRecord(t, v, &w)
					if w.hasAdded() {
						t.Fatal("a list holds unmerged entries after encoding")
					}
					// The next "transaction" reuses the arena, with the record
					// as encoding left it (a kept record) or read back.
					refs.reset()
					if rng.IntN(2) == 0 {
						if w, err = decodeWNode(v, ev, id); err != nil {
							return err
						}
					}
				}
			}
			v, err := w.encode(ev, id)
			if err != nil {
				return err
			}
			sameMemRecord(t, v, &w)
			var got nodeRec
			if err := decodeNodeIn(v, &got, &arena{}, &spillReader{b: ev, owner: id[:]}); err != nil {
				return err
			}
			for _, k := range keys {
				want.Keys = append(want.Keys, k)
				want.KeyDocs = append(want.KeyDocs, graph.KeyClaim{Key: k, Docs: wantKD[k]})
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, %d documents: write path left\n%+v\nwant\n%+v", seed, n, got, want)
			}
			return nil
		})
		_ = db.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// sameMemRecord checks that the record in memory made from w as flush
// left it (encodeWNode) decodes as the one made by decoding what flush
// stored (v) does (document ordinals may be numbered in another order),
// and that both are absent when a list spilled.
func sameMemRecord(t *testing.T, v []byte, w *wNode) {
	t.Helper()
	fromFile, fromCache := newRecMem(), newRecMem()
	var want, got graph.Node
	rec := memNodeOf(v, &arena{})
	b, ok := fromCache.encodeWNode(w)
	if (rec != nil) != ok {
		t.Fatalf("record in memory from the stored record: %v, from the write cache: %v", rec != nil, ok)
	}
	if !ok {
		if len(fromCache.docs) != 0 {
			t.Fatalf("a record not held numbered documents %q", fromCache.docs)
		}
		return
	}
	var err error
	if want, err = fromFile.decodeNode(fromFile.encodeNode(rec), "n", &arena{}); err != nil {
		t.Fatal(err)
	}
	if got, err = fromCache.decodeNode(b, "n", &arena{}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("record in memory from the write cache\n%+v\nfrom the stored record\n%+v", got, want)
	}
}
