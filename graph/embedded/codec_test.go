package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
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
	e := edgeRec{Attrs: []graph.Attr{{Name: "split", Value: "train", Docs: []string{docA}}}, Docs: []string{docA, docB}}
	var got edgeRec
	if err := decodeEdge(encodeEdge(&e), &got); err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("edge round trip: %+v %v", got, err)
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
	js, _ := json.Marshal(rec)
	f.Add(js)
	e := edgeRec{Docs: []string{docB}}
	f.Add(encodeEdge(&e))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var n nodeRec
		if decodeNode(raw, &n) == nil && len(raw) > 0 && raw[0] == recNode {
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
			w.attrs, g1 = mergeAttrs(w.attrs, toDocRef(d), claims)
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
