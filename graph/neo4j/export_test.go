package neo4j

import (
	"context"

	"github.com/modelgraph/modelgraph/graph"
)

// OpenDriver opens the driver under Open on an emptied database, with the
// graph.DB options Open uses, for the contract harness.
func OpenDriver(ctx context.Context, cfg Config, reset bool) (graph.Driver, graph.Options, error) {
	s, err := openStore(ctx, cfg)
	if err != nil {
		return nil, graph.Options{}, err
	}
	if reset {
		if err := s.reset(ctx); err != nil {
			_ = s.Close()
			return nil, graph.Options{}, err
		}
	}
	return s, s.options(), nil
}
