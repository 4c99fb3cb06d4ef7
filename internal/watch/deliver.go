package watch

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Headers of every delivery.
const (
	HeaderSignature   = "X-Modelgraph-Signature"   // sha256=<hex HMAC-SHA256 of the body under the secret>
	HeaderEvent       = "X-Modelgraph-Event"       // the event kind
	HeaderDelivery    = "X-Modelgraph-Delivery"    // the delivery id (one per subscription and event)
	HeaderIdempotency = "X-Modelgraph-Idempotency" // the event id: the same finding always has the same key
	HeaderAttempt     = "X-Modelgraph-Attempt"     // 1, 2, ...
)

// Sign is the X-Modelgraph-Signature value for body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature reports whether header is body's signature under secret
// (constant time): what a receiver does.
func VerifySignature(secret string, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// Payload is the body sent for e in format, and its Content-Type.
func Payload(format string, e Event, source string) ([]byte, string, error) {
	switch format {
	case FormatSlack:
		icon := map[string]string{"critical": ":rotating_light:", "high": ":warning:", "medium": ":large_orange_diamond:", "low": ":information_source:"}[e.Severity]
		if icon == "" {
			icon = ":grey_question:"
		}
		text := fmt.Sprintf("%s *%s* [%s] %s", icon, e.Kind, e.Severity, e.Summary)
		fields := []map[string]string{{"type": "mrkdwn", "text": "*Trust*\n" + e.Trust}}
		if e.Environment != "" {
			fields = append(fields, map[string]string{"type": "mrkdwn", "text": "*Environment*\n" + e.Environment})
		}
		if e.AdvisoryID != "" {
			fields = append(fields, map[string]string{"type": "mrkdwn", "text": "*Advisory*\n" + e.AdvisoryID})
		}
		if e.Model != "" {
			fields = append(fields, map[string]string{"type": "mrkdwn", "text": "*Model*\n" + e.Model})
		}
		b, err := json.Marshal(map[string]any{
			"text": text,
			"blocks": []any{
				map[string]any{"type": "section", "text": map[string]string{"type": "mrkdwn", "text": text}},
				map[string]any{"type": "section", "fields": fields},
				map[string]any{"type": "context", "elements": []map[string]string{{"type": "mrkdwn", "text": "event " + e.ID + " · document " + e.Document}}},
			},
		})
		return b, "application/json", err
	case FormatCloudEvents:
		b, err := json.Marshal(map[string]any{
			"specversion":     "1.0",
			"type":            "dev.modelgraph.watch." + e.Kind,
			"source":          source,
			"id":              e.ID,
			"time":            e.DetectedAt.UTC().Format(time.RFC3339Nano),
			"subject":         e.DeploymentID,
			"datacontenttype": "application/json",
			"data":            e,
		})
		return b, "application/cloudevents+json", err
	default:
		b, err := json.Marshal(e)
		return b, "application/json", err
	}
}

// Retry shapes redelivery: attempt n+1 waits Initial x 2^(n-1), at most
// Max; after Attempts tries the delivery is failed.
type Retry struct {
	Initial  time.Duration
	Max      time.Duration
	Attempts int
	// Timeout bounds one request.
	Timeout time.Duration
}

// DefaultRetry: 5s, 10s, 20s ... capped at 10 minutes, 10 attempts (about
// 40 minutes in all), 10s per request.
var DefaultRetry = Retry{Initial: 5 * time.Second, Max: 10 * time.Minute, Attempts: 10, Timeout: 10 * time.Second}

func (r Retry) withDefaults() Retry {
	if r.Initial <= 0 {
		r.Initial = DefaultRetry.Initial
	}
	if r.Max <= 0 {
		r.Max = DefaultRetry.Max
	}
	if r.Attempts <= 0 {
		r.Attempts = DefaultRetry.Attempts
	}
	if r.Timeout <= 0 {
		r.Timeout = DefaultRetry.Timeout
	}
	return r
}

// backoff is the wait after the attempts-th failed attempt.
func (r Retry) backoff(attempts int) time.Duration {
	d := r.Initial
	for i := 1; i < attempts && d < r.Max; i++ {
		d *= 2
	}
	return min(d, r.Max)
}

// send makes one attempt of d to s and returns the HTTP status (0 when
// none) and the error.
func send(ctx context.Context, client *http.Client, s Subscription, d Delivery, source string) (int, error) {
	body, ct, err := Payload(s.Format, d.Event, source)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("User-Agent", "modelgraph-watch")
	req.Header.Set(HeaderEvent, d.EventKind)
	req.Header.Set(HeaderDelivery, d.ID)
	req.Header.Set(HeaderIdempotency, d.EventID)
	req.Header.Set(HeaderAttempt, fmt.Sprint(d.Attempts+1))
	if s.Secret != "" {
		req.Header.Set(HeaderSignature, Sign(s.Secret, body))
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("receiver answered %s: %s", resp.Status, strings.TrimSpace(string(snippet)))
	}
	return resp.StatusCode, nil
}
