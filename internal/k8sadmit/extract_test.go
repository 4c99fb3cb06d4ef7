package k8sadmit

import (
	"fmt"
	"strings"
	"testing"
)

func TestExtract(t *testing.T) {
	img := "ghcr.io/acme/vllm@sha256:" + dg("c")
	cases := []struct {
		name, group, kind, obj string
		want                   []string // "kind value <- from"
		wantErr                string
	}{
		{
			name: "pod annotation digests and hub reference", kind: "Pod",
			obj: `{"metadata":{"name":"p","annotations":{"modelgraph.dev/model-digest":"sha256:` + dg("a") + `, sha256:` + dg("b") + `","modelgraph.dev/model":"hf://acme/llm"}},
			       "spec":{"containers":[{"name":"c","image":"busybox"}]}}`,
			want: []string{
				"model sha256:" + dg("a") + " <- annotation modelgraph.dev/model-digest",
				"model sha256:" + dg("b") + " <- annotation modelgraph.dev/model-digest",
				"model hf://acme/llm <- annotation modelgraph.dev/model",
			},
		},
		{
			name: "deployment vLLM args in both forms, env, pinned image", group: "apps", kind: "Deployment",
			obj: `{"metadata":{"name":"chat"},"spec":{"template":{"metadata":{"annotations":{"modelgraph.dev/model":"acme/tmpl"}},
			       "spec":{"containers":[
			         {"name":"vllm","image":"` + img + `","args":["--model","meta-llama/Llama-3.1-8B","--model-id=acme/other","--port","8000"]},
			         {"name":"tgi","image":"tgi:2","env":[{"name":"MODEL_ID","value":"acme/tgi"},{"name":"HF_MODEL_ID","value":"acme/hf"},{"name":"OTHER","value":"x"},{"name":"MODEL_ID","valueFrom":{"configMapKeyRef":{"name":"c","key":"k"}}}]}]}}}}`,
			want: []string{
				"model acme/tmpl <- pod template annotation modelgraph.dev/model",
				`model meta-llama/Llama-3.1-8B <- container "vllm" arg --model`,
				`model acme/other <- container "vllm" arg --model-id`,
				"image sha256:" + dg("c") + ` <- container "vllm" image ` + img,
				`model acme/tgi <- container "tgi" env MODEL_ID`,
				`model acme/hf <- container "tgi" env HF_MODEL_ID`,
			},
		},
		{
			name: "vllm serve positional; local paths and variables skipped", group: "apps", kind: "StatefulSet",
			obj: `{"metadata":{"name":"s"},"spec":{"template":{"spec":{"containers":[
			       {"name":"v","image":"vllm/vllm-openai","command":["python3","-m","vllm"],"args":["serve","hf://acme/served","--model-path","/models/x","--model","$(MODEL)"]}]}}}}`,
			want: []string{`model hf://acme/served <- container "v" arg ` + "`vllm serve`"},
		},
		{
			name: "cronjob template and image volumes", group: "batch", kind: "CronJob",
			obj: `{"metadata":{"name":"nightly"},"spec":{"jobTemplate":{"spec":{"template":{"spec":{
			       "volumes":[{"name":"w","image":{"reference":"ghcr.io/acme/weights@sha256:` + dg("d") + `"}},{"name":"u","image":{"reference":"ghcr.io/acme/weights:latest"}},{"name":"e","emptyDir":{}}],
			       "containers":[{"name":"j","image":"busybox"}]}}}}}}`,
			want: []string{
				"model sha256:" + dg("d") + ` <- image volume "w"`,
				`model oci://ghcr.io/acme/weights:latest <- image volume "u"`,
			},
		},
		{
			name: "job and daemonset read the same template", group: "batch", kind: "Job",
			obj:  `{"metadata":{"name":"j"},"spec":{"template":{"spec":{"containers":[{"name":"c","image":"x","args":["--model=acme/job"]}]}}}}`,
			want: []string{`model acme/job <- container "c" arg --model`},
		},
		{
			name: "kserve inference service: storageUri, oci artifact, predictor containers", group: "serving.kserve.io", kind: "InferenceService",
			obj: `{"metadata":{"name":"isvc"},"spec":{
			       "predictor":{"model":{"modelFormat":{"name":"huggingface"},"storageUri":"hf://acme/kserve","args":["--max-model-len=4096"]},
			                    "containers":[{"name":"kserve-container","image":"srv","env":[{"name":"HF_MODEL_ID","value":"acme/env"}]}]},
			       "transformer":{"containers":[{"name":"t","image":"t"}]},
			       "explainer":{"sklearn":{"storageUri":"oci://ghcr.io/acme/expl@sha256:` + dg("e") + `"}}}}`,
			want: []string{
				"model hf://acme/kserve <- predictor.model.storageUri",
				`model acme/env <- predictor container "kserve-container" env HF_MODEL_ID`,
				"model sha256:" + dg("e") + " <- explainer.sklearn.storageUri",
			},
		},
		{name: "a kind not judged", group: "", kind: "ConfigMap", obj: `{"metadata":{"name":"c"}}`, wantErr: "not judged"},
		{name: "bad spec", kind: "Pod", obj: `{"metadata":{"name":"p"},"spec":{"containers":"nope"}}`, wantErr: "Pod p: spec"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := Extractor{}.Extract(c.group, c.kind, []byte(c.obj))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range w.Refs {
				got = append(got, fmt.Sprintf("%s %s <- %s", r.Kind, r.Value, r.From))
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Fatalf("refs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestExtractLimits(t *testing.T) {
	var args []string
	for i := range MaxRefs + 1 {
		args = append(args, fmt.Sprintf(`"--model=acme/m%d"`, i))
	}
	obj := `{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x","args":[` + strings.Join(args, ",") + `]}]}}`
	if _, err := (Extractor{}).Extract("", "Pod", []byte(obj)); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("err = %v, want a limit error", err)
	}
	long := `{"metadata":{"name":"p","annotations":{"modelgraph.dev/model":"` + strings.Repeat("a", MaxRefLen+1) + `"}},"spec":{}}`
	if _, err := (Extractor{}).Extract("", "Pod", []byte(long)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("err = %v, want a length error", err)
	}
}

func TestPodOwnerNamesTheService(t *testing.T) {
	w, err := Extractor{}.Extract("", "Pod", []byte(`{"metadata":{"generateName":"chat-5d9f-","ownerReferences":[{"kind":"ReplicaSet","name":"chat-5d9f","controller":true}]},"spec":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	if w.Name != "chat-5d9f" || service(w) != "replicaset.chat-5d9f" {
		t.Fatalf("name %q service %q", w.Name, service(w))
	}
}
