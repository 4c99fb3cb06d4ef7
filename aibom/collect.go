package aibom

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/modelgraph/modelgraph/graph"
)

// lineageKinds are the edges followed from the subjects: everything that
// went into a model (datasets, parents, files, packages, sources, training
// runs and their inputs). DEPLOYED_AS is not among them: a model export
// does not list where the model runs.
var lineageKinds = []graph.EdgeKind{
	graph.TrainedOn, graph.DerivedFrom, graph.Contains, graph.DependsOn,
	graph.ProducedBy, graph.BuiltFrom, graph.Uses,
}

// memberKinds are the node kinds an export holds besides its subjects.
var memberKinds = []graph.NodeKind{
	graph.KindModel, graph.KindDataset, graph.KindFile, graph.KindPackage,
	graph.KindSource, graph.KindTrainingRun,
}

// edgeKindsOf lists the incident edges read for a node of each kind: its
// lineage edges (every kind the walk follows, so each edge of the walk is
// in the BOM), plus the edges that carry evidence (DESCRIBES) and
// deployment links. Packages, files and sources read only their outgoing
// edges: a popular package's dependents are not part of this BOM.
func edgeKindsOf(k graph.NodeKind) (graph.Direction, []graph.EdgeKind) {
	switch k {
	case graph.KindModel, graph.KindDataset:
		return graph.Both, append(slices.Clip(lineageKinds), graph.Describes)
	case graph.KindDeployment:
		return graph.Both, append(slices.Clip(lineageKinds), graph.DeployedAs, graph.Describes)
	case graph.KindTrainingRun:
		return graph.Both, lineageKinds
	}
	return graph.Out, lineageKinds
}

// exporter holds one export's view of the graph.
type exporter struct {
	ctx context.Context
	r   graph.Reader
	req Request

	subject     graph.NodeID   // the model or deployment in metadata.component ("" for an environment)
	deployments []graph.NodeID // deployments selected by the request

	nodes map[graph.NodeID]graph.Node
	order []graph.NodeID // nodes sorted by bom-ref
	refs  map[graph.NodeID]string
	out   map[graph.NodeID][]graph.Edge // edges from the node to another member
	in    map[graph.NodeID][]graph.Edge // edges into the node from another member
	// describedBy lists, per node, the digests of the documents that
	// DESCRIBE it.
	describedBy map[graph.NodeID][]string
	docs        map[string]graph.Document
	claims      []claim // verified signatures, gathered while building components
}

// subjects resolves the request to its start nodes.
func (x *exporter) subjects() ([]graph.NodeID, error) {
	req := x.req
	switch {
	case req.Model != "":
		n, err := x.node(req.Model, graph.KindModel, "model")
		if err != nil {
			return nil, err
		}
		x.subject = n.ID
		return []graph.NodeID{n.ID}, nil
	case req.Deployment != "":
		n, err := x.node(req.Deployment, graph.KindDeployment, "deployment")
		if err != nil {
			return nil, err
		}
		x.subject = n.ID
		x.deployments = []graph.NodeID{n.ID}
	default:
		deps, err := x.environment(req.Environment)
		if err != nil {
			return nil, err
		}
		x.deployments = deps
	}
	starts := slices.Clone(x.deployments)
	for _, d := range x.deployments {
		es, err := x.r.Edges(x.ctx, d, graph.In, graph.DeployedAs)
		if err != nil {
			return nil, fmt.Errorf("deployment %s: models: %w", d, err)
		}
		for _, e := range es {
			starts = append(starts, e.From)
		}
	}
	return starts, nil
}

func (x *exporter) node(id graph.NodeID, want graph.NodeKind, field string) (graph.Node, error) {
	if !id.Valid() {
		return graph.Node{}, fmt.Errorf("%w: %s %q is not a node id (use Resolve for names, digests and purls)", ErrInvalidRequest, field, trunc(string(id), 80))
	}
	n, err := x.r.Node(x.ctx, id)
	if err != nil {
		return graph.Node{}, fmt.Errorf("%s %s: %w", field, id, err)
	}
	if n.Kind != want {
		return graph.Node{}, fmt.Errorf("%w: %s %s is a %s, not a %s", ErrInvalidRequest, field, id, n.Kind, want)
	}
	return n, nil
}

// environment pages through every deployment for those whose environment
// attribute equals env. Any claimed value counts: a deployment two
// documents place in different environments belongs to both.
func (x *exporter) environment(env string) ([]graph.NodeID, error) {
	var out []graph.NodeID
	var after graph.NodeID
	for {
		if err := x.ctx.Err(); err != nil {
			return nil, err
		}
		page, err := x.r.Nodes(x.ctx, graph.NodeQuery{Kind: graph.KindDeployment, After: after, Limit: graph.MaxListLimit})
		if err != nil {
			return nil, fmt.Errorf("environment %q: list deployments: %w", env, err)
		}
		for _, n := range page {
			if slices.Contains(n.AttrValues("environment"), env) {
				out = append(out, n.ID)
				if len(out) > maxNodes {
					return nil, fmt.Errorf("%w: environment %q has more than %d deployments", ErrTooLarge, env, maxNodes)
				}
			}
		}
		if len(page) < graph.MaxListLimit {
			break
		}
		after = page[len(page)-1].ID
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("environment %q: no deployment has this environment: %w", env, graph.ErrNotFound)
	}
	return out, nil
}

// collect walks the lineage upstream from the starts with the shared walk
// (graph.Reader.Traverse, graph.Walk: lineage edges only, member kinds
// only), then reads each node's incident edges once (edgeKindsOf), in
// parallel: they carry everything the BOM says about the node. Then it
// reads the evidence documents.
func (x *exporter) collect(starts []graph.NodeID) error {
	uniq := slices.Clone(starts)
	slices.Sort(uniq)
	uniq = slices.Compact(uniq)
	if len(uniq) > maxNodes {
		return fmt.Errorf("%w: the supply chain has more than %d nodes", ErrTooLarge, maxNodes)
	}
	res, err := x.r.Traverse(x.ctx, graph.TraverseRequest{
		From: starts, Direction: graph.Upstream, EdgeKinds: lineageKinds, NodeKinds: memberKinds,
		MaxDepth: graph.MaxTraverseDepth, Limit: min(max(maxNodes-len(uniq), 1), graph.MaxTraverseLimit),
	})
	if err != nil {
		return fmt.Errorf("supply chain walk: %w", err)
	}
	switch {
	case res.DepthLimited:
		return fmt.Errorf("%w: the supply chain is deeper than %d edges", ErrTooLarge, graph.MaxTraverseDepth)
	case res.Truncated || len(res.Steps) > maxNodes:
		return fmt.Errorf("%w: the supply chain has more than %d nodes", ErrTooLarge, maxNodes)
	}
	x.nodes = make(map[graph.NodeID]graph.Node, len(res.Steps))
	for _, st := range res.Steps {
		x.nodes[st.Node.ID] = st.Node
	}
	// The store's decoding is most of an export's time: read in parallel.
	edges := make([][]graph.Edge, len(res.Steps))
	err = forEach(x.ctx, len(res.Steps), func(i int) error {
		n := res.Steps[i].Node
		dir, kinds := edgeKindsOf(n.Kind)
		es, err := x.r.Edges(x.ctx, n.ID, dir, kinds...)
		if err != nil {
			return fmt.Errorf("edges of %s: %w", n.ID, err)
		}
		edges[i] = es
		return nil
	})
	if err != nil {
		return err
	}
	raw := make(map[graph.NodeID][]graph.Edge, len(res.Steps))
	for i, st := range res.Steps {
		raw[st.Node.ID] = edges[i]
	}

	x.refs = make(map[graph.NodeID]string, len(x.nodes))
	x.order = make([]graph.NodeID, 0, len(x.nodes))
	for id, n := range x.nodes {
		x.refs[id] = bomRef(n)
		x.order = append(x.order, id)
	}
	slices.SortFunc(x.order, func(a, b graph.NodeID) int { return cmp.Compare(x.refs[a], x.refs[b]) })

	x.out = make(map[graph.NodeID][]graph.Edge, len(raw))
	x.in = make(map[graph.NodeID][]graph.Edge)
	x.describedBy = make(map[graph.NodeID][]string)
	docNodes := map[graph.NodeID][]graph.NodeID{} // document node -> nodes it describes
	for _, id := range x.order {
		for _, e := range raw[id] {
			switch {
			case e.Kind == graph.Describes && e.To == id:
				docNodes[e.From] = append(docNodes[e.From], id)
			case e.From == id && e.To == id:
				// A self-loop says nothing a BOM can show.
			case e.From == id:
				if _, ok := x.nodes[e.To]; ok {
					x.out[id] = append(x.out[id], e)
				}
			case e.To == id:
				if _, ok := x.nodes[e.From]; ok {
					x.in[id] = append(x.in[id], e)
				}
			}
		}
	}
	for dn, described := range docNodes {
		n, err := x.r.Node(x.ctx, dn)
		if err != nil {
			return fmt.Errorf("document node %s: %w", dn, err)
		}
		if n.Kind != graph.KindDocument {
			continue
		}
		for _, k := range n.Keys {
			if graph.IsDigestKey(k) {
				for _, id := range described {
					x.describedBy[id] = append(x.describedBy[id], k)
				}
				break
			}
		}
	}
	return x.loadDocuments()
}

func (x *exporter) loadDocuments() error {
	set := map[string]bool{}
	for _, id := range x.order {
		for _, d := range x.evidence(id) {
			set[d] = true
		}
	}
	digests := make([]string, 0, len(set))
	for d := range set {
		digests = append(digests, d)
	}
	slices.Sort(digests)
	docs, err := x.r.Documents(x.ctx, digests...)
	if err != nil {
		return fmt.Errorf("evidence documents: %w", err)
	}
	x.docs = make(map[string]graph.Document, len(docs))
	for _, d := range docs {
		x.docs[d.Digest] = d
	}
	return nil
}

// evidence lists, sorted, the digests of the documents backing a model,
// dataset or deployment: those that describe it and those that assert its
// lineage edges. Packages carry none of their own: the SBOM that lists them
// backs the model or deployment that depends on them, and repeating it on
// thousands of packages would drown the document.
func (x *exporter) evidence(id graph.NodeID) []string {
	n := x.nodes[id]
	switch n.Kind {
	case graph.KindModel, graph.KindDataset, graph.KindDeployment:
	default:
		return nil
	}
	var ds []string
	ds = append(ds, x.describedBy[id]...)
	for _, e := range x.out[id] {
		ds = append(ds, e.Docs...)
	}
	if n.Kind == graph.KindDeployment {
		for _, e := range x.in[id] {
			if e.Kind == graph.DeployedAs {
				ds = append(ds, e.Docs...)
			}
		}
	}
	slices.Sort(ds)
	return slices.Compact(ds)
}

// outTo lists the members an edge of kind leads to from id, sorted by ref.
func (x *exporter) outTo(id graph.NodeID, kind graph.EdgeKind, peer graph.NodeKind) []graph.NodeID {
	var ids []graph.NodeID
	for _, e := range x.out[id] {
		if e.Kind == kind && x.nodes[e.To].Kind == peer {
			ids = append(ids, e.To)
		}
	}
	x.sortByRef(ids)
	return ids
}

// inFrom lists the members with an edge of kind into id, sorted by ref.
func (x *exporter) inFrom(id graph.NodeID, kind graph.EdgeKind, peer graph.NodeKind) []graph.NodeID {
	var ids []graph.NodeID
	for _, e := range x.in[id] {
		if e.Kind == kind && x.nodes[e.From].Kind == peer {
			ids = append(ids, e.From)
		}
	}
	x.sortByRef(ids)
	return ids
}

func (x *exporter) sortByRef(ids []graph.NodeID) {
	slices.SortFunc(ids, func(a, b graph.NodeID) int { return cmp.Compare(x.refs[a], x.refs[b]) })
}
