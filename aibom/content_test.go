package aibom

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/modelgraph/modelgraph/graph"
)

// bomIndex looks into a decoded BOM by bom-ref.
type bomIndex struct {
	bom   *cdx.BOM
	comps map[string]cdx.Component // metadata.component, components and formulation components
	top   map[string]bool          // refs in bom.components
	deps  map[string][]string
}

func indexBOM(t testing.TB, bom *cdx.BOM) bomIndex {
	t.Helper()
	ix := bomIndex{bom: bom, comps: map[string]cdx.Component{}, top: map[string]bool{}, deps: map[string][]string{}}
	add := func(c cdx.Component) {
		if _, dup := ix.comps[c.BOMRef]; dup {
			t.Fatalf("bom-ref %s appears twice", c.BOMRef)
		}
		ix.comps[c.BOMRef] = c
	}
	if bom.Metadata != nil && bom.Metadata.Component != nil {
		add(*bom.Metadata.Component)
	}
	if bom.Components != nil {
		for _, c := range *bom.Components {
			add(c)
			ix.top[c.BOMRef] = true
		}
	}
	if bom.Formulation != nil {
		for _, f := range *bom.Formulation {
			if f.Components != nil {
				for _, c := range *f.Components {
					add(c)
				}
			}
		}
	}
	if bom.Dependencies != nil {
		for _, d := range *bom.Dependencies {
			var on []string
			if d.Dependencies != nil {
				on = *d.Dependencies
			}
			ix.deps[d.Ref] = on
		}
	}
	return ix
}

func decode(t testing.TB, data []byte, f Format) *cdx.BOM {
	t.Helper()
	ff := cdx.BOMFileFormatJSON
	if f == FormatXML {
		ff = cdx.BOMFileFormatXML
	}
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), ff).Decode(&bom); err != nil {
		t.Fatalf("decode %s: %v", f, err)
	}
	return &bom
}

func propsOf(c cdx.Component) map[string][]string {
	m := map[string][]string{}
	if c.Properties != nil {
		for _, p := range *c.Properties {
			m[p.Name] = append(m[p.Name], p.Value)
		}
	}
	return m
}

func sortedSet(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}

// edgeRefs reads, straight from the store, the refs of id's out-edges of
// kind to nodes of peer kind.
func edgeRefs(t testing.TB, r graph.Reader, id graph.NodeID, kind graph.EdgeKind, peer graph.NodeKind) []string {
	t.Helper()
	es, err := r.Edges(ctx(), id, graph.Out, kind)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		n, err := r.Node(ctx(), e.To)
		if err != nil {
			t.Fatal(err)
		}
		if n.Kind == peer {
			out = append(out, ref(peer, e.To))
		}
	}
	return sortedSet(out)
}

// TestLineageRoundTrip decodes exported BOMs with cyclonedx-go and checks
// that each model's datasets, base models and packages, each dataset's
// sources and each package's dependencies come out exactly as the graph
// has them: in dependencies, in the model card and in the pedigree.
//
// The round trip through ingest/sbom (export, ingest as an SBOM, compare
// the edges) is to be wired once that package lands.
func TestLineageRoundTrip(t *testing.T) {
	f := newFixture(t)
	r := f.store
	for _, req := range []Request{{Model: f.q4}, {Model: f.instruct}, {Deployment: f.prod}, {Environment: "staging"}} {
		for _, format := range []Format{FormatJSON, FormatXML} {
			t.Run(fmt.Sprintf("%v/%s", req, format), func(t *testing.T) {
				ix := indexBOM(t, decode(t, encode(t, export(t, r, req), format, Spec1_6), format))
				models := 0
				for ref, c := range ix.comps {
					kind, idStr, _ := strings.Cut(ref, "-")
					id := graph.NodeID(idStr)
					got := sortedSet(ix.deps[ref])
					var want []string
					switch kind {
					case "model":
						models++
						want = append(want, edgeRefs(t, r, id, graph.DerivedFrom, graph.KindModel)...)
						datasets := edgeRefs(t, r, id, graph.TrainedOn, graph.KindDataset)
						want = append(want, datasets...)
						want = append(want, edgeRefs(t, r, id, graph.DependsOn, graph.KindPackage)...)
						// cyclonedx-go cannot read schema-valid XML dataset
						// references (see fixXML), so the card is checked in JSON.
						if format == FormatJSON {
							var card []string
							if c.ModelCard != nil && c.ModelCard.ModelParameters != nil && c.ModelCard.ModelParameters.Datasets != nil {
								for _, d := range *c.ModelCard.ModelParameters.Datasets {
									card = append(card, d.Ref)
								}
							}
							if !slices.Equal(sortedSet(card), datasets) {
								t.Errorf("%s: model card datasets %v, graph TRAINED_ON %v", ref, card, datasets)
							}
						}
						checkPedigree(t, r, graph.KindModel, id, c)
					case "dataset":
						want = edgeRefs(t, r, id, graph.DerivedFrom, graph.KindDataset)
						checkPedigree(t, r, graph.KindDataset, id, c)
					case "package":
						want = edgeRefs(t, r, id, graph.DependsOn, graph.KindPackage)
					default:
						continue
					}
					if !slices.Equal(got, sortedSet(want)) {
						t.Errorf("%s dependsOn %v, graph says %v", ref, got, sortedSet(want))
					}
					if _, ok := ix.deps[ref]; !ok {
						t.Errorf("%s has no dependencies entry", ref)
					}
				}
				if models == 0 {
					t.Fatal("no model in the BOM")
				}
				for from, on := range ix.deps {
					if _, ok := ix.comps[from]; !ok {
						t.Errorf("dependency entry for unknown ref %s", from)
					}
					for _, to := range on {
						if _, ok := ix.comps[to]; !ok {
							t.Errorf("%s depends on unknown ref %s", from, to)
						}
					}
				}
			})
		}
	}
}

// checkPedigree compares a model's pedigree with the graph: each level of
// nested ancestors is exactly the DERIVED_FROM edges of the model above it
// (with their relations), and all levels together are the transitive
// closure computed by the store's own traversal.
func checkPedigree(t *testing.T, r graph.Reader, kind graph.NodeKind, id graph.NodeID, c cdx.Component) {
	t.Helper()
	res, err := r.Traverse(ctx(), graph.TraverseRequest{From: []graph.NodeID{id}, Direction: graph.Out, EdgeKinds: []graph.EdgeKind{graph.DerivedFrom}, NodeKinds: []graph.NodeKind{kind}})
	if err != nil {
		t.Fatal(err)
	}
	var closure []string
	for _, s := range res.Steps[1:] {
		closure = append(closure, ref(kind, s.Node.ID))
	}
	var seen []string
	var walk func(child graph.NodeID, p *cdx.Pedigree)
	walk = func(child graph.NodeID, p *cdx.Pedigree) {
		es, err := r.Edges(ctx(), child, graph.Out, graph.DerivedFrom)
		if err != nil {
			t.Fatal(err)
		}
		wantRel := map[string][]string{}
		for _, e := range es {
			if n, err := r.Node(ctx(), e.To); err == nil && n.Kind == kind {
				wantRel[ref(kind, e.To)] = e.AttrValues("relation")
			}
		}
		var got []string
		if p != nil && p.Ancestors != nil {
			for _, a := range *p.Ancestors {
				if a.BOMRef != "" {
					t.Errorf("%s: ancestor %s repeats a bom-ref", c.BOMRef, a.BOMRef)
				}
				pp := propsOf(a)
				if len(pp[propAncestorRef]) != 1 {
					t.Fatalf("%s: ancestor %q has no %s", c.BOMRef, a.Name, propAncestorRef)
				}
				aref := pp[propAncestorRef][0]
				got = append(got, aref)
				seen = append(seen, aref)
				if !slices.Equal(pp[propRelation], wantRel[aref]) {
					t.Errorf("%s: ancestor %s relation %v, graph %v", c.BOMRef, aref, pp[propRelation], wantRel[aref])
				}
				_, aid, _ := strings.Cut(aref, "-")
				if a.Pedigree != nil {
					walk(graph.NodeID(aid), a.Pedigree)
				}
			}
		}
		var want []string
		for r := range wantRel {
			want = append(want, r)
		}
		if !slices.Equal(sortedSet(got), sortedSet(want)) {
			t.Errorf("%s: ancestors of %s are %v, graph DERIVED_FROM %v", c.BOMRef, child, got, want)
		}
	}
	walk(id, c.Pedigree)
	if !slices.Equal(sortedSet(seen), sortedSet(closure)) {
		t.Errorf("%s: pedigree holds %v, graph DERIVED_FROM closure %v", c.BOMRef, seen, closure)
	}
}

func TestModelExportContent(t *testing.T) {
	f := newFixture(t)
	ix := indexBOM(t, export(t, f.store, Request{Model: f.q4}))
	md := ix.bom.Metadata
	if md.Component == nil || md.Component.BOMRef != ref(graph.KindModel, f.q4) || md.Component.Type != cdx.ComponentTypeMachineLearningModel {
		t.Fatalf("metadata.component = %+v, want the quantized model", md.Component)
	}
	if ix.top[md.Component.BOMRef] {
		t.Fatal("the subject is repeated in components")
	}
	if tools := md.Tools.Components; tools == nil || (*tools)[0].Name != "modelgraph" || (*tools)[0].Version != "0.0.0-test" {
		t.Fatalf("metadata.tools = %+v", md.Tools)
	}
	// Newest evidence: the SBOM (hour 6); the deployment record (hour 7)
	// backs no component of a model export.
	if want := fixtureTime.Add(6 * time.Hour).Format(time.RFC3339); md.Timestamp != want {
		t.Fatalf("timestamp %s, want %s", md.Timestamp, want)
	}
	for _, id := range []graph.NodeID{f.instruct, f.base} {
		if c := ix.comps[ref(graph.KindModel, id)]; !ix.top[c.BOMRef] || c.Type != cdx.ComponentTypeMachineLearningModel {
			t.Fatalf("base model %s missing: %+v", id, c)
		}
	}
	for _, id := range []graph.NodeID{f.clean, f.raw} {
		c := ix.comps[ref(graph.KindDataset, id)]
		if !ix.top[c.BOMRef] || c.Type != cdx.ComponentTypeData || c.Data == nil || (*c.Data)[0].Type != cdx.ComponentDataTypeDataset {
			t.Fatalf("dataset %s missing or not a data component: %+v", id, c)
		}
	}
	for ref := range ix.comps {
		if strings.HasPrefix(ref, "deployment-") {
			t.Fatalf("model export lists deployment %s", ref)
		}
	}

	// Hashes: root digest and per-file digests, blake2b and blake3 mapped.
	q4 := *md.Component
	if q4.Hashes == nil || (*q4.Hashes)[0] != (cdx.Hash{Algorithm: cdx.HashAlgoSHA256, Value: strings.TrimPrefix(digest("instruct-q4"), "sha256:")}) {
		t.Fatalf("q4 hashes %+v", q4.Hashes)
	}
	files := map[string]cdx.HashAlgorithm{}
	for _, c := range []cdx.Component{q4, ix.comps[ref(graph.KindModel, f.instruct)]} {
		for _, fc := range *c.Components {
			if fc.Type != cdx.ComponentTypeFile || fc.Hashes == nil {
				t.Fatalf("file %+v", fc)
			}
			files[fc.Name] = (*fc.Hashes)[0].Algorithm
		}
	}
	want := map[string]cdx.HashAlgorithm{
		"model-q4_k_m.gguf": cdx.HashAlgoBlake3, "config.json": cdx.HashAlgoSHA256,
		"model.safetensors": cdx.HashAlgoSHA256, "tokenizer.json": cdx.HashAlgoBlake2b_512,
	}
	if fmt.Sprint(files) != fmt.Sprint(want) {
		t.Fatalf("files %v, want %v", files, want)
	}

	// Model card and licences.
	in := ix.comps[ref(graph.KindModel, f.instruct)]
	mp := in.ModelCard.ModelParameters
	if mp.Task != "text-generation" || mp.ArchitectureFamily != "llama" || mp.ModelArchitecture != "LlamaForCausalLM" || mp.Approach.Type != cdx.MLModelParametersApproachTypeSupervised {
		t.Fatalf("model parameters %+v", mp)
	}
	if in.Version != "1.1" || (*in.Licenses)[0].License.ID != "Apache-2.0" {
		t.Fatalf("instruct version %q licences %+v", in.Version, in.Licenses)
	}
	if base := ix.comps[ref(graph.KindModel, f.base)]; (*base.Licenses)[0].License.Name != "llama2" || (*base.Licenses)[0].License.ID != "" {
		t.Fatalf("a non-SPDX licence must be a name: %+v", base.Licenses)
	}
	if p := propsOf(in); !slices.Equal(p[propAttr+"base_model_revision"], []string{"main"}) || !slices.Equal(p[propSplit+":"+ref(graph.KindDataset, f.clean)], []string{"train"}) {
		t.Fatalf("claims without a CycloneDX field must stay as properties: %v", p)
	}

	// Dataset governance and contents.
	d := (*ix.comps[ref(graph.KindDataset, f.clean)].Data)[0]
	if d.Classification != "confidential" || !slices.Equal(*d.SensitiveData, []string{"PHI", "PII"}) ||
		(*d.Governance.Owners)[0].Organization.Name != "Acme Clinical Data Governance" ||
		(*d.Governance.Custodians)[0].Organization.Name != "Acme Data Platform" ||
		d.Contents.URL != "hf://datasets/acme/clinical-notes-clean" {
		t.Fatalf("dataset data %+v", d)
	}

	// Packages: runtime ones are components; accelerate, used only in
	// training, belongs to the formulation.
	for _, id := range []graph.NodeID{f.transformers, f.torch} {
		c := ix.comps[ref(graph.KindPackage, id)]
		if !ix.top[c.BOMRef] || !strings.HasPrefix(c.PackageURL, "pkg:pypi/") || c.Version == "" {
			t.Fatalf("package %+v", c)
		}
	}
	if torch := ix.comps[ref(graph.KindPackage, f.torch)]; torch.Name != "torch" || torch.Hashes == nil || torch.Type != cdx.ComponentTypeFramework || torch.Publisher != "PyTorch Foundation" {
		t.Fatalf("torch %+v", torch)
	}
	acc := ref(graph.KindPackage, f.accelerate)
	if _, ok := ix.comps[acc]; !ok || ix.top[acc] {
		t.Fatalf("accelerate must be a formulation component, not a runtime one")
	}

	// Formulation: the training run with its inputs and outputs.
	fl := (*ix.bom.Formulation)[0]
	wf := (*fl.Workflows)[0]
	task := (*wf.Tasks)[0]
	var inputs, outputs []string
	for _, i := range *task.Inputs {
		if i.Resource.Ref != "" {
			inputs = append(inputs, i.Resource.Ref)
		} else {
			inputs = append(inputs, i.Resource.ExternalReference.URL)
		}
	}
	for _, o := range *task.Outputs {
		outputs = append(outputs, o.Resource.Ref)
	}
	wantIn := sortedSet([]string{ref(graph.KindDataset, f.clean), ref(graph.KindModel, f.base), acc, "git+https://github.com/acme/train@4f2a9c1"})
	if wf.BOMRef != ref(graph.KindTrainingRun, f.run) || !slices.Equal(sortedSet(inputs), wantIn) || !slices.Equal(outputs, []string{ref(graph.KindModel, f.instruct)}) {
		t.Fatalf("workflow %s inputs %v outputs %v; want inputs %v", wf.BOMRef, inputs, outputs, wantIn)
	}
	if task.TimeStart != "2026-03-01T08:00:00Z" || task.TimeEnd != "2026-03-02T16:30:00Z" || (*task.TaskTypes)[0] != cdx.TaskTypeBuild {
		t.Fatalf("task %+v", task)
	}
	if p := wfProps(wf); p[propTask] != "train" || p[propBuilder] != "https://ci.acme.example/builders/gpu-a100" {
		t.Fatalf("workflow properties %v", p)
	}
}

func wfProps(w cdx.Workflow) map[string]string {
	m := map[string]string{}
	if w.Properties != nil {
		for _, p := range *w.Properties {
			m[p.Name] = p.Value
		}
	}
	return m
}

// TestSignatures: a verified signature becomes a declarations claim about
// the component its document backs; a failed one is only reported, in
// properties, never claimed.
func TestSignatures(t *testing.T) {
	f := newFixture(t)
	bom := export(t, f.store, Request{Model: f.q4})
	ix := indexBOM(t, bom)
	claims := map[string]string{}
	for _, c := range *bom.Declarations.Claims {
		claims[string(c.Target)] = c.Predicate
		for _, ev := range *c.Evidence {
			if strings.Contains(string(ev), strings.TrimPrefix(f.failedDigest, "sha256:")) {
				t.Fatalf("claim %s rests on the failed document", c.BOMRef)
			}
		}
	}
	want := map[string]string{
		ref(graph.KindModel, f.q4):      "signed by release-bot@acme.example (https://accounts.google.com)",
		ref(graph.KindDataset, f.clean): "signed by key data-team-key",
	}
	if fmt.Sprint(claims) != fmt.Sprint(want) {
		t.Fatalf("claims %v, want %v", claims, want)
	}
	if got := (*bom.Declarations.Attestations)[0]; got.Assessor != assessorRef || len(*(*got.Map)[0].Claims) != 2 {
		t.Fatalf("attestation %+v", got)
	}

	in := ix.comps[ref(graph.KindModel, f.instruct)]
	p := propsOf(in)
	idx := -1
	for i := 0; i < 10; i++ {
		if slices.Equal(p[fmt.Sprintf("%s%d:document:digest", propEvidence, i)], []string{f.failedDigest}) {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("the failed document is not among instruct's evidence: %v", p)
	}
	pre := fmt.Sprintf("%s%d:", propEvidence, idx)
	if p[pre+"verification:status"][0] != "failed" || p[pre+"signature:0:verification:status"][0] != "failed" ||
		p[pre+"signature:0:signer:key"][0] != "3f1c0ffee" || !strings.Contains(p[pre+"signature:0:reason"][0], "does not verify") {
		t.Fatalf("failed signature properties %v", p)
	}
	if !slices.Equal(p[propVerificationFailed], []string{"1"}) || slices.Contains(p[propVerification], "verified") {
		t.Fatalf("instruct summary: %s=%v %s=%v", propVerification, p[propVerification], propVerificationFailed, p[propVerificationFailed])
	}
	var ers []cdx.ExternalReference
	if in.ExternalReferences != nil {
		ers = *in.ExternalReferences
	}
	found := false
	for _, er := range ers {
		if er.URL == docURL(f.failedDigest) {
			found = er.Type == cdx.ERTypeAttestation && strings.Contains(er.Comment, "verification: failed") && (*er.Hashes)[0].Value == strings.TrimPrefix(f.failedDigest, "sha256:")
		}
	}
	if !found {
		t.Fatalf("instruct has no attestation reference to the failed document: %+v", ers)
	}
	if q := propsOf(*bom.Metadata.Component); !slices.Equal(q[propVerification], []string{"verified"}) {
		t.Fatalf("q4 verification %v", q[propVerification])
	}
}

func TestDeploymentExport(t *testing.T) {
	f := newFixture(t)
	ix := indexBOM(t, export(t, f.store, Request{Deployment: f.prod}))
	dep := *ix.bom.Metadata.Component
	if dep.BOMRef != ref(graph.KindDeployment, f.prod) || dep.Type != cdx.ComponentTypeApplication || dep.Name != "chat-api (prod)" {
		t.Fatalf("metadata.component %+v", dep)
	}
	p := propsOf(dep)
	for k, v := range map[string]string{"environment": "production", "cluster": "gke-prod-eu1", "namespace": "ml-serving", "endpoint": "https://chat.acme.example/v1"} {
		if !slices.Equal(p[propDeployment+k], []string{v}) {
			t.Fatalf("deployment %s = %v, want %s", k, p[propDeployment+k], v)
		}
	}
	if st := p[propDeployment+"model:"+ref(graph.KindModel, f.q4)+":status"]; !slices.Equal(st, []string{"active"}) {
		t.Fatalf("deployment status %v: %v", st, p)
	}
	img := mustOne(t, f.store, "pkg:oci/llm-server@sha256%3A"+hexOf("image", 64)+"?repository_url=ghcr.io/acme/llm-server").ID
	wantDeps := sortedSet([]string{ref(graph.KindModel, f.q4), ref(graph.KindPackage, img)})
	if !slices.Equal(sortedSet(ix.deps[dep.BOMRef]), wantDeps) {
		t.Fatalf("deployment depends on %v, want %v", ix.deps[dep.BOMRef], wantDeps)
	}
	if c := ix.comps[ref(graph.KindPackage, img)]; c.Type != cdx.ComponentTypeContainer || c.Name != "llm-server" {
		t.Fatalf("serving image %+v", c)
	}
	if _, ok := ix.comps[ref(graph.KindDeployment, f.staging)]; ok {
		t.Fatal("deployment export lists another deployment")
	}
	if want := fixtureTime.Add(7 * time.Hour).Format(time.RFC3339); ix.bom.Metadata.Timestamp != want {
		t.Fatalf("timestamp %s, want %s (the deployment record)", ix.bom.Metadata.Timestamp, want)
	}
}

func TestEnvironmentExport(t *testing.T) {
	f := newFixture(t)
	for env, dep := range map[string]graph.NodeID{"production": f.prod, "staging": f.staging} {
		ix := indexBOM(t, export(t, f.store, Request{Environment: env}))
		root := *ix.bom.Metadata.Component
		if root.Type != cdx.ComponentTypePlatform || root.Name != env {
			t.Fatalf("%s: metadata.component %+v", env, root)
		}
		if !slices.Equal(ix.deps[root.BOMRef], []string{ref(graph.KindDeployment, dep)}) {
			t.Fatalf("%s: platform depends on %v", env, ix.deps[root.BOMRef])
		}
		if !ix.top[ref(graph.KindDeployment, dep)] {
			t.Fatalf("%s: deployment is not a component", env)
		}
		if env == "staging" {
			p := propsOf(ix.comps[ref(graph.KindDeployment, dep)])
			pre := propDeployment + "model:" + ref(graph.KindModel, f.instruct) + ":"
			if !slices.Equal(p[pre+"status"], []string{"withdrawn"}) || !slices.Equal(p[pre+"undeployed_at"], []string{"2026-03-09T18:00:00Z"}) {
				t.Fatalf("a withdrawn deployment must say so: %v", p)
			}
		}
		n := 0
		for r := range ix.comps {
			if strings.HasPrefix(r, "deployment-") {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%s: %d deployments, want 1", env, n)
		}
	}
}

// TestEnvironmentPages: the environment filter sees every deployment,
// across pages of the store's listing.
func TestEnvironmentPages(t *testing.T) {
	s := openStore(t, t.TempDir()+"/g.db")
	b := graph.NewBatch(doc("many-deployments", "deployment-record", "", fixtureTime))
	m := b.Node(graph.KindModel, digest("m"))
	for i := range graph.MaxListLimit + 5 {
		d := b.Node(graph.KindDeployment, fmt.Sprintf("deployment:%05d", i))
		env := "dev"
		if i%1000 == 999 {
			env = "prod"
		}
		b.Set(d, "environment", env)
		b.Edge(m, graph.DeployedAs, d)
	}
	apply(t, s, b)
	ix := indexBOM(t, export(t, s, Request{Environment: "prod"}))
	if got := len(ix.deps[ix.bom.Metadata.Component.BOMRef]); got != 10 {
		t.Fatalf("prod has %d deployments, want 10", got)
	}
}

func TestSerialAndTimestamp(t *testing.T) {
	f := newFixture(t)
	bom := export(t, f.store, Request{Model: f.q4})
	if !serialPattern.MatchString(bom.SerialNumber) || bom.SerialNumber[23] != '5' || !strings.ContainsRune("89ab", rune(bom.SerialNumber[28])) {
		t.Fatalf("serial %s is not a UUID v5 URN", bom.SerialNumber)
	}
	if p := bom.Metadata.Properties; p == nil || !slices.Contains(*p, cdx.Property{Name: propReproducible, Value: "true"}) {
		t.Fatalf("a derived export must say cdx:reproducible: %+v", p)
	}

	ts := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	fixed := export(t, f.store, Request{Model: f.q4, SerialNumber: "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", Timestamp: ts})
	if fixed.SerialNumber != "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79" || fixed.Metadata.Timestamp != "2030-01-02T02:04:05Z" {
		t.Fatalf("serial %s timestamp %s", fixed.SerialNumber, fixed.Metadata.Timestamp)
	}
	if p := fixed.Metadata.Properties; slices.Contains(*p, cdx.Property{Name: propReproducible, Value: "true"}) {
		t.Fatal("an export with a given serial and time must not claim to be reproducible")
	}

	// New evidence changes the content, so the serial and the timestamp.
	later := fixtureTime.Add(48 * time.Hour)
	b := graph.NewBatch(doc("eval-report.json", "evaluation", "", later))
	b.Describes(b.Node(graph.KindModel, digest("instruct-q4")))
	apply(t, f.store, b)
	next := export(t, f.store, Request{Model: f.q4})
	if next.SerialNumber == bom.SerialNumber || next.Metadata.Timestamp != later.Format(time.RFC3339) {
		t.Fatalf("after new evidence: serial %s (was %s), timestamp %s", next.SerialNumber, bom.SerialNumber, next.Metadata.Timestamp)
	}

	// A model with no evidence at all has no timestamp to derive.
	b = graph.NewBatch(doc("advisory", "advisory", "", later))
	adv := b.Node(graph.KindAdvisory, "vuln:GHSA-xxxx")
	lone := b.Node(graph.KindModel, digest("lone"))
	b.Edge(adv, graph.Affects, lone)
	apply(t, f.store, b)
	bare := export(t, f.store, Request{Model: mustOne(t, f.store, digest("lone")).ID})
	if bare.Metadata.Timestamp != "" {
		t.Fatalf("timestamp %q without evidence", bare.Metadata.Timestamp)
	}
	validateJSON(t, Spec1_6, encode(t, bare, FormatJSON, Spec1_6))
	validateXML(t, Spec1_6, encode(t, bare, FormatXML, Spec1_6))
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t)
	unknown := graph.NewNodeID(graph.KindModel, "name:nope")
	tests := []struct {
		name string
		req  Request
		want error
	}{
		{"nothing", Request{}, ErrInvalidRequest},
		{"two subjects", Request{Model: f.q4, Deployment: f.prod}, ErrInvalidRequest},
		{"unknown model", Request{Model: unknown}, graph.ErrNotFound},
		{"unknown deployment", Request{Deployment: unknown}, graph.ErrNotFound},
		{"not an id", Request{Model: "acme/llm-7b"}, ErrInvalidRequest},
		{"deployment as model", Request{Model: f.prod}, ErrInvalidRequest},
		{"model as deployment", Request{Deployment: f.q4}, ErrInvalidRequest},
		{"unknown environment", Request{Environment: "nowhere"}, graph.ErrNotFound},
		{"long environment", Request{Environment: strings.Repeat("e", MaxEnvironmentLen+1)}, ErrInvalidRequest},
		{"long tool version", Request{Model: f.q4, ToolVersion: strings.Repeat("1", MaxToolVersionLen+1)}, ErrInvalidRequest},
		{"bad serial", Request{Model: f.q4, SerialNumber: "urn:uuid:NOT-A-UUID"}, ErrInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Export(ctx(), f.store, tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := Export(ctx(), nil, Request{Model: f.q4}); err == nil {
		t.Fatal("nil reader accepted")
	}
	bom := export(t, f.store, Request{Model: f.q4})
	for _, c := range []struct {
		f Format
		s Spec
	}{{"yaml", Spec1_6}, {FormatJSON, "1.5"}, {FormatXML, "2.0"}} {
		if err := Encode(&bytes.Buffer{}, bom, c.f, c.s); !errors.Is(err, ErrInvalidRequest) {
			t.Fatalf("Encode(%s, %s) = %v, want ErrInvalidRequest", c.f, c.s, err)
		}
	}
	if err := Encode(&bytes.Buffer{}, nil, FormatJSON, Spec1_6); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("Encode(nil) = %v", err)
	}
	var def, explicit bytes.Buffer
	if err := Encode(&def, bom, "", ""); err != nil || Encode(&explicit, bom, FormatJSON, Spec1_6) != nil || !bytes.Equal(def.Bytes(), explicit.Bytes()) {
		t.Fatalf("the default encoding must be JSON 1.6 (%v)", err)
	}
	if ct, err := ContentType(FormatXML, Spec1_7); err != nil || ct != "application/vnd.cyclonedx+xml; version=1.7" {
		t.Fatalf("ContentType = %q, %v", ct, err)
	}
}

func TestTooLarge(t *testing.T) {
	f := newFixture(t)
	defer func(n int) { maxNodes = n }(maxNodes)
	maxNodes = 5
	if _, err := Export(ctx(), f.store, Request{Model: f.q4}); !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
	maxNodes = 100
	export(t, f.store, Request{Model: f.q4})
}

func TestCancelled(t *testing.T) {
	f := newFixture(t)
	c, cancel := context.WithCancel(ctx())
	cancel()
	if _, err := Export(c, f.store, Request{Environment: "production"}); err == nil {
		t.Fatal("export with a cancelled context succeeded")
	}
}

// TestOddValuesStayValid: keys and claims that fit no CycloneDX field as
// they are (URIs with spaces, unknown digests, unparseable times,
// expressions, markup, odd types) still give a schema-valid BOM, and land
// in properties rather than being dropped.
func TestOddValuesStayValid(t *testing.T) {
	s := openStore(t, t.TempDir()+"/g.db")
	b := graph.NewBatch(doc("odd.json", "weird-type", "", fixtureTime,
		graph.Signature{Method: "certificate", Identity: "CN=<Acme & Co>", Status: graph.StatusUnverifiable, Reason: "no trust root for \"Acme\""}))
	m := b.Node(graph.KindModel, "sha224:"+hexOf("odd", 56), "https://example.com/a model", "hf://acme/odd", graph.NameKey("<odd & model>"))
	b.Set(m, "license", "GPL-2.0-only OR MIT")
	b.Set(m, "approach", "vibes")
	b.Set(m, "version", "1.0\u00e9")
	d := b.Node(graph.KindDataset, "name:data set with spaces")
	b.Set(d, "uri", "not a uri")
	b.Set(d, "pii", "no")
	run := b.Node(graph.KindTrainingRun, "run:odd")
	b.Set(run, "startedOn", "yesterday")
	p := b.Node(graph.KindPackage, "pkg:generic/thing@1?checksum=sha256:abc")
	b.Set(p, "componentType", "spaceship")
	b.Edge(m, graph.TrainedOn, d)
	b.Edge(m, graph.ProducedBy, run)
	b.Edge(m, graph.DependsOn, p)
	b.Edge(m, graph.DerivedFrom, m, "relation", "self") // a self-loop
	b.Describes(m)
	apply(t, s, b)
	id := mustOne(t, s, "hf://acme/odd").ID
	bom := export(t, s, Request{Model: id})
	for _, spec := range []Spec{Spec1_6, Spec1_7} {
		validateJSON(t, spec, encode(t, bom, FormatJSON, spec))
		validateXML(t, spec, encode(t, bom, FormatXML, spec))
	}
	c := *bom.Metadata.Component
	pp := propsOf(c)
	for name, want := range map[string]string{
		propUnmappedDigest:    "sha224:" + hexOf("odd", 56),
		propAttr + "approach": "vibes",
		propKey:               "https://example.com/a model",
		propVerification:      "unverifiable",
		propEvidence + "0:signature:0:signer:identity": "CN=<Acme & Co>",
	} {
		if !slices.Contains(pp[name], want) {
			t.Errorf("property %s = %v, want %q among them", name, pp[name], want)
		}
	}
	if c.Licenses == nil || (*c.Licenses)[0].Expression != "GPL-2.0-only OR MIT" {
		t.Errorf("licences %+v, want the expression", c.Licenses)
	}
	for _, er := range *c.ExternalReferences {
		if strings.Contains(er.URL, " ") {
			t.Errorf("external reference URL %q has a space", er.URL)
		}
	}
	if c.Pedigree != nil {
		t.Errorf("a self-loop made a pedigree: %+v", c.Pedigree)
	}
	ix := indexBOM(t, bom)
	ds := ix.comps[ref(graph.KindDataset, mustOne(t, s, "name:data set with spaces").ID)]
	if data := (*ds.Data)[0]; data.Contents != nil || data.SensitiveData != nil {
		t.Errorf("dataset data %+v: an invalid uri must not be a URL, pii=no is not PII", data)
	}
	if !slices.Contains(propsOf(ds)[propAttr+"uri"], "not a uri") {
		t.Errorf("the rejected uri claim is lost: %v", propsOf(ds))
	}
	pk := ix.comps[ref(graph.KindPackage, mustOne(t, s, "pkg:generic/thing@1?checksum=sha256:abc").ID)]
	if pk.Type != cdx.ComponentTypeLibrary || pk.Name != "thing" {
		t.Errorf("package %+v", pk)
	}
	wf := (*(*bom.Formulation)[0].Workflows)[0]
	if wf.TimeStart != "" || wfProps(wf)[propAttr+"startedOn"] != "yesterday" {
		t.Errorf("workflow start %q, properties %v", wf.TimeStart, wfProps(wf))
	}
}
