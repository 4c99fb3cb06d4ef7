package httpapi

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/modelgraph/modelgraph/aibom"
	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/posture"
	"github.com/modelgraph/modelgraph/internal/query"
)

// aibomHandler serves GET /v1/aibom/{ref}?format=json|xml|spdx3&spec=1.6|1.7
// and GET /v1/aibom/?environment=NAME: the BOM, or the JSON error body
// (400 a bad format, spec or request; 404 an unknown reference).
func (s *server) aibomHandler() http.HandlerFunc {
	ps, err := posture.New(query.New(s.o.Store), s.o.PosturePolicy)
	if err != nil {
		s.log.Warn("AI-BOM posture properties: the posture policy is invalid; using the default", "err", err)
		ps, _ = posture.New(query.New(s.o.Store), posture.DefaultPolicy())
	}
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		format, err := aibom.ParseFormat(valueOr(q.Get("format"), "json"))
		spec := aibom.Spec(valueOr(q.Get("spec"), "1.6"))
		var ct string
		if err == nil {
			ct, err = aibom.ContentType(format, spec)
		}
		var req aibom.Request
		if err == nil {
			req, err = aibom.RequestFor(r.Context(), s.o.Store, r.PathValue("ref"), q.Get("environment"), s.o.Version)
		}
		var buf bytes.Buffer
		if err == nil {
			req.Annotate = ps.Annotator()
			if err = aibom.Write(r.Context(), s.o.Store, req, format, spec, &buf); err == nil {
				w.Header().Set("Content-Type", ct)
				_, _ = w.Write(buf.Bytes())
				return
			}
		}
		switch {
		case errors.Is(err, graph.ErrNotFound):
			writeError(w, http.StatusNotFound, apiError{Code: "not_found", Message: err.Error()})
		case errors.Is(err, aibom.ErrInvalidRequest), errors.Is(err, graph.ErrInvalidQuery):
			writeError(w, http.StatusBadRequest, apiError{Code: "invalid_request", Message: err.Error()})
		case isTimeout(err):
			writeError(w, http.StatusGatewayTimeout, apiError{Code: "timeout", Message: "the export took longer than the request timeout"})
		default:
			s.log.Error("AI-BOM export failed", "err", err, "requestId", RequestID(r.Context()))
			writeError(w, http.StatusInternalServerError, apiError{Code: "internal", Message: "export failed: " + err.Error()})
		}
	}
}

func valueOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
