package aibom

import (
	"cmp"
	"slices"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/modelgraph/modelgraph/graph"
)

const formulaRef = "formulation-training"

func parseTime(v string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil
}

// timeAttr returns the first claimed value of names that is an RFC 3339
// time, normalised to UTC; others stay unused and become properties.
func timeAttr(a *attrs, names ...string) string {
	v := a.firstValid(func(v string) bool { _, ok := parseTime(v); return ok }, names...)
	if v == "" {
		return ""
	}
	t, _ := parseTime(v)
	return t.UTC().Format(time.RFC3339Nano)
}

// formulation describes how the models were made: one workflow per
// training run, with a single task (CycloneDX has no "train" task type, so
// the task is a "build" with modelgraph:task=train) whose inputs are the
// run's datasets, base models, packages and sources, and whose outputs are
// the models and datasets it produced. Packages used only in training are
// the formula's own components, kept apart from what the model runs with.
func (x *exporter) formulation(buildOnly []cdx.Component) *[]cdx.Formula {
	var workflows []cdx.Workflow
	for _, id := range x.order {
		if x.nodes[id].Kind == graph.KindTrainingRun {
			workflows = append(workflows, x.workflow(id))
		}
	}
	if len(workflows) == 0 && len(buildOnly) == 0 {
		return nil
	}
	f := cdx.Formula{
		BOMRef:     formulaRef,
		Components: nonEmpty(buildOnly),
		Workflows:  nonEmpty(workflows),
	}
	return &[]cdx.Formula{f}
}

func (x *exporter) workflow(id graph.NodeID) cdx.Workflow {
	n := x.nodes[id]
	a := newAttrs(n.Attrs)
	var p props
	ref := x.refs[id]
	uid := string(n.ID)
	for _, k := range n.Keys {
		if !graph.IsDigestKey(k) {
			uid = k
			break
		}
	}
	for _, k := range n.Keys {
		p.add(propKey, k)
	}
	name := displayName(n, a)

	var inputs []cdx.TaskInput
	for _, e := range x.out[id] {
		if e.Kind != graph.Uses && e.Kind != graph.DependsOn {
			continue
		}
		peer := x.nodes[e.To]
		switch peer.Kind {
		case graph.KindDataset, graph.KindModel, graph.KindPackage:
			inputs = append(inputs, cdx.TaskInput{Resource: &cdx.ResourceReferenceChoice{Ref: x.refs[e.To]}})
		case graph.KindSource:
			er := sourceRef(peer)
			inputs = append(inputs, cdx.TaskInput{Resource: &cdx.ResourceReferenceChoice{ExternalReference: &er}})
		}
	}
	slices.SortFunc(inputs, func(a, b cdx.TaskInput) int { return cmp.Compare(resourceKey(a.Resource), resourceKey(b.Resource)) })
	inputs = slices.CompactFunc(inputs, func(a, b cdx.TaskInput) bool { return resourceKey(a.Resource) == resourceKey(b.Resource) })

	var outputs []cdx.TaskOutput
	produced := append(x.inFrom(id, graph.ProducedBy, graph.KindModel), x.inFrom(id, graph.ProducedBy, graph.KindDataset)...)
	x.sortByRef(produced)
	for _, o := range produced {
		outputs = append(outputs, cdx.TaskOutput{Type: cdx.TaskOutputTypeArtifact, Resource: &cdx.ResourceReferenceChoice{Ref: x.refs[o]}})
	}

	start := timeAttr(a, "startedOn", "started_on", "started_at")
	end := timeAttr(a, "finishedOn", "finished_on", "finished_at")
	p.add(propTask, "train")
	p.add(propBuilder, a.first("builderId", "builder_id", "builder"))
	a.rest(&p)

	task := cdx.Task{
		BOMRef:    ref + "-train",
		UID:       uid + "#train",
		Name:      "train",
		TaskTypes: &[]cdx.TaskType{cdx.TaskTypeBuild},
		Inputs:    nonEmpty(inputs),
		Outputs:   nonEmpty(outputs),
		TimeStart: start,
		TimeEnd:   end,
		// No task properties: cyclonedx-go writes them where the XSD
		// does not allow them; modelgraph:task is on the workflow.
	}
	return cdx.Workflow{
		BOMRef:     ref,
		UID:        uid,
		Name:       name,
		TaskTypes:  &[]cdx.TaskType{cdx.TaskTypeBuild},
		Tasks:      &[]cdx.Task{task},
		TimeStart:  start,
		TimeEnd:    end,
		Properties: p.list(),
	}
}

func resourceKey(r *cdx.ResourceReferenceChoice) string {
	switch {
	case r == nil:
		return ""
	case r.Ref != "":
		return "ref " + r.Ref
	case r.ExternalReference != nil:
		return "url " + r.ExternalReference.URL
	}
	return ""
}
