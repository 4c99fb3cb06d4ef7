package watch_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/internal/testserve"
	"github.com/modelgraph/modelgraph/internal/watch"
)

// The end-to-end test of issue 25: `modelgraph serve` as a process, a
// loopback receiver, a signed supply chain then advisories pushed over
// HTTP; exactly the expected notifications with valid HMACs; a receiver
// failing twice gets the event on the third try after serve restarts.

// served is a running `modelgraph serve --config config`.
type served struct{ *testserve.Server }

func serve(t testing.TB, config string, env ...string) *served {
	t.Helper()
	return &served{testserve.Start(t, testserve.Options{Env: append(os.Environ(), env...), Stderr: os.Stderr}, "--config", config)}
}

// stop interrupts serve and expects a clean exit.
func (s *served) stop(t testing.TB) {
	t.Helper()
	if err := s.Stop(t); err != nil {
		t.Errorf("serve exited with %v", err)
	}
}

const (
	writeToken = "writer-token-0123456789abcdef"
	readToken  = "reader-token-0123456789abcdef"
)

func (s *served) push(t testing.TB, d doc) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.Base+"/v1/ingest?source="+d.name, bytes.NewReader(d.data))
	req.Header.Set("Authorization", "Bearer "+writeToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("push %s: %d %s", d.name, resp.StatusCode, body)
	}
}

func (s *served) gql(t testing.TB, token, q string, vars map[string]any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.Base+"/graphql", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("graphql answer: %v", err)
	}
	return out
}

type deliveryRow struct {
	Subscription string `json:"subscription"`
	Status       string `json:"status"`
	Attempts     int    `json:"attempts"`
	LastError    string `json:"lastError"`
	EventID      string `json:"eventId"`
}

func (s *served) deliveries(t testing.TB) []deliveryRow {
	t.Helper()
	out := s.gql(t, readToken, `{ watchDeliveries(first: 100) { subscription status attempts lastError eventId } }`, nil)
	if out["errors"] != nil {
		t.Fatalf("watchDeliveries: %v", out["errors"])
	}
	b, _ := json.Marshal(out["data"].(map[string]any)["watchDeliveries"])
	var rows []deliveryRow
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestServeNotifiesEndToEnd(t *testing.T) {
	k, _ := newKeys(t)
	rcv := newReceiver(t)
	rcv.fails["/flaky"] = 2
	dir := t.TempDir()
	pem := func(b []byte) string { return strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", "\n          ") }
	policy := fmt.Sprintf(`version: 1
rules:
  - name: model-signers
    roles: [model-signature, provenance]
    keys:
      - pem: |
          %s
  - name: deployers
    roles: [deployment]
    keys:
      - pem: |
          %s
  - name: advisories
    roles: [advisory]
    keys:
      - pem: |
          %s
`, pem(k.model.PublicPEM(t)), pem(k.deploy.PublicPEM(t)), pem(k.advisory.PublicPEM(t)))
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`listen: 127.0.0.1:0
data-dir: %s
trust-policy: %s
log-level: error
shutdown-timeout: 20s
watch:
  retry: {initial: 3s, max: 10s, attempts: 5, timeout: 5s}
  subscriptions:
    - {name: prod, events: [advisory-reaches-environment], environment: production, min-severity: high, url: "%[3]s/prod", secret-env: HOOK_SECRET}
    - {name: everything, format: cloudevents, url: "%[3]s/ce", secret: %[4]s}
    - {name: slack, format: slack, events: [unverified-deployment], url: "%[3]s/slack"}
    - {name: drop, events: [posture-drop], posture-below: 50, url: "%[3]s/drop"}
    - {name: flaky, events: [advisory-reaches-environment], min-severity: critical, url: "%[3]s/flaky", secret: %[4]s}
`, filepath.Join(dir, "data"), policyFile, rcv.srv.URL, secret)
	configFile := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOOK_SECRET=" + secret, "MODELGRAPH_TOKENS=writer:read+write:" + writeToken + ",reader:read:" + readToken}
	s := serve(t, configFile, env...)

	// Subscriptions over GraphQL need the write scope.
	create := `mutation($u: String!) { createWatchSubscription(input: {name: "api", url: $u, events: ["verification-failed"], secret: "k"}) { id name signed source } }`
	if out := s.gql(t, readToken, create, map[string]any{"u": rcv.srv.URL + "/api"}); !strings.Contains(fmt.Sprint(out["errors"]), "FORBIDDEN") {
		t.Errorf("createWatchSubscription with a read token: %v", out)
	}
	out := s.gql(t, writeToken, create, map[string]any{"u": rcv.srv.URL + "/api"})
	if out["errors"] != nil {
		t.Fatalf("createWatchSubscription: %v", out["errors"])
	}
	if c := out["data"].(map[string]any)["createWatchSubscription"].(map[string]any); c["signed"] != true || c["source"] != "api (writer)" {
		t.Errorf("created %v", c)
	}

	for _, d := range supplyChain(t, k) {
		s.push(t, d)
	}
	for _, d := range advisories(t, k) {
		s.push(t, d)
	}
	prod := rcv.waitFor(t, "/prod", 1)
	ce := rcv.waitFor(t, "/ce", 6)
	slack := rcv.waitFor(t, "/slack", 1)
	api := rcv.waitFor(t, "/api", 2)
	rcv.waitFor(t, "/drop", 1)
	rcv.waitFor(t, "/flaky", 2)
	// The flaky receiver failed twice; its next try is 6s away. Stop serve
	// now: the delivery must survive in the queue.
	// (The receiver answers before serve records the attempt: poll.)
	var rows []deliveryRow
	flaky := -1
	for range 100 {
		rows = s.deliveries(t)
		flaky = slices.IndexFunc(rows, func(r deliveryRow) bool { return r.Subscription == "flaky" })
		if flaky >= 0 && rows[flaky].Attempts == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if flaky < 0 || rows[flaky].Status != watch.StatusPending || rows[flaky].Attempts != 2 || !strings.Contains(rows[flaky].LastError, "500") {
		t.Errorf("flaky delivery before the restart: %+v", rows)
	}
	s.stop(t)
	if n := len(rcv.requests("/flaky")); n != 2 {
		t.Fatalf("flaky receiver got %d requests before the restart, want 2", n)
	}

	s = serve(t, configFile, env...)
	got := rcv.waitFor(t, "/flaky", 3)
	third := got[2]
	if third.attempt != "3" || third.header.Get(watch.HeaderIdempotency) != got[0].header.Get(watch.HeaderIdempotency) ||
		!watch.VerifySignature(secret, third.body, third.header.Get(watch.HeaderSignature)) {
		t.Errorf("third try: attempt %s, key %s vs %s, signature ok %v", third.attempt, third.header.Get(watch.HeaderIdempotency),
			got[0].header.Get(watch.HeaderIdempotency), watch.VerifySignature(secret, third.body, third.header.Get(watch.HeaderSignature)))
	}
	var e watch.Event
	if err := json.Unmarshal(third.body, &e); err != nil || line(e) != wantAdvisories[0] {
		t.Errorf("flaky got %s, want %s", third.body, wantAdvisories[0])
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows = s.deliveries(t)
		i := slices.IndexFunc(rows, func(r deliveryRow) bool { return r.Subscription == "flaky" })
		if i >= 0 && rows[i].Status == watch.StatusDelivered {
			if rows[i].Attempts != 3 {
				t.Errorf("flaky delivery after the restart: %+v", rows[i])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("flaky not delivered in the log: %+v", rows)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Exactly the expected notifications, each signed where a secret is
	// set, none repeated across the restart.
	time.Sleep(300 * time.Millisecond)
	want := map[string][]string{
		"/prod":  {wantAdvisories[0]},
		"/ce":    append(slices.Clone(wantChain), wantAdvisories...),
		"/slack": {wantChain[0]},
		"/api":   {wantChain[1], wantChain[2]},
		"/drop":  {wantChain[3]},
	}
	for path, w := range want {
		rs := rcv.requests(path)
		var ls []string
		for _, r := range rs {
			var ev watch.Event
			body := r.body
			if path == "/ce" {
				var ce struct {
					Data json.RawMessage `json:"data"`
				}
				if err := json.Unmarshal(body, &ce); err != nil {
					t.Fatal(err)
				}
				body = ce.Data
			}
			if path == "/slack" {
				var sl struct {
					Text string `json:"text"`
				}
				_ = json.Unmarshal(r.body, &sl)
				if strings.Contains(sl.Text, "unverified-deployment") && strings.Contains(sl.Text, "acme/b") {
					ls = append(ls, wantChain[0])
				} else {
					ls = append(ls, sl.Text)
				}
				continue
			}
			if err := json.Unmarshal(body, &ev); err != nil {
				t.Fatal(err)
			}
			ls = append(ls, line(ev))
			key := secret
			if path == "/api" {
				key = "k"
			}
			if path == "/drop" {
				continue // no secret
			}
			if !watch.VerifySignature(key, r.body, r.header.Get(watch.HeaderSignature)) {
				t.Errorf("%s: HMAC does not verify: %s", path, r.header.Get(watch.HeaderSignature))
			}
		}
		sort.Strings(ls)
		sort.Strings(w)
		if !slices.Equal(ls, w) {
			t.Errorf("%s received\n%s\nwant\n%s", path, strings.Join(ls, "\n"), strings.Join(w, "\n"))
		}
	}
	_ = prod
	_ = ce
	_ = slack
	_ = api

	// The same events stream as server-sent events.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Base+"/v1/watch/events?after=0", nil)
	req.Header.Set("Authorization", "Bearer "+readToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("SSE: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var sse []string
	for sc.Scan() && len(sse) < 6 {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var ev watch.Event
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Fatal(err)
			}
			sse = append(sse, line(ev))
		}
	}
	sort.Strings(sse)
	all := append(slices.Clone(wantChain), wantAdvisories...)
	sort.Strings(all)
	if !slices.Equal(sse, all) {
		t.Errorf("SSE events\n%s\nwant\n%s", strings.Join(sse, "\n"), strings.Join(all, "\n"))
	}
	cancel()

	// The GraphQL reads: events with posture fields, subscriptions shown
	// without secrets or full URLs, deleting one (write scope).
	out = s.gql(t, readToken, `{ watchEvents(after: 0, first: 10) { seq kind posture previousPosture detectedAt document }
	  watchSubscriptions { id name url signed postureBelow source }
	  watchDeliveries(status: "delivered", subscription: "flaky") { attempts deliveredAt nextAttemptAt lastStatusCode event { kind advisoryId } } }`, nil)
	if out["errors"] != nil {
		t.Fatalf("watch queries: %v", out["errors"])
	}
	data := out["data"].(map[string]any)
	drops := 0
	for _, x := range data["watchEvents"].([]any) {
		m := x.(map[string]any)
		if m["kind"] == watch.KindPostureDrop {
			drops++
			if m["posture"] != float64(0) || m["previousPosture"] != float64(100) {
				t.Errorf("posture event %v", m)
			}
		} else if m["posture"] != nil {
			t.Errorf("posture on a %v event", m["kind"])
		}
	}
	if drops != 1 || len(data["watchEvents"].([]any)) != 6 {
		t.Errorf("watchEvents %v", data["watchEvents"])
	}
	var apiID string
	for _, x := range data["watchSubscriptions"].([]any) {
		m := x.(map[string]any)
		if u := m["url"].(string); u != rcv.srv.URL+"/…" {
			t.Errorf("subscription %v shows url %q", m["name"], u)
		}
		if m["name"] == "api" {
			apiID = m["id"].(string)
		}
		if m["name"] == "drop" && m["postureBelow"] != float64(50) {
			t.Errorf("drop subscription %v", m)
		}
	}
	fl := data["watchDeliveries"].([]any)
	if len(fl) != 1 || fl[0].(map[string]any)["attempts"] != float64(3) || fl[0].(map[string]any)["deliveredAt"] == nil ||
		fl[0].(map[string]any)["nextAttemptAt"] != nil || fl[0].(map[string]any)["lastStatusCode"] != float64(204) {
		t.Errorf("flaky delivery %v", fl)
	}
	del := `mutation($id: ID!) { deleteWatchSubscription(id: $id) }`
	if out := s.gql(t, readToken, del, map[string]any{"id": apiID}); !strings.Contains(fmt.Sprint(out["errors"]), "FORBIDDEN") {
		t.Errorf("delete with a read token: %v", out)
	}
	if out := s.gql(t, writeToken, del, map[string]any{"id": apiID}); out["errors"] != nil || out["data"].(map[string]any)["deleteWatchSubscription"] != true {
		t.Errorf("delete: %v", out)
	}
	if out := s.gql(t, writeToken, del, map[string]any{"id": apiID}); !strings.Contains(fmt.Sprint(out["errors"]), "NOT_FOUND") {
		t.Errorf("delete again: %v", out)
	}
	if out := s.gql(t, writeToken, `mutation { createWatchSubscription(input: {name: "x", url: "ftp://x"}) { id } }`, nil); !strings.Contains(fmt.Sprint(out["errors"]), "BAD_USER_INPUT") {
		t.Errorf("bad url: %v", out)
	}
	s.stop(t)
}
