package httpapi

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/trust"
	"github.com/modelgraph/modelgraph/internal/testserve"
)

// Digests of the e2e supply chain (testdata/query/e2e/README.md).
const (
	omsRoot  = "sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4"
	chatSHA  = "sha256:4444444444444444444444444444444444444444444444444444444444444444"
	ggufSHA  = "sha256:5555555555555555555555555555555555555555555555555555555555555555"
	imageSHA = "sha256:6666666666666666666666666666666666666666666666666666666666666666"
	sftURI   = "s3://acme-data/datasets/chat-sft/v1/"
	prodKey  = "deployment:production/eu-west-1/ml-serving/clinical-chat"
	stageKey = "deployment:staging/eu-west-1/ml-staging/clinical-chat"
)

type pushed struct {
	Documents []struct {
		Document, Type, Status string
		Signatures             []struct{ Method, KeyID, Status string }
	}
}

// TestEndToEnd pushes a whole supply chain as real documents over HTTP
// (signed dataset attestations, training provenance, an OMS signature,
// deployment records, an SBOM, an advisory) and asks every question.
func TestEndToEnd(t *testing.T) { runEndToEnd(t, openBolt(t)) }

// TestEndToEndNeo4j is the same on a real Neo4j (MODELGRAPH_NEO4J_URI).
// It resets that database, so the test command runs it on its own, after
// the other packages (graph/neo4j's suite resets the same database).
func TestEndToEndNeo4j(t *testing.T) {
	runEndToEnd(t, testserve.Neo4j(t))
}

func runEndToEnd(t *testing.T, store graph.Store) {
	data, ci, stranger := envelopetest.NewKeySigner(t), envelopetest.NewKeySigner(t), envelopetest.NewKeySigner(t)
	omsKey, err := trust.ParsePublicKey(fixture(t, "oms/keys/certificate/signing-key-pub.pem"), "signing-key-pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	pol := &trust.Policy{Rules: []trust.Rule{
		{Name: "data", Keys: []trust.PublicKey{data.PublicKey(t)}},
		{Name: "ci", Keys: []trust.PublicKey{ci.PublicKey(t)}},
		{Name: "oms", Keys: []trust.PublicKey{omsKey}},
	}}
	e := startOn(t, Options{MaxBody: 8 << 20}, pol, store)
	docs := []struct {
		name, query string
		body        []byte
		status      string
	}{
		{"dataset-raw", "", data.DSSE(t, statement.PayloadType, fixture(t, "intoto/dataset-raw.intoto.json")), "verified"},
		{"dataset-derived", "", data.Bundle(t, statement.PayloadType, fixture(t, "intoto/dataset-derived.intoto.json")), "verified"},
		{"base-training", "", ci.Bundle(t, statement.PayloadType, fixture(t, "query/e2e/base-training.intoto.json")), "verified"},
		{"base-oms", "", fixture(t, "oms/v1.1.0-elliptic-key/model.sig"), "verified"},
		{"chat-training", "", stranger.DSSE(t, statement.PayloadType, fixture(t, "query/e2e/chat-training.intoto.json")), "failed"},
		{"chat-quantize", "", fixture(t, "query/e2e/chat-quantize.intoto.json"), "unsigned"},
		{"deploy-production", "", ci.DSSE(t, statement.PayloadType, fixture(t, "intoto/deployment-production.intoto.json")), "verified"},
		{"deploy-staging", "", fixture(t, "intoto/deployment-staging.intoto.json"), "unsigned"},
		{"serving-sbom", "&subject=" + imageSHA + "&role=serving-image", fixture(t, "query/e2e/serving-image.cdx.json"), "unsigned"},
	}
	receipts := map[string]pushed{}
	for _, d := range docs {
		resp, b := e.do(t, "POST", "/v1/ingest?source="+d.name+d.query, writeSecret, "", d.body)
		var r pushed
		if resp.StatusCode != 201 || json.Unmarshal(b, &r) != nil || len(r.Documents) != 1 {
			t.Fatalf("push %s: %d %s", d.name, resp.StatusCode, b)
		}
		if r.Documents[0].Status != d.status {
			t.Errorf("push %s: status %s, want %s (%s)", d.name, r.Documents[0].Status, d.status, b)
		}
		receipts[d.name] = r
	}
	ciKeyID := receipts["base-training"].Documents[0].Signatures[0].KeyID
	if ciKeyID == "" {
		t.Fatalf("base-training receipt names no key: %+v", receipts["base-training"])
	}
	_, out := gqlPost(t, e, writeSecret, `mutation($sft: String!) { createAdvisory(input: {id: "ACME-2026-7", severity: "critical", summary: "chat-sft holds PHI", affects: [$sft]}) { receipt { duplicate } } }`,
		map[string]any{"sft": sftURI})
	if out["errors"] != nil {
		t.Fatalf("createAdvisory: %v", out)
	}

	ask := func(q string, vars map[string]any) map[string]any {
		t.Helper()
		_, out := gqlPost(t, e, readSecret, q, vars)
		if out["errors"] != nil {
			t.Fatalf("%s: %v", q, out["errors"])
		}
		return out["data"].(map[string]any)
	}

	// Which deployments run a model trained on the raw clinical notes?
	dep := ask(`{ deployedModelsTrainedOn(dataset: "acme/clinical-notes-raw@2024-01") {
		models { name } deployments { deployment { name } model { name } environment deployedAt state status path { from { name } kind to { name } status } } } }`, nil)["deployedModelsTrainedOn"].(map[string]any)
	if got := names(dep["models"]); !sameSet(got, []string{"v1.1.0-elliptic-key", "llm-7b-chat/model.safetensors", "llm-7b-chat.Q4_K_M.gguf"}) {
		t.Errorf("models trained on raw notes: %v", got)
	}
	wantDeps := `[{"deployedAt":"2024-06-10T09:00:00Z","deployment":{"name":"production/eu-west-1/ml-serving/clinical-chat"},"environment":"production","model":{"name":"llm-7b-chat.Q4_K_M.gguf"},` +
		`"path":[{"from":{"name":"acme/clinical-notes@v3"},"kind":"DERIVED_FROM","status":"verified","to":{"name":"acme/clinical-notes-raw@2024-01"}},` +
		`{"from":{"name":"llm-7b-chat/model.safetensors"},"kind":"TRAINED_ON","status":"failed","to":{"name":"acme/clinical-notes@v3"}},` +
		`{"from":{"name":"llm-7b-chat.Q4_K_M.gguf"},"kind":"DERIVED_FROM","status":"unsigned","to":{"name":"llm-7b-chat/model.safetensors"}},` +
		`{"from":{"name":"llm-7b-chat.Q4_K_M.gguf"},"kind":"DEPLOYED_AS","status":"verified","to":{"name":"production/eu-west-1/ml-serving/clinical-chat"}}],"state":"active","status":"failed"},` +
		`{"deployedAt":"2024-06-05T09:00:00Z","deployment":{"name":"staging/eu-west-1/ml-staging/clinical-chat"},"environment":"staging","model":{"name":"llm-7b-chat.Q4_K_M.gguf"},` +
		`"path":[{"from":{"name":"acme/clinical-notes@v3"},"kind":"DERIVED_FROM","status":"verified","to":{"name":"acme/clinical-notes-raw@2024-01"}},` +
		`{"from":{"name":"llm-7b-chat/model.safetensors"},"kind":"TRAINED_ON","status":"failed","to":{"name":"acme/clinical-notes@v3"}},` +
		`{"from":{"name":"llm-7b-chat.Q4_K_M.gguf"},"kind":"DERIVED_FROM","status":"unsigned","to":{"name":"llm-7b-chat/model.safetensors"}},` +
		`{"from":{"name":"llm-7b-chat.Q4_K_M.gguf"},"kind":"DEPLOYED_AS","status":"unsigned","to":{"name":"staging/eu-west-1/ml-staging/clinical-chat"}}],"state":"withdrawn","status":"failed"}]`
	sortBy(dep["deployments"], "deployment")
	if got := js(dep["deployments"]); got != wantDeps {
		t.Errorf("deployments trained on raw notes:\n got %s\nwant %s", got, wantDeps)
	}

	// Upstream of the deployed GGUF.
	tr := ask(`query($ref: String!) { trace(ref: $ref) { totalCount reached { node { kind name } depth status } } }`, map[string]any{"ref": "hf://acme/llm-7b-chat-GGUF"})["trace"].(map[string]any)
	wantTrace := map[string]string{
		"Model llm-7b-chat/model.safetensors": "1 unsigned", "TrainingRun run:quantize-q4km-001": "1 unsigned",
		"Model v1.1.0-elliptic-key": "2 failed", "Dataset acme/clinical-notes@v3": "2 failed", "Dataset " + sftURI: "2 failed",
		"TrainingRun run:ft-chat-001": "2 failed", "Dataset acme/clinical-notes-raw@2024-01": "3 failed",
		"Source git+https://github.com/acme/trainer@abcdef0123456789abcdef0123456789abcdef01": "3 failed",
		"TrainingRun run:https://ml.acme.example/runners/gpu@v2|train-base-001":               "3 failed", "Package pkg:pypi/torch@2.3.0": "4 failed",
	}
	if got := reachedMap(tr["reached"]); !reflect.DeepEqual(got, wantTrace) {
		t.Errorf("trace of the GGUF:\n got %v\nwant %v", got, wantTrace)
	}

	// Why is production linked to the raw notes?
	ex := ask(`query($from: String!) { explain(from: $from, to: "acme/clinical-notes-raw@2024-01") { found direction verified weakHops path { from { name } kind to { name } status weakness evidence { type status signers { keyId status } } } } }`,
		map[string]any{"from": prodKey})["explain"].(map[string]any)
	if js(ex["weakHops"]) != "[1,2]" || ex["direction"] != "upstream" || ex["verified"] != false || len(ex["path"].([]any)) != 4 {
		t.Errorf("explain production -> raw: %s", js(ex))
	}
	if w := ex["path"].([]any)[2].(map[string]any)["weakness"].(string); !strings.Contains(w, "aixv-training") || !strings.Contains(w, "(failed") {
		t.Errorf("failed hop weakness %q", w)
	}

	// What did the CI key sign?
	sig := ask(`query($id: String!) { signatures(identity: $id) { totalCount documents { document { type source } signature { status } describes { name } } } }`,
		map[string]any{"id": ciKeyID})["signatures"].(map[string]any)
	sortBy(sig["documents"], "document")
	wantSig := `[{"describes":[{"name":"v1.1.0-elliptic-key"}],"document":{"source":"base-training (pushed by ci)","type":"slsa-provenance"},"signature":{"status":"verified"}},` +
		`{"describes":[{"name":"llm-7b-chat.Q4_K_M.gguf"}],"document":{"source":"deploy-production (pushed by ci)","type":"deployment-record"},"signature":{"status":"verified"}}]`
	if got := js(sig["documents"]); got != wantSig {
		t.Errorf("signed by the CI key:\n got %s\nwant %s", got, wantSig)
	}

	// Models and deployments without verified evidence of their own. The
	// quantized model is named only by a signed deployment record, and a
	// deployment record never vouches for a model (trust by role).
	un := ask(`{ unverified { items { node { kind name } identity { status } } } }`, nil)["unverified"].(map[string]any)
	wantUn := map[string]string{"Model llm-7b-chat/model.safetensors": "failed", "Model llm-7b-chat.Q4_K_M.gguf": "unverifiable", "Deployment staging/eu-west-1/ml-staging/clinical-chat": "unsigned"}
	gotUn := map[string]string{}
	for _, it := range un["items"].([]any) {
		m := it.(map[string]any)
		n := m["node"].(map[string]any)
		gotUn[n["kind"].(string)+" "+n["name"].(string)] = m["identity"].(map[string]any)["status"].(string)
	}
	if !reflect.DeepEqual(gotUn, wantUn) {
		t.Errorf("unverified: %v, want %v", gotUn, wantUn)
	}

	// Vulnerable torch in the serving image; torch 2.3.0 only in the base
	// model's training tools (not inherited by its fine-tunes).
	for rng, want := range map[string][]string{
		">=2.0,<2.2": {"Deployment production/eu-west-1/ml-serving/clinical-chat", "Deployment staging/eu-west-1/ml-staging/clinical-chat"},
		"==2.3.*":    {"Model v1.1.0-elliptic-key"},
	} {
		p := ask(`query($r: String) { affectedByPackage(purl: "pkg:pypi/torch", range: $r) { packages { version } affected { node { kind name } via { name } } } }`,
			map[string]any{"r": rng})["affectedByPackage"].(map[string]any)
		var got []string
		for _, a := range p["affected"].([]any) {
			n := a.(map[string]any)["node"].(map[string]any)
			got = append(got, n["kind"].(string)+" "+n["name"].(string))
		}
		if !sameSet(got, want) {
			t.Errorf("torch %s affects %v, want %v (%s)", rng, got, want, js(p))
		}
	}

	// The advisory on chat-sft and its downstream.
	adv := ask(`{ affectedByAdvisory(advisory: "ACME-2026-7") { advisory { active severity } affected { node { kind name } via { name } } } }`, nil)["affectedByAdvisory"].(map[string]any)
	var hit []string
	for _, a := range adv["affected"].([]any) {
		m := a.(map[string]any)
		hit = append(hit, m["node"].(map[string]any)["name"].(string)+" via "+m["via"].(map[string]any)["name"].(string))
	}
	wantHit := []string{"llm-7b-chat/model.safetensors via " + sftURI, "llm-7b-chat.Q4_K_M.gguf via " + sftURI,
		"production/eu-west-1/ml-serving/clinical-chat via " + sftURI, "staging/eu-west-1/ml-staging/clinical-chat via " + sftURI}
	if !sameSet(hit, wantHit) || js(adv["advisory"]) != `{"active":true,"severity":"critical"}` {
		t.Errorf("affected by advisory: %v %s", hit, js(adv["advisory"]))
	}

	// Roll production back to?
	rb := ask(`query($d: String!) { rollbackCandidates(deployment: $d) { current { name } candidates { model { name } relation distance kept } recommended { model { name } } } }`,
		map[string]any{"d": prodKey})["rollbackCandidates"].(map[string]any)
	wantRB := `{"candidates":[{"distance":1,"kept":false,"model":{"name":"llm-7b-chat/model.safetensors"},"relation":"parent"},` +
		`{"distance":2,"kept":true,"model":{"name":"v1.1.0-elliptic-key"},"relation":"ancestor"}],"current":[{"name":"llm-7b-chat.Q4_K_M.gguf"}],"recommended":{"model":{"name":"v1.1.0-elliptic-key"}}}`
	if got := js(rb); got != wantRB {
		t.Errorf("rollback:\n got %s\nwant %s", got, wantRB)
	}

	// Admission of the deployed GGUF and of the base model.
	for _, c := range []struct {
		digest string
		policy map[string]any
		allow  bool
		checks string
	}{
		{ggufSHA, nil, false, "signature=false advisory=false"},
		{omsRoot, nil, true, "signature=true advisory=true"},
		{omsRoot, map[string]any{"allowedSigners": []any{map[string]any{"identity": ciKeyID}}, "maxUnsignedHops": 0}, true, "signature=true signer=true advisory=true unsigned-hops=true"},
		{chatSHA, map[string]any{"denyOnAdvisory": false}, false, "signature=false"},
	} {
		d := ask(`query($d: String!, $p: PolicyInput) { admission(digest: $d, policy: $p) { allow checks { rule passed message } } }`,
			map[string]any{"d": c.digest, "p": c.policy})["admission"].(map[string]any)
		var checks []string
		for _, ch := range d["checks"].([]any) {
			m := ch.(map[string]any)
			checks = append(checks, m["rule"].(string)+"="+js(m["passed"]))
		}
		if d["allow"] != c.allow || strings.Join(checks, " ") != c.checks {
			t.Errorf("admission %s %v: %s", c.digest, c.policy, js(d))
		}
	}
}

func names(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(map[string]any)["name"].(string))
	}
	return out
}

func reachedMap(v any) map[string]string {
	out := map[string]string{}
	for _, x := range v.([]any) {
		m := x.(map[string]any)
		n := m["node"].(map[string]any)
		out[n["kind"].(string)+" "+n["name"].(string)] = js(m["depth"]) + " " + m["status"].(string)
	}
	return out
}

func sortBy(v any, field string) {
	list, _ := v.([]any)
	sort.SliceStable(list, func(i, j int) bool { return js(list[i].(map[string]any)[field]) < js(list[j].(map[string]any)[field]) })
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
