// Package neo4j is the graph store on a Neo4j 5 server: the same contract
// as the embedded store (graph/embedded), for deployments that want a shared,
// replicated database and ad-hoc Cypher next to modelgraph's own queries.
//
// Store is a graph.Driver; Open returns graph.DB over it, which resolves
// keys, merges evidence and counts receipts (graph.Planner over the
// driver's PlanTx: one Neo4j transaction per chunk of documents (ApplyAll)
// or per group of concurrent Apply calls, locking the documents, keys and
// nodes it reads; see source in write.go).
// Traverse is pushed down (graph.Traverser): graph.Walk in one read
// transaction, one Cypher query per breadth-first level. docs/neo4j.md
// describes the data model.
package neo4j

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j/config"

	"github.com/modelgraph/modelgraph/graph"
)

// schemaVersion is recorded on the (:ModelgraphMeta) node; a database
// written by another layout is refused rather than misread.
// Version 2 added per-key evidence (Node.keyDocs), merges and (:Alias)
// nodes; a version 1 database is refused (re-ingest into an empty one).
const schemaVersion = 2

const (
	// DefaultBulkSize is how many documents ApplyAll writes per transaction.
	DefaultBulkSize = 500
	// maxChunkItems caps the nodes+edges of one ApplyAll transaction, so a
	// chunk of large SBOMs does not build gigabytes of transaction state in
	// the server's heap. A single document is never split.
	maxChunkItems = 100_000
	// rowsPerStatement bounds the parameter list of one UNWIND statement.
	rowsPerStatement = 10_000
	// idsPerQuery bounds the ids sent in one read query.
	idsPerQuery = 50_000
)

// Config says where the server is.
type Config struct {
	// URI of the server: bolt://, bolt+s://, neo4j:// or neo4j+s://.
	URI string
	// User and Password for basic auth; no auth when User is empty.
	User, Password string
	// Database to use (default "neo4j", the one database of Community
	// Edition).
	Database string
	// BulkSize is how many documents ApplyAll commits per transaction
	// (DefaultBulkSize when 0).
	BulkSize int
	// Writers is how many groups of concurrent Apply calls one store
	// writes at once, each in its own transaction (graph.Options.Writers;
	// DefaultWriters when 0; MODELGRAPH_NEO4J_WRITERS overrides it, for
	// measurements). Transactions lock only what they touch, so groups
	// sharing no key, document or node commit in parallel.
	Writers int
}

// DefaultWriters is Config.Writers' default: on the loaded 2-core
// machine, verified ingest (64 callers) ran at 120–125 docs/s with one
// writer, 137–162 with two, 115–138 with four (more, smaller groups) at
// load 9, and 31–65, 70–86, 86–102 at load 22 (docs/performance.md).
const DefaultWriters = 2

// Store is the Neo4j graph.Driver (graph.DB is the store callers get
// from Open). It is safe for concurrent use.
type Store struct {
	drv      driver.DriverWithContext
	db       string
	bulkSize int
	writers  int
	bm       driver.BookmarkManager

	mu     sync.RWMutex
	closed bool

	// Write transaction counters (tests and measurements): commits;
	// attempts the driver ran again after a transient error (deadlocks
	// between writers locking in different orders); attempts retried
	// after a uniqueness constraint violation (none expected: the locks
	// make concurrent creates of one key, document or node wait).
	commits, retries, constraintRetries atomic.Int64
}

var (
	_ graph.Driver     = (*Store)(nil)
	_ graph.Traverser  = (*Store)(nil)
	_ graph.EdgeReader = (*Store)(nil)
	_ graph.Checker    = (*Store)(nil)
	_ graph.PlanTx     = (*planTx)(nil)
)

// Open connects to the server, checks that it answers and creates the
// constraints and indexes the store relies on (idempotently) before any
// write can run. It returns graph.DB over the driver, writing at most
// Config.BulkSize documents (and about maxChunkItems nodes and edges) per
// transaction.
func Open(ctx context.Context, cfg Config) (*graph.DB, error) {
	s, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return graph.Open(s, s.options()), nil
}

// options are the graph.DB options of a store: transactions bounded in
// documents and items, ApplyAll in chunks (the transaction state lives in
// the server's heap).
func (s *Store) options() graph.Options {
	return graph.Options{MaxGroup: s.bulkSize, MaxGroupItems: maxChunkItems, ChunkApplyAll: true, Writers: s.writers}
}

// openStore opens the driver.
func openStore(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.URI == "" {
		return nil, errors.New("neo4j: open: URI is empty")
	}
	if cfg.Database == "" {
		cfg.Database = "neo4j"
	}
	if cfg.BulkSize < 0 {
		return nil, fmt.Errorf("neo4j: open: bulk size %d is negative", cfg.BulkSize)
	}
	if cfg.BulkSize == 0 {
		cfg.BulkSize = DefaultBulkSize
	}
	if v, err := strconv.Atoi(os.Getenv("MODELGRAPH_NEO4J_WRITERS")); err == nil && v > 0 {
		cfg.Writers = v
	}
	if cfg.Writers < 0 {
		return nil, fmt.Errorf("neo4j: open: writers %d is negative", cfg.Writers)
	}
	if cfg.Writers == 0 {
		cfg.Writers = DefaultWriters
	}
	token := driver.NoAuth()
	if cfg.User != "" {
		token = driver.BasicAuth(cfg.User, cfg.Password, "")
	}
	drv, err := driver.NewDriverWithContext(cfg.URI, token, func(c *config.Config) {
		c.MaxTransactionRetryTime = time.Minute
	})
	if err != nil {
		return nil, fmt.Errorf("neo4j: open %s: %w", redact(cfg.URI), err)
	}
	s := &Store{drv: drv, db: cfg.Database, bulkSize: cfg.BulkSize, writers: cfg.Writers}
	// Every session shares one bookmark manager: a read after a write sees
	// it even when a cluster routes them to different members.
	s.bm = driver.NewBookmarkManager(driver.BookmarkManagerConfig{})
	if err := drv.VerifyConnectivity(ctx); err != nil {
		_ = drv.Close(ctx)
		return nil, fmt.Errorf("neo4j: open %s: %w", redact(cfg.URI), err)
	}
	info, err := drv.GetServerInfo(ctx)
	if err == nil {
		err = checkVersion(info.Agent())
	}
	if err != nil {
		_ = drv.Close(ctx)
		return nil, fmt.Errorf("neo4j: open %s: %w", redact(cfg.URI), err)
	}
	if err := s.migrate(ctx); err != nil {
		_ = drv.Close(ctx)
		return nil, fmt.Errorf("neo4j: open %s: %w", redact(cfg.URI), err)
	}
	return s, nil
}

// checkVersion refuses servers older than 5.26, the first to accept the
// dynamic labels and relationship types (`$(row.kind)`) the store's writes
// use (5.23 added the CALL (a, b) { ... } subqueries); 5.26 is the LTS
// line. Calendar versions (2025.01 onwards) are newer.
func checkVersion(agent string) error {
	v, ok := strings.CutPrefix(agent, "Neo4j/")
	var major, minor int
	if ok {
		_, err := fmt.Sscanf(v, "%d.%d", &major, &minor)
		ok = err == nil
	}
	if !ok {
		return fmt.Errorf("server %q is not Neo4j", agent)
	}
	if major < 5 || major == 5 && minor < 26 {
		return fmt.Errorf("server is %s; modelgraph needs Neo4j 5.26 or newer", agent)
	}
	return nil
}

// redact drops credentials a URI might carry before it goes into an error.
func redact(uri string) string {
	if i := strings.Index(uri, "@"); i >= 0 {
		if j := strings.Index(uri, "://"); j >= 0 && j < i {
			return uri[:j+3] + "…" + uri[i:]
		}
	}
	return uri
}

// schema is created at open. Community Edition has property uniqueness
// constraints (each backed by a range index) and plain range indexes;
// nothing here needs Enterprise.
var schema = []string{
	"CREATE CONSTRAINT modelgraph_node_id IF NOT EXISTS FOR (n:Node) REQUIRE n.id IS UNIQUE",
	"CREATE CONSTRAINT modelgraph_key_k IF NOT EXISTS FOR (k:Key) REQUIRE k.k IS UNIQUE",
	"CREATE CONSTRAINT modelgraph_doc_digest IF NOT EXISTS FOR (d:DocRecord) REQUIRE d.digest IS UNIQUE",
	"CREATE CONSTRAINT modelgraph_meta_name IF NOT EXISTS FOR (m:ModelgraphMeta) REQUIRE m.name IS UNIQUE",
	"CREATE CONSTRAINT modelgraph_alias_id IF NOT EXISTS FOR (a:Alias) REQUIRE a.id IS UNIQUE",
	// Nodes(kind, after, limit) is an equality on kind and a range on id,
	// ordered by id: a composite range index answers it without sorting.
	"CREATE INDEX modelgraph_node_kind_id IF NOT EXISTS FOR (n:Node) ON (n.kind, n.id)",
}

func init() {
	// One edge per (from, kind, to): see edgeKey.
	for _, k := range graph.EdgeKinds {
		schema = append(schema, fmt.Sprintf("CREATE CONSTRAINT modelgraph_edge_%s IF NOT EXISTS FOR ()-[r:`%s`]-() REQUIRE r.key IS UNIQUE", strings.ToLower(string(k)), k))
	}
}

func (s *Store) migrate(ctx context.Context) error {
	sess := s.session(ctx, driver.AccessModeWrite)
	defer sess.Close(ctx)
	for _, q := range schema {
		res, err := sess.Run(ctx, q, nil)
		if err == nil {
			_, err = res.Consume(ctx)
		}
		if err != nil {
			return fmt.Errorf("create schema (%s): %w", q, err)
		}
	}
	res, err := sess.Run(ctx, "CALL db.awaitIndexes(300)", nil)
	if err == nil {
		_, err = res.Consume(ctx)
	}
	if err != nil {
		return fmt.Errorf("wait for indexes: %w", err)
	}
	if err := s.backfillSearchText(ctx); err != nil { // fulltext.go
		return err
	}
	return s.ensureMeta(ctx)
}

// ensureMeta creates the (:ModelgraphMeta) node if missing and checks the
// schema version.
func (s *Store) ensureMeta(ctx context.Context) error {
	sess := s.session(ctx, driver.AccessModeWrite)
	defer sess.Close(ctx)
	_, err := sess.ExecuteWrite(ctx, func(tx driver.ManagedTransaction) (any, error) {
		return nil, lockWriter(ctx, tx)
	})
	return err
}

// globalLock: MODELGRAPH_NEO4J_GLOBAL_LOCK set makes every write
// transaction take the meta lock first, as before per-entity locking
// (write.go), so writers run one at a time. A measuring aid only (old
// against new on one binary); the per-entity locks are taken either way.
var globalLock = os.Getenv("MODELGRAPH_NEO4J_GLOBAL_LOCK") != ""

// lockWriter takes the meta lock: an exclusive lock on the one
// (:ModelgraphMeta) node, held until the transaction ends, and checks the
// schema version. Open and the search-text backfill take it (one at a
// time); write transactions do not (they lock what they touch, see
// source in write.go) unless MODELGRAPH_NEO4J_GLOBAL_LOCK is set.
func lockWriter(ctx context.Context, tx driver.ManagedTransaction) error {
	recs, err := run(ctx, tx, `MERGE (m:ModelgraphMeta {name: 'modelgraph'})
ON CREATE SET m.schema = $schema
SET m.writes = coalesce(m.writes, 0) + 1
RETURN m.schema`, map[string]any{"schema": schemaVersion})
	if err != nil {
		return fmt.Errorf("take meta lock: %w", err)
	}
	if len(recs) != 1 {
		return fmt.Errorf("take meta lock: %d meta nodes", len(recs))
	}
	if v, _ := recs[0].Values[0].(int64); v != schemaVersion {
		return fmt.Errorf("database has modelgraph schema version %v, this binary uses %d (version 2 added per-key evidence and merged node identity, which older data lacks: re-ingest the documents into an empty database)", recs[0].Values[0], schemaVersion)
	}
	return nil
}

func (s *Store) session(ctx context.Context, mode driver.AccessMode) driver.SessionWithContext {
	return s.drv.NewSession(ctx, driver.SessionConfig{AccessMode: mode, DatabaseName: s.db, BookmarkManager: s.bm})
}

// enter holds the close lock for the duration of an operation.
func (s *Store) enter() (release func(), err error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, graph.ErrClosed
	}
	return s.mu.RUnlock, nil
}

// read runs fn in a managed read transaction (retried on transient errors).
func (s *Store) read(ctx context.Context, what string, fn func(tx driver.ManagedTransaction) error) error {
	release, err := s.enter()
	if err != nil {
		return err
	}
	defer release()
	sess := s.session(ctx, driver.AccessModeRead)
	defer sess.Close(ctx)
	_, err = sess.ExecuteRead(ctx, func(tx driver.ManagedTransaction) (any, error) {
		return nil, fn(tx)
	})
	if err != nil {
		return wrap(what, err)
	}
	return nil
}

// wrap names the operation on driver errors; the store's own errors
// (ErrNotFound...) already say what they are.
func wrap(what string, err error) error {
	if errors.Is(err, graph.ErrNotFound) || errors.Is(err, graph.ErrInvalidQuery) || errors.Is(err, graph.ErrInjectedFault) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("neo4j: %s: %w", what, err)
}

func run(ctx context.Context, tx driver.ManagedTransaction, q string, params map[string]any) ([]*driver.Record, error) {
	defer timeit("run "+q[:min(len(q), 40)]+" … "+q[max(0, len(q)-30):], time.Now())
	res, err := tx.Run(ctx, q, params)
	if err != nil {
		return nil, err
	}
	return res.Collect(ctx)
}

// Close closes the driver; later calls fail with graph.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.drv.Close(context.Background()); err != nil {
		return fmt.Errorf("neo4j: close: %w", err)
	}
	return nil
}

// Reset deletes every node and relationship in the database at cfg
// (constraints and indexes stay). It is for tests, benchmarks and
// development databases only, and not part of any store's API.
func Reset(ctx context.Context, cfg Config) error {
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.reset(ctx)
}

func (s *Store) reset(ctx context.Context) error {
	release, err := s.enter()
	if err != nil {
		return err
	}
	defer release()
	sess := s.session(ctx, driver.AccessModeWrite)
	defer sess.Close(ctx)
	for {
		// Bounded transactions: a large graph is not deleted in one.
		n, err := sess.ExecuteWrite(ctx, func(tx driver.ManagedTransaction) (any, error) {
			recs, err := run(ctx, tx, "MATCH (n) WITH n LIMIT 10000 DETACH DELETE n RETURN count(*)", nil)
			if err != nil || len(recs) != 1 {
				return int64(0), err
			}
			c, _ := recs[0].Values[0].(int64)
			return c, nil
		})
		if err != nil {
			return fmt.Errorf("neo4j: reset: %w", err)
		}
		if n.(int64) == 0 {
			return s.ensureMeta(ctx)
		}
	}
}

// ---- value conversion from driver records ----

func str(v any) string {
	s, _ := v.(string)
	return s
}

func strs(v any) []string {
	l, _ := v.([]any)
	if l == nil {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// keyName is the value of a (:Key) node's k property: the node kind and the
// key, so one key may name nodes of several kinds.
func keyName(kind graph.NodeKind, key string) string { return string(kind) + "/" + key }

// checks are the graph invariants Check verifies, each returning up to ten
// offending rows.
var checks = []struct{ what, q string }{
	{"key points at a missing node, or one of another kind or not listing it", `MATCH (k:Key)
OPTIONAL MATCH (n:Node {id: k.node})
WITH k, n WHERE n IS NULL OR n.kind <> k.kind OR NOT k.key IN n.keys
RETURN k.k LIMIT 10`},
	{"node key without its (:Key) entry", `MATCH (n:Node) UNWIND n.keys AS key
OPTIONAL MATCH (k:Key {k: n.kind + '/' + key})
WITH n, key, k WHERE k IS NULL OR k.node <> n.id
RETURN n.id + ' ' + key LIMIT 10`},
	{"document record without its JSON (a write lock left behind)", `MATCH (d:DocRecord) WHERE d.json IS NULL RETURN d.digest LIMIT 10`},
	{"node without its kind label", `MATCH (n:Node) WHERE NOT n.kind IN labels(n) RETURN n.id LIMIT 10`},
	{"two edges of one kind between the same nodes", `MATCH (a:Node)-[r]->(b:Node)
WITH a, type(r) AS t, b, count(*) AS c WHERE c > 1
RETURN a.id + ' ' + t + ' ' + b.id LIMIT 10`},
	{"edge key does not name its ends", `MATCH (a:Node)-[r]->(b:Node) WHERE r.key IS NULL OR r.key <> a.id + '-' + b.id
RETURN a.id + ' ' + type(r) + ' ' + b.id LIMIT 10`},
	{"alias names a live node, or points at nothing", `MATCH (a:Alias)
OPTIONAL MATCH (live:Node {id: a.id})
OPTIONAL MATCH (to:Node {id: a.node})
OPTIONAL MATCH (next:Alias {id: a.node})
WITH a, live, to, next WHERE live IS NOT NULL OR (to IS NULL AND next IS NULL)
RETURN a.id LIMIT 10`},
	{"node key evidence does not list its keys", `MATCH (n:Node) WHERE n.keyDocs IS NULL OR size(n.keys) > 0 AND NOT n.keyDocs STARTS WITH '[{"k":'
RETURN n.id LIMIT 10`},
	{"edge or node without evidence", `MATCH (n:Node) WHERE size(n.docs) = 0 RETURN n.id AS x LIMIT 10
UNION ALL
MATCH (a:Node)-[r]->(b:Node) WHERE size(r.docs) = 0 RETURN a.id + ' ' + type(r) + ' ' + b.id AS x LIMIT 10`},
}

// Check implements graph.Checker: every key entry and node agree,
// every node has its kind label, at most one edge of a kind joins two nodes,
// everything has evidence. It scans the whole graph: for tests (the
// contract harness runs it after every test, as graph/embedded's does) and for
// operators checking a database, not for request paths.
func (s *Store) Check(ctx context.Context) error {
	var errs []error
	err := s.read(ctx, "check", func(tx driver.ManagedTransaction) error {
		errs = nil
		for _, c := range checks {
			recs, err := run(ctx, tx, c.q, nil)
			if err != nil {
				return err
			}
			for _, r := range recs {
				errs = append(errs, fmt.Errorf("%s: %v", c.what, r.Values[0]))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return errors.Join(errs...)
}
