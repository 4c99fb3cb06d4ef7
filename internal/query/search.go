package query

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/ref"
	"github.com/modelgraph/modelgraph/internal/search"
)

// SearchHit is one ranked search result.
type SearchHit struct {
	Node Node `json:"node"`
	// Match is how it matched: exact, prefix, token or fuzzy.
	Match string `json:"match"`
	// Matched is the indexed term (key, name, location) that matched.
	Matched string `json:"matched"`
	// Ref is a reference that resolves to this node alone (a key).
	Ref string `json:"ref"`
}

// SearchAnswer is one page of search results, best first.
type SearchAnswer struct {
	Items      []SearchHit `json:"items"`
	PageInfo   PageInfo    `json:"pageInfo"`
	TotalCount int         `json:"totalCount"`
}

// Search finds the nodes text most likely names (see internal/search for
// the ranking: exact key > prefix > word > fuzzy), of kinds when given.
func (s *Service) Search(ctx context.Context, text string, kinds []graph.NodeKind, p Page) (SearchAnswer, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return SearchAnswer{}, fmt.Errorf("%w: search text is empty", ErrInvalidArgument)
	case len(text) > search.MaxTextLen:
		return SearchAnswer{}, fmt.Errorf("%w: search text is %d bytes, limit %d", ErrInvalidArgument, len(text), search.MaxTextLen)
	}
	for _, k := range kinds {
		if !k.Valid() {
			return SearchAnswer{}, fmt.Errorf("%w: kind %q is not a node kind", ErrInvalidArgument, k)
		}
	}
	size, err := p.size()
	if err != nil {
		return SearchAnswer{}, err
	}
	c, err := decodeCursor(p.After)
	if err != nil {
		return SearchAnswer{}, err
	}
	x, err := s.searchIndex(ctx)
	if err != nil {
		return SearchAnswer{}, err
	}
	hits, err := x.Find(ctx, search.Query{Text: text, Kinds: kinds, Limit: min(c.offset+size+1, search.MaxResults)})
	if err != nil {
		return SearchAnswer{}, fmt.Errorf("search: %w", err)
	}
	lo, hi, info, err := window(p, len(hits))
	if err != nil {
		return SearchAnswer{}, err
	}
	out := SearchAnswer{Items: []SearchHit{}, PageInfo: info, TotalCount: len(hits)}
	for _, h := range hits[lo:hi] {
		n, err := s.r.Node(ctx, h.ID)
		if isNotFound(err) {
			continue // removed since the search: the index catches up on the next write
		}
		if err != nil {
			return SearchAnswer{}, fmt.Errorf("search hit %s: %w", h.ID, err)
		}
		out.Items = append(out.Items, SearchHit{Node: toNode(n), Match: h.Tier.String(), Matched: h.Matched, Ref: refOf(n)})
	}
	return out, nil
}

// refOf is the key a responder would type back to name n alone (ref.Of).
func refOf(n graph.Node) string { return ref.Of(n) }

// Suggestion is a "did you mean" for a reference that matched nothing.
type Suggestion struct {
	Ref  string         `json:"ref"`
	Kind graph.NodeKind `json:"kind"`
	Name string         `json:"name"`
}

// MaxSuggestions is how many suggestions a NOT_FOUND answer carries.
const MaxSuggestions = 5

// NotFoundError is a reference that matched no node, with the nodes the
// search index ranks best for it. It is ErrNotFound (errors.Is).
type NotFoundError struct {
	Msg         string
	Suggestions []Suggestion
}

func (e *NotFoundError) Error() string {
	if len(e.Suggestions) == 0 {
		return e.Msg
	}
	refs := make([]string, len(e.Suggestions))
	for i, sg := range e.Suggestions {
		refs[i] = sg.Ref
	}
	return e.Msg + "; did you mean " + strings.Join(refs, ", ") + "?"
}

func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// notFound builds the NOT_FOUND error for ref, with suggestions of kinds.
func (s *Service) notFound(ctx context.Context, ref string, kinds []graph.NodeKind, msg string) error {
	e := &NotFoundError{Msg: msg}
	x, err := s.searchIndex(ctx)
	if err != nil {
		return e
	}
	hits, err := x.Find(ctx, search.Query{Text: ref, Kinds: kinds, Limit: MaxSuggestions})
	if err != nil {
		return e
	}
	for _, h := range hits {
		if n, err := s.r.Node(ctx, h.ID); err == nil {
			e.Suggestions = append(e.Suggestions, Suggestion{Ref: refOf(n), Kind: n.Kind, Name: displayName(n)})
		}
	}
	return e
}

// indexed is implemented by a Reader that keeps a search engine current on
// its own writes (search.Store).
type indexed interface{ SearchEngine() search.Engine }

// ownIndex is the engine a Service picks when its Reader keeps none: the
// store's own full-text index (search.FullText), else an in-memory index
// loaded from the store's snapshot or built, rebuilt whenever the store's
// document count changed (every write that changes the graph stores a new
// document).
type ownIndex struct {
	mu   sync.Mutex
	e    search.Engine
	docs int64
	ok   bool
}

func (s *Service) searchIndex(ctx context.Context) (search.Engine, error) {
	if ix, ok := s.r.(indexed); ok {
		return ix.SearchEngine(), nil
	}
	if ft, ok := search.FullTextOf(s.r); ok {
		return search.NewFullTextEngine(ft), nil
	}
	s.own.mu.Lock()
	defer s.own.mu.Unlock()
	st, err := s.r.Stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	if s.own.ok && st.Documents == s.own.docs {
		return s.own.e, nil
	}
	// Loaded from the store's snapshot, or built and saved for the next
	// process (the CLI opens the store once per command).
	x, err := search.OpenSaved(ctx, s.r)
	if err != nil {
		return nil, err
	}
	s.own.e, s.own.docs, s.own.ok = x, st.Documents, true
	return x, nil
}
