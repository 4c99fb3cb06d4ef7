package testserve

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/graph/neo4j"
)

// Neo4j opens the Neo4j server named by MODELGRAPH_NEO4J_URI (with
// MODELGRAPH_NEO4J_USER and MODELGRAPH_NEO4J_PASSWORD) on an emptied
// database. Without one the test skips, except in CI (make test starts
// one), where it fails: a test on Neo4j that does not run tests nothing.
// When the test ends the graph's invariants are checked, then the
// database is emptied again and the store closed.
func Neo4j(t testing.TB) *graph.DB {
	t.Helper()
	uri := os.Getenv("MODELGRAPH_NEO4J_URI")
	if uri == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("MODELGRAPH_NEO4J_URI is not set: CI must run %s on Neo4j (make test starts one)", t.Name())
		}
		t.Skip("MODELGRAPH_NEO4J_URI not set")
	}
	ctx := context.Background()
	cfg := neo4jConfig()
	s, err := neo4j.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Check(ctx); err != nil {
			t.Errorf("graph invariants on Neo4j: %v", err)
		}
		_ = neo4j.Reset(ctx, cfg)
		_ = s.Close()
	})
	if err := neo4j.Reset(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	return s
}

// Embedded opens a fresh embedded store in the test's temporary
// directory. When the test ends the graph's invariants are checked and
// the store closed.
func Embedded(t testing.TB) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Check(context.Background()); err != nil {
			t.Errorf("graph invariants: %v", err)
		}
		_ = s.Close()
	})
	return s
}

func neo4jConfig() neo4j.Config {
	return neo4j.Config{URI: os.Getenv("MODELGRAPH_NEO4J_URI"), User: os.Getenv("MODELGRAPH_NEO4J_USER"), Password: os.Getenv("MODELGRAPH_NEO4J_PASSWORD")}
}

// ResetNeo4j empties the database Neo4j opened (a test sharing one
// server between runs starts each from nothing).
func ResetNeo4j(ctx context.Context) error { return neo4j.Reset(ctx, neo4jConfig()) }
