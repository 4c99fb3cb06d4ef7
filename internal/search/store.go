package search

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/modelgraph/modelgraph/graph"
)

// builds counts Build calls (tests tell a snapshot load from a rebuild).
var builds atomic.Int64

// Build indexes every node r holds (all kinds, in id order).
func Build(ctx context.Context, r graph.Reader) (*Index, error) {
	builds.Add(1)
	x := New()
	for _, k := range graph.NodeKinds {
		var after graph.NodeID
		for {
			ns, err := r.Nodes(ctx, graph.NodeQuery{Kind: k, After: after, Limit: graph.MaxListLimit})
			if err != nil {
				return nil, fmt.Errorf("search index: list %s: %w", k, err)
			}
			for _, n := range ns {
				x.Put(n)
			}
			if len(ns) < graph.MaxListLimit {
				break
			}
			after = ns[len(ns)-1].ID
		}
	}
	return x, nil
}

// Store is a graph.Store whose writes keep its search Engine current.
//
// Over a store with its own full-text index (FullText: Neo4j) the engine
// is that index, which the store's writes maintain; writes pass through.
//
// Over any other store (the embedded one) the engine is an in-memory Index:
// after a document is applied (durably), the nodes it named are read back
// and re-indexed, and the ids its merges absorbed are dropped. A search
// therefore sees every write acknowledged through this Store; a write that
// fails changes nothing in the store and nothing here. Close saves the
// index beside the store file (snapshot.go), so the next Wrap loads it
// instead of rebuilding it.
type Store struct {
	graph.Store
	eng Engine
	idx *Index // nil when the store has its own full-text index

	// mu: writes (and their re-indexing) hold it shared, Close exclusive,
	// so the snapshot Close saves reflects every write made through here.
	mu     sync.RWMutex
	closed bool
}

// Wrap returns s wrapped to keep its search engine current: its own
// full-text index when it has one, else an in-memory Index loaded from the
// snapshot a previous Close saved (when the store has not changed since)
// or built from s.
func Wrap(ctx context.Context, s graph.Store) (*Store, error) {
	if ft, ok := FullTextOf(s); ok {
		return &Store{Store: s, eng: NewFullTextEngine(ft)}, nil
	}
	x, err := Open(ctx, s)
	if err != nil {
		return nil, err
	}
	return &Store{Store: s, eng: x, idx: x}, nil
}

// SearchEngine returns the engine (internal/query finds it through this
// method on its Reader).
func (s *Store) SearchEngine() Engine { return s.eng }

// SearchIndex returns the in-memory index, nil when the store has its own
// full-text index.
func (s *Store) SearchIndex() *Index { return s.idx }

// Close saves the in-memory index beside the store (best effort: without
// it the next start rebuilds) and closes the store.
func (s *Store) Close() error {
	s.mu.Lock()
	if !s.closed && s.idx != nil {
		_ = SaveFor(context.Background(), s.Store, s.idx)
	}
	s.closed = true
	s.mu.Unlock()
	return s.Store.Close()
}

// Apply writes b and re-indexes what it named.
func (s *Store) Apply(ctx context.Context, b *graph.Batch) (graph.Receipt, error) {
	if s.idx == nil {
		return s.Store.Apply(ctx, b)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	rc, err := s.Store.Apply(ctx, b)
	if err != nil {
		return rc, err
	}
	if !rc.Duplicate {
		s.reindex(ctx, b, rc)
	}
	return rc, nil
}

// ApplyAll writes bs and re-indexes what they named.
func (s *Store) ApplyAll(ctx context.Context, bs []*graph.Batch) ([]graph.Receipt, error) {
	if s.idx == nil {
		return s.Store.ApplyAll(ctx, bs)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	rcs, err := s.Store.ApplyAll(ctx, bs)
	if err != nil {
		return rcs, err
	}
	for i, rc := range rcs {
		if i < len(bs) && !rc.Duplicate {
			s.reindex(ctx, bs[i], rc)
		}
	}
	return rcs, nil
}

// reindex reads back the nodes of b's specs. A read error leaves the entry
// as it was (the next write naming the node, or a restart, repairs it); it
// never fails the write, which is already durable.
func (s *Store) reindex(ctx context.Context, b *graph.Batch, rc graph.Receipt) {
	ctx = context.WithoutCancel(ctx)
	for _, m := range rc.Merges {
		for _, id := range m.Absorbed {
			s.idx.Remove(id)
		}
	}
	merged := len(rc.Merges) > 0
	for _, spec := range b.Nodes {
		if len(spec.Keys) == 0 {
			continue
		}
		// A file is named by digests only; once indexed, a document
		// naming it again changes nothing searchable unless it merged.
		if spec.Kind == graph.KindFile && !merged && s.idx.hasKey(spec.Kind, spec.Keys[0]) {
			continue
		}
		ns, err := s.Store.Lookup(ctx, spec.Keys[0])
		if err != nil {
			continue
		}
		for _, n := range ns {
			if n.Kind == spec.Kind {
				s.idx.Put(n)
			}
		}
	}
}

// hasKey reports whether a live node of kind carries key (lower-cased).
func (x *Index) hasKey(kind graph.NodeKind, key string) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	found := false
	key = strings.ToLower(key)
	x.terms.AscendGreaterOrEqual(termItem{key, 0}, func(it termItem) bool {
		if it.term != key {
			return false
		}
		if e := &x.entries[it.slot]; !e.dead && e.kind == kind {
			found = true
			return false
		}
		return true
	})
	return found
}
