// Package search is the text index of the graph: what a responder types (a
// model name without its version, a dataset path without its trailing slash,
// a service name, part of a purl, a signer) to the nodes it most likely
// means, ranked exact key > prefix > token > fuzzy (typo-tolerant).
//
// The index is in memory and derived from the store: Build fills it from a
// graph.Reader, and Store (a graph.Store wrapper) keeps it up to date on
// every write that goes through it (see docs/search.md for the consistency
// story). It holds ids and match terms only; callers (internal/query) load
// the nodes of the page they answer.
package search

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/google/btree"

	"github.com/modelgraph/modelgraph/graph"
)

// Tier is how a hit matched, best first.
type Tier uint8

const (
	// TierExact: the text is a key of the node (with or without its
	// scheme), its name, or another indexed value, exactly.
	TierExact Tier = iota
	// TierPrefix: the text starts a key, a name or a location
	// ("acme/clinical-notes-raw" for name:acme/clinical-notes-raw@2024-01).
	TierPrefix
	// TierToken: every word of the text is a word of the node's terms (the
	// last one may be a prefix: typeahead).
	TierToken
	// TierFuzzy: every word matches a word of the node within a small edit
	// distance (1 for words up to 5 letters, else 2; transpositions count 1).
	TierFuzzy
)

func (t Tier) String() string {
	switch t {
	case TierExact:
		return "exact"
	case TierPrefix:
		return "prefix"
	case TierToken:
		return "token"
	case TierFuzzy:
		return "fuzzy"
	}
	return "unknown"
}

// Hit is one ranked match.
type Hit struct {
	ID   graph.NodeID
	Kind graph.NodeKind
	Tier Tier
	// Matched is the indexed term that matched best.
	Matched string
	score   int
}

// Limits.
const (
	// MaxResults bounds how many ranked hits one search computes (pages
	// beyond it are empty).
	MaxResults = 1000
	// MaxTextLen bounds the text searched for.
	MaxTextLen = graph.MaxKeyLen
	// maxPrefixScan bounds the terms a prefix scan visits.
	maxPrefixScan = 1024
	// maxExpand bounds the vocabulary words a prefix or fuzzy word expands to.
	maxExpand = 256
	// maxCandidates bounds the entries a token or fuzzy tier checks.
	maxCandidates = 50_000
)

// indexedAttrs are the attributes whose values are searchable, besides keys.
var indexedAttrs = []string{
	"name", "advisoryId", "identity", "keyId", "uri", "image", "service",
	"endpoint", "purl", "cluster", "namespace", "invocationId",
}

type entry struct {
	id     graph.NodeID
	kind   graph.NodeKind
	terms  []string // lower-case, distinct
	tokens []string // lower-case words of terms, distinct, sorted
	dead   bool
}

type termItem struct {
	term string
	slot uint32
}

func lessTerm(a, b termItem) bool {
	if a.term != b.term {
		return a.term < b.term
	}
	return a.slot < b.slot
}

// Index is the text index. Safe for concurrent use.
type Index struct {
	mu       sync.RWMutex
	entries  []entry
	byID     map[graph.NodeID]uint32
	terms    *btree.BTreeG[termItem]
	postings map[string][]uint32 // word -> slots (slots may be dead)
	vocab    *btree.BTreeG[string]
	byLen    map[int][]string // fuzzy vocabulary (words with a letter) by rune length
	live     int
}

// New returns an empty index.
func New() *Index {
	return &Index{
		byID:     map[graph.NodeID]uint32{},
		terms:    btree.NewG(32, lessTerm),
		postings: map[string][]uint32{},
		vocab:    btree.NewG(32, func(a, b string) bool { return a < b }),
		byLen:    map[int][]string{},
	}
}

// Len is the number of nodes indexed.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.live
}

// Terms returns what a node is found by: its keys (also without their
// scheme: "acme/llm-7b" for name:acme/llm-7b, the subject of an oidc
// identity), and the values of the searchable attributes (name, name@version,
// advisory id, signer identity, deployment service, cluster and endpoint,
// URIs, images), lower-cased.
func Terms(n graph.Node) []string {
	var ts []string
	add := func(s string) {
		s = strings.ToLower(strings.TrimSpace(s))
		if s != "" && len(s) <= MaxTextLen && !slices.Contains(ts, s) {
			ts = append(ts, s)
		}
	}
	for _, k := range n.Keys {
		add(k)
		if strings.Contains(k, "://") {
			continue
		}
		if i := strings.IndexByte(k, ':'); i > 0 {
			rest := k[i+1:]
			add(rest)
			if k[:i] == "oidc" {
				if _, san, ok := strings.Cut(rest, "|"); ok {
					add(san)
				}
			}
			if k[:i] == "run" {
				if j := strings.LastIndexByte(rest, '|'); j >= 0 {
					add(rest[j+1:])
				}
			}
		}
	}
	for _, name := range indexedAttrs {
		for _, v := range n.AttrValues(name) {
			add(v)
		}
	}
	if name, ver := n.Attr("name"), n.Attr("version"); name != "" && ver != "" {
		add(name + "@" + ver)
	}
	return ts
}

// Words splits s into lower-case words: runs of letters and digits.
func Words(s string) []string {
	var out []string
	for f := range strings.FieldsFuncSeq(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		out = append(out, f)
	}
	return out
}

// skipWord says whether a word is left out of the word index: long hex
// runs (digests, commits, key ids) are found by prefix, not by word.
func skipWord(w string) bool {
	if len(w) < 16 {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// lettersOnly: the fuzzy vocabulary is words of letters (names, not
// counters, versions or ids: "pkg5000" or "v3" match exactly or by prefix).
func lettersOnly(w string) bool {
	return strings.IndexFunc(w, func(r rune) bool { return !unicode.IsLetter(r) }) < 0
}

func tokensOf(terms []string) []string {
	var ws []string
	for _, t := range terms {
		for _, w := range Words(t) {
			if !skipWord(w) {
				ws = append(ws, w)
			}
		}
	}
	slices.Sort(ws)
	return slices.Compact(ws)
}

// Put indexes n (replacing what was indexed for its id).
func (x *Index) Put(n graph.Node) {
	terms := Terms(n)
	x.mu.Lock()
	defer x.mu.Unlock()
	if slot, ok := x.byID[n.ID]; ok {
		e := &x.entries[slot]
		if e.kind == n.Kind && slices.Equal(e.terms, terms) {
			return
		}
		x.removeLocked(n.ID)
	}
	slot := uint32(len(x.entries))
	e := entry{id: n.ID, kind: n.Kind, terms: terms, tokens: tokensOf(terms)}
	x.entries = append(x.entries, e)
	x.byID[n.ID] = slot
	x.live++
	for _, t := range terms {
		x.terms.ReplaceOrInsert(termItem{t, slot})
	}
	for _, w := range e.tokens {
		ps, known := x.postings[w]
		x.postings[w] = append(ps, slot)
		if !known {
			x.vocab.ReplaceOrInsert(w)
			if lettersOnly(w) {
				l := utf8.RuneCountInString(w)
				x.byLen[l] = append(x.byLen[l], w)
			}
		}
	}
}

// Remove drops id (a node absorbed by a merge).
func (x *Index) Remove(id graph.NodeID) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(id)
}

func (x *Index) removeLocked(id graph.NodeID) {
	slot, ok := x.byID[id]
	if !ok {
		return
	}
	e := &x.entries[slot]
	for _, t := range e.terms {
		x.terms.Delete(termItem{t, slot})
	}
	e.dead = true
	e.terms, e.tokens = nil, nil
	delete(x.byID, id)
	x.live--
	// Postings keep the dead slot; searches skip it. Stale postings are
	// bounded by the number of re-indexed nodes.
}

// Has reports whether id is indexed.
func (x *Index) Has(id graph.NodeID) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	_, ok := x.byID[id]
	return ok
}

// Query is one search.
type Query struct {
	Text  string
	Kinds []graph.NodeKind // all when empty
	// Limit is how many ranked hits to return (at most MaxResults).
	Limit int
}

// kindRank orders kinds within a tier: what a responder most often means.
var kindRank = func() map[graph.NodeKind]int {
	order := []graph.NodeKind{
		graph.KindModel, graph.KindDataset, graph.KindDeployment, graph.KindAdvisory,
		graph.KindVulnerability, graph.KindPackage, graph.KindIdentity, graph.KindSource,
		graph.KindTrainingRun, graph.KindDocument, graph.KindFile,
	}
	m := map[graph.NodeKind]int{}
	for i, k := range order {
		m[k] = i
	}
	return m
}()

// Search ranks the nodes matching q.Text: tier first (exact, prefix, token,
// fuzzy), then within a tier the closest match (shortest remainder, fewest
// edits, fewest extra words), then kind (models, datasets, deployments,
// advisories before packages, signers, documents, files), then the
// shortest matching term and the id. Lower tiers are computed only while
// the higher ones have not filled Limit.
func (x *Index) Search(q Query) []Hit {
	text := strings.ToLower(strings.TrimSpace(q.Text))
	if text == "" || len(text) > MaxTextLen {
		return nil
	}
	limit := q.Limit
	if limit <= 0 || limit > MaxResults {
		limit = MaxResults
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	s := &searcher{x: x, kinds: q.Kinds, best: make(map[uint32]Hit, 64)}
	// Exact, on the text and on its normalised key form.
	alts := []string{text}
	if nk, err := graph.NormalizeKey(q.Text); err == nil && strings.ToLower(nk) != text {
		alts = append(alts, strings.ToLower(nk))
	}
	for _, a := range alts {
		x.terms.AscendGreaterOrEqual(termItem{a, 0}, func(it termItem) bool {
			if it.term != a {
				return false
			}
			s.add(it.slot, TierExact, it.term, len(it.term))
			return true
		})
	}
	// Prefix.
	if s.n() < limit {
		seen := 0
		x.terms.AscendGreaterOrEqual(termItem{text, 0}, func(it termItem) bool {
			if !strings.HasPrefix(it.term, text) || seen >= maxPrefixScan {
				return false
			}
			seen++
			s.add(it.slot, TierPrefix, it.term, len(it.term)-len(text))
			return true
		})
	}
	words := Words(text)
	if len(words) == 0 || len(words) > 16 {
		return s.ranked(limit)
	}
	// Token: every word exact, the last one may be a prefix.
	if s.n() < limit {
		ms := make([]matcher, len(words))
		for i, w := range words {
			ms[i] = matcher{word: w, prefix: i == len(words)-1}
			if ms[i].prefix {
				ms[i].postings = x.prefixWords(w)
			} else if _, ok := x.postings[w]; ok {
				ms[i].postings = []string{w}
			}
		}
		s.cover(ms, TierToken)
	}
	// Fuzzy: every word within an edit distance.
	if s.n() < limit {
		ms := make([]matcher, len(words))
		for i, w := range words {
			ms[i] = matcher{word: w, prefix: i == len(words)-1, fuzzy: x.fuzzyWords(w)}
			if ms[i].prefix {
				ms[i].postings = x.prefixWords(w)
			} else if _, ok := x.postings[w]; ok {
				ms[i].postings = []string{w}
			}
			ms[i].postings = append(ms[i].postings, ms[i].fuzzy...)
		}
		s.cover(ms, TierFuzzy)
	}
	return s.ranked(limit)
}

// prefixWords returns the vocabulary words starting with w (w itself first
// when it is one), at most maxExpand.
func (x *Index) prefixWords(w string) []string {
	var out []string
	x.vocab.AscendGreaterOrEqual(w, func(v string) bool {
		if !strings.HasPrefix(v, w) || len(out) >= maxExpand {
			return false
		}
		out = append(out, v)
		return true
	})
	return out
}

func maxDist(w string) int {
	if utf8.RuneCountInString(w) <= 5 {
		return 1
	}
	return 2
}

// fuzzyWords returns the words of the fuzzy vocabulary within maxDist of
// w (not w itself), at most maxExpand. Words with digits have none.
func (x *Index) fuzzyWords(w string) []string {
	if !lettersOnly(w) || utf8.RuneCountInString(w) < 3 {
		return nil
	}
	var out []string
	d := maxDist(w)
	l := utf8.RuneCountInString(w)
	for n := l - d; n <= l+d; n++ {
		for _, v := range x.byLen[n] {
			if len(out) >= maxExpand {
				return out
			}
			if v != w && distance(w, v, d) <= d {
				out = append(out, v)
			}
		}
	}
	return out
}

// matcher matches one query word against an entry's words: exactly (cost
// 0), as a prefix when it is the last word (cost 1), or as one of its
// fuzzy alternatives (cost 1 + edits).
type matcher struct {
	word     string
	prefix   bool
	fuzzy    []string
	postings []string // the vocabulary words whose postings hold the candidates
}

func (m *matcher) cost(tokens []string) (int, bool) {
	i, found := slices.BinarySearch(tokens, m.word)
	if found {
		return 0, true
	}
	if m.prefix && i < len(tokens) && strings.HasPrefix(tokens[i], m.word) {
		return 1, true
	}
	best := -1
	for _, v := range m.fuzzy {
		if _, ok := slices.BinarySearch(tokens, v); ok {
			if c := 1 + distance(m.word, v, maxDist(m.word)); best < 0 || c < best {
				best = c
			}
		}
	}
	return best, best >= 0
}

type searcher struct {
	x     *Index
	kinds []graph.NodeKind
	best  map[uint32]Hit
}

func (s *searcher) n() int { return len(s.best) }

func (s *searcher) add(slot uint32, tier Tier, term string, score int) {
	e := &s.x.entries[slot]
	if e.dead || (len(s.kinds) > 0 && !slices.Contains(s.kinds, e.kind)) {
		return
	}
	h := Hit{ID: e.id, Kind: e.kind, Tier: tier, Matched: term, score: score}
	if old, ok := s.best[slot]; ok && cmpHit(old, h) <= 0 {
		return
	}
	s.best[slot] = h
}

// cover adds, at tier, the entries whose words match every matcher.
// Candidates come from the postings of the rarest matcher.
func (s *searcher) cover(ms []matcher, tier Tier) {
	rarest, size := -1, 0
	for i := range ms {
		if len(ms[i].postings) == 0 {
			return
		}
		n := 0
		for _, a := range ms[i].postings {
			n += len(s.x.postings[a])
		}
		if rarest < 0 || n < size {
			rarest, size = i, n
		}
	}
	checked := 0
	for _, a := range ms[rarest].postings {
		for _, slot := range s.x.postings[a] {
			if checked >= maxCandidates {
				return
			}
			checked++
			if _, ok := s.best[slot]; ok {
				continue
			}
			e := &s.x.entries[slot]
			if e.dead {
				continue
			}
			total, ok := 0, true
			for i := range ms {
				c, hit := ms[i].cost(e.tokens)
				if !hit {
					ok = false
					break
				}
				total += c
			}
			if !ok {
				continue
			}
			extra := len(e.tokens) - len(ms)
			s.add(slot, tier, shortest(e.terms), total*64+max(extra, 0))
		}
	}
}

func shortest(ts []string) string {
	best := ""
	for _, t := range ts {
		if best == "" || len(t) < len(best) {
			best = t
		}
	}
	return best
}

func cmpHit(a, b Hit) int {
	return cmp.Or(
		cmp.Compare(a.Tier, b.Tier),
		cmp.Compare(a.score, b.score),
		cmp.Compare(kindRank[a.Kind], kindRank[b.Kind]),
		cmp.Compare(len(a.Matched), len(b.Matched)),
		strings.Compare(a.Matched, b.Matched),
		strings.Compare(string(a.ID), string(b.ID)),
	)
}

func (s *searcher) ranked(limit int) []Hit {
	out := make([]Hit, 0, len(s.best))
	for _, h := range s.best {
		out = append(out, h)
	}
	slices.SortFunc(out, cmpHit)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// distance is the optimal-string-alignment distance (Levenshtein with
// adjacent transpositions) of a and b, or max+1 once it exceeds max.
func distance(a, b string, max int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > max || -d > max {
		return max + 1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
