// Package docerr is the one error model for documents: every error a
// format package or the ingest pipeline returns for bad input is rooted at
// ErrDocument, carries a Kind (malformed, unsupported, too large,
// unverifiable, ambiguous, invalid) and, once the pipeline has wrapped it,
// is an *Error naming the document, the field path and the line where
// known. HTTP maps the kind to a status (Status); the CLI prints the same
// fields. It also holds the limits every path shares (limits.go).
//
// Format packages keep their own sentinels (intoto.ErrInvalidDocument,
// sbom.ErrTooLarge, ...) for precise tests, but each is made with
// Sentinel, so it wraps this package's root and a kind: there is no Is
// override anywhere.
package docerr

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Kind says what is wrong with a document.
type Kind string

const (
	Malformed    Kind = "malformed"    // not well-formed, or a field is wrong (400)
	Unsupported  Kind = "unsupported"  // a format modelgraph does not read (415)
	TooLarge     Kind = "too_large"    // a size, decompression, count or depth limit (413)
	Unverifiable Kind = "unverifiable" // signatures that cannot be checked where a check is required (422)
	Ambiguous    Kind = "ambiguous"    // JSON that readers could read differently (duplicate keys, ...) (400)
	Invalid      Kind = "invalid"      // well-formed, but its claims break the graph's rules (422)
)

// ErrDocument is the root of every document error.
var ErrDocument = errors.New("invalid document")

// One sentinel per kind, each wrapping ErrDocument.
var (
	ErrMalformed    = Sentinel("malformed document", ErrDocument)
	ErrUnsupported  = Sentinel("unsupported document format", ErrDocument)
	ErrTooLarge     = Sentinel("document too large", ErrDocument)
	ErrUnverifiable = Sentinel("document cannot be verified", ErrDocument)
	ErrAmbiguous    = Sentinel("ambiguous document", ErrDocument)
	ErrInvalid      = Sentinel("document breaks the graph's rules", ErrDocument)
)

// kinds in the order KindOf tries them: the most specific first.
var kinds = []struct {
	k   Kind
	err error
}{
	{TooLarge, ErrTooLarge}, {Unsupported, ErrUnsupported}, {Unverifiable, ErrUnverifiable},
	{Ambiguous, ErrAmbiguous}, {Invalid, ErrInvalid}, {Malformed, ErrMalformed},
}

type sentinel struct {
	msg     string
	parents []error
}

func (s *sentinel) Error() string   { return s.msg }
func (s *sentinel) Unwrap() []error { return s.parents }

// Sentinel returns a package-level error with message msg that wraps each
// of parents (a kind sentinel, or another package sentinel), so
// errors.Is(err, ErrDocument) and KindOf hold for everything built on it.
func Sentinel(msg string, parents ...error) error {
	return &sentinel{msg: msg, parents: parents}
}

// KindOf is the kind of err: "" when err is not a document error, and
// Malformed for a document error of no more specific kind.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) && e.Kind != "" {
		return e.Kind
	}
	if !errors.Is(err, ErrDocument) {
		return ""
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.k
		}
	}
	return Malformed
}

// Status is the HTTP status for a kind: 413 too large, 415 unsupported,
// 422 unverifiable or invalid, 400 otherwise.
func Status(k Kind) int {
	switch k {
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case Unsupported:
		return http.StatusUnsupportedMediaType
	case Unverifiable, Invalid:
		return http.StatusUnprocessableEntity
	}
	return http.StatusBadRequest
}

// Located is implemented by format packages' errors that know where in
// the document the problem is (FieldError, strictjson.Error): Wrap copies
// it into the Error.
type Located interface {
	Location() (field string, line int)
}

// FieldError is a format package's error at one place of a document: the
// document, the field (a JSON pointer such as "/predicate/materials/2/uri",
// or a YAML path such as "base_model[1]"), the line when known, what is
// wrong, and the package's sentinel, which decides the kind. It is the
// one located error of the format packages (intoto.FieldError and
// modelcard.FieldError are this type).
type FieldError struct {
	Doc   string // document source or digest
	Field string // JSON pointer or YAML path; "" when unknown
	Line  int    // 1-based line in the file; 0 when unknown
	Msg   string
	Err   error // the format package's sentinel
}

// Error reads "<sentinel>: document <doc>: line <n>: <field>: <msg>",
// leaving out the parts not known.
func (e *FieldError) Error() string {
	var sb strings.Builder
	sb.WriteString(e.Err.Error())
	if e.Doc != "" {
		sb.WriteString(": document ")
		sb.WriteString(e.Doc)
	}
	if e.Line > 0 {
		fmt.Fprintf(&sb, ": line %d", e.Line)
	}
	if e.Field != "" {
		sb.WriteString(": ")
		sb.WriteString(e.Field)
	}
	sb.WriteString(": ")
	sb.WriteString(e.Msg)
	return sb.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

// Location is where in the document the error is (Located).
func (e *FieldError) Location() (string, int) { return e.Field, e.Line }

// Error is a document error as the pipeline returns it.
type Error struct {
	Document string // source (file, URL, "push") or digest
	Field    string // JSON pointer or YAML path; "" when unknown
	Line     int    // 1-based; 0 when unknown
	Kind     Kind
	Err      error // the format package's error chain
}

func (e *Error) Error() string {
	msg := e.Err.Error()
	if e.Document == "" || strings.Contains(msg, e.Document) {
		return msg
	}
	return e.Document + ": " + msg
}

// Unwrap gives the format package's chain and the kind's sentinel, so
// errors.Is(err, ErrTooLarge) holds for a too-large Error whatever its
// chain says.
func (e *Error) Unwrap() []error {
	for _, k := range kinds {
		if k.k == e.Kind {
			return []error{e.Err, k.err}
		}
	}
	return []error{e.Err, ErrDocument}
}

// Wrap makes err an *Error for document (kind from its chain, Malformed
// when the chain names none; field and line from a Located error in it).
// An *Error already in the chain is kept, with document filled in when it
// had none.
func Wrap(document string, err error) *Error {
	return WrapKind(document, "", err)
}

// WrapKind is Wrap with the kind decided by the caller ("" = from err).
func WrapKind(document string, k Kind, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.Document == "" {
			e.Document = document
		}
		if k != "" {
			e.Kind = k
		}
		return e
	}
	if k == "" {
		if k = KindOf(err); k == "" {
			k = Malformed
		}
	}
	e = &Error{Document: document, Kind: k, Err: err}
	var l Located
	if errors.As(err, &l) {
		e.Field, e.Line = l.Location()
	}
	return e
}

// Errorf is a new *Error of kind k for document.
func Errorf(document string, k Kind, format string, args ...any) *Error {
	return WrapKind(document, k, fmt.Errorf(format, args...))
}
