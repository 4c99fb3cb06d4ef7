package gql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/sync/semaphore"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/docerr"
	"github.com/modelgraph/modelgraph/internal/gql/generated"
	"github.com/modelgraph/modelgraph/internal/posture"
	"github.com/modelgraph/modelgraph/internal/query"
	"github.com/modelgraph/modelgraph/internal/watch"
)

// Limits applied unless Options say otherwise.
const (
	// DefaultMaxDepth bounds selection nesting (the standard introspection
	// query needs 13).
	DefaultMaxDepth = 15
	// DefaultMaxComplexity bounds the work one operation may ask for: each
	// field costs 1, list questions multiply their selection by the page
	// size and add the cost of the walk or scan behind them, which grows
	// with the graph (see costs in limits.go).
	DefaultMaxComplexity = 200_000
)

// Error codes set in errors' extensions.code.
const (
	CodeBadInput        = "BAD_USER_INPUT"
	CodeNotFound        = "NOT_FOUND"
	CodeForbidden       = "FORBIDDEN"
	CodeTimeout         = "TIMEOUT"
	CodeCanceled        = "CANCELED"
	CodeInternal        = "INTERNAL"
	CodeDepthLimit      = "DEPTH_LIMIT_EXCEEDED"
	CodeComplexityLimit = "COMPLEXITY_LIMIT_EXCEEDED"
)

// Options configure the GraphQL handler.
type Options struct {
	Reader   graph.Reader
	Pipeline *ingest.Pipeline // the ingest and createAdvisory mutations run it
	Log      *slog.Logger
	// MaxDepth and MaxComplexity default to DefaultMaxDepth and
	// DefaultMaxComplexity.
	MaxDepth      int
	MaxComplexity int
	// Limits checked on the query text before validation (Default*
	// when 0): lexer tokens, aliased fields, fields as written, fragment
	// definitions, fields once fragments are expanded.
	MaxTokens, MaxAliases, MaxSelections, MaxFragments, MaxFields int
	// Timeout is each operation's deadline (DefaultTimeout when 0); walks
	// stop through their context when it passes.
	Timeout time.Duration
	// Budget is the work units (complexity) all running operations may
	// hold together (DefaultBudgetFactor x MaxComplexity when 0); an
	// operation waits up to QueueWait (DefaultQueueWait) for its share,
	// then is refused with 503 and Retry-After.
	Budget    int
	QueueWait time.Duration
	// MaxRunning bounds the operations running at once
	// (DefaultRunningPerCPU x GOMAXPROCS when 0); others queue likewise.
	MaxRunning int
	// CanWrite reports whether the caller may run mutations (nil: anyone).
	CanWrite func(context.Context) bool
	// Caller names the caller; it is recorded in the source of documents
	// created through mutations (nil or "": anonymous).
	Caller func(context.Context) string
	// RequestID gives the request id logged with internal errors.
	RequestID func(context.Context) string
	// Refused is told the code of every operation refused by a limit or a
	// budget (metrics); nil: nobody.
	Refused func(code string)
	// Ingested is told about every document the ingest mutation recorded
	// (metrics).
	Ingested func(ingest.Receipt)
	// Posture is the posture policy (levels, thresholds) posture answers
	// use; the zero value is posture.DefaultPolicy.
	Posture posture.Policy
	// Watch serves the watch subscriptions, delivery log and events (nil:
	// those fields answer that the server does not watch).
	Watch *watch.Watcher
}

var registerCodes sync.Once

// NewHandler returns the GraphQL endpoint: POST and GET (queries only) with
// introspection, depth and complexity limits. A browser (GET asking for
// text/html, no query) gets the GraphiQL page.
func NewHandler(o Options) http.Handler {
	h, _ := newHandler(o)
	return h
}

func newHandler(o Options) (http.Handler, *budgetGate) {
	registerCodes.Do(func() {
		// Limit errors are the client's request being refused before it
		// runs, like parse and validation errors: the front door answers
		// them 400.
		for _, c := range []string{CodeDepthLimit, CodeComplexityLimit, CodeTokenLimit, CodeAliasLimit,
			CodeSelectionLimit, CodeFragmentLimit, CodeFieldLimit} {
			errcode.RegisterErrorType(c, errcode.KindProtocol)
		}
	})
	if o.MaxDepth == 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxComplexity == 0 {
		o.MaxComplexity = DefaultMaxComplexity
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxTokens, DefaultMaxTokens)
	def(&o.MaxAliases, DefaultMaxAliases)
	def(&o.MaxSelections, DefaultMaxSelections)
	def(&o.MaxFragments, DefaultMaxFragments)
	def(&o.MaxFields, DefaultMaxFields)
	def(&o.Budget, DefaultBudgetFactor*o.MaxComplexity)
	def(&o.MaxRunning, DefaultRunningPerCPU*runtime.GOMAXPROCS(0))
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.QueueWait <= 0 {
		o.QueueWait = DefaultQueueWait
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := query.New(o.Reader)
	ps, err := posture.New(q, o.Posture)
	if err != nil {
		// Options come from a validated configuration; a bad policy here
		// is a programming error, so answer with the defaults and say so.
		log.Error("posture policy", "err", err)
		ps, _ = posture.New(q, posture.DefaultPolicy())
	}
	r := &Resolver{q: q, posture: ps, pipeline: o.Pipeline, caller: o.Caller, ingested: o.Ingested, watch: o.Watch}
	size := &graphSize{r: o.Reader, ttl: 5 * time.Second}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: r, Complexity: complexity(costs{nodes: size.nodes})}))
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	cache := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(cache)
	srv.SetParserTokenLimit(o.MaxTokens)
	srv.Use(precheck{cache: cache, l: docLimits{
		tokens: o.MaxTokens, aliases: o.MaxAliases, selections: o.MaxSelections,
		fragments: o.MaxFragments, fields: o.MaxFields, depth: o.MaxDepth,
	}})
	srv.Use(extension.Introspection{})
	srv.Use(extension.FixedComplexityLimit(o.MaxComplexity))
	srv.Use(writeGuard{canWrite: o.CanWrite})
	adm := &budgetGate{sem: semaphore.NewWeighted(int64(o.Budget)), capacity: int64(o.Budget),
		running: make(chan struct{}, o.MaxRunning), wait: o.QueueWait, log: log}
	srv.Use(adm)
	srv.SetErrorPresenter(presenter(log, o.RequestID, o.Timeout, o.Refused))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		log.Error("graphql resolver panicked", "panic", v, "requestId", requestID(ctx, o.RequestID))
		return errInternal
	})
	page := playground.Handler("modelgraph GraphQL", "/graphql")
	api := frontDoor(srv, o.Timeout, log, o.RequestID, o.Refused)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if IsPageRequest(req) {
			page.ServeHTTP(w, req)
			return
		}
		api.ServeHTTP(w, req)
	}), adm
}

// IsPageRequest reports whether req is a browser asking for the GraphiQL
// page (GET, no query, accepting text/html). The page holds no data, so
// servers may serve it without authentication; the queries it sends carry
// the token the user enters in its headers pane.
func IsPageRequest(req *http.Request) bool {
	return req.Method == http.MethodGet && req.URL.Query().Get("query") == "" && strings.Contains(req.Header.Get("Accept"), "text/html")
}

var (
	errInternal  = errors.New("internal error")
	errForbidden = errors.New("forbidden: mutations need a token with the write scope")
)

func requestID(ctx context.Context, f func(context.Context) string) string {
	if f == nil {
		return ""
	}
	return f(ctx)
}

// presenter gives every error a code; internal errors are logged and
// answered without their details.
func presenter(log *slog.Logger, rid func(context.Context) string, timeout time.Duration, refused func(string)) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		if c, ok := gerr.Extensions["code"].(string); ok {
			if refusalCodes[c] && refused != nil {
				refused(c)
			}
			return gerr
		}
		code := CodeInternal
		switch {
		case errors.Is(err, errForbidden):
			code = CodeForbidden
		case errors.Is(err, ingest.ErrBusy):
			code = CodeOverloaded
			if st := stateFrom(ctx); st != nil {
				st.overloaded(2 * time.Second)
			}
		case query.IsBadInput(err) || ingest.IsBadInput(err):
			code = CodeBadInput
			documentError(gerr, err)
		case errors.Is(err, graph.ErrNotFound):
			code = CodeNotFound
		case errors.Is(err, context.DeadlineExceeded):
			code = CodeTimeout
			gerr.Message = fmt.Sprintf("request exceeded its deadline of %s and was stopped", timeout)
		case errors.Is(err, context.Canceled):
			code = CodeCanceled
			gerr.Message = "request canceled (the client went away)"
		case errors.Is(err, errInternal):
		default:
			id := requestID(ctx, rid)
			log.Error("graphql request failed", "err", truncate(err.Error(), 300), "path", gerr.Path.String(), "requestId", id)
			gerr.Message = "internal error"
			if id != "" {
				gerr.Message += " (request " + id + ")"
			}
		}
		errcode.Set(gerr, code)
		if nf := (*query.NotFoundError)(nil); errors.As(err, &nf) && len(nf.Suggestions) > 0 {
			gerr.Extensions["suggestions"] = nf.Suggestions
		}
		return gerr
	}
}

// writeGuard refuses mutations to callers without the write scope.
type writeGuard struct{ canWrite func(context.Context) bool }

func (writeGuard) ExtensionName() string                   { return "WriteGuard" }
func (writeGuard) Validate(graphql.ExecutableSchema) error { return nil }
func (g writeGuard) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if g.canWrite != nil && oc.Operation != nil && oc.Operation.Operation == ast.Mutation && !g.canWrite(ctx) {
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
			Message: errForbidden.Error(), Extensions: map[string]any{"code": CodeForbidden},
		}}})
	}
	return next(ctx)
}

// documentError adds a document error's fields (the HTTP API's error body:
// kind, status, document, field, line) to the GraphQL error's extensions.
func documentError(gerr *gqlerror.Error, err error) {
	k := docerr.KindOf(err)
	if k == "" {
		return
	}
	if gerr.Extensions == nil {
		gerr.Extensions = map[string]any{}
	}
	gerr.Extensions["kind"] = string(k)
	gerr.Extensions["status"] = docerr.Status(k)
	var de *docerr.Error
	var loc docerr.Located
	switch {
	case errors.As(err, &de):
		if de.Document != "" {
			gerr.Extensions["document"] = de.Document
		}
		if de.Field != "" {
			gerr.Extensions["field"] = de.Field
		}
		if de.Line != 0 {
			gerr.Extensions["line"] = de.Line
		}
	case errors.As(err, &loc):
		// An input checked by a format's rules before it is a document
		// (createAdvisory's input: ingest/advisory.FieldError).
		if f, line := loc.Location(); f != "" {
			gerr.Extensions["field"] = f
			if line != 0 {
				gerr.Extensions["line"] = line
			}
		}
	}
}
