package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/internal/app"
	"github.com/modelgraph/modelgraph/internal/collect"
	"github.com/modelgraph/modelgraph/internal/httpapi"
)

func newServeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API (GraphQL, push endpoint, health) over the configured store",
		Args:  cobra.NoArgs,
	}
	settings := withSettings(cmd)
	adm := admissionFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := settings()
		if err != nil {
			return err
		}
		log := app.NewLogger(c, os.Stderr)
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
		pipe, err := app.NewPipeline(c, store, log)
		if err != nil {
			return err
		}
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
				if err := collect.Run(ctx, c.Collect, pipe, log); err != nil && ctx.Err() == nil {
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
			Routes: extraRoutes(store),
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
