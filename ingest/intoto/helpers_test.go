package intoto_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/intoto"
	"github.com/modelgraph/modelgraph/ingest/statement"
)

const testdata = "../../testdata/intoto"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// payload returns the statement bytes of a fixture: the base64 payload of a
// DSSE envelope, or the file itself. (Test code only: envelopes are opened
// and verified by ingest/envelope.)
func payload(t testing.TB, raw []byte) []byte {
	t.Helper()
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
	}
	if json.Unmarshal(raw, &env) == nil && env.Payload != "" {
		b, err := base64.StdEncoding.DecodeString(env.Payload)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return raw
}

// ingest decodes a fixture and maps it with doc (Digest/Source filled in).
func ingest(t testing.TB, name string, sigs ...graph.Signature) *graph.Batch {
	t.Helper()
	raw := readFixture(t, name)
	st, err := statement.Decode(payload(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	b, err := intoto.FromStatement(st, graph.Document{Digest: graph.SHA256Key(raw), Source: name, Size: int64(len(raw)), Signatures: sigs})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// mapStatement maps an inline statement.
func mapStatement(t testing.TB, js string) (*graph.Batch, error) {
	t.Helper()
	st, err := statement.Decode([]byte(js))
	if err != nil {
		t.Fatalf("test statement does not decode: %v", err)
	}
	return intoto.FromStatement(st, graph.Document{Digest: graph.SHA256Key([]byte(js)), Source: "inline.json"})
}

func label(b *graph.Batch, i int) string {
	if i == graph.DocNode {
		return "Document"
	}
	n := b.Nodes[i]
	return string(n.Kind) + "(" + n.Keys[0] + ")"
}

func attrString(as map[string]string) string {
	if len(as) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(as)) {
		parts = append(parts, k+"="+as[k])
	}
	return " {" + strings.Join(parts, ", ") + "}"
}

// nodes renders every node but the document as "Kind [keys] {attrs}", sorted.
func nodes(b *graph.Batch) []string {
	var out []string
	for i, n := range b.Nodes {
		if i == graph.DocNode {
			continue
		}
		out = append(out, fmt.Sprintf("%s %v%s", n.Kind, n.Keys, attrString(n.Attrs)))
	}
	slices.Sort(out)
	return out
}

// edges renders edges as "From -KIND-> To {attrs}", sorted.
func edges(b *graph.Batch) []string {
	var out []string
	for _, e := range b.Edges {
		out = append(out, fmt.Sprintf("%s -%s-> %s%s", label(b, e.From), e.Kind, label(b, e.To), attrString(withoutSubjectKeys(b, e))))
	}
	slices.Sort(out)
	return out
}

func sameLines(t *testing.T, what string, got, want []string) {
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

func h(c string) string { return strings.Repeat(c, 64) }

// withoutSubjectKeys drops the subject keys Validate records on a DESCRIBES
// edge when they are exactly its subject spec's keys (kept, so the
// comparison fails, when they are not).
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
