package k8sadmit

// The end-to-end test against a REAL kube-apiserver and etcd, started by
// deploy/dev/kube-apiserver.sh (built from the Go module proxy and cached;
// deploy/dev/test.sh exports MODELGRAPH_KUBE_APISERVER). The API server
// calls this package's webhook over TLS (certificates from
// deploy/dev/webhook-certs.sh) for workloads created with plain REST
// calls. No mocks: the API server's own admission chain decides what the
// caller sees.
//
// Without MODELGRAPH_KUBE_APISERVER the test skips locally and FAILS in
// CI (CI=true).

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/testserve"
)

type kube struct {
	t      *testing.T
	url    string
	token  string
	client *http.Client
	audit  string
}

// kubeResp is one API answer.
type kubeResp struct {
	code     int
	body     string
	warnings []string
}

func (k *kube) do(method, path string, obj any) kubeResp {
	k.t.Helper()
	var body io.Reader
	if obj != nil {
		b, err := json.Marshal(obj)
		if err != nil {
			k.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, k.url+path, body)
	if err != nil {
		k.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+k.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		k.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return kubeResp{code: resp.StatusCode, body: string(b), warnings: resp.Header.Values("Warning")}
}

func (k *kube) mustCreate(path string, obj any) {
	k.t.Helper()
	if r := k.do("POST", path, obj); r.code != http.StatusCreated && r.code != http.StatusConflict {
		k.t.Fatalf("POST %s: %d %s", path, r.code, r.body)
	}
}

func startKube(t *testing.T, extraEnv ...string) *kube {
	bin := os.Getenv("MODELGRAPH_KUBE_APISERVER")
	if bin == "" {
		msg := "MODELGRAPH_KUBE_APISERVER is not set: build it with `bash deploy/dev/kube-apiserver.sh build` (make test does)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("MODELGRAPH_KUBE_APISERVER=%s: %v", bin, err)
	}
	script := filepath.Join(testserve.RepoRoot(t), "deploy", "dev", "kube-apiserver.sh")
	dir := t.TempDir()
	run := func(args ...string) {
		cmd := exec.Command("bash", append([]string{script}, args...)...)
		cmd.Env = append(append(os.Environ(), "MODELGRAPH_KUBE_APISERVER="+bin), extraEnv...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kube-apiserver.sh %v: %v\n%s", args, err, out)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "kube-apiserver.log")); err == nil {
				t.Logf("kube-apiserver.log (tail):\n%s", tail(string(b), 3000))
			}
		}
		cmd := exec.Command("bash", script, "stop", dir)
		_ = cmd.Run()
	})
	run("start", dir)
	env := map[string]string{}
	b, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(l, "=")
		env[k] = v
	}
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(env["KUBE_CA"])
	if err != nil || !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("API server certificate %s: %v", env["KUBE_CA"], err)
	}
	return &kube{t: t, url: env["KUBE_URL"], token: env["KUBE_TOKEN"], audit: env["KUBE_AUDIT_LOG"],
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// The objects the test creates.
func nsObj(name, mode string) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name, "labels": map[string]string{LabelMode: mode}}}
}

func podObj(name, model string) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": name},
		"spec": map[string]any{"containers": []any{map[string]any{"name": "vllm", "image": "vllm/vllm-openai:v0.9", "args": []string{"--model", model}}}}}
}

func template(model string) map[string]any {
	return map[string]any{"metadata": map[string]any{"labels": map[string]string{"app": "x"}},
		"spec": map[string]any{"restartPolicy": "Never", "containers": []any{map[string]any{"name": "tgi", "image": "ghcr.io/huggingface/text-generation-inference:3",
			"env": []any{map[string]string{"name": "MODEL_ID", "value": model}}}}}}
}

func deployObj(kind, name, model string) map[string]any {
	sel := map[string]any{"matchLabels": map[string]string{"app": "x"}}
	tmpl := template(model)
	var spec map[string]any
	switch kind {
	case "Deployment", "StatefulSet", "DaemonSet":
		tmpl["spec"].(map[string]any)["restartPolicy"] = "Always"
		spec = map[string]any{"selector": sel, "template": tmpl}
		if kind == "StatefulSet" {
			spec["serviceName"] = name
		}
	case "Job":
		spec = map[string]any{"template": tmpl}
	case "CronJob":
		spec = map[string]any{"schedule": "0 3 * * *", "jobTemplate": map[string]any{"spec": map[string]any{"template": tmpl}}}
	}
	return map[string]any{"kind": kind, "metadata": map[string]any{"name": name}, "spec": spec}
}

var kindPath = map[string]string{
	"Pod": "/api/v1/namespaces/%s/pods", "Deployment": "/apis/apps/v1/namespaces/%s/deployments",
	"StatefulSet": "/apis/apps/v1/namespaces/%s/statefulsets", "DaemonSet": "/apis/apps/v1/namespaces/%s/daemonsets",
	"Job": "/apis/batch/v1/namespaces/%s/jobs", "CronJob": "/apis/batch/v1/namespaces/%s/cronjobs",
	"InferenceService": "/apis/serving.kserve.io/v1beta1/namespaces/%s/inferenceservices",
}

func apiVersion(kind string) string {
	switch kind {
	case "Pod":
		return "v1"
	case "Job", "CronJob":
		return "batch/v1"
	case "InferenceService":
		return "serving.kserve.io/v1beta1"
	}
	return "apps/v1"
}

// webhookConfig is the shipped deploy/k8s/admission/webhook.yaml with
// each webhook's service replaced by a URL on 127.0.0.1 and the CA bundle.
func webhookConfig(t *testing.T, base, caB64 string) map[string]any {
	b, err := os.ReadFile(filepath.Join(testserve.RepoRoot(t), "deploy", "k8s", "admission", "webhook.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	delete(cfg["metadata"].(map[string]any), "annotations") // no cert-manager here
	hooks := cfg["webhooks"].([]any)
	if len(hooks) != 3 {
		t.Fatalf("webhook.yaml has %d webhooks, want enforce, warn, audit", len(hooks))
	}
	for _, h := range hooks {
		cc := h.(map[string]any)["clientConfig"].(map[string]any)
		path := cc["service"].(map[string]any)["path"].(string)
		h.(map[string]any)["clientConfig"] = map[string]any{"url": base + path, "caBundle": caB64}
	}
	return cfg
}

// A minimal InferenceService CRD (the real one's schema is not needed to
// call the webhook: the API server sends the object as written).
var isvcCRD = map[string]any{
	"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
	"metadata": map[string]any{"name": "inferenceservices.serving.kserve.io"},
	"spec": map[string]any{
		"group": "serving.kserve.io", "scope": "Namespaced",
		"names": map[string]any{"plural": "inferenceservices", "singular": "inferenceservice", "kind": "InferenceService", "shortNames": []string{"isvc"}},
		"versions": []any{map[string]any{"name": "v1beta1", "served": true, "storage": true,
			"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
	},
}

func TestEndToEndKubeAPIServer(t *testing.T) {
	// Certificates first: the API server presents the client certificate
	// to the webhook, which accepts no caller without one.
	certs := t.TempDir()
	testserve.WebhookCerts(t, certs)
	k := startKube(t, "KUBE_WEBHOOK_CLIENT_CERT="+filepath.Join(certs, "client.crt"), "KUBE_WEBHOOK_CLIENT_KEY="+filepath.Join(certs, "client.key"))

	// modelgraph: a real store and pipeline with a trust policy, and signed
	// documents; the webhook on its own TLS listener on 127.0.0.1.
	w := newWorld(t)
	good := subj{name: "hf://acme/good", sha: dg("a")}
	bad := subj{name: "hf://acme/bad", sha: dg("b")}
	late := subj{name: "hf://acme/late", sha: dg("c")}
	for _, m := range []subj{good, bad, late} {
		w.push(t, "prov "+m.name, w.s.prov.DSSE(t, pt, provenance(t, m)))
	}
	w.push(t, "advisory AIXV-BAD", w.s.advisory.DSSE(t, pt, advisory(t, "AIXV-BAD", "active", bad)))
	wh, err := New(w.q, w.pipe, Config{Environment: "e2e", Cluster: "local"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ListenTLS("127.0.0.1:0", TLSFiles{Cert: filepath.Join(certs, "tls.crt"), Key: filepath.Join(certs, "tls.key"), ClientCA: filepath.Join(certs, "ca.crt")}, wh, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, 5*time.Second) }()
	t.Cleanup(func() { cancel(); <-served; wh.Close() })
	caB64, err := os.ReadFile(filepath.Join(certs, "ca.b64"))
	if err != nil {
		t.Fatal(err)
	}

	// Cluster objects: namespaces by mode (each with its default
	// ServiceAccount: no controller-manager runs), the CRD, the webhook.
	for _, ns := range [][2]string{{"ml-enforce", "enforce"}, {"ml-warn", "warn"}, {"ml-audit", "audit"}, {"modelgraph", "enforce"}} {
		k.mustCreate("/api/v1/namespaces", nsObj(ns[0], ns[1]))
		k.mustCreate("/api/v1/namespaces/"+ns[0]+"/serviceaccounts", map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]any{"name": "default"}})
	}
	k.mustCreate("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", isvcCRD)
	k.mustCreate("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", webhookConfig(t, "https://"+srv.Addr().String(), string(caB64)))

	create := func(ns, kind string, obj map[string]any) kubeResp {
		obj["apiVersion"], obj["kind"] = apiVersion(kind), kind
		r := k.do("POST", fmt.Sprintf(kindPath[kind], ns), obj)
		// A new CRD is served once established: wait for it.
		for deadline := time.Now().Add(30 * time.Second); r.code == http.StatusNotFound && kind == "InferenceService" && time.Now().Before(deadline); {
			time.Sleep(200 * time.Millisecond)
			r = k.do("POST", fmt.Sprintf(kindPath[kind], ns), obj)
		}
		return r
	}
	// The API server picks the configuration up asynchronously: wait until
	// a denial comes back.
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i++ {
		r := create("ml-enforce", "Pod", podObj(fmt.Sprintf("probe-%d", i), "hf://acme/bad"))
		if r.code == http.StatusForbidden {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook never took effect: last answer %d %s", r.code, r.body)
		}
		time.Sleep(500 * time.Millisecond)
	}
	advisoryDoc := w.docs["advisory AIXV-BAD"]

	t.Run("enforce admits a verified model", func(t *testing.T) {
		for _, kind := range []string{"Pod", "Deployment"} {
			obj := podObj("good", "hf://acme/good")
			if kind != "Pod" {
				obj = deployObj(kind, "good", "hf://acme/good")
			}
			if r := create("ml-enforce", kind, obj); r.code != http.StatusCreated {
				t.Fatalf("%s: %d %s", kind, r.code, r.body)
			}
		}
	})
	t.Run("enforce denies every workload kind running an advised model, naming rule and document", func(t *testing.T) {
		for _, kind := range []string{"Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "InferenceService"} {
			var obj map[string]any
			switch kind {
			case "Pod":
				obj = podObj("bad-pod", "hf://acme/bad")
			case "InferenceService":
				obj = map[string]any{"metadata": map[string]any{"name": "bad-isvc"}, "spec": map[string]any{"predictor": map[string]any{
					"model": map[string]any{"modelFormat": map[string]string{"name": "huggingface"}, "storageUri": "hf://acme/bad"}}}}
			default:
				obj = deployObj(kind, "bad-"+strings.ToLower(kind), "acme/bad")
			}
			r := create("ml-enforce", kind, obj)
			if r.code != http.StatusForbidden {
				t.Fatalf("%s: %d %s", kind, r.code, r.body)
			}
			for _, want := range []string{`admission webhook \"enforce.admission.modelgraph.dev\" denied the request`, "rule advisory failed", "AIXV-BAD", advisoryDoc} {
				if !strings.Contains(r.body, want) {
					t.Errorf("%s: %q missing from %s", kind, want, r.body)
				}
			}
		}
	})
	t.Run("enforce denies an unknown model by default", func(t *testing.T) {
		r := create("ml-enforce", "Pod", podObj("unknown", "hf://nobody/knows"))
		if r.code != http.StatusForbidden || !strings.Contains(r.body, "rule known failed") {
			t.Fatalf("%d %s", r.code, r.body)
		}
	})
	t.Run("warn admits with warnings", func(t *testing.T) {
		r := create("ml-warn", "Deployment", deployObj("Deployment", "bad", "hf://acme/bad"))
		if r.code != http.StatusCreated {
			t.Fatalf("%d %s", r.code, r.body)
		}
		all := strings.Join(r.warnings, "\n")
		if !strings.Contains(all, "modelgraph would deny") || !strings.Contains(all, "rule advisory failed") || !strings.Contains(all, advisoryDoc) {
			t.Fatalf("warnings %q", r.warnings)
		}
	})
	t.Run("audit admits with audit annotations", func(t *testing.T) {
		r := create("ml-audit", "Deployment", deployObj("Deployment", "bad", "hf://acme/bad"))
		if r.code != http.StatusCreated || len(r.warnings) != 0 {
			t.Fatalf("%d %q %s", r.code, r.warnings, r.body)
		}
		want := `"audit.admission.modelgraph.dev/decision":"deny"`
		deadline := time.Now().Add(20 * time.Second)
		for {
			b, _ := os.ReadFile(k.audit)
			var hit string
			for _, l := range strings.Split(string(b), "\n") {
				if strings.Contains(l, want) && strings.Contains(l, `"namespace":"ml-audit"`) {
					hit = l
				}
			}
			if hit != "" {
				if !strings.Contains(hit, "audit.admission.modelgraph.dev/reasons") || !strings.Contains(hit, "rule advisory failed") {
					t.Fatalf("audit event without reasons: %s", hit)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no audit event with %s in %s", want, k.audit)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	t.Run("modelgraph's own namespace is excluded", func(t *testing.T) {
		if r := create("modelgraph", "Pod", podObj("bad", "hf://acme/bad")); r.code != http.StatusCreated {
			t.Fatalf("%d %s", r.code, r.body)
		}
	})
	t.Run("an advisory that arrives after the first admission", func(t *testing.T) {
		if r := create("ml-enforce", "Deployment", deployObj("Deployment", "late", "hf://acme/late")); r.code != http.StatusCreated {
			t.Fatalf("first: %d %s", r.code, r.body)
		}
		w.push(t, "advisory AIXV-LATE", w.s.advisory.DSSE(t, pt, advisory(t, "AIXV-LATE", "active", late)))
		r := create("ml-enforce", "Pod", podObj("late-replica", "hf://acme/late"))
		if r.code != http.StatusForbidden || !strings.Contains(r.body, "AIXV-LATE") || !strings.Contains(r.body, w.docs["advisory AIXV-LATE"]) {
			t.Fatalf("after the advisory: %d %s", r.code, r.body)
		}
		// Scaling the admitted Deployment is not blocked.
		scale := `{"spec":{"replicas":3}}`
		req, _ := http.NewRequest("PATCH", k.url+"/apis/apps/v1/namespaces/ml-enforce/deployments/late", strings.NewReader(scale))
		req.Header.Set("Authorization", "Bearer "+k.token)
		req.Header.Set("Content-Type", "application/merge-patch+json")
		resp, err := k.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("scale: %d %s", resp.StatusCode, b)
		}
	})
	t.Run("a dry run is judged and not recorded", func(t *testing.T) {
		obj := deployObj("Deployment", "dry", "hf://acme/good")
		obj["apiVersion"] = "apps/v1"
		if r := k.do("POST", "/apis/apps/v1/namespaces/ml-enforce/deployments?dryRun=All", obj); r.code != http.StatusCreated {
			t.Fatalf("%d %s", r.code, r.body)
		}
	})
	t.Run("the shipped manifests are accepted by the API server", func(t *testing.T) {
		paths := map[string]string{
			"ServiceAccount": "/api/v1/namespaces/modelgraph/serviceaccounts", "Service": "/api/v1/namespaces/modelgraph/services",
			"ConfigMap": "/api/v1/namespaces/modelgraph/configmaps", "StatefulSet": "/apis/apps/v1/namespaces/modelgraph/statefulsets",
			"ClusterRole": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
		}
		for _, f := range []string{"admission/rbac.yaml", "admission/service.yaml", "admission/config.yaml", "statefulset.yaml"} {
			b, err := os.ReadFile(filepath.Join(testserve.RepoRoot(t), "deploy", "k8s", f))
			if err != nil {
				t.Fatal(err)
			}
			dec := yaml.NewDecoder(bytes.NewReader(b))
			for {
				var obj map[string]any
				if err := dec.Decode(&obj); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				if obj == nil {
					continue
				}
				kind, _ := obj["kind"].(string)
				path, ok := paths[kind]
				if !ok {
					t.Fatalf("%s: unexpected kind %q", f, kind)
				}
				if r := k.do("POST", path, obj); r.code != http.StatusCreated {
					t.Fatalf("%s %s: %d %s", f, kind, r.code, r.body)
				}
			}
		}
		// The StatefulSet patch applies to the shipped StatefulSet.
		patch, err := os.ReadFile(filepath.Join(testserve.RepoRoot(t), "deploy", "k8s", "admission", "patches", "statefulset.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var pm map[string]any
		if err := yaml.Unmarshal(patch, &pm); err != nil {
			t.Fatal(err)
		}
		pj, _ := json.Marshal(pm)
		req, _ := http.NewRequest("PATCH", k.url+"/apis/apps/v1/namespaces/modelgraph/statefulsets/modelgraph", bytes.NewReader(pj))
		req.Header.Set("Authorization", "Bearer "+k.token)
		req.Header.Set("Content-Type", "application/strategic-merge-patch+json")
		resp, err := k.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("patch: %d %s", resp.StatusCode, out)
		}
		for _, want := range []string{"--admission-listen", `"containerPort":8443`, "modelgraph-webhook-tls", "--tokens-file"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("patched StatefulSet lacks %s", want)
			}
		}
	})
	t.Run("decisions are deployment records in the graph", func(t *testing.T) {
		wh.Flush()
		ctx := context.Background()
		for key, model := range map[string]string{
			"deployment:e2e/local/ml-enforce/deployment.good":            good.sha,
			"deployment:e2e/local/ml-enforce/deployment.late":            late.sha,
			"deployment:e2e/local/ml-warn/deployment.bad":                bad.sha,
			"deployment:e2e-denied/local/ml-enforce/pod.bad-pod":         bad.sha,
			"deployment:e2e-denied/local/ml-enforce/cronjob.bad-cronjob": bad.sha,
		} {
			ns, err := w.store.Lookup(ctx, key)
			if err != nil || len(ns) != 1 {
				t.Fatalf("%s: %v %v", key, ns, err)
			}
			es, err := w.store.Edges(ctx, ns[0].ID, graph.In, graph.DeployedAs)
			if err != nil || len(es) == 0 {
				t.Fatalf("%s: no model deployed: %v", key, err)
			}
			m, err := w.store.Node(ctx, es[0].From)
			if err != nil || !slices.Contains(m.Keys, "sha256:"+model) {
				t.Fatalf("%s runs %v", key, m.Keys)
			}
		}
		// Who asked, what, and how it went: the record's source.
		ns, err := w.store.Lookup(ctx, "deployment:e2e-denied/local/ml-enforce/pod.bad-pod")
		if err != nil || len(ns) != 1 {
			t.Fatal(ns, err)
		}
		docs, err := w.store.Documents(ctx, ns[0].Docs...)
		if err != nil || len(docs) != 1 {
			t.Fatal(docs, err)
		}
		if want := RecordSource + ": deny Pod ml-enforce/bad-pod for modelgraph-admin (denied) rules advisory uid "; !strings.HasPrefix(docs[0].Source, want) || docs[0].Status() != graph.StatusUnsigned {
			t.Fatalf("record source %q (%s), want %q…", docs[0].Source, docs[0].Status(), want)
		}
		if ns, _ := w.store.Lookup(ctx, "deployment:e2e/local/ml-enforce/deployment.dry"); len(ns) != 0 {
			t.Fatalf("dry run recorded")
		}
	})
}
