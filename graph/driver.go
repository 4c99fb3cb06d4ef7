package graph

import "context"

// The driver contract (the go-cloud shape): a backend implements Driver,
// small and mechanical, and graph.Open makes it a Store. DB (db.go) alone
// validates batches and read requests, decides every write (the identity,
// merge and evidence rules of ApplyNodes/ApplyEdges, over the backend's
// records or over a Planner), runs the walk, groups concurrent writes,
// injects faults (WithFault) and refuses calls after Close (ErrClosed).
// A new backend is a Driver plus graph/graphtest's Run, which every driver
// runs unchanged.

// Driver is a graph backend under DB.
type Driver interface {
	DriverReader
	DriverWriter
	// Close releases the backend. DB calls it once, when no call is in
	// flight.
	Close() error
}

// DriverReader is the read side of a driver. DB has validated every
// argument: ids are valid, keys and digests normalised, queries checked
// (NodeQuery.Limit is the effective limit). Each method reads one
// consistent state.
type DriverReader interface {
	// Adjacent, LoadNodes, LoadEdges: adjacency in bulk and record loading
	// (Walker).
	Walker
	// Node returns node id, or the node that absorbed it when id is an
	// alias; ErrNotFound when neither.
	Node(ctx context.Context, id NodeID) (Node, error)
	// Lookup returns the nodes of any kind carrying key (normalised), in
	// kind code order.
	Lookup(ctx context.Context, key string) ([]Node, error)
	// Nodes lists nodes of q.Kind after q.After in id order, at most
	// q.Limit.
	Nodes(ctx context.Context, q NodeQuery) ([]Node, error)
	// Documents returns the stored documents among digests, in the order
	// asked.
	Documents(ctx context.Context, digests ...string) ([]Document, error)
	// Stats counts nodes, edges and documents.
	Stats(ctx context.Context) (Stats, error)
}

// DriverWriter is the write side of a driver.
type DriverWriter interface {
	// Update runs fn in one write transaction and commits it, atomically
	// and durably, when fn returns nil (nothing of it otherwise). The
	// transaction is a PlanTx or a RecordTx. While fn runs no other write
	// changes what it reads (one writer at a time, or locks on what it
	// reads, held to commit: graph/neo4j). fn may be called again
	// after a transient failure: it starts over from what the transaction
	// shows.
	Update(ctx context.Context, fn func(Tx) error) error
}

// Tx is a driver's write transaction. It is a PlanTx or a RecordTx.
type Tx interface {
	// Stored returns which of digests are documents already stored
	// (including those written earlier in this transaction).
	Stored(digests []string) (map[string]bool, error)
}

// PlanTx is the transaction of a driver that reads the owners of keys and
// the records they lead to (PlanSource) and writes a Plan atomically: DB
// runs a Planner over it and hands the Plan to Put. For servers, where
// each read is a round trip: graph/neo4j.
type PlanTx interface {
	Tx
	PlanSource
	// Put writes the plan. It calls Fault(ctx, n) after each part that
	// wrote n nodes and edges so far (WithFault).
	Put(ctx context.Context, p Plan) error
}

// RecordTx is the transaction of a driver whose records are local and
// cheap to change in place: DB drives the write algorithm (ApplyNodes,
// ApplyEdges) over its record primitives directly. graph/embedded keeps
// evidence lists raw and spilled to their own buckets this way, so a
// hub's thousands of documents are appended to, never decoded and
// rewritten (docs/performance.md).
type RecordTx interface {
	Tx
	Records
	// PutDocument stores a document's record (IngestedAt set).
	PutDocument(doc Document) error
}

// Optional capabilities a driver may implement; DB uses them when present.

// Traverser is a pushed-down walk: the driver runs Walk (req checked)
// itself, for example inside one read transaction so every level sees one
// state and costs no session set-up (graph/neo4j). Without it DB runs Walk
// over the driver's Walker methods.
type Traverser interface {
	Traverse(ctx context.Context, req TraverseRequest) (TraverseResult, error)
}

// EdgeReader returns the edges incident to id in direction dir (kinds
// valid, possibly empty for all), in the canonical order (SortHalfEdges),
// with their records in one read. Without it DB uses Adjacent and
// LoadEdges.
type EdgeReader interface {
	Edges(ctx context.Context, id NodeID, dir Direction, kinds ...EdgeKind) ([]Edge, error)
}

// Checker verifies the stored graph's invariants (every key and node
// agree, ids follow from keys, edges have both ends, everything has
// evidence). The contract harness runs it after every test.
type Checker interface {
	Check(ctx context.Context) error
}
