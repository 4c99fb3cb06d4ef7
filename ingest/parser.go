package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/intoto"
	"github.com/modelgraph/modelgraph/ingest/modelcard"
	"github.com/modelgraph/modelgraph/ingest/sbom"
	"github.com/modelgraph/modelgraph/ingest/scorecard"
	"github.com/modelgraph/modelgraph/ingest/spdx3"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// MaxJSONLines bounds the documents one JSON Lines input may hold.
const MaxJSONLines = 10_000

// Parsed is one document turned into its batch.
type Parsed struct {
	Format Format
	Batch  *graph.Batch
}

// Parser turns raw documents into batches. It holds what parsing needs: the
// trust policy signatures are verified against (nil trusts nothing, so every
// signature is recorded as unverifiable).
type Parser struct {
	Trust *trust.Policy
}

// NewParser returns a parser verifying against pol.
func NewParser(pol *trust.Policy) *Parser { return &Parser{Trust: pol} }

// docError marks a parse failure as the document's fault (so HTTP answers
// 4xx) while keeping the format package's own error chain.
type docError struct {
	source string
	err    error
}

func (e *docError) Error() string { return e.source + ": " + e.err.Error() }
func (e *docError) Unwrap() error { return e.err }
func (e *docError) Is(target error) bool {
	return target == ErrInvalidDocument
}

func bad(in Input, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &docError{source: name(in), err: err}
}

// Parse detects the document's format and parses it into one batch per
// document (several for JSON Lines). Nothing is written.
func (p *Parser) Parse(ctx context.Context, in Input) ([]Parsed, error) {
	f, err := Detect(in.Data, in.ContentType)
	if err != nil {
		// Compressed or wrapped SBOMs: GUAC's processing knows them.
		if _, ok := sbom.Detect(in.Data); ok {
			f, err = FormatCycloneDX, nil
		} else {
			return nil, &docError{source: name(in), err: err}
		}
	}
	if f == FormatJSONLines {
		lines, err := intoto.SplitJSONL(in.Data)
		if err != nil {
			return nil, bad(in, err)
		}
		if len(lines) > MaxJSONLines {
			return nil, bad(in, fmt.Errorf("%w: %d documents, limit %d", ErrTooLarge, len(lines), MaxJSONLines))
		}
		var out []Parsed
		for i, line := range lines {
			sub := in
			sub.Data = line
			sub.Source = fmt.Sprintf("%s#line%d", name(in), i+1)
			sub.ContentType = ""
			ps, err := p.one(ctx, sub, "")
			if err != nil {
				return nil, err
			}
			out = append(out, ps)
		}
		return out, nil
	}
	ps, err := p.one(ctx, in, f)
	if err != nil {
		return nil, err
	}
	return []Parsed{ps}, nil
}

func (p *Parser) one(ctx context.Context, in Input, f Format) (Parsed, error) {
	if f == "" {
		var err error
		if f, err = Detect(in.Data, ""); err != nil {
			return Parsed{}, &docError{source: name(in), err: err}
		}
		if f == FormatJSONLines {
			return Parsed{}, bad(in, fmt.Errorf("%w: nested JSON Lines", ErrUnsupported))
		}
	}
	// Unsigned formats are identified by their bytes; signed() replaces the
	// digest with the envelope's identity of what was signed.
	doc := graph.Document{Digest: graph.SHA256Key(in.Data), Source: in.Source, Size: int64(len(in.Data))}
	var (
		b   *graph.Batch
		err error
	)
	switch f {
	case FormatSigstoreBundle, FormatDSSE, FormatStatement:
		return p.signed(ctx, in, doc, f)
	case FormatCycloneDX, FormatSPDX, FormatOpenVEX, FormatCSAF:
		b, err = sbom.Parse(ctx, in.Data, doc, sbom.Options{Subject: in.Subject, Role: in.Role})
	case FormatSPDX3:
		b, err = spdx3.Parse(in.Data, doc)
	case FormatModelCard:
		b, err = modelcard.Parse(in.Data, doc, modelcard.Options{Name: in.Subject})
	case FormatScorecard:
		b, err = scorecard.Parse(in.Data, doc)
	default:
		err = fmt.Errorf("%w: %s", ErrUnsupported, f)
	}
	if err != nil {
		return Parsed{}, bad(in, err)
	}
	if b.Doc.Role == "" {
		b.Doc.Role = graph.RoleOfType(b.Doc.Type)
	}
	return Parsed{Format: f, Batch: b}, nil
}

// Predicate types handed to the SBOM parser when wrapped in a statement.
func isSBOMPredicate(pt string) bool {
	for _, p := range []string{"https://cyclonedx.org/bom", "https://cyclonedx.org/vex", "https://spdx.dev/Document", "https://openvex.dev/ns"} {
		if strings.HasPrefix(pt, p) {
			return true
		}
	}
	return false
}

// signed opens an envelope (verifying its signatures against the trust
// policy) and parses the statement inside by predicate type.
func (p *Parser) signed(ctx context.Context, in Input, doc graph.Document, f Format) (Parsed, error) {
	o, err := envelope.Open(ctx, in.Data, p.Trust)
	if err != nil {
		return Parsed{}, bad(in, err)
	}
	// The envelope stage decides the document's identity: what was signed
	// and by whom, not the bytes it arrived as (envelope.Opened.DocumentDigest).
	doc.Digest = o.DocumentDigest()
	doc.Signatures = o.Signatures
	doc.Role = o.Role()
	if o.Statement == nil && o.MessageDigest != "" {
		// A message signature (cosign v3's default for images, sigstore
		// blob signing) vouches for an artifact digest: record who signed it.
		doc.Type = "sigstore-message-signature"
		b := graph.NewBatch(doc)
		a := b.Node(graph.KindFile, o.MessageDigest)
		b.Describes(a)
		if err := b.Validate(); err != nil {
			return Parsed{}, bad(in, err)
		}
		return Parsed{Format: f, Batch: b}, nil
	}
	if o.Statement == nil {
		return Parsed{}, bad(in, fmt.Errorf("%w: the signed payload (%s) is not an in-toto statement", ErrUnsupported, o.PayloadType))
	}
	st := o.Statement
	doc.PredicateType = st.PredicateType
	var b *graph.Batch
	switch pt := st.PredicateType; {
	case isOMSPredicate(pt):
		b, err = omsBatch(o, doc, in.Subject)
	case isSBOMPredicate(pt):
		b, err = sbom.FromStatement(ctx, st, doc, sbom.Options{Subject: in.Subject, Role: in.Role})
	case pt == scorecard.PredicateType:
		b, err = scorecard.FromStatement(st, doc)
	default:
		b, err = intoto.FromStatement(st, doc)
	}
	if err != nil {
		return Parsed{}, bad(in, err)
	}
	return Parsed{Format: f, Batch: b}, nil
}

// Digests returns the identity (graph.Document.Digest) each document in in
// would be recorded under by this parser, without writing anything. For a
// signed document it depends on which signatures verify, so on the parser's
// trust policy (envelope.Opened.DocumentDigest).
func (p *Parser) Digests(ctx context.Context, in Input) ([]string, error) {
	ps, err := p.Parse(ctx, in)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ps))
	for i, pd := range ps {
		out[i] = pd.Batch.Doc.Digest
	}
	return out, nil
}
