package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/modelgraph/modelgraph/graph"
)

// DefaultMaxBytes bounds one document unless the pipeline says otherwise.
const DefaultMaxBytes = 64 << 20

// Input is one document as received.
type Input struct {
	Data        []byte
	Source      string // file path, URL or "push"; shown in errors and stored as evidence
	ContentType string // optional hint (HTTP Content-Type)
	Subject     string // optional: the digest an SBOM describes (--subject)
	Role        string // optional: SBOM role, serving-image | training-environment
}

// Result is what happened to one document (a JSON Lines input gives many).
type Result struct {
	Source   string         `json:"source"`
	Format   Format         `json:"format"`
	Document graph.Document `json:"document"`
	Receipt  graph.Receipt  `json:"receipt"`
}

// Pipeline parses documents and writes them to a store.
type Pipeline struct {
	Store    graph.Writer
	Parser   *Parser
	Log      *slog.Logger
	MaxBytes int64 // DefaultMaxBytes when 0
}

// Ingest parses in and applies every document it holds. A JSON Lines input
// is parsed whole first, so a malformed line rejects the input before any of
// it is written; its documents are then applied together (ApplyAll).
func (p *Pipeline) Ingest(ctx context.Context, in Input) ([]Result, error) {
	max := p.MaxBytes
	if max == 0 {
		max = DefaultMaxBytes
	}
	if int64(len(in.Data)) > max {
		return nil, fmt.Errorf("%w: %s: %d bytes, limit %d", ErrTooLarge, name(in), len(in.Data), max)
	}
	parsed, err := p.Parser.Parse(ctx, in)
	if err != nil {
		return nil, err
	}
	batches := make([]*graph.Batch, len(parsed))
	for i, pd := range parsed {
		batches[i] = pd.Batch
	}
	var receipts []graph.Receipt
	if len(batches) == 1 {
		var r graph.Receipt
		r, err = p.Store.Apply(ctx, batches[0])
		receipts = []graph.Receipt{r}
	} else {
		receipts, err = p.Store.ApplyAll(ctx, batches)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: store: %w", name(in), err)
	}
	out := make([]Result, len(parsed))
	for i, pd := range parsed {
		out[i] = Result{Source: in.Source, Format: pd.Format, Document: pd.Batch.Doc, Receipt: receipts[i]}
		if p.Log != nil {
			p.Log.Info("ingested", "source", in.Source, "format", pd.Format, "document", receipts[i].Document,
				"status", receipts[i].Status, "duplicate", receipts[i].Duplicate,
				"nodesCreated", receipts[i].NodesCreated, "edgesCreated", receipts[i].EdgesCreated)
		}
	}
	return out, nil
}

func name(in Input) string {
	if in.Source != "" {
		return in.Source
	}
	return "document"
}

// IsBadInput reports whether err is the client's fault (malformed,
// unsupported, too large, invalid) rather than the server's: HTTP maps it to
// 4xx.
func IsBadInput(err error) bool {
	return errors.Is(err, ErrUnsupported) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrInvalidDocument) || errors.Is(err, graph.ErrInvalidBatch)
}

// ErrInvalidDocument is the root of every parse error the pipeline returns.
var ErrInvalidDocument = errors.New("invalid document")
