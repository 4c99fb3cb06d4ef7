package ingest

import (
	"context"
	"fmt"

	"github.com/modelgraph/modelgraph/graph"
)

// Parsed is one document turned into its batch.
type Parsed struct {
	Format Format
	Batch  *graph.Batch
}

// Parser turns raw documents into batches; it holds what parsing needs
// (the trust policy used to verify signatures).
type Parser struct {
	// Formats wired so far; see formats.go.
}

// NewParser returns a parser.
func NewParser() *Parser { return &Parser{} }

// Parse detects the document's format and parses it into one batch per
// document (several for JSON Lines).
func (p *Parser) Parse(ctx context.Context, in Input) ([]Parsed, error) {
	f, err := Detect(in.Data, in.ContentType)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name(in), err)
	}
	return nil, fmt.Errorf("%s: %w: %s is not wired yet", name(in), ErrUnsupported, f)
}
