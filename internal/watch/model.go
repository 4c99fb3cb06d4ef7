// Package watch tells people when an incident reaches production. It is
// told about every committed document (Watcher.Writer wraps the store's
// Writer and hands each receipt to a background evaluator, never blocking
// the write), asks internal/query only what that document can change, and
// turns what it finds into events: an advisory reaching a deployment's
// environment, a failed signature on a node with an active deployment, a
// deployment starting to run a model that is not verified, an
// environment's posture (share of deployments running verified models)
// falling. Events are matched against subscriptions (YAML config and
// GraphQL mutations),
// queued durably in a bbolt file next to the store (one delivery per
// subscription and event), POSTed with retries and backoff, signed with
// HMAC-SHA256, and kept in a delivery log. Delivery is at least once: every
// request carries the event's idempotency key so receivers drop repeats.
// See docs/watch.md.
package watch

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Event kinds.
const (
	// KindAdvisoryReachesEnvironment: an active advisory reaches a
	// deployment that runs (now) in an environment.
	KindAdvisoryReachesEnvironment = "advisory-reaches-environment"
	// KindVerificationFailed: a document whose signature failed names a
	// node with an active deployment (the deployed model or the deployment).
	KindVerificationFailed = "verification-failed"
	// KindUnverifiedDeployment: a deployment (now active) runs a model that
	// is not verified under trust by role.
	KindUnverifiedDeployment = "unverified-deployment"
	// KindPostureDrop: the posture of an environment (the share of its
	// active deployments running a verified model, query.VerifiedCoverage) fell.
	KindPostureDrop = "posture-drop"
)

// Kinds lists the event kinds in a fixed order.
var Kinds = []string{KindAdvisoryReachesEnvironment, KindVerificationFailed, KindUnverifiedDeployment, KindPostureDrop, KindAnswerChanged}

// Sink formats.
const (
	FormatWebhook     = "webhook"     // the Event as JSON
	FormatSlack       = "slack"       // Slack incoming-webhook message
	FormatCloudEvents = "cloudevents" // CloudEvents 1.0, structured JSON mode
)

// Severities in increasing order. An event whose source states none has
// severity "unknown", which passes every minimum (an unrated advisory is
// not a reason to stay silent).
var severities = []string{"low", "medium", "high", "critical"}

// SeverityRank orders severities: low 1 .. critical 4; 0 for "" and
// anything unknown.
func SeverityRank(s string) int {
	return slices.Index(severities, strings.ToLower(strings.TrimSpace(s))) + 1
}

// NormalizeSeverity is the lower-case severity, or "unknown".
func NormalizeSeverity(s string) string {
	if r := SeverityRank(s); r > 0 {
		return severities[r-1]
	}
	return "unknown"
}

// Subscription is what to watch and where to send it.
type Subscription struct {
	ID   string `json:"id" yaml:"id"`
	Name string `json:"name" yaml:"name"`
	// Events are the kinds to send (every kind when empty).
	Events []string `json:"events,omitempty" yaml:"events"`
	// Environment restricts events to deployments in this environment
	// ("" for every environment).
	Environment string `json:"environment,omitempty" yaml:"environment"`
	// MinSeverity drops events below it (low | medium | high | critical;
	// "" sends all). Events of unknown severity always pass.
	MinSeverity string `json:"minSeverity,omitempty" yaml:"min-severity"`
	// VerifiedOnly drops advisory events whose advisory is not verified
	// (signed by a signer trusted for advisories).
	VerifiedOnly bool `json:"verifiedOnly,omitempty" yaml:"verified-only"`
	// PostureBelow (1..100) sends posture-drop events only when the
	// posture crosses below it (from at or above to below); 0 sends every
	// drop.
	PostureBelow int `json:"postureBelow,omitempty" yaml:"posture-below"`
	// Question is a saved question ("affected-by-advisory:AIXV-1",
	// "deployed-trained-on:DATASET", "impact:REF"); answer-changed events
	// of that question go only to the subscriptions asking it.
	Question string `json:"question,omitempty" yaml:"question"`
	// URL receives POSTs; Format shapes the body.
	URL    string `json:"url" yaml:"url"`
	Format string `json:"format" yaml:"format"`
	// Secret keys the X-Modelgraph-Signature HMAC ("" sends unsigned).
	// Never shown by the API.
	Secret string `json:"secret,omitempty" yaml:"secret"`
	// Source says where the subscription came from: "config" or the
	// caller that created it over the API.
	Source    string    `json:"source,omitempty" yaml:"-"`
	CreatedAt time.Time `json:"createdAt" yaml:"-"`
}

// Limits.
const (
	MaxSubscriptions = 1000
	MaxURLLen        = 2048
	MaxSecretLen     = 1024
	MaxNameLen       = 200
)

// Validate checks s, normalising its format and severity.
func (s *Subscription) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("subscription %q: %s: %s", s.Name, field, fmt.Sprintf(format, args...))
	}
	if s.Name == "" || len(s.Name) > MaxNameLen {
		return bad("name", "want 1..%d characters", MaxNameLen)
	}
	for _, k := range s.Events {
		if !slices.Contains(Kinds, k) {
			return bad("events", "%q is not one of %s", k, strings.Join(Kinds, ", "))
		}
	}
	if s.MinSeverity != "" {
		if SeverityRank(s.MinSeverity) == 0 {
			return bad("min-severity", "%q: want low, medium, high or critical", s.MinSeverity)
		}
		s.MinSeverity = NormalizeSeverity(s.MinSeverity)
	}
	if s.PostureBelow < 0 || s.PostureBelow > 100 {
		return bad("posture-below", "%d: want 0..100 (percent)", s.PostureBelow)
	}
	if s.Question != "" {
		if err := ValidateQuestion(s.Question); err != nil {
			return bad("question", "%s", err)
		}
	}
	if s.Format == "" {
		s.Format = FormatWebhook
	}
	switch s.Format {
	case FormatWebhook, FormatSlack, FormatCloudEvents:
	default:
		return bad("format", "%q: want webhook, slack or cloudevents", s.Format)
	}
	if len(s.URL) > MaxURLLen {
		return bad("url", "%d bytes, limit %d", len(s.URL), MaxURLLen)
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad("url", "%q: want an http or https URL", s.URL)
	}
	if len(s.Secret) > MaxSecretLen {
		return bad("secret", "%d bytes, limit %d", len(s.Secret), MaxSecretLen)
	}
	return nil
}

// Matches reports whether e should be sent to s.
func (s *Subscription) Matches(e Event) bool {
	if len(s.Events) > 0 && !slices.Contains(s.Events, e.Kind) {
		return false
	}
	// A subscription with a saved question and no events list watches
	// only its question.
	if s.Question != "" && len(s.Events) == 0 && e.Kind != KindAnswerChanged {
		return false
	}
	if e.Kind == KindAnswerChanged {
		return s.Question != "" && s.Question == e.Question
	}
	if s.Environment != "" && s.Environment != e.Environment {
		return false
	}
	if s.MinSeverity != "" {
		if r := SeverityRank(e.Severity); r > 0 && r < SeverityRank(s.MinSeverity) {
			return false
		}
	}
	if s.VerifiedOnly && e.Kind == KindAdvisoryReachesEnvironment && e.Trust != "verified" {
		return false
	}
	if s.PostureBelow > 0 && e.Kind == KindPostureDrop && e.Posture != nil && e.PreviousPosture != nil &&
		!(*e.Posture < s.PostureBelow && *e.PreviousPosture >= s.PostureBelow) {
		return false
	}
	return true
}

// Event is one thing that happened, as sent (format webhook) and logged.
type Event struct {
	// ID is the idempotency key: the same finding (kind, nodes, trust)
	// always has the same id, whichever document revealed it, so a
	// receiver can drop repeats.
	ID       string `json:"id"`
	Seq      int64  `json:"seq"`
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	// Summary is one line for humans.
	Summary     string `json:"summary"`
	Environment string `json:"environment,omitempty"`
	// Trust is the status, under trust by role, of what the event is
	// about: the advisory (advisory events), the node whose signature
	// failed, the model an unverified deployment runs.
	Trust  string `json:"trust"`
	Reason string `json:"reason,omitempty"`
	// The nodes involved (ids as of detection; names for humans).
	AdvisoryID     string `json:"advisoryId,omitempty"`
	AdvisoryStatus string `json:"advisoryStatus,omitempty"`
	DeploymentID   string `json:"deploymentId,omitempty"`
	Deployment     string `json:"deployment,omitempty"`
	ModelID        string `json:"modelId,omitempty"`
	Model          string `json:"model,omitempty"`
	NodeID         string `json:"nodeId,omitempty"`
	Node           string `json:"node,omitempty"`
	// Posture and PreviousPosture (percent) for posture-drop events.
	Posture         *int `json:"posture,omitempty"`
	PreviousPosture *int `json:"previousPosture,omitempty"`
	// Question, Added and Removed for answer-changed events: the saved
	// question and the deployment lines its answer gained and lost.
	Question string   `json:"question,omitempty"`
	Added    []string `json:"added,omitempty"`
	Removed  []string `json:"removed,omitempty"`
	// Document is the committed document whose write revealed the event.
	Document   string    `json:"document"`
	DetectedAt time.Time `json:"detectedAt"`
}

// Delivery statuses.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed" // gave up after the last attempt
)

// Delivery is one event for one subscription: the delivery log's row.
type Delivery struct {
	ID             string    `json:"id"`
	SubscriptionID string    `json:"subscriptionId"`
	Subscription   string    `json:"subscription"`
	EventID        string    `json:"eventId"`
	EventKind      string    `json:"eventKind"`
	Status         string    `json:"status"`
	Attempts       int       `json:"attempts"`
	LastError      string    `json:"lastError,omitempty"`
	LastStatusCode int       `json:"lastStatusCode,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	// NextAttemptAt is when a pending delivery is tried next.
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`
	DeliveredAt   *time.Time `json:"deliveredAt,omitempty"`
	Event         Event      `json:"event"`
}
