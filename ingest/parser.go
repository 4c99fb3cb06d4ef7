package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/advisory"
	"github.com/modelgraph/modelgraph/ingest/docerr"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/inflate"
	"github.com/modelgraph/modelgraph/ingest/intoto"
	"github.com/modelgraph/modelgraph/ingest/modelcard"
	"github.com/modelgraph/modelgraph/ingest/sbom"
	"github.com/modelgraph/modelgraph/ingest/scorecard"
	"github.com/modelgraph/modelgraph/ingest/spdx3"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// MaxJSONLines bounds the documents one JSON Lines input may hold.
const MaxJSONLines = docerr.MaxJSONLines

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

// Decoded is one document after the decode stage: decompressed, its format
// detected (once), and for signed formats its envelope opened and its
// signatures verified (once). Every format parser takes it.
type Decoded struct {
	Input                   // Data is the decompressed document
	Format Format           // what Detect said
	Doc    graph.Document   // identity and signatures; signed formats: set by the envelope
	Opened *envelope.Opened // signed formats only
}

// FormatParser turns a decoded document into its batch. Every format has
// one (formatParsers); none decompresses, detects or verifies again.
type FormatParser func(ctx context.Context, d *Decoded) (*graph.Batch, error)

var formatParsers map[Format]FormatParser

func init() {
	sbomParser := func(ctx context.Context, d *Decoded) (*graph.Batch, error) {
		return sbom.Parse(ctx, d.Data, d.Doc, sbom.Options{Subject: d.Subject, Role: d.Role})
	}
	formatParsers = map[Format]FormatParser{
		FormatCycloneDX: sbomParser,
		FormatSPDX:      sbomParser,
		FormatOpenVEX:   sbomParser,
		FormatCSAF:      sbomParser,
		FormatSPDX3: func(_ context.Context, d *Decoded) (*graph.Batch, error) {
			return spdx3.Parse(d.Data, d.Doc)
		},
		FormatModelCard: func(_ context.Context, d *Decoded) (*graph.Batch, error) {
			return modelcard.Parse(d.Data, d.Doc, modelcard.Options{Name: d.Subject})
		},
		FormatScorecard: func(_ context.Context, d *Decoded) (*graph.Batch, error) {
			return scorecard.Parse(d.Data, d.Doc)
		},
		FormatAdvisory: func(_ context.Context, d *Decoded) (*graph.Batch, error) {
			return advisory.Parse(d.Data, d.Doc)
		},
		FormatSigstoreBundle: signedParser,
		FormatDSSE:           signedParser,
		FormatStatement:      signedParser,
	}
}

// Limits bound the decode stage.
type Limits struct {
	MaxBytes int64 // before and after decompression; docerr.MaxDocumentBytes when 0
	MaxRatio int64 // decompressed/compressed; inflate.DefaultMaxRatio when 0
}

func (l Limits) orDefault() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = docerr.MaxDocumentBytes
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = docerr.MaxRatio
	}
	return l
}

// bad makes err the document's error (*docerr.Error naming in's source),
// leaving cancellations alone. A graph rule broken by the batch is
// docerr.Invalid (422).
func bad(in Input, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, graph.ErrInvalidBatch) {
		return docerr.WrapKind(name(in), docerr.Invalid, err)
	}
	return docerr.Wrap(name(in), err)
}

// Parse runs the decode stage with the default limits and parses the
// document into one batch per document it holds (several for JSON Lines).
// Nothing is written.
func (p *Parser) Parse(ctx context.Context, in Input) ([]Parsed, error) {
	return p.ParseLimited(ctx, in, Limits{})
}

// ParseLimited is Parse under l. The decode stage, the same for every
// path (CLI, HTTP push, GraphQL, collectors): size limit -> decompress
// (gzip, bzip2, zstd; size and ratio caps) -> detect (once) -> open the envelope and verify (once, signed formats) ->
// the format's parser. Every error is a *docerr.Error.
func (p *Parser) ParseLimited(ctx context.Context, in Input, l Limits) ([]Parsed, error) {
	l = l.orDefault()
	if int64(len(in.Data)) > l.MaxBytes {
		return nil, docerr.Errorf(name(in), docerr.TooLarge, "%w: %d bytes, limit %d", docerr.ErrTooLarge, len(in.Data), l.MaxBytes)
	}
	data, err := inflate.Decode(in.Data, inflate.Limits{MaxBytes: l.MaxBytes, MaxRatio: l.MaxRatio})
	if err != nil {
		return nil, bad(in, err)
	}
	in.Data = data
	// No separate count scan: Detect streams over the document without
	// decoding it, and the SBOM parser counts components in its first scan
	// of the bytes, before any decoder reads it whole (sbom.Parse,
	// sbom.FromStatement).
	f, err := Detect(in.Data, in.ContentType)
	if err != nil {
		return nil, bad(in, err)
	}
	if f != FormatJSONLines {
		ps, err := p.one(ctx, in, f)
		if err != nil {
			return nil, err
		}
		return []Parsed{ps}, nil
	}
	lines, err := intoto.SplitJSONL(in.Data)
	if err != nil {
		return nil, bad(in, err)
	}
	if len(lines) > MaxJSONLines {
		return nil, bad(in, fmt.Errorf("%w: %d documents, limit %d", docerr.ErrTooLarge, len(lines), MaxJSONLines))
	}
	out := make([]Parsed, 0, len(lines))
	for i, line := range lines {
		sub := in
		sub.Data = line
		sub.Source = fmt.Sprintf("%s#line%d", name(in), i+1)
		sub.ContentType = ""
		lf, err := Detect(line, "")
		if err != nil {
			return nil, bad(sub, err)
		}
		if lf == FormatJSONLines {
			return nil, bad(sub, fmt.Errorf("%w: nested JSON Lines", docerr.ErrUnsupported))
		}
		ps, err := p.one(ctx, sub, lf)
		if err != nil {
			return nil, err
		}
		out = append(out, ps)
	}
	return out, nil
}

// one opens and verifies a signed document's envelope, then hands the
// decoded document to its format's parser.
func (p *Parser) one(ctx context.Context, in Input, f Format) (Parsed, error) {
	parse := formatParsers[f]
	if parse == nil {
		return Parsed{}, bad(in, fmt.Errorf("%w: %s", docerr.ErrUnsupported, f))
	}
	// Unsigned formats are identified by their bytes; a signed one by the
	// envelope's identity of what was signed (envelope.Opened.DocumentDigest).
	d := &Decoded{Input: in, Format: f, Doc: graph.Document{Digest: graph.SHA256Key(in.Data), Source: in.Source, Size: int64(len(in.Data))}}
	if isSigned(f) {
		o, err := envelope.Open(ctx, in.Data, p.Trust)
		if err != nil {
			return Parsed{}, bad(in, err)
		}
		d.Opened = o
		d.Doc.Digest = o.DocumentDigest()
		d.Doc.Signatures = o.Signatures
		d.Doc.Role = o.Role()
	}
	b, err := parse(ctx, d)
	if err != nil {
		return Parsed{}, bad(in, err)
	}
	if b.Doc.Role == "" {
		b.Doc.Role = graph.RoleOfType(b.Doc.Type)
	}
	return Parsed{Format: f, Batch: b}, nil
}

func isSigned(f Format) bool {
	return f == FormatSigstoreBundle || f == FormatDSSE || f == FormatStatement
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

// signedParser parses what an opened envelope holds, by predicate type: a
// message signature, an OMS signature, an SBOM/VEX statement or another
// in-toto attestation. The envelope was opened and verified before.
func signedParser(ctx context.Context, d *Decoded) (*graph.Batch, error) {
	o, doc := d.Opened, d.Doc
	if o.Statement == nil && o.MessageDigest != "" {
		// A message signature (cosign v3's default for images, sigstore
		// blob signing) vouches for an artifact digest: record who signed it.
		doc.Type = "sigstore-message-signature"
		b := graph.NewBatch(doc)
		a := b.Node(graph.KindFile, o.MessageDigest)
		b.Describes(a)
		if err := b.Validate(); err != nil {
			return nil, err
		}
		return b, nil
	}
	if o.Statement == nil {
		return nil, fmt.Errorf("%w: the signed payload (%s) is not an in-toto statement", docerr.ErrUnsupported, o.PayloadType)
	}
	st := o.Statement
	doc.PredicateType = st.PredicateType
	switch pt := st.PredicateType; {
	case isOMSPredicate(pt):
		return omsBatch(o, doc, d.Subject)
	case isSBOMPredicate(pt):
		return sbom.FromStatement(ctx, st, doc, sbom.Options{Subject: d.Subject, Role: d.Role})
	case pt == scorecard.PredicateType:
		return scorecard.FromStatement(st, doc)
	}
	return intoto.FromStatement(st, doc)
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
