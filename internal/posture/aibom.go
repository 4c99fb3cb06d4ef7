package posture

import (
	"context"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/modelgraph/modelgraph/graph"
)

// AI-BOM property names (CycloneDX properties on model and deployment
// components; docs/aibom.md).
const (
	PropLevel   = "modelgraph:posture:level"    // L0..L3
	PropControl = "modelgraph:posture:control:" // + control id: passed|failed|unknown|not-applicable
	PropMissing = "modelgraph:posture:missing"  // controls missing for the next level, comma-separated
)

// Annotator returns an aibom.Request.Annotate function giving each model
// and deployment component its posture as properties. One annotator shares
// its caches across the components of one export.
func (s *Service) Annotator() func(ctx context.Context, n graph.Node) ([]cdx.Property, error) {
	e := s.newEval()
	return func(ctx context.Context, n graph.Node) ([]cdx.Property, error) {
		if n.Kind != graph.KindModel && n.Kind != graph.KindDeployment {
			return nil, nil
		}
		p, err := e.posture(ctx, n)
		if err != nil {
			return nil, err
		}
		out := []cdx.Property{{Name: PropLevel, Value: p.LevelName}}
		for _, c := range p.Controls {
			out = append(out, cdx.Property{Name: PropControl + c.ID, Value: string(c.Result)})
		}
		if len(p.Missing) > 0 {
			out = append(out, cdx.Property{Name: PropMissing, Value: strings.Join(p.Missing, ",")})
		}
		return out, nil
	}
}
