// Package app wires configured parts together (store, parser, pipeline) for
// the commands and the server, so each command does not repeat it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/trust"
	"github.com/modelgraph/modelgraph/internal/config"
)

// OpenStore opens the configured backend.
func OpenStore(ctx context.Context, c config.Config) (graph.Store, error) {
	if c.Neo4j() {
		return openNeo4j(ctx, c)
	}
	path := c.EmbeddedPath()
	if c.Store == "" {
		if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
	}
	s, err := embedded.Open(path, embedded.Options{})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w\nhint: another process holds the store's lock (is `modelgraph serve` running on %s?); stop it, or send documents to the running server with `modelgraph push --server URL`", err, path)
	}
	return s, err
}

// NewPipeline builds the ingest pipeline for c over s, verifying signatures
// against the trust policy file c names. Without one, nothing is trusted:
// signatures are recorded as unverifiable, never as verified.
func NewPipeline(c config.Config, s graph.Writer, log *slog.Logger) (*ingest.Pipeline, error) {
	pol, err := LoadTrust(c)
	if err != nil {
		return nil, err
	}
	return &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol), Log: log, MaxBytes: c.MaxBodyBytes}, nil
}

// LoadTrust loads the configured trust policy (nil when none is configured).
func LoadTrust(c config.Config) (*trust.Policy, error) {
	if c.TrustPolicy == "" {
		return nil, nil
	}
	pol, err := trust.Load(c.TrustPolicy)
	if err != nil {
		return nil, fmt.Errorf("trust-policy: %w", err)
	}
	return pol, nil
}

// NewLogger builds the slog logger the settings ask for.
func NewLogger(c config.Config, w *os.File) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// OpenPipeline opens the configured store and the pipeline over it (for
// the commands that ingest locally); closeStore closes the store.
func OpenPipeline(ctx context.Context, c config.Config, log *slog.Logger) (p *ingest.Pipeline, closeStore func() error, err error) {
	s, err := OpenStore(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	if p, err = NewPipeline(c, s, log); err != nil {
		_ = s.Close()
		return nil, nil, err
	}
	return p, s.Close, nil
}
