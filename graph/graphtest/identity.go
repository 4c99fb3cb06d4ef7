package graphtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/synth"
)

// The identity property: the same documents in any order, in any grouping
// (Apply or ApplyAll chunks) and from concurrent writers give one graph,
// ids included, and that graph is the one the identity rule defines
// (docs/architecture.md "Node identity"), computed here independently by
// union-find over the keys every spec names together.

// PermutationsEnv raises the number of permutations testPermutations runs
// (make soak sets it to hundreds; go test runs DefaultPermutations).
const PermutationsEnv = "MODELGRAPH_IDENTITY_PERMUTATIONS"

// DefaultPermutations is the count a plain go test runs.
const DefaultPermutations = 24

// permsPerCorpus permutations share one generated corpus.
const permsPerCorpus = 8

// Permuter is implemented by harnesses whose stores are slow to open
// (a server to reset): a plain go test runs Permutations() of them.
type Permuter interface {
	Permutations() int
}

func permutations(h Harness) int {
	if v, err := strconv.Atoi(os.Getenv(PermutationsEnv)); err == nil && v > 0 {
		return v
	}
	if p, ok := h.(Permuter); ok {
		return p.Permutations()
	}
	return DefaultPermutations
}

type artifact struct {
	kind graph.NodeKind
	keys []string
}

// Corpus returns n documents (fresh batches: Validate normalises in place)
// over a small universe of artifacts known by several keys: documents name
// an artifact by random subsets of its keys, so stores must merge nodes as
// later documents join keys; some name one artifact twice by disjoint keys
// (an edge between the two becomes a loop), and sometimes join them in the
// same document; the adapter documents are
// always included. Seeded: the same seed gives the same documents.
func Corpus(seed uint64, n int) []*graph.Batch {
	rng := rand.New(rand.NewPCG(seed, 0x1d))
	var arts []artifact
	for i := range 7 {
		arts = append(arts, artifact{graph.KindModel, []string{
			Digest(fmt.Sprintf("model-%d", i)), fmt.Sprintf("hf://org/model-%d", i), graph.NameKey(fmt.Sprintf("org/model-%d", i))}})
	}
	for i := range 3 {
		arts = append(arts, artifact{graph.KindDataset, []string{
			Digest(fmt.Sprintf("data-%d", i)), fmt.Sprintf("hf://datasets/org/data-%d", i)}})
	}
	for i := range 4 {
		arts = append(arts, artifact{graph.KindPackage, []string{
			fmt.Sprintf("pkg:pypi/lib%d@1.0.0", i), Digest(fmt.Sprintf("lib-%d", i))}})
	}
	for i := range 2 {
		arts = append(arts, artifact{graph.KindDeployment, []string{fmt.Sprintf("deployment:prod/svc-%d", i)}})
	}
	edgeKinds := []graph.EdgeKind{graph.DerivedFrom, graph.TrainedOn, graph.DependsOn, graph.DeployedAs}
	sigs := []graph.Signature{
		{Method: "key", KeyID: "ci", Status: graph.StatusVerified},
		{Method: "key", KeyID: "old", Status: graph.StatusFailed, Reason: "bad signature"},
	}
	out := adapterDocs()
	for d := 0; len(out) < n; d++ {
		var ss []graph.Signature
		if r := rng.IntN(3); r < 2 {
			ss = []graph.Signature{sigs[r]}
		}
		b := graph.NewBatch(Doc(fmt.Sprintf("corpus-%d-%d", seed, d), ss...))
		var specs []int
		for range 1 + rng.IntN(4) {
			a := arts[rng.IntN(len(arts))]
			perm := rng.Perm(len(a.keys))
			k := 1 + rng.IntN(len(a.keys))
			if rng.IntN(2) > 0 {
				k = 1 // often single keys: joins come later, as merges
			}
			var ks []string
			for _, j := range perm[:k] {
				ks = append(ks, a.keys[j])
			}
			i := b.Node(a.kind, ks...)
			if rng.IntN(2) == 0 {
				b.Set(i, "license", []string{"mit", "apache-2.0"}[rng.IntN(2)])
			}
			specs = append(specs, i)
			if k < len(a.keys) && rng.IntN(6) == 0 {
				// The same artifact again by a key this spec lacks: a second
				// spec, joined to the first only by a later document.
				j := b.Node(a.kind, a.keys[perm[k]])
				b.Edge(i, graph.DerivedFrom, j, "relation", "self")
				if rng.IntN(2) == 0 {
					b.Node(a.kind, a.keys[perm[k]], ks[0]) // joined in this document
				}
			}
		}
		for range rng.IntN(4) {
			from, to := specs[rng.IntN(len(specs))], specs[rng.IntN(len(specs))]
			b.Edge(from, edgeKinds[rng.IntN(len(edgeKinds))], to, "note", []string{"", "a", "b"}[rng.IntN(3)])
		}
		b.Describes(specs[0])
		out = append(out, b)
	}
	return out
}

// Expected renders, in Dump's form, the graph the identity rule defines
// for bs: nodes are the classes of keys named together (per kind), with
// the union of their evidence and id NodeIDFor(kind, keys); edges join
// classes. It assumes no node reaches MaxKeysPerStoredNode.
func Expected(bs []*graph.Batch) (string, error) {
	type kk = graph.KindKey
	parent := map[kk]kk{}
	var find func(k kk) kk
	find = func(k kk) kk {
		p, ok := parent[k]
		if !ok || p == k {
			parent[k] = k
			return k
		}
		r := find(p)
		parent[k] = r
		return r
	}
	seen := map[string]bool{}
	var docs []*graph.Batch
	for _, b := range bs {
		if err := b.Validate(); err != nil {
			return "", err
		}
		if seen[b.Doc.Digest] {
			continue
		}
		seen[b.Doc.Digest] = true
		docs = append(docs, b)
		for _, n := range b.Nodes {
			first := find(kk{Kind: n.Kind, Key: n.Keys[0]})
			for _, k := range n.Keys[1:] {
				parent[find(kk{Kind: n.Kind, Key: k})] = first
			}
		}
	}
	nodes := map[kk]*graph.Node{}
	get := func(k kk) *graph.Node {
		r := find(k)
		if nodes[r] == nil {
			nodes[r] = &graph.Node{Kind: k.Kind}
		}
		return nodes[r]
	}
	edges := map[[3]string]*graph.Edge{}
	var ekeys [][3]string
	for _, b := range docs {
		d := b.Doc.Digest
		roots := make([]kk, len(b.Nodes))
		for i, spec := range b.Nodes {
			n := get(kk{Kind: spec.Kind, Key: spec.Keys[0]})
			roots[i] = find(kk{Kind: spec.Kind, Key: spec.Keys[0]})
			for _, k := range spec.Keys {
				n.Keys, _ = graph.AddSorted(n.Keys, k)
				n.KeyDocs, _ = graph.AddKeyDoc(n.KeyDocs, k, d)
			}
			n.Joins, _ = graph.AddJoin(n.Joins, spec.Keys, d)
			n.Attrs, _ = graph.MergeAttrs(n.Attrs, d, spec.Attrs)
			n.Docs, _ = graph.AddSorted(n.Docs, d)
		}
		for _, e := range b.Edges {
			key := [3]string{string(roots[e.From].Kind) + "\x00" + roots[e.From].Key, string(e.Kind), string(roots[e.To].Kind) + "\x00" + roots[e.To].Key}
			ed := edges[key]
			if ed == nil {
				ed = &graph.Edge{}
				edges[key] = ed
				ekeys = append(ekeys, key)
			}
			ed.Attrs, _ = graph.MergeAttrs(ed.Attrs, d, e.Attrs)
			ed.Docs, _ = graph.AddSorted(ed.Docs, d)
		}
	}
	var lines []string
	for _, n := range nodes {
		n.ID = graph.NodeIDFor(n.Kind, n.Keys)
		lines = append(lines, nodeLine(*n))
	}
	idOf := func(s string) graph.NodeID {
		kind, key, _ := strings.Cut(s, "\x00")
		n := nodes[find(kk{Kind: graph.NodeKind(kind), Key: key})]
		return n.ID
	}
	for _, key := range ekeys {
		e := edges[key]
		e.EdgeRef = graph.EdgeRef{From: idOf(key[0]), Kind: graph.EdgeKind(key[1]), To: idOf(key[2])}
		lines = append(lines, edgeLine(*e))
	}
	for _, b := range docs {
		lines = append(lines, docLine(b.Doc))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n"), nil
}

func short(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

func shortAll(ds []string) string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = short(d)
	}
	return strings.Join(out, ",")
}

func attrsText(as []graph.Attr) string {
	var parts []string
	for _, a := range as {
		parts = append(parts, fmt.Sprintf("%s=%s{%s}", a.Name, a.Value, shortAll(a.Docs)))
	}
	return strings.Join(parts, " ")
}

func nodeLine(n graph.Node) string {
	var kd []string
	for _, c := range n.KeyDocs {
		kd = append(kd, fmt.Sprintf("%s{%s}", c.Key, shortAll(c.Docs)))
	}
	var js []string
	for _, j := range n.Joins {
		js = append(js, fmt.Sprintf("%s{%s}", strings.Join(j.Keys, "+"), shortAll(j.Docs)))
	}
	return fmt.Sprintf("node %s %s keys=[%s] attrs=[%s] docs=[%s] keyDocs=[%s] joins=[%s]",
		n.Kind, n.ID, strings.Join(n.Keys, " "), attrsText(n.Attrs), shortAll(n.Docs), strings.Join(kd, " "), strings.Join(js, " "))
}

func edgeLine(e graph.Edge) string {
	return fmt.Sprintf("edge %s -%s-> %s attrs=[%s] docs=[%s]", e.From, e.Kind, e.To, attrsText(e.Attrs), shortAll(e.Docs))
}

func docLine(d graph.Document) string {
	return fmt.Sprintf("doc %s %s %s %s", short(d.Digest), d.Type, d.Source, d.Status())
}

// Dump renders everything s holds, canonically (sorted lines): every node
// with its id, keys, claims, evidence and key evidence; every edge by its
// ends' ids with its claims and evidence; every document.
func Dump(t testing.TB, s graph.Reader) string {
	t.Helper()
	c := context.Background()
	var lines []string
	var digests []string
	for _, kind := range graph.NodeKinds {
		after := graph.NodeID("")
		for {
			ns, err := s.Nodes(c, graph.NodeQuery{Kind: kind, After: after, Limit: graph.MaxListLimit})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range ns {
				lines = append(lines, nodeLine(n))
				digests = append(digests, n.Docs...)
				es, err := s.Edges(c, n.ID, graph.Out)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range es {
					lines = append(lines, edgeLine(e))
				}
			}
			if len(ns) < graph.MaxListLimit {
				break
			}
			after = ns[len(ns)-1].ID
		}
	}
	slices.Sort(digests)
	ds, err := s.Documents(c, slices.Compact(digests)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		lines = append(lines, docLine(d))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// diff names the first line where two dumps differ.
func diff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n got:  %s\n want: %s\n(%d lines, want %d)", i, a, b, len(g), len(w))
		}
	}
	return "same"
}

// Ingest modes of testPermutations.
const (
	modeApply      = iota // one Apply per document
	modeChunks            // ApplyAll over random chunks (merges inside a transaction)
	modeConcurrent        // four goroutines calling Apply
	modes
)

// ApplyIn applies bs to s in the order given, the way mode says (see the
// mode constants), using rng for chunk sizes.
func applyIn(t testing.TB, s graph.Store, bs []*graph.Batch, mode int, rng *rand.Rand) {
	t.Helper()
	c := context.Background()
	switch mode {
	case modeApply:
		for _, b := range bs {
			if _, err := s.Apply(c, b); err != nil {
				t.Fatal(err)
			}
		}
	case modeChunks:
		for len(bs) > 0 {
			n := min(len(bs), 1+rng.IntN(6))
			if _, err := s.ApplyAll(c, bs[:n]); err != nil {
				t.Fatal(err)
			}
			bs = bs[n:]
		}
	case modeConcurrent:
		ch := make(chan *graph.Batch)
		var wg sync.WaitGroup
		errs := make(chan error, len(bs))
		for range 4 {
			wg.Go(func() {
				for b := range ch {
					if _, err := s.Apply(c, b); err != nil {
						errs <- err
					}
				}
			})
		}
		for _, b := range bs {
			ch <- b
		}
		close(ch)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
}

// synthCorpus is a small chain from internal/synth (the generator make
// bench uses) plus the adapter documents.
func synthCorpus(seed uint64) []*graph.Batch {
	c := synth.Generate(synth.Params{Seed: seed + 1, Datasets: 2, Models: 4, FilesPerModel: 2, PackagesPerSBOM: 6,
		PackagePool: 10, CorePackages: 2, PackageDeps: 1, Deployments: 2})
	return append(c.Batches, adapterDocs()...)
}

func testPermutations(t *testing.T, h Harness) {
	n := permutations(h)
	const docs = 18
	corpus := func(seed uint64) []*graph.Batch {
		if seed%3 == 2 {
			return synthCorpus(seed)
		}
		return Corpus(seed, docs)
	}
	wants := map[uint64]string{}
	for i := range n {
		seed := uint64(i / permsPerCorpus)
		if _, ok := wants[seed]; !ok {
			if seed%3 == 2 {
				t.Logf("corpus %d: internal/synth chain", seed)
			}
			w, err := Expected(corpus(seed))
			if err != nil {
				t.Fatal(err)
			}
			wants[seed] = w
		}
		mode := i % modes
		t.Run(fmt.Sprintf("seed%d-perm%d-mode%d", seed, i, mode), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			bs := corpus(seed)
			order := rng.Perm(len(bs))
			shuffled := make([]*graph.Batch, len(bs))
			for j, o := range order {
				shuffled[j] = bs[o]
			}
			if i%5 == 4 {
				shuffled = append(shuffled, corpus(seed)[rng.IntN(len(bs))]) // a duplicate
			}
			s := open(t, h)
			applyIn(t, s, shuffled, mode, rng)
			if got := Dump(t, s); got != wants[seed] {
				t.Fatalf("order %v (mode %d) gives another graph: %s", order, mode, diff(got, wants[seed]))
			}
			for _, kind := range []graph.NodeKind{graph.KindModel, graph.KindDataset, graph.KindPackage} {
				ns, err := s.Nodes(context.Background(), graph.NodeQuery{Kind: kind, Limit: graph.MaxListLimit})
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range ns {
					checkKeyDocs(t, n)
				}
			}
		})
	}
}
