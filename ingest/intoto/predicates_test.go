package intoto_test

import (
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/intoto"
)

// digests in the examples: <N> is N repeated 64 times.
var expand = strings.NewReplacer("<1>", h("1"), "<2>", h("2"), "<3>", h("3"), "<4>", h("4"),
	"<5>", h("5"), "<6>", h("6"), "<7>", h("7"), "<8>", h("8"), "<9>", h("9"))

func expandAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = expand.Replace(s)
	}
	return out
}

// Each example predicate maps to exactly these nodes and edges.
func TestExamples(t *testing.T) {
	const (
		run1    = "run:https://ml.acme.example/runners/gpu@v2|train-2024-05-01-001"
		src     = "git+https://github.com/acme/trainer@abcdef0123456789abcdef0123456789abcdef01"
		trainer = "pkg:oci/trainer-cuda@sha256%3A<7>?repository_url=ghcr.io%2Facme%2Ftrainer-cuda"
		server  = "pkg:oci/llama-cpp-server@sha256%3A<6>?repository_url=ghcr.io%2Facme%2Fllama-cpp-server"
	)
	tests := []struct {
		file, docType string
		nodes, edges  []string
		docAttrs      map[string]string
	}{{
		file: "slsa-v1-training.intoto.json", docType: intoto.DocSLSAProvenance,
		nodes: []string{
			"Dataset [sha256:<2> s3://acme-data/datasets/clinical-notes/v3/] {name=clinical-notes, uri=s3://acme-data/datasets/clinical-notes/v3/}",
			"Model [sha256:<3>] {name=llm-7b/model.safetensors}",
			"Package [pkg:pypi/torch@2.3.0] {purl=pkg:pypi/torch@2.3.0, uri=pkg:pypi/torch@2.3.0}",
			"Package [sha256:<7> " + trainer + "] {image=ghcr.io/acme/trainer-cuda, purl=" + trainer + ", uri=oci://ghcr.io/acme/trainer-cuda@sha256:<7>}",
			"Source [" + src + "] {commit=abcdef0123456789abcdef0123456789abcdef01, ref=refs/heads/main, uri=git+https://github.com/acme/trainer}",
			"TrainingRun [" + run1 + "] {buildType=https://ml.acme.example/buildtypes/training/v1, builderId=https://ml.acme.example/runners/gpu@v2, finishedOn=2024-05-03T17:30:00Z, invocationId=train-2024-05-01-001, parameters={\"config\":\"configs/llm-7b.yaml\",\"epochs\":3,\"learning_rate\":0.0003}, runType=training, startedOn=2024-05-01T08:00:00Z}",
		},
		edges: []string{
			"Document -DESCRIBES-> Model(sha256:<3>)",
			"Model(sha256:<3>) -BUILT_FROM-> Source(" + src + ")",
			"Model(sha256:<3>) -DEPENDS_ON-> Package(sha256:<7>)",
			"Model(sha256:<3>) -PRODUCED_BY-> TrainingRun(" + run1 + ")",
			"Model(sha256:<3>) -TRAINED_ON-> Dataset(sha256:<2>) {split=train}",
			"TrainingRun(" + run1 + ") -USES-> Dataset(sha256:<2>) {role=resolvedDependency}",
			"TrainingRun(" + run1 + ") -USES-> Package(pkg:pypi/torch@2.3.0) {role=builderDependency}",
			"TrainingRun(" + run1 + ") -USES-> Package(sha256:<7>) {role=resolvedDependency}",
			"TrainingRun(" + run1 + ") -USES-> Source(" + src + ") {role=resolvedDependency}",
		},
	}, {
		file: "aixv-training.intoto.json", docType: intoto.DocAIXVTraining,
		nodes: []string{
			"Dataset [sha256:<2> s3://acme-data/datasets/clinical-notes/v3/] {uri=s3://acme-data/datasets/clinical-notes/v3/}",
			"Model [sha256:<3> hf://acme/llm-7b name:acme/llm-7b]",
			"Model [sha256:<4> hf://acme/llm-7b-chat name:acme/llm-7b-chat] {name=llm-7b-chat/model.safetensors, uri=hf://acme/llm-7b-chat}",
			"Package [sha256:<7>]",
			"Source [sha256:<8>]",
			"TrainingRun [run:ft-2024-06-02] {framework=pytorch, frameworkVersion=2.3.0, hyperparameters={\"epochs\":2,\"learning_rate\":2e-05,\"lora_rank\":16}, invocationId=ft-2024-06-02, runType=training}",
		},
		edges: []string{
			"Document -DESCRIBES-> Model(sha256:<4>)",
			"Model(sha256:<4>) -BUILT_FROM-> Source(sha256:<8>)",
			"Model(sha256:<4>) -DERIVED_FROM-> Model(sha256:<3>) {relation=finetune}",
			"Model(sha256:<4>) -PRODUCED_BY-> TrainingRun(run:ft-2024-06-02)",
			"Model(sha256:<4>) -TRAINED_ON-> Dataset(sha256:<2>) {split=train}",
			"TrainingRun(run:ft-2024-06-02) -DEPENDS_ON-> Package(sha256:<7>) {role=environment}",
			"TrainingRun(run:ft-2024-06-02) -USES-> Dataset(sha256:<2>) {role=dataset}",
			"TrainingRun(run:ft-2024-06-02) -USES-> Model(sha256:<3>) {role=parent}",
			"TrainingRun(run:ft-2024-06-02) -USES-> Source(sha256:<8>) {role=code}",
		},
	}, {
		file: "aixv-advisory.intoto.json", docType: intoto.DocAIXVAdvisory,
		nodes: []string{
			"Advisory [advisory:AIXV-2024-0007] {advisoryId=AIXV-2024-0007, reasonCode=training-data-contamination, recommendedActions=[\"rollback\",\"retrain\"], references=[\"https://security.acme.example/AIXV-2024-0007\"], selectors=[\"hf://acme/*\"], severity=high, status=active, summary=PHI found in clinical-notes v3.}",
			"Dataset [sha256:<2>]",
			"Model [sha256:<3>]",
			"Model [sha256:<4>] {name=llm-7b-chat/model.safetensors}",
		},
		edges: []string{
			"Advisory(advisory:AIXV-2024-0007) -AFFECTS-> Dataset(sha256:<2>) {status=active}",
			"Advisory(advisory:AIXV-2024-0007) -AFFECTS-> Model(sha256:<3>) {selector=descendants, status=active}",
			"Advisory(advisory:AIXV-2024-0007) -AFFECTS-> Model(sha256:<4>) {status=active}",
			"Document -DESCRIBES-> Model(sha256:<4>)",
		},
	}, {
		file: "aixv-deployment.intoto.json", docType: intoto.DocAIXVDeployment,
		nodes: []string{
			"Deployment [deployment:production/us-east-1/ml-serving/chat-api] {cluster=us-east-1, endpoint=https://api.acme.example/chat, environment=production, namespace=ml-serving, policyId=prod-admission-v4, service=chat-api}",
			"Model [sha256:<4>] {name=llm-7b-chat/model.safetensors}",
		},
		edges: []string{
			"Document -DESCRIBES-> Model(sha256:<4>)",
			"Model(sha256:<4>) -DEPLOYED_AS-> Deployment(deployment:production/us-east-1/ml-serving/chat-api) {deployedAt=2024-06-03T12:00:00Z, status=active}",
		},
		docAttrs: map[string]string{"policyId": "prod-admission-v4", "policyDecision": "allow", "evidence": `["sha256:<9>"]`},
	}, {
		file: "dataset-raw.intoto.json", docType: intoto.DocDataset,
		nodes: []string{
			"Dataset [sha256:<1> name:acme/clinical-notes-raw@2024-01 s3://acme-data/datasets/clinical-notes-raw/2024-01/] {collectionEnd=2023-12-31, collectionMethod=EHR export, collectionSources=[\"ehr://hospital-a\"], collectionStart=2023-01-01, description=Discharge notes exported from the EHR., license=LicenseRef-acme-internal, name=acme/clinical-notes-raw, phi=true, pii=true, sensitiveCategories=health,names, uri=s3://acme-data/datasets/clinical-notes-raw/2024-01/, version=2024-01}",
		},
		edges: []string{"Document -DESCRIBES-> Dataset(sha256:<1>)"},
	}, {
		file: "dataset-derived.intoto.json", docType: intoto.DocDataset,
		nodes: []string{
			"Dataset [sha256:<1> name:acme/clinical-notes-raw@2024-01] {name=acme/clinical-notes-raw, version=2024-01}",
			"Dataset [sha256:<2> name:acme/clinical-notes@v3 s3://acme-data/datasets/clinical-notes/v3/] {license=CC-BY-4.0, name=acme/clinical-notes, phi=false, pii=false, preprocessing=[\"deduplicate\",{\"name\":\"pii-scrub\",\"tool\":\"presidio\",\"version\":\"2.2\"}], uri=s3://acme-data/datasets/clinical-notes/v3/, version=v3}",
		},
		edges: []string{
			"Dataset(sha256:<2>) -DERIVED_FROM-> Dataset(sha256:<1>)",
			"Document -DESCRIBES-> Dataset(sha256:<2>)",
		},
	}, {
		file: "deployment-production.intoto.json", docType: intoto.DocDeployment,
		nodes: []string{
			"Deployment [deployment:production/eu-west-1/ml-serving/clinical-chat] {cluster=eu-west-1, endpoint=https://chat.acme.example/v1, environment=production, namespace=ml-serving, service=clinical-chat}",
			"Model [sha256:<5> hf://acme/llm-7b-chat-GGUF name:acme/llm-7b-chat-GGUF] {name=llm-7b-chat.Q4_K_M.gguf, uri=hf://acme/llm-7b-chat-GGUF}",
			"Package [sha256:<6> " + server + "] {image=ghcr.io/acme/llama-cpp-server, purl=" + server + ", tag=b3000}",
		},
		edges: []string{
			"Deployment(deployment:production/eu-west-1/ml-serving/clinical-chat) -DEPENDS_ON-> Package(sha256:<6>) {role=servingImage}",
			"Document -DESCRIBES-> Model(sha256:<5>)",
			"Model(sha256:<5>) -DEPLOYED_AS-> Deployment(deployment:production/eu-west-1/ml-serving/clinical-chat) {deployedAt=2024-06-10T09:00:00Z, status=active}",
		},
	}, {
		file: "deployment-staging.intoto.json", docType: intoto.DocDeployment,
		nodes: []string{
			"Deployment [deployment:staging/eu-west-1/ml-staging/clinical-chat] {cluster=eu-west-1, environment=staging, namespace=ml-staging, service=clinical-chat}",
			"Model [sha256:<5> hf://acme/llm-7b-chat-GGUF name:acme/llm-7b-chat-GGUF] {name=llm-7b-chat.Q4_K_M.gguf, uri=hf://acme/llm-7b-chat-GGUF}",
			"Package [sha256:<6> " + server + "] {image=ghcr.io/acme/llama-cpp-server, purl=" + server + "}",
		},
		edges: []string{
			"Deployment(deployment:staging/eu-west-1/ml-staging/clinical-chat) -DEPENDS_ON-> Package(sha256:<6>) {role=servingImage}",
			"Document -DESCRIBES-> Model(sha256:<5>)",
			"Model(sha256:<5>) -DEPLOYED_AS-> Deployment(deployment:staging/eu-west-1/ml-staging/clinical-chat) {deployedAt=2024-06-05T09:00:00Z, status=withdrawn, undeployedAt=2024-06-12T18:00:00Z}",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b := ingest(t, tt.file)
			if b.Doc.Type != tt.docType {
				t.Errorf("doc type %q, want %q", b.Doc.Type, tt.docType)
			}
			doc := b.Nodes[graph.DocNode]
			if doc.Attrs["type"] != tt.docType || doc.Attrs["predicateType"] != b.Doc.PredicateType || doc.Attrs["status"] != "unsigned" {
				t.Errorf("document attrs %v", doc.Attrs)
			}
			for k, v := range tt.docAttrs {
				if got := doc.Attrs[k]; got != expand.Replace(v) {
					t.Errorf("document attr %s = %q, want %q", k, got, expand.Replace(v))
				}
			}
			sameLines(t, "nodes", nodes(b), expandAll(tt.nodes))
			sameLines(t, "edges", edges(b), expandAll(tt.edges))
		})
	}
}
