package intoto

import (
	"fmt"
	"github.com/modelgraph/modelgraph/ingest/docerr"
	"strings"
)

// Errors. Every error FromStatement and SplitJSONL return wraps
// ErrInvalidDocument; the narrower sentinels say which check failed.
var (
	// ErrInvalidDocument is the root of every error of this package.
	ErrInvalidDocument = docerr.Sentinel("invalid attestation", docerr.ErrMalformed)
	// ErrInvalidPredicate: the predicate is malformed (wrong type, bad
	// digest, unknown enum value, missing required field).
	ErrInvalidPredicate = fmt.Errorf("%w: invalid predicate", ErrInvalidDocument)
	// ErrSchema: a project predicate broke its JSON Schema.
	ErrSchema = fmt.Errorf("%w: schema violation", ErrInvalidPredicate)
	// ErrLimit: the input is larger, deeper or longer than the limits below.
	ErrLimit = docerr.Sentinel("invalid attestation: limit exceeded", ErrInvalidDocument, docerr.ErrTooLarge)
)

// Limits applied to every document.
const (
	// MaxPredicateBytes bounds the raw predicate.
	MaxPredicateBytes = 16 << 20
	// MaxDepth bounds JSON nesting inside a predicate.
	MaxDepth = 64
	// MaxInputs bounds materials / resolvedDependencies / parents / datasets.
	MaxInputs = 10_000
	// MaxParamBytes bounds the compact JSON kept for parameters and
	// hyperparameters; larger values are kept as a digest and a size.
	MaxParamBytes = 16 << 10
	// MaxJSONLLineBytes bounds one line of an .intoto.jsonl file.
	MaxJSONLLineBytes = 16 << 20
	// MaxJSONLLines bounds the documents in one .intoto.jsonl file.
	MaxJSONLLines = 10_000
)

// FieldError names the document and the field (a JSON pointer into the
// statement, e.g. "/predicate/materials/2/uri") that made it invalid, and
// wraps the sentinel (ErrInvalidPredicate, ErrSchema, ErrLimit...): the
// format packages' one located error, docerr.FieldError.
type FieldError = docerr.FieldError

// pointerEscape escapes one JSON pointer token (RFC 6901).
func pointerEscape(tok string) string {
	tok = strings.ReplaceAll(tok, "~", "~0")
	return strings.ReplaceAll(tok, "/", "~1")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
