// Package gql is modelgraph's GraphQL API: gqlgen resolvers, each calling
// one function of internal/query, and the handler serving them with depth
// and complexity limits.
package gql

import (
	"context"
	"errors"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/posture"
	"github.com/modelgraph/modelgraph/internal/query"
	"github.com/modelgraph/modelgraph/internal/watch"
)

// Resolver holds what resolvers call.
type Resolver struct {
	q        *query.Service
	posture  *posture.Service
	w        graph.Writer
	pipeline *ingest.Pipeline
	caller   func(context.Context) string
	ingested func(query.IngestReceipt)
	watch    *watch.Watcher
}

// ingest runs the pipeline for the ingest mutation.
func (r *Resolver) ingest(ctx context.Context, in ingest.Input) (*query.IngestReceipt, error) {
	if r.pipeline == nil {
		return nil, errors.New("ingest: this server has no ingest pipeline")
	}
	rc, err := query.Ingest(ctx, r.pipeline, in)
	if err == nil && r.ingested != nil {
		r.ingested(rc)
	}
	return &rc, err
}

// source names a document pushed through GraphQL: what the client said,
// else the operation, and who pushed it.
func (r *Resolver) source(ctx context.Context, given string) string {
	if given == "" {
		given = "graphql"
	}
	if r.caller != nil {
		if who := r.caller(ctx); who != "" {
			return given + " (pushed by " + who + ")"
		}
	}
	return given
}

func val[T any](p *T) T {
	var zero T
	return valOr(p, zero)
}

func valOr[T any](p *T, d T) T {
	if p == nil {
		return d
	}
	return *p
}

func page(first *int, after *string) query.Page {
	return query.Page{First: val(first), After: val(after)}
}

// callerName names the caller ("" when anonymous).
func (r *Resolver) callerName(ctx context.Context) string {
	if r.caller == nil {
		return ""
	}
	return r.caller(ctx)
}
