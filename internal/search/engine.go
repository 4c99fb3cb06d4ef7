package search

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/modelgraph/modelgraph/graph"
)

// Engine answers searches over one store. There are two: the in-memory
// Index (the embedded store; saved beside the store file, see snapshot.go)
// and a store's own full-text index (FullText: Neo4j's, maintained by its
// writes). Both rank with the same code, so the contract (exact > prefix >
// token > fuzzy, then closeness, kind, term, id) is the same on both.
type Engine interface {
	Find(ctx context.Context, q Query) ([]Hit, error)
}

// Find implements Engine.
func (x *Index) Find(_ context.Context, q Query) ([]Hit, error) { return x.Search(q), nil }

// FullText is the capability a store implements when it keeps its own
// full-text index current on its writes (graph/neo4j). Candidates returns
// the nodes that may match m, the backend's most relevant first, at most
// m.Limit; search ranks them. It must return every node that matches m
// when there are at most m.Limit of them. A node needs its ID, Kind, Keys
// and Attrs (what Terms reads); evidence lists may be left out.
type FullText interface {
	SearchCandidates(ctx context.Context, m Match) ([]graph.Node, error)
}

// Match is what a FullText backend looks for, in portable terms.
type Match struct {
	// Any of these alternatives (the text's words; the words of its
	// normalised key form when that differs): a node matches one when
	// each of its words matches a word of the node.
	Any [][]WordMatch
	// Terms are whole terms (the text, its normalised key form): a node
	// with a term equal to one or starting with one should come first.
	// Only given when they have no white space.
	Terms []string
	// Kinds restricts the nodes (all when empty).
	Kinds []graph.NodeKind
	// Limit is how many candidates to return.
	Limit int
}

// WordMatch is one word of the text, lower case, letters and digits only.
type WordMatch struct {
	Word string
	// Prefix: a node word starting with Word matches (the last word:
	// typeahead).
	Prefix bool
	// Fuzzy is the edit distance (Damerau-Levenshtein, transpositions
	// count 1) within which a node word matches; 0 for exact only.
	Fuzzy int
}

// IndexText is what a FullText backend indexes for n: its terms and their
// words (long hex runs included: they are found by prefix), lower case,
// separated by single spaces. Split on white space, it gives the tokens
// Match's words and terms are compared with.
func IndexText(n graph.Node) string {
	terms := Terms(n)
	seen := make(map[string]bool, 4*len(terms))
	var b strings.Builder
	add := func(s string) {
		if s == "" || seen[s] {
			return
		}
		seen[s] = true
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	for _, t := range terms {
		for _, f := range strings.Fields(t) {
			add(f)
		}
	}
	for _, t := range terms {
		for _, w := range Words(t) {
			add(w)
		}
	}
	return b.String()
}

// candidateLimit is how many candidates a FullText engine ranks for a
// search asking limit hits.
func candidateLimit(limit int) int {
	if limit <= 0 || limit > MaxResults {
		limit = MaxResults
	}
	return min(MaxResults, max(200, 4*limit))
}

// MatchFor translates q into the portable Match a FullText backend runs:
// the same words, prefixes and edit distances the Index's tiers accept.
func MatchFor(q Query) (Match, bool) {
	text := strings.ToLower(strings.TrimSpace(q.Text))
	if text == "" || len(text) > MaxTextLen {
		return Match{}, false
	}
	m := Match{Kinds: q.Kinds, Limit: candidateLimit(q.Limit)}
	alts := []string{text}
	if nk, err := graph.NormalizeKey(q.Text); err == nil && strings.ToLower(nk) != text {
		alts = append(alts, strings.ToLower(nk))
	}
	for _, a := range alts {
		if !strings.ContainsFunc(a, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
			m.Terms = append(m.Terms, a)
		}
		words := Words(a)
		if len(words) == 0 || len(words) > 16 {
			continue
		}
		ws := make([]WordMatch, len(words))
		for i, w := range words {
			ws[i] = WordMatch{Word: w, Prefix: i == len(words)-1}
			if lettersOnly(w) && utf8.RuneCountInString(w) >= 3 {
				ws[i].Fuzzy = maxDist(w)
			}
		}
		if !slices.ContainsFunc(m.Any, func(o []WordMatch) bool { return slices.Equal(o, ws) }) {
			m.Any = append(m.Any, ws)
		}
	}
	return m, len(m.Any) > 0 || len(m.Terms) > 0
}

// fullTextEngine ranks a FullText backend's candidates with the Index.
type fullTextEngine struct{ ft FullText }

// FullTextOf returns the full-text index s keeps, if any: s itself when it
// implements FullText, else the capability a graph.DB's driver offers
// (graph.DB.As).
func FullTextOf(s any) (FullText, bool) {
	if ft, ok := s.(FullText); ok {
		return ft, true
	}
	var ft FullText
	if a, ok := s.(interface{ As(any) bool }); ok && a.As(&ft) {
		return ft, true
	}
	return nil, false
}

// NewFullTextEngine returns the Engine over a store's full-text index.
func NewFullTextEngine(ft FullText) Engine { return fullTextEngine{ft} }

func (e fullTextEngine) Find(ctx context.Context, q Query) ([]Hit, error) {
	m, ok := MatchFor(q)
	if !ok {
		return nil, nil
	}
	ns, err := e.ft.SearchCandidates(ctx, m)
	if err != nil {
		return nil, err
	}
	x := New()
	for _, n := range ns {
		x.Put(n)
	}
	return x.Search(q), nil
}
