package intoto_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/intoto"
)

// The Tekton Chains SLSA v0.2 statement inside a DSSE envelope (GUAC corpus).
func TestGUACTektonDSSE(t *testing.T) {
	const name = "guac-oci-dsse-att.json"
	raw := readFixture(t, name)
	b := ingest(t, name, graph.Signature{Method: "key", KeyID: "SHA256:Q2hrAmo3UuVRU6SOErQ+0EgKZolzlZdRu9eoKUii+kc", Status: graph.StatusUnverifiable, Reason: "no trusted key"})
	if b.Doc.Type != intoto.DocSLSAProvenance || b.Doc.PredicateType != intoto.PredicateSLSAv02 {
		t.Errorf("doc type %q / %q", b.Doc.Type, b.Doc.PredicateType)
	}
	params := `{"BUILDER_IMAGE":"gcr.io/kaniko-project/executor:v1.5.1@sha256:c6166717f7fe0b7da44908c986137ecfeab21f31ec3992f6e128fff8a94be8a5",` +
		`"CONTEXT":"src","DOCKERFILE":"./Dockerfile","EXTRA_ARGS":[],"IMAGE":"ttl.sh/b46737a24c11fd47c240f357a558be31/example-sample:e26f2e514682726fa808a849c863e5feca71e0c3"}`
	run := "run:" + graph.SHA256Key(raw) // no buildInvocationId: the run is the document's
	file := "sha256:9e183c89765d92a440f44ac7059385c778cbadad0ee8fe3208360efb07c0ba09"
	sameLines(t, "nodes", nodes(b), []string{
		"File [" + file + "] {name=ttl.sh/b46737a24c11fd47c240f357a558be31/example-sample}",
		"TrainingRun [" + run + "] {buildType=tekton.dev/v1beta1/TaskRun, builderId=https://tekton.dev/chains/v2, finishedOn=2022-12-20T14:09:36Z, parameters=" + params + ", runType=build, startedOn=2022-12-20T14:09:04Z}",
		"Identity [key:SHA256:Q2hrAmo3UuVRU6SOErQ+0EgKZolzlZdRu9eoKUii+kc] {keyId=SHA256:Q2hrAmo3UuVRU6SOErQ+0EgKZolzlZdRu9eoKUii+kc, method=key}",
	})
	sameLines(t, "edges", edges(b), []string{
		"Document -DESCRIBES-> File(" + file + ")",
		"File(" + file + ") -PRODUCED_BY-> TrainingRun(" + run + ")",
		"Document -SIGNED_BY-> Identity(key:SHA256:Q2hrAmo3UuVRU6SOErQ+0EgKZolzlZdRu9eoKUii+kc) {method=key, reason=no trusted key, status=unverifiable}",
	})
	if got := b.Nodes[graph.DocNode].Attrs["status"]; got != "unverifiable" {
		t.Errorf("document status %q, want unverifiable", got)
	}
}

// The Kubernetes client release SLSA v0.2 statement (GUAC corpus): 75
// subjects (65 distinct digests), an Azure DevOps config source and a GitHub
// material, both with a git commit mislabelled sha256.
func TestGUACKubectl(t *testing.T) {
	const name = "guac-oci-kubectl-linux-amd64-in-toto.json"
	raw := readFixture(t, name)
	b := ingest(t, name)
	var st struct {
		Subject []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	run := "run:Project Collection Build Service (AzureContainerUpstream)|119656"
	cfg := "git+https://dev.azure.com/AzureContainerUpstream/Kubernetes/_git/ado-build-definitions"
	k8s := "git+https://github.com/kubernetes/kubernetes"
	want := []string{
		"TrainingRun [" + run + "] {builderId=Project Collection Build Service (AzureContainerUpstream), entryPoint=ep, invocationId=119656, parameters={\"checkout.branch\":\"v1.28.1\"}, runType=build}",
		"Source [" + cfg + "@b2ec157721d8e6d507ca6c79d0e8fa096fc2a101] {commit=b2ec157721d8e6d507ca6c79d0e8fa096fc2a101, uri=" + cfg + "}",
		"Source [" + k8s + "@8dc49c4b984b897d423aab4971090e1879eb4f23] {commit=8dc49c4b984b897d423aab4971090e1879eb4f23, uri=" + k8s + "}",
	}
	wantEdges := []string{
		"TrainingRun(" + run + ") -USES-> Source(" + cfg + "@b2ec157721d8e6d507ca6c79d0e8fa096fc2a101) {role=configSource}",
		"TrainingRun(" + run + ") -USES-> Source(" + k8s + "@8dc49c4b984b897d423aab4971090e1879eb4f23) {role=material}",
	}
	seen := map[string]bool{}
	for _, s := range st.Subject {
		key := "sha256:" + s.Digest["sha256"]
		if seen[key] {
			continue // identical files: one node, first name kept
		}
		seen[key] = true
		want = append(want, "File ["+key+"] {name="+s.Name+"}")
		wantEdges = append(wantEdges, "Document -DESCRIBES-> File("+key+")", "File("+key+") -PRODUCED_BY-> TrainingRun("+run+")")
	}
	if len(seen) != 65 {
		t.Fatalf("fixture has %d distinct subjects, want 65", len(seen))
	}
	sameLines(t, "nodes", nodes(b), want)
	sameLines(t, "edges", edges(b), wantEdges)
	// The userinfo in the config source URI must not leak into keys or attrs.
	for _, n := range b.Nodes {
		for _, k := range n.Keys {
			if strings.Contains(k, "AzureContainerUpstream@") {
				t.Errorf("userinfo kept in key %q", k)
			}
		}
	}
	if got := b.Nodes[graph.DocNode].Attrs["status"]; got != "unsigned" {
		t.Errorf("document status %q, want unsigned", got)
	}
	if slices.ContainsFunc(b.Edges, func(e graph.EdgeSpec) bool { return e.Kind == graph.SignedBy }) {
		t.Error("an unsigned document has a SIGNED_BY edge")
	}
}
