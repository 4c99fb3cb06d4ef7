package main

import (
	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/httpapi"
)

// extraRoutes are endpoints served beside the built-in API.
func extraRoutes(s graph.Store) []httpapi.Route {
	return nil
}
