package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/internal/query"
)

var lineageDocs = []string{"dataset-raw", "dataset-derived", "slsa-v1-training", "aixv-training",
	"deployment-production", "deployment-staging", "aixv-advisory", "aixv-deployment"}

func docPaths() []string {
	var out []string
	for _, d := range lineageDocs {
		out = append(out, "../../testdata/intoto/"+d+".intoto.json")
	}
	return out
}

// localStore ingests the lineage documents into a fresh data dir.
func localStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, _, err := runCLI(t, append([]string{"ingest", "--data-dir", dir}, docPaths()...)...); err != nil {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	return dir
}

// strip drops what legitimately differs between two stores fed the same
// documents: when and under which source name they were ingested.
func strip(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "ingestedAt" || k == "source" {
				delete(x, k)
				continue
			}
			x[k] = strip(e)
		}
	case []any:
		for i := range x {
			x[i] = strip(x[i])
		}
	}
	return v
}

func TestQueryLocalAndRemoteAgree(t *testing.T) {
	dir := localStore(t)
	srv := serveAPI(t, nil)
	if out, _, err := runCLI(t, append([]string{"push", "--server", srv.url, "--token-file", tokenFile(t, cliWriteToken)}, docPaths()...)...); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	readTok := tokenFile(t, cliReadToken)
	questions := [][]string{
		{"trace", "--model", "hf://acme/llm-7b-chat"},
		{"trace", "--model", "sha256:3333333333333333333333333333333333333333333333333333333333333333", "--files", "--depth", "2"},
		{"impact", "--dataset", "acme/clinical-notes-raw@2024-01", "--kind", "Model,Deployment"},
		{"deployed-trained-on", "--dataset", "s3://acme-data/datasets/clinical-notes-raw/2024-01/"},
		{"explain", "--from", "deployment:production/us-east-1/ml-serving/chat-api", "--to", "acme/clinical-notes-raw@2024-01"},
		{"unverified"},
		{"affected-by-package", "--purl", "pkg:pypi/torch", "--range", ">=2.0,<3"},
		{"advisories", "--active"},
		{"affected-by-advisory", "--advisory", "AIXV-2024-0007"},
		{"rollback", "--deployment", "deployment:production/us-east-1/ml-serving/chat-api"},
		{"admission", "--digest", "sha256:3333333333333333333333333333333333333333333333333333333333333333", "--allow-unsigned", "--max-unsigned-hops", "20"},
		{"lookup", "--ref", "acme/clinical-notes@v3"},
		{"stats"},
	}
	for _, q := range questions {
		localOut, _, lerr := runCLI(t, append(append([]string{"query"}, q...), "--data-dir", dir, "--output", "json")...)
		remoteOut, _, rerr := runCLI(t, append(append([]string{"query"}, q...), "--server", srv.url, "--token-file", readTok, "--output", "json")...)
		if (lerr == nil) != (rerr == nil) || exitCode(lerr) != exitCode(rerr) {
			t.Errorf("%v: local error %v, remote error %v", q, lerr, rerr)
			continue
		}
		var l, r any
		if err := json.Unmarshal([]byte(localOut), &l); err != nil {
			t.Errorf("%v: local output %q: %v", q, localOut, err)
			continue
		}
		if err := json.Unmarshal([]byte(remoteOut), &r); err != nil {
			t.Errorf("%v: remote output %q: %v", q, remoteOut, err)
			continue
		}
		if !reflect.DeepEqual(strip(l), strip(r)) {
			t.Errorf("%v: local and remote answers differ\nlocal:  %s\nremote: %s", q, localOut, remoteOut)
		}
	}
}

func TestQueryAnswers(t *testing.T) {
	dir := localStore(t)
	ask := func(args ...string) string {
		t.Helper()
		out, _, err := runCLI(t, append(append([]string{"query"}, args...), "--data-dir", dir)...)
		if err != nil {
			t.Fatalf("query %v: %v\n%s", args, err, out)
		}
		return out
	}
	var dep query.DeployedAnswer
	if err := json.Unmarshal([]byte(ask("deployed-trained-on", "--dataset", "acme/clinical-notes-raw@2024-01", "-o", "json")), &dep); err != nil {
		t.Fatal(err)
	}
	if len(dep.Deployments) != 1 || dep.Deployments[0].Deployment.Name != "production/us-east-1/ml-serving/chat-api" ||
		dep.Deployments[0].Model.Name != "llm-7b-chat/model.safetensors" || dep.Deployments[0].State != "active" || len(dep.Deployments[0].Path) != 3 {
		t.Errorf("deployed trained on raw notes = %+v", dep.Deployments)
	}
	table := ask("deployed-trained-on", "--dataset", "acme/clinical-notes-raw@2024-01")
	for _, want := range []string{
		"models trained on it (2): llm-7b-chat/model.safetensors, llm-7b/model.safetensors", // traversal (id) order; ids are graph.NodeIDFor
		"production/us-east-1/ml-serving/chat-api  production   active  llm-7b-chat/model.safetensors",
		"acme/clinical-notes-raw@2024-01 <-DERIVED_FROM[unsigned]- acme/clinical-notes@v3 <-TRAINED_ON[unsigned]- llm-7b-chat/model.safetensors -DEPLOYED_AS[unsigned]-> production/us-east-1/ml-serving/chat-api",
		"1 deployment(s)",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	var l query.Lineage
	if err := json.Unmarshal([]byte(ask("impact", "--dataset", "acme/clinical-notes-raw@2024-01", "--kind", "deployment", "-o", "json")), &l); err != nil {
		t.Fatal(err)
	}
	if l.TotalCount != 1 || l.Reached[0].Node.Name != "production/us-east-1/ml-serving/chat-api" || l.Reached[0].Depth != 3 {
		t.Errorf("deployments downstream of raw notes = %+v", l.Reached)
	}
	adm := ask("admission", "--digest", "sha256:3333333333333333333333333333333333333333333333333333333333333333", "--ignore-advisories", "--allow-unsigned")
	if !strings.HasPrefix(adm, "ALLOW sha256:3333") {
		t.Errorf("admission with nothing required:\n%s", adm)
	}
	out, _, err := runCLI(t, "query", "admission", "--digest", "sha256:3333333333333333333333333333333333333333333333333333333333333333", "--data-dir", dir)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitDenied || !strings.Contains(out, "FAIL signature") || !strings.Contains(out, "FAIL advisory      llm-7b/model.safetensors is affected by active advisory AIXV-2024-0007") {
		t.Errorf("default admission of the base model: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, "query", "trace", "--model", "no-such-model", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), `no node matches "no-such-model"`) {
		t.Errorf("unknown model: %v", err)
	}
	if _, _, err := runCLI(t, "query", "affected-by-package", "--purl", "pkg:pypi/torch", "--range", ">>1", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "invalid version range") {
		t.Errorf("bad range: %v", err)
	}
	if _, _, err := runCLI(t, "query", "trace", "--model", "x", "--output", "yaml", "--data-dir", dir); err == nil {
		t.Error("--output yaml accepted")
	}
}

func TestQueryRawGraphQL(t *testing.T) {
	srv := serveAPI(t, nil)
	readTok := tokenFile(t, cliReadToken)
	out, _, err := runCLI(t, "query", "--server", srv.url, "--token-file", readTok, "--graphql", `query($k: [NodeKind!]) { stats { documents } unverified(kinds: $k) { items { node { name } } } }`, "--variables", `{"k": ["Model"]}`)
	if err != nil {
		t.Fatal(err)
	}
	var got any
	if err := json.Unmarshal([]byte(out), &got); err != nil || !reflect.DeepEqual(got, map[string]any{"data": map[string]any{"stats": map[string]any{"documents": 0.0}, "unverified": map[string]any{"items": []any{}}}}) {
		t.Errorf("raw graphql = %s, %v", out, err)
	}
	out, _, err = runCLI(t, "query", "--server", srv.url, "--token-file", readTok, "--graphql", `{ nope }`)
	if err == nil || !strings.Contains(out, "Cannot query field") {
		t.Errorf("bad graphql: %v\n%s", err, out)
	}
	// Without --server the operation runs in-process over the local store.
	out, _, err = runCLI(t, "query", "--graphql", `query($k: [NodeKind!]) { stats { documents } unverified(kinds: $k) { items { node { name } } } }`, "--variables", `{"k": ["Model"]}`, "--data-dir", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || !reflect.DeepEqual(got, map[string]any{"data": map[string]any{"stats": map[string]any{"documents": 0.0}, "unverified": map[string]any{"items": []any{}}}}) {
		t.Errorf("local raw graphql = %s, %v", out, err)
	}
	// Local runs only read.
	out, _, err = runCLI(t, "query", "--graphql", `mutation { createAdvisory(input: {id: "X-1", affects: ["a"]}) { advisory { id } } }`, "--data-dir", t.TempDir())
	if exitCode(err) != 1 || !strings.Contains(out, `"code": "FORBIDDEN"`) {
		t.Errorf("local mutation: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, "query", "stats", "--server", srv.url); err == nil || !strings.Contains(err.Error(), "missing bearer token") {
		t.Errorf("no token: %v", err)
	}
}
