// Package guacexport pushes modelgraph's ML supply-chain graph into a GUAC
// GraphQL server as GUAC predicates, so tools built on GUAC see models,
// datasets, training lineage, deployments and advisories:
//
//   - IsOccurrence: a model or dataset artifact (digest) and the package that
//     names it (its purl, pkg:huggingface/<org>/<name> for hub ids, else
//     pkg:guac/generic/<name>).
//   - HasSLSA: training lineage of a model or dataset with a digest: datasets
//     it was trained on, parents it derives from, inputs of the runs that
//     produced it, as materials; the run's builder and build type.
//   - HasSBOM: each CycloneDX/SPDX document that describes a model, a dataset,
//     a deployment's serving image or a training run's environment, with the
//     packages the subject depends on in that document.
//   - HasMetadata: node attributes (modelgraph.<name>) and edges GUAC has no
//     verb for (modelgraph.trainedOn, derivedFrom, deployedAs).
//   - CertifyBad: each advisory's affected artifacts and packages.
//
// Predicates go through GUAC's own bulk assembler and generated genqlient
// client, one IngestPredicates per SBOM document (GUAC's HasSBOM "includes"
// everything in its IngestPredicates, so documents must not be merged).
package guacexport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/guacsec/guac/pkg/assembler"
	model "github.com/guacsec/guac/pkg/assembler/clients/generated"
	"github.com/guacsec/guac/pkg/assembler/clients/helpers"
	asmhelpers "github.com/guacsec/guac/pkg/assembler/helpers"
	"go.uber.org/zap"

	"github.com/modelgraph/modelgraph/graph"
	graphref "github.com/modelgraph/modelgraph/graph/ref"
)

// ErrExport is the root of Export's errors.
var ErrExport = errors.New("guac export")

// Limits on what one export reads.
const (
	MaxNodes        = 1_000_000 // per kind
	MaxEdgesPerNode = 100_000
	MaxAttrs        = 128 // metadata entries per node
)

// Options tune an export.
type Options struct {
	// HTTPClient talks to the GUAC endpoint (default: 5-minute timeout).
	HTTPClient *http.Client
	// Collector is recorded as the predicates' collector (default
	// "modelgraph").
	Collector string
}

// Result counts what was read and sent.
type Result struct {
	Models, Datasets, Deployments, TrainingRuns, Advisories int
	IsOccurrence, HasSLSA, HasSBOM, HasMetadata, CertifyBad int
	// Skipped says what could not be expressed in GUAC, and why (capped).
	Skipped []string
}

const maxSkipped = 100

func (r *Result) skip(format string, args ...any) {
	if len(r.Skipped) < maxSkipped {
		r.Skipped = append(r.Skipped, fmt.Sprintf(format, args...))
	}
}

// Export reads the ML graph from r and ingests it into the GUAC GraphQL
// server at endpoint (e.g. http://localhost:8080/query).
func Export(ctx context.Context, r graph.Reader, endpoint string, opts Options) (Result, error) {
	if r == nil {
		return Result{}, fmt.Errorf("%w: no graph to read", ErrExport)
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Result{}, fmt.Errorf("%w: endpoint %q is not an http(s) URL", ErrExport, endpoint)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 5 * time.Minute}
	}
	if opts.Collector == "" {
		opts.Collector = "modelgraph"
	}
	e := &exporter{r: r, opts: opts, docs: map[string]graph.Document{}, nodes: map[graph.NodeID]graph.Node{}}
	preds, err := e.collect(ctx)
	if err != nil {
		return e.res, err
	}
	client := graphql.NewClient(endpoint, opts.HTTPClient)
	assemble := helpers.GetBulkAssembler(ctx, zap.NewNop().Sugar(), client)
	if _, err := assemble(preds); err != nil {
		return e.res, fmt.Errorf("%w: %s: %w", ErrExport, endpoint, err)
	}
	return e.res, nil
}

type exporter struct {
	r     graph.Reader
	opts  Options
	res   Result
	docs  map[string]graph.Document
	nodes map[graph.NodeID]graph.Node
}

// collect builds the predicates: one IngestPredicates for the ML graph, one
// per SBOM document.
func (e *exporter) collect(ctx context.Context) ([]assembler.IngestPredicates, error) {
	ml := assembler.IngestPredicates{}
	sboms := map[graph.NodeID][]graph.NodeID{} // SBOM document -> subjects
	var sbomOrder []graph.NodeID
	addSBOMs := func(subject graph.Node) error {
		in, err := e.edges(ctx, subject.ID, graph.In, graph.Describes)
		if err != nil {
			return err
		}
		for _, d := range in {
			doc, err := e.node(ctx, d.From)
			if err != nil {
				return err
			}
			if t := doc.Attr("type"); t != "cyclonedx" && t != "spdx" {
				continue
			}
			if _, ok := sboms[doc.ID]; !ok {
				sbomOrder = append(sbomOrder, doc.ID)
			}
			if !slices.Contains(sboms[doc.ID], subject.ID) {
				sboms[doc.ID] = append(sboms[doc.ID], subject.ID)
			}
		}
		return nil
	}

	for _, kind := range []graph.NodeKind{graph.KindModel, graph.KindDataset} {
		ns, err := e.list(ctx, kind)
		if err != nil {
			return nil, err
		}
		if kind == graph.KindModel {
			e.res.Models = len(ns)
		} else {
			e.res.Datasets = len(ns)
		}
		for _, n := range ns {
			if err := e.mlNode(ctx, &ml, n); err != nil {
				return nil, err
			}
			if err := addSBOMs(n); err != nil {
				return nil, err
			}
		}
	}

	deps, err := e.list(ctx, graph.KindDeployment)
	if err != nil {
		return nil, err
	}
	e.res.Deployments = len(deps)
	for _, d := range deps {
		out, err := e.edges(ctx, d.ID, graph.Out, graph.DependsOn)
		if err != nil {
			return nil, err
		}
		for _, o := range out {
			img, err := e.node(ctx, o.To)
			if err != nil {
				return nil, err
			}
			if err := addSBOMs(img); err != nil {
				return nil, err
			}
			e.metadata(ctx, &ml, img, "modelgraph.deployment", primaryKey(d), o.Docs)
		}
	}

	runs, err := e.list(ctx, graph.KindTrainingRun)
	if err != nil {
		return nil, err
	}
	e.res.TrainingRuns = len(runs)
	for _, run := range runs {
		out, err := e.edges(ctx, run.ID, graph.Out, graph.Uses, graph.DependsOn)
		if err != nil {
			return nil, err
		}
		for _, o := range out {
			in, err := e.node(ctx, o.To)
			if err != nil {
				return nil, err
			}
			if in.Kind == graph.KindPackage || in.Kind == graph.KindFile {
				if err := addSBOMs(in); err != nil {
					return nil, err
				}
			}
		}
	}

	advs, err := e.list(ctx, graph.KindAdvisory)
	if err != nil {
		return nil, err
	}
	e.res.Advisories = len(advs)
	for _, a := range advs {
		if err := e.advisory(ctx, &ml, a); err != nil {
			return nil, err
		}
	}

	out := []assembler.IngestPredicates{ml}
	for _, id := range sbomOrder {
		p, err := e.sbom(ctx, id, sboms[id])
		if err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, *p)
		}
	}
	return out, nil
}

// mlNode exports a model or dataset: IsOccurrence, HasMetadata, HasSLSA.
func (e *exporter) mlNode(ctx context.Context, p *assembler.IngestPredicates, n graph.Node) error {
	arts := artifacts(n)
	pkg := e.pkgOf(n)
	first := ""
	if len(n.Docs) > 0 {
		first = n.Docs[0]
	}
	if pkg != nil {
		for _, a := range arts {
			p.IsOccurrence = append(p.IsOccurrence, assembler.IsOccurrenceIngest{
				Pkg:      pkg,
				Artifact: a,
				IsOccurrence: &model.IsOccurrenceInputSpec{
					Justification: fmt.Sprintf("modelgraph %s %s", strings.ToLower(string(n.Kind)), n.Keys[0]),
					Origin:        "modelgraph",
					Collector:     e.opts.Collector,
					DocumentRef:   first,
				},
			})
			e.res.IsOccurrence++
		}
	}
	if len(arts) == 0 && pkg == nil {
		e.res.skip("%s %s: no digest or name GUAC can hold", n.Kind, n.Keys[0])
		return nil
	}

	// Attributes, then the edges GUAC has no verb for.
	e.metadata(ctx, p, n, "modelgraph.kind", string(n.Kind), n.Docs)
	count := 0
	for _, a := range n.Attrs {
		if count >= MaxAttrs {
			e.res.skip("%s %s: attributes beyond %d not exported", n.Kind, n.Keys[0], MaxAttrs)
			break
		}
		e.metadata(ctx, p, n, "modelgraph."+a.Name, a.Value, a.Docs)
		count++
	}
	out, err := e.edges(ctx, n.ID, graph.Out, graph.TrainedOn, graph.DerivedFrom, graph.DeployedAs, graph.ProducedBy)
	if err != nil {
		return err
	}
	var materials []model.ArtifactInputSpec
	var runs []graph.Node
	var pred []model.SLSAPredicateInputSpec
	for _, o := range out {
		peer, err := e.node(ctx, o.To)
		if err != nil {
			return err
		}
		switch o.Kind {
		case graph.TrainedOn:
			e.metadata(ctx, p, n, "modelgraph.trainedOn", primaryKey(peer), o.Docs)
			materials = appendArts(materials, artifacts(peer))
			pred = append(pred, model.SLSAPredicateInputSpec{Key: "modelgraph.trainedOn", Value: primaryKey(peer)})
		case graph.DerivedFrom:
			v := primaryKey(peer)
			if rel := o.Attr("relation"); rel != "" {
				v += " (" + rel + ")"
			}
			e.metadata(ctx, p, n, "modelgraph.derivedFrom", v, o.Docs)
			materials = appendArts(materials, artifacts(peer))
			pred = append(pred, model.SLSAPredicateInputSpec{Key: "modelgraph.derivedFrom", Value: v})
		case graph.DeployedAs:
			e.metadata(ctx, p, n, "modelgraph.deployedAs", primaryKey(peer), o.Docs)
		case graph.ProducedBy:
			runs = append(runs, peer)
			pred = append(pred, model.SLSAPredicateInputSpec{Key: "modelgraph.trainingRun", Value: primaryKey(peer)})
			ins, err := e.edges(ctx, peer.ID, graph.Out, graph.Uses, graph.DependsOn)
			if err != nil {
				return err
			}
			for _, in := range ins {
				inNode, err := e.node(ctx, in.To)
				if err != nil {
					return err
				}
				if inNode.ID != n.ID {
					materials = appendArts(materials, artifacts(inNode))
				}
			}
		}
	}
	if len(arts) == 0 || (len(runs) == 0 && len(materials) == 0) {
		if len(runs)+len(materials) > 0 {
			e.res.skip("%s %s: lineage not exported as HasSLSA (no digest)", n.Kind, n.Keys[0])
		}
		return nil
	}
	builder := "https://modelgraph.dev/lineage"
	buildType := "https://modelgraph.dev/ml-lineage/v1"
	slsa := &model.SLSAInputSpec{
		SlsaVersion: "modelgraph-ml-lineage/v1",
		Origin:      "modelgraph",
		Collector:   e.opts.Collector,
		DocumentRef: first,
	}
	if len(runs) > 0 {
		run := runs[0]
		if v := run.Attr("builderId"); v != "" {
			builder = v
		}
		if v := run.Attr("buildType"); v != "" {
			buildType = v
		}
		slsa.StartedOn = timeAttr(run, "startedOn")
		slsa.FinishedOn = timeAttr(run, "finishedOn")
		if len(run.Docs) > 0 {
			slsa.DocumentRef = run.Docs[0]
		}
	}
	slsa.BuildType = buildType
	slices.SortFunc(pred, func(a, b model.SLSAPredicateInputSpec) int { return strings.Compare(a.Key+a.Value, b.Key+b.Value) })
	slsa.SlsaPredicate = slices.Compact(pred)
	for _, a := range arts {
		p.HasSlsa = append(p.HasSlsa, assembler.HasSlsaIngest{
			Artifact:  a,
			HasSlsa:   slsa,
			Materials: derefArts(materials),
			Builder:   &model.BuilderInputSpec{Uri: builder},
		})
		e.res.HasSLSA++
	}
	return nil
}

// metadata records key=value on n (on its artifacts, else its package).
func (e *exporter) metadata(ctx context.Context, p *assembler.IngestPredicates, n graph.Node, key, value string, docs []string) {
	if value == "" {
		return
	}
	since, ref := e.known(ctx, docs)
	hm := &model.HasMetadataInputSpec{
		Key:           key,
		Value:         value,
		Timestamp:     since,
		Justification: "modelgraph",
		Origin:        "modelgraph",
		Collector:     e.opts.Collector,
		DocumentRef:   ref,
	}
	if arts := artifacts(n); len(arts) > 0 {
		for _, a := range arts {
			p.HasMetadata = append(p.HasMetadata, assembler.HasMetadataIngest{Artifact: a, HasMetadata: hm})
			e.res.HasMetadata++
		}
		return
	}
	if pkg := e.pkgOf(n); pkg != nil {
		p.HasMetadata = append(p.HasMetadata, assembler.HasMetadataIngest{
			Pkg: pkg, PkgMatchFlag: model.MatchFlags{Pkg: model.PkgMatchTypeSpecificVersion}, HasMetadata: hm,
		})
		e.res.HasMetadata++
	}
}

// advisory exports CertifyBad for each node an advisory affects.
func (e *exporter) advisory(ctx context.Context, p *assembler.IngestPredicates, a graph.Node) error {
	out, err := e.edges(ctx, a.ID, graph.Out, graph.Affects)
	if err != nil {
		return err
	}
	for _, o := range out {
		switch strings.ToLower(o.Attr("status")) {
		case "not_affected", "fixed", "withdrawn", "retracted", "revoked", "false_positive":
			e.res.skip("%s -> %s: status %s is not bad", a.Keys[0], o.To, o.Attr("status"))
			continue
		}
		t, err := e.node(ctx, o.To)
		if err != nil {
			return err
		}
		since, ref := e.known(ctx, o.Docs)
		just := primaryKey(a)
		if s := a.Attr("summary"); s != "" {
			just += ": " + s
		}
		if s := a.Attr("severity"); s != "" {
			just += " (severity " + s + ")"
		}
		cb := &model.CertifyBadInputSpec{Justification: just, KnownSince: since, Origin: "modelgraph", Collector: e.opts.Collector, DocumentRef: ref}
		// A package advisory is about the package (any build of it); a
		// model, dataset or file advisory about the bytes.
		arts := artifacts(t)
		if t.Kind == graph.KindPackage && hasPurl(t) {
			arts = nil
		}
		switch {
		case len(arts) > 0:
			for _, art := range arts {
				p.CertifyBad = append(p.CertifyBad, assembler.CertifyBadIngest{Artifact: art, CertifyBad: cb})
				e.res.CertifyBad++
			}
		case e.pkgOf(t) != nil:
			p.CertifyBad = append(p.CertifyBad, assembler.CertifyBadIngest{
				Pkg: e.pkgOf(t), PkgMatchFlag: model.MatchFlags{Pkg: model.PkgMatchTypeSpecificVersion}, CertifyBad: cb,
			})
			e.res.CertifyBad++
		default:
			e.res.skip("%s -> %s %s: no digest or package", a.Keys[0], t.Kind, t.Keys[0])
		}
	}
	return nil
}

// sbom builds the predicates of one SBOM document: HasSBOM for each
// subject, the subject's package identity, and its dependencies in that
// document (which become the HasSBOM's includes).
func (e *exporter) sbom(ctx context.Context, docID graph.NodeID, subjects []graph.NodeID) (*assembler.IngestPredicates, error) {
	dn, err := e.node(ctx, docID)
	if err != nil {
		return nil, err
	}
	digest := dn.Keys[0]
	for _, k := range dn.Keys {
		if strings.HasPrefix(k, "sha256:") {
			digest = k
		}
	}
	doc := e.doc(ctx, digest)
	alg, hex, _ := strings.Cut(digest, ":")
	uri := doc.Source
	if uri == "" {
		uri = "urn:modelgraph:document:" + digest
	}
	since := doc.IngestedAt
	p := &assembler.IngestPredicates{}
	for _, sid := range subjects {
		s, err := e.node(ctx, sid)
		if err != nil {
			return nil, err
		}
		pkg := e.pkgOf(s)
		arts := artifacts(s)
		hs := &model.HasSBOMInputSpec{
			Uri: uri, Algorithm: alg, Digest: hex, DownloadLocation: doc.Source, KnownSince: since,
			Origin: "modelgraph", Collector: e.opts.Collector, DocumentRef: digest,
		}
		switch {
		case len(arts) > 0:
			p.HasSBOM = append(p.HasSBOM, assembler.HasSBOMIngest{Artifact: arts[0], HasSBOM: hs})
		case pkg != nil:
			p.HasSBOM = append(p.HasSBOM, assembler.HasSBOMIngest{Pkg: pkg, HasSBOM: hs})
		default:
			e.res.skip("SBOM %s: subject %s has no digest or package", digest, s.Keys[0])
			continue
		}
		e.res.HasSBOM++
		if pkg == nil {
			// GUAC's own SBOM ingest names a top level without a purl the
			// same way.
			if pkg, err = asmhelpers.PurlToPkg(asmhelpers.GuacGenericPurl(firstNonEmpty(s.Attr("name"), s.Keys[0]))); err != nil {
				e.res.skip("SBOM %s: subject %s: %v", digest, s.Keys[0], err)
				continue
			}
		}
		for _, a := range arts {
			p.IsOccurrence = append(p.IsOccurrence, assembler.IsOccurrenceIngest{
				Pkg: pkg, Artifact: a,
				IsOccurrence: &model.IsOccurrenceInputSpec{Justification: "modelgraph SBOM subject", Origin: "modelgraph", Collector: e.opts.Collector, DocumentRef: digest},
			})
		}
		out, err := e.edges(ctx, s.ID, graph.Out, graph.DependsOn)
		if err != nil {
			return nil, err
		}
		for _, o := range out {
			if !slices.Contains(o.Docs, digest) {
				continue // asserted by another document
			}
			dep, err := e.node(ctx, o.To)
			if err != nil {
				return nil, err
			}
			dp := e.pkgOf(dep)
			if dp == nil {
				continue
			}
			t := model.DependencyTypeUnknown
			switch o.Attr("dependencyType") {
			case "direct":
				t = model.DependencyTypeDirect
			case "indirect":
				t = model.DependencyTypeIndirect
			}
			p.IsDependency = append(p.IsDependency, assembler.IsDependencyIngest{
				Pkg: pkg, DepPkg: dp,
				IsDependency: &model.IsDependencyInputSpec{DependencyType: t, Justification: "modelgraph SBOM dependency", Origin: "modelgraph", Collector: e.opts.Collector, DocumentRef: digest},
			})
		}
	}
	if len(p.HasSBOM) == 0 {
		return nil, nil
	}
	return p, nil
}

// pkgOf names a node as a GUAC package: its purl (the qualified one when
// there are several), pkg:huggingface/<org>/<name> for a hub id, else
// pkg:guac/generic/<name>.
func (e *exporter) pkgOf(n graph.Node) *model.PkgInputSpec {
	var purls []string
	hub, name := "", ""
	for _, k := range n.Keys {
		switch {
		case strings.HasPrefix(k, graph.SchemePurl):
			purls = append(purls, k)
		case strings.HasPrefix(k, graph.SchemeHF) && hub == "":
			if h, ok := graphref.ParseHF(k); ok {
				hub = h.ID
			}
		case strings.HasPrefix(k, graph.SchemeName) && name == "":
			name = strings.TrimPrefix(k, graph.SchemeName)
		}
	}
	slices.SortStableFunc(purls, func(a, b string) int {
		return boolCmp(strings.Contains(b, "?"), strings.Contains(a, "?"))
	})
	var cands []string
	cands = append(cands, purls...)
	if hub != "" {
		c := "pkg:huggingface/" + hub
		if rev := n.Attr("revision"); rev != "" {
			c += "@" + rev
		}
		cands = append(cands, c)
	}
	if name != "" {
		cands = append(cands, asmhelpers.GuacGenericPurl(name))
	}
	if len(cands) == 0 && n.Kind != graph.KindFile && n.Attr("name") != "" {
		cands = append(cands, asmhelpers.GuacGenericPurl(n.Attr("name")))
	}
	for _, c := range cands {
		if p, err := asmhelpers.PurlToPkg(c); err == nil {
			return p
		}
	}
	return nil
}

// primaryKey is the key a person would name a node by: a sha256 digest,
// another digest, a hub id, a purl, else the first (stored keys are sorted).
func primaryKey(n graph.Node) string {
	rank := func(k string) int {
		switch {
		case strings.HasPrefix(k, "sha256:"):
			return 0
		case graph.IsDigestKey(k):
			return 1
		case strings.HasPrefix(k, graph.SchemeHF):
			return 2
		case strings.HasPrefix(k, graph.SchemePurl):
			return 3
		}
		return 4
	}
	best := ""
	for _, k := range n.Keys {
		if best == "" || rank(k) < rank(best) {
			best = k
		}
	}
	return best
}

func hasPurl(n graph.Node) bool {
	return slices.ContainsFunc(n.Keys, func(k string) bool { return strings.HasPrefix(k, "pkg:") })
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func artifacts(n graph.Node) []*model.ArtifactInputSpec {
	var out []*model.ArtifactInputSpec
	for _, k := range n.Keys {
		if graph.IsDigestKey(k) {
			alg, hex, _ := strings.Cut(k, ":")
			out = append(out, &model.ArtifactInputSpec{Algorithm: alg, Digest: hex})
		}
	}
	return out
}

func appendArts(dst []model.ArtifactInputSpec, src []*model.ArtifactInputSpec) []model.ArtifactInputSpec {
	for _, a := range src {
		if !slices.Contains(dst, *a) {
			dst = append(dst, *a)
		}
	}
	return dst
}

func derefArts(as []model.ArtifactInputSpec) []model.ArtifactInputSpec {
	if len(as) == 0 {
		return nil
	}
	return slices.Clone(as)
}

func timeAttr(n graph.Node, name string) *time.Time {
	t, err := time.Parse(time.RFC3339, n.Attr(name))
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// known returns when the first of docs was ingested and its digest: GUAC
// timestamps that stay the same across re-exports.
func (e *exporter) known(ctx context.Context, docs []string) (time.Time, string) {
	if len(docs) == 0 {
		return time.Unix(0, 0).UTC(), ""
	}
	return e.doc(ctx, docs[0]).IngestedAt.UTC(), docs[0]
}

func (e *exporter) doc(ctx context.Context, digest string) graph.Document {
	if d, ok := e.docs[digest]; ok {
		return d
	}
	var d graph.Document
	if ds, err := e.r.Documents(ctx, digest); err == nil && len(ds) == 1 {
		d = ds[0]
	}
	e.docs[digest] = d
	return d
}

func (e *exporter) node(ctx context.Context, id graph.NodeID) (graph.Node, error) {
	if n, ok := e.nodes[id]; ok {
		return n, nil
	}
	n, err := e.r.Node(ctx, id)
	if err != nil {
		return n, fmt.Errorf("%w: node %s: %w", ErrExport, id, err)
	}
	e.nodes[id] = n
	return n, nil
}

func (e *exporter) edges(ctx context.Context, id graph.NodeID, dir graph.Direction, kinds ...graph.EdgeKind) ([]graph.Edge, error) {
	es, err := e.r.Edges(ctx, id, dir, kinds...)
	if err != nil {
		return nil, fmt.Errorf("%w: edges of %s: %w", ErrExport, id, err)
	}
	if len(es) > MaxEdgesPerNode {
		return nil, fmt.Errorf("%w: node %s has %d edges, limit %d", ErrExport, id, len(es), MaxEdgesPerNode)
	}
	return es, nil
}

func (e *exporter) list(ctx context.Context, kind graph.NodeKind) ([]graph.Node, error) {
	var out []graph.Node
	var after graph.NodeID
	for {
		ns, err := e.r.Nodes(ctx, graph.NodeQuery{Kind: kind, After: after, Limit: graph.MaxListLimit})
		if err != nil {
			return nil, fmt.Errorf("%w: list %s: %w", ErrExport, kind, err)
		}
		for _, n := range ns {
			e.nodes[n.ID] = n
		}
		out = append(out, ns...)
		if len(out) > MaxNodes {
			return nil, fmt.Errorf("%w: more than %d %s nodes", ErrExport, MaxNodes, kind)
		}
		if len(ns) < graph.MaxListLimit {
			return out, nil
		}
		after = ns[len(ns)-1].ID
	}
}
