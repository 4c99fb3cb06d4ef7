package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/pflag"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/buildinfo"
	"github.com/modelgraph/modelgraph/internal/collect"
	"github.com/modelgraph/modelgraph/internal/config"
	"github.com/modelgraph/modelgraph/internal/demo"
	"github.com/modelgraph/modelgraph/internal/gql"
	"github.com/modelgraph/modelgraph/internal/httpapi"
	"github.com/modelgraph/modelgraph/internal/k8sadmit"
	"github.com/modelgraph/modelgraph/internal/posture"
	"github.com/modelgraph/modelgraph/internal/query"
	"github.com/modelgraph/modelgraph/internal/search"
)

// ServeOptions are serve's settings beyond config.Config (its flags).
type ServeOptions struct {
	// GraphQL admission: each operation's deadline, the work all running
	// operations may hold, how many run at once, how long one waits.
	QueryTimeout time.Duration
	QueryBudget  int
	QueryRunning int
	QueueWait    time.Duration
	// Ingests is how many documents are parsed and written at once.
	Ingests int
	// MemoryLimit is a size, "auto" or "off" (SetMemoryLimit).
	MemoryLimit string
	// PosturePolicy is a posture policy YAML file ("" the default policy).
	PosturePolicy string
	Admission     AdmissionOptions
	// Out receives the "listening on" lines; Log the logs (stderr when nil).
	Out io.Writer
	Log *slog.Logger
	// Getenv reads MODELGRAPH_TOKENS and watch secrets (os.Getenv when nil).
	Getenv func(string) string
}

// AddFlags registers the options as serve's flags.
func (o *ServeOptions) AddFlags(f *pflag.FlagSet) {
	f.DurationVar(&o.QueryTimeout, "query-timeout", gql.DefaultTimeout, "deadline of each GraphQL operation (walks stop when it passes; at most --request-timeout)")
	f.IntVar(&o.QueryBudget, "query-budget", 0, "work units (GraphQL complexity) all running operations may hold together (0: 2 x the complexity limit)")
	f.IntVar(&o.QueryRunning, "max-running-queries", gql.DefaultRunningPerCPU*runtime.GOMAXPROCS(0), "GraphQL operations running at once (more queue, then 503)")
	f.DurationVar(&o.QueueWait, "queue-wait", gql.DefaultQueueWait, "how long a query or ingest waits for its budget before a 503 with Retry-After")
	f.IntVar(&o.Ingests, "max-concurrent-ingests", 2*runtime.GOMAXPROCS(0), "documents parsed and written at once (more queue, then 503)")
	f.StringVar(&o.MemoryLimit, "memory-limit", "auto", `Go soft memory limit: a size (1536MiB), "auto" (GOMEMLIMIT, else 80% of the cgroup limit) or "off"`)
	f.StringVar(&o.PosturePolicy, "posture-policy", "", "posture policy YAML for GraphQL posture answers (levels and thresholds; docs/posture.md)")
	a := &o.Admission
	f.StringVar(&a.Addr, "admission-listen", "", "serve the Kubernetes validating admission webhook (HTTPS) on this address, e.g. :8443 (off when empty)")
	f.StringVar(&a.Cert, "admission-tls-cert", "", "PEM certificate (chain) of the admission webhook; re-read when it changes")
	f.StringVar(&a.Key, "admission-tls-key", "", "PEM private key of the admission webhook")
	f.StringVar(&a.ClientCA, "admission-client-ca", "", "require callers of the admission webhook to present a client certificate from this CA (PEM): the API server's")
	f.StringVar(&a.Config, "admission-config", "", "admission webhook configuration file (YAML/JSON: policy, modes, unknown rule)")
}

// AdmissionOptions configure the Kubernetes admission webhook
// (docs/admission.md); it is off when Addr is empty.
type AdmissionOptions struct {
	Addr, Cert, Key, ClientCA, Config string
}

// Serve runs the server over the configured store until ctx ends (the
// first signal), as one Group: the store, the watcher, the collectors, the
// admission webhook and the HTTP listener start in that order and stop in
// the reverse one.
func Serve(ctx context.Context, c config.Config, o ServeOptions) (err error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	log := o.Log
	if log == nil {
		log = NewLogger(c, os.Stderr)
	}
	pp, err := posture.LoadPolicy(o.PosturePolicy)
	if err != nil {
		return err
	}
	if err := collect.Validate(c.Collect); err != nil {
		return err
	}
	tokens, err := httpapi.LoadTokens(c.TokensFile, o.Getenv("MODELGRAPH_TOKENS"))
	if err != nil {
		return err
	}
	limit, from, err := SetMemoryLimit(o.MemoryLimit)
	if err != nil {
		return err
	}
	if limit > 0 {
		log.Info("memory limit", "bytes", limit, "from", from)
	}
	g := &Group{Log: log}
	started := false
	defer func() {
		if !started { // setup failed: close what was opened
			if cerr := g.Close(c.ShutdownTimeout); cerr != nil {
				err = errors.Join(err, cerr)
			}
		}
	}()
	store, err := OpenStore(ctx, c)
	if err != nil {
		return err
	}
	g.Add("store", nil, func(context.Context) error { return store.Close() })
	// Search: the text index is built from the store and kept current by
	// every write through this wrapper (docs/search.md).
	indexed, err := search.Wrap(ctx, store)
	if err != nil {
		return err
	}
	store = indexed
	pipe, err := NewPipeline(c, store, log)
	if err != nil {
		return err
	}
	// Writes are watched for readiness; ingests share a budget.
	healthDir := filepath.Dir(c.EmbeddedPath())
	if c.Neo4j() {
		healthDir = ""
	}
	health := httpapi.NewWriteHealth(store, healthDir)
	// The watcher hears of every committed write (never blocking it) and
	// keeps its durable delivery queue beside the store. It runs until
	// its turn to stop, not until the signal.
	watcher, err := OpenWatch(c, store, log, o.Getenv)
	if err != nil {
		return err
	}
	watcher.Start(context.WithoutCancel(ctx))
	g.Add("watcher", nil, func(context.Context) error { return watcher.Close() })
	pipe.Store = watcher.Writer(health)
	pipe.Budget = ingest.NewBudget(o.Ingests, o.QueueWait)
	if c.Demo {
		if err := LoadDemo(ctx, pipe, log, c.EmbeddedPath()); err != nil {
			return err
		}
	}
	if len(c.Collect) > 0 {
		// Collectors ingest one document at a time each and wait their
		// turn rather than being refused: no budget.
		bg := *pipe
		bg.Budget = nil
		g.Add("collectors", func(ctx context.Context) error { return collect.Run(ctx, c.Collect, &bg, log) }, nil)
	}
	if err := addAdmission(g, c, o, store, pipe, log); err != nil {
		return err
	}
	stopping := make(chan struct{})
	srv := &http.Server{
		Handler: httpapi.New(httpapi.Options{
			Store: store, Pipeline: pipe, Log: log, Version: buildinfo.Version(),
			MaxBody: c.MaxBodyBytes, Timeout: c.RequestTimeout, Tokens: tokens,
			QueryTimeout: o.QueryTimeout, QueryBudget: o.QueryBudget, QueueWait: o.QueueWait, QueryRunning: o.QueryRunning,
			Health: health, Watch: watcher, PosturePolicy: pp, Stopping: stopping,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       c.RequestTimeout,
		WriteTimeout:      c.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	// Event streams end as the shutdown begins instead of holding it.
	srv.RegisterOnShutdown(func() { close(stopping) })
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", c.Listen, err)
	}
	g.Add("http", func(context.Context) error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, srv.Shutdown)
	where := c.EmbeddedPath()
	if c.Neo4j() {
		where = c.Store
	}
	log.Info("serving", "addr", ln.Addr().String(), "store", where, "version", buildinfo.Version())
	fmt.Fprintf(o.Out, "modelgraph listening on http://%s\n", ln.Addr())
	started = true
	return g.Run(ctx, c.ShutdownTimeout)
}

// addAdmission adds the admission webhook's listener and, stopped after
// it, the writer of its deployment records.
func addAdmission(g *Group, c config.Config, o ServeOptions, store graph.Store, pipe *ingest.Pipeline, log *slog.Logger) error {
	a := o.Admission
	if a.Addr == "" {
		return nil
	}
	var cfg k8sadmit.Config
	if a.Config != "" {
		var err error
		if cfg, err = k8sadmit.LoadConfig(a.Config); err != nil {
			return err
		}
	}
	wh, err := k8sadmit.New(query.New(store), pipe, cfg, log)
	if err != nil {
		return err
	}
	g.Add("admission records", nil, func(context.Context) error { wh.Close(); return nil })
	s, err := k8sadmit.ListenTLS(a.Addr, k8sadmit.TLSFiles{Cert: a.Cert, Key: a.Key, ClientCA: a.ClientCA}, wh, log)
	if err != nil {
		return err
	}
	g.Add("admission webhook", func(ctx context.Context) error { return s.Serve(ctx, c.ShutdownTimeout) }, nil)
	fmt.Fprintf(o.Out, "modelgraph admission webhook listening on https://%s/validate\n", s.Addr())
	log.Info("admission webhook", "addr", s.Addr().String())
	return nil
}

// LoadDemo loads the generated demo supply chain (docs/demo.md) through p,
// after extending p's trust policy with the demo keys so its signatures
// verify; the configured policy stays in force for everything else. The
// extension lasts for the server's life, so demo keys also verify pushed
// documents: --demo is for trying modelgraph, not for production.
func LoadDemo(ctx context.Context, p *ingest.Pipeline, log *slog.Logger, where string) error {
	if p == nil || p.Parser == nil {
		return fmt.Errorf("--demo: no ingest pipeline")
	}
	pol, err := demo.WithTrust(p.Parser.Trust)
	if err != nil {
		return fmt.Errorf("--demo: %w", err)
	}
	parser := *p.Parser
	parser.Trust = pol
	p.Parser = &parser
	rep, err := demo.Load(ctx, p)
	if err != nil {
		return fmt.Errorf("--demo: %w", err)
	}
	if log != nil {
		log.Warn("demo supply chain loaded; its signing keys are public, do not trust them outside the demo",
			"documents", rep.Documents, "ingested", rep.Ingested, "alreadyStored", rep.Duplicates, "store", where)
	}
	return nil
}
