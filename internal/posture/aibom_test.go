package posture_test

import (
	"context"
	"testing"

	"github.com/modelgraph/modelgraph/aibom"
	"github.com/modelgraph/modelgraph/internal/posture"
)

// The AI-BOM of the deployment carries the posture level and every control
// as CycloneDX properties, on the deployment and on the model it serves,
// and the completeness score.
func TestAIBOMProperties(t *testing.T) {
	s, pol := newSigners(t)
	w := newWorld(t, pol)
	for _, d := range buildChain(t, s, chainOpts{noScorecard: true}) {
		w.push(t, d.name, d.data)
	}
	ctx := context.Background()
	req, err := aibom.RequestFor(ctx, w.store, depRef, "", "test")
	if err != nil {
		t.Fatal(err)
	}
	req.Annotate = w.ps.Annotator()
	bom, err := aibom.Export(ctx, w.store, req)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]string{}
	add := func(key string, name, value string) {
		if got[key] == nil {
			got[key] = map[string]string{}
		}
		got[key][name] = value
	}
	if bom.Metadata.Component.Properties != nil {
		for _, p := range *bom.Metadata.Component.Properties {
			add("subject:"+bom.Metadata.Component.Name, p.Name, p.Value)
		}
	}
	for _, c := range *bom.Components {
		if c.Properties != nil {
			for _, p := range *c.Properties {
				add(c.Name, p.Name, p.Value)
			}
		}
	}
	var dep, model map[string]string
	for k, m := range got {
		if m[posture.PropLevel] != "" && m[posture.PropControl+posture.DeploymentSigned] == "passed" {
			dep = m
		}
		if m[posture.PropLevel] != "" && m[posture.PropControl+posture.DeploymentSigned] == "not-applicable" && k == chat.name {
			model = m
		}
	}
	if dep == nil || dep[posture.PropLevel] != "L2" || dep[posture.PropMissing] != posture.SourceScorecard || dep[posture.PropControl+posture.SourceScorecard] != "unknown" {
		t.Fatalf("deployment posture properties = %v (all: %v)", dep, got)
	}
	if model == nil || model[posture.PropLevel] != "L2" || model[posture.PropControl+posture.WeightsSigned] != "passed" {
		t.Fatalf("model posture properties = %v (all: %v)", model, got)
	}
	if model["modelgraph:aibom:completeness"] == "" || model["modelgraph:aibom:missing_fields"] == "" {
		t.Errorf("model completeness = %v", model)
	}
	var overall string
	for _, p := range *bom.Metadata.Properties {
		if p.Name == "modelgraph:aibom:completeness" {
			overall = p.Value
		}
	}
	if overall == "" || overall == "1.00" {
		t.Errorf("BOM completeness = %q", overall)
	}
}
