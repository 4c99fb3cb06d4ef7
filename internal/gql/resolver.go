// Package gql is modelgraph's GraphQL API: gqlgen resolvers, each calling
// one function of internal/query, and the handler serving them with depth
// and complexity limits.
package gql

import (
	"context"
	"errors"
	"fmt"

	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/advisory"
	"github.com/modelgraph/modelgraph/internal/gql/model"
	"github.com/modelgraph/modelgraph/internal/posture"
	"github.com/modelgraph/modelgraph/internal/query"
	"github.com/modelgraph/modelgraph/internal/watch"
)

// Resolver holds what resolvers call.
type Resolver struct {
	q        *query.Service
	posture  *posture.Service
	pipeline *ingest.Pipeline
	caller   func(context.Context) string
	ingested func(ingest.Receipt)
	watch    *watch.Watcher
}

// ingest runs the pipeline for a mutation (ingest, createAdvisory).
func (r *Resolver) ingest(ctx context.Context, in ingest.Input) ([]ingest.Result, error) {
	if r.pipeline == nil {
		return nil, errors.New("ingest: this server has no ingest pipeline")
	}
	rs, err := r.pipeline.Ingest(ctx, in)
	if err == nil && r.ingested != nil {
		r.ingested(ingest.Receipts(rs))
	}
	return rs, err
}

// AdvisoryResolver resolves an advisory's affects references with q (every
// stored node of a kind an advisory may affect that the reference names).
func AdvisoryResolver(q *query.Service) advisory.Resolver {
	return func(ctx context.Context, ref string) ([]advisory.Target, error) {
		ns, err := q.Resolve(ctx, ref, advisory.AffectableKinds...)
		if err != nil {
			return nil, err
		}
		ts := make([]advisory.Target, len(ns))
		for i, n := range ns {
			ts[i] = advisory.Target{Kind: n.Kind, Key: n.Keys[0]}
		}
		return ts, nil
	}
}

// createAdvisory runs CreateAdvisory for the mutation.
func (r *Resolver) createAdvisory(ctx context.Context, in advisory.Input) (*model.AdvisoryReceipt, error) {
	if r.pipeline == nil {
		return nil, errors.New("createAdvisory: this server has no ingest pipeline")
	}
	a, rs, err := CreateAdvisory(ctx, r.q, r.pipeline, in, r.source(ctx, "graphql createAdvisory"))
	if rs != nil && r.ingested != nil {
		r.ingested(ingest.Receipts(rs))
	}
	return a, err
}

// CreateAdvisory records an advisory like any pushed document: q resolves
// its affects references to stored nodes (a read), ingest/advisory builds
// the advisory document naming them, p records it (document digest, the
// advisory role, evidence; the watcher sees it when p writes through it),
// and the advisory is read back as now stored. It returns what p recorded
// too (nil when it recorded nothing).
func CreateAdvisory(ctx context.Context, q *query.Service, p *ingest.Pipeline, in advisory.Input, source string) (*model.AdvisoryReceipt, []ingest.Result, error) {
	c, err := in.Normalize()
	if err != nil {
		return nil, nil, err
	}
	doc, err := advisory.FromInput(ctx, c, AdvisoryResolver(q))
	if err != nil {
		return nil, nil, err
	}
	rs, err := p.Ingest(ctx, ingest.Input{Data: doc, Source: source})
	if err != nil {
		return nil, nil, err
	}
	adv, err := q.Advisory(ctx, advisory.KeyPrefix+c.ID)
	if err != nil {
		return nil, rs, fmt.Errorf("advisory %s: reading back: %w", c.ID, err)
	}
	return &model.AdvisoryReceipt{Receipt: &rs[0].Receipt, Advisory: &adv}, rs, nil
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
