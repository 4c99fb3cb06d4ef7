// Package synth generates realistic, deterministic (seeded) ML supply chains
// for benchmarks and scale tests: datasets with derivations, models with
// fine-tune chains and quantized/adapter/merge variants, weight files,
// training runs, serving SBOMs drawing on a shared package pool (a few core
// packages in almost every SBOM, a long tail of rare ones, and dependencies
// between packages), and deployments.
//
// One Plan renders two ways: as graph batches (Generate, Stream; fast, for
// million-node graphs) and as the documents a real deployment ingests
// (Documents: OMS signature bundles, DSSE-signed attestations, CycloneDX
// SBOMs), so ingest can be measured end to end. The same seed and sizes
// always give the same plan, the same batches and the same document
// payloads (signature bytes vary: ECDSA signing is randomised).
package synth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
)

// Params sizes a supply chain.
type Params struct {
	Seed            uint64
	Datasets        int
	Models          int
	FilesPerModel   int // mean; each model has 1..2*FilesPerModel-1 files
	PackagesPerSBOM int // draws from the pool; repeats merge, so slightly fewer distinct
	PackagePool     int
	// CorePackages are the first packages of the pool (numpy, torch...);
	// each SBOM includes each of them with probability 0.9, like the
	// runtime of every ML serving image.
	CorePackages int
	// PackageDeps is the mean number of dependencies of a package on other
	// (more popular) packages; an SBOM records the ones it contains both
	// ends of.
	PackageDeps int
	Deployments int // spread over models (a model may have several)
}

// Per-model figures ForNodes sizes with (see nodesPerModel).
const (
	defaultFiles    = 40
	defaultPackages = 240
	poolPerModel    = 6 // package pool size per model
)

// ForNodes returns parameters giving about n nodes and 5n edges (within a
// few percent for n >= 10,000).
func ForNodes(n int) Params {
	// Nodes per model: the model, its files, its run, its three documents
	// (signature, provenance, SBOM), a quarter dataset and a half deployment
	// with their documents, and its share of the package pool.
	perModel := 1 + defaultFiles + 1 + 3 + 0.25*2 + 0.5*2 + poolPerModel
	models := max(int(float64(n)/perModel), 2)
	return Params{
		Seed:            1,
		Datasets:        max(models/4, 2),
		Models:          models,
		FilesPerModel:   defaultFiles,
		PackagesPerSBOM: defaultPackages,
		PackagePool:     max(models*poolPerModel, 50),
		CorePackages:    8,
		PackageDeps:     2,
		Deployments:     max(models/2, 1),
	}
}

// Validate rejects sizes the generator cannot honour.
func (p Params) Validate() error {
	switch {
	case p.Datasets < 1 || p.Models < 1:
		return fmt.Errorf("synth: need at least one dataset and one model (got %d, %d)", p.Datasets, p.Models)
	case p.FilesPerModel < 0 || p.PackagesPerSBOM < 0 || p.PackagePool < 0 || p.Deployments < 0 || p.PackageDeps < 0 || p.CorePackages < 0:
		return fmt.Errorf("synth: negative size in %+v", p)
	case p.PackagesPerSBOM > 0 && p.PackagePool == 0:
		return fmt.Errorf("synth: SBOMs of %d packages need a package pool", p.PackagesPerSBOM)
	case p.CorePackages > p.PackagePool:
		return fmt.Errorf("synth: %d core packages exceed the pool of %d", p.CorePackages, p.PackagePool)
	case p.PackagesPerSBOM > graph.MaxNodesPerBatch/2:
		return fmt.Errorf("synth: %d packages per SBOM exceed one batch", p.PackagesPerSBOM)
	}
	return nil
}

// DatasetSpec is one planned dataset.
type DatasetSpec struct {
	Key    string // sha256 digest key
	Name   string // synth/dataset-N
	Source int    // index of the dataset it was derived from, or -1
}

// ModelSpec is one planned model.
type ModelSpec struct {
	Key      string // sha256 digest key: the OMS root digest of its files
	Name     string // synth/model-N
	Datasets []int  // trained on
	Parent   int    // index of the parent model, or -1
	Relation string // finetune | quantized | adapter | merge (with a parent)
	Files    int
	Packages []int32 // pool indices in the serving SBOM, distinct, in draw order
	// ProvenanceSigned says whether the training provenance is signed (80%:
	// some pipelines still publish bare statements).
	ProvenanceSigned bool
}

// DeploymentSpec is one planned deployment.
type DeploymentSpec struct {
	Model       int
	Environment string // prod | staging
	Cluster     string
	Service     string
}

// Key is the deployment's node key as the project's deployment predicate
// forms it (environment/cluster/namespace/service).
func (d DeploymentSpec) Key() string {
	return fmt.Sprintf("deployment:%s/%s/%s/%s", d.Environment, d.Cluster, Namespace, d.Service)
}

// Namespace is the namespace every synthetic deployment runs in.
const Namespace = "ml-serving"

// Plan is a generated supply chain before rendering: small (indices and
// names), so even a million-node chain plans in well under a second.
type Plan struct {
	Params      Params
	Packages    []string // purls, most popular first
	PackageDeps [][]int32
	Datasets    []DatasetSpec
	Models      []ModelSpec
	Deployments []DeploymentSpec
}

var coreNames = []string{"numpy", "torch", "transformers", "safetensors", "tokenizers", "huggingface-hub", "pyyaml", "requests", "packaging", "tqdm", "filelock", "regex"}

// NewPlan plans the chain for p.
func NewPlan(p Params) (*Plan, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))
	pl := &Plan{Params: p}
	pl.Packages = make([]string, p.PackagePool)
	for i := range pl.Packages {
		if i < len(coreNames) {
			pl.Packages[i] = fmt.Sprintf("pkg:pypi/%s@%d.%d.%d", coreNames[i], 1+i%3, i%13, i%5)
			continue
		}
		pl.Packages[i] = fmt.Sprintf("pkg:pypi/synth-pkg%d@%d.%d.0", i, i%7, i%13)
	}
	if p.PackageDeps > 0 {
		pl.PackageDeps = make([][]int32, p.PackagePool)
		for i := 1; i < p.PackagePool; i++ {
			n := r.IntN(2*p.PackageDeps + 1)
			for range n {
				// Depend on something more popular (lower index), often a core package.
				j := int32(float64(i) * r.Float64() * r.Float64())
				if !containsInt32(pl.PackageDeps[i], j) {
					pl.PackageDeps[i] = append(pl.PackageDeps[i], j)
				}
			}
		}
	}
	for i := range p.Datasets {
		d := DatasetSpec{Key: Digest(fmt.Sprintf("dataset/%d", i)), Name: fmt.Sprintf("synth/dataset-%d", i), Source: -1}
		if i > 0 && r.IntN(10) < 3 {
			d.Source = r.IntN(i)
		}
		pl.Datasets = append(pl.Datasets, d)
	}
	relations := []string{"finetune", "finetune", "quantized", "adapter", "merge"}
	seen := make([]uint32, p.PackagePool) // model index+1 that last drew a package
	for i := range p.Models {
		m := ModelSpec{Key: Digest(fmt.Sprintf("model/%d", i)), Name: fmt.Sprintf("synth/model-%d", i), Parent: -1}
		for range 1 + r.IntN(3) {
			ds := r.IntN(p.Datasets)
			if !containsInt(m.Datasets, ds) {
				m.Datasets = append(m.Datasets, ds)
			}
		}
		if i > 0 && r.IntN(10) < 6 {
			// Prefer recent parents so chains get long, like fine-tune lineages.
			m.Parent = i - 1 - r.IntN(min(i, 8))
			m.Relation = relations[r.IntN(len(relations))]
		}
		m.ProvenanceSigned = r.IntN(10) < 8
		if p.FilesPerModel > 0 {
			m.Files = 1 + r.IntN(2*p.FilesPerModel-1)
			m.Key = RootDigest(i, m.Files)
		}
		if p.PackagesPerSBOM > 0 {
			mark := uint32(i + 1)
			add := func(j int) {
				if seen[j] != mark {
					seen[j] = mark
					m.Packages = append(m.Packages, int32(j))
				}
			}
			for c := range p.CorePackages {
				if r.IntN(10) < 9 {
					add(c)
				}
			}
			for range p.PackagesPerSBOM - p.CorePackages {
				// Skewed draw: popular packages are shared by many SBOMs.
				add(int(float64(p.PackagePool) * r.Float64() * r.Float64()))
			}
		}
		pl.Models = append(pl.Models, m)
	}
	envs := []string{"prod", "staging"}
	for i := range p.Deployments {
		pl.Deployments = append(pl.Deployments, DeploymentSpec{
			Model:       r.IntN(p.Models),
			Environment: envs[i%2],
			Cluster:     fmt.Sprintf("cluster-%d", i%3),
			Service:     fmt.Sprintf("svc-%d", i),
		})
	}
	return pl, nil
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsInt32(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Chain is a generated supply chain as batches.
type Chain struct {
	Batches []*graph.Batch
	// Handles for queries in benchmarks and tests.
	Datasets    []string // dataset keys
	Models      []string // model keys
	Deployments []string // deployment keys
	Packages    []string // package purls (the whole pool; an undrawn package has no node)
}

// Digest returns a deterministic digest key for a label.
func Digest(label string) string { return graph.SHA256Key([]byte("synth:" + label)) }

// FileDigest is the digest key of a model's file.
func FileDigest(model, file int) string { return Digest(fmt.Sprintf("model/%d/file/%d", model, file)) }

// RootDigest is the digest of a model with files files as OpenSSF Model
// Signing computes it (sha256 over the file digests in manifest order), so
// OMS signatures of the model verify and its digest is its identity
// everywhere else.
func RootDigest(model, files int) string {
	h := sha256.New()
	for f := range files {
		raw, _ := hex.DecodeString(strings.TrimPrefix(FileDigest(model, f), "sha256:"))
		h.Write(raw)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Generate builds the chain for p, keeping every batch. It panics on
// invalid parameters (tests and benchmarks pass literals); use Stream for
// large graphs and errors.
func Generate(p Params) *Chain {
	var bs []*graph.Batch
	c, err := Stream(p, func(b *graph.Batch) error { bs = append(bs, b); return nil })
	if err != nil {
		panic(err)
	}
	c.Batches = bs
	return c
}

// Stream renders the chain for p as batches handed to fn in order (each one
// document), without keeping them: a million-node chain's batches would take
// gigabytes. The returned chain has the handles, no batches.
func Stream(p Params, fn func(*graph.Batch) error) (*Chain, error) {
	pl, err := NewPlan(p)
	if err != nil {
		return nil, err
	}
	return pl.Stream(fn)
}

// loadChunk is how many documents Load writes per ApplyAll call.
const loadChunk = 256

// Load streams the chain for p into w, loadChunk documents per ApplyAll
// call (a group commit each, so a 100k-node chain loads in seconds), and
// returns its handles. Loading is how benchmarks and scale tests set up;
// what they measure comes after.
func Load(ctx context.Context, w graph.Writer, p Params) (*Chain, error) {
	var chunk []*graph.Batch
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		_, err := w.ApplyAll(ctx, chunk)
		chunk = chunk[:0]
		return err
	}
	c, err := Stream(p, func(b *graph.Batch) error {
		chunk = append(chunk, b)
		if len(chunk) == loadChunk {
			return flush()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, flush()
}

// Handles returns the chain's handles without rendering anything.
func (pl *Plan) Handles() *Chain {
	c := &Chain{Packages: pl.Packages}
	for _, d := range pl.Datasets {
		c.Datasets = append(c.Datasets, d.Key)
	}
	for _, m := range pl.Models {
		c.Models = append(c.Models, m.Key)
	}
	for _, d := range pl.Deployments {
		c.Deployments = append(c.Deployments, d.Key())
	}
	return c
}

// Signer names the key the batches' verified signatures claim.
const batchKeyID = "synth-ci"

// Stream renders the plan as batches; see the package function.
func (pl *Plan) Stream(fn func(*graph.Batch) error) (*Chain, error) {
	doc := func(label, typ string, signed bool) graph.Document {
		d := graph.Document{Digest: Digest("doc/" + label), Type: typ, Source: label}
		if signed {
			d.Signatures = []graph.Signature{{Method: "key", KeyID: batchKeyID, Status: graph.StatusVerified}}
		}
		return d
	}
	for i, ds := range pl.Datasets {
		b := graph.NewBatch(doc(fmt.Sprintf("dataset-%d", i), "dataset-attestation", true))
		d := b.Node(graph.KindDataset, ds.Key, graph.NameKey(ds.Name))
		b.Set(d, "license", "cc-by-4.0")
		b.Describes(d)
		if ds.Source >= 0 {
			src := b.Node(graph.KindDataset, pl.Datasets[ds.Source].Key)
			b.Edge(d, graph.DerivedFrom, src)
		}
		if err := fn(b); err != nil {
			return nil, err
		}
	}
	for i, ms := range pl.Models {
		// OMS signature: the model and its files.
		b := graph.NewBatch(doc(fmt.Sprintf("oms-%d", i), "oms", true))
		m := b.Node(graph.KindModel, ms.Key, graph.NameKey(ms.Name))
		b.Describes(m)
		for f := range ms.Files {
			fi := b.Node(graph.KindFile, FileDigest(i, f))
			b.Edge(m, graph.Contains, fi, "path", shardName(f, ms.Files))
		}
		if err := fn(b); err != nil {
			return nil, err
		}
		// Training provenance: datasets, parent model, run.
		t := graph.NewBatch(doc(fmt.Sprintf("provenance-%d", i), "aixv-training", ms.ProvenanceSigned))
		m = t.Node(graph.KindModel, ms.Key)
		t.Describes(m)
		run := t.Node(graph.KindTrainingRun, fmt.Sprintf("run:%d", i))
		t.Edge(m, graph.ProducedBy, run)
		for _, di := range ms.Datasets {
			ds := t.Node(graph.KindDataset, pl.Datasets[di].Key)
			t.Edge(m, graph.TrainedOn, ds, "split", "train")
			t.Edge(run, graph.Uses, ds)
		}
		if ms.Parent >= 0 {
			pm := t.Node(graph.KindModel, pl.Models[ms.Parent].Key)
			t.Edge(m, graph.DerivedFrom, pm, "relation", ms.Relation)
			t.Edge(run, graph.Uses, pm)
		}
		if err := fn(t); err != nil {
			return nil, err
		}
		// Serving SBOM.
		if len(ms.Packages) > 0 {
			s := graph.NewBatch(doc(fmt.Sprintf("sbom-%d", i), "cyclonedx", false))
			m = s.Node(graph.KindModel, ms.Key)
			s.Describes(m)
			at := make(map[int32]int, len(ms.Packages))
			for _, j := range ms.Packages {
				pk := s.Node(graph.KindPackage, pl.Packages[j])
				at[j] = pk
				s.Edge(m, graph.DependsOn, pk)
			}
			for _, j := range ms.Packages {
				for _, d := range pl.depsOf(j) {
					if to, ok := at[d]; ok {
						s.Edge(at[j], graph.DependsOn, to)
					}
				}
			}
			if err := fn(s); err != nil {
				return nil, err
			}
		}
	}
	for i, dp := range pl.Deployments {
		b := graph.NewBatch(doc(fmt.Sprintf("deploy-%d", i), "deployment-attestation", true))
		m := b.Node(graph.KindModel, pl.Models[dp.Model].Key)
		d := b.Node(graph.KindDeployment, dp.Key())
		b.Set(d, "environment", dp.Environment)
		b.Edge(m, graph.DeployedAs, d, "deployedAt", "2026-01-01T00:00:00Z")
		b.Describes(m)
		if err := fn(b); err != nil {
			return nil, err
		}
	}
	return pl.Handles(), nil
}

func (pl *Plan) depsOf(j int32) []int32 {
	if pl.PackageDeps == nil {
		return nil
	}
	return pl.PackageDeps[j]
}

func shardName(f, n int) string {
	return fmt.Sprintf("model-%05d-of-%05d.safetensors", f+1, n)
}
