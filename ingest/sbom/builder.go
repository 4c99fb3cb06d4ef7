package sbom

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	model "github.com/guacsec/guac/pkg/assembler/clients/generated"
	asmhelpers "github.com/guacsec/guac/pkg/assembler/helpers"
	purl "github.com/package-url/packageurl-go"

	"github.com/modelgraph/modelgraph/graph"
	graphref "github.com/modelgraph/modelgraph/graph/ref"
)

// builder accumulates one document's batch. Packages are deduplicated by
// canonical purl, so a package named by thousands of GUAC predicates is one
// node; digests are owned by the first node that claims them, so two
// packages that happen to share a hash are never merged behind the
// document's back.
type builder struct {
	b        *graph.Batch
	pkgs     map[string]int // purl (raw, canonical or plain) -> node
	specs    map[*model.PkgInputSpec]int
	specPurl map[*model.PkgInputSpec]string // PkgInputSpecToPurl of the specs cdxPredicates made, known when it made them
	digests  map[string]int                 // digest key -> owner node
	attrs    map[claimKey][]string          // flushed by flush
	subjects []int
	role     string
	status   map[[2]int]string // AFFECTS status per (vuln, node)
	purls    map[string]purlKeys
}

// canon is canonPurl, memoised: a purl is named by a component, GUAC's
// predicates and the dependency graph.
func (x *builder) canon(p string) (purlKeys, error) {
	if c, ok := x.purls[p]; ok {
		return c, nil
	}
	c, err := canonPurl(p)
	if err == nil {
		x.purls[p] = c
	}
	return c, err
}

func newBuilder(doc graph.Document, role string) *builder {
	return newBuilderSized(doc, role, 0, 0)
}

// newBuilderSized is newBuilder for a document of about n components
// with digests hashes between them: the batch and the maps are sized once
// instead of growing.
func newBuilderSized(doc graph.Document, role string, n, digests int) *builder {
	x := &builder{
		b:        graph.NewBatch(doc),
		pkgs:     make(map[string]int, 3*n),
		specs:    make(map[*model.PkgInputSpec]int, n),
		specPurl: make(map[*model.PkgInputSpec]string, n),
		digests:  make(map[string]int, max(n, digests)),
		attrs:    map[claimKey][]string{},
		role:     role,
		status:   map[[2]int]string{},
		purls:    make(map[string]purlKeys, 2*n),
	}
	if n > 0 {
		x.b.ReserveAll(n+1, 2*n, digests)
	}
	return x
}

// node adds a node of kind with keys, registering the digest keys it owns.
// Digest keys already owned by another node are left off (see builder).
func (x *builder) node(kind graph.NodeKind, keys ...string) int {
	var own []string
	idx := -1
	for _, k := range keys {
		if k == "" {
			continue
		}
		if graph.IsDigestKey(k) {
			if o, ok := x.digests[k]; ok {
				if idx < 0 && x.b.Nodes[o].Kind == kind {
					idx = o
				}
				continue
			}
		}
		own = append(own, k)
	}
	if idx >= 0 {
		for _, k := range own {
			x.addKey(idx, k)
		}
		return idx
	}
	if len(own) == 0 {
		return -1
	}
	i := x.b.Node(kind, own...)
	for _, k := range own {
		if graph.IsDigestKey(k) {
			if _, ok := x.digests[k]; !ok {
				x.digests[k] = i
			}
		}
	}
	return i
}

// addKey attaches key to node i unless another node owns it or i is full.
func (x *builder) addKey(i int, key string) {
	if i < 0 || key == "" {
		return
	}
	dig := graph.IsDigestKey(key)
	if dig {
		if _, ok := x.digests[key]; ok {
			return
		}
	}
	n := &x.b.Nodes[i]
	if slices.Contains(n.Keys, key) {
		return
	}
	if len(n.Keys) >= graph.MaxKeysPerNode {
		x.b.Set(i, "keysOmitted", "true")
		return
	}
	j := x.b.AddKey(i, key) // Node(n.Kind, n.Keys[0], key)
	if j != i {
		// key already named another node of this kind in the batch: leave it.
		return
	}
	if dig {
		x.digests[key] = i
	}
}

// digest attaches alg:value to node i.
func (x *builder) digest(i int, alg, value string) error {
	k, err := graph.DigestKey(alg, value)
	if err != nil {
		return err
	}
	x.addKey(i, k)
	return nil
}

// claim appends a value to a multi-valued attribute; flush joins them
// sorted, so the outcome does not depend on GUAC's map iteration order.
func (x *builder) claim(i int, name, value string) {
	if i < 0 || value == "" {
		return
	}
	k := claimKey{i, name}
	x.attrs[k] = append(x.attrs[k], value)
}

// claimKey is a node's attribute: claims live in one map for the
// document, not a map per node (most nodes get one claim).
type claimKey struct {
	node int
	name string
}

// flush sets every claimed attribute (each its own node attribute, so
// the order of the Sets does not matter).
func (x *builder) flush() {
	for k, vs := range x.attrs {
		slices.Sort(vs)
		vs = slices.Compact(vs)
		v := strings.Join(vs, "; ")
		if len(v) > graph.MaxAttrValueLen {
			v = v[:graph.MaxAttrValueLen]
		}
		x.b.Set(k.node, k.name, v)
	}
	clear(x.attrs)
}

// describe marks i as a subject of the document.
func (x *builder) describe(i int) {
	if i < 0 || slices.Contains(x.subjects, i) {
		return
	}
	x.subjects = append(x.subjects, i)
	x.b.Edge(graph.DocNode, graph.Describes, i, "sbomRole", x.role)
}

// dependsOn adds from -DEPENDS_ON-> to when to is a package.
func (x *builder) dependsOn(from, to int, attrs ...string) {
	if from < 0 || to < 0 || from == to || x.b.Nodes[to].Kind != graph.KindPackage {
		return
	}
	x.b.Edge(from, graph.DependsOn, to, attrs...)
}

// pkgSpec returns the node for a GUAC package spec.
func (x *builder) pkgSpec(s *model.PkgInputSpec) (int, error) {
	if s == nil {
		return -1, nil
	}
	if i, ok := x.specs[s]; ok {
		return i, nil
	}
	p, ok := x.specPurl[s]
	if !ok {
		p = asmhelpers.PkgInputSpecToPurl(s)
	}
	i, err := x.pkg(p)
	if err != nil {
		return -1, err
	}
	x.specs[s] = i
	return i, nil
}

// purlToPkg is GUAC's PurlToPkg(orig) and the purl PkgInputSpecToPurl
// gives back for that spec (what the translation keys the package by),
// memoised process-wide by orig (bounded like purlCache): the two
// conversions build packageurl-go values, maps and strings per package per
// document, and SBOMs name the same packages again and again. Both are pure functions of their input (PurlToPkg orders
// qualifiers by map iteration, PkgInputSpecToPurl sorts them), so the memo
// gives what the conversions give (TestSpecPurlMemo). Each call returns
// its own copy of the spec (the pointers inside are shared and never
// written).
func purlToPkg(orig string) (*model.PkgInputSpec, string, error) {
	specMemo.mu.RLock()
	e, ok := specMemo.m[orig]
	specMemo.mu.RUnlock()
	if ok {
		s := e.spec
		return &s, e.purl, nil
	}
	s, err := asmhelpers.PurlToPkg(orig)
	if err != nil {
		return nil, "", err
	}
	e = specEntry{spec: *s, purl: asmhelpers.PkgInputSpecToPurl(s)}
	specMemo.mu.Lock()
	if len(specMemo.m) >= purlCacheMax {
		clear(specMemo.m)
	}
	specMemo.m[orig] = e
	specMemo.mu.Unlock()
	return s, e.purl, nil
}

type specEntry struct {
	spec model.PkgInputSpec
	purl string
}

var specMemo = struct {
	mu sync.RWMutex
	m  map[string]specEntry
}{m: map[string]specEntry{}}

// pkg returns the node for a purl, creating a Package keyed by the purl
// without qualifiers (what people search for) and the canonical purl.
func (x *builder) pkg(p string) (int, error) {
	if i, ok := x.pkgs[p]; ok {
		return i, nil
	}
	c, err := x.canon(p)
	if err != nil {
		return -1, err
	}
	// p missed above: when it is its canonical form (most purls), that
	// lookup and its store are not repeated.
	same := p == c.canon
	for n, k := range [2]string{c.canon, c.plain} {
		if n == 0 && same {
			continue
		}
		if i, ok := x.pkgs[k]; ok {
			x.pkgs[p] = i
			if !same {
				x.pkgs[c.canon] = i
			}
			return i, nil
		}
	}
	i := x.b.Node(graph.KindPackage, c.plain, c.canon)
	x.setPurlAttrs(i, c)
	x.pkgs[p] = i
	if !same {
		x.pkgs[c.canon] = i
	}
	if c.plain != c.canon {
		x.pkgs[c.plain] = i
	}
	return i, nil
}

// route makes a purl resolve to node i (a Model, Dataset or the described
// node) instead of a new Package.
func (x *builder) route(p string, i int) {
	if p == "" || i < 0 {
		return
	}
	x.pkgs[p] = i
	if c, err := x.canon(p); err == nil {
		x.pkgs[c.canon] = i
		if _, ok := x.pkgs[c.plain]; !ok {
			x.pkgs[c.plain] = i
		}
	}
}

func (x *builder) setPurlAttrs(i int, c purlKeys) {
	x.b.Set(i, "purlType", c.p.Type)
	x.b.Set(i, "namespace", c.p.Namespace)
	x.b.Set(i, "name", c.p.Name)
	x.b.Set(i, "version", c.p.Version)
}

// vuln returns the Vulnerability node for id.
func (x *builder) vuln(id string) int {
	id = normVulnID(id)
	i := x.b.Node(graph.KindVulnerability, graphref.Vuln(id))
	x.b.Set(i, "id", id)
	return i
}

// affects records a VEX/scan statement on the vuln -AFFECTS-> node edge.
// Within one document the strongest status wins, so the result does not
// depend on statement order.
func (x *builder) affects(v, n int, st vexStatus) {
	if v < 0 || n < 0 {
		return
	}
	k := [2]int{v, n}
	if prev, ok := x.status[k]; ok && statusRank(prev) > statusRank(st.status) {
		return
	}
	x.status[k] = st.status
	x.b.Edge(v, graph.Affects, n, "status", st.status, "justification", st.justification,
		"statement", clip(st.statement), "statusNotes", clip(st.notes), "origin", st.origin)
}

type vexStatus struct {
	status, justification, statement, notes, origin string
}

func statusRank(s string) int {
	switch s {
	case "affected":
		return 4
	case "under_investigation":
		return 3
	case "fixed":
		return 2
	case "not_affected":
		return 1
	}
	return 0
}

func clip(s string) string {
	if len(s) > 4096 {
		return s[:4096] + "…"
	}
	return s
}

// normVulnID gives vulnerability ids one spelling across sources (GUAC
// lower-cases them): CVE-2021-44228, GHSA-xxxx-xxxx-xxxx, others upper-case.
func normVulnID(id string) string {
	id = strings.TrimSpace(id)
	u := strings.ToUpper(id)
	if strings.HasPrefix(u, "GHSA-") {
		return "GHSA-" + strings.ToLower(id[5:])
	}
	return u
}

type purlKeys struct {
	canon, plain string
	p            purl.PackageURL
}

// canonPurl normalises a purl the way GUAC stores it (qualifiers sorted,
// OCI repository_url handling), falling back to packageurl-go for types GUAC
// does not know. plain drops qualifiers and subpath.
//
// Results are shared process-wide (purlCache): SBOMs name the same
// packages over and over (numpy, torch, log4j), and the normalisation goes
// through three purl conversions. The values are read-only.
func canonPurl(s string) (purlKeys, error) {
	if c, ok := purlCache.get(s); ok {
		return c, nil
	}
	c, err := canonPurlUncached(s)
	if err == nil {
		purlCache.put(s, c)
	}
	return c, err
}

// purlCache memoises canonPurl, bounded: when it holds purlCacheMax
// purls it starts over, so memory does not grow with the documents.
var purlCache = &purlMemo{m: map[string]purlKeys{}}

const purlCacheMax = 16384

type purlMemo struct {
	mu sync.RWMutex
	m  map[string]purlKeys
}

func (c *purlMemo) get(s string) (purlKeys, bool) {
	c.mu.RLock()
	v, ok := c.m[s]
	c.mu.RUnlock()
	return v, ok
}

func (c *purlMemo) put(s string, v purlKeys) {
	c.mu.Lock()
	if len(c.m) >= purlCacheMax {
		clear(c.m)
	}
	c.m[s] = v
	c.mu.Unlock()
}

func canonPurlUncached(s string) (purlKeys, error) {
	var c purlKeys
	if len(s) > graph.MaxKeyLen {
		return c, fmt.Errorf("purl is %d bytes, limit %d", len(s), graph.MaxKeyLen)
	}
	if spec, err := asmhelpers.PurlToPkg(s); err == nil {
		s = asmhelpers.PkgInputSpecToPurl(spec)
	}
	p, err := purl.FromString(s)
	if err != nil {
		return c, fmt.Errorf("purl %q: %w", truncate(s, 120), err)
	}
	if p.Name == "" {
		return c, fmt.Errorf("purl %q has no name", truncate(s, 120))
	}
	sort.Slice(p.Qualifiers, func(i, j int) bool { return p.Qualifiers[i].Key < p.Qualifiers[j].Key })
	c.p = p
	c.canon = p.ToString()
	q := purl.NewPackageURL(p.Type, p.Namespace, p.Name, p.Version, nil, "")
	c.plain = q.ToString()
	if len(c.canon) > graph.MaxKeyLen {
		return c, fmt.Errorf("purl is %d bytes, limit %d", len(c.canon), graph.MaxKeyLen)
	}
	return c, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func assemblerPurl(s *model.PkgInputSpec) string { return asmhelpers.PkgInputSpecToPurl(s) }
