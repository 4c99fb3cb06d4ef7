package neo4j

import (
	"fmt"
	"slices"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
)

// The Cypher the store runs, in one place so plan_test.go can EXPLAIN every
// statement and prove each is served by an index (no label or full scans).
// Node kinds and edge kinds are put into queries as labels and relationship
// types; they come only from graph's closed sets, never from callers.

const nodeColumns = "n.id, n.kind, n.keys, n.attrs, n.docs, n.keyDocs, n.joins"

// Index hints on every seek of the hot statements. A plan is cached per
// statement text and replanned only when the statistics drift far: one
// planned while a label or relationship type was still (nearly) empty, as
// at the start of a bulk load, scans instead of seeking, and kept doing so
// as the graph grew (reading the edges of a 700-document chunk took 0.3 s
// or 19 s depending on when the plan was made). The hints pin the seek.
const (
	hintNode = "USING INDEX n:Node(id)"
	hintKey  = "USING INDEX k:Key(k)"
	hintDoc  = "USING INDEX r:DocRecord(digest)"
)

const (
	// The write locks (write.go, source): documents and keys are merged
	// (a new one created without its JSON or owner, filled by the write
	// or, for keys no node took, deleted), keys and nodes locked by
	// setting and removing a property (an exclusive lock held to commit,
	// no change), each before its value is read.
	qLockDocs = "UNWIND $ds AS d MERGE (r:DocRecord {digest: d}) RETURN d, r.json IS NOT NULL"
	qLockKeys = `UNWIND $rows AS row
MERGE (k:Key {k: row.k})
ON CREATE SET k.kind = row.kind, k.key = row.key
ON MATCH SET k.mgLock = true
REMOVE k.mgLock
RETURN row.k, k.node`
	qLockNodes   = "UNWIND $ids AS id MATCH (n:Node {id: id}) " + hintNode + " SET n.mgLock = true REMOVE n.mgLock RETURN " + nodeColumns + ", elementId(n)"
	qLockPeers   = "UNWIND $ids AS id MATCH (n:Node {id: id}) " + hintNode + " SET n.mgLock = true REMOVE n.mgLock RETURN n.id, elementId(n)"
	qFillDocs    = "UNWIND $rows AS row MATCH (r:DocRecord {digest: row.digest}) " + hintDoc + " SET r.json = row.json RETURN count(*)"
	qDropKeys    = "UNWIND $rows AS row MATCH (k:Key {k: row.k}) " + hintKey + " WHERE k.node IS NULL DELETE k RETURN count(*)"
	qUpdateNodes = "UNWIND $rows AS row MATCH (n:Node {id: row.id}) " + hintNode + " SET n.keys = row.keys, n.attrs = row.attrs, n.docs = row.docs, n.keyDocs = row.keyDocs, n.joins = row.joins, n.searchText = row.searchText RETURN count(*)"
	// Merges: keys move to the surviving node, absorbed nodes go (their
	// edges were re-pointed first), their ids become aliases.
	qMoveKeys    = "UNWIND $rows AS row MATCH (k:Key {k: row.k}) " + hintKey + " SET k.node = row.node RETURN count(*)"
	qDeleteNodes = "UNWIND $rows AS row MATCH (n:Node {id: row.id}) DETACH DELETE n"
	qSetAliases  = "UNWIND $rows AS row MERGE (a:Alias {id: row.from}) SET a.node = row.to RETURN count(*)"
	qAlias       = "MATCH (a:Alias {id: $id}) RETURN a.node"
	// qIncident lists every edge of the given nodes (both directions).
	qIncident = "UNWIND $ids AS id MATCH (n:Node {id: id})-[r]-(m) RETURN startNode(r).id, type(r), endNode(r).id, r.attrs, r.docs"

	qLookup = "UNWIND $ks AS kk MATCH (k:Key {k: kk}) " + hintKey + " MATCH (n:Node {id: k.node}) " + hintNode + " RETURN " + nodeColumns
	// Ordering by both properties of the composite (kind, id) index lets
	// the index provide the order: a page costs its size, not the kind's.
	qNodes     = "MATCH (n:Node) USING INDEX n:Node(kind, id) WHERE n.kind = $kind AND n.id > $after RETURN " + nodeColumns + " ORDER BY n.kind, n.id LIMIT $limit"
	qLoadNodes = "UNWIND $ids AS id MATCH (n:Node {id: id}) " + hintNode + " RETURN " + nodeColumns
	qDocuments = "UNWIND $ds AS d MATCH (r:DocRecord {digest: d}) " + hintDoc + " RETURN r.digest, r.json"
)

// edgeKey is the key property of an edge: its ends' ids. Each edge type
// has a uniqueness constraint on it, so at most one edge of a kind joins
// two nodes in one direction (the database enforces the model's rule) and
// an edge is found by an index seek. Finding it by matching a pattern
// between its two ends leaves the plan to the cost model, which on a small
// graph scans every relationship and on a large one may expand every edge
// of a dense end (a package with 100k dependents).
func edgeKey(from, to graph.NodeID) string { return string(from) + "-" + string(to) }

// qCreateNodes and qCreateEdges create the nodes and the edges of a plan,
// every kind in one statement: the label and the relationship type are
// parameters too (dynamic labels, `$(row.kind)`, Neo4j 5.26), so a
// document's new nodes cost one statement and its new edges another,
// whatever kinds they have. (Before, one statement per kind present: each
// a round trip, ~25 ms apiece on the loaded dev machine, 11 of them for a
// group of signed documents.) Edge ends are found by index seeks; the
// per-type uniqueness constraint on key still rejects a second edge of a
// kind between two nodes. Kinds come from graph's closed sets (Batch
// validation), never from callers' strings.
//
// The dynamic form is slower per row (the 100k bulk load's 560k edges took
// 102 s of statement time against 53 s with one static statement per type,
// same machine), so write uses it only for plans with at most
// smallWriteRows new nodes or edges (an Apply or a group commit), where
// the round trips dominate, and the per-kind statements (qCreateNodesOf,
// qCreateEdgesOf, the label or type written into the text from graph's
// closed sets) for bulk chunks.
const (
	qCreateNodes = "UNWIND $rows AS row CREATE (n:Node:$(row.kind) " + newNodeProps + ") RETURN n.id, elementId(n)"
	qCreateEdges = "UNWIND $rows AS row MATCH (a) WHERE elementId(a) = row.fe MATCH (b) WHERE elementId(b) = row.te CREATE (a)-[:$(row.kind) {key: row.key, attrs: row.attrs, docs: row.docs}]->(b)"
)

// newNodeProps are the properties a created node gets, the same in both
// create statements (searchText: the full-text index's field, fulltext.go).
const newNodeProps = "{id: row.id, kind: row.kind, keys: row.keys, attrs: row.attrs, docs: row.docs, keyDocs: row.keyDocs, joins: row.joins, searchText: row.searchText}"

// smallWriteRows: see qCreateNodes.
const smallWriteRows = 2000

var (
	qCreateNodesOf = map[graph.NodeKind]string{}
	qCreateEdgesOf = map[graph.EdgeKind]string{}
)

func init() {
	for _, k := range graph.NodeKinds {
		qCreateNodesOf[k] = fmt.Sprintf("UNWIND $rows AS row CREATE (n:Node:`%s` %s) RETURN n.id, elementId(n)", k, newNodeProps)
	}
	for _, k := range graph.EdgeKinds {
		qCreateEdgesOf[k] = fmt.Sprintf("UNWIND $rows AS row MATCH (a) WHERE elementId(a) = row.fe MATCH (b) WHERE elementId(b) = row.te CREATE (a)-[:`%s` {key: row.key, attrs: row.attrs, docs: row.docs}]->(b)", k)
	}
}

// qLoadEdgesOf reads edges of one kind by key; qUpdateEdgesOf rewrites
// their evidence and reports how many it matched. One statement per kind
// present, not one UNION over every kind: a 20-part UNION (most parts over
// empty lists) now and then took seconds to plan on the first call after
// the statistics changed, stalling a bulk load.
var (
	qLoadEdgesOf   = map[graph.EdgeKind]string{}
	qUpdateEdgesOf = map[graph.EdgeKind]string{}
)

func init() {
	for _, k := range graph.EdgeKinds {
		qLoadEdgesOf[k] = fmt.Sprintf("UNWIND $keys AS k MATCH ()-[r:`%s` {key: k}]->() USING INDEX r:`%s`(key) RETURN k, r.attrs, r.docs", k, k)
		qUpdateEdgesOf[k] = fmt.Sprintf("UNWIND $rows AS row MATCH ()-[r:`%s` {key: row.key}]->() USING INDEX r:`%s`(key) SET r.attrs = row.attrs, r.docs = row.docs RETURN count(*)", k, k)
	}
}

// typeList renders the edge kinds dir follows from one end (forward: from
// the From end) as a relationship type expression, "" when there are none.
func typeList(dir graph.Direction, kinds []graph.EdgeKind, forward bool) string {
	var ts []string
	for _, k := range graph.EdgeKinds {
		if len(kinds) > 0 && !slices.Contains(kinds, k) {
			continue
		}
		if dir.Follows(k, forward) {
			ts = append(ts, "`"+string(k)+"`")
		}
	}
	return strings.Join(ts, "|")
}

// qAdjacent lists, per node id in $ids, its outgoing and incoming edges of
// the types dir follows on each side ("" when it follows none). Pattern
// comprehensions give one row per node and expand each side only for its
// own types, so a walk upstream from a package with 100k dependents does
// not read them. A self-loop appears once on each side, as on graph/embedded.
func qAdjacent(dir graph.Direction, kinds []graph.EdgeKind, records bool) string {
	outTypes, inTypes := typeList(dir, kinds, true), typeList(dir, kinds, false)
	if outTypes == "" && inTypes == "" {
		return ""
	}
	proj := "[type(r), m.id, m.kind]"
	if records {
		proj = "[type(r), m.id, m.kind, r.attrs, r.docs]"
	}
	outs, ins := "[]", "[]"
	if outTypes != "" {
		outs = fmt.Sprintf("[(n)-[r:%s]->(m) | %s]", outTypes, proj)
	}
	if inTypes != "" {
		ins = fmt.Sprintf("[(n)<-[r:%s]-(m) | %s]", inTypes, proj)
	}
	return fmt.Sprintf("UNWIND $ids AS id MATCH (n:Node {id: id}) %s RETURN id, %s AS outs, %s AS ins", hintNode, outs, ins)
}

// statsQuery counts through the count store: a count of one label or of
// one relationship type is answered without scanning anything.
var statsQuery = func() string {
	var parts []string
	for _, k := range graph.NodeKinds {
		parts = append(parts, fmt.Sprintf("MATCH (n:`%s`) WITH count(n) AS c RETURN 'n' AS what, '%s' AS kind, c", k, k))
	}
	for _, k := range graph.EdgeKinds {
		parts = append(parts, fmt.Sprintf("MATCH ()-[r:`%s`]->() WITH count(r) AS c RETURN 'e' AS what, '%s' AS kind, c", k, k))
	}
	parts = append(parts, "MATCH (d:DocRecord) WITH count(d) AS c RETURN 'd' AS what, '' AS kind, c")
	return strings.Join(parts, "\nUNION ALL\n")
}()

// qWalk is the pushed-down traversal (walk.go): one statement that runs the
// breadth-first search in the server, level by level up to depth levels,
// and returns every node it expanded (the starts first) with its record
// and its adjacency as qAdjacent gives it (edge records included).
// graph.Walk then replays the walk in memory over that adjacency, so the
// visiting order, parents and flags are exactly the embedded walk's.
//
// Each level expands the frontier only over the types dir follows on each
// side (as qAdjacent) and keeps the peers of allowed kinds ($kinds, null
// for all) not seen before: a hash anti-join (an aggregation over seen and
// the candidates), not a list membership test per candidate. The search
// stops expanding once more than $cap nodes are seen: graph.Walk truncates
// before it would expand the level that crossed the cap. The last level
// found (nodes at the depth limit, or the level that crossed the cap) is
// not returned: graph.Walk needs at most some of its records and, at the
// depth limit, its adjacency, which walk.go then reads in the same
// transaction. Parameters: $from (start ids), $kinds, $cap.
func qWalk(dir graph.Direction, kinds []graph.EdgeKind, depth int) string {
	outTypes, inTypes := typeList(dir, kinds, true), typeList(dir, kinds, false)
	var expand []string
	if outTypes != "" {
		expand = append(expand, fmt.Sprintf("MATCH (n)-[:%s]->(m) RETURN m", outTypes))
	}
	if inTypes != "" {
		expand = append(expand, fmt.Sprintf("MATCH (n)<-[:%s]-(m) RETURN m", inTypes))
	}
	var b strings.Builder
	b.WriteString("UNWIND $from AS sid MATCH (s:Node {id: sid}) USING INDEX s:Node(id)\n")
	b.WriteString("WITH collect(DISTINCT s) AS seen\nWITH seen, seen AS frontier, [] AS done\n")
	if len(expand) > 0 {
		for range depth {
			b.WriteString("WITH seen, frontier, done, size(frontier) = 0 OR size(seen) > $cap AS stop\n")
			b.WriteString("CALL (seen, frontier, stop) {\n")
			b.WriteString("  CALL (frontier, stop) { UNWIND CASE WHEN stop THEN [] ELSE frontier END AS n\n")
			b.WriteString("    CALL (n) { " + strings.Join(expand, " UNION ") + " }\n")
			b.WriteString("    RETURN collect(DISTINCT m) AS cand }\n")
			b.WriteString("  UNWIND CASE WHEN size(cand) = 0 THEN [] ELSE [x IN seen | [x, 0]] + [x IN cand | [x, 1]] END AS p\n")
			b.WriteString("  WITH p[0] AS x, min(p[1]) AS side WHERE side = 1 AND ($kinds IS NULL OR x.kind IN $kinds)\n")
			b.WriteString("  RETURN collect(x) AS next }\n")
			b.WriteString("WITH seen + next AS seen, CASE WHEN stop THEN frontier ELSE next END AS frontier, CASE WHEN stop THEN done ELSE done + frontier END AS done\n")
		}
	}
	proj := "[type(r), m.id, m.kind, r.attrs, r.docs]"
	outs, ins := "[]", "[]"
	if outTypes != "" {
		outs = fmt.Sprintf("[(n)-[r:%s]->(m) | %s]", outTypes, proj)
	}
	if inTypes != "" {
		ins = fmt.Sprintf("[(n)<-[r:%s]-(m) | %s]", inTypes, proj)
	}
	fmt.Fprintf(&b, "UNWIND done AS n\nRETURN n.id AS nid, %s AS outs, %s AS ins, %s", outs, ins, nodeColumns)
	return b.String()
}
