package sbom

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

// TestCycloneDXWithoutMetadataComponent: a BOM naming no metadata
// component (so no purl for what it describes) keeps its components (GUAC
// alone would drop all of them), and what is left out is recorded on the
// document.
func TestCycloneDXWithoutMetadataComponent(t *testing.T) {
	comps := []map[string]any{{"type": "operating-system", "name": "debian", "version": "12"}}
	for i := range 300 {
		comps = append(comps, map[string]any{"type": "library", "name": fmt.Sprintf("n%d", i), "version": "1", "purl": fmt.Sprintf("pkg:npm/n%d@1", i), "bom-ref": fmt.Sprintf("r%d", i)})
	}
	raw, _ := json.Marshal(map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": comps})
	b, err := Parse(t.Context(), raw, graph.Document{Source: "no-meta.json"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pkgs := 0
	for _, n := range b.Nodes {
		if n.Kind == graph.KindPackage {
			pkgs++
		}
	}
	doc := b.Nodes[graph.DocNode].Attrs
	if pkgs != 300 || !strings.Contains(doc["skippedComponents"], "1 operating-system") || !strings.Contains(doc["guacError"], "no metadata.component") {
		t.Errorf("%d packages, doc attrs %v", pkgs, doc)
	}
}
