// Package k8sadmit is modelgraph's Kubernetes validating admission
// webhook: it reads an AdmissionReview v1 for a Pod or a workload with a
// pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
// CronJob, KServe InferenceService), finds the models it will run
// (annotations, serving-runtime arguments and variables, image volumes,
// KServe storage URIs, pinned images), asks internal/query's admission
// policy about each from the graph (no re-hashing), answers by the
// namespace's mode (enforce, warn, audit, like Pod Security Admission) and
// records every decision as an unsigned deployment record through the
// ingest pipeline. The decision logic lives in internal/query; this package
// only maps workloads to references and decisions to AdmissionReview.
// docs/admission.md is the user's page.
package k8sadmit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/modelgraph/modelgraph/graph"
	graphref "github.com/modelgraph/modelgraph/graph/ref"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/admission"
	"github.com/modelgraph/modelgraph/internal/query"
)

// Mode is how a namespace's decisions take effect.
type Mode string

// Modes, as in Pod Security Admission.
const (
	// ModeEnforce denies a workload whose model fails the policy.
	ModeEnforce Mode = "enforce"
	// ModeWarn admits it with admission warnings (kubectl prints them).
	ModeWarn Mode = "warn"
	// ModeAudit admits it and adds audit annotations to the API server's
	// audit event.
	ModeAudit Mode = "audit"
)

// UnknownRule is what happens to a model the graph knows nothing about.
type UnknownRule string

const (
	// UnknownDeny treats an unknown model as failing (the default: nothing
	// vouches for it).
	UnknownDeny UnknownRule = "deny"
	// UnknownAllow lets it pass with a warning.
	UnknownAllow UnknownRule = "allow"
)

// Config configures the webhook. The zero value enforces the default
// policy everywhere except the exempt namespaces.
type Config struct {
	// Policy is the admission policy each model is judged by
	// (admission.DefaultPolicy() when nil).
	Policy *admission.Policy `json:"policy,omitempty"`
	// DefaultMode applies to namespaces with no mode of their own
	// (ModeEnforce when empty). A request to /validate/<mode> (the
	// webhook configuration's namespace selectors pick the path by the
	// namespace's modelgraph.dev/admission label) uses that mode instead.
	DefaultMode Mode `json:"defaultMode,omitempty"`
	// Namespaces sets the mode of named namespaces; it wins over the
	// path's mode so an operator can pin a namespace without relabelling.
	Namespaces map[string]Mode `json:"namespaces,omitempty"`
	// Exempt namespaces are always admitted, never recorded (kube-system
	// and modelgraph's own namespace by default). The webhook
	// configuration excludes them too; this is the second line.
	Exempt []string `json:"exempt,omitempty"`
	// Unknown is the rule for models the graph does not know
	// (UnknownDeny when empty).
	Unknown UnknownRule `json:"unknown,omitempty"`
	// Environment and Cluster name the deployment records' location
	// ("kubernetes" and "default" when empty).
	Environment string `json:"environment,omitempty"`
	Cluster     string `json:"cluster,omitempty"`
	// Record turns deployment records off when false (nil: on).
	Record *bool `json:"record,omitempty"`
	// ArgFlags and EnvNames override the runtime conventions read from
	// containers (DefaultArgFlags, DefaultEnvNames).
	ArgFlags []string `json:"argFlags,omitempty"`
	EnvNames []string `json:"envNames,omitempty"`
	// Timeout bounds one decision (DefaultTimeout when 0); keep it under
	// the webhook configuration's timeoutSeconds.
	Timeout time.Duration `json:"-"`
}

// Defaults.
const (
	DefaultTimeout     = 4 * time.Second
	DefaultEnvironment = "kubernetes"
	DefaultCluster     = "default"
	// RecordSource starts the Source of every deployment record the
	// webhook writes: it names the webhook (who asked and the decision
	// follow).
	RecordSource = "k8s-admission-webhook"
	// MaxReviewBytes bounds an AdmissionReview body.
	MaxReviewBytes = 8 << 20
)

// DefaultExempt are never judged.
var DefaultExempt = []string{"kube-system", "kube-public", "kube-node-lease", "modelgraph"}

// Validate checks the configuration.
func (c Config) Validate() error {
	okMode := func(m Mode) bool { return m == "" || m == ModeEnforce || m == ModeWarn || m == ModeAudit }
	if !okMode(c.DefaultMode) {
		return fmt.Errorf("admission: defaultMode %q: want enforce, warn or audit", c.DefaultMode)
	}
	for ns, m := range c.Namespaces {
		if m == "" || !okMode(m) {
			return fmt.Errorf("admission: namespaces.%s: mode %q: want enforce, warn or audit", ns, m)
		}
	}
	if c.Unknown != "" && c.Unknown != UnknownDeny && c.Unknown != UnknownAllow {
		return fmt.Errorf("admission: unknown %q: want deny or allow", c.Unknown)
	}
	for _, s := range []string{c.Environment, c.Cluster} {
		if strings.ContainsAny(s, "/ \t\n") {
			return fmt.Errorf("admission: environment/cluster %q must not contain '/' or spaces", s)
		}
	}
	return nil
}

// Webhook serves AdmissionReview v1 requests.
type Webhook struct {
	q    *query.Service
	pipe *ingest.Pipeline
	cfg  Config
	pol  admission.Policy
	log  *slog.Logger
	rec  *recorder
	now  func() time.Time
}

// New returns a webhook judging with q and recording through pipe (nil:
// no records).
func New(q *query.Service, pipe *ingest.Pipeline, cfg Config, log *slog.Logger) (*Webhook, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Webhook{q: q, pipe: pipe, cfg: cfg, log: log, now: time.Now}
	w.pol = admission.DefaultPolicy()
	if cfg.Policy != nil {
		w.pol = *cfg.Policy
	}
	if w.cfg.DefaultMode == "" {
		w.cfg.DefaultMode = ModeEnforce
	}
	if w.cfg.Unknown == "" {
		w.cfg.Unknown = UnknownDeny
	}
	if w.cfg.Exempt == nil {
		w.cfg.Exempt = DefaultExempt
	}
	if w.cfg.Environment == "" {
		w.cfg.Environment = DefaultEnvironment
	}
	if w.cfg.Cluster == "" {
		w.cfg.Cluster = DefaultCluster
	}
	if w.cfg.Timeout <= 0 {
		w.cfg.Timeout = DefaultTimeout
	}
	if pipe != nil && (cfg.Record == nil || *cfg.Record) {
		w.rec = newRecorder(pipe, log)
	}
	return w, nil
}

// Close waits for queued deployment records to be written.
func (w *Webhook) Close() {
	if w.rec != nil {
		w.rec.close()
	}
}

// Flush waits until every record queued so far is written.
func (w *Webhook) Flush() {
	if w.rec != nil {
		w.rec.flush()
	}
}

// Routes the webhook answers; mount Handler at each.
var Routes = []string{"POST /validate", "POST /validate/{mode}"}

// ServeHTTP answers one AdmissionReview.
func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	mode := Mode(r.PathValue("mode"))
	if mode != "" && mode != ModeEnforce && mode != ModeWarn && mode != ModeAudit {
		http.Error(rw, fmt.Sprintf("unknown mode %q in path: want /validate, /validate/enforce, /validate/warn or /validate/audit", mode), http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxReviewBytes+1))
	if err != nil {
		http.Error(rw, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > MaxReviewBytes {
		http.Error(rw, fmt.Sprintf("AdmissionReview larger than %d bytes", MaxReviewBytes), http.StatusRequestEntityTooLarge)
		return
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		http.Error(rw, "not an AdmissionReview: "+err.Error(), http.StatusBadRequest)
		return
	}
	if review.Request == nil || review.Request.UID == "" {
		http.Error(rw, "AdmissionReview has no request (or no request.uid)", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), w.cfg.Timeout)
	defer cancel()
	resp := w.Review(ctx, review.Request, mode)
	out := admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}, Response: resp}
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(out)
}

// Verdict is the webhook's answer about one reference.
type Verdict struct {
	Ref Reference `json:"ref"`
	// Digests are the digests the reference resolved to and were judged.
	Digests []string `json:"digests,omitempty"`
	// Pass: the policy admits it (or, unknown, the unknown rule does).
	Pass    bool `json:"pass"`
	Unknown bool `json:"unknown"`
	// Ignored: a pinned image the graph does not know (not judged).
	Ignored bool `json:"ignored,omitempty"`
	// Reasons name the failing rule and the documents behind it; for a
	// passing model, what vouched for it.
	Reasons   []string             `json:"reasons"`
	Decisions []admission.Decision `json:"-"`
}

// Result is the decision about one admission request.
type Result struct {
	Mode     Mode
	Workload Workload
	Verdicts []Verdict
	// Allowed by the policy (before the mode): every verdict passed.
	Allowed bool
	// Err is set when the webhook could not decide.
	Err error
}

// Review decides one request. mode "" picks the namespace's mode from the
// configuration.
func (w *Webhook) Review(ctx context.Context, req *admissionv1.AdmissionRequest, mode Mode) *admissionv1.AdmissionResponse {
	resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	ns := req.Namespace
	if slices.Contains(w.cfg.Exempt, ns) {
		return resp
	}
	if m, ok := w.cfg.Namespaces[ns]; ok {
		mode = m
	}
	if mode == "" {
		mode = w.cfg.DefaultMode
	}
	if req.SubResource != "" || (req.Operation != admissionv1.Create && req.Operation != admissionv1.Update) {
		return resp
	}
	if !slices.Contains(Supported[req.Kind.Group], req.Kind.Kind) {
		return resp // a kind the webhook was not meant to see: not its call
	}
	x := Extractor{ArgFlags: w.cfg.ArgFlags, EnvNames: w.cfg.EnvNames}
	wl, err := x.Extract(req.Kind.Group, req.Kind.Kind, req.Object.Raw)
	if wl.Namespace == "" {
		wl.Namespace = ns
	}
	if wl.Name == "" {
		wl.Name = req.Name
	}
	res := Result{Mode: mode, Workload: wl}
	if err == nil && req.Operation == admissionv1.Update && len(req.OldObject.Raw) > 0 {
		// An update that does not change what runs (a scale, a label) is
		// not judged again: an emergency scale-down never meets a denial.
		old, oerr := x.Extract(req.Kind.Group, req.Kind.Kind, req.OldObject.Raw)
		if oerr == nil && sameRefs(old.Refs, wl.Refs) {
			return resp
		}
	}
	if err == nil && len(wl.Refs) == 0 {
		return resp // runs no model modelgraph can name
	}
	if err == nil {
		res = w.Decide(ctx, wl, mode)
	} else {
		res.Err = err
	}
	w.respond(resp, res)
	if w.rec != nil && (req.DryRun == nil || !*req.DryRun) && res.Err == nil {
		w.rec.enqueue(w.deploymentRecord(req, res))
	}
	w.log.Info("admission", "uid", req.UID, "namespace", ns, "kind", req.Kind.Kind, "name", wl.Name, "mode", mode,
		"allowed", res.Allowed, "admitted", resp.Allowed, "user", req.UserInfo.Username, "err", res.Err)
	return resp
}

func sameRefs(a, b []Reference) bool {
	key := func(rs []Reference) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = string(r.Kind) + " " + r.Value
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

// Decide judges every reference of a workload.
func (w *Webhook) Decide(ctx context.Context, wl Workload, mode Mode) Result {
	res := Result{Mode: mode, Workload: wl, Allowed: true}
	for _, ref := range wl.Refs {
		v, err := w.judge(ctx, ref)
		if err != nil {
			res.Err = fmt.Errorf("%s %s: %w", ref.From, ref.Value, err)
			res.Allowed = false
			return res
		}
		res.Verdicts = append(res.Verdicts, v)
		res.Allowed = res.Allowed && v.Pass
	}
	return res
}

// judge resolves one reference to digests and asks the admission policy
// about each; every digest must pass.
func (w *Webhook) judge(ctx context.Context, ref Reference) (Verdict, error) {
	v := Verdict{Ref: ref, Pass: true}
	digests, named, err := w.digests(ctx, ref)
	if err != nil {
		return v, err
	}
	if len(digests) == 0 && len(named) > 0 {
		// Known, but only by name (a model card, a hub id in a record):
		// nothing can vouch for bytes no document names.
		v.Pass = false
		v.Reasons = append(v.Reasons, fmt.Sprintf("rule signature failed for %s: the graph knows it only by name, no document gives it a digest, so nothing vouches for what will run [document %s]",
			ref.Value, strings.Join(named[:min(len(named), 3)], "; ")))
		return v, nil
	}
	if len(digests) == 0 {
		return w.unknown(v, unknownMessage(ref)), nil
	}
	for _, dg := range digests {
		d, err := admission.Decide(ctx, w.q, dg, w.pol)
		if err != nil {
			return v, err
		}
		if isUnknown(d) {
			if ref.Kind == RefImage {
				v.Ignored = true
				v.Reasons = append(v.Reasons, "image "+dg+" is not in the graph: not judged")
				continue
			}
			v = w.unknown(v, "no document but the webhook's own records mentions "+dg+": nothing vouches for it")
			v.Digests = append(v.Digests, dg)
			continue
		}
		v.Digests = append(v.Digests, dg)
		v.Decisions = append(v.Decisions, d)
		if !d.Allow {
			v.Pass = false
		}
		for _, c := range d.Checks {
			if !c.Passed {
				v.Reasons = append(v.Reasons, fmt.Sprintf("rule %s failed for %s: %s%s", c.Rule, dg, c.Message, documents(c, d)))
			}
		}
		if d.Allow {
			v.Reasons = append(v.Reasons, fmt.Sprintf("%s admitted: %s", dg, passReason(d)))
		}
	}
	return v, nil
}

func (w *Webhook) unknown(v Verdict, msg string) Verdict {
	v.Unknown = true
	if w.cfg.Unknown == UnknownAllow {
		v.Reasons = append(v.Reasons, "rule known (unknown model allowed by configuration): "+msg)
		return v
	}
	v.Pass = false
	v.Reasons = append(v.Reasons, "rule known failed: "+msg)
	return v
}

func unknownMessage(ref Reference) string {
	if strings.HasPrefix(ref.Value, "oci://") {
		return ref.Value + " is not pinned by digest and no document names it: nothing vouches for it"
	}
	return "no document mentions " + ref.Value + ": nothing vouches for it"
}

// isUnknown: the graph does not know the digest, or knows it only from the
// webhook's own (unsigned) deployment records. Without the second half, a
// model admitted as unknown would turn "known but unsigned" once recorded.
func isUnknown(d admission.Decision) bool {
	for _, c := range d.Checks {
		if c.Rule == "known" && !c.Passed {
			return true
		}
	}
	if d.Identity.Verified || len(d.Identity.DescribedBy) == 0 {
		return false
	}
	for _, e := range d.Identity.DescribedBy {
		if !strings.HasPrefix(e.Source, RecordSource) {
			return false
		}
	}
	return true
}

// digests resolves a reference to the digests the admission policy
// judges: a digest is itself; a hub id, name or URI is every model it
// names, by each model's digest. named lists the documents behind models
// the reference names that have no digest at all.
func (w *Webhook) digests(ctx context.Context, ref Reference) (digests, named []string, err error) {
	if strings.HasPrefix(ref.Value, "oci://") {
		return nil, nil, nil // unpinned artifact
	}
	r, err := graphref.Parse(ref.Value)
	if err != nil {
		if errors.Is(err, graphref.ErrInvalid) {
			return nil, nil, nil // not a reference the graph can hold: unknown
		}
		return nil, nil, err
	}
	if len(r.Keys) == 1 && graph.IsDigestKey(r.Keys[0]) {
		return []string{r.Keys[0]}, nil, nil
	}
	if r.ID != "" {
		return nil, nil, nil // a bare node id is no workload reference
	}
	nodes, err := w.q.Resolve(ctx, ref.Value, graph.KindModel)
	if errors.Is(err, graph.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	for _, n := range nodes {
		i := slices.IndexFunc(n.Keys, graph.IsDigestKey)
		if i >= 0 {
			digests = append(digests, n.Keys[i]) // one digest per model: they name the same node
			continue
		}
		for _, d := range n.Documents {
			if !slices.Contains(named, d) {
				named = append(named, d)
			}
		}
	}
	return digests, named, nil
}

// documents names the documents behind a failed check.
func documents(c admission.Check, d admission.Decision) string {
	var docs []string
	add := func(e query.Evidence) {
		s := e.Type + " " + e.Document
		if e.Status != "" {
			s += " (" + string(e.Status) + ")"
		}
		if !slices.Contains(docs, s) {
			docs = append(docs, s)
		}
	}
	switch c.Rule {
	case "signature", "signer":
		for _, e := range d.Identity.DescribedBy {
			add(e)
		}
	default:
		// In path order: for an advisory the first hop is its AFFECTS
		// edge, so the advisory's own document comes first.
		for _, h := range c.Hops {
			for _, e := range h.Evidence {
				add(e)
			}
		}
	}
	const maxDocs = 3
	if len(docs) == 0 {
		return " [no document names it]"
	}
	more := ""
	if len(docs) > maxDocs {
		more = fmt.Sprintf(", +%d more", len(docs)-maxDocs)
		docs = docs[:maxDocs]
	}
	return " [document " + strings.Join(docs, "; ") + more + "]"
}

func passReason(d admission.Decision) string {
	var parts []string
	if d.Identity.Verified {
		parts = append(parts, "vouched by "+strings.Join(d.Identity.VouchedBy, ", "))
	}
	for _, c := range d.Checks {
		parts = append(parts, c.Rule+": "+c.Message)
	}
	return strings.Join(parts, "; ")
}

// respond fills the AdmissionResponse by mode.
func (w *Webhook) respond(resp *admissionv1.AdmissionResponse, res Result) {
	var failed []string
	for _, v := range res.Verdicts {
		if v.Pass {
			continue
		}
		failed = append(failed, failure(v))
	}
	if res.Err != nil {
		failed = append(failed, "modelgraph could not decide: "+res.Err.Error())
	}
	decision := "allow"
	if len(failed) > 0 {
		decision = "deny"
	}
	resp.AuditAnnotations = map[string]string{
		"decision": decision,
		"mode":     string(res.Mode),
	}
	if len(failed) > 0 {
		resp.AuditAnnotations["reasons"] = clipString(strings.Join(failed, " | "), 8<<10)
	}
	var models []string
	for _, v := range res.Verdicts {
		models = append(models, v.Ref.Value)
	}
	if len(models) > 0 {
		resp.AuditAnnotations["models"] = clipString(strings.Join(models, ","), 4<<10)
	}
	for _, v := range res.Verdicts {
		if v.Pass && v.Unknown {
			resp.Warnings = append(resp.Warnings, clipString("modelgraph: "+v.Ref.Value+" ("+v.Ref.From+"): "+strings.Join(v.Reasons, "; "), 512))
		}
	}
	if len(failed) == 0 {
		return
	}
	switch res.Mode {
	case ModeEnforce:
		resp.Allowed = false
		resp.Result = &metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    http.StatusForbidden,
			Reason:  metav1.StatusReasonForbidden,
			Message: clipString(fmt.Sprintf("modelgraph denied %s %s: %s", res.Workload.Kind, res.Workload.Name, strings.Join(failed, " | ")), 16<<10),
		}
	case ModeWarn:
		for _, f := range failed {
			resp.Warnings = append(resp.Warnings, clipString("modelgraph would deny: "+f, 1024))
		}
	case ModeAudit:
		// audit annotations only
	}
}

func failure(v Verdict) string {
	var rs []string
	for _, r := range v.Reasons {
		if strings.HasPrefix(r, "rule ") {
			rs = append(rs, r)
		}
	}
	return fmt.Sprintf("model %s (%s): %s", v.Ref.Value, v.Ref.From, strings.Join(rs, "; "))
}

func clipString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
