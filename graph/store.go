package graph

import "context"

// Reader is the read side of a store: what query code (GraphQL, AI-BOM
// export, CLI) may use. Every method is safe for concurrent use and sees only
// fully applied documents.
type Reader interface {
	// Node returns the node with id, or ErrNotFound. An id that a merge
	// absorbed is an alias: Node returns the node that absorbed it (whose
	// ID differs from the one asked).
	Node(ctx context.Context, id NodeID) (Node, error)
	// Lookup returns every node (of any kind) carrying key, which is
	// normalised first ("SHA-256:ABC" finds "sha256:abc"). No match is an
	// empty result, not an error.
	Lookup(ctx context.Context, key string) ([]Node, error)
	// Nodes lists nodes of one kind in id order, after the cursor, at most
	// limit (DefaultListLimit when 0, capped at MaxListLimit).
	Nodes(ctx context.Context, q NodeQuery) ([]Node, error)
	// Edges returns the edges incident to id in direction dir, restricted to
	// kinds when given, ordered by (kind, peer id).
	Edges(ctx context.Context, id NodeID, dir Direction, kinds ...EdgeKind) ([]Edge, error)
	// Traverse walks breadth-first from req.From; see TraverseRequest.
	Traverse(ctx context.Context, req TraverseRequest) (TraverseResult, error)
	// Documents returns the stored documents for the digests that exist, in
	// the order asked (missing ones are left out).
	Documents(ctx context.Context, digests ...string) ([]Document, error)
	// Stats counts nodes, edges and documents.
	Stats(ctx context.Context) (Stats, error)
}

// Writer is the write side: what ingest code uses.
type Writer interface {
	// Apply validates and writes one document's batch atomically: all of it
	// or none of it, durable before it returns. A document whose digest is
	// already stored changes nothing and is reported as a duplicate.
	Apply(ctx context.Context, b *Batch) (Receipt, error)
	// ApplyAll writes many documents in as few transactions as the backend
	// likes (bulk ingest). Every batch is validated before anything is
	// written; on error nothing of the failing call is kept.
	ApplyAll(ctx context.Context, bs []*Batch) ([]Receipt, error)
}

// Store is a graph backend.
type Store interface {
	Reader
	Writer
	Close() error
}

// Receipt says what applying one document did.
type Receipt struct {
	Document     string `json:"document"`
	Duplicate    bool   `json:"duplicate"`
	Status       Status `json:"status"`
	NodesCreated int    `json:"nodesCreated"`
	NodesTouched int    `json:"nodesTouched"` // existing nodes that gained keys, claims or evidence
	EdgesCreated int    `json:"edgesCreated"`
	EdgesTouched int    `json:"edgesTouched"`
	// Merges lists the nodes this document folded together (its specs named
	// keys of several nodes, or gave a node a key with a smaller id).
	Merges []Merge `json:"merges,omitempty"`
	// KeysNotAttached lists keys the document named that were not attached
	// to the node their spec resolved to, and why (a MaxKeysPerStoredNode
	// limit). Empty in the normal case: no key is ever dropped silently.
	KeysNotAttached []KeyNote `json:"keysNotAttached,omitempty"`
}

// NodeQuery selects nodes of one kind for listing.
type NodeQuery struct {
	Kind  NodeKind
	After NodeID // cursor: ids greater than this
	Limit int
}

// TraverseRequest describes a breadth-first walk.
type TraverseRequest struct {
	From      []NodeID
	Direction Direction  // Upstream, Downstream, Both, Out or In
	EdgeKinds []EdgeKind // follow only these (all when empty)
	NodeKinds []NodeKind // enter only nodes of these kinds (all when empty); start nodes are always included
	MaxDepth  int        // DefaultDepth when 0, at most MaxTraverseDepth
	Limit     int        // nodes reached besides the starts; DefaultLimit when 0, at most MaxTraverseLimit
}

// Step is one node reached by a traversal, with the edge it was first
// reached through (breadth-first, so the path is a shortest one).
type Step struct {
	Node   Node
	Depth  int
	Parent NodeID // "" for a start node
	Via    *Edge  // nil for a start node
}

// TraverseResult lists reached nodes in visiting order. Truncated is set when
// Limit stopped the walk; DepthLimited when MaxDepth left edges unexplored.
type TraverseResult struct {
	Steps        []Step
	Truncated    bool
	DepthLimited bool
}
