package synth

import (
	"context"
	"slices"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/internal/testserve"
)

func TestDeterministicAndValid(t *testing.T) {
	p := ForNodes(3000)
	a, b := Generate(p), Generate(p)
	if len(a.Batches) != len(b.Batches) || len(a.Batches) == 0 {
		t.Fatalf("batch counts %d vs %d", len(a.Batches), len(b.Batches))
	}
	for i := range a.Batches {
		if err := a.Batches[i].Validate(); err != nil {
			t.Fatal(err)
		}
		if a.Batches[i].Doc.Digest != b.Batches[i].Doc.Digest || len(a.Batches[i].Edges) != len(b.Batches[i].Edges) {
			t.Fatalf("batch %d differs between runs with the same seed", i)
		}
	}
	p.Seed = 2
	c := Generate(p)
	same := true
	for i := range min(len(a.Batches), len(c.Batches)) {
		if len(a.Batches[i].Edges) != len(c.Batches[i].Edges) {
			same = false
		}
	}
	if same {
		t.Fatal("another seed gave the same chain")
	}
}

func openStore(t *testing.T) *embedded.Store {
	t.Helper()
	return testserve.Embedded(t)
}

// ForNodes promises about n nodes and 5n edges: the benchmarks' sizes
// (10k, 100k, 1M nodes / 5M edges) rest on it.
// Load writes every document of the chain, the last partial chunk too,
// and returns the chain's handles.
func TestLoadWritesEveryDocument(t *testing.T) {
	p := ForNodes(3000)
	want := Generate(p)
	if len(want.Batches)%loadChunk == 0 {
		t.Fatalf("%d documents: pick a size that leaves a partial chunk", len(want.Batches))
	}
	s := openStore(t)
	ctx := context.Background()
	got, err := Load(ctx, s, p)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != int64(len(want.Batches)) {
		t.Errorf("%d documents stored, want %d", st.Documents, len(want.Batches))
	}
	if !slices.Equal(got.Datasets, want.Datasets) || !slices.Equal(got.Models, want.Models) || !slices.Equal(got.Deployments, want.Deployments) {
		t.Error("Load's handles differ from Generate's")
	}
}

func TestForNodesSize(t *testing.T) {
	const n = 20_000
	s := openStore(t)
	ctx := context.Background()
	if _, err := Load(ctx, s, ForNodes(n)); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ForNodes(%d): %d nodes, %d edges, %d documents", n, st.Nodes, st.Edges, st.Documents)
	if st.Nodes < n*85/100 || st.Nodes > n*115/100 {
		t.Errorf("%d nodes, want %d ±15%%", st.Nodes, n)
	}
	if ratio := float64(st.Edges) / float64(st.Nodes); ratio < 4.5 || ratio > 5.5 {
		t.Errorf("%.2f edges per node, want about 5", ratio)
	}
	// The realism the benchmarks depend on: core packages in most SBOMs,
	// fine-tune chains, deployments reachable from datasets.
	for _, k := range []graph.NodeKind{graph.KindModel, graph.KindDataset, graph.KindFile, graph.KindPackage, graph.KindDeployment, graph.KindTrainingRun} {
		if st.NodeKinds[k] == 0 {
			t.Errorf("no %s nodes", k)
		}
	}
	for _, k := range []graph.EdgeKind{graph.TrainedOn, graph.DerivedFrom, graph.Contains, graph.DeployedAs, graph.DependsOn, graph.ProducedBy, graph.Uses} {
		if st.EdgeKinds[k] == 0 {
			t.Errorf("no %s edges", k)
		}
	}
}

func TestPlanShape(t *testing.T) {
	pl, err := NewPlan(ForNodes(30_000))
	if err != nil {
		t.Fatal(err)
	}
	withCore := 0
	for _, m := range pl.Models {
		if slices.Contains(m.Packages, 0) {
			withCore++
		}
		if len(m.Packages) != len(uniq(m.Packages)) {
			t.Fatalf("model %s: repeated packages", m.Name)
		}
	}
	if frac := float64(withCore) / float64(len(pl.Models)); frac < 0.8 || frac > 0.97 {
		t.Errorf("%.2f of SBOMs contain the first core package, want about 0.9", frac)
	}
	longest := 0
	for i := range pl.Models {
		d := 0
		for j := i; pl.Models[j].Parent >= 0; j = pl.Models[j].Parent {
			d++
		}
		longest = max(longest, d)
	}
	if longest < 5 {
		t.Errorf("longest derivation chain is %d models, want fine-tune lineages of at least 5", longest)
	}
}

func uniq(s []int32) []int32 {
	c := slices.Clone(s)
	slices.Sort(c)
	return slices.Compact(c)
}

func TestValidateParams(t *testing.T) {
	for _, p := range []Params{
		{},
		{Datasets: 1, Models: 1, PackagesPerSBOM: 3},
		{Datasets: 1, Models: 1, PackagePool: 2, CorePackages: 3},
		{Datasets: 1, Models: 1, FilesPerModel: -1},
	} {
		if _, err := NewPlan(p); err == nil {
			t.Errorf("NewPlan(%+v) accepted", p)
		}
	}
}
