// Package synth generates realistic, deterministic (seeded) ML supply chains
// as graph batches, for benchmarks and scale tests: datasets with
// derivations, models with fine-tune chains and quantized/adapter variants,
// files, training runs, serving SBOMs drawing on a shared package pool, and
// deployments. The same seed and sizes always give the same batches.
package synth

import (
	"fmt"
	"math/rand/v2"

	"github.com/modelgraph/modelgraph/graph"
)

// Params sizes a supply chain.
type Params struct {
	Seed            uint64
	Datasets        int
	Models          int
	FilesPerModel   int
	PackagesPerSBOM int
	PackagePool     int
	Deployments     int // spread over models (a model may have several)
}

// ForNodes returns parameters giving roughly n nodes and 5n edges.
func ForNodes(n int) Params {
	models := max(n/60, 2)
	return Params{
		Seed:            1,
		Datasets:        max(models/4, 2),
		Models:          models,
		FilesPerModel:   40,
		PackagesPerSBOM: 120,
		PackagePool:     max(n/10, 50),
		Deployments:     max(models/2, 1),
	}
}

// Chain is a generated supply chain.
type Chain struct {
	Batches []*graph.Batch
	// Handles for queries in benchmarks and tests.
	Datasets    []string // dataset keys
	Models      []string // model keys
	Deployments []string // deployment keys
	Packages    []string // package purls
}

// Digest returns a deterministic digest key for a label.
func Digest(label string) string { return graph.SHA256Key([]byte("synth:" + label)) }

// Generate builds the chain for p.
func Generate(p Params) *Chain {
	r := rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))
	c := &Chain{}
	doc := func(label, typ string, signed bool) graph.Document {
		d := graph.Document{Digest: Digest("doc/" + label), Type: typ, Source: label}
		if signed {
			d.Signatures = []graph.Signature{{Method: "key", KeyID: "synth-ci", Status: graph.StatusVerified}}
		}
		return d
	}
	for i := range p.PackagePool {
		c.Packages = append(c.Packages, fmt.Sprintf("pkg:pypi/pkg%d@%d.%d.0", i, i%7, i%13))
	}
	for i := range p.Datasets {
		key := Digest(fmt.Sprintf("dataset/%d", i))
		b := graph.NewBatch(doc(fmt.Sprintf("dataset-%d", i), "dataset-attestation", true))
		d := b.Node(graph.KindDataset, key, graph.NameKey(fmt.Sprintf("dataset-%d", i)))
		b.Set(d, "license", "cc-by-4.0")
		b.Describes(d)
		if i > 0 && r.IntN(10) < 3 {
			src := b.Node(graph.KindDataset, c.Datasets[r.IntN(i)])
			b.Edge(d, graph.DerivedFrom, src)
		}
		c.Datasets = append(c.Datasets, key)
		c.Batches = append(c.Batches, b)
	}
	relations := []string{"finetune", "quantized", "adapter", "merge"}
	for i := range p.Models {
		key := Digest(fmt.Sprintf("model/%d", i))
		name := fmt.Sprintf("org/model-%d", i)
		// OMS-like signature: the model and its files.
		b := graph.NewBatch(doc(fmt.Sprintf("oms-%d", i), "oms", true))
		m := b.Node(graph.KindModel, key, graph.NameKey(name))
		b.Describes(m)
		for f := range p.FilesPerModel {
			fi := b.Node(graph.KindFile, Digest(fmt.Sprintf("model/%d/file/%d", i, f)))
			b.Edge(m, graph.Contains, fi, "path", fmt.Sprintf("shard-%05d.safetensors", f))
		}
		c.Batches = append(c.Batches, b)
		// Training provenance: datasets, parent model, run.
		t := graph.NewBatch(doc(fmt.Sprintf("provenance-%d", i), "slsa-provenance", r.IntN(10) < 8))
		m = t.Node(graph.KindModel, key)
		t.Describes(m)
		run := t.Node(graph.KindTrainingRun, fmt.Sprintf("run:%d", i))
		t.Edge(m, graph.ProducedBy, run)
		for range 1 + r.IntN(3) {
			if len(c.Datasets) == 0 {
				break
			}
			ds := t.Node(graph.KindDataset, c.Datasets[r.IntN(len(c.Datasets))])
			t.Edge(m, graph.TrainedOn, ds, "split", "train")
			t.Edge(run, graph.Uses, ds)
		}
		if i > 0 && r.IntN(10) < 6 {
			// Prefer recent parents so chains get long, like fine-tune lineages.
			parent := i - 1 - r.IntN(min(i, 8))
			pm := t.Node(graph.KindModel, c.Models[parent])
			t.Edge(m, graph.DerivedFrom, pm, "relation", relations[r.IntN(len(relations))])
		}
		c.Batches = append(c.Batches, t)
		// Serving SBOM.
		if p.PackagesPerSBOM > 0 && p.PackagePool > 0 {
			s := graph.NewBatch(doc(fmt.Sprintf("sbom-%d", i), "cyclonedx", false))
			m = s.Node(graph.KindModel, key)
			s.Describes(m)
			for range p.PackagesPerSBOM {
				// Skewed draw: popular packages are shared by many SBOMs.
				j := int(float64(p.PackagePool) * r.Float64() * r.Float64())
				pk := s.Node(graph.KindPackage, c.Packages[j])
				s.Edge(m, graph.DependsOn, pk)
			}
			c.Batches = append(c.Batches, s)
		}
		c.Models = append(c.Models, key)
	}
	envs := []string{"prod", "staging"}
	for i := range p.Deployments {
		key := fmt.Sprintf("deployment:%s/cluster-%d/svc-%d", envs[i%2], i%3, i)
		b := graph.NewBatch(doc(fmt.Sprintf("deploy-%d", i), "deployment-record", true))
		m := b.Node(graph.KindModel, c.Models[r.IntN(len(c.Models))])
		d := b.Node(graph.KindDeployment, key)
		b.Set(d, "environment", envs[i%2])
		b.Edge(m, graph.DeployedAs, d, "deployedAt", "2026-01-01T00:00:00Z")
		b.Describes(d)
		c.Deployments = append(c.Deployments, key)
		c.Batches = append(c.Batches, b)
	}
	return c
}
