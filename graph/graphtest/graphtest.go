// Package graphtest is the driver contract: one suite every graph.Driver
// runs unchanged (graph/embedded, graph/neo4j), in the manner of Dex's
// storage conformance tests. Each test gets a fresh, empty driver from the
// Harness, wrapped in graph.Open as every caller gets it; at cleanup the
// suite checks the stored graph's invariants (graph.DB.Check, which fails
// for a driver without a graph.Checker) and closes it.
package graphtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

// Harness gives the suite drivers to test.
type Harness interface {
	// Open returns a driver over empty storage.
	Open(t *testing.T) graph.Driver
	// Reopen returns a driver over the data of d, which the suite has
	// closed (a restart).
	Reopen(t *testing.T, d graph.Driver) graph.Driver
}

// Optioner is implemented by harnesses whose backend's constructor opens
// its driver with graph.Options other than the defaults.
type Optioner interface {
	Options() graph.Options
}

func options(h Harness) graph.Options {
	if o, ok := h.(Optioner); ok {
		return o.Options()
	}
	return graph.Options{}
}

// store is a graph.DB over a harness's driver.
type store struct {
	*graph.DB
	drv graph.Driver
}

// Open returns a graph.DB over a fresh driver from h, which is checked
// and closed at cleanup (suites built on the harness use it, as the
// differential test does).
func Open(t *testing.T, h Harness) *graph.DB { return open(t, h).DB }

func open(t *testing.T, h Harness) *store {
	t.Helper()
	drv := h.Open(t)
	s := &store{DB: graph.Open(drv, options(h)), drv: drv}
	t.Cleanup(func() {
		if err := s.Check(context.Background()); err != nil {
			t.Errorf("graph invariants broken: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// reopen closes s and opens its data again through h (a restart).
func reopen(t *testing.T, h Harness, s *store) *store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.drv = h.Reopen(t, s.drv)
	s.DB = graph.Open(s.drv, options(h))
	return s
}

// Run runs the whole contract against h.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"ApplyAndRead", testApplyAndRead},
		{"LookupNormalisesKeys", testLookupNormalises},
		{"Idempotent", testIdempotent},
		{"InvalidBatchWritesNothing", testInvalidBatch},
		{"FaultMidDocumentLeavesNoTrace", testFault},
		{"EvidenceMerges", testEvidenceMerges},
		{"KeysJoinAndMergeNodes", testKeyMerge},
		{"MergeRepointsEdgesAndKeepsEvidence", testMergeEdges},
		{"AdapterIdentityInAnyOrder", testAdapterAnyOrder},
		{"KeyLimitReported", testKeyLimit},
		{"JoinsRecordWhichDocumentJoinedKeys", testJoins},
		{"FaultDuringMergeLeavesNoTrace", testFaultMerge},
		{"MergesInsideOneApplyAll", testMergeInBulk},
		{"PermutationsGiveOneGraph", testPermutations},
		{"TraverseLineage", testTraverseLineage},
		{"TraverseFilters", testTraverseFilters},
		{"TraverseDepthAndLimit", testTraverseLimits},
		{"TraverseCycles", testTraverseCycles},
		{"TraverseInvalid", testTraverseInvalid},
		{"NodesPaginate", testNodesPaginate},
		{"ApplyAllAtomic", testApplyAll},
		{"ReopenKeepsEverything", testReopen},
		{"ConcurrentWritersAndReaders", testConcurrent},
		{"ConcurrentMergesAndReaders", testConcurrentMerges},
		{"ClosedRefusesEveryCall", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

// Doc makes a document named name (its digest is derived from the name).
func Doc(name string, sigs ...graph.Signature) graph.Document {
	return graph.Document{Digest: graph.SHA256Key([]byte(name)), Type: "test", Source: name, Signatures: sigs}
}

// Digest is a test digest key derived from s.
func Digest(s string) string { return graph.SHA256Key([]byte("artifact:" + s)) }

func ctx() context.Context { return context.Background() }

func mustApply(t *testing.T, s graph.Store, b *graph.Batch) graph.Receipt {
	t.Helper()
	r, err := s.Apply(ctx(), b)
	if err != nil {
		t.Fatalf("apply %s: %v", b.Doc.Source, err)
	}
	return r
}

func one(t *testing.T, s graph.Reader, key string) graph.Node {
	t.Helper()
	ns, err := s.Lookup(ctx(), key)
	if err != nil {
		t.Fatalf("lookup %s: %v", key, err)
	}
	if len(ns) != 1 {
		t.Fatalf("lookup %s: %d nodes, want 1", key, len(ns))
	}
	return ns[0]
}

func stats(t *testing.T, s graph.Reader) graph.Stats {
	t.Helper()
	st, err := s.Stats(ctx())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// chain builds the lineage used by several tests:
//
//	raw <-DERIVED_FROM- clean <-TRAINED_ON- base <-DERIVED_FROM- ft <-DERIVED_FROM- quant -DEPLOYED_AS-> prod, staging
//	ft -CONTAINS-> weights file
func chain() *graph.Batch {
	b := graph.NewBatch(Doc("chain"))
	raw := b.Node(graph.KindDataset, Digest("raw"), graph.NameKey("raw"))
	clean := b.Node(graph.KindDataset, Digest("clean"))
	base := b.Node(graph.KindModel, Digest("base"), graph.NameKey("acme/base"))
	ft := b.Node(graph.KindModel, Digest("ft"))
	quant := b.Node(graph.KindModel, Digest("quant"))
	file := b.Node(graph.KindFile, Digest("weights"))
	prod := b.Node(graph.KindDeployment, "deployment:prod/api")
	staging := b.Node(graph.KindDeployment, "deployment:staging/api")
	b.Edge(clean, graph.DerivedFrom, raw)
	b.Edge(base, graph.TrainedOn, clean, "split", "train")
	b.Edge(ft, graph.DerivedFrom, base, "relation", "finetune")
	b.Edge(quant, graph.DerivedFrom, ft, "relation", "quantized")
	b.Edge(ft, graph.Contains, file, "path", "model.safetensors")
	b.Edge(quant, graph.DeployedAs, prod)
	b.Edge(quant, graph.DeployedAs, staging)
	b.Describes(quant)
	return b
}

func testApplyAndRead(t *testing.T, h Harness) {
	s := open(t, h)
	sig := graph.Signature{Method: "key", KeyID: "abc", Status: graph.StatusVerified}
	b := graph.NewBatch(Doc("d1", sig))
	m := b.Node(graph.KindModel, Digest("m"), graph.NameKey("acme/m"))
	d := b.Node(graph.KindDataset, Digest("d"))
	b.Set(m, "license", "mit")
	b.Edge(m, graph.TrainedOn, d, "split", "train")
	b.Describes(m)
	r := mustApply(t, s, b)
	if r.Duplicate || r.Status != graph.StatusVerified {
		t.Fatalf("receipt %+v: want new, verified", r)
	}
	// Document, identity, model, dataset; DESCRIBES, SIGNED_BY, TRAINED_ON.
	if r.NodesCreated != 4 || r.EdgesCreated != 3 {
		t.Fatalf("receipt %+v: want 4 nodes, 3 edges created", r)
	}
	model := one(t, s, Digest("m"))
	if model.Kind != graph.KindModel || model.Attr("license") != "mit" {
		t.Fatalf("model = %+v", model)
	}
	if want := graph.NodeIDFor(graph.KindModel, []string{Digest("m"), graph.NameKey("acme/m")}); model.ID != want {
		t.Fatalf("model id %s, want %s (the smallest id of its keys)", model.ID, want)
	}
	if want := []string{Digest("m"), graph.NameKey("acme/m")}; !sameSet(model.Keys, want) {
		t.Fatalf("model keys %v, want %v", model.Keys, want)
	}
	wantKD := []graph.KeyClaim{{Key: graph.NameKey("acme/m"), Docs: []string{b.Doc.Digest}}, {Key: Digest("m"), Docs: []string{b.Doc.Digest}}}
	slices.SortFunc(wantKD, func(a, b graph.KeyClaim) int { return strings.Compare(a.Key, b.Key) })
	if !reflectEqual(model.KeyDocs, wantKD) {
		t.Fatalf("model key evidence %+v, want %+v", model.KeyDocs, wantKD)
	}
	if got := one(t, s, graph.NameKey("acme/m")); got.ID != model.ID {
		t.Fatalf("name lookup gave %s, want %s", got.ID, model.ID)
	}
	got, err := s.Node(ctx(), model.ID)
	if err != nil || got.ID != model.ID || !slices.Equal(got.Docs, []string{b.Doc.Digest}) {
		t.Fatalf("Node(%s) = %+v, %v", model.ID, got, err)
	}
	es, err := s.Edges(ctx(), model.ID, graph.Out)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Kind != graph.TrainedOn || es[0].Attr("split") != "train" || !slices.Equal(es[0].Docs, []string{b.Doc.Digest}) {
		t.Fatalf("out edges of model = %+v", es)
	}
	in, err := s.Edges(ctx(), model.ID, graph.In)
	if err != nil || len(in) != 1 || in[0].Kind != graph.Describes {
		t.Fatalf("in edges of model = %+v, %v", in, err)
	}
	docNode := one(t, s, b.Doc.Digest)
	signed, err := s.Edges(ctx(), docNode.ID, graph.Out, graph.SignedBy)
	if err != nil || len(signed) != 1 || signed[0].Attr("status") != "verified" {
		t.Fatalf("SIGNED_BY edges = %+v, %v", signed, err)
	}
	if _, err := s.Node(ctx(), graph.NewNodeID(graph.KindModel, "name:nope")); !errors.Is(err, graph.ErrNotFound) {
		t.Fatalf("Node(unknown) error = %v, want ErrNotFound", err)
	}
	docs, err := s.Documents(ctx(), b.Doc.Digest, Digest("not-a-doc"))
	if err != nil || len(docs) != 1 {
		t.Fatalf("Documents = %+v, %v", docs, err)
	}
	if docs[0].IngestedAt.IsZero() || docs[0].Status() != graph.StatusVerified || docs[0].Source != "d1" {
		t.Fatalf("document = %+v", docs[0])
	}
	st := stats(t, s)
	if st.Nodes != 4 || st.Edges != 3 || st.Documents != 1 || st.NodeKinds[graph.KindModel] != 1 || st.EdgeKinds[graph.TrainedOn] != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func testLookupNormalises(t *testing.T, h Harness) {
	s := open(t, h)
	hex := strings.Repeat("ab", 32)
	b := graph.NewBatch(Doc("n"))
	b.Node(graph.KindFile, "SHA-256:"+strings.ToUpper(hex))
	b.Node(graph.KindModel, "sha256:"+hex) // same key, other kind: another node
	mustApply(t, s, b)
	for _, k := range []string{"sha256:" + hex, "SHA256:" + strings.ToUpper(hex), " sha-256:" + hex} {
		ns, err := s.Lookup(ctx(), k)
		if err != nil || len(ns) != 2 {
			t.Fatalf("Lookup(%q) = %d nodes, %v; want the file and the model", k, len(ns), err)
		}
	}
	if ns, err := s.Lookup(ctx(), "sha256:"+strings.Repeat("cd", 32)); err != nil || len(ns) != 0 {
		t.Fatalf("Lookup(unknown) = %v, %v", ns, err)
	}
	if _, err := s.Lookup(ctx(), "no-scheme"); !errors.Is(err, graph.ErrInvalidQuery) {
		t.Fatalf("Lookup(no-scheme) error = %v, want ErrInvalidQuery", err)
	}
}

func testIdempotent(t *testing.T, h Harness) {
	s := open(t, h)
	r1 := mustApply(t, s, chain())
	before := stats(t, s)
	r2 := mustApply(t, s, chain())
	if r1.Duplicate || !r2.Duplicate {
		t.Fatalf("receipts %+v then %+v: want new then duplicate", r1, r2)
	}
	if r2.NodesCreated+r2.EdgesCreated+r2.NodesTouched+r2.EdgesTouched != 0 {
		t.Fatalf("duplicate receipt reports changes: %+v", r2)
	}
	if after := stats(t, s); !sameStats(before, after) {
		t.Fatalf("stats changed on duplicate: %+v -> %+v", before, after)
	}
	rs, err := s.ApplyAll(ctx(), []*graph.Batch{chain(), chain()})
	if err != nil || len(rs) != 2 || !rs[0].Duplicate || !rs[1].Duplicate {
		t.Fatalf("ApplyAll of duplicates = %+v, %v", rs, err)
	}
}

func testInvalidBatch(t *testing.T, h Harness) {
	s := open(t, h)
	cases := map[string]func(b *graph.Batch){
		"edges[1].kind": func(b *graph.Batch) {
			m := b.Node(graph.KindModel, Digest("m"))
			d := b.Node(graph.KindDataset, Digest("d"))
			b.Edge(m, graph.TrainedOn, d)
			b.Edge(m, graph.EdgeKind("LIKES"), d)
		},
		"nodes[2].keys[0]": func(b *graph.Batch) {
			b.Node(graph.KindModel, Digest("m"))
			b.Nodes = append(b.Nodes, graph.NodeSpec{Kind: graph.KindModel, Keys: []string{"sha256:nothex"}})
		},
		"nodes[1].kind": func(b *graph.Batch) {
			b.Nodes = append(b.Nodes, graph.NodeSpec{Kind: "Spaceship", Keys: []string{"name:x"}})
		},
		"edges[0].to": func(b *graph.Batch) {
			b.Edges = append(b.Edges, graph.EdgeSpec{From: 0, To: 99, Kind: graph.Describes})
		},
		"attribute": func(b *graph.Batch) {
			m := b.Node(graph.KindModel, Digest("m"))
			b.Set(m, "big", strings.Repeat("x", graph.MaxAttrValueLen+1))
		},
	}
	for field, mutate := range cases {
		b := graph.NewBatch(Doc("bad " + field))
		mutate(b)
		_, err := s.Apply(ctx(), b)
		if !errors.Is(err, graph.ErrInvalidBatch) {
			t.Fatalf("%s: error %v, want ErrInvalidBatch", field, err)
		}
		if !strings.Contains(err.Error(), field) || !strings.Contains(err.Error(), "bad "+field) {
			t.Fatalf("%s: error %q does not name the document and the field", field, err)
		}
	}
	if st := stats(t, s); st.Nodes != 0 || st.Edges != 0 || st.Documents != 0 {
		t.Fatalf("invalid batches left a trace: %+v", st)
	}
}

func testFault(t *testing.T, h Harness) {
	s := open(t, h)
	for _, n := range []int{1, 3, 8, 12} { // chain() writes 9 nodes then 8 edges
		_, err := s.Apply(graph.WithFault(ctx(), n), chain())
		if !errors.Is(err, graph.ErrInjectedFault) {
			t.Fatalf("fault after %d writes: error %v, want ErrInjectedFault", n, err)
		}
		if st := stats(t, s); st.Nodes != 0 || st.Edges != 0 || st.Documents != 0 {
			t.Fatalf("fault after %d writes left %+v", n, st)
		}
		if ns, err := s.Lookup(ctx(), Digest("raw")); err != nil || len(ns) != 0 {
			t.Fatalf("fault after %d writes: node visible: %v %v", n, ns, err)
		}
		if docs, err := s.Documents(ctx(), chain().Doc.Digest); err != nil || len(docs) != 0 {
			t.Fatalf("fault after %d writes: document visible: %v %v", n, docs, err)
		}
	}
	// The failed attempts were not remembered as done.
	if r := mustApply(t, s, chain()); r.Duplicate || r.NodesCreated != 9 {
		t.Fatalf("apply after faults = %+v, want 9 nodes created", r)
	}
}

func testEvidenceMerges(t *testing.T, h Harness) {
	s := open(t, h)
	mk := func(name, license, split string, sig graph.Status) *graph.Batch {
		var sigs []graph.Signature
		if sig != graph.StatusUnsigned {
			sigs = []graph.Signature{{Method: "key", KeyID: name, Status: sig}}
		}
		b := graph.NewBatch(Doc(name, sigs...))
		m := b.Node(graph.KindModel, Digest("m"))
		d := b.Node(graph.KindDataset, Digest("d"))
		b.Set(m, "license", license)
		b.Edge(m, graph.TrainedOn, d, "split", split)
		return b
	}
	a := mk("card", "mit", "train", graph.StatusUnsigned)
	c := mk("provenance", "apache-2.0", "train", graph.StatusVerified)
	mustApply(t, s, a)
	r := mustApply(t, s, c)
	if r.NodesTouched < 2 || r.EdgesTouched != 1 || r.EdgesCreated != 1 { // SIGNED_BY is new
		t.Fatalf("receipt %+v: want the model, dataset and TRAINED_ON edge touched", r)
	}
	m := one(t, s, Digest("m"))
	if got := m.AttrValues("license"); !slices.Equal(got, []string{"apache-2.0", "mit"}) {
		t.Fatalf("license claims = %v, want both kept", got)
	}
	for _, at := range m.Attrs {
		want := a.Doc.Digest
		if at.Value == "apache-2.0" {
			want = c.Doc.Digest
		}
		if !slices.Equal(at.Docs, []string{want}) {
			t.Fatalf("claim %s=%s evidence %v, want [%s]", at.Name, at.Value, at.Docs, want)
		}
	}
	wantDocs := []string{a.Doc.Digest, c.Doc.Digest}
	slices.Sort(wantDocs)
	if !slices.Equal(m.Docs, wantDocs) {
		t.Fatalf("model evidence %v, want %v", m.Docs, wantDocs)
	}
	es, err := s.Edges(ctx(), m.ID, graph.Out, graph.TrainedOn)
	if err != nil || len(es) != 1 {
		t.Fatalf("TRAINED_ON edges = %+v, %v", es, err)
	}
	if !slices.Equal(es[0].Docs, wantDocs) || len(es[0].Attrs) != 1 || !sameSet(es[0].Attrs[0].Docs, wantDocs) {
		t.Fatalf("merged edge = %+v, want one split claim backed by both documents", es[0])
	}
	docs, err := s.Documents(ctx(), es[0].Docs...)
	if err != nil || len(docs) != 2 {
		t.Fatalf("evidence documents = %v, %v", docs, err)
	}
	best := graph.StatusFailed
	for _, d := range docs {
		if d.Status().Rank() > best.Rank() {
			best = d.Status()
		}
	}
	if best != graph.StatusVerified {
		t.Fatalf("strongest evidence %s, want verified", best)
	}
}

func testKeyMerge(t *testing.T, h Harness) {
	s := open(t, h)
	b1 := graph.NewBatch(Doc("k1"))
	b1.Node(graph.KindModel, Digest("x"))
	b1.Node(graph.KindModel, Digest("y"))
	mustApply(t, s, b1)
	b2 := graph.NewBatch(Doc("k2"))
	b2.Node(graph.KindModel, graph.NameKey("foo"), Digest("x"))
	mustApply(t, s, b2)
	x := one(t, s, graph.NameKey("foo"))
	if x.ID != graph.NodeIDFor(graph.KindModel, []string{Digest("x"), graph.NameKey("foo")}) || !sameSet(x.Keys, []string{Digest("x"), graph.NameKey("foo")}) {
		t.Fatalf("name:foo resolved to %+v, want the node of x with both keys", x)
	}
	if !slices.Equal(x.KeyDocsOf(Digest("x")), sorted(b1.Doc.Digest, b2.Doc.Digest)) || !slices.Equal(x.KeyDocsOf(graph.NameKey("foo")), []string{b2.Doc.Digest}) {
		t.Fatalf("key evidence of x: %+v", x.KeyDocs)
	}
	xID, yID := x.ID, one(t, s, Digest("y")).ID
	// A spec whose keys belong to two nodes joins them: one node with every
	// key, whose id is the smallest id of its keys.
	b3 := graph.NewBatch(Doc("k3"))
	b3.Node(graph.KindModel, graph.NameKey("foo"), Digest("y"), graph.NameKey("bar"))
	r := mustApply(t, s, b3)
	all := []string{Digest("x"), Digest("y"), graph.NameKey("foo"), graph.NameKey("bar")}
	want := graph.NodeIDFor(graph.KindModel, all)
	m := one(t, s, graph.NameKey("bar"))
	if m.ID != want || !sameSet(m.Keys, all) || one(t, s, Digest("y")).ID != want || one(t, s, Digest("x")).ID != want {
		t.Fatalf("after the joining spec: %+v, want one node %s with keys %v", m, want, all)
	}
	var absorbed []graph.NodeID
	for _, id := range []graph.NodeID{xID, yID} {
		if id != want {
			absorbed = append(absorbed, id)
		}
	}
	slices.Sort(absorbed)
	if len(r.Merges) != 1 || r.Merges[0].Into != want || !slices.Equal(r.Merges[0].Absorbed, absorbed) || r.Merges[0].Kind != graph.KindModel {
		t.Fatalf("receipt merges %+v, want %v into %s", r.Merges, absorbed, want)
	}
	if len(r.KeysNotAttached) != 0 {
		t.Fatalf("keys not attached: %+v", r.KeysNotAttached)
	}
	wantDocs := sorted(b1.Doc.Digest, b2.Doc.Digest, b3.Doc.Digest)
	if !slices.Equal(m.Docs, wantDocs) {
		t.Fatalf("merged evidence %v, want %v", m.Docs, wantDocs)
	}
	for key, docs := range map[string][]string{
		Digest("x"):          sorted(b1.Doc.Digest, b2.Doc.Digest),
		Digest("y"):          sorted(b1.Doc.Digest, b3.Doc.Digest),
		graph.NameKey("foo"): sorted(b2.Doc.Digest, b3.Doc.Digest),
		graph.NameKey("bar"): {b3.Doc.Digest},
	} {
		if got := m.KeyDocsOf(key); !slices.Equal(got, docs) {
			t.Fatalf("evidence of key %s: %v, want %v", key, got, docs)
		}
	}
	checkKeyDocs(t, m)
	// Absorbed ids are aliases.
	for _, id := range absorbed {
		got, err := s.Node(ctx(), id)
		if err != nil || got.ID != want {
			t.Fatalf("Node(absorbed %s) = %s, %v; want the survivor %s", id, got.ID, err, want)
		}
	}
	if st := stats(t, s); st.NodeKinds[graph.KindModel] != 1 {
		t.Fatalf("%d models, want 1", st.NodeKinds[graph.KindModel])
	}
	// Inside one document: two specs, then a spec naming both keys. The
	// document says they are one thing; the store makes them one node and
	// the edge between the first two a loop.
	b5 := graph.NewBatch(Doc("k5"))
	p := b5.Node(graph.KindModel, Digest("p"))
	q := b5.Node(graph.KindModel, Digest("q"))
	b5.Edge(p, graph.DerivedFrom, q)
	if j := b5.Node(graph.KindModel, Digest("q"), Digest("p")); j != q {
		t.Fatalf("Node(q, p) = %d, want %d (the spec of q)", j, q)
	}
	mustApply(t, s, b5)
	pq := one(t, s, Digest("p"))
	if one(t, s, Digest("q")).ID != pq.ID || pq.ID != graph.NodeIDFor(graph.KindModel, []string{Digest("p"), Digest("q")}) {
		t.Fatalf("a join inside one document was lost: %+v", pq)
	}
	if es, err := s.Edges(ctx(), pq.ID, graph.Out); err != nil || len(es) != 1 || es[0].To != pq.ID {
		t.Fatalf("edges of the joined node: %+v %v", es, err)
	}
	checkKeyDocs(t, pq)
	// Another kind is another node: a File with x's digest is not merged.
	b4 := graph.NewBatch(Doc("k4"))
	b4.Node(graph.KindFile, Digest("x"), graph.NameKey("bar"))
	if r := mustApply(t, s, b4); len(r.Merges) != 0 || r.NodesCreated != 2 {
		t.Fatalf("other kind: receipt %+v", r)
	}
}

// checkKeyDocs asserts the shape of Node.KeyDocs: one entry per key, in key
// order, each naming at least one of the node's documents.
func checkKeyDocs(t *testing.T, n graph.Node) {
	t.Helper()
	if len(n.KeyDocs) != len(n.Keys) {
		t.Fatalf("node %s: %d keys but %d key claims", n.ID, len(n.Keys), len(n.KeyDocs))
	}
	for i, c := range n.KeyDocs {
		if c.Key != n.Keys[i] || len(c.Docs) == 0 || !slices.IsSorted(c.Docs) || len(slices.Compact(slices.Clone(c.Docs))) != len(c.Docs) {
			t.Fatalf("node %s: key claim %d %+v does not match key %q", n.ID, i, c, n.Keys[i])
		}
		for _, d := range c.Docs {
			if _, ok := slices.BinarySearch(n.Docs, d); !ok {
				t.Fatalf("node %s: key %s evidence %s is not node evidence", n.ID, c.Key, d)
			}
		}
	}
}

func sorted(ss ...string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}

func reflectEqual(a, b []graph.KeyClaim) bool {
	return slices.EqualFunc(a, b, func(x, y graph.KeyClaim) bool { return x.Key == y.Key && slices.Equal(x.Docs, y.Docs) })
}

// Two nodes with edges merge: edges move to the survivor, an edge both had
// merges its evidence, an edge between them becomes a kept self-loop.
func testMergeEdges(t *testing.T, h Harness) {
	s := open(t, h)
	b1 := graph.NewBatch(Doc("e1"))
	a := b1.Node(graph.KindModel, Digest("a"))
	d := b1.Node(graph.KindDataset, Digest("d"))
	p := b1.Node(graph.KindModel, Digest("parent"))
	b1.Set(a, "license", "mit")
	b1.Edge(a, graph.TrainedOn, d, "split", "train")
	b1.Edge(a, graph.DerivedFrom, p)
	mustApply(t, s, b1)
	b2 := graph.NewBatch(Doc("e2"))
	bb := b2.Node(graph.KindModel, graph.NameKey("acme/b"))
	d2 := b2.Node(graph.KindDataset, Digest("d"))
	c := b2.Node(graph.KindModel, Digest("child"))
	b2.Set(bb, "license", "apache-2.0")
	b2.Edge(bb, graph.TrainedOn, d2, "split", "test")
	b2.Edge(c, graph.DerivedFrom, bb)
	mustApply(t, s, b2)
	b3 := graph.NewBatch(Doc("e3")) // a was derived from parent, which is acme/b
	x := b3.Node(graph.KindModel, Digest("a"))
	y := b3.Node(graph.KindModel, Digest("parent"), graph.NameKey("acme/b"))
	b3.Edge(x, graph.DerivedFrom, y)
	r := mustApply(t, s, b3)
	if len(r.Merges) != 1 || len(r.Merges[0].Absorbed) < 1 {
		t.Fatalf("receipt %+v: want parent and acme/b merged", r)
	}
	parent := one(t, s, graph.NameKey("acme/b"))
	if one(t, s, Digest("parent")).ID != parent.ID || parent.Attr("license") != "apache-2.0" {
		t.Fatalf("merged parent %+v", parent)
	}
	in, err := s.Edges(ctx(), parent.ID, graph.In, graph.DerivedFrom)
	if err != nil || len(in) != 2 {
		t.Fatalf("DERIVED_FROM into the merged parent: %+v %v; want from a and from child", in, err)
	}
	for _, e := range in {
		if e.From == one(t, s, Digest("a")).ID && !slices.Equal(e.Docs, sorted(b1.Doc.Digest, b3.Doc.Digest)) {
			t.Fatalf("a -> parent evidence %v", e.Docs)
		}
	}
	// Now a and the parent are one: the DERIVED_FROM between them is a loop,
	// both TRAINED_ON edges to d merge with both split claims.
	b4 := graph.NewBatch(Doc("e4"))
	b4.Node(graph.KindModel, Digest("a"), graph.NameKey("acme/b"))
	r = mustApply(t, s, b4)
	m := one(t, s, Digest("a"))
	if len(r.Merges) != 1 || !sameSet(m.Keys, []string{Digest("a"), Digest("parent"), graph.NameKey("acme/b")}) {
		t.Fatalf("receipt %+v, node %+v", r, m)
	}
	checkKeyDocs(t, m)
	if got := m.AttrValues("license"); !slices.Equal(got, []string{"apache-2.0", "mit"}) {
		t.Fatalf("licenses %v", got)
	}
	out, err := s.Edges(ctx(), m.ID, graph.Out)
	if err != nil {
		t.Fatal(err)
	}
	var loop, train *graph.Edge
	for i := range out {
		switch out[i].Kind {
		case graph.DerivedFrom:
			loop = &out[i]
		case graph.TrainedOn:
			train = &out[i]
		}
	}
	if len(out) != 2 || loop == nil || loop.To != m.ID || train == nil {
		t.Fatalf("out edges of the merged node: %+v; want one loop and one TRAINED_ON", out)
	}
	if !slices.Equal(loop.Docs, sorted(b1.Doc.Digest, b3.Doc.Digest)) {
		t.Fatalf("loop evidence %v", loop.Docs)
	}
	if !slices.Equal(train.AttrValues("split"), []string{"test", "train"}) || !slices.Equal(train.Docs, sorted(b1.Doc.Digest, b2.Doc.Digest)) {
		t.Fatalf("merged TRAINED_ON %+v", train)
	}
	st := stats(t, s)
	if st.NodeKinds[graph.KindModel] != 2 || st.EdgeKinds[graph.TrainedOn] != 1 || st.EdgeKinds[graph.DerivedFrom] != 2 {
		t.Fatalf("stats %+v: want 2 models (merged, child), 1 TRAINED_ON, 2 DERIVED_FROM", st)
	}
	res, err := s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{one(t, s, Digest("child")).ID}, Direction: graph.Upstream})
	if err != nil || len(reached(res)) != 3 {
		t.Fatalf("upstream of child: %+v %v", res, err)
	}
}

// adapterDocs are the three documents of the LoRA adapter case: its OMS
// signature names the root digest, its hub card the hub id, its
// deployment record both.
func adapterDocs() []*graph.Batch {
	root := Digest("adapter-root")
	hub := "hf://acme/lora-adapter"
	oms := graph.NewBatch(Doc("adapter-oms", graph.Signature{Method: "key", KeyID: "oms-key", Status: graph.StatusVerified}))
	m := oms.Node(graph.KindModel, root)
	f := oms.Node(graph.KindFile, Digest("adapter-weights"))
	oms.Edge(m, graph.Contains, f, "path", "adapter.safetensors")
	oms.Describes(m)
	card := graph.NewBatch(Doc("adapter-card"))
	c := card.Node(graph.KindModel, hub, graph.NameKey("acme/lora-adapter"))
	base := card.Node(graph.KindModel, "hf://acme/base")
	card.Set(c, "license", "apache-2.0")
	card.Edge(c, graph.DerivedFrom, base, "relation", "adapter")
	card.Describes(c)
	dep := graph.NewBatch(Doc("adapter-deploy", graph.Signature{Method: "key", KeyID: "deploy-key", Status: graph.StatusVerified}))
	dm := dep.Node(graph.KindModel, root, hub)
	dd := dep.Node(graph.KindDeployment, "deployment:prod/lora")
	dep.Edge(dm, graph.DeployedAs, dd)
	dep.Describes(dd)
	return []*graph.Batch{oms, card, dep}
}

func testAdapterAnyOrder(t *testing.T, h Harness) {
	var ref string
	for _, order := range [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
		s := open(t, h)
		docs := adapterDocs()
		for _, i := range order {
			mustApply(t, s, docs[i])
		}
		m := one(t, s, "hf://acme/lora-adapter")
		if one(t, s, Digest("adapter-root")).ID != m.ID {
			t.Fatalf("order %v: the root digest and the hub id are two nodes", order)
		}
		if !slices.Equal(m.KeyDocsOf(Digest("adapter-root")), sorted(docs[0].Doc.Digest, docs[2].Doc.Digest)) ||
			!slices.Equal(m.KeyDocsOf("hf://acme/lora-adapter"), sorted(docs[1].Doc.Digest, docs[2].Doc.Digest)) ||
			!slices.Equal(m.KeyDocsOf(graph.NameKey("acme/lora-adapter")), []string{docs[1].Doc.Digest}) {
			t.Fatalf("order %v: key evidence %+v", order, m.KeyDocs)
		}
		checkKeyDocs(t, m)
		d := Dump(t, s)
		if ref == "" {
			ref = d
		} else if d != ref {
			t.Fatalf("order %v gives another graph: %s", order, diff(d, ref))
		}
	}
}

// A verified document names a model and its base in two specs; an unsigned
// card claims they are one. KeyDocs of both keys then list the verified
// document, but only Joins tells that the join rests on the card alone.
func testJoins(t *testing.T, h Harness) {
	s := open(t, h)
	slsa := graph.NewBatch(Doc("slsa", graph.Signature{Method: "key", KeyID: "ci", Status: graph.StatusVerified}))
	good := slsa.Node(graph.KindModel, "hf://acme/good", Digest("good"))
	base := slsa.Node(graph.KindModel, Digest("evil"))
	slsa.Edge(good, graph.DerivedFrom, base)
	card := graph.NewBatch(Doc("card"))
	card.Node(graph.KindModel, "hf://acme/good", Digest("evil"))
	mustApply(t, s, slsa)
	mustApply(t, s, card)
	m := one(t, s, Digest("evil"))
	if one(t, s, "hf://acme/good").ID != m.ID {
		t.Fatal("the card's join was not applied")
	}
	both := sorted(slsa.Doc.Digest, card.Doc.Digest)
	if !slices.Equal(m.KeyDocsOf(Digest("evil")), both) || !slices.Equal(m.KeyDocsOf("hf://acme/good"), both) {
		t.Fatalf("key evidence %+v", m.KeyDocs)
	}
	want := []graph.KeyJoin{
		{Keys: sorted(Digest("good"), "hf://acme/good"), Docs: []string{slsa.Doc.Digest}},
		{Keys: sorted(Digest("evil"), "hf://acme/good"), Docs: []string{card.Doc.Digest}},
	}
	slices.SortFunc(want, func(a, b graph.KeyJoin) int { return strings.Compare(graph.JoinID(a.Keys), graph.JoinID(b.Keys)) })
	if len(m.Joins) != 2 || !slices.EqualFunc(m.Joins, want, func(a, b graph.KeyJoin) bool {
		return slices.Equal(a.Keys, b.Keys) && slices.Equal(a.Docs, b.Docs)
	}) {
		t.Fatalf("joins %+v, want %+v", m.Joins, want)
	}
}

// A failure in the middle of a merging document (or of an ApplyAll whose
// documents merge nodes) leaves the graph exactly as it was.
func testFaultMerge(t *testing.T, h Harness) {
	s := open(t, h)
	docs := adapterDocs()
	mustApply(t, s, docs[0])
	mustApply(t, s, docs[1])
	before := Dump(t, s)
	for _, n := range []int{1, 2, 3, 5} {
		if _, err := s.Apply(graph.WithFault(ctx(), n), adapterDocs()[2]); !errors.Is(err, graph.ErrInjectedFault) {
			t.Fatalf("fault after %d writes: %v", n, err)
		}
		if got := Dump(t, s); got != before {
			t.Fatalf("fault after %d writes left a trace: %s", n, diff(got, before))
		}
		if _, err := s.ApplyAll(graph.WithFault(ctx(), n), []*graph.Batch{adapterDocs()[2], chain()}); !errors.Is(err, graph.ErrInjectedFault) {
			t.Fatalf("ApplyAll fault after %d writes: %v", n, err)
		}
		if got := Dump(t, s); got != before {
			t.Fatalf("ApplyAll fault after %d writes left a trace: %s", n, diff(got, before))
		}
	}
	if r := mustApply(t, s, adapterDocs()[2]); len(r.Merges) != 1 {
		t.Fatalf("after the faults the merge is still to do: %+v", r)
	}
	if one(t, s, "hf://acme/lora-adapter").ID != one(t, s, Digest("adapter-root")).ID {
		t.Fatal("not merged")
	}
}

// One ApplyAll: a stored node gains a key, then a later document of the
// same call folds it into another stored node (whose id is smaller), so
// the key attached in this transaction moves again; then a third document
// renames the result. Found by the Neo4j permutation soak.
func testMergeInBulk(t *testing.T, h Harness) {
	s := open(t, h)
	a, k := Digest("bulk-a"), graph.NameKey("bulk-k")
	low := func(than ...string) string {
		for i := 0; ; i++ {
			c := Digest(fmt.Sprint("bulk-low-", i))
			if graph.NewNodeID(graph.KindModel, c) < graph.NodeIDFor(graph.KindModel, than) {
				return c
			}
		}
	}
	b := low(a, k)
	lower := low(a, k, b)
	first := graph.NewBatch(Doc("bulk-1"))
	first.Node(graph.KindModel, a)
	first.Node(graph.KindModel, b)
	mustApply(t, s, first)
	d1 := graph.NewBatch(Doc("bulk-2"))
	d1.Node(graph.KindModel, a, k)
	d2 := graph.NewBatch(Doc("bulk-3"))
	d2.Node(graph.KindModel, k, b)
	d3 := graph.NewBatch(Doc("bulk-4"))
	d3.Node(graph.KindModel, b, lower)
	rs, err := s.ApplyAll(ctx(), []*graph.Batch{d1, d2, d3})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs[1].Merges) != 1 || len(rs[2].Merges) != 1 {
		t.Fatalf("receipts %+v: want a merge in the second and a rename in the third", rs)
	}
	m := one(t, s, k)
	if !sameSet(m.Keys, []string{a, k, b, lower}) || m.ID != graph.NewNodeID(graph.KindModel, lower) {
		t.Fatalf("node %+v", m)
	}
	for _, key := range m.Keys {
		if one(t, s, key).ID != m.ID {
			t.Fatalf("key %s does not lead to the merged node", key)
		}
	}
	checkKeyDocs(t, m)
}

func testKeyLimit(t *testing.T, h Harness) {
	s := open(t, h)
	key := func(i int) string { return fmt.Sprintf("name:big/%03d", i) }
	n, target := 0, graph.MaxKeysPerStoredNode-3
	for d := 0; 1+n < target; d++ {
		b := graph.NewBatch(Doc(fmt.Sprintf("big%d", d)))
		ks := []string{key(0)}
		for len(ks) < graph.MaxKeysPerNode && 1+n < target {
			n++
			ks = append(ks, key(n))
		}
		b.Node(graph.KindModel, ks...)
		if r := mustApply(t, s, b); len(r.KeysNotAttached) != 0 {
			t.Fatalf("under the limit: %+v", r.KeysNotAttached)
		}
	}
	big := one(t, s, key(0))
	if len(big.Keys) != graph.MaxKeysPerStoredNode-3 {
		t.Fatalf("big node has %d keys", len(big.Keys))
	}
	small := graph.NewBatch(Doc("small"))
	small.Node(graph.KindModel, graph.NameKey("small/a"), graph.NameKey("small/b"))
	mustApply(t, s, small)
	// Joining the small node would exceed the limit: it stays apart, and
	// only 3 of the 5 free keys fit. The receipt says so, key by key.
	b := graph.NewBatch(Doc("too many"))
	b.Node(graph.KindModel, key(0), graph.NameKey("small/a"), "name:free/1", "name:free/2", "name:free/3", "name:free/4", "name:free/5")
	r := mustApply(t, s, b)
	if len(r.Merges) != 0 || len(r.KeysNotAttached) != 3 {
		t.Fatalf("receipt %+v: want no merge and 3 keys not attached", r)
	}
	for _, kn := range r.KeysNotAttached {
		if kn.Spec != 1 || kn.Kind != graph.KindModel || kn.Reason == "" || (kn.Key == graph.NameKey("small/a")) != (kn.Owner != "") {
			t.Fatalf("note %+v", kn)
		}
	}
	big = one(t, s, key(0))
	if len(big.Keys) != graph.MaxKeysPerStoredNode || one(t, s, graph.NameKey("small/a")).ID == big.ID {
		t.Fatalf("big node has %d keys", len(big.Keys))
	}
	checkKeyDocs(t, big)
}

func ids(t *testing.T, s graph.Reader, keys ...string) []graph.NodeID {
	t.Helper()
	out := make([]graph.NodeID, len(keys))
	for i, k := range keys {
		out[i] = one(t, s, k).ID
	}
	return out
}

func reached(res graph.TraverseResult) map[graph.NodeID]int {
	m := make(map[graph.NodeID]int, len(res.Steps))
	for _, st := range res.Steps {
		m[st.Node.ID] = st.Depth
	}
	return m
}

func testTraverseLineage(t *testing.T, h Harness) {
	s := open(t, h)
	mustApply(t, s, chain())
	n := ids(t, s, Digest("raw"), Digest("clean"), Digest("base"), Digest("ft"), Digest("quant"), "deployment:prod/api", "deployment:staging/api", Digest("weights"))
	raw, clean, base, ft, quant, prod, staging, weights := n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]
	res, err := s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{raw}, Direction: graph.Downstream})
	if err != nil {
		t.Fatal(err)
	}
	want := map[graph.NodeID]int{raw: 0, clean: 1, base: 2, ft: 3, quant: 4, prod: 5, staging: 5}
	got := reached(res)
	// The Document node describes quant: downstream of quant via DESCRIBES? No:
	// DESCRIBES points doc->quant, so the document is upstream of quant.
	if !sameMap(got, want) {
		t.Fatalf("downstream of raw = %v, want %v", names(s, got), names(s, want))
	}
	if res.Truncated || res.DepthLimited {
		t.Fatalf("unexpected truncation %+v", res)
	}
	path := res.PathTo(prod)
	if len(path) != 5 || path[0].From != clean || path[0].To != raw || path[4].Kind != graph.DeployedAs || path[4].To != prod {
		t.Fatalf("path to prod = %+v", path)
	}
	if path[1].Attr("split") != "train" || len(path[1].Docs) != 1 {
		t.Fatalf("path edges carry no evidence: %+v", path[1])
	}
	// Visiting order is breadth-first and canonical: prod and staging at depth 5
	// in id order.
	last := res.Steps[len(res.Steps)-2:]
	if last[0].Node.ID > last[1].Node.ID {
		t.Fatalf("same-depth steps not in id order: %s, %s", last[0].Node.ID, last[1].Node.ID)
	}
	up, err := s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{prod}, Direction: graph.Upstream})
	if err != nil {
		t.Fatal(err)
	}
	doc := one(t, s, chain().Doc.Digest).ID
	wantUp := map[graph.NodeID]int{prod: 0, quant: 1, ft: 2, doc: 2, base: 3, weights: 3, clean: 4, raw: 5}
	if got := reached(up); !sameMap(got, wantUp) {
		t.Fatalf("upstream of prod = %v, want %v", names(s, got), names(s, wantUp))
	}
	if up.Steps[0].Via != nil || up.Steps[0].Parent != "" {
		t.Fatalf("start step has a parent: %+v", up.Steps[0])
	}
}

func testTraverseFilters(t *testing.T, h Harness) {
	s := open(t, h)
	mustApply(t, s, chain())
	n := ids(t, s, Digest("raw"), Digest("clean"), Digest("base"), Digest("ft"), Digest("quant"), "deployment:prod/api")
	raw, clean, base, ft, quant, prod := n[0], n[1], n[2], n[3], n[4], n[5]
	// Only model lineage edges: from quant upstream through DERIVED_FROM.
	res, err := s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{quant}, Direction: graph.Upstream, EdgeKinds: []graph.EdgeKind{graph.DerivedFrom}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := reached(res), map[graph.NodeID]int{quant: 0, ft: 1, base: 2}; !sameMap(got, want) {
		t.Fatalf("DERIVED_FROM upstream of quant = %v, want %v", names(s, got), names(s, want))
	}
	// Node-kind filter: datasets only; from base upstream.
	res, err = s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{base}, Direction: graph.Upstream, NodeKinds: []graph.NodeKind{graph.KindDataset}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := reached(res), map[graph.NodeID]int{base: 0, clean: 1, raw: 2}; !sameMap(got, want) {
		t.Fatalf("dataset-only upstream of base = %v, want %v", names(s, got), names(s, want))
	}
	// Both directions from ft, depth 1.
	res, err = s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{ft}, Direction: graph.Both, MaxDepth: 1, NodeKinds: []graph.NodeKind{graph.KindModel}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := reached(res), map[graph.NodeID]int{ft: 0, base: 1, quant: 1}; !sameMap(got, want) {
		t.Fatalf("both-ways models around ft = %v, want %v", names(s, got), names(s, want))
	}
	// Out follows raw edge direction: from quant out are ft, prod, staging.
	res, err = s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{quant}, Direction: graph.Out, MaxDepth: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := reached(res); len(got) != 4 || got[prod] != 1 || got[ft] != 1 {
		t.Fatalf("out of quant = %v", names(s, got))
	}
	// Multiple starts.
	res, err = s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{raw, clean}, Direction: graph.Upstream})
	if err != nil || len(res.Steps) != 2 {
		t.Fatalf("upstream of the two datasets = %+v, %v", res.Steps, err)
	}
}

func testTraverseLimits(t *testing.T, h Harness) {
	s := open(t, h)
	mustApply(t, s, chain())
	raw := one(t, s, Digest("raw")).ID
	res, err := s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{raw}, Direction: graph.Downstream, MaxDepth: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != 3 || !res.DepthLimited || res.Truncated {
		t.Fatalf("depth 2: %d steps, depthLimited=%v truncated=%v; want 3, true, false", len(res.Steps), res.DepthLimited, res.Truncated)
	}
	res, err = s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{raw}, Direction: graph.Downstream, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != 3 || !res.Truncated {
		t.Fatalf("limit 2: %d steps, truncated=%v; want start + 2, true", len(res.Steps), res.Truncated)
	}
	res, err = s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{raw}, Direction: graph.Downstream, MaxDepth: 5})
	if err != nil || len(res.Steps) != 7 || res.DepthLimited {
		t.Fatalf("depth 5 reaches everything: %d steps, depthLimited=%v, %v", len(res.Steps), res.DepthLimited, err)
	}
}

func testTraverseCycles(t *testing.T, h Harness) {
	s := open(t, h)
	b := graph.NewBatch(Doc("cycle"))
	a := b.Node(graph.KindModel, Digest("a"))
	c := b.Node(graph.KindModel, Digest("b"))
	d := b.Node(graph.KindModel, Digest("c"))
	b.Edge(a, graph.DerivedFrom, c)
	b.Edge(c, graph.DerivedFrom, d)
	b.Edge(d, graph.DerivedFrom, a)
	b.Edge(a, graph.DerivedFrom, a) // self-loop
	mustApply(t, s, b)
	for _, dir := range []graph.Direction{graph.Upstream, graph.Downstream, graph.Both} {
		res, err := s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{one(t, s, Digest("a")).ID}, Direction: dir, NodeKinds: []graph.NodeKind{graph.KindModel}, MaxDepth: graph.MaxTraverseDepth})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Steps) != 3 {
			t.Fatalf("%s around the cycle: %d steps, want 3 (each node once)", dir, len(res.Steps))
		}
	}
}

func testTraverseInvalid(t *testing.T, h Harness) {
	s := open(t, h)
	mustApply(t, s, chain())
	raw := one(t, s, Digest("raw")).ID
	bad := []graph.TraverseRequest{
		{Direction: graph.Upstream},
		{From: []graph.NodeID{"zz"}, Direction: graph.Upstream},
		{From: []graph.NodeID{raw}},
		{From: []graph.NodeID{raw}, Direction: graph.Upstream, MaxDepth: graph.MaxTraverseDepth + 1},
		{From: []graph.NodeID{raw}, Direction: graph.Upstream, Limit: -1},
		{From: []graph.NodeID{raw}, Direction: graph.Upstream, EdgeKinds: []graph.EdgeKind{"NOPE"}},
	}
	for i, req := range bad {
		if _, err := s.Traverse(ctx(), req); !errors.Is(err, graph.ErrInvalidQuery) {
			t.Errorf("request %d: error %v, want ErrInvalidQuery", i, err)
		}
	}
	if _, err := s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{graph.NewNodeID(graph.KindModel, "name:none")}, Direction: graph.Upstream}); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("unknown start: error %v, want ErrNotFound", err)
	}
}

func testNodesPaginate(t *testing.T, h Harness) {
	s := open(t, h)
	b := graph.NewBatch(Doc("many"))
	for i := range 25 {
		b.Node(graph.KindPackage, fmt.Sprintf("pkg:pypi/p%02d@1.0", i))
	}
	b.Node(graph.KindModel, Digest("m"))
	mustApply(t, s, b)
	var all []graph.NodeID
	after := graph.NodeID("")
	for page := 0; ; page++ {
		ns, err := s.Nodes(ctx(), graph.NodeQuery{Kind: graph.KindPackage, After: after, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) == 0 {
			break
		}
		if page > 3 {
			t.Fatal("pagination does not end")
		}
		for _, n := range ns {
			if n.Kind != graph.KindPackage {
				t.Fatalf("listed a %s", n.Kind)
			}
			all = append(all, n.ID)
		}
		after = ns[len(ns)-1].ID
	}
	if len(all) != 25 || !slices.IsSorted(all) || len(slices.Compact(slices.Clone(all))) != 25 {
		t.Fatalf("paged %d packages (sorted=%v), want 25 distinct in id order", len(all), slices.IsSorted(all))
	}
	if _, err := s.Nodes(ctx(), graph.NodeQuery{Kind: "Nope"}); !errors.Is(err, graph.ErrInvalidQuery) {
		t.Fatalf("Nodes(bad kind) error = %v", err)
	}
}

func testApplyAll(t *testing.T, h Harness) {
	s := open(t, h)
	var bs []*graph.Batch
	for i := range 3 {
		b := graph.NewBatch(Doc(fmt.Sprintf("bulk%d", i)))
		m := b.Node(graph.KindModel, Digest(fmt.Sprintf("m%d", i)))
		p := b.Node(graph.KindPackage, "pkg:pypi/torch@2.3.0")
		b.Edge(m, graph.DependsOn, p)
		bs = append(bs, b)
	}
	rs, err := s.ApplyAll(ctx(), bs)
	if err != nil || len(rs) != 3 {
		t.Fatalf("ApplyAll = %+v, %v", rs, err)
	}
	if rs[0].NodesCreated != 3 || rs[1].NodesCreated != 2 || rs[1].NodesTouched != 1 {
		t.Fatalf("receipts %+v: the shared package is created once", rs)
	}
	torch := one(t, s, "pkg:pypi/torch@2.3.0")
	if len(torch.Docs) != 3 {
		t.Fatalf("torch evidence %v, want 3 documents", torch.Docs)
	}
	// One bad batch: nothing of the call is written.
	good := graph.NewBatch(Doc("good"))
	good.Node(graph.KindModel, Digest("good"))
	bad := graph.NewBatch(Doc("bad"))
	bad.Nodes = append(bad.Nodes, graph.NodeSpec{Kind: graph.KindModel})
	before := stats(t, s)
	if _, err := s.ApplyAll(ctx(), []*graph.Batch{good, bad}); !errors.Is(err, graph.ErrInvalidBatch) {
		t.Fatalf("ApplyAll with a bad batch: %v", err)
	}
	if _, err := s.ApplyAll(graph.WithFault(ctx(), 2), []*graph.Batch{good, chain()}); !errors.Is(err, graph.ErrInjectedFault) {
		t.Fatalf("ApplyAll with a fault: %v", err)
	}
	if after := stats(t, s); !sameStats(before, after) {
		t.Fatalf("failed ApplyAll left a trace: %+v -> %+v", before, after)
	}
}

func testReopen(t *testing.T, h Harness) {
	s := open(t, h)
	mustApply(t, s, chain())
	before := stats(t, s)
	raw := one(t, s, Digest("raw")).ID
	res1, err := s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{raw}, Direction: graph.Downstream})
	if err != nil {
		t.Fatal(err)
	}
	s = reopen(t, h, s)
	if after := stats(t, s); !sameStats(before, after) {
		t.Fatalf("stats after reopen %+v, before %+v", after, before)
	}
	res2, err := s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{raw}, Direction: graph.Downstream})
	if err != nil {
		t.Fatal(err)
	}
	if !sameMap(reached(res1), reached(res2)) {
		t.Fatalf("traversal changed across reopen")
	}
	if r := mustApply(t, s, chain()); !r.Duplicate {
		t.Fatalf("document forgotten across reopen: %+v", r)
	}
}

func testConcurrent(t *testing.T, h Harness) {
	s := open(t, h)
	mustApply(t, s, chain())
	raw := one(t, s, Digest("raw")).ID
	const writers, perWriter = 6, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter+writers)
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				b := graph.NewBatch(Doc(fmt.Sprintf("w%d-%d", w, i)))
				m := b.Node(graph.KindModel, Digest(fmt.Sprintf("m%d-%d", w, i)))
				shared := b.Node(graph.KindPackage, "pkg:pypi/numpy@1.26.0")
				b.Edge(m, graph.DependsOn, shared)
				if _, err := s.Apply(ctx(), b); err != nil {
					errs <- err
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range perWriter {
				if _, err := s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{raw}, Direction: graph.Downstream}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	np := one(t, s, "pkg:pypi/numpy@1.26.0")
	if len(np.Docs) != writers*perWriter {
		t.Fatalf("shared package has %d evidence documents, want %d", len(np.Docs), writers*perWriter)
	}
	es, err := s.Edges(ctx(), np.ID, graph.In, graph.DependsOn)
	if err != nil || len(es) != writers*perWriter {
		t.Fatalf("shared package has %d dependents (%v), want %d", len(es), err, writers*perWriter)
	}
	if st := stats(t, s); st.Documents != writers*perWriter+1 {
		t.Fatalf("%d documents, want %d", st.Documents, writers*perWriter+1)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func sameMap(a, b map[graph.NodeID]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func sameStats(a, b graph.Stats) bool {
	if a.Nodes != b.Nodes || a.Edges != b.Edges || a.Documents != b.Documents || len(a.NodeKinds) != len(b.NodeKinds) || len(a.EdgeKinds) != len(b.EdgeKinds) {
		return false
	}
	for k, v := range a.NodeKinds {
		if b.NodeKinds[k] != v {
			return false
		}
	}
	for k, v := range a.EdgeKinds {
		if b.EdgeKinds[k] != v {
			return false
		}
	}
	return true
}

// names renders a reached-set with node keys, for failure messages.
func names(s graph.Reader, m map[graph.NodeID]int) string {
	var parts []string
	for id, d := range m {
		label := string(id)
		if n, err := s.Node(context.Background(), id); err == nil && len(n.Keys) > 0 {
			label = n.Keys[0]
		}
		parts = append(parts, fmt.Sprintf("%s@%d", label, d))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}
