package main

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/modelgraph/modelgraph/aibom"
	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/httpapi"
	"github.com/modelgraph/modelgraph/internal/posture"
	"github.com/modelgraph/modelgraph/internal/query"
	"github.com/modelgraph/modelgraph/internal/ui"
)

// extraRoutes are endpoints served beside the built-in API.
func extraRoutes(s graph.Store, pp posture.Policy) []httpapi.Route {
	return []httpapi.Route{
		{Pattern: "GET /v1/aibom/{ref...}", Handler: aibomHandler(s, pp)},
		{Pattern: "GET /ui", Public: true, Handler: ui.Handler()},
		{Pattern: "GET /ui/", Public: true, Handler: ui.Handler()},
	}
}

// aibomHandler serves GET /v1/aibom/{ref}?format=json|xml|spdx3&spec=1.6|1.7 and
// GET /v1/aibom/?environment=NAME.
func aibomHandler(s graph.Store, pp posture.Policy) http.Handler {
	ps, err := posture.New(query.New(s), pp)
	if err != nil {
		ps, _ = posture.New(query.New(s), posture.DefaultPolicy())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		format, err := parseBOMFormat(valueOr(q.Get("format"), "json"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		spec := aibom.Spec(valueOr(q.Get("spec"), "1.6"))
		ct, err := aibom.ContentType(format, spec)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req, err := aibom.RequestFor(r.Context(), s, r.PathValue("ref"), q.Get("environment"), versionString())
		if err == nil {
			req.Annotate = ps.Annotator()
			var buf bytes.Buffer
			if err = aibom.Write(r.Context(), s, req, format, spec, &buf); err == nil {
				w.Header().Set("Content-Type", ct)
				_, _ = w.Write(buf.Bytes())
				return
			}
		}
		switch {
		case errors.Is(err, graph.ErrNotFound):
			http.Error(w, err.Error(), http.StatusNotFound)
		case errors.Is(err, aibom.ErrInvalidRequest), errors.Is(err, graph.ErrInvalidQuery):
			http.Error(w, err.Error(), http.StatusBadRequest)
		default:
			http.Error(w, "export failed: "+err.Error(), http.StatusInternalServerError)
		}
	})
}

func valueOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
