// Package ingesttest renders a format package's batch as sorted lines, so
// a mapping test compares what a document maps to with the lines it
// expects, whatever the order the mapper emitted nodes and edges in. It
// is test support only: docs/architecture.md marks its row "tests only"
// and TestArchitecture fails when non-test code imports it.
package ingesttest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

// Label names node i of b in edge lines: "Kind(first key)", or
// "Document" for the document's own node.
func Label(b *graph.Batch, i int) string {
	if i == graph.DocNode {
		return "Document"
	}
	n := b.Nodes[i]
	return string(n.Kind) + "(" + n.Keys[0] + ")"
}

// Attrs renders attributes as " {k=v, ...}" sorted by key; "" for none.
func Attrs(as map[string]string) string {
	if len(as) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(as)) {
		parts = append(parts, k+"="+as[k])
	}
	return " {" + strings.Join(parts, ", ") + "}"
}

// Nodes renders every node but the document as "Kind [keys] {attrs}",
// sorted.
func Nodes(b *graph.Batch) []string {
	var out []string
	for i, n := range b.Nodes {
		if i == graph.DocNode {
			continue
		}
		out = append(out, fmt.Sprintf("%s %v%s", n.Kind, n.Keys, Attrs(n.Attrs)))
	}
	slices.Sort(out)
	return out
}

// Edges renders edges as "From -KIND-> To {attrs}", sorted. The subject
// keys Validate records on a DESCRIBES edge are left out when they are
// exactly its subject's keys (and kept, so a comparison fails, when not).
func Edges(b *graph.Batch) []string {
	var out []string
	for _, e := range b.Edges {
		out = append(out, fmt.Sprintf("%s -%s-> %s%s", Label(b, e.From), e.Kind, Label(b, e.To), Attrs(withoutSubjectKeys(b, e))))
	}
	slices.Sort(out)
	return out
}

func withoutSubjectKeys(b *graph.Batch, e graph.EdgeSpec) map[string]string {
	as := maps.Clone(e.Attrs)
	if e.Kind != graph.Describes {
		return as
	}
	want, _ := json.Marshal(slices.Sorted(slices.Values(b.Nodes[e.To].Keys)))
	if as[graph.SubjectKeysAttr] == string(want) {
		delete(as, graph.SubjectKeysAttr)
	}
	return as
}

// SameLines fails the test, listing the unexpected and the missing lines,
// unless got (sorted, as Nodes and Edges give it) holds exactly want's
// lines in any order.
func SameLines(t testing.TB, what string, got, want []string) {
	t.Helper()
	want = slices.Clone(want)
	slices.Sort(want)
	if slices.Equal(got, want) {
		return
	}
	var sb strings.Builder
	for _, g := range got {
		if !slices.Contains(want, g) {
			fmt.Fprintf(&sb, "\n  unexpected: %s", g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			fmt.Fprintf(&sb, "\n  missing:    %s", w)
		}
	}
	t.Errorf("%s differ:%s", what, sb.String())
}
