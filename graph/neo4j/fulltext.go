package neo4j

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/search"
)

// Search on Neo4j uses its full-text (Lucene) index, which the server keeps
// current on every committed write, for every process sharing the
// database. Each node carries searchText (search.IndexText: its terms and
// their words, lower case, space separated), written with the node by the
// store's own writes (nodeRow); the index covers it and the node's kind
// with the whitespace analyzer, so the index's tokens are exactly the
// terms and words internal/search compares. SearchCandidates translates a
// search.Match into a Lucene query (parameters only; the text is escaped)
// and internal/search ranks the candidates with the same code as the
// embedded store's in-memory index (docs/search.md).

const fulltextIndex = "modelgraph_search"

func init() {
	// eventually_consistent false (the default, said explicitly): the
	// index is updated when the write commits, so a search after an
	// acknowledged write sees it.
	schema = append(schema, "CREATE FULLTEXT INDEX "+fulltextIndex+" IF NOT EXISTS FOR (n:Node) ON EACH [n.searchText, n.kind] "+
		"OPTIONS {indexConfig: {`fulltext.analyzer`: 'whitespace', `fulltext.eventually_consistent`: false}}")
}

var _ search.FullText = (*Store)(nil)

// searchText is what the full-text index holds for n.
func searchText(n graph.Node) string { return search.IndexText(n) }

// qFulltext returns what ranking reads (id, kind, keys, claims), not the
// evidence lists (docs, keyDocs, joins: long on shared packages), in
// nodeColumns' layout.
const qFulltext = "CALL db.index.fulltext.queryNodes('" + fulltextIndex + "', $q, {limit: $limit}) YIELD node AS n, score " +
	"RETURN n.id, n.kind, n.keys, n.attrs, [] AS docs, null AS keyDocs, null AS joins ORDER BY score DESC, n.id"

// SearchCandidates implements search.FullText.
func (s *Store) SearchCandidates(ctx context.Context, m search.Match) ([]graph.Node, error) {
	q := luceneQuery(m)
	if q == "" || m.Limit <= 0 {
		return nil, nil
	}
	return s.readNodes(ctx, "search", qFulltext, map[string]any{"q": q, "limit": m.Limit})
}

// luceneQuery is m in Lucene's classic syntax over the index's fields:
//
//	+((+(w1 w1~2) +(w2 w2* w2~1)) (alternative 2) term^8 term*^4) +(kind:Model …)
//
// Every word of an alternative is required (exactly, within its edit
// distance, or, for the last, as a prefix); a whole term (the text as
// typed) is optional and boosts nodes having it or a term it starts.
func luceneQuery(m search.Match) string {
	var body []string
	for _, alt := range m.Any {
		if len(alt) == 0 {
			continue
		}
		req := make([]string, len(alt))
		for i, w := range alt {
			e := luceneEscape(w.Word)
			opts := []string{"searchText:" + e}
			if w.Prefix {
				opts = append(opts, "searchText:"+e+"*")
			}
			if w.Fuzzy > 0 {
				opts = append(opts, "searchText:"+e+"~"+strconv.Itoa(min(w.Fuzzy, 2)))
			}
			req[i] = "+(" + strings.Join(opts, " ") + ")"
		}
		body = append(body, "("+strings.Join(req, " ")+")")
	}
	for _, t := range m.Terms {
		if t == "" {
			continue
		}
		e := luceneEscape(t)
		body = append(body, "searchText:"+e+"^8", "searchText:"+e+"*^4")
	}
	if len(body) == 0 {
		return ""
	}
	q := "+(" + strings.Join(body, " ") + ")"
	if len(m.Kinds) > 0 {
		ks := make([]string, len(m.Kinds))
		for i, k := range m.Kinds {
			ks[i] = "kind:" + luceneEscape(string(k))
		}
		q += " +(" + strings.Join(ks, " ") + ")"
	}
	return q
}

// luceneEscape escapes the characters the classic query parser treats as
// syntax, and white space.
func luceneEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '+', '-', '!', '(', ')', '{', '}', '[', ']', '^', '"', '~', '*', '?', ':', '/', '&', '|', ' ', '\t', '\n', '\r':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// backfillBatch is how many nodes one backfill transaction updates.
const backfillBatch = 5000

// backfillSearchText writes searchText on the nodes a store written before
// it existed lacks, once: the meta node records that it is done, so an
// open does not scan the nodes again. It runs under the meta lock (one
// backfill at a time) and locks each node it rewrites.
func (s *Store) backfillSearchText(ctx context.Context) error {
	sess := s.session(ctx, driver.AccessModeWrite)
	defer sess.Close(ctx)
	for {
		done, err := sess.ExecuteWrite(ctx, func(tx driver.ManagedTransaction) (any, error) {
			if err := lockWriter(ctx, tx); err != nil {
				return false, err
			}
			recs, err := run(ctx, tx, "MATCH (m:ModelgraphMeta {name: 'modelgraph'}) RETURN coalesce(m.searchText, false)", nil)
			if err != nil {
				return false, err
			}
			if len(recs) == 1 && recs[0].Values[0] == true {
				return true, nil
			}
			// Each node is write-locked before its record is read: writers
			// no longer share the meta lock (write.go), and one may be
			// changing the node's keys or claims concurrently.
			recs, err = run(ctx, tx, "MATCH (n:Node) WHERE n.searchText IS NULL WITH n LIMIT $limit SET n.mgLock = true REMOVE n.mgLock RETURN "+nodeColumns, map[string]any{"limit": backfillBatch})
			if err != nil {
				return false, err
			}
			rows := make([]map[string]any, 0, len(recs))
			for _, r := range recs {
				n, err := decodeNode(r.Values)
				if err != nil {
					return false, err
				}
				rows = append(rows, map[string]any{"id": string(n.ID), "t": searchText(n)})
			}
			if len(rows) == 0 {
				_, err := run(ctx, tx, "MATCH (m:ModelgraphMeta {name: 'modelgraph'}) SET m.searchText = true", nil)
				return true, err
			}
			_, err = run(ctx, tx, "UNWIND $rows AS row MATCH (n:Node {id: row.id}) "+hintNode+" SET n.searchText = row.t", map[string]any{"rows": rows})
			return false, err
		})
		if err != nil {
			return fmt.Errorf("search text of existing nodes: %w", err)
		}
		if done == true {
			return nil
		}
	}
}
