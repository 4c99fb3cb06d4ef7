package watch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/query"
)

// Options configure a Watcher.
type Options struct {
	Queue  *Queue
	Reader graph.Reader
	Log    *slog.Logger
	Retry  Retry
	// Source is the CloudEvents source attribute ("modelgraph" when "").
	Source string
	// Client sends deliveries (one with Retry.Timeout when nil).
	Client *http.Client
	// Buffer is how many committed documents may wait for evaluation
	// (DefaultBuffer when 0). When it is full, ingest does not wait: the
	// document is not evaluated, counted in Dropped and logged.
	Buffer int
}

// DefaultBuffer of committed documents waiting for evaluation.
const DefaultBuffer = 4096

// Parallel bounds the deliveries attempted at once.
const Parallel = 8

// Watcher evaluates committed documents, queues and sends deliveries,
// and streams events to live listeners (SSE).
type Watcher struct {
	o     Options
	q     *Queue
	eval  *Evaluator
	log   *slog.Logger
	in    chan Commit
	wake  chan struct{}
	inbox atomic.Int64 // commits handed over and not yet evaluated
	drop  atomic.Int64

	mu        sync.Mutex
	listeners map[chan Event]struct{}

	stop    context.CancelFunc
	done    sync.WaitGroup
	started bool
}

// New returns a Watcher; Start runs it.
func New(o Options) *Watcher {
	o.Retry = o.Retry.withDefaults()
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	if o.Source == "" {
		o.Source = "modelgraph"
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Retry.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Watcher{o: o, q: o.Queue, eval: &Evaluator{Q: query.New(o.Reader), Previous: o.Queue.Posture, Deployments: o.Queue.EnvDeployments}, log: log,
		in: make(chan Commit, o.Buffer), wake: make(chan struct{}, 1), listeners: map[chan Event]struct{}{}}
}

// Queue is the watcher's durable queue.
func (w *Watcher) Queue() *Queue { return w.q }

// Start runs the evaluator and the deliverer until Close. At the first
// start over a queue it first reads every deployment once (Seed), before
// any commit is handed over, so postures count the deployments stored
// before the watcher existed and no commit falls between the read and the
// evaluations.
func (w *Watcher) Start(ctx context.Context) {
	if !w.q.Seeded() {
		res, err := w.eval.Seed(ctx)
		if err == nil {
			_, _, err = w.q.Record(res, time.Now().UTC())
		}
		if err != nil && ctx.Err() == nil {
			w.log.Error("watch: reading the deployments for postures", "err", err)
		}
	}
	ctx, w.stop = context.WithCancel(ctx)
	w.started = true
	w.done.Add(2)
	go func() { defer w.done.Done(); w.evaluate(ctx) }()
	go func() { defer w.done.Done(); w.deliver(ctx) }()
}

// Close stops the goroutines (a delivery in flight is abandoned and
// attempted again at the next start), waits for them and closes the
// queue.
func (w *Watcher) Close() error {
	if w.started {
		w.stop()
		w.done.Wait()
	}
	return w.q.Close()
}

// Dropped counts committed documents not evaluated because the buffer
// was full.
func (w *Watcher) Dropped() int64 { return w.drop.Load() }

// Writer wraps inner so every committed document is handed to the
// watcher after its write returns. The hand-over never blocks.
func (w *Watcher) Writer(inner graph.Writer) graph.Writer { return &writer{inner: inner, w: w} }

type writer struct {
	inner graph.Writer
	w     *Watcher
}

func (x *writer) Apply(ctx context.Context, b *graph.Batch) (graph.Receipt, error) {
	r, err := x.inner.Apply(ctx, b)
	if err == nil {
		x.w.Notify(CommitOf(b, r))
	}
	return r, err
}

func (x *writer) ApplyAll(ctx context.Context, bs []*graph.Batch) ([]graph.Receipt, error) {
	rs, err := x.inner.ApplyAll(ctx, bs)
	if err == nil {
		for i, r := range rs {
			if i < len(bs) {
				x.w.Notify(CommitOf(bs[i], r))
			}
		}
	}
	return rs, err
}

// Notify hands over one committed document; it never blocks. Documents
// that can change no finding (no advisory, deployment, model they may
// vouch for or failed signature) are not queued at all, unless a
// subscription has a saved question (any document may change its answer).
func (w *Watcher) Notify(c Commit) {
	if c.Receipt.Duplicate || (len(c.Advisories)+len(c.Deployments)+len(c.Described) == 0 && !w.hasQuestions()) {
		return
	}
	w.inbox.Add(1)
	select {
	case w.in <- c:
	default:
		w.inbox.Add(-1)
		if n := w.drop.Add(1); n == 1 || n%1000 == 0 {
			w.log.Warn("watch: evaluation buffer full; committed documents were not evaluated", "document", c.Receipt.Document, "dropped", n)
		}
	}
}

// Flush waits until every document handed over so far is evaluated and
// its deliveries queued (tests, benchmarks).
func (w *Watcher) Flush(ctx context.Context) error {
	for w.inbox.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}

func (w *Watcher) evaluate(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-w.in:
			// Whatever else is already waiting is evaluated with it and
			// recorded in one transaction (one fsync), so a burst of
			// ingest costs the queue few writes.
			batch := []Commit{c}
		drain:
			for len(batch) < MaxBatch {
				select {
				case c := <-w.in:
					batch = append(batch, c)
				default:
					break drain
				}
			}
			w.evaluateBatch(ctx, batch)
			w.inbox.Add(-int64(len(batch)))
		}
	}
}

// MaxBatch bounds the committed documents evaluated and recorded together.
const MaxBatch = 64

func (w *Watcher) evaluateBatch(ctx context.Context, batch []Commit) {
	pending := Result{Postures: map[string]int{}, Deployments: map[string]DeploymentState{}}
	// Later documents of the batch see the postures and deployment states
	// the earlier ones computed, as if each had been recorded.
	ev := *w.eval
	ev.Previous = func(env string) (int, bool) {
		if p, ok := pending.Postures[env]; ok {
			return p, true
		}
		return w.q.Posture(env)
	}
	ev.Deployments = func(env string) map[string]string {
		m := w.q.EnvDeployments(env)
		for id, st := range pending.Deployments {
			if st.Environment != env {
				continue
			}
			if st.State == "" {
				delete(m, id)
			} else {
				m[id] = st.State
			}
		}
		return m
	}
	for _, c := range batch {
		res, err := ev.Evaluate(ctx, c)
		if err != nil && ctx.Err() == nil {
			w.log.Error("watch: evaluating a committed document", "document", c.Receipt.Document, "err", err)
		}
		pending.Events = append(pending.Events, res.Events...)
		for env, p := range res.Postures {
			pending.Postures[env] = p
		}
		for id, st := range res.Deployments {
			pending.Deployments[id] = st
		}
	}
	// Saved questions are asked again once per batch (they are not
	// incremental: any document may change their answer).
	if subs, err := w.q.cachedSubscriptions(); err == nil && slices.ContainsFunc(subs, func(s Subscription) bool { return s.Question != "" }) {
		evs, answers, err := w.eval.questions(ctx, subs, w.q.Answer)
		if err != nil && ctx.Err() == nil {
			w.log.Error("watch: saved questions", "err", err)
		}
		now := time.Now().UTC()
		for i := range evs {
			evs[i].Document = batch[len(batch)-1].Receipt.Document
			if evs[i].DetectedAt.IsZero() {
				evs[i].DetectedAt = now
			}
		}
		pending.Events = append(pending.Events, evs...)
		pending.Answers = answers
	}
	if len(pending.Events) == 0 && len(pending.Postures) == 0 && len(pending.Deployments) == 0 && len(pending.Answers) == 0 {
		return
	}
	added, queued, err := w.q.Record(pending, time.Now().UTC())
	if err != nil {
		w.log.Error("watch: recording events", "documents", len(batch), "err", err)
		return
	}
	for _, e := range added {
		w.log.Info("watch event", "kind", e.Kind, "severity", e.Severity, "id", e.ID, "summary", e.Summary)
		w.broadcast(e)
	}
	if queued > 0 {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// deliver sends due deliveries (Parallel at once), then sleeps until the
// next is due (at most a second) or new ones are queued.
func (w *Watcher) deliver(ctx context.Context) {
	for ctx.Err() == nil {
		due, err := w.q.Due(time.Now(), 64)
		if err != nil {
			w.log.Error("watch: reading the delivery queue", "err", err)
		}
		subs := map[string]Subscription{}
		if len(due) > 0 {
			ss, err := w.q.Subscriptions()
			if err != nil {
				w.log.Error("watch: reading subscriptions", "err", err)
			}
			for _, s := range ss {
				subs[s.ID] = s
			}
		}
		// Up to Parallel attempts at once, so one slow receiver (up to
		// Retry.Timeout per request) does not hold up the others.
		// The outcomes are recorded together, in one transaction (one
		// fsync) per round; a crash before it only means those attempts
		// are made again (at least once).
		sem := make(chan struct{}, Parallel)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			done []Attempted
		)
		for _, d := range due {
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				if a, ok := w.attempt(ctx, d, subs); ok {
					mu.Lock()
					done = append(done, a)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(done) > 0 {
			if err := w.q.UpdateAll(done); err != nil {
				w.log.Error("watch: recording delivery attempts", "err", err)
			}
		}
		if ctx.Err() != nil {
			return
		}
		if len(due) == 64 {
			continue
		}
		wait := time.Second
		if next := w.q.NextDue(); !next.IsZero() {
			wait = min(wait, max(time.Until(next), time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// attempt sends d once and returns its new state (false: not an attempt,
// the server is shutting down).
func (w *Watcher) attempt(ctx context.Context, d Delivery, subs map[string]Subscription) (Attempted, bool) {
	old := d.NextAttemptAt
	s, ok := subs[d.SubscriptionID]
	var code int
	var err error
	if !ok {
		err = errors.New("subscription deleted")
		d.Attempts = w.o.Retry.Attempts - 1 // give up now
	} else {
		code, err = send(ctx, w.o.Client, s, d, w.o.Source)
		if err != nil && ctx.Err() != nil {
			return Attempted{}, false // shutting down: not an attempt; sent again after restart
		}
	}
	now := time.Now().UTC()
	d.Attempts++
	d.LastStatusCode = code
	if err == nil {
		d.Status, d.LastError, d.DeliveredAt, d.NextAttemptAt = StatusDelivered, "", &now, nil
	} else {
		d.LastError = truncate(err.Error(), 500)
		if d.Attempts >= w.o.Retry.Attempts {
			d.Status, d.NextAttemptAt = StatusFailed, nil
		} else {
			next := now.Add(w.o.Retry.backoff(d.Attempts))
			d.NextAttemptAt = &next
		}
		w.log.Warn("watch: delivery failed", "delivery", d.ID, "subscription", d.Subscription, "attempts", d.Attempts, "status", d.Status, "err", d.LastError)
	}
	return Attempted{Delivery: d, PrevNext: old}, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Listen returns a channel of events recorded from now on, and a function
// to stop listening. A listener that falls behind loses events (it can
// read them back with Queue.Events from the last Seq it saw).
func (w *Watcher) Listen() (<-chan Event, func()) {
	ch := make(chan Event, 256)
	w.mu.Lock()
	w.listeners[ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		delete(w.listeners, ch)
		w.mu.Unlock()
	}
}

func (w *Watcher) broadcast(e Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.listeners {
		select {
		case ch <- e:
		default:
		}
	}
}

// SubscriptionInput is what createWatchSubscription takes.
type SubscriptionInput struct {
	Name         string   `json:"name"`
	Events       []string `json:"events,omitempty"`
	Environment  *string  `json:"environment,omitempty"`
	MinSeverity  *string  `json:"minSeverity,omitempty"`
	VerifiedOnly *bool    `json:"verifiedOnly,omitempty"`
	PostureBelow *int     `json:"postureBelow,omitempty"`
	Question     *string  `json:"question,omitempty"`
	URL          string   `json:"url"`
	Format       *string  `json:"format,omitempty"`
	Secret       *string  `json:"secret,omitempty"`
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

// ErrInvalid wraps every error caused by the caller's input.
var ErrInvalid = fmt.Errorf("%w: subscription", query.ErrInvalidArgument)

// CreateSubscription stores a new subscription made over the API by
// caller.
func (w *Watcher) CreateSubscription(in SubscriptionInput, caller string) (*Subscription, error) {
	if w == nil {
		return nil, ErrOff
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	s := Subscription{ID: "sub_" + hex.EncodeToString(b[:]), Name: in.Name, Events: in.Events, Environment: deref(in.Environment),
		MinSeverity: deref(in.MinSeverity), VerifiedOnly: deref(in.VerifiedOnly), PostureBelow: deref(in.PostureBelow), Question: deref(in.Question), URL: in.URL, Format: deref(in.Format),
		Secret: deref(in.Secret), Source: "api", CreatedAt: time.Now().UTC()}
	if caller != "" {
		s.Source = "api (" + caller + ")"
	}
	if err := s.Validate(); err != nil {
		return nil, errors.Join(ErrInvalid, err)
	}
	if err := w.q.PutSubscription(s); err != nil {
		return nil, err
	}
	r := s.Redacted()
	return &r, nil
}

// Signed reports whether deliveries carry an HMAC signature.
func (s Subscription) Signed() bool { return s.Secret != "" }

// ErrOff: this server runs no watcher.
var ErrOff = errors.New("watch: this server does not watch (no queue)")

// Subscriptions lists the subscriptions as the API shows them: without
// secrets, and with URLs cut to scheme and host (a Slack webhook URL is
// itself a credential).
func (w *Watcher) Subscriptions() ([]Subscription, error) {
	if w == nil {
		return nil, ErrOff
	}
	ss, err := w.q.Subscriptions()
	for i := range ss {
		ss[i] = ss[i].Redacted()
	}
	return ss, err
}

// DeleteSubscription removes one.
func (w *Watcher) DeleteSubscription(id string) (bool, error) {
	if w == nil {
		return false, ErrOff
	}
	if err := w.q.DeleteSubscription(id); err != nil {
		return false, err
	}
	return true, nil
}

// Deliveries lists the delivery log (see Queue.Deliveries).
func (w *Watcher) Deliveries(f DeliveryFilter) ([]Delivery, error) {
	if w == nil {
		return nil, ErrOff
	}
	return w.q.Deliveries(f)
}

// Events lists recorded events after seq (see Queue.Events).
func (w *Watcher) Events(after int64, limit int) ([]Event, error) {
	if w == nil {
		return nil, ErrOff
	}
	return w.q.Events(after, limit)
}

// Redacted is s without its secret (Signed still tells) and with its URL
// cut to scheme://host/….
func (s Subscription) Redacted() Subscription {
	if s.Secret != "" {
		s.Secret = "(set)"
	}
	if u, err := url.Parse(s.URL); err == nil && u.Host != "" {
		r := u.Scheme + "://" + u.Host
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
			r += "/…"
		}
		s.URL = r
	}
	return s
}

// hasQuestions reports whether a subscription has a saved question.
func (w *Watcher) hasQuestions() bool {
	subs, err := w.q.cachedSubscriptions()
	return err == nil && slices.ContainsFunc(subs, func(s Subscription) bool { return s.Question != "" })
}
