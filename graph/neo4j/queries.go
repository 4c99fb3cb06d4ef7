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

const (
	qStoredDocs = "UNWIND $ds AS d MATCH (r:DocRecord {digest: d}) RETURN r.digest"
	// qKeyOwners returns each owning node once with the keys it owns.
	qKeyOwners = `UNWIND $ks AS kk
MATCH (k:Key {k: kk})
WITH k.node AS id, collect(kk) AS kks
MATCH (n:Node {id: id})
RETURN kks, ` + nodeColumns
	qCreateDocs  = "UNWIND $rows AS row CREATE (:DocRecord {digest: row.digest, json: row.json})"
	qUpdateNodes = "UNWIND $rows AS row MATCH (n:Node {id: row.id}) SET n.keys = row.keys, n.attrs = row.attrs, n.docs = row.docs, n.keyDocs = row.keyDocs, n.joins = row.joins RETURN count(*)"
	qCreateKeys  = "UNWIND $rows AS row CREATE (:Key {k: row.k, kind: row.kind, key: row.key, node: row.node})"
	// Merges: keys move to the surviving node, absorbed nodes go (their
	// edges were re-pointed first), their ids become aliases.
	qMoveKeys    = "UNWIND $rows AS row MATCH (k:Key {k: row.k}) SET k.node = row.node RETURN count(*)"
	qDeleteNodes = "UNWIND $rows AS row MATCH (n:Node {id: row.id}) DETACH DELETE n"
	qSetAliases  = "UNWIND $rows AS row MERGE (a:Alias {id: row.from}) SET a.node = row.to RETURN count(*)"
	qAlias       = "MATCH (a:Alias {id: $id}) RETURN a.node"
	// qIncident lists every edge of the given nodes (both directions).
	qIncident = "UNWIND $ids AS id MATCH (n:Node {id: id})-[r]-(m) RETURN startNode(r).id, type(r), endNode(r).id, r.attrs, r.docs"

	qLookup = "UNWIND $ks AS kk MATCH (k:Key {k: kk}) MATCH (n:Node {id: k.node}) RETURN " + nodeColumns
	// Ordering by both properties of the composite (kind, id) index lets
	// the index provide the order: a page costs its size, not the kind's.
	qNodes     = "MATCH (n:Node) WHERE n.kind = $kind AND n.id > $after RETURN " + nodeColumns + " ORDER BY n.kind, n.id LIMIT $limit"
	qLoadNodes = "UNWIND $ids AS id MATCH (n:Node {id: id}) RETURN " + nodeColumns
	qDocuments = "UNWIND $ds AS d MATCH (r:DocRecord {digest: d}) RETURN r.digest, r.json"
)

// qCreateNodes creates nodes of any kinds in one statement: labels cannot
// be parameters before Neo4j 5.26, so each row sets its kind label through
// the FOREACH-over-CASE idiom (a loop over one element or none).
var qCreateNodes = func() string {
	var b strings.Builder
	b.WriteString("UNWIND $rows AS row CREATE (n:Node {id: row.id, kind: row.kind, keys: row.keys, attrs: row.attrs, docs: row.docs, keyDocs: row.keyDocs, joins: row.joins})")
	for _, k := range graph.NodeKinds {
		fmt.Fprintf(&b, "\nFOREACH (_ IN CASE row.kind WHEN '%s' THEN [1] ELSE [] END | SET n:`%s`)", k, k)
	}
	return b.String()
}()

// edgeKey is the key property of an edge: its ends' ids. Each edge type
// has a uniqueness constraint on it, so at most one edge of a kind joins
// two nodes in one direction (the database enforces the model's rule) and
// an edge is found by an index seek. Finding it by matching a pattern
// between its two ends leaves the plan to the cost model, which on a small
// graph scans every relationship and on a large one may expand every edge
// of a dense end (a package with 100k dependents).
func edgeKey(from, to graph.NodeID) string { return string(from) + "-" + string(to) }

// qCreateEdges creates edges of any kinds in one statement, choosing the
// relationship type as qCreateNodes chooses the label.
var qCreateEdges = func() string {
	var b strings.Builder
	b.WriteString("UNWIND $rows AS row MATCH (a:Node {id: row.f}) MATCH (b:Node {id: row.t})")
	for _, k := range graph.EdgeKinds {
		fmt.Fprintf(&b, "\nFOREACH (_ IN CASE row.kind WHEN '%s' THEN [1] ELSE [] END | CREATE (a)-[:`%s` {key: row.key, attrs: row.attrs, docs: row.docs}]->(b))", k, k)
	}
	return b.String()
}()

// qUpdateEdges rewrites the evidence of edges by key, with one list of
// rows per kind as in qLoadEdges; each part reports how many it updated.
var qUpdateEdges = func() string {
	parts := make([]string, len(graph.EdgeKinds))
	for i, k := range graph.EdgeKinds {
		parts[i] = fmt.Sprintf("UNWIND $%s AS row MATCH ()-[r:`%s` {key: row.key}]->() SET r.attrs = row.attrs, r.docs = row.docs RETURN count(*) AS n", edgeParam(k), k)
	}
	return strings.Join(parts, "\nUNION ALL\n")
}()

// qLoadEdges reads edges by key, one list parameter of keys per kind (see
// edgeParam; absent kinds get an empty list). The text is the same whatever
// kinds are asked, so the server plans it once.
var qLoadEdges = func() string {
	parts := make([]string, len(graph.EdgeKinds))
	for i, k := range graph.EdgeKinds {
		parts[i] = fmt.Sprintf("UNWIND $%s AS k MATCH ()-[r:`%s` {key: k}]->() RETURN '%s' AS kind, k AS key, r.attrs AS attrs, r.docs AS docs", edgeParam(k), k, k)
	}
	return strings.Join(parts, "\nUNION ALL\n")
}()

func edgeParam(k graph.EdgeKind) string { return fmt.Sprintf("e%d", k.Code()) }

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
// not read them. A self-loop appears once on each side, as on graph/bolt.
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
	return fmt.Sprintf("UNWIND $ids AS id MATCH (n:Node {id: id}) RETURN id, %s AS outs, %s AS ins", outs, ins)
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
