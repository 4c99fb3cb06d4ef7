package neo4j

import (
	"context"
	"os"
	"strings"
	"testing"

	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/modelgraph/modelgraph/graph"
)

// testStore is the store callers get (graph.DB) with its driver at hand.
type testStore struct {
	*graph.DB
	d *Store
}

// internalStore opens a store on an emptied database for white-box tests.
func internalStore(t *testing.T) testStore {
	t.Helper()
	uri := os.Getenv("MODELGRAPH_NEO4J_URI")
	if uri == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("MODELGRAPH_NEO4J_URI is not set in CI")
		}
		t.Skip("MODELGRAPH_NEO4J_URI is not set")
	}
	ctx := context.Background()
	d, err := openStore(ctx, Config{URI: uri, User: os.Getenv("MODELGRAPH_NEO4J_USER"), Password: os.Getenv("MODELGRAPH_NEO4J_PASSWORD")})
	if err != nil {
		t.Fatal(err)
	}
	s := testStore{DB: graph.Open(d, d.options()), d: d}
	t.Cleanup(func() { _ = s.Close() })
	if err := d.reset(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *Store) exec(t *testing.T, q string) {
	t.Helper()
	ctx := context.Background()
	sess := s.session(ctx, driver.AccessModeWrite)
	defer sess.Close(ctx)
	res, err := sess.Run(ctx, q, nil)
	if err == nil {
		_, err = res.Consume(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestCheckFindsCorruption breaks each invariant behind the store's back
// and expects Check to name it; a Check that cannot fail proves nothing.
func TestCheckFindsCorruption(t *testing.T) {
	s := internalStore(t)
	ctx := context.Background()
	b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("check")), Type: "test"})
	m := b.Node(graph.KindModel, graph.NameKey("m"))
	d := b.Node(graph.KindDataset, graph.NameKey("d"))
	b.Edge(m, graph.TrainedOn, d)
	if _, err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatalf("fresh graph: %v", err)
	}
	for name, c := range map[string]struct{ corrupt, repair, want string }{
		"dangling key": {
			"CREATE (:Key {k: 'Model/name:ghost', kind: 'Model', key: 'name:ghost', node: 'ffffffffffffffffffffffffffffffff'})",
			"MATCH (k:Key {k: 'Model/name:ghost'}) DELETE k",
			"key points at a missing node",
		},
		"unindexed key": {
			"MATCH (n:Node {kind: 'Model'}) SET n.keys = n.keys + 'name:unindexed'",
			"MATCH (n:Node {kind: 'Model'}) SET n.keys = [k IN n.keys WHERE k <> 'name:unindexed']",
			"node key without its (:Key) entry",
		},
		"missing label": {
			"MATCH (n:Node {kind: 'Model'}) REMOVE n:Model",
			"MATCH (n:Node {kind: 'Model'}) SET n:Model",
			"node without its kind label",
		},
		"duplicate edge": {
			"MATCH (a:Node {kind: 'Model'}), (b:Node {kind: 'Dataset'}) CREATE (a)-[:TRAINED_ON {key: 'bogus', attrs: '[]', docs: ['x']}]->(b)",
			"MATCH (:Node {kind: 'Model'})-[r:TRAINED_ON {docs: ['x']}]->() DELETE r",
			"two edges of one kind",
		},
		"wrong edge key": {
			"MATCH (:Node {kind: 'Model'})-[r:TRAINED_ON]->() SET r.key = 'bogus'",
			"MATCH (a:Node {kind: 'Model'})-[r:TRAINED_ON]->(b) SET r.key = a.id + '-' + b.id",
			"edge key does not name its ends",
		},
		"document lock left behind": {
			"CREATE (:DocRecord {digest: 'sha256:ghost'})",
			"MATCH (d:DocRecord {digest: 'sha256:ghost'}) DELETE d",
			"document record without its JSON",
		},
		"key lock left behind": {
			"CREATE (:Key {k: 'Model/name:lockonly', kind: 'Model', key: 'name:lockonly'})",
			"MATCH (k:Key {k: 'Model/name:lockonly'}) DELETE k",
			"key points at a missing node",
		},
		"no evidence": {
			"MATCH (n:Node {kind: 'Dataset'}) SET n.docs = []",
			"MATCH (n:Node {kind: 'Dataset'}) SET n.docs = ['" + b.Doc.Digest + "']",
			"without evidence",
		},
	} {
		s.d.exec(t, c.corrupt)
		err := s.Check(ctx)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Check() = %v, want %q", name, err, c.want)
		}
		s.d.exec(t, c.repair)
		if err := s.Check(ctx); err != nil {
			t.Fatalf("%s: after repair: %v", name, err)
		}
	}
}
