// Package sbom turns SBOM and VEX documents (CycloneDX JSON/XML including
// ML-BOMs, SPDX 2.x JSON, OpenVEX, CSAF, CycloneDX VEX; bare, compressed,
// DSSE-wrapped or as in-toto predicates) into one graph.Batch per document.
//
// GUAC v1.1.0's per-format parsers do the package, dependency, occurrence and
// VEX extraction, so modelgraph agrees with GUAC on what an SBOM says; for
// CycloneDX the same predicates are computed from the BOM decoded once with
// cyclonedx-go (cdxguac.go: GUAC's parser decodes again and its dependency
// pass is quadratic; TestDirectMatchesGUAC holds them equal). What
// GUAC drops (machine-learning-model and data components, model cards,
// pedigree) is read with cyclonedx-go, and documents GUAC rejects although
// they are valid (licence forms it does not handle, SPDX packages without a
// name) fall back to a direct mapping that uses GUAC's own purl conventions.
// See docs/sbom.md.
package sbom

import (
	"context"
	"errors"
	"fmt"
	"github.com/modelgraph/modelgraph/ingest/docerr"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/inflate"
	"github.com/modelgraph/modelgraph/ingest/spdx3"
	"github.com/modelgraph/modelgraph/ingest/statement"
)

// Errors. Every error Parse returns for bad input wraps ErrInvalidDocument
// and names the document and the field.
var (
	ErrInvalidDocument = docerr.Sentinel("invalid SBOM/VEX document", docerr.ErrMalformed)
	// ErrUnsupported: the bytes are not a format this package reads.
	ErrUnsupported = docerr.Sentinel("invalid SBOM/VEX document: unsupported format", ErrInvalidDocument, docerr.ErrUnsupported)
	// ErrTooLarge: an input limit was exceeded.
	ErrTooLarge = docerr.Sentinel("invalid SBOM/VEX document: limit exceeded", ErrInvalidDocument, docerr.ErrTooLarge)
)

// Limits every input is checked against before it reaches a parser.
const (
	MaxDocumentBytes     = docerr.MaxDocumentBytes // raw input (the shared limit)
	MaxDecompressedBytes = docerr.MaxDocumentBytes // after gzip/bzip2/zstd (and at most inflate.DefaultMaxRatio x the input)
	MaxNesting           = 128                     // JSON/XML nesting depth
	MaxComponents        = 250_000                 // CycloneDX components (all levels) / SPDX packages+files
	MaxRelationships     = 2_000_000               // CycloneDX dependsOn entries / SPDX relationships
	MaxVulnerabilities   = 100_000
	MaxSubjects          = 64 // in-toto subjects an SBOM statement may describe
)

// The limits in force; tests lower them.
var (
	maxDocumentBytes     = MaxDocumentBytes
	maxDecompressedBytes = MaxDecompressedBytes
	maxNesting           = MaxNesting
	maxComponents        = MaxComponents
	maxRelationships     = MaxRelationships
	maxVulnerabilities   = MaxVulnerabilities
	maxSubjects          = MaxSubjects
)

// Document types set on graph.Document.Type.
const (
	TypeCycloneDX    = "cyclonedx"
	TypeCycloneDXVEX = "cyclonedx-vex"
	TypeSPDX         = "spdx"
	TypeOpenVEX      = "openvex"
	TypeCSAF         = "csaf"
)

// SBOM roles recorded as "sbomRole" on the DESCRIBES edge.
const (
	RoleServingImage        = "serving-image"
	RoleTrainingEnvironment = "training-environment"
)

// Options say what the caller knows that the document may not.
type Options struct {
	// Subject is the key of what the SBOM describes ("sha256:<hex>", or a
	// purl), e.g. the serving image digest. It is merged with what the
	// document's own metadata names. Ignored by FromStatement, whose
	// statement subjects are authoritative.
	Subject string
	// Role is "serving-image", "training-environment" or "".
	Role string
}

func (o Options) check() error {
	switch o.Role {
	case "", RoleServingImage, RoleTrainingEnvironment:
	default:
		return fmt.Errorf("%w: role %q is not %q, %q or empty", ErrInvalidDocument, o.Role, RoleServingImage, RoleTrainingEnvironment)
	}
	if o.Subject == "" {
		return nil
	}
	k, err := graph.NormalizeKey(o.Subject)
	if err != nil {
		return fmt.Errorf("%w: subject: %w", ErrInvalidDocument, err)
	}
	if !graph.IsDigestKey(k) && !strings.HasPrefix(k, "pkg:") {
		return fmt.Errorf("%w: subject %q is neither a digest (sha256:<hex>) nor a purl", ErrInvalidDocument, o.Subject)
	}
	return nil
}

// Parse reads one SBOM or VEX document and returns its batch. doc.Digest
// defaults to the sha256 of data, doc.Type is set to the detected type. A
// DSSE envelope is unwrapped (its signatures are recorded as unverifiable
// when doc carries none: this path does not verify them) and its in-toto
// statement handled as by FromStatement.
func Parse(ctx context.Context, data []byte, doc graph.Document, opts Options) (*graph.Batch, error) {
	if doc.Digest == "" {
		doc.Digest = graph.SHA256Key(data)
	}
	if doc.Size == 0 {
		doc.Size = int64(len(data))
	}
	name := docName(doc)
	if err := opts.check(); err != nil {
		return nil, fmt.Errorf("document %s: %w", name, err)
	}
	raw, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("document %s: %w", name, err)
	}
	b, err := parseSniffed(ctx, raw, sniffForParse(raw), doc, name, opts)
	if errors.Is(err, errResniff) {
		// The fast XML scan's document did not decode: sniffXML's verdict,
		// as before the fast scan.
		b, err = parseSniffed(ctx, raw, sniff(raw), doc, name, opts)
	}
	return b, err
}

// errResniff: the document was scanned by scanXML and failed to decode;
// Parse scans it again with sniffXML and starts over.
var errResniff = errors.New("scan the document again with sniffXML")

func parseSniffed(ctx context.Context, raw []byte, s sniffed, doc graph.Document, name string, opts Options) (*graph.Batch, error) {
	if s.tooDeep {
		return nil, fmt.Errorf("%w: document %s: %s (%d levels)", ErrTooLarge, name, s.why, maxNesting)
	}
	if s.items > maxComponents {
		return nil, fmt.Errorf("%w: document %s: %s: more than %d entries, the limit (counted before decoding)", ErrTooLarge, name, s.itemsField(), maxComponents)
	}
	switch s.kind {
	case kindDSSE:
		st, sigs, err := unwrapDSSE(raw)
		if err != nil {
			return nil, fmt.Errorf("document %s: %w", name, err)
		}
		if len(doc.Signatures) == 0 {
			doc.Signatures = sigs
		}
		return FromStatement(ctx, st, doc, opts)
	case kindStatement:
		st, err := statement.Decode(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: document %s: %w", ErrInvalidDocument, name, err)
		}
		return FromStatement(ctx, st, doc, opts)
	case kindUnknown:
		return nil, fmt.Errorf("%w: document %s: %s", ErrUnsupported, name, s.why)
	}
	var subjects []subject
	if opts.Subject != "" {
		k, _ := graph.NormalizeKey(opts.Subject)
		subjects = append(subjects, subject{keys: []string{k}})
	}
	return parse(ctx, raw, s, doc, opts.Role, subjects)
}

// FromStatement reads an SBOM or VEX carried as an in-toto predicate
// (https://cyclonedx.org/bom, https://spdx.dev/Document, OpenVEX). The
// statement's subjects are what the SBOM describes.
func FromStatement(ctx context.Context, st *statement.Statement, doc graph.Document, opts Options) (*graph.Batch, error) {
	if st == nil {
		return nil, fmt.Errorf("%w: document %s: statement is nil", ErrInvalidDocument, docName(doc))
	}
	if doc.Digest == "" {
		return nil, fmt.Errorf("%w: document %s: digest is empty (the digest of the statement or envelope received)", ErrInvalidDocument, docName(doc))
	}
	if doc.PredicateType == "" {
		doc.PredicateType = st.PredicateType
	}
	name := docName(doc)
	if err := opts.check(); err != nil {
		return nil, fmt.Errorf("document %s: %w", name, err)
	}
	if len(st.Subject) > maxSubjects {
		return nil, fmt.Errorf("%w: document %s: subject has %d entries, limit %d for an SBOM statement", ErrTooLarge, name, len(st.Subject), maxSubjects)
	}
	raw, err := predicateBytes(st.Predicate)
	if err != nil {
		return nil, fmt.Errorf("%w: document %s: predicate: %w", ErrInvalidDocument, name, err)
	}
	if strings.HasPrefix(st.PredicateType, "https://spdx.dev/Document") && spdx3.Detect(raw) {
		// An SPDX 3 (JSON-LD) document as the predicate: ingest/spdx3 reads
		// it, with the statement's subjects.
		var subjects [][]string
		for i, sub := range st.Subject {
			keys, err := sub.Keys()
			if err != nil {
				return nil, fmt.Errorf("%w: document %s: subject[%d].digest: %w", ErrInvalidDocument, name, i, err)
			}
			subjects = append(subjects, keys)
		}
		return spdx3.ParseWithSubjects(raw, doc, subjects)
	}
	s := sniff(raw)
	if s.tooDeep {
		return nil, fmt.Errorf("%w: document %s: predicate: %s (%d levels)", ErrTooLarge, name, s.why, maxNesting)
	}
	if s.items > maxComponents {
		return nil, fmt.Errorf("%w: document %s: predicate: %s: more than %d entries, the limit (counted before decoding)", ErrTooLarge, name, s.itemsField(), maxComponents)
	}
	want := predicateKind(st.PredicateType)
	switch {
	case want == kindUnknown:
		return nil, fmt.Errorf("%w: document %s: predicateType %q is not an SBOM or VEX type", ErrUnsupported, name, st.PredicateType)
	case s.kind != want:
		return nil, fmt.Errorf("%w: document %s: predicateType %q but the predicate is %s", ErrInvalidDocument, name, st.PredicateType, s.kind.describe(s.why))
	}
	subjects := make([]subject, 0, len(st.Subject))
	for i, sub := range st.Subject {
		keys, err := sub.Keys()
		if err != nil {
			return nil, fmt.Errorf("%w: document %s: subject[%d].digest: %w", ErrInvalidDocument, name, i, err)
		}
		subjects = append(subjects, subject{keys: keys, name: sub.Name})
	}
	return parse(ctx, raw, s, doc, opts.Role, subjects)
}

// CheckCounts scans raw (a decompressed document, bare or the payload of
// nothing) once, byte by byte, and returns an ErrTooLarge naming the
// limit when it holds more CycloneDX components or SPDX packages+files
// than the limit, or nests deeper than allowed; nil otherwise, including
// for documents that are not SBOMs. The pipeline calls it before any
// decoder sees a large document, so an SBOM over the limit costs one scan.
func CheckCounts(raw []byte) error {
	s := sniff(raw)
	if s.items > maxComponents {
		return fmt.Errorf("%w: %s: more than %d entries, the limit (counted before decoding)", ErrTooLarge, s.itemsField(), maxComponents)
	}
	return nil
}

// Detect reports which document family data claims to be (after bzip2/zstd
// decompression and DSSE/in-toto unwrapping): "cyclonedx", "cyclonedx-vex",
// "spdx", "openvex" or "csaf". It does not validate: a document Detect
// accepts may still fail Parse with a reason.
func Detect(data []byte) (format string, ok bool) {
	raw, err := decode(data)
	if err != nil {
		return "", false
	}
	s := sniff(raw)
	switch s.kind {
	case kindDSSE:
		st, _, err := unwrapDSSE(raw)
		if err != nil {
			return "", false
		}
		return detectStatement(st)
	case kindStatement:
		st, err := statement.Decode(raw)
		if err != nil {
			return "", false
		}
		return detectStatement(st)
	case kindUnknown:
		return "", false
	}
	return s.docType(), true
}

func detectStatement(st *statement.Statement) (string, bool) {
	want := predicateKind(st.PredicateType)
	if want == kindUnknown {
		return "", false
	}
	raw, err := predicateBytes(st.Predicate)
	if err != nil {
		return "", false
	}
	s := sniff(raw)
	if s.kind != want {
		return "", false
	}
	return s.docType(), true
}

// subject is something the caller or a statement says the document
// describes.
type subject struct {
	keys []string
	name string
}

func parse(ctx context.Context, raw []byte, s sniffed, doc graph.Document, role string, subjects []subject) (*graph.Batch, error) {
	doc.Type = s.docType()
	p := &parser{doc: doc, name: docName(doc), role: role, raw: raw, sniffed: s}
	var err error
	switch s.kind {
	case kindCycloneDX:
		err = p.cyclonedx(ctx, subjects)
	case kindSPDX:
		err = p.spdx(ctx, subjects)
	case kindOpenVEX, kindCSAF:
		err = p.vex(ctx, subjects)
	default:
		err = p.fail("", "%s", s.kind.describe(s.why))
	}
	if err != nil {
		return nil, err
	}
	if err := p.x.b.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	return p.x.b, nil
}

// parser carries one document through parsing.
type parser struct {
	doc     graph.Document
	name    string
	role    string
	raw     []byte
	sniffed sniffed
	x       *builder
}

// fail builds an error naming the document and the field.
func (p *parser) fail(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	return fmt.Errorf("%w: document %s: %s", ErrInvalidDocument, p.name, msg)
}

func (p *parser) tooLarge(field string, n, limit int) error {
	return fmt.Errorf("%w: document %s: %s: %d entries, limit %d", ErrTooLarge, p.name, field, n, limit)
}

func docName(d graph.Document) string {
	switch {
	case d.Source != "" && d.Digest != "":
		return fmt.Sprintf("%s (%s)", d.Source, d.Digest)
	case d.Source != "":
		return d.Source
	}
	return d.Digest
}

// decode enforces the size limits and undoes gzip/bzip2/zstd compression
// (GUAC's collectors accept bzip2 and zstd), once and streaming, under the
// decompressed-size and ratio caps of ingest/inflate. Through the ingest
// pipeline the bytes arrive already decompressed.
func decode(data []byte) ([]byte, error) {
	if len(data) > maxDocumentBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), maxDocumentBytes)
	}
	out, err := inflate.Decode(data, inflate.Limits{MaxBytes: int64(maxDecompressedBytes)})
	switch {
	case errors.Is(err, inflate.ErrTooLarge):
		return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
	case err != nil:
		return nil, fmt.Errorf("%w: decompress: %w", ErrInvalidDocument, err)
	}
	return out, nil
}
