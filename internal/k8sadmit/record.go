package k8sadmit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/modelgraph/modelgraph/ingest"
)

// DeploymentPredicate is the predicate type of the records the webhook
// writes (docs/predicates.md).
const DeploymentPredicate = "https://modelgraph.dev/attestation/deployment/v1"

// RecordQueue bounds the records waiting to be written.
const RecordQueue = 4096

// deploymentRecord builds the unsigned in-toto statement that records one
// decision: the models (by digest) deployed at
// environment/cluster/namespace/service, and under extensions.admission
// who asked, what, the decision and its reasons. A denied workload does
// not run: its record goes to the environment "<env>-denied" with a window
// that closes when it opens, so it never ends a real deployment's window.
// The record's Source (stored with the document, shown as its evidence)
// says who asked for what and how it went, after RecordSource:
// "k8s-admission-webhook: deny Deployment ml/chat for alice (rules
// advisory; uid …)". nil when no model has a digest to name.
func (w *Webhook) deploymentRecord(req *admissionv1.AdmissionRequest, res Result) *record {
	type subject struct {
		Name   string            `json:"name,omitempty"`
		URI    string            `json:"uri,omitempty"`
		Digest map[string]string `json:"digest"`
	}
	var subjects []subject
	seen := map[string]bool{}
	type model struct {
		Ref     string   `json:"ref"`
		From    string   `json:"from"`
		Kind    RefKind  `json:"kind"`
		Digests []string `json:"digests,omitempty"`
		Pass    bool     `json:"pass"`
		Unknown bool     `json:"unknown,omitempty"`
		Reasons []string `json:"reasons,omitempty"`
	}
	var models []model
	var servingImage map[string]any
	for _, v := range res.Verdicts {
		models = append(models, model{Ref: v.Ref.Value, From: v.Ref.From, Kind: v.Ref.Kind, Digests: v.Digests, Pass: v.Pass, Unknown: v.Unknown, Reasons: v.Reasons})
		if v.Ref.Kind == RefImage {
			continue
		}
		for _, d := range v.Digests {
			alg, hex, _ := strings.Cut(d, ":")
			if seen[d] || alg != "sha256" {
				continue
			}
			seen[d] = true
			s := subject{Digest: map[string]string{"sha256": hex}}
			if !strings.HasPrefix(v.Ref.Value, "sha256:") {
				if strings.Contains(v.Ref.Value, "://") {
					s.URI = v.Ref.Value
				} else {
					s.Name = v.Ref.Value
				}
			}
			subjects = append(subjects, s)
		}
		if servingImage == nil && v.Ref.Container != "" {
			for _, ci := range res.Workload.Images {
				if ci.Container == v.Ref.Container && ci.Image != "" && !strings.ContainsAny(ci.Image, " \t") {
					servingImage = map[string]any{"name": ci.Image}
				}
			}
		}
	}
	if len(subjects) == 0 {
		return nil
	}
	var rules []string
	for _, v := range res.Verdicts {
		for _, r := range v.Reasons {
			if rule, ok := strings.CutPrefix(r, "rule "); ok && strings.Contains(r, " failed") {
				rule, _, _ = strings.Cut(rule, " ")
				if !slices.Contains(rules, rule) {
					rules = append(rules, rule)
				}
			}
		}
	}
	decision := "allow"
	if !res.Allowed {
		decision = "deny"
	}
	admitted := res.Allowed || res.Mode != ModeEnforce
	now := w.now().UTC().Format(time.RFC3339Nano)
	env := w.cfg.Environment
	pred := map[string]any{
		"environment": env,
		"cluster":     w.cfg.Cluster,
		"namespace":   component(res.Workload.Namespace),
		"service":     service(res.Workload),
		"deployedAt":  now,
	}
	if !admitted {
		pred["environment"] = env + "-denied"
		pred["undeployedAt"] = now
	}
	if servingImage != nil {
		pred["servingImage"] = servingImage
	}
	var dry bool
	if req.DryRun != nil {
		dry = *req.DryRun
	}
	pred["extensions"] = map[string]any{
		"admission": map[string]any{
			"webhook":   RecordSource,
			"uid":       string(req.UID),
			"operation": string(req.Operation),
			"requester": map[string]any{"username": req.UserInfo.Username, "uid": req.UserInfo.UID, "groups": req.UserInfo.Groups},
			"object":    map[string]any{"group": req.Kind.Group, "version": req.Kind.Version, "kind": req.Kind.Kind, "namespace": res.Workload.Namespace, "name": res.Workload.Name, "owner": res.Workload.Owner},
			"mode":      string(res.Mode),
			"decision":  decision,
			"admitted":  admitted,
			"dryRun":    dry,
			"models":    models,
		},
	}
	b, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       subjects,
		"predicateType": DeploymentPredicate,
		"predicate":     pred,
	})
	if err != nil {
		return nil
	}
	src := fmt.Sprintf("%s: %s %s %s/%s for %s", RecordSource, decision, res.Workload.Kind, res.Workload.Namespace, res.Workload.Name, req.UserInfo.Username)
	if !admitted {
		src += " (denied)"
	} else if !res.Allowed {
		src += " (admitted in " + string(res.Mode) + " mode)"
	}
	if len(rules) > 0 {
		src += " rules " + strings.Join(rules, ",")
	}
	src += " uid " + string(req.UID)
	return &record{doc: b, source: clipString(src, 512)}
}

// record is one queued deployment record.
type record struct {
	doc    []byte
	source string
}

// service names the workload in a deployment key: kind.name, a Pod by
// its controller when it has one.
func service(wl Workload) string {
	kind, name := wl.Kind, wl.Name
	if wl.Kind == "Pod" && wl.Owner != "" {
		kind, name, _ = strings.Cut(wl.Owner, "/")
	}
	if name == "" {
		name = "unnamed"
	}
	return component(strings.ToLower(kind) + "." + name)
}

func component(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == '\t' || r == '\n' {
			return '-'
		}
		return r
	}, s)
	if s == "" {
		return "-"
	}
	if len(s) > 253 {
		s = s[:253]
	}
	return s
}

// recorder writes records in the background so a decision never waits for
// an fsync; flush and close wait for what was queued.
type recorder struct {
	pipe *ingest.Pipeline
	log  *slog.Logger
	ch   chan *record
	done chan struct{}

	mu      sync.Mutex
	idle    *sync.Cond
	pending int // queued, not yet written
	closed  bool
}

func newRecorder(pipe *ingest.Pipeline, log *slog.Logger) *recorder {
	r := &recorder{pipe: pipe, log: log, ch: make(chan *record, RecordQueue), done: make(chan struct{})}
	r.idle = sync.NewCond(&r.mu)
	go r.run()
	return r
}

func (r *recorder) run() {
	defer close(r.done)
	for rec := range r.ch {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if _, err := r.pipe.Ingest(ctx, ingest.Input{Data: rec.doc, Source: rec.source}); err != nil {
			r.log.Error("admission: deployment record not written", "err", err)
		}
		cancel()
		r.mu.Lock()
		r.pending--
		r.idle.Broadcast()
		r.mu.Unlock()
	}
}

func (r *recorder) enqueue(doc *record) {
	if doc == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		r.log.Error("admission: webhook closed, deployment record dropped")
		return
	}
	select {
	case r.ch <- doc:
		r.pending++
	default:
		r.log.Error("admission: record queue full, deployment record dropped", "queue", RecordQueue)
	}
}

// flush waits until every record queued so far is written.
func (r *recorder) flush() {
	r.mu.Lock()
	for r.pending > 0 {
		r.idle.Wait()
	}
	r.mu.Unlock()
}

func (r *recorder) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		<-r.done
		return
	}
	r.closed = true
	close(r.ch) // enqueue never sends after closed is set
	r.mu.Unlock()
	<-r.done
}
