package neo4j_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/graphtest"
	"github.com/modelgraph/modelgraph/graph/neo4j"
)

// config reads the server to test against from the environment. Without
// one the tests skip locally, but never in CI: a backend whose tests do not
// run is not tested.
func config(t testing.TB) neo4j.Config {
	t.Helper()
	uri := os.Getenv("MODELGRAPH_NEO4J_URI")
	if uri == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("MODELGRAPH_NEO4J_URI is not set in CI; start a server with deploy/neo4j-dev/neo4j-dev.sh")
		}
		t.Skip("MODELGRAPH_NEO4J_URI is not set (start one with: bash deploy/neo4j-dev/neo4j-dev.sh start 17687)")
	}
	return neo4j.Config{
		URI:      uri,
		User:     os.Getenv("MODELGRAPH_NEO4J_USER"),
		Password: os.Getenv("MODELGRAPH_NEO4J_PASSWORD"),
	}
}

// open returns a store on an emptied database. At cleanup it checks the
// graph's invariants (as graph/bolt's tests do) and closes the store, or
// whichever store Reopen put in its place.
func open(t testing.TB, cfg neo4j.Config) *reopenable {
	t.Helper()
	s, err := neo4j.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := &reopenable{s}
	t.Cleanup(func() {
		if err := r.Check(context.Background()); err != nil {
			t.Errorf("graph invariants broken: %v", err)
		}
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

type harness struct{ cfg neo4j.Config }

// reopenable lets Reopen swap the store under the suite's handle.
type reopenable struct{ *neo4j.Store }

func (h harness) Open(t *testing.T) graph.Store {
	t.Helper()
	return open(t, h.cfg)
}

func (h harness) Reopen(t *testing.T, s graph.Store) graph.Store {
	t.Helper()
	r := s.(*reopenable)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	ns, err := neo4j.Open(context.Background(), h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Store = ns
	return r
}

func TestContract(t *testing.T) {
	graphtest.Run(t, harness{config(t)})
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := neo4j.Open(ctx, neo4j.Config{}); err == nil {
		t.Fatal("Open with no URI succeeded")
	}
	if _, err := neo4j.Open(ctx, neo4j.Config{URI: "bolt://127.0.0.1:1", BulkSize: -1}); err == nil || !strings.Contains(err.Error(), "bulk size") {
		t.Fatalf("negative bulk size: %v", err)
	}
	// Nothing listens on port 1: connectivity is checked at open, and the
	// password never appears in the error.
	_, err := neo4j.Open(ctx, neo4j.Config{URI: "bolt://127.0.0.1:1", User: "u", Password: "hunter2"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Open against a closed port: %v", err)
	}
}

func TestClosed(t *testing.T) {
	cfg := config(t)
	s, err := neo4j.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := context.Background()
	if _, err := s.Stats(ctx); !errors.Is(err, graph.ErrClosed) {
		t.Fatalf("Stats after Close: %v", err)
	}
	if _, err := s.Apply(ctx, graph.NewBatch(graphtest.Doc("closed"))); !errors.Is(err, graph.ErrClosed) {
		t.Fatalf("Apply after Close: %v", err)
	}
	if _, err := s.Lookup(ctx, "name:x"); !errors.Is(err, graph.ErrClosed) {
		t.Fatalf("Lookup after Close: %v", err)
	}
}
