package gql

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/gql/generated"
	"github.com/modelgraph/modelgraph/internal/query"
)

// depthLimit refuses operations whose selections nest deeper than max,
// before anything runs. Fragments count where they are spread.
type depthLimit struct{ max int }

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Doc == nil {
		return nil
	}
	op := oc.Doc.Operations.ForName(oc.OperationName)
	if op == nil {
		return nil
	}
	if depth := selectionDepth(op.SelectionSet, oc.Doc.Fragments, map[string]bool{}, 0, d.max); depth > d.max {
		err := gqlerror.Errorf("operation nests %d levels deep, which exceeds the limit of %d", depth, d.max)
		errcode.Set(err, CodeDepthLimit)
		return err
	}
	return nil
}

// selectionDepth is the deepest field nesting of set, stopping early once
// past limit (so hostile documents cost little).
func selectionDepth(set ast.SelectionSet, frags ast.FragmentDefinitionList, visiting map[string]bool, at, limit int) int {
	deepest := at
	for _, sel := range set {
		if deepest > limit {
			break
		}
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			d = selectionDepth(s.SelectionSet, frags, visiting, at+1, limit)
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, frags, visiting, at, limit)
		case *ast.FragmentSpread:
			f := frags.ForName(s.Name)
			if f == nil || visiting[s.Name] {
				continue
			}
			visiting[s.Name] = true
			d = selectionDepth(f.SelectionSet, frags, visiting, at, limit)
			delete(visiting, s.Name)
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// Base costs of the questions: a walk or a scan costs the same whatever is
// selected from its answer.
const (
	walkCost   = 100
	scanCost   = 500
	ingestCost = 1000
)

func pageSize(first *int) int {
	if first == nil || *first <= 0 {
		return query.DefaultPageSize
	}
	return min(*first, query.MaxPageSize)
}

// complexity makes list questions cost their page size times what is
// selected per item, plus their base cost.
func complexity() generated.ComplexityRoot {
	var c generated.ComplexityRoot
	q := &c.Query
	q.Trace = func(child int, _ string, _ *int, _ []graph.NodeKind, _ *bool, first *int, _ *string) int {
		return walkCost + child*pageSize(first)
	}
	q.Impact = func(child int, _ string, _ *int, _ []graph.NodeKind, first *int, _ *string) int {
		return walkCost + child*pageSize(first)
	}
	q.DeployedModelsTrainedOn = func(child int, _ string, _ *int, _ *bool, _ *time.Time, first *int, _ *string) int {
		return walkCost + child*pageSize(first)
	}
	q.AffectedByPackage = func(child int, _ string, _ *string, _ *int, first *int, _ *string) int {
		return scanCost + walkCost + child*pageSize(first)
	}
	q.AffectedByAdvisory = func(child int, _ string, _ *int, first *int, _ *string) int {
		return walkCost + child*pageSize(first)
	}
	q.Advisories = func(child int, _ *bool, first *int, _ *string) int { return scanCost + child*pageSize(first) }
	q.Unverified = func(child int, _ []graph.NodeKind, first *int, _ *string) int {
		return scanCost + child*pageSize(first)
	}
	q.Signatures = func(child int, _ string, _ *string, first *int, _ *string) int {
		return walkCost + child*pageSize(first)
	}
	q.Explain = func(child int, _, _ string, _ *int) int { return 3*walkCost + child }
	q.RollbackCandidates = func(child int, _ string, _ *int) int { return scanCost + 4*walkCost + child*10 }
	q.Admission = func(child int, _ string, _ *query.Policy) int { return scanCost + 2*walkCost + child }
	q.Lookup = func(child int, _ string) int { return walkCost + child*10 }
	c.Mutation.Ingest = func(child int, _ string, _, _ *string) int { return ingestCost + child }
	c.Mutation.CreateAdvisory = func(child int, _ query.AdvisoryInput) int { return ingestCost + child }
	return c
}
