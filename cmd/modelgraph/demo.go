package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/config"
)

// loadDemo is replaced when the demo supply chain lands.
func loadDemo(ctx context.Context, c config.Config, p *ingest.Pipeline, log *slog.Logger) error {
	return fmt.Errorf("--demo: the demo supply chain is not built yet")
}
