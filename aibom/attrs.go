package aibom

import (
	"cmp"
	"slices"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/modelgraph/modelgraph/graph"
)

// Property names. CycloneDX reserves the "cdx:" namespace for names
// registered in its property taxonomy; none there describes signatures or
// lineage, so ours live under "modelgraph:", spelled after the taxonomy's
// ABNF (":"-separated namespaces, names of letters, digits, "-", "_").
const (
	propAttr               = "modelgraph:attr:" // + attribute name: a claim with no CycloneDX field
	propKey                = "modelgraph:key"
	propVerification       = "modelgraph:verification:status"
	propVerificationFailed = "modelgraph:verification:failed_documents"
	propEvidence           = "modelgraph:evidence:" // + index + ":" + fact
	propRelation           = "modelgraph:lineage:relation"
	propAncestorRef        = "modelgraph:lineage:ancestor_ref"
	propSplit              = "modelgraph:lineage:split"
	propDeployment         = "modelgraph:deployment:" // + environment|cluster|namespace|endpoint
	propTask               = "modelgraph:task"
	propBuilder            = "modelgraph:builder:id"
	propExportRequest      = "modelgraph:export:request"
	propReproducible       = "cdx:reproducible" // registered in the cdx taxonomy
	propUnmappedDigest     = "modelgraph:digest"
	propAdditionalPurl     = "modelgraph:purl"
)

// attrs hands out a node's claims to CycloneDX fields and remembers which
// were used, so that every claim left over is still exported as a property:
// the BOM loses nothing the graph knows.
type attrs struct {
	as   []graph.Attr
	used []bool
}

func newAttrs(as []graph.Attr) *attrs { return &attrs{as: as, used: make([]bool, len(as))} }

// first returns the first value claimed under the first of names that has
// one. Other values of that name stay unused and become properties, so a
// conflict between documents stays visible.
func (a *attrs) first(names ...string) string {
	for _, name := range names {
		for i, at := range a.as {
			if at.Name == name && strings.TrimSpace(at.Value) != "" {
				a.used[i] = true
				return strings.TrimSpace(at.Value)
			}
		}
	}
	return ""
}

// firstValid is first restricted to values valid accepts; a rejected
// value stays unused and so still reaches the properties.
func (a *attrs) firstValid(valid func(string) bool, names ...string) string {
	for _, name := range names {
		for i, at := range a.as {
			if v := strings.TrimSpace(at.Value); at.Name == name && valid(v) {
				a.used[i] = true
				return v
			}
		}
	}
	return ""
}

// all returns every value claimed under names.
func (a *attrs) all(names ...string) []string {
	var vs []string
	for _, name := range names {
		for i, at := range a.as {
			if at.Name == name && strings.TrimSpace(at.Value) != "" {
				a.used[i] = true
				vs = append(vs, strings.TrimSpace(at.Value))
			}
		}
	}
	slices.Sort(vs)
	return slices.Compact(vs)
}

// rest adds the unused claims as modelgraph:attr:<name> properties.
func (a *attrs) rest(p *props) {
	for i, at := range a.as {
		if !a.used[i] {
			p.add(propAttr+at.Name, at.Value)
		}
	}
}

type props []cdx.Property

func (p *props) add(name, value string) {
	if value != "" {
		*p = append(*p, cdx.Property{Name: name, Value: value})
	}
}

// list returns the properties sorted by name and value, without
// duplicates, or nil when there are none.
func (p props) list() *[]cdx.Property {
	if len(p) == 0 {
		return nil
	}
	out := slices.Clone([]cdx.Property(p))
	slices.SortFunc(out, func(a, b cdx.Property) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Value, b.Value))
	})
	out = slices.Compact(out)
	return &out
}

func ptr[T any](v T) *T { return &v }

// nonEmpty returns &s, or nil for an empty slice: the encoder then omits
// the field, where an empty array would claim "known to be none".
func nonEmpty[T any](s []T) *[]T {
	if len(s) == 0 {
		return nil
	}
	return &s
}
