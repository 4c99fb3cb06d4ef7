package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/docerr"
	"github.com/modelgraph/modelgraph/ingest/inflate"
)

// DefaultMaxBytes bounds one document unless the pipeline says otherwise.
const DefaultMaxBytes = docerr.MaxDocumentBytes

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
	// Warnings name what the document held that was left out (e.g.
	// CycloneDX components without a usable identity).
	Warnings []string `json:"warnings,omitempty"`
}

// Pipeline parses documents and writes them to a store.
type Pipeline struct {
	Store    graph.Writer
	Parser   *Parser
	Log      *slog.Logger
	MaxBytes int64 // DefaultMaxBytes when 0; bounds the document before and after decompression
	// MaxRatio bounds decompressed/compressed size (inflate.DefaultMaxRatio
	// when 0).
	MaxRatio int64
	// Budget, when set, bounds how many documents are parsed and written
	// at once (see Budget); nil: no bound.
	Budget *Budget
}

// ErrBusy: the ingest budget stayed full for its whole queue wait. HTTP
// answers 503 with Retry-After.
var ErrBusy = errors.New("server busy: too many documents being ingested")

// LargeDocument: a document that may occupy more than this once
// decompressed (inflate.Bound) is large for the ingest budget.
const LargeDocument = 1 << 20

// Budget is a concurrency budget for ingests: at most slots run at once,
// and large documents (that may occupy more than LargeDocument once
// decompressed: their cost is what they inflate to) at most half of them, so a stream of big SBOMs
// or bombs cannot starve small pushes. Others queue for at most Wait,
// then fail with ErrBusy.
type Budget struct {
	sem, large chan struct{}
	wait       time.Duration
}

// NewBudget returns a budget of slots concurrent ingests with a queue wait.
func NewBudget(slots int, wait time.Duration) *Budget {
	slots = max(slots, 1)
	return &Budget{sem: make(chan struct{}, slots), large: make(chan struct{}, max(slots/2, 1)), wait: wait}
}

// Wait is how long an ingest queues before ErrBusy.
func (b *Budget) Wait() time.Duration {
	if b == nil {
		return 0
	}
	return b.wait
}

type slotKey struct{}

// Acquire takes a slot for the caller's ingest (queueing up to Wait) and
// returns the context that says so, so Pipeline.Ingest under it does not
// take a second one, and the release. large says whether the document is
// large (see Budget). HTTP takes the slot before reading the body, so
// bodies waiting in the queue are not held in memory.
func (b *Budget) Acquire(ctx context.Context, large bool) (context.Context, func(), error) {
	release, err := b.acquire(ctx, large)
	if err != nil {
		return ctx, nil, err
	}
	return context.WithValue(ctx, slotKey{}, b), release, nil
}

func (b *Budget) acquire(ctx context.Context, large bool) (func(), error) {
	if b == nil || ctx.Value(slotKey{}) == b {
		return func() {}, nil
	}
	t := time.NewTimer(b.wait)
	defer t.Stop()
	take := func(ch chan struct{}) error {
		select {
		case ch <- struct{}{}:
			return nil
		default:
		}
		select {
		case ch <- struct{}{}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			what := "documents"
			if ch == b.large {
				what = "large or compressed documents (over 1 MiB once decompressed)"
			}
			return fmt.Errorf("%w: %d %s at once, the limit, for %s; retry later", ErrBusy, cap(ch), what, b.wait)
		}
	}
	if large {
		if err := take(b.large); err != nil {
			return nil, err
		}
	}
	if err := take(b.sem); err != nil {
		if large {
			<-b.large
		}
		return nil, err
	}
	return func() {
		<-b.sem
		if large {
			<-b.large
		}
	}, nil
}

// Large reports whether a document of n bytes (-1: unknown) compressed
// with codec ("" for none) is large for the budget.
func (p *Pipeline) Large(n int64, codec string) bool {
	l := Limits{MaxBytes: p.MaxBytes, MaxRatio: p.MaxRatio}.orDefault()
	return n < 0 || inflate.Bound(n, codec, inflate.Limits{MaxBytes: l.MaxBytes, MaxRatio: l.MaxRatio}) > LargeDocument
}

// Ingest runs in through the decode stage (Parser.ParseLimited) under the
// pipeline's limits and budget and applies every document it holds. A JSON
// Lines input is parsed whole first, so a malformed line rejects the input
// before any of it is written; its documents are then applied together
// (ApplyAll). Every error for bad input is a *docerr.Error.
func (p *Pipeline) Ingest(ctx context.Context, in Input) ([]Result, error) {
	parsed, err := p.Parse(ctx, in)
	if err != nil {
		return nil, err
	}
	return p.Apply(ctx, in, parsed)
}

// Parse is the parse half of Ingest (decode stage, budget slot): bulk
// ingest runs it on every core and Apply in group commits.
func (p *Pipeline) Parse(ctx context.Context, in Input) ([]Parsed, error) {
	l := Limits{MaxBytes: p.MaxBytes, MaxRatio: p.MaxRatio}.orDefault()
	if int64(len(in.Data)) > l.MaxBytes {
		return nil, docerr.Errorf(name(in), docerr.TooLarge, "%w: %d bytes, limit %d", docerr.ErrTooLarge, len(in.Data), l.MaxBytes)
	}
	release, err := p.Budget.acquire(ctx, p.Large(int64(len(in.Data)), inflate.Codec(in.Data)))
	if err != nil {
		return nil, err
	}
	defer release()
	return p.Parser.ParseLimited(ctx, in, l)
}

// Apply writes what Parse returned for in: one atomic write per document.
func (p *Pipeline) Apply(ctx context.Context, in Input, parsed []Parsed) ([]Result, error) {
	var err error
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
	if errors.Is(err, graph.ErrInvalidBatch) {
		return nil, bad(in, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: store: %w", name(in), err)
	}
	out := make([]Result, len(parsed))
	for i, pd := range parsed {
		out[i] = Result{Source: in.Source, Format: pd.Format, Document: pd.Batch.Doc, Receipt: receipts[i]}
		if n := docAttr(pd.Batch, "skippedComponents"); n != "" {
			out[i].Warnings = append(out[i].Warnings, "skipped "+n)
			if p.Log != nil {
				p.Log.Warn("document ingested with components left out", "source", in.Source, "document", receipts[i].Document, "skipped", n)
			}
		}
		if p.Log != nil {
			p.Log.Info("ingested", "source", in.Source, "format", pd.Format, "document", receipts[i].Document,
				"status", receipts[i].Status, "duplicate", receipts[i].Duplicate,
				"nodesCreated", receipts[i].NodesCreated, "edgesCreated", receipts[i].EdgesCreated)
		}
	}
	return out, nil
}

func docAttr(b *graph.Batch, name string) string {
	if len(b.Nodes) <= graph.DocNode {
		return ""
	}
	return b.Nodes[graph.DocNode].Attrs[name]
}

func name(in Input) string {
	if in.Source != "" {
		return in.Source
	}
	return "document"
}

// IsBadInput reports whether err is the client's fault (a document error:
// malformed, unsupported, too large, unverifiable, ambiguous or invalid)
// rather than the server's: HTTP maps it to 4xx (docerr.Status).
func IsBadInput(err error) bool {
	return errors.Is(err, docerr.ErrDocument) || errors.Is(err, graph.ErrInvalidBatch)
}

// ErrInvalidDocument is the root of every document error (docerr.ErrDocument).
var ErrInvalidDocument = docerr.ErrDocument
