// Package httpapi is modelgraph's HTTP surface: health, readiness, the CI
// push endpoint, GraphQL and metrics. Handlers stay thin and call into the
// packages that hold the logic (ingest, internal/query, internal/gql).
//
// Authentication: bearer tokens with read or write scope (see Tokens).
// With no token configured the API is open, for development: New logs a
// warning saying so.
package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/gql"
	"github.com/modelgraph/modelgraph/internal/posture"
	"github.com/modelgraph/modelgraph/internal/ui"
	"github.com/modelgraph/modelgraph/internal/watch"
)

// Options configure the handler.
type Options struct {
	Store    graph.Store
	Pipeline *ingest.Pipeline
	Log      *slog.Logger
	Version  string
	// MaxBody bounds request bodies (DefaultMaxBody when 0): a pushed
	// document, a GraphQL request.
	MaxBody int64
	// Timeout bounds each request's work (DefaultTimeout when 0).
	Timeout time.Duration
	// Tokens are the accepted bearer tokens; nil or empty leaves the API
	// open (development mode, logged as a warning).
	Tokens *Tokens
	// Registry receives the metrics served at /metrics (a new registry
	// with Go and process collectors when nil).
	Registry *prometheus.Registry
	// MaxDepth and MaxComplexity bound GraphQL operations (gql defaults
	// when 0).
	MaxDepth      int
	MaxComplexity int
	// MaxQueryBody bounds /graphql bodies from callers without the write
	// scope (DefaultMaxQueryBody when 0): a question needs little, and
	// only the ingest mutation carries documents (MaxBody).
	MaxQueryBody int64
	// QueryTimeout is each GraphQL operation's deadline (gql.DefaultTimeout
	// when 0, never above Timeout): a walk past it is stopped through its
	// context and answered TIMEOUT.
	QueryTimeout time.Duration
	// QueryBudget is the work units all running GraphQL operations may hold
	// together (gql default when 0); QueueWait how long one waits for its
	// share before a 503 with Retry-After (gql default when 0).
	QueryBudget int
	QueueWait   time.Duration
	// QueryRunning bounds the GraphQL operations running at once (gql
	// default when 0).
	QueryRunning int
	// PosturePolicy is the posture policy GraphQL posture answers use (the
	// zero value is posture.DefaultPolicy).
	PosturePolicy posture.Policy
	// Health, when set, is the store's Writer wrapped to watch writes:
	// /readyz fails while it says writes cannot succeed. The Pipeline's
	// Store should be it (or the watcher's writer over it): every write,
	// GraphQL mutations included, goes through the Pipeline.
	Health *WriteHealth
	// Watch serves the watch fields of GraphQL and the event stream (nil:
	// not watching).
	Watch *watch.Watcher
	// Stopping, when set, is closed as the server begins to shut down:
	// event streams end then (clients reconnect elsewhere or later), so an
	// open stream does not hold the shutdown until its request deadline.
	Stopping <-chan struct{}
	// Routes adds endpoints beside the built-in ones (the API, the AI-BOM
	// export, the event stream, the page); they get the same
	// authentication, limits, metrics and access log as the built-in ones.
	Routes []Route
}

// Route is an extra endpoint.
type Route struct {
	// Pattern is a net/http ServeMux pattern with a method:
	// "GET /v1/aibom/{ref}".
	Pattern string
	// Scope the caller needs (ScopeRead when empty).
	Scope Scope
	// Public routes need no token (static pages that hold no data: the
	// page itself asks GraphQL with the user's token).
	Public  bool
	Handler http.Handler
}

// Defaults for zero Options fields.
const (
	DefaultMaxBody = ingest.DefaultMaxBytes
	DefaultTimeout = 60 * time.Second
	// DefaultMaxQueryBody bounds read-only /graphql bodies (the web UI's
	// largest request is ~8 KB).
	DefaultMaxQueryBody = 1 << 20
)

type server struct {
	o       Options
	log     *slog.Logger
	metrics *metrics
	mux     *http.ServeMux
	// unmatched answers requests no route matches.
	unmatched http.Handler
}

// New returns the root handler.
func New(o Options) http.Handler {
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = gql.DefaultTimeout
	}
	if o.MaxQueryBody <= 0 {
		o.MaxQueryBody = DefaultMaxQueryBody
	}
	o.QueryTimeout = min(o.QueryTimeout, o.Timeout)
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &server{o: o, log: log, metrics: newMetrics(o.Registry), mux: http.NewServeMux()}
	if o.Tokens.Len() == 0 {
		log.Warn("no API tokens configured: the API is OPEN to anyone who can reach it, including pushes and mutations (development mode); set tokens-file or MODELGRAPH_TOKENS")
	} else {
		log.Info("API tokens loaded", "tokens", o.Tokens.Len())
	}
	for _, w := range o.Tokens.Warnings() {
		log.Warn(w)
	}
	s.handle("GET /healthz", "", s.healthz)
	s.handle("GET /readyz", "", s.readyz)
	s.handle("GET /metrics", "", s.metrics.handler().ServeHTTP)
	gq := gql.NewHandler(gql.Options{
		Reader: o.Store, Pipeline: o.Pipeline, Log: log,
		MaxDepth: o.MaxDepth, MaxComplexity: o.MaxComplexity,
		Timeout: o.QueryTimeout, Budget: o.QueryBudget, QueueWait: o.QueueWait, MaxRunning: o.QueryRunning,
		CanWrite:  func(ctx context.Context) bool { c, _ := CallerFrom(ctx); return c.Allows(ScopeWrite) },
		Caller:    func(ctx context.Context) string { c, _ := CallerFrom(ctx); return c.Name },
		RequestID: RequestID,
		Ingested:  s.metrics.countReceipt,
		Refused:   func(code string) { s.metrics.refused.WithLabelValues(code).Inc() },
		Posture:   o.PosturePolicy,
		Watch:     o.Watch,
	})
	graphqlHandler := func(w http.ResponseWriter, r *http.Request) {
		if c, _ := CallerFrom(r.Context()); !c.Allows(ScopeWrite) && r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.o.MaxQueryBody)
		}
		gq.ServeHTTP(w, r)
	}
	s.handle("GET /graphql", ScopeRead, graphqlHandler)
	s.handle("POST /graphql", ScopeRead, graphqlHandler)
	s.handle("POST /v1/ingest", ScopeWrite, s.ingest)
	s.handle("GET /v1/aibom/{ref...}", ScopeRead, s.aibomHandler())
	if o.Watch != nil {
		s.handle("GET /v1/watch/events", ScopeRead, s.untilStopping(o.Watch.Handler()))
	}
	// The page holds no data (it asks GraphQL with the user's token).
	s.handle("GET /ui", "", ui.Handler().ServeHTTP)
	s.handle("GET /ui/", "", ui.Handler().ServeHTTP)
	for _, r := range o.Routes {
		sc := r.Scope
		switch {
		case r.Public:
			sc = ""
		case sc == "":
			sc = ScopeRead
		}
		s.handle(r.Pattern, sc, r.Handler.ServeHTTP)
	}
	// What no route matches (the mux's 404 and 405) gets the middleware
	// too, hence the JSON error body.
	s.unmatched = s.wrap("unmatched", "", s.mux.ServeHTTP)
	return s
}

// ServeHTTP routes r; a request no pattern matches goes through the
// middleware as route "unmatched".
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.unmatched.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// untilStopping serves h with a context that also ends when the server
// begins to shut down (Options.Stopping).
func (s *server) untilStopping(h http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.o.Stopping != nil {
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			go func() {
				select {
				case <-s.o.Stopping:
					cancel()
				case <-ctx.Done():
				}
			}()
			r = r.WithContext(ctx)
		}
		h.ServeHTTP(w, r)
	}
}

// handle registers pattern with the common middleware; scope "" means no
// authentication (health, readiness, metrics).
func (s *server) handle(pattern string, scope Scope, h http.HandlerFunc) {
	_, route, ok := strings.Cut(pattern, " ")
	if !ok {
		route = pattern
	}
	s.mux.Handle(pattern, s.wrap(route, scope, h))
}

type requestIDKey struct{}

// RequestID returns the id of the request ctx belongs to ("" outside one).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

var goodRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// wrap adds, outermost first: request id, access log and metrics, panic
// recovery, timeout, authentication, body limit.
func (s *server) wrap(route string, scope Scope, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !goodRequestID.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		rec := &recorder{ResponseWriter: w, code: http.StatusOK}
		ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), requestIDKey{}, id), s.o.Timeout)
		defer cancel()
		r = r.WithContext(ctx)
		s.metrics.inFlight.Inc()
		defer func() {
			s.metrics.inFlight.Dec()
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panicked", "panic", v, "route", route, "requestId", id)
				if !rec.wrote || rec.plain {
					rec.plain = false
					writeError(rec, http.StatusInternalServerError, apiError{Code: "internal", Message: "internal error (request " + id + ")"})
				}
			}
			d := time.Since(start)
			s.metrics.observe(route, r.Method, rec.code, d)
			lvl := slog.LevelInfo
			if scope == "" && rec.code < 400 {
				lvl = slog.LevelDebug // health checks and scrapes
			}
			c, _ := CallerFrom(r.Context())
			s.log.Log(r.Context(), lvl, "http request", "requestId", id, "method", r.Method, "path", r.URL.Path, "route", route,
				"status", rec.code, "bytes", rec.bytes, "durationMs", float64(d.Microseconds())/1000, "caller", c.Name, "remote", r.RemoteAddr)
		}()
		if scope != "" && !(route == "/graphql" && gql.IsPageRequest(r)) {
			c, ok := s.authenticate(rec, r, scope)
			if !ok {
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(rec, r.Body, s.o.MaxBody)
		}
		h(rec, r)
		rec.finish()
	})
}

// authenticate checks the bearer token for scope and writes 401/403 when
// it fails.
func (s *server) authenticate(w http.ResponseWriter, r *http.Request, scope Scope) (Caller, bool) {
	if s.o.Tokens.Len() == 0 {
		return Caller{}, true
	}
	tok, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="modelgraph"`)
		writeError(w, http.StatusUnauthorized, apiError{Code: "unauthenticated", Message: "missing bearer token: send Authorization: Bearer <token>"})
		return Caller{}, false
	}
	t, ok := s.o.Tokens.Authenticate(tok)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="modelgraph", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, apiError{Code: "unauthenticated", Message: "unknown bearer token"})
		return Caller{}, false
	}
	c := Caller{Name: t.Name, scopes: t.Allows}
	if !t.Allows(scope) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="modelgraph", error="insufficient_scope", scope="%s"`, scope))
		writeError(w, http.StatusForbidden, apiError{Code: "insufficient_scope", Message: fmt.Sprintf("token %q lacks the %s scope", t.Name, scope)})
		return c, false
	}
	return c, true
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.o.Version})
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	unready := func(err error) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "error": apiError{Code: "unavailable", Message: err.Error()}})
	}
	if _, err := s.o.Store.Stats(ctx); err != nil {
		unready(err)
		return
	}
	if err := s.o.Health.Check(); err != nil {
		s.log.Warn("not ready: the store cannot take writes", "err", err)
		unready(err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// recorder remembers the status and size of a response. It holds back a
// plain-text error (http.Error's, from handlers httpapi mounts but did not
// write: the mux's 404 and 405, the event stream, the page) and finish
// writes it as the JSON error body, so every route answers errors alike.
type recorder struct {
	http.ResponseWriter
	code  int
	bytes int64
	wrote bool
	plain bool // a held plain-text error
	text  bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
		if code >= 400 && !strings.HasPrefix(r.Header().Get("Content-Type"), "application/json") {
			r.plain = true
			return
		}
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	if r.plain {
		r.text.Write(b[:min(len(b), max(0, 1024-r.text.Len()))])
		return len(b), nil
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// finish writes a held plain-text error as the JSON error body.
func (r *recorder) finish() {
	if !r.plain {
		return
	}
	r.plain = false
	r.Header().Del("Content-Length")
	writeError(r, r.code, apiError{Code: statusCode(r.code), Message: strings.TrimSpace(r.text.String())})
}

// statusCode is the error body's code for a status no handler named:
// "not_found", "method_not_allowed", "bad_request"...
func statusCode(status int) string {
	if status == http.StatusInternalServerError {
		return "internal"
	}
	if t := http.StatusText(status); t != "" {
		return strings.ToLower(strings.NewReplacer(" ", "_", "-", "_", "'", "").Replace(t))
	}
	return "http_" + strconv.Itoa(status)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// apiError is the JSON error body of every non-GraphQL endpoint:
// {"error": {"code": ..., "message": ..., "document": ..., "field": ...}}.
type apiError struct {
	Code     string `json:"code"`
	Kind     string `json:"kind,omitempty"` // document errors: malformed, unsupported, too_large, unverifiable, ambiguous, invalid (docerr.Kind)
	Message  string `json:"message"`
	Document string `json:"document,omitempty"` // source or digest of the offending document
	Field    string `json:"field,omitempty"`    // JSON pointer or YAML path inside it
	Line     int    `json:"line,omitempty"`
	Offset   int64  `json:"offset,omitempty"` // byte offset of a JSON syntax error
}

func writeError(w http.ResponseWriter, code int, e apiError) {
	writeJSON(w, code, map[string]apiError{"error": e})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// isTimeout reports whether err is the request's deadline.
func isTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded)
}
