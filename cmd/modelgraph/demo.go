package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/config"
	"github.com/modelgraph/modelgraph/internal/demo"
)

// loadDemo loads the generated demo supply chain (docs/demo.md) through p,
// after extending p's trust policy with the demo keys so its signatures
// verify; the configured policy stays in force for everything else. The
// extension lasts for the server's life, so demo keys also verify pushed
// documents: --demo is for trying modelgraph, not for production.
func loadDemo(ctx context.Context, c config.Config, p *ingest.Pipeline, log *slog.Logger) error {
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
			"documents", rep.Documents, "ingested", rep.Ingested, "alreadyStored", rep.Duplicates, "store", c.EmbeddedPath())
	}
	return nil
}
