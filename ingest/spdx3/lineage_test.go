package spdx3

import (
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

// lineageDoc is a small SPDX 3 AI-BOM exercising the relationships the
// spdx-examples do not: a build with inputs and outputs, descendantOf,
// generates, hasVariant, a hub model and energy consumption.
const lineageDoc = `{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": [
 {"type": "CreationInfo", "@id": "_:ci", "specVersion": "3.0.1", "created": "2026-01-02T03:04:05Z", "createdBy": ["urn:t:agent"]},
 {"type": "Organization", "spdxId": "urn:t:agent", "creationInfo": "_:ci", "name": "Acme"},
 {"type": "SpdxDocument", "spdxId": "urn:t:doc", "creationInfo": "_:ci", "rootElement": ["urn:t:tuned"]},
 {"type": "ai_AIPackage", "spdxId": "urn:t:base", "creationInfo": "_:ci", "name": "llm-7b",
  "software_downloadLocation": "https://huggingface.co/acme/llm-7b", "software_primaryPurpose": "model"},
 {"type": "ai_AIPackage", "spdxId": "urn:t:tuned", "creationInfo": "_:ci", "name": "llm-7b-chat",
  "verifiedUsing": [{"type": "Hash", "algorithm": "sha256", "hashValue": "1111111111111111111111111111111111111111111111111111111111111111"}],
  "ai_limitation": "English only", "ai_autonomyType": "no",
  "ai_energyConsumption": {"type": "ai_EnergyConsumption",
    "ai_trainingEnergyConsumption": [{"type": "ai_EnergyConsumptionDescription", "ai_energyQuantity": 12.5, "ai_energyUnit": "kilowattHour"}]}},
 {"type": "ai_AIPackage", "spdxId": "urn:t:q4", "creationInfo": "_:ci", "name": "llm-7b-chat-q4",
  "verifiedUsing": [{"type": "Hash", "algorithm": "sha256", "hashValue": "2222222222222222222222222222222222222222222222222222222222222222"}]},
 {"type": "dataset_DatasetPackage", "spdxId": "urn:t:raw", "creationInfo": "_:ci", "name": "chats-raw", "dataset_datasetType": ["text"],
  "software_downloadLocation": "s3://acme-data/chats/raw/"},
 {"type": "dataset_DatasetPackage", "spdxId": "urn:t:clean", "creationInfo": "_:ci", "name": "chats-clean", "dataset_datasetType": ["text"],
  "software_downloadLocation": "s3://acme-data/chats/clean/", "dataset_hasSensitivePersonalInformation": "yes"},
 {"type": "build_Build", "spdxId": "urn:t:run", "creationInfo": "_:ci", "build_buildType": "https://acme.example/train/v1",
  "build_buildId": "run-42", "build_buildStartTime": "2026-01-01T00:00:00Z", "build_buildEndTime": "2026-01-01T06:00:00Z"},
 {"type": "Relationship", "spdxId": "urn:t:r1", "creationInfo": "_:ci", "from": "urn:t:run", "relationshipType": "hasInput", "to": ["urn:t:base", "urn:t:clean"]},
 {"type": "Relationship", "spdxId": "urn:t:r2", "creationInfo": "_:ci", "from": "urn:t:run", "relationshipType": "hasOutput", "to": ["urn:t:tuned"]},
 {"type": "Relationship", "spdxId": "urn:t:r3", "creationInfo": "_:ci", "from": "urn:t:tuned", "relationshipType": "descendantOf", "to": ["urn:t:base"]},
 {"type": "Relationship", "spdxId": "urn:t:r4", "creationInfo": "_:ci", "from": "urn:t:raw", "relationshipType": "generates", "to": ["urn:t:clean"]},
 {"type": "Relationship", "spdxId": "urn:t:r5", "creationInfo": "_:ci", "from": "urn:t:tuned", "relationshipType": "trainedOn", "to": ["urn:t:clean"]},
 {"type": "Relationship", "spdxId": "urn:t:r6", "creationInfo": "_:ci", "from": "urn:t:tuned", "relationshipType": "hasVariant", "to": ["urn:t:q4"]},
 {"type": "Relationship", "spdxId": "urn:t:r7", "creationInfo": "_:ci", "from": "urn:t:tuned", "relationshipType": "hasDocumentation", "to": ["urn:t:base"]}
]}`

func TestLineageRelationships(t *testing.T) {
	b, err := Parse([]byte(lineageDoc), graph.Document{Source: "lineage.spdx3.json"})
	if err != nil {
		t.Fatal(err)
	}
	node := func(key string) int {
		t.Helper()
		for i, n := range b.Nodes {
			for _, k := range n.Keys {
				if k == key {
					return i
				}
			}
		}
		t.Fatalf("no node keyed %s", key)
		return -1
	}
	has := func(from int, kind graph.EdgeKind, to int) map[string]string {
		t.Helper()
		for _, e := range b.Edges {
			if e.From == from && e.Kind == kind && e.To == to {
				return e.Attrs
			}
		}
		t.Errorf("missing %v -%s-> %v", b.Nodes[from].Keys, kind, b.Nodes[to].Keys)
		return nil
	}
	base, tuned, q4 := node("hf://acme/llm-7b"), node("sha256:1111111111111111111111111111111111111111111111111111111111111111"), node("urn:t:q4")
	raw, clean, run := node("s3://acme-data/chats/raw/"), node("s3://acme-data/chats/clean/"), node("run:run-42")
	if b.Nodes[base].Kind != graph.KindModel || b.Nodes[run].Kind != graph.KindTrainingRun {
		t.Fatalf("base is a %s, run a %s", b.Nodes[base].Kind, b.Nodes[run].Kind)
	}
	has(run, graph.Uses, base)
	has(run, graph.Uses, clean)
	has(tuned, graph.ProducedBy, run)
	has(tuned, graph.DerivedFrom, base)
	if a := has(clean, graph.DerivedFrom, raw); a["relation"] != "generated" {
		t.Errorf("generates: relation %q", a["relation"])
	}
	if a := has(tuned, graph.TrainedOn, clean); a["split"] != "train" {
		t.Errorf("trainedOn: split %q", a["split"])
	}
	for name, want := range map[string]string{
		"energyTraining": "12.5 kilowattHour", "limitations": "English only", "autonomyType": "no",
	} {
		if got := b.Nodes[tuned].Attrs[name]; got != want {
			t.Errorf("tuned %s = %q, want %q", name, got, want)
		}
	}
	if got := b.Nodes[q4].Attrs["variantOf"]; got != b.Nodes[tuned].Keys[0] {
		t.Errorf("variantOf = %q", got)
	}
	if b.Nodes[clean].Attrs["pii"] != "true" {
		t.Errorf("clean pii = %q", b.Nodes[clean].Attrs["pii"])
	}
	if got := b.Nodes[run].Attrs["startedOn"]; got != "2026-01-01T00:00:00Z" {
		t.Errorf("run startedOn = %q", got)
	}
	if got := b.Nodes[graph.DocNode].Attrs["unmappedRelationships"]; !strings.Contains(got, "hasDocumentation:1") {
		t.Errorf("unmappedRelationships = %q", got)
	}
}
