package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/app"
	"github.com/modelgraph/modelgraph/internal/collect"
	"github.com/modelgraph/modelgraph/internal/gql"
	"github.com/modelgraph/modelgraph/internal/httpapi"
	"github.com/modelgraph/modelgraph/internal/posture"
	"github.com/modelgraph/modelgraph/internal/search"
)

func newServeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API (GraphQL, push endpoint, health) over the configured store",
		Args:  cobra.NoArgs,
	}
	settings := withSettings(cmd)
	var (
		queryTimeout, queueWait time.Duration
		queryBudget, ingests    int
		queryRunning            int
		memLimit                string
		posturePolicy           string
	)
	f := cmd.Flags()
	f.DurationVar(&queryTimeout, "query-timeout", gql.DefaultTimeout, "deadline of each GraphQL operation (walks stop when it passes; at most --request-timeout)")
	f.IntVar(&queryBudget, "query-budget", 0, "work units (GraphQL complexity) all running operations may hold together (0: 2 x the complexity limit)")
	f.IntVar(&queryRunning, "max-running-queries", gql.DefaultRunningPerCPU*runtime.GOMAXPROCS(0), "GraphQL operations running at once (more queue, then 503)")
	f.DurationVar(&queueWait, "queue-wait", gql.DefaultQueueWait, "how long a query or ingest waits for its budget before a 503 with Retry-After")
	f.IntVar(&ingests, "max-concurrent-ingests", 2*runtime.GOMAXPROCS(0), "documents parsed and written at once (more queue, then 503)")
	f.StringVar(&memLimit, "memory-limit", "auto", `Go soft memory limit: a size (1536MiB), "auto" (GOMEMLIMIT, else 80% of the cgroup limit) or "off"`)
	adm := admissionFlags(cmd)
	f.StringVar(&posturePolicy, "posture-policy", "", "posture policy YAML for GraphQL posture answers (levels and thresholds; docs/posture.md)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := settings()
		if err != nil {
			return err
		}
		pp, err := posture.LoadPolicy(posturePolicy)
		if err != nil {
			return err
		}
		log := app.NewLogger(c, os.Stderr)
		limit, from, err := app.SetMemoryLimit(memLimit)
		if err != nil {
			return err
		}
		if limit > 0 {
			log.Info("memory limit", "bytes", limit, "from", from)
		}
		ctx := cmd.Context()
		store, err := app.OpenStore(ctx, c)
		if err != nil {
			return err
		}
		defer func() {
			if err := store.Close(); err != nil {
				log.Error("closing store", "err", err)
			}
		}()
		// Search: the text index is built from the store and kept current by
		// every write through this wrapper (docs/search.md).
		indexed, err := search.Wrap(ctx, store)
		if err != nil {
			return err
		}
		store = indexed
		pipe, err := app.NewPipeline(c, store, log)
		if err != nil {
			return err
		}
		// Writes are watched for readiness; ingests share a budget.
		var health *httpapi.WriteHealth
		if c.Neo4j() {
			health = httpapi.NewWriteHealth(store, "")
		} else {
			health = httpapi.NewWriteHealth(store, filepath.Dir(c.EmbeddedPath()))
		}
		// The watcher hears of every committed write (never blocking it)
		// and keeps its durable delivery queue beside the store.
		watcher, err := app.OpenWatch(c, store, log, os.Getenv)
		if err != nil {
			return err
		}
		watcher.Start(ctx)
		defer func() {
			if err := watcher.Close(); err != nil {
				log.Error("closing the watch queue", "err", err)
			}
		}()
		pipe.Store = watcher.Writer(health)
		pipe.Budget = ingest.NewBudget(ingests, queueWait)
		if err := collect.Validate(c.Collect); err != nil {
			return err
		}
		if c.Demo {
			if err := loadDemo(ctx, c, pipe, log); err != nil {
				return err
			}
		}
		if len(c.Collect) > 0 {
			go func() {
				// Collectors ingest one document at a time each and wait
				// their turn rather than being refused: no budget.
				bg := *pipe
				bg.Budget = nil
				if err := collect.Run(ctx, c.Collect, &bg, log); err != nil && ctx.Err() == nil {
					log.Error("collectors stopped", "err", err)
				}
			}()
		}
		tokens, err := httpapi.LoadTokens(c.TokensFile, os.Getenv("MODELGRAPH_TOKENS"))
		if err != nil {
			return err
		}
		h := httpapi.New(httpapi.Options{
			Store: store, Pipeline: pipe, Log: log, Version: versionString(),
			MaxBody: c.MaxBodyBytes, Timeout: c.RequestTimeout, Tokens: tokens,
			QueryTimeout: queryTimeout, QueryBudget: queryBudget, QueueWait: queueWait, QueryRunning: queryRunning, Health: health,
			Watch: watcher, PosturePolicy: pp,
			Routes: append(extraRoutes(store, pp), httpapi.Route{Pattern: "GET /v1/watch/events", Handler: watcher.Handler()}),
		})
		srv := &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       c.RequestTimeout,
			WriteTimeout:      c.RequestTimeout + 5*time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
		}
		ln, err := net.Listen("tcp", c.Listen)
		if err != nil {
			return fmt.Errorf("listen %s: %w", c.Listen, err)
		}
		where := c.EmbeddedPath()
		if c.Neo4j() {
			where = c.Store
		}
		log.Info("serving", "addr", ln.Addr().String(), "store", where, "version", versionString())
		fmt.Fprintf(cmd.OutOrStdout(), "modelgraph listening on http://%s\n", ln.Addr())
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		stopAdmission, err := adm.start(ctx, c, store, pipe, log, cmd.OutOrStdout())
		if err != nil {
			_ = srv.Close()
			return err
		}
		defer stopAdmission()
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
		}
		log.Info("shutting down", "timeout", c.ShutdownTimeout)
		sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
	return cmd
}
