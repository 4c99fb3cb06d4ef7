package neo4j

import (
	"context"
	"fmt"

	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/modelgraph/modelgraph/graph"
)

// Update implements graph.DriverWriter: one managed write transaction
// that takes the writer lock first, so fn's reads (the planner's) see the
// graph as the previous writer left it until this one commits. The driver
// may run fn again after a transient error; the plan is then rebuilt from
// what the database holds.
func (s *Store) Update(ctx context.Context, fn func(graph.Tx) error) error {
	release, err := s.enter()
	if err != nil {
		return err
	}
	defer release()
	sess := s.session(ctx, driver.AccessModeWrite)
	defer sess.Close(ctx)
	_, err = sess.ExecuteWrite(ctx, func(tx driver.ManagedTransaction) (any, error) {
		if err := lockWriter(ctx, tx); err != nil {
			return nil, err
		}
		return nil, fn(&planTx{source: source{ctx: ctx, tx: tx, nodes: map[graph.NodeID]graph.Node{}}})
	})
	if err != nil {
		return wrap("apply", err)
	}
	return nil
}

// planTx is a write transaction: graph.PlanTx (reads through source,
// writes the plan with UNWIND statements).
type planTx struct {
	source
}

// Stored implements graph.Tx.
func (t *planTx) Stored(digests []string) (map[string]bool, error) {
	recs, err := run(t.ctx, t.tx, qStoredDocs, map[string]any{"ds": digests})
	if err != nil {
		return nil, fmt.Errorf("read documents: %w", err)
	}
	stored := make(map[string]bool, len(recs))
	for _, r := range recs {
		stored[str(r.Values[0])] = true
	}
	return stored, nil
}

// Put implements graph.PlanTx.
func (t *planTx) Put(ctx context.Context, p graph.Plan) error {
	return write(ctx, t.tx, p)
}
