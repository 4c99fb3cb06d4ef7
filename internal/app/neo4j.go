package app

import (
	"context"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/neo4j"
	"github.com/modelgraph/modelgraph/internal/config"
)

func openNeo4j(ctx context.Context, c config.Config) (graph.Store, error) {
	pw, err := c.Neo4jPassword()
	if err != nil {
		return nil, err
	}
	return neo4j.Open(ctx, neo4j.Config{URI: c.Store, User: c.Neo4jUser, Password: pw, Database: c.Neo4jDatabase})
}
