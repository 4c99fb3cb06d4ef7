package gql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"golang.org/x/sync/semaphore"
)

// Document limits checked on the raw query before gqlparser's validation
// runs (validation is quadratic in overlapping fields and expands every
// fragment spread, so a small hostile document could otherwise cost
// gigabytes or minutes before any limit applied).
const (
	// DefaultMaxTokens bounds the lexer tokens of a query (the standard
	// introspection query has ~330; the UI's largest, 120 aliased
	// lookups, ~4,000).
	DefaultMaxTokens = 10_000
	// DefaultMaxAliases bounds aliased fields in the document (the UI
	// asks up to 120 aliased lookups at once).
	DefaultMaxAliases = 200
	// DefaultMaxSelections bounds the fields written in the document (the
	// UI's 120 lookups: 1,440).
	DefaultMaxSelections = 2_000
	// DefaultMaxFragments bounds fragment definitions.
	DefaultMaxFragments = 100
	// DefaultMaxFields bounds the fields after expanding every fragment
	// spread (fragment fan-out: each spread counts its fragment again).
	DefaultMaxFields = 5_000
	// DefaultTimeout is the per-request deadline of a GraphQL operation:
	// walks stop through their context when it passes.
	DefaultTimeout = 15 * time.Second
	// DefaultBudgetFactor: the work units (complexity) all running
	// operations may hold together is this many times MaxComplexity.
	DefaultBudgetFactor = 2
	// DefaultQueueWait is how long an operation waits for budget before
	// it is refused with 503.
	DefaultQueueWait = 5 * time.Second
	// DefaultRunningPerCPU: operations running at once per GOMAXPROCS.
	DefaultRunningPerCPU = 4
)

// Codes of the refusals (extensions.code); each names its limit.
const (
	CodeBadRequest     = "BAD_REQUEST"
	CodeTooLarge       = "REQUEST_TOO_LARGE"
	CodeParseFailed    = errcode.ParseFailed
	CodeTokenLimit     = "TOKEN_LIMIT_EXCEEDED"
	CodeAliasLimit     = "ALIAS_LIMIT_EXCEEDED"
	CodeSelectionLimit = "SELECTION_LIMIT_EXCEEDED"
	CodeFragmentLimit  = "FRAGMENT_LIMIT_EXCEEDED"
	CodeFieldLimit     = "FIELD_LIMIT_EXCEEDED"
	CodeOverloaded     = "OVERLOADED"
)

// refusalCodes are the codes of requests refused by a limit or a budget.
var refusalCodes = map[string]bool{
	CodeTokenLimit: true, CodeAliasLimit: true, CodeSelectionLimit: true, CodeFragmentLimit: true,
	CodeFieldLimit: true, CodeDepthLimit: true, CodeComplexityLimit: true, CodeOverloaded: true,
	CodeTooLarge: true, CodeBadRequest: true,
}

// docLimits are the limits checked before validation.
type docLimits struct {
	tokens, aliases, selections, fragments, fields, depth int
}

// precheck is an OperationParameterMutator: it runs before gqlgen parses
// and validates the query, parses it itself with a token limit and counts
// what validation would have to expand.
type precheck struct {
	l     docLimits
	cache graphql.Cache[*ast.QueryDocument]
}

func (precheck) ExtensionName() string                   { return "DocumentLimits" }
func (precheck) Validate(graphql.ExecutableSchema) error { return nil }

func limitErr(code, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, code)
	return err
}

func (p precheck) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if p.cache != nil {
		if _, ok := p.cache.Get(ctx, params.Query); ok {
			return nil // parsed and validated before: it passed these limits
		}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: params.Query}, p.l.tokens)
	if err != nil {
		var gerr *gqlerror.Error
		if errors.As(err, &gerr) {
			if gerr.Message == fmt.Sprintf("exceeded token limit of %d", p.l.tokens) {
				return limitErr(CodeTokenLimit, "query has more than %d tokens, the limit", p.l.tokens)
			}
			errcode.Set(gerr, CodeParseFailed)
			return gerr
		}
		return limitErr(CodeParseFailed, "%s", truncate(err.Error(), 200))
	}
	if n := len(doc.Fragments); n > p.l.fragments {
		return limitErr(CodeFragmentLimit, "query defines %d fragments, which exceeds the limit of %d", n, p.l.fragments)
	}
	c := counter{frags: doc.Fragments, memo: map[string]*fragSize{}, cap: max(p.l.fields, p.l.depth) + 1}
	for _, f := range doc.Fragments {
		c.written(f.SelectionSet)
	}
	var fields, depth int
	for _, op := range doc.Operations {
		c.written(op.SelectionSet)
		n, d := c.expand(op.SelectionSet)
		fields, depth = sat(fields+n, c.cap), max(depth, d)
	}
	switch {
	case c.aliases > p.l.aliases:
		return limitErr(CodeAliasLimit, "query has %d aliased fields, which exceeds the limit of %d", c.aliases, p.l.aliases)
	case c.selections > p.l.selections:
		return limitErr(CodeSelectionLimit, "query selects %d fields, which exceeds the limit of %d", c.selections, p.l.selections)
	case fields > p.l.fields:
		return limitErr(CodeFieldLimit, "query expands to more than %d fields through its fragments, the limit", p.l.fields)
	case depth > p.l.depth:
		return limitErr(CodeDepthLimit, "operation nests %d levels deep, which exceeds the limit of %d", depth, p.l.depth)
	}
	return nil
}

// counter counts a parsed document: fields and aliases as written, and
// fields and depth as expanded through fragment spreads (memoised per
// fragment, saturating at cap, so a 2^26 fan-out costs as little as its
// text).
type counter struct {
	frags               ast.FragmentDefinitionList
	memo                map[string]*fragSize
	cap                 int
	aliases, selections int
}

type fragSize struct {
	fields, depth int
	done          bool
}

func sat(n, c int) int { return min(n, c) }

func (c *counter) written(set ast.SelectionSet) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			c.selections++
			if s.Alias != "" && s.Alias != s.Name {
				c.aliases++
			}
			c.written(s.SelectionSet)
		case *ast.InlineFragment:
			c.written(s.SelectionSet)
		}
	}
}

// expand returns the fields set selects once every spread is expanded,
// and its depth (fields nested).
func (c *counter) expand(set ast.SelectionSet) (fields, depth int) {
	for _, sel := range set {
		var n, d int
		switch s := sel.(type) {
		case *ast.Field:
			cn, cd := c.expand(s.SelectionSet)
			n, d = 1+cn, 1+cd
		case *ast.InlineFragment:
			n, d = c.expand(s.SelectionSet)
		case *ast.FragmentSpread:
			n, d = c.fragment(s.Name)
		}
		fields, depth = sat(fields+n, c.cap), max(depth, d)
	}
	return fields, depth
}

func (c *counter) fragment(name string) (int, int) {
	if m, ok := c.memo[name]; ok {
		if !m.done {
			return 0, 0 // a cycle: validation rejects it
		}
		return m.fields, m.depth
	}
	f := c.frags.ForName(name)
	if f == nil {
		return 0, 0 // unknown: validation rejects it
	}
	m := &fragSize{}
	c.memo[name] = m
	m.fields, m.depth = c.expand(f.SelectionSet)
	m.done = true
	return m.fields, m.depth
}

// budgetGate holds each operation's estimated cost (its complexity) against
// a shared budget of work units while it runs, and bounds how many run at
// once (more runnable walks than cores only slice the CPU finer: every
// answer, even a cheap refusal, gets slower). Operations queue for at most
// wait, then are refused with 503 and Retry-After.
type budgetGate struct {
	sem      *semaphore.Weighted
	capacity int64
	running  chan struct{}
	wait     time.Duration
	log      *slog.Logger
}

func (budgetGate) ExtensionName() string                   { return "Admission" }
func (budgetGate) Validate(graphql.ExecutableSchema) error { return nil }

func (a *budgetGate) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	cost := int64(1)
	if s := extension.GetComplexityStats(ctx); s != nil && s.Complexity > 0 {
		cost = int64(s.Complexity)
	}
	cost = min(cost, a.capacity)
	refuse := func(what string) graphql.ResponseHandler {
		if ctx.Err() != nil { // the operation's own deadline, or the client left
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
				Message: "request reached its deadline while queued for the query budget", Extensions: map[string]any{"code": CodeTimeout},
			}}})
		}
		if st := stateFrom(ctx); st != nil {
			st.overloaded(a.wait)
		}
		a.log.Warn("graphql operation refused: query budget exhausted", "cost", cost, "budget", a.capacity, "waited", a.wait.String(), "limit", what)
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
			Message:    fmt.Sprintf("server busy: %s stayed in use for %s (this operation costs %d work units); retry later", what, a.wait, cost),
			Extensions: map[string]any{"code": CodeOverloaded},
		}}})
	}
	wctx, cancel := context.WithTimeout(ctx, a.wait)
	defer cancel()
	select {
	case a.running <- struct{}{}: // a free slot is taken whatever the deadline
	default:
		select {
		case a.running <- struct{}{}:
		case <-wctx.Done():
			return refuse(fmt.Sprintf("every one of the %d operation slots", cap(a.running)))
		}
	}
	if !a.sem.TryAcquire(cost) {
		if err := a.sem.Acquire(wctx, cost); err != nil {
			<-a.running
			return refuse(fmt.Sprintf("the query budget of %d work units", a.capacity))
		}
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			a.sem.Release(cost)
			<-a.running
		})
	}
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		defer release()
		return h(ctx)
	}
}

// reqState is what the front door learns from the layers inside.
type reqState struct {
	mu         sync.Mutex
	status     int
	retryAfter time.Duration
}

func (s *reqState) overloaded(wait time.Duration) {
	s.mu.Lock()
	s.status, s.retryAfter = http.StatusServiceUnavailable, max(time.Second, wait/2)
	s.mu.Unlock()
}

type stateKey struct{}

func stateFrom(ctx context.Context) *reqState {
	s, _ := ctx.Value(stateKey{}).(*reqState)
	return s
}

// statusWriter gives client errors 400 (gqlgen says 422) and an
// overloaded operation 503 with Retry-After.
type statusWriter struct {
	http.ResponseWriter
	st    *reqState
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	w.st.mu.Lock()
	status, ra := w.st.status, w.st.retryAfter
	w.st.mu.Unlock()
	switch {
	case status != 0:
		code = status
		if ra > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((ra+time.Second-1)/time.Second)))
		}
	case code == http.StatusUnprocessableEntity:
		code = http.StatusBadRequest
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// frontDoor bounds the request's time, reads and checks a POST body
// (so a body that is not a GraphQL request gets a short 400, never an
// internal error carrying the body), then hands over to gqlgen.
func frontDoor(next http.Handler, timeout time.Duration, log *slog.Logger, rid func(context.Context) string, refused func(string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		st := &reqState{}
		ctx = context.WithValue(ctx, stateKey{}, st)
		r = r.WithContext(ctx)
		if r.Method == http.MethodPost && r.Body != nil {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					refuse(w, log, rid, refused, r, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("request body is larger than %d bytes, the limit", tooBig.Limit))
					return
				}
				refuse(w, log, rid, refused, r, http.StatusBadRequest, CodeBadRequest, "reading request body: "+err.Error())
				return
			}
			var params struct {
				Query         string          `json:"query"`
				OperationName string          `json:"operationName"`
				Variables     map[string]any  `json:"variables"`
				Extensions    json.RawMessage `json:"extensions"`
			}
			if err := json.Unmarshal(body, &params); err != nil {
				refuse(w, log, rid, refused, r, http.StatusBadRequest, CodeBadRequest, "request body is not a GraphQL request (JSON with query, variables, operationName): "+err.Error())
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(&statusWriter{ResponseWriter: w, st: st}, r)
	})
}

func refuse(w http.ResponseWriter, log *slog.Logger, rid func(context.Context) string, refused func(string), r *http.Request, status int, code, msg string) {
	msg = truncate(msg, 200)
	if refused != nil {
		refused(code)
	}
	log.Info("graphql request refused", "status", status, "code", code, "reason", msg, "requestId", requestID(r.Context(), rid))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: map[string]any{"code": code}}}})
}

// truncate clips s to n bytes (on a rune boundary) for logs and messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
