package query

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/versionrange"
)

// PackageMatch is a package node that matched the purl and range.
type PackageMatch struct {
	Package NodeRef `json:"package"`
	Purl    string  `json:"purl"`
	Version string  `json:"version"`
}

// AffectedNode is a model or deployment reached from a matched package (or
// an advisory), with the path that reached it.
type AffectedNode struct {
	Node Node `json:"node"`
	// Via is the matched package or directly affected node the path
	// starts from.
	Via    NodeRef      `json:"via"`
	Depth  int          `json:"depth"`
	Path   []Hop        `json:"path"`
	Status graph.Status `json:"status"` // weakest hop status on Path
	// For a deployment: whether a model of the walk serves it now
	// ("active"/"withdrawn"), and every such model's history with its
	// windows, so an exposure that ended is still answered.
	State   string   `json:"state,omitempty"`
	History []Served `json:"history,omitempty"`
}

// PackageAnswer answers "what depends on this package version?".
type PackageAnswer struct {
	Packages     []PackageMatch `json:"packages"`
	Affected     []AffectedNode `json:"affected"`
	PageInfo     PageInfo       `json:"pageInfo"`
	TotalCount   int            `json:"totalCount"`
	Truncated    bool           `json:"truncated"`
	DepthLimited bool           `json:"depthLimited"`
}

// packageImpact walks what depends, transitively, on the start packages:
// packages, models and deployments depending on them (DEPENDS_ON), then
// training runs that used one of those packages (USES: the training
// environment or tools), then the models those runs produced, then the
// deployments of every model found. A model a run merely started from does
// not pass the package on: fine-tunes of an affected model do not inherit
// its runtime. Each stage is one bulk graph walk; paths are stitched so
// every node keeps the path that first reached it.
func (s *Service) packageImpact(ctx context.Context, starts []graph.NodeID, depth int) (graph.TraverseResult, error) {
	var out graph.TraverseResult
	index := map[graph.NodeID]int{}
	add := func(res graph.TraverseResult) {
		out.Truncated = out.Truncated || res.Truncated
		out.DepthLimited = out.DepthLimited || res.DepthLimited
		for _, st := range res.Steps {
			if _, seen := index[st.Node.ID]; seen {
				continue
			}
			if st.Via != nil {
				p, ok := index[st.Parent]
				if !ok {
					continue
				}
				st.Depth = out.Steps[p].Depth + 1
			}
			index[st.Node.ID] = len(out.Steps)
			out.Steps = append(out.Steps, st)
		}
	}
	of := func(kinds ...graph.NodeKind) []graph.NodeID {
		var ids []graph.NodeID
		for _, st := range out.Steps {
			if slices.Contains(kinds, st.Node.Kind) {
				ids = append(ids, st.Node.ID)
			}
		}
		return ids
	}
	stage := func(from []graph.NodeID, dir graph.Direction, kind graph.EdgeKind, into []graph.NodeKind, d int) error {
		if len(from) == 0 {
			return nil
		}
		res, err := s.r.Traverse(ctx, graph.TraverseRequest{From: from, Direction: dir, EdgeKinds: []graph.EdgeKind{kind}, NodeKinds: into, MaxDepth: d, Limit: WalkLimit})
		if err != nil {
			return fmt.Errorf("walk %s %s: %w", dir, kind, err)
		}
		add(res)
		return nil
	}
	if err := stage(starts, graph.In, graph.DependsOn, nil, depth); err != nil {
		return out, err
	}
	if err := stage(of(graph.KindPackage), graph.In, graph.Uses, []graph.NodeKind{graph.KindTrainingRun}, 1); err != nil {
		return out, err
	}
	if err := stage(of(graph.KindTrainingRun), graph.In, graph.ProducedBy, []graph.NodeKind{graph.KindModel}, 1); err != nil {
		return out, err
	}
	if err := stage(of(graph.KindModel), graph.Out, graph.DeployedAs, []graph.NodeKind{graph.KindDeployment}, 1); err != nil {
		return out, err
	}
	return out, nil
}

// AffectedByPackage finds the models and deployments that depend,
// transitively, on a package matching purl (type, namespace and name; a
// version in the purl is an exact constraint when versionRange is empty)
// with a version in versionRange (see the range syntax in version.go).
func (s *Service) AffectedByPackage(ctx context.Context, purl, versionRange string, depth int, p Page) (PackageAnswer, error) {
	depth, err := checkDepth(depth)
	if err != nil {
		return PackageAnswer{}, err
	}
	m, err := newPackageMatcher(purl, versionRange)
	if err != nil {
		return PackageAnswer{}, err
	}
	if _, err := p.size(); err != nil {
		return PackageAnswer{}, err
	}
	var out PackageAnswer
	var starts []graph.NodeID
	err = s.scan(ctx, graph.KindPackage, "", func(n graph.Node) (bool, error) {
		if pm, ok := m.match(n); ok {
			out.Packages = append(out.Packages, pm)
			starts = append(starts, n.ID)
		}
		return true, nil
	})
	if err != nil {
		return PackageAnswer{}, err
	}
	if len(starts) == 0 {
		out.Affected = []AffectedNode{}
		out.PageInfo.EndCursor = p.After
		return out, nil
	}
	res, err := s.packageImpact(ctx, starts, depth)
	if err != nil {
		return PackageAnswer{}, fmt.Errorf("walk from packages: %w", err)
	}
	out.Truncated, out.DepthLimited = res.Truncated, res.DepthLimited
	out.Affected, out.PageInfo, out.TotalCount, err = s.affected(ctx, res, p)
	return out, err
}

// affected pages the models and deployments of a walk.
func (s *Service) affected(ctx context.Context, res graph.TraverseResult, p Page) ([]AffectedNode, PageInfo, int, error) {
	var steps []graph.Step
	for _, st := range res.Steps {
		if st.Via != nil && (st.Node.Kind == graph.KindModel || st.Node.Kind == graph.KindDeployment) {
			steps = append(steps, st)
		}
	}
	lo, hi, info, err := window(p, len(steps))
	if err != nil {
		return nil, info, 0, err
	}
	t := newTree(res)
	l := s.loader()
	out := []AffectedNode{}
	for _, st := range steps[lo:hi] {
		hops, err := l.hops(ctx, t, st.Node.ID)
		if err != nil {
			return nil, info, 0, err
		}
		a := AffectedNode{Node: toNode(st.Node), Depth: st.Depth, Path: hops, Status: weakest(hops)}
		if root, ok := t.step(t.root(st.Node.ID)); ok {
			a.Via = toRef(root.Node)
		}
		if st.Node.Kind == graph.KindDeployment {
			d, err := l.current(ctx, t, st, time.Time{})
			if err != nil {
				return nil, info, 0, err
			}
			a.State, a.History = d.State, d.History
		}
		out = append(out, a)
	}
	return out, info, len(steps), nil
}

// root is the start node whose walk reached id.
func (t *tree) root(id graph.NodeID) graph.NodeID {
	for range MaxDepth + 1 {
		st, ok := t.step(id)
		if !ok || st.Parent == "" {
			break
		}
		id = st.Parent
	}
	return id
}

type packageMatcher struct {
	typ, namespace, name string
	rng                  versionrange.Range
}

func newPackageMatcher(purl, versionRange string) (packageMatcher, error) {
	purl = strings.TrimSpace(purl)
	if len(purl) > MaxRefLen {
		return packageMatcher{}, fmt.Errorf("%w: purl is %d bytes, limit %d", ErrInvalidArgument, len(purl), MaxRefLen)
	}
	p, err := packageurl.FromString(purl)
	if err != nil {
		return packageMatcher{}, fmt.Errorf("%w: purl %q: %w", ErrInvalidArgument, clip(purl), err)
	}
	if p.Name == "" {
		return packageMatcher{}, fmt.Errorf("%w: purl %q has no name", ErrInvalidArgument, clip(purl))
	}
	if p.Version != "" && strings.TrimSpace(versionRange) != "" {
		return packageMatcher{}, fmt.Errorf("%w: purl %q has a version and a range is given: use one", ErrInvalidArgument, clip(purl))
	}
	if p.Version != "" {
		versionRange = "==" + p.Version
	}
	r, err := versionrange.Parse(versionRange)
	if err != nil {
		return packageMatcher{}, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	typ, ns, name := normPurl(p)
	return packageMatcher{typ: typ, namespace: ns, name: name, rng: r}, nil
}

var pypiSep = regexp.MustCompile(`[-_.]+`)

// normPurl gives the parts that identify a package across spellings.
func normPurl(p packageurl.PackageURL) (typ, ns, name string) {
	typ = strings.ToLower(p.Type)
	ns, name = p.Namespace, p.Name
	switch typ {
	case "pypi":
		name = pypiSep.ReplaceAllString(strings.ToLower(name), "-")
	case "npm", "github", "gitlab", "bitbucket", "huggingface", "nuget", "docker", "oci", "golang", "apk", "deb", "rpm", "alpm", "composer":
		ns, name = strings.ToLower(ns), strings.ToLower(name)
	}
	return typ, ns, name
}

// match reports whether a Package node carries a matching purl key (or
// purl attribute) with a version in range.
func (m packageMatcher) match(n graph.Node) (PackageMatch, bool) {
	cands := slices.Clone(n.Keys)
	cands = append(cands, n.AttrValues("purl")...)
	for _, k := range cands {
		if !strings.HasPrefix(k, "pkg:") {
			continue
		}
		p, err := packageurl.FromString(k)
		if err != nil {
			continue
		}
		typ, ns, name := normPurl(p)
		if typ != m.typ || ns != m.namespace || name != m.name {
			continue
		}
		version := p.Version
		if version == "" {
			version = n.Attr("version")
		}
		if m.rng.Match(version) {
			return PackageMatch{Package: toRef(n), Purl: k, Version: version}, true
		}
	}
	return PackageMatch{}, false
}
