package k8sadmit

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Annotation keys a workload (or its pod template) may carry to name the
// model it runs. Values may list several references separated by commas or
// white space.
const (
	// AnnotationModelDigest names model digests: sha256:<hex> of a weights
	// file, or an OMS root digest.
	AnnotationModelDigest = "modelgraph.dev/model-digest"
	// AnnotationModel names models by any reference the graph resolves: a
	// digest, a hub id (hf://org/name or org/name), a URI.
	AnnotationModel = "modelgraph.dev/model"
)

// LabelMode is the namespace label the shipped webhook configuration
// selects on (deploy/k8s/webhook.yaml): enforce, warn or audit, like Pod
// Security Admission's pod-security.kubernetes.io/<mode> labels.
const LabelMode = "modelgraph.dev/admission"

// Default argument flags and environment variables that name the model a
// serving runtime loads: vLLM (--model, `vllm serve <model>`), TGI
// (--model-id, MODEL_ID), SGLang (--model-path), and the HF_MODEL_ID /
// MODEL_ID convention k8s-aibom reads.
var (
	DefaultArgFlags = []string{"--model", "--model-id", "--model-path"}
	DefaultEnvNames = []string{"HF_MODEL_ID", "MODEL_ID"}
)

// Limits of one admission request.
const (
	// MaxRefs bounds the references judged per object; more is an error
	// (a denial in enforce mode), never a silent cut.
	MaxRefs = 64
	// MaxRefLen bounds one reference.
	MaxRefLen = 1024
)

// RefKind says what a reference names.
type RefKind string

const (
	// RefModel is a model (weights, OMS root, hub id, model artifact).
	RefModel RefKind = "model"
	// RefImage is a container image pinned by digest: judged by its SBOM
	// and lineage when the graph knows it, ignored otherwise.
	RefImage RefKind = "image"
)

// Reference is one model (or serving image) a workload will run, and
// where in the object it was found.
type Reference struct {
	Kind  RefKind `json:"kind"`
	Value string  `json:"value"`
	// From says where: `annotation modelgraph.dev/model`, `container "vllm"
	// arg --model`, `container "tgi" env MODEL_ID`, `image volume "w"`,
	// `predictor.model.storageUri`, `container "vllm" image`.
	From string `json:"from"`
	// Container is the container that runs the model ("" when the
	// reference is not tied to one).
	Container string `json:"container,omitempty"`
}

// Workload is what an admission request asks to run.
type Workload struct {
	Kind      string
	Namespace string
	Name      string
	// Owner is the controller that created a Pod ("ReplicaSet/chat-5d9f"),
	// "" otherwise.
	Owner string
	Refs  []Reference
	// Images are the (non-init) container images, in order, for the
	// deployment record.
	Images []ContainerImage
}

// ContainerImage is a container and its image reference.
type ContainerImage struct {
	Container string
	Image     string
}

// Extractor finds the models a workload runs.
type Extractor struct {
	ArgFlags []string // DefaultArgFlags when nil
	EnvNames []string // DefaultEnvNames when nil
}

type objectMeta struct {
	Name            string            `json:"name"`
	GenerateName    string            `json:"generateName"`
	Namespace       string            `json:"namespace"`
	Annotations     map[string]string `json:"annotations"`
	OwnerReferences []struct {
		Kind       string `json:"kind"`
		Name       string `json:"name"`
		Controller *bool  `json:"controller"`
	} `json:"ownerReferences"`
}

// Supported lists the kinds the webhook judges, by group.
var Supported = map[string][]string{
	"":                  {"Pod"},
	"apps":              {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"},
	"batch":             {"Job", "CronJob"},
	"serving.kserve.io": {"InferenceService"},
}

// Extract reads the object of kind (in group) and returns what it runs. A
// kind the webhook does not judge is an error.
func (x Extractor) Extract(group, kind string, raw []byte) (Workload, error) {
	var top struct {
		Metadata objectMeta      `json:"metadata"`
		Spec     json.RawMessage `json:"spec"`
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		return Workload{}, fmt.Errorf("%s: %w", kind, err)
	}
	w := Workload{Kind: kind, Namespace: top.Metadata.Namespace, Name: top.Metadata.Name}
	if w.Name == "" {
		w.Name = strings.TrimRight(top.Metadata.GenerateName, "-")
	}
	for _, o := range top.Metadata.OwnerReferences {
		if o.Controller != nil && *o.Controller {
			w.Owner = o.Kind + "/" + o.Name
		}
	}
	c := &collector{x: x, w: &w}
	c.annotations(top.Metadata.Annotations, "")
	if !slices.Contains(Supported[group], kind) {
		return w, fmt.Errorf("kind %s in group %q is not judged", kind, group)
	}
	var err error
	switch kind {
	case "Pod":
		var spec corev1.PodSpec
		if err = strictish(top.Spec, &spec); err == nil {
			c.podSpec(spec, "")
		}
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		var spec struct {
			Template corev1.PodTemplateSpec `json:"template"`
		}
		if err = strictish(top.Spec, &spec); err == nil {
			c.template(spec.Template)
		}
	case "CronJob":
		var spec struct {
			JobTemplate struct {
				Spec struct {
					Template corev1.PodTemplateSpec `json:"template"`
				} `json:"spec"`
			} `json:"jobTemplate"`
		}
		if err = strictish(top.Spec, &spec); err == nil {
			c.template(spec.JobTemplate.Spec.Template)
		}
	case "InferenceService":
		err = c.inferenceService(top.Spec)
	}
	if err != nil {
		return w, fmt.Errorf("%s %s: spec: %w", kind, w.Name, err)
	}
	if c.err != nil {
		return w, c.err
	}
	return w, nil
}

func strictish(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, v)
}

type collector struct {
	x   Extractor
	w   *Workload
	err error
}

func (c *collector) add(r Reference) {
	r.Value = strings.TrimSpace(r.Value)
	if r.Value == "" || c.err != nil {
		return
	}
	if len(r.Value) > MaxRefLen {
		c.err = fmt.Errorf("%s: reference of %d bytes, limit %d", r.From, len(r.Value), MaxRefLen)
		return
	}
	for _, e := range c.w.Refs {
		if e.Kind == r.Kind && e.Value == r.Value {
			return // first place found wins
		}
	}
	if len(c.w.Refs) >= MaxRefs {
		c.err = fmt.Errorf("more than %d model references", MaxRefs)
		return
	}
	c.w.Refs = append(c.w.Refs, r)
}

func (c *collector) annotations(a map[string]string, where string) {
	for _, k := range []string{AnnotationModelDigest, AnnotationModel} {
		v, ok := a[k]
		if !ok {
			continue
		}
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
			c.add(Reference{Kind: RefModel, Value: f, From: strings.TrimSpace(where + " annotation " + k)})
		}
	}
}

func (c *collector) template(t corev1.PodTemplateSpec) {
	c.annotations(t.Annotations, "pod template")
	c.podSpec(t.Spec, "")
}

func (c *collector) podSpec(s corev1.PodSpec, prefix string) {
	for _, v := range s.Volumes {
		if v.Image != nil {
			c.add(Reference{Kind: RefModel, Value: imageRef(v.Image.Reference), From: fmt.Sprintf("%simage volume %q", prefix, v.Name)})
		}
	}
	for _, ct := range s.Containers {
		c.container(ct, prefix)
	}
}

func (c *collector) container(ct corev1.Container, prefix string) {
	where := fmt.Sprintf("%scontainer %q", prefix, ct.Name)
	flags := c.x.ArgFlags
	if flags == nil {
		flags = DefaultArgFlags
	}
	// command and args together, as the runtime sees them.
	argv := append(slices.Clone(ct.Command), ct.Args...)
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		if f, v, ok := strings.Cut(a, "="); ok && slices.Contains(flags, f) {
			c.addValue(v, where+" arg "+f, ct.Name)
			continue
		}
		if slices.Contains(flags, a) && i+1 < len(argv) && !strings.HasPrefix(argv[i+1], "-") {
			c.addValue(argv[i+1], where+" arg "+a, ct.Name)
			i++
			continue
		}
		// vLLM's `vllm serve <model>`: the model is the first positional.
		if a == "serve" && i > 0 && strings.HasSuffix(argv[i-1], "vllm") && i+1 < len(argv) && !strings.HasPrefix(argv[i+1], "-") {
			c.addValue(argv[i+1], where+" arg `vllm serve`", ct.Name)
			i++
		}
	}
	names := c.x.EnvNames
	if names == nil {
		names = DefaultEnvNames
	}
	for _, e := range ct.Env {
		if slices.Contains(names, e.Name) && e.ValueFrom == nil {
			c.addValue(e.Value, where+" env "+e.Name, ct.Name)
		}
	}
	if d := pinnedDigest(ct.Image); d != "" {
		c.add(Reference{Kind: RefImage, Value: d, From: where + " image " + ct.Image, Container: ct.Name})
	}
	c.w.Images = append(c.w.Images, ContainerImage{Container: ct.Name, Image: ct.Image})
}

// addValue adds a model named by a runtime argument or variable. Local
// paths and unexpanded variables name no model the graph can know: they
// are skipped (docs/admission.md says so).
func (c *collector) addValue(v, from, container string) {
	v = strings.TrimSpace(v)
	if v == "" || strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") || strings.Contains(v, "$(") || strings.Contains(v, "${") {
		return
	}
	c.add(Reference{Kind: RefModel, Value: v, From: from, Container: container})
}

// inferenceService reads a KServe InferenceService spec: each component
// (predictor, transformer, explainer) is a pod spec plus a model
// (model.storageUri, storageUris, or a framework block with storageUri).
func (c *collector) inferenceService(raw json.RawMessage) error {
	var spec map[string]json.RawMessage
	if err := strictish(raw, &spec); err != nil {
		return err
	}
	for _, comp := range []string{"predictor", "transformer", "explainer"} {
		body, ok := spec[comp]
		if !ok {
			continue
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil {
			return fmt.Errorf("%s: %w", comp, err)
		}
		var ps corev1.PodSpec
		if err := json.Unmarshal(body, &ps); err != nil {
			return fmt.Errorf("%s: %w", comp, err)
		}
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			var block struct {
				StorageURI  string `json:"storageUri"`
				StorageURIs []struct {
					URI string `json:"uri"`
				} `json:"storageUris"`
				corev1.Container
			}
			if len(fields[k]) == 0 || fields[k][0] != '{' {
				continue
			}
			if err := json.Unmarshal(fields[k], &block); err != nil {
				continue // not a model block
			}
			if block.StorageURI != "" {
				c.add(Reference{Kind: RefModel, Value: storageRef(block.StorageURI), From: comp + "." + k + ".storageUri"})
			}
			for i, u := range block.StorageURIs {
				c.add(Reference{Kind: RefModel, Value: storageRef(u.URI), From: fmt.Sprintf("%s.%s.storageUris[%d]", comp, k, i)})
			}
			if block.StorageURI != "" || block.Image != "" || len(block.Args) > 0 || len(block.Env) > 0 {
				block.Name = comp + "." + k
				c.container(block.Container, "")
			}
		}
		if u, ok := fields["storageUri"]; ok {
			var s string
			if json.Unmarshal(u, &s) == nil {
				c.add(Reference{Kind: RefModel, Value: storageRef(s), From: comp + ".storageUri"})
			}
		}
		c.podSpec(ps, comp+" ")
	}
	return nil
}

// storageRef maps a KServe storageUri to a reference: oci:// artifacts
// pinned by digest become the digest; the rest stay as written (hf://,
// s3://, gs://, pvc:// are resolved against the graph's keys).
func storageRef(u string) string {
	u = strings.TrimSpace(u)
	if strings.HasPrefix(u, "oci://") {
		return imageRef(strings.TrimPrefix(u, "oci://"))
	}
	return u
}

// imageRef maps an image reference to the digest it is pinned to, or to
// the reference itself (oci://…) when it is not pinned: an unpinned model
// artifact cannot be judged by digest and is unknown to the graph.
func imageRef(ref string) string {
	if d := pinnedDigest(ref); d != "" {
		return d
	}
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	return "oci://" + ref
}

// pinnedDigest returns the sha256:<hex> an image reference is pinned to.
func pinnedDigest(ref string) string {
	_, d, ok := strings.Cut(ref, "@")
	if !ok {
		return ""
	}
	d = strings.ToLower(strings.TrimSpace(d))
	if !strings.HasPrefix(d, "sha256:") || len(d) != len("sha256:")+64 {
		return ""
	}
	for _, r := range d[len("sha256:"):] {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return ""
		}
	}
	return d
}
