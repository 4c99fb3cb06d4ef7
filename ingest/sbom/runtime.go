package sbom

import (
	"fmt"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/package-url/packageurl-go"

	"github.com/modelgraph/modelgraph/graph"
	graphref "github.com/modelgraph/modelgraph/graph/ref"
)

// Runtime ML-BOMs: a CycloneDX BOM whose metadata.component is a running
// workload, as GoogleCloudPlatform/k8s-aibom emits them (one BOM per
// Kubernetes workload, listing the models, images, runtimes and model
// volumes it read from the workload's spec and pod status). Such a BOM is
// deployment evidence, not a package SBOM: the workload becomes a
// Deployment node, each model it names is DEPLOYED_AS into it and each
// container image it runs is a Package it DEPENDS_ON (role servingImage),
// every edge keeping the confidence k8s-aibom gave the fact (declared:
// written by the workload owner; inferred: derived by heuristic; verified:
// declared and cryptographically verified). See docs/mapping.md.
//
// k8s-aibom names its properties two ways: dotted through v1.6
// (aibom.workload.kind, aibom.confidence, container.name, ...) and in the
// registered colon taxonomy from v1.7 (k8s-aibom:workload:kind,
// k8s-aibom:confidence, k8s-aibom:container:name, ...). Both are read.

// runtimeProp returns the first value of a k8s-aibom fact given in its
// dotted (≤ v1.6) name, under either spelling.
func runtimeProp(props *[]cdx.Property, dotted string) string {
	if props == nil {
		return ""
	}
	names := []string{dotted, colonName(dotted)}
	for _, n := range names {
		for _, p := range *props {
			if p.Name == n {
				return strings.TrimSpace(p.Value)
			}
		}
	}
	return ""
}

// colonName maps a k8s-aibom dotted property name to its v1.7 name:
// aibom.workload.kind -> k8s-aibom:workload:kind, container.name ->
// k8s-aibom:container:name, signature.status ->
// k8s-aibom:security:signing:status.
func colonName(dotted string) string {
	n := strings.TrimPrefix(dotted, "aibom.")
	if rest, ok := strings.CutPrefix(n, "signature."); ok {
		n = "security.signing." + rest
	}
	return "k8s-aibom:" + strings.ReplaceAll(n, ".", ":")
}

// isRuntimeBOM reports whether the BOM describes a workload: its metadata
// component names a workload kind.
func isRuntimeBOM(bom *cdx.BOM) bool {
	mc := metaComponent(bom)
	return mc != nil && runtimeProp(mc.Properties, "aibom.workload.kind") != ""
}

// confidenceRank orders k8s-aibom confidences: a fact claimed several ways
// keeps its strongest on the edge, as a node's verification is its best.
func confidenceRank(c string) int {
	switch c {
	case "verified":
		return 4
	case "declared":
		return 3
	case "inferred":
		return 2
	case "unresolved":
		return 1
	}
	return 0
}

// runtimeClaim is one way a component was found: its confidence and where
// in the Kubernetes object it was read.
type runtimeClaim struct{ confidence, source, locator string }

func (c runtimeClaim) String() string {
	s := c.confidence
	if c.source != "" {
		s += " " + c.source
	}
	if c.locator != "" {
		s += " (" + c.locator + ")"
	}
	return s
}

// runtimeBOM maps a runtime ML-BOM (see above).
func (p *parser) runtimeBOM(d *cdxDoc, subjects []subject) error {
	x := newBuilder(p.doc, p.role)
	p.x = x
	b := x.b
	bom := d.bom
	mc := metaComponent(bom)
	w := func(f string) string { return runtimeProp(mc.Properties, "aibom.workload."+f) }
	kind, ns, name, uid := w("kind"), w("namespace"), w("name"), w("uid")
	if name == "" {
		name = strings.TrimSpace(mc.Name)
	}
	if ns == "" {
		ns = strings.TrimSpace(mc.Group)
	}
	if name == "" {
		return p.fail("metadata.component", "workload %q has no name (aibom.workload.name or component name)", truncate(kind, 60))
	}
	// The deployment key of the project's deployment predicates
	// (deployment:<environment>/<cluster>/<namespace>/<service>); a
	// k8s-aibom document names neither environment nor cluster.
	keys := []string{graphref.Deployment("", "", ns, name)}
	if uid != "" {
		keys = append(keys, "k8s-uid:"+uid)
	}
	for _, s := range subjects {
		keys = append(keys, s.keys...)
	}
	dep := x.node(graph.KindDeployment, keys...)
	if dep < 0 {
		return p.fail("metadata.component", "its keys identify another node of the document")
	}
	b.Set(dep, "namespace", ns)
	b.Set(dep, "service", name)
	b.Set(dep, "workloadKind", kind)
	b.Set(dep, "workloadGroup", w("group"))
	b.Set(dep, "workloadApiVersion", w("apiVersion"))
	b.Set(dep, "workloadUid", uid)
	b.Set(dep, "workloadCategory", w("category"))
	if md := bom.Metadata; md != nil {
		b.Set(dep, "observedAt", md.Timestamp)
		b.Set(dep, "confidence", runtimeProp(md.Properties, "aibom.confidence"))
		b.Set(dep, "controller", strings.TrimSpace(runtimeProp(md.Properties, "aibom.controller.name")+" "+runtimeProp(md.Properties, "aibom.controller.version")))
	}
	x.describe(dep)
	b.Set(graph.DocNode, "runtimeBOM", "k8s-aibom")

	type target struct {
		node   int
		edge   graph.EdgeKind
		claims []runtimeClaim
	}
	var order []int
	targets := map[int]*target{}
	add := func(i int, k graph.EdgeKind, c runtimeClaim) {
		t := targets[i]
		if t == nil {
			t = &target{node: i, edge: k}
			targets[i] = t
			order = append(order, i)
		}
		t.claims = append(t.claims, c)
	}
	if bom.Components != nil {
		for j := range *bom.Components {
			c := &(*bom.Components)[j]
			field := fmt.Sprintf("components[%d]", j)
			claim := runtimeClaim{
				confidence: runtimeProp(c.Properties, "aibom.confidence"),
				source:     runtimeProp(c.Properties, "aibom.evidence.source"),
				locator:    runtimeProp(c.Properties, "aibom.evidence.locator"),
			}
			if claim.confidence == "" {
				claim.confidence = "unresolved"
			}
			switch c.Type {
			case cdx.ComponentTypeMachineLearningModel:
				i, err := p.runtimeModel(c, field)
				if err != nil {
					return err
				}
				add(i, graph.DeployedAs, claim)
			case cdx.ComponentTypeContainer:
				i, ok, err := p.runtimeImage(c, field)
				if err != nil {
					return err
				}
				if ok {
					add(i, graph.DependsOn, claim)
				}
			case cdx.ComponentTypeApplication:
				x.claim(dep, "runtime", strings.TrimSpace(firstNonEmpty(runtimeProp(c.Properties, "runtime.name"), c.Name)+" "+c.Version))
			case cdx.ComponentTypeData:
				if mp := runtimeProp(c.Properties, "volume.mountPath"); mp != "" {
					x.claim(dep, "modelVolume", strings.TrimSpace(c.Name+" "+mp+" "+runtimeProp(c.Properties, "volume.source")))
				}
			}
		}
	}
	for _, i := range order {
		t := targets[i]
		best := t.claims[0]
		var all []string
		for _, c := range t.claims {
			if confidenceRank(c.confidence) > confidenceRank(best.confidence) {
				best = c
			}
			all = append(all, c.String())
		}
		attrs := []string{"confidence", best.confidence, "evidenceSource", best.source,
			"evidenceLocator", best.locator, "claims", clip(strings.Join(all, "; ")), "source", "runtime-mlbom"}
		if t.edge == graph.DeployedAs {
			attrs = append(attrs, "status", "active", "deployedAt", metaTimestamp(bom))
			b.Edge(i, graph.DeployedAs, dep, attrs...)
		} else {
			attrs = append(attrs, "role", "servingImage")
			b.Edge(dep, graph.DependsOn, i, attrs...)
		}
	}
	if bom.SerialNumber != "" {
		b.Set(graph.DocNode, "serialNumber", bom.SerialNumber)
	}
	b.Set(graph.DocNode, "specVersion", bom.SpecVersion.String())
	b.Set(graph.DocNode, "parser", "modelgraph")
	x.flush()
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func metaTimestamp(bom *cdx.BOM) string {
	if bom.Metadata == nil {
		return ""
	}
	return bom.Metadata.Timestamp
}

// runtimeModel keys a model a workload names: its hashes and purl when
// given, the hub keys of a Hugging Face id (vLLM's --model
// meta-llama/Llama-3.1-8B-Instruct), a storage URI (KServe storageUri),
// else its name.
func (p *parser) runtimeModel(c *cdx.Component, field string) (int, error) {
	digests, purls, err := p.identityKeys(c, field)
	if err != nil {
		return -1, err
	}
	keys := append(digests, purls...)
	name := strings.TrimSpace(c.Name)
	if c.Group != "" && !strings.Contains(name, "/") {
		name = c.Group + "/" + name
	}
	uri := runtimeProp(c.Properties, "kserve.storageUri")
	for _, ref := range []string{name, graph.SchemeHF + name, uri} {
		if h, ok := graphref.ParseHF(ref); ok && !h.Dataset && ref != graph.SchemeHF {
			keys = append(keys, h.Keys()...)
			break
		}
	}
	if u := contentsURL(cdx.ComponentData{Contents: &cdx.ComponentDataContents{URL: uri}}); u != "" {
		keys = append(keys, u)
	}
	if len(keys) == 0 {
		if name == "" {
			return -1, p.fail(field, "model has no hashes, purl or name to identify it")
		}
		keys = append(keys, graph.NameKey(name))
	}
	i := p.x.node(graph.KindModel, keys...)
	if i < 0 {
		return -1, p.fail(field, "its keys identify another node of the document")
	}
	x := p.x
	x.b.Set(i, "name", name)
	x.claim(i, "revision", runtimeProp(c.Properties, "model.revision"))
	x.claim(i, "signatureStatus", runtimeProp(c.Properties, "signature.status"))
	x.claim(i, "signatureIdentity", runtimeProp(c.Properties, "signature.identity"))
	return i, nil
}

// runtimeImage keys a container image by its digest (hashes, a digest
// version, a pkg:oci purl). An image known only by tag names no artifact:
// it is kept as an attribute of nothing and skipped (ok false).
func (p *parser) runtimeImage(c *cdx.Component, field string) (int, bool, error) {
	digests, purls, err := p.identityKeys(c, field)
	if err != nil {
		return -1, false, err
	}
	if len(digests) == 0 {
		return -1, false, nil
	}
	ref := runtimeProp(c.Properties, "image.reference")
	repo := strings.TrimSpace(c.Name)
	if c.Group != "" {
		repo = c.Group + "/" + repo
	}
	var keys []string
	keys = append(keys, digests...)
	keys = append(keys, purls...)
	if len(purls) == 0 && repo != "" && strings.HasPrefix(digests[0], "sha256:") {
		// The serving image purl of the deployment predicates.
		// (as ingest/intoto's ociPurl writes it).
		last := repo[strings.LastIndex(repo, "/")+1:]
		q := packageurl.QualifiersFromMap(map[string]string{"repository_url": repo})
		keys = append(keys, packageurl.NewPackageURL("oci", "", strings.ToLower(last), digests[0], q, "").ToString())
	}
	i := p.x.node(graph.KindPackage, keys...)
	if i < 0 {
		return -1, false, p.fail(field, "its keys identify another node of the document")
	}
	p.x.b.Set(i, "image", firstNonEmpty(ref, repo))
	p.x.b.Set(i, "tag", c.Version)
	p.x.b.Set(i, "componentType", string(c.Type))
	return i, true, nil
}
