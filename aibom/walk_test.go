package aibom

import (
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

// The supply chain is the shared walk: every lineage edge out of every
// member is followed (a file's own dependencies, a package's pedigree), and
// the walk stops at kinds that are not members (an advisory).
func TestSupplyChainIsTheSharedWalk(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "g.db"))
	b := graph.NewBatch(doc("walk/sbom", "cyclonedx", "", fixtureTime))
	m := b.Node(graph.KindModel, digest("walk-model"), graph.NameKey("walk/model"))
	f := b.Node(graph.KindFile, digest("walk-file"))
	fileDep := b.Node(graph.KindPackage, "pkg:pypi/only-the-file-needs@1.0")
	pkg := b.Node(graph.KindPackage, "pkg:pypi/patched@1.0")
	ancestor := b.Node(graph.KindPackage, "pkg:pypi/upstream@1.0")
	b.Edge(m, graph.Contains, f, "path", "model.bin")
	b.Edge(f, graph.DependsOn, fileDep)
	b.Edge(m, graph.DependsOn, pkg)
	b.Edge(pkg, graph.DerivedFrom, ancestor, "pedigree", "ancestor")
	b.Describes(m)
	adv := graph.NewBatch(doc("walk/advisory", "advisory", "", fixtureTime))
	ai := adv.Node(graph.KindAdvisory, "advisory:WALK-1")
	adv.Edge(ai, graph.Affects, adv.Node(graph.KindModel, digest("walk-model")))
	adv.Describes(ai)
	apply(t, s, b, adv)

	model := mustOne(t, s, digest("walk-model"))
	ix := indexBOM(t, export(t, s, Request{Model: model.ID}))
	for _, key := range []string{"pkg:pypi/only-the-file-needs@1.0", "pkg:pypi/patched@1.0", "pkg:pypi/upstream@1.0"} {
		if _, ok := ix.comps[bomRef(mustOne(t, s, key))]; !ok {
			t.Errorf("%s is upstream of the model but not in its BOM", key)
		}
	}
	if _, ok := ix.comps[bomRef(mustOne(t, s, "advisory:WALK-1"))]; ok {
		t.Error("the advisory is in the BOM")
	}
	// The walk is the one Traverse gives.
	res, err := s.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{model.ID}, Direction: graph.Upstream,
		EdgeKinds: lineageKinds, NodeKinds: memberKinds, MaxDepth: graph.MaxTraverseDepth, Limit: MaxNodes})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range res.Steps {
		if st.Node.Kind == graph.KindFile {
			continue // files nest in their model
		}
		if _, ok := ix.comps[bomRef(st.Node)]; !ok {
			t.Errorf("%s %s reached by Traverse is not in the BOM", st.Node.Kind, st.Node.ID)
		}
	}
}
