package aibom

import (
	"fmt"
	"io"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
)

const benchPackages = 5000

// benchGraph stores a model linked to an SBOM of packages (each package
// depending on up to three others), with 64 files, three datasets (one
// derived from another), a three-model base chain, a training run and a
// verified signature.
func benchGraph(b testing.TB, packages int) (graph.Store, graph.NodeID) {
	b.Helper()
	s := openStore(b, filepath.Join(b.TempDir(), "g.db"))

	oms := graph.NewBatch(doc("bench/model.sig", "oms", "https://model_signing/signature/v1.0", fixtureTime,
		graph.Signature{Method: "key", KeyID: "bench", Status: graph.StatusVerified}))
	m := oms.Node(graph.KindModel, digest("bench-model"), graph.NameKey("bench/model"))
	for i := range 64 {
		oms.Edge(m, graph.Contains, oms.Node(graph.KindFile, "sha256:"+hexOf(fmt.Sprint("file", i), 64)), "path", fmt.Sprintf("shard-%05d.safetensors", i))
	}
	oms.Describes(m)

	lin := graph.NewBatch(doc("bench/lineage", "hf-model-card", "", fixtureTime))
	lm := lin.Node(graph.KindModel, digest("bench-model"))
	prev := lm
	for i := range 3 {
		p := lin.Node(graph.KindModel, digest(fmt.Sprint("bench-base", i)), graph.NameKey(fmt.Sprint("bench/base-", i)))
		lin.Edge(prev, graph.DerivedFrom, p, "relation", "finetune")
		prev = p
	}
	raw := lin.Node(graph.KindDataset, digest("bench-raw"))
	for i := range 3 {
		d := lin.Node(graph.KindDataset, digest(fmt.Sprint("bench-data", i)))
		lin.Set(d, "classification", "internal")
		lin.Edge(lm, graph.TrainedOn, d, "split", "train")
		if i == 0 {
			lin.Edge(d, graph.DerivedFrom, raw)
		}
	}
	run := lin.Node(graph.KindTrainingRun, "https://ci.example/runs/bench")
	lin.Edge(lm, graph.ProducedBy, run)
	lin.Edge(run, graph.Uses, raw)
	lin.Describes(lm)

	sbom := graph.NewBatch(doc("bench/sbom", "cyclonedx", "", fixtureTime))
	sm := sbom.Node(graph.KindModel, digest("bench-model"))
	pkgs := make([]int, packages)
	for i := range pkgs {
		pkgs[i] = sbom.Node(graph.KindPackage, fmt.Sprintf("pkg:pypi/pkg-%05d@1.%d.0", i, i%7))
		// The attributes ingest/sbom records for a package.
		sbom.Set(pkgs[i], "purlType", "pypi")
		sbom.Set(pkgs[i], "name", fmt.Sprintf("pkg-%05d", i))
		sbom.Set(pkgs[i], "version", fmt.Sprintf("1.%d.0", i%7))
		sbom.Set(pkgs[i], "componentType", "library")
		sbom.Set(pkgs[i], "license", "MIT")
	}
	for i := range pkgs {
		for j := 3*i + 1; j <= 3*i+3 && j < len(pkgs); j++ {
			sbom.Edge(pkgs[i], graph.DependsOn, pkgs[j])
		}
		if i < 20 {
			sbom.Edge(sm, graph.DependsOn, pkgs[i])
		}
	}
	sbom.Describes(sm)
	apply(b, s, oms, lin, sbom)
	return s, mustOne(b, s, digest("bench-model")).ID
}

// BenchmarkExport exports a model whose SBOM has 5,000 components.
func BenchmarkExport(b *testing.B) {
	s, model := benchGraph(b, benchPackages)
	bom := export(b, s, Request{Model: model})
	if n := len(*bom.Components); n < benchPackages {
		b.Fatalf("%d components, want at least %d", n, benchPackages)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := Export(ctx(), s, Request{Model: model}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/export")
	// CPU time says more than wall time on a shared machine.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/export")
}

// BenchmarkEncodeJSON encodes that BOM as pretty JSON 1.6.
func BenchmarkEncodeJSON(b *testing.B) {
	s, model := benchGraph(b, benchPackages)
	bom := export(b, s, Request{Model: model})
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		if err := Encode(io.Discard, bom, FormatJSON, Spec1_6); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/encode")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/encode")
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEncodeSPDX3 encodes that BOM as SPDX 3.0.1 JSON-LD.
func BenchmarkEncodeSPDX3(b *testing.B) {
	s, model := benchGraph(b, benchPackages)
	bom := export(b, s, Request{Model: model})
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		if err := Encode(io.Discard, bom, FormatSPDX3, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/encode")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/encode")
}
