package k8sadmit

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	admissionv1 "k8s.io/api/admission/v1"
	authv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/admission"
)

func podWith(ns, name, annotation string) []byte {
	return []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `","namespace":"` + ns + `","annotations":{"modelgraph.dev/model":"` + annotation + `"}},
	  "spec":{"containers":[{"name":"srv","image":"ghcr.io/acme/srv:1"}]}}`)
}

func deploymentWith(ns, name, model string) []byte {
	return []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"` + name + `","namespace":"` + ns + `"},
	  "spec":{"template":{"spec":{"containers":[{"name":"vllm","image":"vllm/vllm-openai:v0.9","args":["--model","` + model + `"]}]}}}}`)
}

func request(kind string, group string, ns string, obj []byte) *admissionv1.AdmissionRequest {
	return &admissionv1.AdmissionRequest{
		UID: types.UID("uid-" + ns), Kind: metav1.GroupVersionKind{Group: group, Version: "v1", Kind: kind},
		Namespace: ns, Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: obj},
		UserInfo: authv1.UserInfo{Username: "alice", Groups: []string{"ml-team"}},
	}
}

// The table: one world, signed documents, every rule of the policy met
// through a workload, in each mode.
func TestDecisions(t *testing.T) {
	w := newWorld(t)
	good := subj{name: "hf://acme/good", sha: dg("1")}
	bad := subj{name: "hf://acme/bad", sha: dg("2")}
	stray := subj{name: "hf://acme/stray", sha: dg("3")}
	w.push(t, "prov-good", w.s.prov.DSSE(t, pt, provenance(t, good)))
	w.push(t, "prov-bad", w.s.prov.DSSE(t, pt, provenance(t, bad)))
	w.push(t, "advisory-bad", w.s.advisory.DSSE(t, pt, advisory(t, "AIXV-7", "active", bad)))
	w.push(t, "prov-stray", w.s.stranger.DSSE(t, pt, provenance(t, stray)))

	cases := []struct {
		name    string
		cfg     Config
		mode    Mode
		req     *admissionv1.AdmissionRequest
		allowed bool
		// every string must appear in the denial message (enforce), a
		// warning (warn) or the audit reasons (audit)
		want []string
		// audit decision annotation ("" = no decision made)
		decision string
	}{
		{name: "signed model by digest", req: request("Pod", "", "ml", podWith("ml", "p1", "sha256:"+good.sha)), allowed: true, decision: "allow"},
		{name: "signed model by hub id in vLLM args", req: request("Deployment", "apps", "ml", deploymentWith("ml", "chat", "hf://acme/good")), allowed: true, decision: "allow"},
		{name: "bare hub id as vLLM takes it", req: request("Deployment", "apps", "ml", deploymentWith("ml", "chat2", "acme/good")), allowed: true, decision: "allow"},
		{
			name: "active advisory denies, naming rule and advisory document",
			req:  request("Deployment", "apps", "ml", deploymentWith("ml", "chat", "hf://acme/bad")), allowed: false, decision: "deny",
			want: []string{"modelgraph denied Deployment chat", "rule advisory failed", "AIXV-7", "advisory-bad"},
		},
		{
			name: "untrusted signer denies, naming the failed document",
			req:  request("Pod", "", "ml", podWith("ml", "p2", "sha256:"+stray.sha)), allowed: false, decision: "deny",
			want: []string{"rule signature failed", "prov-stray"},
		},
		{
			name: "unknown model denied by default",
			req:  request("Pod", "", "ml", podWith("ml", "p3", "hf://nobody/knows")), allowed: false, decision: "deny",
			want: []string{"rule known failed", "no document mentions hf://nobody/knows"},
		},
		{
			name: "unknown model allowed by configuration, with a warning",
			cfg:  Config{Unknown: UnknownAllow},
			req:  request("Pod", "", "ml", podWith("ml", "p4", "hf://nobody/knows")), allowed: true, decision: "allow",
			want: []string{"unknown model allowed by configuration"},
		},
		{
			name: "warn mode admits with warnings", mode: ModeWarn,
			req: request("Deployment", "apps", "ml", deploymentWith("ml", "chat", "hf://acme/bad")), allowed: true, decision: "deny",
			want: []string{"modelgraph would deny", "rule advisory failed", "advisory-bad"},
		},
		{
			name: "audit mode admits with audit annotations", mode: ModeAudit,
			req: request("Deployment", "apps", "ml", deploymentWith("ml", "chat", "hf://acme/bad")), allowed: true, decision: "deny",
			want: []string{"rule advisory failed", "advisory-bad"},
		},
		{
			name: "namespace configuration wins over the path", mode: ModeAudit, cfg: Config{Namespaces: map[string]Mode{"prod": ModeEnforce}},
			req: request("Deployment", "apps", "prod", deploymentWith("prod", "chat", "hf://acme/bad")), allowed: false, decision: "deny",
			want: []string{"rule advisory failed"},
		},
		{name: "a kind the webhook does not judge is admitted", req: request("ConfigMap", "", "ml", []byte(`{"metadata":{"name":"c","annotations":{"modelgraph.dev/model":"hf://acme/bad"}}}`)), allowed: true},
		{name: "exempt namespace", req: request("Deployment", "apps", "kube-system", deploymentWith("kube-system", "x", "hf://acme/bad")), allowed: true},
		{name: "no model named", req: request("Pod", "", "ml", []byte(`{"metadata":{"name":"plain"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`)), allowed: true},
		{
			name: "one bad model among good ones denies",
			req:  request("Pod", "", "ml", podWith("ml", "p5", "sha256:"+good.sha+",hf://acme/bad")), allowed: false, decision: "deny",
			want: []string{"model hf://acme/bad", "rule advisory failed"},
		},
		{
			name:    "unpinned image volume is unknown",
			req:     request("Pod", "", "ml", []byte(`{"metadata":{"name":"iv"},"spec":{"volumes":[{"name":"w","image":{"reference":"ghcr.io/acme/w:latest"}}],"containers":[{"name":"c","image":"x"}]}}`)),
			allowed: false, decision: "deny", want: []string{"not pinned by digest"},
		},
		{
			name: "bad object denied in enforce",
			req:  request("Pod", "", "ml", []byte(`{"metadata":{"name":"p"},"spec":{"containers":"nope"}}`)), allowed: false, decision: "deny",
			want: []string{"could not decide"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Record = new(bool) // records are tested below
			wh, err := New(w.q, w.pipe, c.cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp := wh.Review(context.Background(), c.req, c.mode)
			if resp.UID != c.req.UID {
				t.Fatalf("uid %q", resp.UID)
			}
			if resp.Allowed != c.allowed {
				t.Fatalf("allowed = %v, want %v: %+v", resp.Allowed, c.allowed, resp)
			}
			if got := resp.AuditAnnotations["decision"]; got != c.decision {
				t.Fatalf("decision annotation %q, want %q (%v)", got, c.decision, resp.AuditAnnotations)
			}
			var text string
			switch {
			case !resp.Allowed:
				text = resp.Result.Message
				if resp.Result.Code != http.StatusForbidden {
					t.Errorf("code %d", resp.Result.Code)
				}
			case c.mode == ModeAudit:
				text = resp.AuditAnnotations["reasons"]
				if len(resp.Warnings) > 0 {
					t.Errorf("audit mode warned: %v", resp.Warnings)
				}
			default:
				text = strings.Join(resp.Warnings, "\n")
			}
			for _, s := range c.want {
				if d, ok := w.docs[s]; ok {
					s = d // a document name stands for its digest
				}
				if !strings.Contains(text, s) {
					t.Errorf("%q missing from:\n%s", s, text)
				}
			}
			if len(c.want) == 0 && text != "" && !resp.Allowed {
				t.Errorf("unexpected text %q", text)
			}
		})
	}
}

// The model is admitted; then an advisory about it arrives (signed by the
// advisory signer); the next workload using it is denied, naming the
// advisory document. Nothing is re-hashed: the graph changed.
func TestAdvisoryAfterFirstAdmission(t *testing.T) {
	w := newWorld(t)
	m := subj{name: "hf://acme/late", sha: dg("4")}
	w.push(t, "prov", w.s.prov.DSSE(t, pt, provenance(t, m)))
	wh, err := New(w.q, w.pipe, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	first := wh.Review(context.Background(), request("Deployment", "apps", "ml", deploymentWith("ml", "chat", "hf://acme/late")), "")
	if !first.Allowed {
		t.Fatalf("first admission denied: %+v", first.Result)
	}
	w.push(t, "advisory", w.s.advisory.DSSE(t, pt, advisory(t, "AIXV-LATE", "active", m)))
	second := wh.Review(context.Background(), request("Deployment", "apps", "ml", deploymentWith("ml", "chat-v2", "hf://acme/late")), "")
	if second.Allowed || !strings.Contains(second.Result.Message, "AIXV-LATE") || !strings.Contains(second.Result.Message, w.docs["advisory"]) {
		t.Fatalf("second admission = %+v, want denied naming AIXV-LATE and %s", second.Result, w.docs["advisory"])
	}
	// An update that only scales the admitted Deployment is not judged
	// again: an emergency scale-down is never blocked.
	up := request("Deployment", "apps", "ml", deploymentWith("ml", "chat", "hf://acme/late"))
	up.Operation = admissionv1.Update
	up.OldObject = runtime.RawExtension{Raw: deploymentWith("ml", "chat", "hf://acme/late")}
	if r := wh.Review(context.Background(), up, ""); !r.Allowed {
		t.Fatalf("update with unchanged models denied: %+v", r.Result)
	}
	// An update that changes the model is judged.
	up.OldObject = runtime.RawExtension{Raw: deploymentWith("ml", "chat", "hf://acme/older")}
	if r := wh.Review(context.Background(), up, ""); r.Allowed {
		t.Fatalf("update to an advised model admitted")
	}
}

// Every decision becomes an unsigned deployment record whose source names
// the webhook: admitted ones at the workload's location, denied ones at
// "<env>-denied" with a window closed at once. A dry run records nothing.
// The webhook's own records never make an unknown model "known".
func TestDecisionsAreRecorded(t *testing.T) {
	w := newWorld(t)
	good := subj{name: "hf://acme/good", sha: dg("5")}
	bad := subj{name: "hf://acme/bad", sha: dg("6")}
	w.push(t, "prov-good", w.s.prov.DSSE(t, pt, provenance(t, good)))
	w.push(t, "prov-bad", w.s.prov.DSSE(t, pt, provenance(t, bad)))
	w.push(t, "advisory", w.s.advisory.DSSE(t, pt, advisory(t, "AIXV-8", "active", bad)))
	wh, err := New(w.q, w.pipe, Config{Environment: "prod", Cluster: "eu1", Unknown: UnknownAllow}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	ctx := context.Background()
	wh.Review(ctx, request("Deployment", "apps", "ml", deploymentWith("ml", "chat", "hf://acme/good")), "")
	wh.Review(ctx, request("Deployment", "apps", "ml", deploymentWith("ml", "risky", "hf://acme/bad")), "")
	dry := request("Deployment", "apps", "ml", deploymentWith("ml", "dry", "hf://acme/good"))
	dry.DryRun = new(bool)
	*dry.DryRun = true
	wh.Review(ctx, dry, "")
	unknown := "sha256:" + dg("7")
	for range 2 {
		r := wh.Review(ctx, request("Pod", "", "ml", podWith("ml", "u", unknown)), "")
		if !r.Allowed || len(r.Warnings) == 0 {
			t.Fatalf("unknown model under the allow rule: %+v", r)
		}
		wh.Flush()
	}
	wh.Flush()

	check := func(key, model, wantState, wantSource string) {
		t.Helper()
		ns, err := w.store.Lookup(ctx, key)
		if err != nil || len(ns) != 1 {
			t.Fatalf("lookup %s: %v %v", key, ns, err)
		}
		es, err := w.store.Edges(ctx, ns[0].ID, graph.In, graph.DeployedAs)
		if err != nil || len(es) != 1 {
			t.Fatalf("deployed-as edges of %s: %v %v", key, es, err)
		}
		from, err := w.store.Node(ctx, es[0].From)
		if err != nil || !slices.Contains(from.Keys, model) {
			t.Fatalf("%s runs %v, want %s", key, from.Keys, model)
		}
		docs, err := w.store.Documents(ctx, es[0].Docs...)
		if err != nil || len(docs) == 0 {
			t.Fatal(err)
		}
		for _, d := range docs {
			if !strings.HasPrefix(d.Source, RecordSource+": ") || !strings.Contains(d.Source, wantSource) || d.Status() != graph.StatusUnsigned {
				t.Fatalf("record %s: source %q status %s", d.Digest, d.Source, d.Status())
			}
		}
		var status []string
		for _, a := range es[0].Attrs {
			if a.Name == "status" {
				status = append(status, a.Value)
			}
		}
		if !slices.Contains(status, wantState) {
			t.Fatalf("%s status %v, want %s", key, status, wantState)
		}
	}
	check("deployment:prod/eu1/ml/deployment.chat", "sha256:"+good.sha, "active", "allow Deployment ml/chat for alice uid uid-ml")
	check("deployment:prod-denied/eu1/ml/deployment.risky", "sha256:"+bad.sha, "withdrawn", "deny Deployment ml/risky for alice (denied) rules advisory uid")
	if ns, _ := w.store.Lookup(ctx, "deployment:prod/eu1/ml/deployment.dry"); len(ns) != 0 {
		t.Fatalf("dry run recorded: %v", ns)
	}
	// The unknown model was recorded twice and is still "unknown" (not
	// "known but unsigned"): the second review warned like the first.
	check("deployment:prod/eu1/ml/pod.u", unknown, "active", "allow Pod ml/u for alice uid")
}

// The HTTP surface: AdmissionReview in, AdmissionReview out, bad input
// refused with 4xx.
func TestServeHTTP(t *testing.T) {
	w := newWorld(t)
	m := subj{name: "hf://acme/h", sha: dg("8")}
	w.push(t, "prov", w.s.prov.DSSE(t, pt, provenance(t, m)))
	w.push(t, "advisory", w.s.advisory.DSSE(t, pt, advisory(t, "AIXV-H", "active", m)))
	wh, err := New(w.q, nil, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, r := range Routes {
		mux.Handle(r, wh)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	review := func(path string, body []byte) (int, admissionv1.AdmissionReview) {
		resp, err := http.Post(srv.URL+path, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out admissionv1.AdmissionReview
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	in, _ := json.Marshal(admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: request("Pod", "", "ml", podWith("ml", "p", "hf://acme/h"))})
	for path, allowed := range map[string]bool{"/validate": false, "/validate/enforce": false, "/validate/warn": true, "/validate/audit": true} {
		code, out := review(path, in)
		if code != 200 || out.Response == nil || out.Response.Allowed != allowed || out.Kind != "AdmissionReview" || out.APIVersion != "admission.k8s.io/v1" {
			t.Fatalf("%s: %d %+v", path, code, out)
		}
	}
	if code, _ := review("/validate/bogus", in); code != http.StatusNotFound {
		t.Fatalf("bogus mode: %d", code)
	}
	if code, _ := review("/validate", []byte(`{"request":null}`)); code != http.StatusBadRequest {
		t.Fatalf("no request: %d", code)
	}
	if code, _ := review("/validate", []byte(`nope`)); code != http.StatusBadRequest {
		t.Fatalf("not JSON: %d", code)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{DefaultMode: "deny"}, {Namespaces: map[string]Mode{"a": "x"}}, {Unknown: "maybe"}, {Environment: "a/b"}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v validated", c)
		}
	}
	p := admission.DefaultPolicy()
	if err := (Config{Policy: &p, DefaultMode: ModeWarn, Unknown: UnknownAllow}).Validate(); err != nil {
		t.Fatal(err)
	}
}

// The configuration shipped in deploy/k8s/admission/config.yaml loads.
func TestShippedConfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "k8s", "admission", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	if err := yaml.Unmarshal(b, &cm); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "admission.yaml")
	if err := os.WriteFile(f, []byte(cm.Data["admission.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy == nil || !c.Policy.RequireVerified || c.Policy.MaxUnsignedHops == nil || *c.Policy.MaxUnsignedHops != 2 || c.DefaultMode != ModeEnforce || c.Environment != "production" {
		t.Fatalf("config = %+v", c)
	}
	if err := os.WriteFile(f, []byte("defaultMode: enforce\nbogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(f); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown field accepted: %v", err)
	}
}

// A model the graph knows only by name (an unsigned model card names it as
// a base model; no document gives it a digest) fails: nothing can vouch
// for bytes no document names. The card is named as the document behind.
func TestModelKnownOnlyByName(t *testing.T) {
	w := newWorld(t)
	card, err := os.ReadFile(filepath.Join("..", "..", "testdata", "modelcard", "llm-7b-chat-gguf.md"))
	if err != nil {
		t.Fatal(err)
	}
	w.push(t, "hf://acme/llm-7b-chat-GGUF", card)
	wh, err := New(w.q, nil, Config{Unknown: UnknownAllow}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := wh.Review(context.Background(), request("Deployment", "apps", "ml", deploymentWith("ml", "chat", "acme/llm-7b-chat")), "")
	if r.Allowed || !strings.Contains(r.Result.Message, "only by name") || !strings.Contains(r.Result.Message, w.docs["hf://acme/llm-7b-chat-GGUF"]) {
		t.Fatalf("%+v", r.Result)
	}
}

// A model downstream of an advised dataset: the denial names the advisory
// document first, then the hops' documents.
func TestAdvisoryUpstreamNamesAdvisoryFirst(t *testing.T) {
	w := newWorld(t)
	ds := subj{name: "s3://acme-data/notes/v3/", sha: dg("d")}
	m := subj{name: "hf://acme/trained", sha: dg("e")}
	w.push(t, "prov", w.s.prov.DSSE(t, pt, statement(t, "https://slsa.dev/provenance/v1", []subj{m}, map[string]any{
		"buildDefinition": map[string]any{"buildType": "https://ml.acme.example/buildtypes/training/v1", "externalParameters": map[string]any{},
			"resolvedDependencies": []any{map[string]any{"uri": ds.name, "digest": map[string]string{"sha256": ds.sha}, "annotations": map[string]string{"kind": "dataset", "split": "train"}}}},
		"runDetails": map[string]any{"builder": map[string]any{"id": "https://ml.acme.example/runners/gpu@v2"}},
	})))
	w.push(t, "advisory", w.s.advisory.DSSE(t, pt, statement(t, "https://aixv.org/attestation/advisory/v1", []subj{ds}, map[string]any{
		"advisory_id": "AIXV-DS", "severity": "critical", "status": "active", "summary": "PHI in the dataset",
		"affected": []any{map[string]any{"digest": "sha256:" + ds.sha, "artifact_type": "dataset"}},
	})))
	wh, err := New(w.q, nil, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := wh.Review(context.Background(), request("Pod", "", "ml", podWith("ml", "p", "hf://acme/trained")), "")
	msg := r.Result.Message
	ia, ip := strings.Index(msg, w.docs["advisory"]), strings.Index(msg, w.docs["prov"])
	if r.Allowed || !strings.Contains(msg, "AIXV-DS") || ia < 0 || ip < 0 || ia > ip {
		t.Fatalf("advisory doc at %d, provenance at %d in %q", ia, ip, msg)
	}
}

// A serving image pinned by digest is judged when the graph knows it, and
// not judged (the workload is not denied for it) when it does not.
func TestPinnedServingImage(t *testing.T) {
	w := newWorld(t)
	model := subj{name: "hf://acme/m", sha: dg("1")}
	img := subj{name: "ghcr.io/acme/srv", sha: dg("9")}
	w.push(t, "prov-model", w.s.prov.DSSE(t, pt, provenance(t, model)))
	pod := func(image string) []byte {
		return []byte(`{"metadata":{"name":"p","annotations":{"modelgraph.dev/model":"hf://acme/m"}},"spec":{"containers":[{"name":"srv","image":"` + image + `"}]}}`)
	}
	wh, err := New(w.q, nil, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	unknown := "ghcr.io/acme/other@sha256:" + dg("8")
	if r := wh.Review(context.Background(), request("Pod", "", "ml", pod(unknown)), ""); !r.Allowed {
		t.Fatalf("unknown pinned image denied: %+v", r.Result)
	}
	w.push(t, "prov-image", w.s.prov.DSSE(t, pt, provenance(t, img)))
	w.push(t, "advisory-image", w.s.advisory.DSSE(t, pt, advisory(t, "AIXV-IMG", "active", img)))
	r := wh.Review(context.Background(), request("Pod", "", "ml", pod("ghcr.io/acme/srv:1@sha256:"+img.sha)), "")
	if r.Allowed || !strings.Contains(r.Result.Message, `container "srv" image`) || !strings.Contains(r.Result.Message, "AIXV-IMG") {
		t.Fatalf("advised image admitted: %+v", r.Result)
	}
}
