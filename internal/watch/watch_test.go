package watch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/trust"
	"github.com/modelgraph/modelgraph/internal/watch"
)

// received is one request a test receiver got.
type received struct {
	path    string
	header  http.Header
	body    []byte
	attempt string
}

// receiver is a loopback HTTP server recording what it gets; fail(path)
// says how many more requests to that path it answers 500.
type receiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	got   []received
	fails map[string]int
	hit   chan string
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{fails: map[string]int{}, hit: make(chan string, 1000)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		r.mu.Lock()
		failing := r.fails[req.URL.Path] > 0
		if failing {
			r.fails[req.URL.Path]--
		}
		r.got = append(r.got, received{path: req.URL.Path, header: req.Header.Clone(), body: body, attempt: req.Header.Get(watch.HeaderAttempt)})
		r.mu.Unlock()
		r.hit <- req.URL.Path
		if failing {
			http.Error(w, "receiver down", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests(path string) []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []received
	for _, g := range r.got {
		if g.path == path {
			out = append(out, g)
		}
	}
	return out
}

// waitFor waits until path got n requests (or fails the test after 30s).
func (r *receiver) waitFor(t testing.TB, path string, n int) []received {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if got := r.requests(path); len(got) >= n {
			return got
		}
		select {
		case <-r.hit:
		case <-deadline:
			t.Fatalf("%s: %d requests after 30s, want %d", path, len(r.requests(path)), n)
		}
	}
}

type world struct {
	store *embedded.Store
	w     *watch.Watcher
	pipe  *ingest.Pipeline
}

func newWorld(t testing.TB, pol *trust.Policy, subs []watch.Subscription, retry watch.Retry) *world {
	t.Helper()
	dir := t.TempDir()
	s, err := embedded.Open(filepath.Join(dir, "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	q, err := watch.OpenQueue(filepath.Join(dir, "watch.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.SyncConfig(subs); err != nil {
		t.Fatal(err)
	}
	w := watch.New(watch.Options{Queue: q, Reader: s, Retry: retry})
	w.Start(context.Background())
	t.Cleanup(func() { w.Close() })
	return &world{store: s, w: w, pipe: &ingest.Pipeline{Store: w.Writer(s), Parser: ingest.NewParser(pol)}}
}

func (w *world) push(t testing.TB, docs ...doc) {
	t.Helper()
	for _, d := range docs {
		if _, err := w.pipe.Ingest(context.Background(), ingest.Input{Data: d.data, Source: d.name}); err != nil {
			t.Fatalf("ingest %s: %v", d.name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func (w *world) events(t testing.TB) []watch.Event {
	t.Helper()
	evs, err := w.w.Events(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// line is an event in a form tests compare.
func line(e watch.Event) string {
	s := e.Kind + " " + e.Severity + " " + e.Trust + " env=" + e.Environment
	if e.AdvisoryID != "" {
		s += " advisory=" + e.AdvisoryID
	}
	if e.Model != "" {
		s += " model=" + e.Model
	}
	if e.Node != "" {
		s += " node=" + e.Node
	}
	if e.Posture != nil && e.PreviousPosture != nil {
		s += fmt.Sprintf(" posture=%d from=%d", *e.Posture, *e.PreviousPosture)
	}
	return s
}

func lines(evs []watch.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, line(e))
	}
	sort.Strings(out)
	return out
}

const secret = "s3cret-for-hmac"

func sorted(ss []string) []string {
	out := slices.Clone(ss)
	sort.Strings(out)
	return out
}

func testSubs(base string) []watch.Subscription {
	return []watch.Subscription{
		{ID: "prod", Name: "prod advisories", Events: []string{watch.KindAdvisoryReachesEnvironment}, Environment: "production",
			MinSeverity: "high", URL: base + "/prod", Secret: secret},
		{ID: "all", Name: "everything", Format: watch.FormatCloudEvents, URL: base + "/ce", Secret: secret},
		{ID: "slack", Name: "slack", Format: watch.FormatSlack, Events: []string{watch.KindUnverifiedDeployment}, URL: base + "/slack"},
	}
}

var (
	wantChain = []string{
		"unverified-deployment high failed env=staging model=acme/b",
		"verification-failed high failed env=staging model=acme/b node=acme/b",
		"verification-failed high verified env=production model=acme/c node=acme/c",
		"posture-drop high  env=staging posture=0 from=100",
	}
	wantAdvisories = []string{
		"advisory-reaches-environment critical verified env=production advisory=AIXV-2026-1 model=acme/a",
		"advisory-reaches-environment low unsigned env=production advisory=AIXV-2026-2 model=acme/c",
	}
)

// TestEventsAndDeliveries pushes the supply chain, then the advisories,
// and checks the events (with the trust of what they are about), what each
// subscription received, and that every signed body's HMAC verifies.
func TestEventsAndDeliveries(t *testing.T) {
	k, pol := newKeys(t)
	rcv := newReceiver(t)
	w := newWorld(t, pol, testSubs(rcv.srv.URL), watch.Retry{Initial: 10 * time.Millisecond})
	w.push(t, supplyChain(t, k)...)
	if got := lines(w.events(t)); !slices.Equal(got, sorted(wantChain)) {
		t.Fatalf("events after the supply chain:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantChain, "\n"))
	}
	w.push(t, advisories(t, k)...)
	want := append(slices.Clone(wantChain), wantAdvisories...)
	sort.Strings(want)
	evs := w.events(t)
	if got := lines(evs); !slices.Equal(got, want) {
		t.Fatalf("events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Pushing everything again changes nothing: no new event.
	w.push(t, append(supplyChain(t, k), advisories(t, k)...)...)
	if n := len(w.events(t)); n != len(want) {
		t.Errorf("%d events after re-pushing the same documents, want %d", n, len(want))
	}

	prod := rcv.waitFor(t, "/prod", 1)
	ce := rcv.waitFor(t, "/ce", 6)
	slack := rcv.waitFor(t, "/slack", 1)
	time.Sleep(100 * time.Millisecond) // nothing more may arrive
	if n := len(rcv.requests("/prod")) + len(rcv.requests("/ce")) + len(rcv.requests("/slack")); n != 8 {
		t.Errorf("%d deliveries, want 8", n)
	}
	var e watch.Event
	if err := json.Unmarshal(prod[0].body, &e); err != nil || line(e) != wantAdvisories[0] {
		t.Errorf("prod subscription got %s (%v), want %s", prod[0].body, err, wantAdvisories[0])
	}
	for _, r := range append(prod, ce...) {
		if !watch.VerifySignature(secret, r.body, r.header.Get(watch.HeaderSignature)) {
			t.Errorf("%s: signature %q does not verify", r.path, r.header.Get(watch.HeaderSignature))
		}
		if r.header.Get(watch.HeaderIdempotency) == "" {
			t.Errorf("%s: no idempotency key", r.path)
		}
	}
	if slack[0].header.Get(watch.HeaderSignature) != "" {
		t.Errorf("unsigned subscription sent a signature")
	}
	var ceBody struct {
		SpecVersion string      `json:"specversion"`
		Type        string      `json:"type"`
		ID          string      `json:"id"`
		Data        watch.Event `json:"data"`
	}
	kinds := map[string]bool{}
	for _, r := range ce {
		if err := json.Unmarshal(r.body, &ceBody); err != nil || ceBody.SpecVersion != "1.0" || ceBody.ID != ceBody.Data.ID ||
			ceBody.Type != "dev.modelgraph.watch."+ceBody.Data.Kind || r.header.Get("Content-Type") != "application/cloudevents+json" {
			t.Errorf("cloudevent: %s (%v)", r.body, err)
		}
		kinds[ceBody.Data.Kind] = true
	}
	if len(kinds) != 4 {
		t.Errorf("cloudevents kinds %v, want all four", kinds)
	}
	var sl struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(slack[0].body, &sl); err != nil || !strings.Contains(sl.Text, "unverified-deployment") || !strings.Contains(sl.Text, "acme/b") {
		t.Errorf("slack body %s (%v)", slack[0].body, err)
	}
	// The delivery log says delivered, one attempt each.
	ds, err := w.w.Deliveries(watch.DeliveryFilter{})
	if err != nil || len(ds) != 8 {
		t.Fatalf("delivery log: %d rows (%v), want 8", len(ds), err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, d := range ds {
		for d.Status != watch.StatusDelivered && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			all, _ := w.w.Deliveries(watch.DeliveryFilter{})
			for _, x := range all {
				if x.ID == d.ID {
					d = x
				}
			}
		}
		if d.Status != watch.StatusDelivered || d.Attempts != 1 {
			t.Errorf("delivery %s to %s: %s after %d attempts (%s)", d.ID, d.Subscription, d.Status, d.Attempts, d.LastError)
		}
	}
}

// TestSameFindingSameKey: the advisory reaching A in production is one
// finding whether the advisory or the deployment record arrives last; its
// idempotency key is the same either way.
func TestSameFindingSameKey(t *testing.T) {
	k, pol := newKeys(t)
	chain := supplyChain(t, k)
	adv := advisories(t, k)[0]
	key := func(order []doc) string {
		w := newWorld(t, pol, nil, watch.Retry{})
		w.push(t, order...)
		var ids []string
		for _, e := range w.events(t) {
			if e.Kind == watch.KindAdvisoryReachesEnvironment {
				ids = append(ids, e.ID+" "+line(e))
			}
		}
		if len(ids) != 1 {
			t.Fatalf("advisory events %v, want one", ids)
		}
		return ids[0]
	}
	advisoryLast := key([]doc{chain[0], chain[1], adv})
	deploymentLast := key([]doc{chain[0], adv, chain[1]})
	if advisoryLast != deploymentLast {
		t.Errorf("advisory last: %s\ndeployment last: %s", advisoryLast, deploymentLast)
	}
}

// TestRetryBackoff: a receiver answering 500 twice gets the event on the
// third attempt; the log records attempts and the last error.
func TestRetryBackoff(t *testing.T) {
	k, pol := newKeys(t)
	rcv := newReceiver(t)
	rcv.fails["/flaky"] = 2
	w := newWorld(t, pol, []watch.Subscription{{ID: "flaky", Name: "flaky", Events: []string{watch.KindUnverifiedDeployment}, URL: rcv.srv.URL + "/flaky", Secret: secret}},
		watch.Retry{Initial: 20 * time.Millisecond, Attempts: 5})
	w.push(t, supplyChain(t, k)[2:4]...) // B: an unverified-deployment event (and a verification-failed one)
	got := rcv.waitFor(t, "/flaky", 3)
	if got[0].attempt != "1" || got[2].attempt != "3" || got[0].header.Get(watch.HeaderIdempotency) != got[2].header.Get(watch.HeaderIdempotency) {
		t.Errorf("attempt headers %s %s, idempotency %s vs %s", got[0].attempt, got[2].attempt,
			got[0].header.Get(watch.HeaderIdempotency), got[2].header.Get(watch.HeaderIdempotency))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds, _ := w.w.Deliveries(watch.DeliveryFilter{})
		if len(ds) == 1 && ds[0].Status == watch.StatusDelivered {
			if ds[0].Attempts != 3 || ds[0].DeliveredAt == nil {
				t.Errorf("delivery %+v", ds[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery log %+v", ds)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(rcv.requests("/flaky")); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// TestGivesUp: after the last attempt a delivery is failed with its error.
func TestGivesUp(t *testing.T) {
	k, pol := newKeys(t)
	rcv := newReceiver(t)
	rcv.fails["/down"] = 100
	w := newWorld(t, pol, []watch.Subscription{{ID: "down", Name: "down", Events: []string{watch.KindUnverifiedDeployment}, URL: rcv.srv.URL + "/down"}},
		watch.Retry{Initial: 5 * time.Millisecond, Attempts: 3})
	w.push(t, supplyChain(t, k)[2:4]...)
	rcv.waitFor(t, "/down", 3)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds, _ := w.w.Deliveries(watch.DeliveryFilter{Status: watch.StatusFailed})
		if len(ds) == 1 {
			if ds[0].Attempts != 3 || ds[0].LastStatusCode != 500 || !strings.Contains(ds[0].LastError, "receiver down") {
				t.Errorf("failed delivery %+v", ds[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("delivery not failed after 3 attempts")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSubscriptionValidation(t *testing.T) {
	for _, s := range []watch.Subscription{
		{Name: "", URL: "http://127.0.0.1/x"},
		{Name: "x", URL: "ftp://127.0.0.1/x"},
		{Name: "x", URL: "http://127.0.0.1/x", Format: "xml"},
		{Name: "x", URL: "http://127.0.0.1/x", MinSeverity: "urgent"},
		{Name: "x", URL: "http://127.0.0.1/x", Events: []string{"saved-question"}},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v: valid, want an error", s)
		}
	}
	s := watch.Subscription{Name: "x", URL: "http://127.0.0.1/x", MinSeverity: "HIGH"}
	if err := s.Validate(); err != nil || s.MinSeverity != "high" || s.Format != watch.FormatWebhook {
		t.Errorf("%+v %v", s, err)
	}
	pb := watch.Subscription{Name: "p", URL: "http://127.0.0.1/x", PostureBelow: 90}
	drop := func(from, to int) watch.Event {
		return watch.Event{Kind: watch.KindPostureDrop, Severity: "high", Posture: &to, PreviousPosture: &from}
	}
	if !pb.Matches(drop(100, 80)) || pb.Matches(drop(85, 70)) || pb.Matches(drop(100, 95)) {
		t.Errorf("posture-below 90: 100->80 %v, 85->70 %v, 100->95 %v", pb.Matches(drop(100, 80)), pb.Matches(drop(85, 70)), pb.Matches(drop(100, 95)))
	}
	if bad := (watch.Subscription{Name: "p", URL: "http://127.0.0.1/x", PostureBelow: 101}); bad.Validate() == nil {
		t.Error("posture-below 101 accepted")
	}
	low := watch.Event{Kind: watch.KindAdvisoryReachesEnvironment, Severity: "low", Environment: "production"}
	unknown := low
	unknown.Severity = "unknown"
	if s.Matches(low) || !s.Matches(unknown) {
		t.Errorf("min severity high: low matches %v, unknown matches %v", s.Matches(low), s.Matches(unknown))
	}
}

// TestSubscriptionsRedacted: the API never shows a secret or a full URL
// (a Slack webhook URL is a credential).
func TestSubscriptionsRedacted(t *testing.T) {
	_, pol := newKeys(t)
	w := newWorld(t, pol, []watch.Subscription{{ID: "s", Name: "slack", Format: watch.FormatSlack,
		URL: "https://hooks.slack.example/services/T0/B0/XXXX", Secret: "k"}}, watch.Retry{})
	created, err := w.w.CreateSubscription(watch.SubscriptionInput{Name: "api", URL: "http://127.0.0.1:9/hook?token=abc"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if created.URL != "http://127.0.0.1:9/…" || created.Source != "api (alice)" || created.Signed() {
		t.Errorf("created %+v", created)
	}
	ss, err := w.w.Subscriptions()
	if err != nil || len(ss) != 2 {
		t.Fatalf("%v %v", ss, err)
	}
	for _, s := range ss {
		if strings.Contains(s.URL, "XXXX") || strings.Contains(s.URL, "token") || (s.Secret != "" && s.Secret != "(set)") {
			t.Errorf("subscription shown as %+v", s)
		}
	}
	if _, err := w.w.CreateSubscription(watch.SubscriptionInput{Name: "bad", URL: "file:///etc/passwd"}, ""); err == nil {
		t.Error("a file: URL was accepted")
	}
	// Deliveries still go to the full URL: the stored subscription keeps it.
	stored, _ := w.w.Queue().Subscriptions()
	if !slices.ContainsFunc(stored, func(s watch.Subscription) bool { return strings.HasSuffix(s.URL, "/XXXX") && s.Secret == "k" }) {
		t.Errorf("stored %+v", stored)
	}
}

// TestPostureDrop: the posture of an environment (share of its active
// deployments running a verified model) is recomputed for the
// environments a document touches; falls are events, rises are recorded
// silently so the next fall is measured from them.
func TestPostureDrop(t *testing.T) {
	k, pol := newKeys(t)
	w := newWorld(t, pol, nil, watch.Retry{})
	drops := func() []string {
		var out []string
		for _, e := range w.events(t) {
			if e.Kind == watch.KindPostureDrop {
				out = append(out, line(e))
			}
		}
		return out
	}
	modelD := dg("d4")
	w.push(t,
		doc{"prov-a", k.model.DSSE(t, pt, provenance(t, "acme/a", modelA))},
		doc{"deploy-a", k.deploy.DSSE(t, pt, deployment(t, "acme/a", modelA, "production", "chat"))},
		doc{"prov-b", k.stranger.DSSE(t, pt, provenance(t, "acme/b", modelB))},
		doc{"deploy-b", k.deploy.DSSE(t, pt, deployment(t, "acme/b", modelB, "production", "search"))})
	want := []string{"posture-drop high  env=production posture=50 from=100"}
	if got := drops(); !slices.Equal(got, want) {
		t.Fatalf("drops %v, want %v", got, want)
	}
	// B gets a valid provenance: production back to 100, no event.
	w.push(t, doc{"prov-b-good", k.model.DSSE(t, pt, provenance(t, "acme/b", modelB))})
	if got := drops(); !slices.Equal(got, want) {
		t.Fatalf("drops after a rise %v, want %v", got, want)
	}
	// An unverified model D deployed: 2 of 3, a drop from 100 (the rise was
	// recorded), not from 50.
	w.push(t, doc{"deploy-d", k.deploy.DSSE(t, pt, deployment(t, "acme/d", modelD, "production", "rank"))})
	want = append(want, "posture-drop high  env=production posture=66 from=100")
	if got := drops(); !slices.Equal(got, sorted(want)) {
		t.Fatalf("drops %v, want %v", got, want)
	}
}

// TestPostureSeeded: a watcher started over a store that already holds
// deployments reads them once, so the first drop is measured from the
// real posture (here 50%: one verified, one failed), not from 100.
func TestPostureSeeded(t *testing.T) {
	k, pol := newKeys(t)
	dir := t.TempDir()
	s, err := embedded.Open(filepath.Join(dir, "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	plain := &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)}
	for _, d := range supplyChain(t, k)[:4] { // A verified, B failed
		if _, err := plain.Ingest(context.Background(), ingest.Input{Data: d.data, Source: d.name}); err != nil {
			t.Fatal(err)
		}
	}
	// Both in one environment: B's record again, for production.
	if _, err := plain.Ingest(context.Background(), ingest.Input{Data: k.deploy.DSSE(t, pt, deployment(t, "acme/b", modelB, "production", "search")), Source: "deploy-b-prod"}); err != nil {
		t.Fatal(err)
	}
	q, err := watch.OpenQueue(filepath.Join(dir, "watch.db"))
	if err != nil {
		t.Fatal(err)
	}
	w := watch.New(watch.Options{Queue: q, Reader: s})
	w.Start(context.Background())
	defer w.Close()
	pipe := &ingest.Pipeline{Store: w.Writer(s), Parser: ingest.NewParser(pol)}
	if _, err := pipe.Ingest(context.Background(), ingest.Input{Data: k.deploy.DSSE(t, pt, deployment(t, "acme/d", dg("d4"), "production", "rank")), Source: "deploy-d"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	evs, _ := w.Events(0, 100)
	var drops []string
	for _, e := range evs {
		if e.Kind == watch.KindPostureDrop {
			drops = append(drops, line(e))
		}
	}
	want := []string{"posture-drop high  env=production posture=33 from=50"}
	if !slices.Equal(drops, want) {
		t.Errorf("drops %v, want %v", drops, want)
	}
}

// TestSavedQuestion: a subscription's saved question is asked again after
// committed documents; a change of its answer is an answer-changed event
// for that subscription only.
func TestSavedQuestion(t *testing.T) {
	k, pol := newKeys(t)
	rcv := newReceiver(t)
	w := newWorld(t, pol, []watch.Subscription{
		{ID: "q", Name: "who runs what AIXV-2026-1 hits", Question: "affected-by-advisory:AIXV-2026-1", URL: rcv.srv.URL + "/q"},
		{ID: "all", Name: "everything else", URL: rcv.srv.URL + "/all"},
	}, watch.Retry{Initial: 10 * time.Millisecond})
	w.push(t, supplyChain(t, k)...)
	changed := func() []watch.Event {
		var out []watch.Event
		for _, e := range w.events(t) {
			if e.Kind == watch.KindAnswerChanged {
				out = append(out, e)
			}
		}
		return out
	}
	if got := changed(); len(got) != 0 {
		t.Fatalf("answer-changed before the advisory: %+v", got)
	}
	w.push(t, advisories(t, k)...)
	got := changed()
	if len(got) != 1 || got[0].Question != "affected-by-advisory:AIXV-2026-1" ||
		!slices.Equal(got[0].Added, []string{"production/eu-west-1/ml/chat (active)"}) || len(got[0].Removed) != 0 {
		t.Fatalf("answer-changed %+v", got)
	}
	reqs := rcv.waitFor(t, "/q", 1)
	var e watch.Event
	if err := json.Unmarshal(reqs[0].body, &e); err != nil || e.Kind != watch.KindAnswerChanged {
		t.Errorf("/q got %s", reqs[0].body)
	}
	time.Sleep(100 * time.Millisecond)
	for _, r := range rcv.requests("/all") {
		if strings.Contains(string(r.body), watch.KindAnswerChanged) {
			t.Errorf("a subscription without the question got %s", r.body)
		}
	}
	if n := len(rcv.requests("/q")); n != 1 {
		t.Errorf("/q got %d requests, want 1", n)
	}
	if err := (&watch.Subscription{Name: "x", URL: "http://127.0.0.1/x", Question: "who-knows:x"}).Validate(); err == nil {
		t.Error("an unknown question kind was accepted")
	}
}
