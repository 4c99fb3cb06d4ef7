package neo4j_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/graph/graphtest"
	"github.com/modelgraph/modelgraph/internal/query/querytest"
)

// step is one write of the corpus: a single Apply, or one ApplyAll call.
type step struct {
	bulk    bool
	batches []*graph.Batch
}

func dg(s string) string { return graphtest.Digest(s) }

// corpus builds ~40 documents that exercise every resolution and merge rule
// in one history: a lineage chain, SBOMs sharing packages, names attached
// to existing nodes, a spec whose keys belong to two nodes, conflicting
// claims, duplicates (across calls and inside one ApplyAll), one key under
// two kinds, a cycle with a self-loop, two specs of one batch resolving to
// one node, signatures of every status, advisories, training runs, and
// ApplyAll calls spanning several Neo4j transactions (BulkSize 4).
// Builders run afresh for each backend: Validate normalises in place.
func corpus() []step {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	doc := func(name string, sigs ...graph.Signature) graph.Document {
		d := graphtest.Doc(name, sigs...)
		d.IngestedAt = at // set, so stored documents compare equal
		return d
	}
	verified := graph.Signature{Method: "keyless", Identity: "ci@acme.example", Issuer: "https://token.actions.githubusercontent.com", Status: graph.StatusVerified, LogIndex: 42, IntegratedTime: at}
	failed := graph.Signature{Method: "key", KeyID: "old-key", Status: graph.StatusFailed, Reason: "signature does not match"}
	unverifiable := graph.Signature{Method: "key", KeyID: "unknown-key", Status: graph.StatusUnverifiable, Reason: "no trusted key"}

	lineage := func() *graph.Batch {
		b := graph.NewBatch(doc("lineage", verified))
		raw := b.Node(graph.KindDataset, dg("raw"), graph.NameKey("raw"))
		clean := b.Node(graph.KindDataset, dg("clean"))
		base := b.Node(graph.KindModel, dg("base"), graph.NameKey("acme/base"))
		ft := b.Node(graph.KindModel, dg("ft"))
		quant := b.Node(graph.KindModel, dg("quant"))
		file := b.Node(graph.KindFile, dg("weights"))
		prod := b.Node(graph.KindDeployment, "deployment:prod/api")
		staging := b.Node(graph.KindDeployment, "deployment:staging/api")
		b.Edge(clean, graph.DerivedFrom, raw)
		b.Edge(base, graph.TrainedOn, clean, "split", "train")
		b.Edge(ft, graph.DerivedFrom, base, "relation", "finetune")
		b.Edge(quant, graph.DerivedFrom, ft, "relation", "quantized")
		b.Edge(ft, graph.Contains, file, "path", "model.safetensors")
		b.Edge(quant, graph.DeployedAs, prod)
		b.Edge(quant, graph.DeployedAs, staging)
		b.Set(base, "license", "apache-2.0")
		b.Describes(quant)
		return b
	}
	sbom := func(name, model string, pkgs ...string) *graph.Batch {
		b := graph.NewBatch(doc(name))
		m := b.Node(graph.KindModel, dg(model))
		b.Describes(m)
		for i, p := range pkgs {
			pi := b.Node(graph.KindPackage, p)
			b.Set(pi, "version", p[len(p)-5:])
			b.Edge(m, graph.DependsOn, pi, "scope", []string{"required", "optional"}[i%2])
		}
		return b
	}
	torch, numpy, hf := "pkg:pypi/torch@2.3.0", "pkg:pypi/numpy@1.26.0", "pkg:pypi/transformers@4.41.0"
	var steps []step
	one := func(b *graph.Batch) { steps = append(steps, step{batches: []*graph.Batch{b}}) }
	bulk := func(bs ...*graph.Batch) { steps = append(steps, step{bulk: true, batches: bs}) }

	one(lineage())
	one(sbom("sbom-base", "base", torch, numpy, hf))
	one(sbom("sbom-ft", "ft", torch, "pkg:pypi/peft@0.11.1"))
	one(sbom("sbom-base", "base", torch, numpy, hf)) // duplicate
	one(func() *graph.Batch {                        // package -> package dependencies
		b := graph.NewBatch(doc("sbom-torch"))
		t := b.Node(graph.KindPackage, torch)
		n := b.Node(graph.KindPackage, numpy)
		b.Edge(t, graph.DependsOn, n)
		b.Edge(n, graph.DependsOn, n) // a self-loop
		return b
	}())
	one(func() *graph.Batch { // model card: a conflicting license, a new name on an existing node
		b := graph.NewBatch(doc("card-base"))
		m := b.Node(graph.KindModel, graph.NameKey("acme/base-v1"), dg("base"))
		b.Set(m, "license", "mit")
		b.Set(m, "author", "acme")
		return b
	}())
	one(func() *graph.Batch { // keys of two nodes in one spec: first owned key wins, the others stay
		b := graph.NewBatch(doc("conflict", failed))
		m := b.Node(graph.KindModel, graph.NameKey("acme/new"), graph.NameKey("acme/base"), dg("quant"), graph.NameKey("acme/also-new"))
		b.Set(m, "note", "claims base and quant")
		return b
	}())
	one(func() *graph.Batch { // two specs of one batch that resolve to one stored node
		b := graph.NewBatch(doc("two-names", unverifiable))
		x := b.Node(graph.KindModel, graph.NameKey("acme/base"))
		y := b.Node(graph.KindModel, graph.NameKey("acme/base-v1"))
		d := b.Node(graph.KindDataset, dg("clean"))
		b.Edge(x, graph.TrainedOn, d, "split", "train")
		b.Edge(y, graph.TrainedOn, d, "split", "validation")
		return b
	}())
	one(func() *graph.Batch { // one digest as a File and as a Model
		b := graph.NewBatch(doc("same-key-two-kinds"))
		f := b.Node(graph.KindFile, dg("weights"))
		m := b.Node(graph.KindModel, dg("weights"), graph.NameKey("weights-as-model"))
		b.Edge(m, graph.Contains, f)
		return b
	}())
	one(func() *graph.Batch { // a derivation cycle with a self-loop
		b := graph.NewBatch(doc("cycle"))
		a := b.Node(graph.KindModel, dg("cyc-a"))
		c := b.Node(graph.KindModel, dg("cyc-b"))
		d := b.Node(graph.KindModel, dg("cyc-c"))
		b.Edge(a, graph.DerivedFrom, c, "relation", "merge")
		b.Edge(c, graph.DerivedFrom, d)
		b.Edge(d, graph.DerivedFrom, a)
		b.Edge(a, graph.DerivedFrom, a)
		q := b.Node(graph.KindModel, dg("quant"))
		b.Edge(a, graph.DerivedFrom, q, "relation", "distilled")
		return b
	}())
	one(func() *graph.Batch { // advisories and vulnerabilities
		b := graph.NewBatch(doc("advisory"))
		adv := b.Node(graph.KindAdvisory, "ghsa:GHSA-xxxx-yyyy-zzzz")
		vuln := b.Node(graph.KindVulnerability, "vuln:CVE-2024-0001", "vuln:GHSA-xxxx-yyyy-zzzz")
		b.Set(vuln, "severity", "high")
		b.Edge(adv, graph.Affects, b.Node(graph.KindPackage, torch), "range", "<2.3.1")
		b.Edge(vuln, graph.Affects, b.Node(graph.KindPackage, numpy))
		return b
	}())
	// A bulk call: a training run created by one document and touched by
	// the next in the same transaction, an internal duplicate, and a
	// document that re-asserts an edge with a new claim.
	run := func(name string, split string) *graph.Batch {
		b := graph.NewBatch(doc(name, verified))
		r := b.Node(graph.KindTrainingRun, "run:acme/base/1")
		b.Set(r, "platform", "slurm")
		m := b.Node(graph.KindModel, dg("base"))
		ds := b.Node(graph.KindDataset, dg("clean"))
		b.Edge(m, graph.ProducedBy, r)
		b.Edge(r, graph.Uses, ds, "split", split)
		b.Edge(m, graph.TrainedOn, ds, "split", split)
		return b
	}
	bulk(run("run-1", "train"), run("run-2", "test"), run("run-1", "train"), sbom("sbom-quant", "quant", hf, "pkg:npm/left-pad@1.3.0"))
	// Generated SBOMs over a pool of packages, in bulk calls larger than
	// the Neo4j store's BulkSize (4): several transactions per call, each
	// reading what the previous one wrote.
	pool := make([]string, 12)
	for i := range pool {
		pool[i] = fmt.Sprintf("pkg:pypi/lib%02d@1.0.%d", i, i%3)
	}
	var gen []*graph.Batch
	for i := range 18 {
		var pkgs []string
		for j := range 5 {
			pkgs = append(pkgs, pool[(i*7+j*5)%len(pool)])
		}
		b := sbom(fmt.Sprintf("gen-%02d", i), fmt.Sprintf("gen-model-%02d", i%9), pkgs...)
		if i%3 == 0 { // lineage between generated models
			p := b.Node(graph.KindModel, dg(fmt.Sprintf("gen-model-%02d", (i+4)%9)))
			b.Edge(graph.DocNode+1, graph.DerivedFrom, p, "relation", "adapter")
		}
		if i%4 == 0 {
			dep := b.Node(graph.KindDeployment, fmt.Sprintf("deployment:gen/%d", i/4%2))
			b.Edge(graph.DocNode+1, graph.DeployedAs, dep)
		}
		gen = append(gen, b)
	}
	bulk(gen[:11]...)
	bulk(append(gen[11:], gen[3], sbom("sbom-base", "base", torch, numpy, hf))...) // with duplicates of earlier calls
	one(func() *graph.Batch {                                                      // a document about a document
		b := graph.NewBatch(doc("vsa", verified))
		other := b.Node(graph.KindDocument, graphtest.Doc("lineage").Digest)
		b.Describes(other)
		return b
	}())
	return steps
}

func applySteps(t *testing.T, s graph.Store, steps []step) [][]graph.Receipt {
	t.Helper()
	ctx := context.Background()
	var out [][]graph.Receipt
	for i, st := range steps {
		if st.bulk {
			rs, err := s.ApplyAll(ctx, st.batches)
			if err != nil {
				t.Fatalf("step %d: ApplyAll: %v", i, err)
			}
			out = append(out, rs)
			continue
		}
		r, err := s.Apply(ctx, st.batches[0])
		if err != nil {
			t.Fatalf("step %d: Apply %s: %v", i, st.batches[0].Doc.Source, err)
		}
		out = append(out, []graph.Receipt{r})
	}
	return out
}

// same fails when the two backends disagree, showing both answers.
func same(t *testing.T, what string, bolt, neo any) {
	t.Helper()
	if reflect.DeepEqual(bolt, neo) {
		return
	}
	b, _ := json.MarshalIndent(bolt, "", " ")
	n, _ := json.MarshalIndent(neo, "", " ")
	t.Errorf("%s differs:\nbolt:  %s\nneo4j: %s", what, b, n)
}

// dumpNodes lists every node of every kind through Nodes pagination.
func dumpNodes(t *testing.T, s graph.Reader, page int) []graph.Node {
	t.Helper()
	var all []graph.Node
	for _, kind := range graph.NodeKinds {
		after := graph.NodeID("")
		for {
			ns, err := s.Nodes(context.Background(), graph.NodeQuery{Kind: kind, After: after, Limit: page})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, ns...)
			if len(ns) < page {
				break
			}
			after = ns[len(ns)-1].ID
		}
	}
	return all
}

// TestCrossBackend feeds one history to graph/embedded and to Neo4j and
// requires every read to give the same answer: receipts, the full dump
// (nodes and edges in both directions), lookups, documents, stats and a
// set of traversals (steps, depths, parents and via edges).
func TestCrossBackend(t *testing.T) {
	cfg := config(t)
	cfg.BulkSize = 4
	neo := open(t, cfg)
	bs, err := embedded.Open(filepath.Join(t.TempDir(), "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	ctx := context.Background()

	same(t, "receipts", applySteps(t, bs, corpus()), applySteps(t, neo, corpus()))

	stB, err := bs.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stN, err := neo.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "stats", stB, stN)
	if stB.Documents < 30 || stB.Nodes < 60 {
		t.Fatalf("corpus too small to compare: %+v", stB)
	}

	nodesB, nodesN := dumpNodes(t, bs, 7), dumpNodes(t, neo, 7)
	same(t, "node dump", nodesB, nodesN)
	if int64(len(nodesB)) != stB.Nodes {
		t.Fatalf("dump has %d nodes, stats say %d", len(nodesB), stB.Nodes)
	}
	var keys []string
	var digests []string
	for _, n := range nodesB {
		keys = append(keys, n.Keys...)
		digests = append(digests, n.Docs...)
		for _, dir := range []graph.Direction{graph.Out, graph.In, graph.Both, graph.Upstream, graph.Downstream} {
			eb, err := bs.Edges(ctx, n.ID, dir)
			if err != nil {
				t.Fatal(err)
			}
			en, err := neo.Edges(ctx, n.ID, dir)
			if err != nil {
				t.Fatal(err)
			}
			same(t, fmt.Sprintf("%s edges of %s", dir, n.Keys[0]), eb, en)
		}
		for _, kinds := range [][]graph.EdgeKind{{graph.DependsOn}, {graph.DerivedFrom, graph.TrainedOn}, {"NOPE"}} {
			eb, _ := bs.Edges(ctx, n.ID, graph.Both, kinds...)
			en, err := neo.Edges(ctx, n.ID, graph.Both, kinds...)
			if err != nil {
				t.Fatal(err)
			}
			same(t, fmt.Sprintf("%v edges of %s", kinds, n.Keys[0]), eb, en)
		}
	}
	slices.Sort(keys)
	keys = append(slices.Compact(keys), "name:nobody", "SHA-256:"+dg("raw")[len("sha256:"):], "pkg:pypi/torch@2.3.0 ")
	for _, k := range keys {
		lb, err := bs.Lookup(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := neo.Lookup(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "lookup "+k, lb, ln)
	}
	slices.Sort(digests)
	digests = append(slices.Compact(digests), dg("not a document"), digests[0])
	db, err := bs.Documents(ctx, digests...)
	if err != nil {
		t.Fatal(err)
	}
	dn, err := neo.Documents(ctx, digests...)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "documents", db, dn)

	id := func(key string) graph.NodeID {
		ns, err := bs.Lookup(ctx, key)
		if err != nil || len(ns) == 0 {
			t.Fatalf("lookup %s: %v", key, err)
		}
		return ns[0].ID
	}
	reqs := []graph.TraverseRequest{
		{From: []graph.NodeID{id(dg("raw"))}, Direction: graph.Downstream},
		{From: []graph.NodeID{id("deployment:prod/api")}, Direction: graph.Upstream},
		{From: []graph.NodeID{id("deployment:gen/0"), id("deployment:gen/1")}, Direction: graph.Upstream, MaxDepth: 3},
		{From: []graph.NodeID{id("pkg:pypi/numpy@1.26.0")}, Direction: graph.Downstream},
		{From: []graph.NodeID{id("pkg:pypi/torch@2.3.0")}, Direction: graph.Both, MaxDepth: 2},
		{From: []graph.NodeID{id(dg("base"))}, Direction: graph.Both, NodeKinds: []graph.NodeKind{graph.KindModel, graph.KindDataset}},
		{From: []graph.NodeID{id(dg("cyc-a"))}, Direction: graph.Out, EdgeKinds: []graph.EdgeKind{graph.DerivedFrom}, MaxDepth: graph.MaxTraverseDepth},
		{From: []graph.NodeID{id(dg("cyc-b"))}, Direction: graph.In},
		{From: []graph.NodeID{id("ghsa:GHSA-xxxx-yyyy-zzzz")}, Direction: graph.Downstream},
		{From: []graph.NodeID{id(graphtest.Doc("lineage").Digest)}, Direction: graph.Both, Limit: 5},
		{From: []graph.NodeID{id(dg("gen-model-00")), id(dg("gen-model-05"))}, Direction: graph.Upstream, EdgeKinds: []graph.EdgeKind{graph.DependsOn, graph.DerivedFrom}},
		{From: []graph.NodeID{id("pkg:pypi/lib03@1.0.0")}, Direction: graph.Downstream, MaxDepth: 1},
	}
	for i, req := range reqs {
		rb, err := bs.Traverse(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		rn, err := neo.Traverse(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		same(t, fmt.Sprintf("traversal %d (%+v)", i, req), rb, rn)
		if len(rb.Steps) < 2 {
			t.Errorf("traversal %d reaches nothing: a weak comparison", i)
		}
	}
}

// TestDifferential: the differential corpus (synth chain, identity corpus,
// signed demo chain) one document at a time into graph/embedded and
// shuffled, in ApplyAll chunks, into Neo4j gives identical answers to
// every internal/query question.
func TestDifferential(t *testing.T) {
	cfg := config(t)
	cfg.BulkSize = 4
	neo := open(t, cfg)
	emb, err := embedded.Open(filepath.Join(t.TempDir(), "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := emb.Check(context.Background()); err != nil {
			t.Errorf("embedded invariants: %v", err)
		}
		_ = emb.Close()
	})
	querytest.Run(t, emb, neo)
}
