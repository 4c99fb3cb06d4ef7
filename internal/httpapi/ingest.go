package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/docerr"
	"github.com/modelgraph/modelgraph/ingest/inflate"
)

// MaxSourceLen bounds the source query parameter.
const MaxSourceLen = 1024

// genericTypes are content types that say nothing about the format: the
// body is sniffed instead (curl sends form encoding by default).
var genericTypes = map[string]bool{
	"": true, "application/json": true, "application/octet-stream": true, "text/plain": true,
	"application/x-www-form-urlencoded": true, "application/x-ndjson": true, "application/jsonl": true,
}

// ingest is POST /v1/ingest: the raw document is the body. Query
// parameters: source (a name recorded as evidence; default "push"),
// subject (the digest or purl an SBOM describes), role (serving-image or
// training-environment). It answers 201 with the receipt when something
// new was recorded, 200 when every document was already stored, and a
// JSON error otherwise; on error nothing was written.
func (s *server) ingest(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	source := strings.TrimSpace(q.Get("source"))
	if len(source) > MaxSourceLen || strings.ContainsAny(source, "\x00\n\r") {
		s.reject(w, http.StatusBadRequest, apiError{Code: "invalid_parameter", Field: "source", Message: fmt.Sprintf("source must be one line of at most %d bytes", MaxSourceLen)})
		return
	}
	if source == "" {
		source = "push"
	}
	subject := strings.TrimSpace(q.Get("subject"))
	if subject != "" {
		k, err := graph.NormalizeKey(subject)
		if err != nil || !(graph.IsDigestKey(k) || strings.HasPrefix(k, "pkg:")) {
			s.reject(w, http.StatusBadRequest, apiError{Code: "invalid_parameter", Field: "subject", Message: fmt.Sprintf("subject %q is neither a digest (sha256:<hex>) nor a purl", clip(subject))})
			return
		}
		subject = k
	}
	role := strings.TrimSpace(q.Get("role"))
	if role != "" && role != "serving-image" && role != "training-environment" {
		s.reject(w, http.StatusBadRequest, apiError{Code: "invalid_parameter", Field: "role", Message: fmt.Sprintf("role %q is not serving-image or training-environment", clip(role))})
		return
	}
	if c, _ := CallerFrom(r.Context()); c.Name != "" {
		source += " (pushed by " + c.Name + ")"
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		ct = mt
	}
	if genericTypes[ct] {
		ct = ""
	}
	busy := func(err error) {
		code, e := ingestError(err)
		e.Document = source
		if code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", retryAfter(s.o.Pipeline.Budget.Wait()))
		}
		s.reject(w, code, e)
	}
	readBody := func(body io.Reader) ([]byte, bool) {
		data, err := io.ReadAll(body)
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				s.reject(w, http.StatusRequestEntityTooLarge, apiError{Code: "too_large", Kind: string(docerr.TooLarge), Document: source, Message: fmt.Sprintf("body is larger than %d bytes", tooBig.Limit)})
				return nil, false
			}
			s.reject(w, http.StatusBadRequest, apiError{Code: "bad_body", Document: source, Message: "reading body: " + err.Error()})
			return nil, false
		}
		return data, true
	}
	// A slot in the ingest budget before the body is read: queued pushes
	// hold no body in memory. Bodies that may exceed 1 MiB once
	// decompressed (by Content-Length; unknown length counts as large)
	// take the large lane. A compressed body is read and checked first
	// under the budget's probe lane, charged its size and its decoder's
	// window (Pipeline.Probe: inflated streaming into a scan, nothing
	// kept), so a compression bomb is refused with 413 naming the limit
	// without waiting for an ingest slot; one that passes keeps its share
	// of the lane until it holds an ingest slot, in the lane its
	// decompressed size says.
	body := bufio.NewReaderSize(r.Body, 512)
	head, _ := body.Peek(inflate.HeadBytes)
	var data []byte
	large := s.o.Pipeline.Large(r.ContentLength, "")
	if inflate.Codec(head) != "" {
		releaseProbe, err := s.o.Pipeline.Budget.AcquireProbe(r.Context(), s.o.Pipeline.ProbeCost(r.ContentLength, head))
		if err != nil {
			busy(err)
			return
		}
		defer releaseProbe()
		var ok bool
		if data, ok = readBody(body); !ok {
			return
		}
		n, err := s.o.Pipeline.Probe(data, source, ct)
		if err != nil {
			code, e := ingestError(err)
			e.Document = firstNonEmpty(e.Document, source)
			s.reject(w, code, e)
			return
		}
		large = n > ingest.LargeDocument
		ctx, release, err := s.o.Pipeline.Budget.Acquire(r.Context(), large)
		releaseProbe()
		if err != nil {
			busy(err)
			return
		}
		defer release()
		r = r.WithContext(ctx)
	} else {
		ctx, release, err := s.o.Pipeline.Budget.Acquire(r.Context(), large)
		if err != nil {
			busy(err)
			return
		}
		defer release()
		r = r.WithContext(ctx)
		var ok bool
		if data, ok = readBody(body); !ok {
			return
		}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		s.reject(w, http.StatusBadRequest, apiError{Code: "empty", Kind: string(docerr.Malformed), Document: source, Message: "body is empty: send the document as the request body"})
		return
	}
	if e, ok := jsonSyntax(data); !ok {
		e.Document = source
		s.reject(w, http.StatusBadRequest, e)
		return
	}
	rc, err := s.o.Pipeline.IngestReceipt(r.Context(), ingest.Input{Data: data, Source: source, ContentType: ct, Subject: subject, Role: role})
	if err != nil {
		code, e := ingestError(err)
		if code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", retryAfter(s.o.Pipeline.Budget.Wait()))
		}
		e.Document = firstNonEmpty(e.Document, source)
		switch code {
		case http.StatusInternalServerError, http.StatusInsufficientStorage:
			s.log.Error("ingest failed", "err", err, "source", source, "requestId", RequestID(r.Context()))
			if code == http.StatusInternalServerError {
				e.Message = "internal error (request " + RequestID(r.Context()) + ")"
			}
		}
		s.reject(w, code, e)
		return
	}
	s.metrics.countReceipt(rc)
	code := http.StatusOK
	for _, d := range rc.Documents {
		if !d.Duplicate {
			code = http.StatusCreated
		}
	}
	writeJSON(w, code, rc)
}

func (s *server) reject(w http.ResponseWriter, code int, e apiError) {
	s.metrics.rejected.WithLabelValues(strconv.Itoa(code)).Inc()
	writeError(w, code, e)
}

// ingestError maps a pipeline error to a status and the shared body. A
// document error (*docerr.Error, whatever format package it came from)
// gives its kind, document, field and line; the kind decides the status
// (docerr.Status): 413 too large (a size, decompression, count or depth
// limit, named in the message), 415 a format modelgraph does not read, 422
// a well-formed document whose claims break the graph's rules, or that
// cannot be verified, 400 a malformed or ambiguous document. Otherwise:
// 503 the ingest budget stayed full (with Retry-After), 507 the disk is
// full, 504 the request's deadline, 500 anything else.
func ingestError(err error) (int, apiError) {
	e := apiError{Message: err.Error()}
	if k := docerr.KindOf(err); k != "" {
		var de *docerr.Error
		if errors.As(err, &de) {
			e.Document, e.Field, e.Line = de.Document, de.Field, de.Line
		}
		e.Kind = string(k)
		e.Code = kindCodes[k]
		return docerr.Status(k), e
	}
	switch {
	case errors.Is(err, graph.ErrInvalidBatch):
		e.Kind, e.Code = string(docerr.Invalid), kindCodes[docerr.Invalid]
		return http.StatusUnprocessableEntity, e
	case errors.Is(err, ingest.ErrBusy):
		e.Code = "busy"
		return http.StatusServiceUnavailable, e
	case errors.Is(err, syscall.ENOSPC):
		e.Code = "insufficient_storage"
		e.Message = "the store's disk is full: nothing was written; retry once space is freed"
		return http.StatusInsufficientStorage, e
	case isTimeout(err):
		e.Code = "timeout"
		e.Message = "the request took longer than its timeout"
		return http.StatusGatewayTimeout, e
	}
	e.Code = "internal"
	return http.StatusInternalServerError, e
}

// kindCodes are the body's code for each document error kind.
var kindCodes = map[docerr.Kind]string{
	docerr.Malformed:    "invalid_document",
	docerr.Ambiguous:    "invalid_document",
	docerr.TooLarge:     "too_large",
	docerr.Unsupported:  "unsupported_format",
	docerr.Invalid:      "unprocessable",
	docerr.Unverifiable: "unverifiable",
}

// jsonSyntax checks a body that looks like JSON (or JSON Lines) for syntax
// errors, so a truncated upload gets a 400 with the offset rather than a
// guess about its format.
func jsonSyntax(data []byte) (apiError, bool) {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) == 0 || (trimmed[0] != '{' && trimmed[0] != '[') {
		return apiError{}, true
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var v json.RawMessage
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return apiError{}, true
		}
		if err != nil {
			off := dec.InputOffset()
			var se *json.SyntaxError
			switch {
			case errors.As(err, &se):
				off = se.Offset
			case errors.Is(err, io.ErrUnexpectedEOF):
				off = int64(len(data))
			}
			line := 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n"))
			return apiError{Code: "malformed_json", Kind: string(docerr.Malformed), Offset: off, Line: line,
				Message: fmt.Sprintf("body is not valid JSON at byte %d (line %d): %v", off, line, err)}, false
		}
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:80] + "…"
}

// retryAfter is a Retry-After value (whole seconds, at least 1) for a
// queue that waited wait.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(max(1, int(wait/2/time.Second)))
}
