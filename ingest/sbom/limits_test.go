package sbom

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/statement"
)

func withLimit(t *testing.T, v *int, n int) {
	old := *v
	*v = n
	t.Cleanup(func() { *v = old })
}

func wantTooLarge(t *testing.T, data []byte, field string) {
	t.Helper()
	b, err := Parse(t.Context(), data, graph.Document{Source: "big"}, Options{})
	if b != nil || !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrInvalidDocument) || !strings.Contains(err.Error(), field) {
		t.Fatalf("err = %v, want ErrTooLarge naming %q", err, field)
	}
}

func TestLimits(t *testing.T) {
	t.Run("bytes", func(t *testing.T) {
		withLimit(t, &maxDocumentBytes, 1000)
		wantTooLarge(t, fixture(t, "guac-alpine-cyclonedx.json"), "limit 1000")
	})
	t.Run("decompressed", func(t *testing.T) {
		withLimit(t, &maxDecompressedBytes, 1<<20)
		var buf bytes.Buffer
		zw, _ := zstd.NewWriter(&buf)
		_, _ = zw.Write([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","x":"`))
		_, _ = zw.Write(bytes.Repeat([]byte("a"), 4<<20))
		_ = zw.Close()
		if buf.Len() > 1<<20 {
			t.Fatalf("test input compressed to %d bytes", buf.Len())
		}
		wantTooLarge(t, buf.Bytes(), "decompressed size")
	})
	t.Run("json-nesting", func(t *testing.T) {
		deep := `{"bomFormat":"CycloneDX","specVersion":"1.6","x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`
		wantTooLarge(t, []byte(deep), "nesting")
	})
	t.Run("xml-nesting", func(t *testing.T) {
		deep := `<bom xmlns="http://cyclonedx.org/schema/bom/1.6">` + strings.Repeat("<a>", 200) + strings.Repeat("</a>", 200) + `</bom>`
		wantTooLarge(t, []byte(deep), "nesting")
	})
	t.Run("components", func(t *testing.T) {
		withLimit(t, &maxComponents, 100)
		wantTooLarge(t, fixture(t, "cdx-keycloak-10.0.2.json"), "components")
		wantTooLarge(t, fixture(t, "cdx-dropwizard-1.3.15.xml"), "components")
	})
	t.Run("spdx-packages", func(t *testing.T) {
		withLimit(t, &maxComponents, 5)
		wantTooLarge(t, fixture(t, "guac-alpine-spdx.json"), "packages+files")
	})
	t.Run("dependencies", func(t *testing.T) {
		withLimit(t, &maxRelationships, 50)
		wantTooLarge(t, fixture(t, "cdx-keycloak-10.0.2.json"), "dependencies")
	})
	t.Run("vulnerabilities", func(t *testing.T) {
		withLimit(t, &maxVulnerabilities, 0)
		wantTooLarge(t, fixture(t, "guac-rhsa-csaf.json"), "vulnerabilities")
		wantTooLarge(t, fixture(t, "guac-open-vex-affected.json"), "statements")
		wantTooLarge(t, fixture(t, "guac-cyclonedx-vex-affected.json"), "vulnerabilities")
	})
	t.Run("subjects", func(t *testing.T) {
		withLimit(t, &maxSubjects, 1)
		subs := []statement.Subject{
			{Name: "a", Digest: map[string]string{"sha256": strings.Repeat("a", 64)}},
			{Name: "b", Digest: map[string]string{"sha256": strings.Repeat("b", 64)}},
		}
		wantTooLarge(t, statementJSON(t, "https://cyclonedx.org/bom", fixture(t, "mg-mlbom-1.6.json"), subs...), "subject")
	})
}

// Nested components deeper than the limit fail before any parser recurses.
func TestComponentNesting(t *testing.T) {
	withLimit(t, &maxNesting, 16)
	var b strings.Builder
	b.WriteString(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[`)
	for i := range 10 {
		b.WriteString(`{"type":"library","name":"c` + string(rune('a'+i)) + `","components":[`)
	}
	b.WriteString(strings.Repeat("]}", 10) + `]}`)
	wantTooLarge(t, []byte(b.String()), "nest")
}

// The direct mapping (what a BOM GUAC's semantics reject falls back to)
// reaches the same packages from the described node as GUAC's semantics.
func TestDirectMappingReachesTheSame(t *testing.T) {
	for _, name := range []string{"cdx-keycloak-10.0.2.json", "guac-quarkus-deps-cyclonedx.json", "mg-mlbom-1.6.json"} {
		viaGUAC := parseFixture(t, name, Options{})
		func() {
			cdxMode = cdxForceDirect
			defer func() { cdxMode = cdxAuto }()
			direct := parseFixture(t, name, Options{})
			if direct.Nodes[graph.DocNode].Attrs["parser"] != "modelgraph" || !strings.Contains(direct.Nodes[graph.DocNode].Attrs["guacError"], "direct") {
				t.Fatalf("%s: parser %v", name, direct.Nodes[graph.DocNode].Attrs)
			}
			if a, b := reach(viaGUAC), reach(direct); !slices.Equal(a, b) {
				t.Errorf("%s: described node reaches %d packages via GUAC, %d directly", name, len(a), len(b))
			}
		}()
	}
}

// reach lists the first keys of the packages reachable from the described
// nodes along DEPENDS_ON.
func reach(b *graph.Batch) []string {
	out := map[int][]int{}
	for _, e := range b.Edges {
		if e.Kind == graph.DependsOn {
			out[e.From] = append(out[e.From], e.To)
		}
	}
	seen := map[int]bool{}
	queue := described(b)
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, j := range out[i] {
			if !seen[j] {
				seen[j] = true
				queue = append(queue, j)
			}
		}
	}
	var keys []string
	for i := range seen {
		keys = append(keys, b.Nodes[i].Keys[0])
	}
	slices.Sort(keys)
	return keys
}
