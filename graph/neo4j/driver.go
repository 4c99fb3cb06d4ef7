package neo4j

import (
	"context"
	"errors"
	"fmt"
	"time"

	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/modelgraph/modelgraph/graph"
)

// maxConstraintRetries bounds the attempts of one write transaction that
// failed on a uniqueness constraint (see Update).
const maxConstraintRetries = 3

// Update implements graph.DriverWriter: one managed write transaction in
// which every read the planner makes is covered by a lock held to commit
// (source in write.go: documents, keys and nodes are locked before they
// are read), so fn's decisions stay true until this transaction commits,
// while writers whose documents touch nothing in common run in parallel.
// The driver runs fn again after a transient error, deadlocks between
// writers included (Neo.TransientError.Transaction.DeadlockDetected); the
// plan is then rebuilt from what the database holds. A uniqueness
// constraint violation is not expected under the locks; should one occur
// (a bug, or a writer of an older binary), the transaction is retried a
// few times too, then the error is returned.
func (s *Store) Update(ctx context.Context, fn func(graph.Tx) error) error {
	release, err := s.enter()
	if err != nil {
		return err
	}
	defer release()
	sess := s.session(ctx, driver.AccessModeWrite)
	defer sess.Close(ctx)
	attempt := 0
	defer timeit("tx (planning, statements, commit)", time.Now())
	_, err = sess.ExecuteWrite(ctx, func(tx driver.ManagedTransaction) (any, error) {
		defer timeit("tx function (planning, statements)", time.Now())
		attempt++
		if attempt > 1 {
			s.retries.Add(1)
			timeit("tx attempts retried (deadlocks, transient errors)", time.Now())
		}
		if globalLock {
			if err := lockWriter(ctx, tx); err != nil {
				return nil, err
			}
		}
		err := fn(&planTx{source: newSource(ctx, tx)})
		var ne *driver.Neo4jError
		if err != nil && errors.As(err, &ne) && ne.Code == "Neo.ClientError.Schema.ConstraintValidationFailed" && attempt <= maxConstraintRetries {
			s.constraintRetries.Add(1)
			timeit("tx attempts retried (uniqueness constraint)", time.Now())
			ne.MarkRetriable()
		}
		return nil, err
	})
	if err != nil {
		return wrap("apply", err)
	}
	s.commits.Add(1)
	return nil
}

// planTx is a write transaction: graph.PlanTx (reads through source,
// writes the plan with UNWIND statements).
type planTx struct {
	*source
}

// Stored implements graph.Tx. Each digest's (:DocRecord) is merged, which
// locks it: a document being written by a concurrent transaction is
// waited for (the uniqueness constraint's index entry lock) and then seen
// as stored; a new one is created here without its JSON (filled by Put,
// in the same transaction; nothing else sees it before commit).
func (t *planTx) Stored(digests []string) (map[string]bool, error) {
	ds := sortedUnique(digests)
	stored := make(map[string]bool, len(ds))
	for len(ds) > 0 {
		part := ds[:min(len(ds), idsPerQuery)]
		ds = ds[len(part):]
		recs, err := run(t.ctx, t.tx, qLockDocs, map[string]any{"ds": part})
		if err != nil {
			return nil, fmt.Errorf("lock documents: %w", err)
		}
		for _, r := range recs {
			if r.Values[1] == true {
				stored[str(r.Values[0])] = true
			}
		}
	}
	return stored, nil
}

// Put implements graph.PlanTx.
func (t *planTx) Put(ctx context.Context, p graph.Plan) error {
	return write(ctx, t.tx, p, t.source)
}
