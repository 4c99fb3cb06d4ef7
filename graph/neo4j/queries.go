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

const nodeColumns = "n.id, n.kind, n.keys, n.attrs, n.docs"

const (
	qStoredDocs = "UNWIND $ds AS d MATCH (r:DocRecord {digest: d}) RETURN r.digest"
	// qKeyOwners returns each owning node once with the keys it owns.
	qKeyOwners = `UNWIND $ks AS kk
MATCH (k:Key {k: kk})
WITH k.node AS id, collect(kk) AS kks
MATCH (n:Node {id: id})
RETURN kks, ` + nodeColumns
	qCreateDocs  = "UNWIND $rows AS row CREATE (:DocRecord {digest: row.digest, json: row.json})"
	qUpdateNodes = "UNWIND $rows AS row MATCH (n:Node {id: row.id}) SET n.keys = row.keys, n.attrs = row.attrs, n.docs = row.docs RETURN count(*)"
	qCreateKeys  = "UNWIND $rows AS row CREATE (:Key {k: row.k, kind: row.kind, key: row.key, node: row.node})"

	qLookup = "UNWIND $ks AS kk MATCH (k:Key {k: kk}) MATCH (n:Node {id: k.node}) RETURN " + nodeColumns
	// Ordering by both properties of the composite (kind, id) index lets
	// the index provide the order: a page costs its size, not the kind's.
	qNodes     = "MATCH (n:Node) WHERE n.kind = $kind AND n.id > $after RETURN " + nodeColumns + " ORDER BY n.kind, n.id LIMIT $limit"
	qLoadNodes = "UNWIND $ids AS id MATCH (n:Node {id: id}) RETURN " + nodeColumns
	qDocuments = "UNWIND $ds AS d MATCH (r:DocRecord {digest: d}) RETURN r.digest, r.json"
)

func qCreateNodes(kind graph.NodeKind) string {
	return fmt.Sprintf("UNWIND $rows AS row CREATE (:Node:`%s` {id: row.id, kind: '%s', keys: row.keys, attrs: row.attrs, docs: row.docs})", kind, kind)
}

func qCreateEdges(kind graph.EdgeKind) string {
	return fmt.Sprintf("UNWIND $rows AS row MATCH (a:Node {id: row.f}) MATCH (b:Node {id: row.t}) CREATE (a)-[:`%s` {attrs: row.attrs, docs: row.docs}]->(b)", kind)
}

func qUpdateEdges(kind graph.EdgeKind) string {
	return fmt.Sprintf("UNWIND $rows AS row %s SET r.attrs = row.attrs, r.docs = row.docs RETURN count(*)", bindEdge("row.f", "row.t", kind))
}

// qEdgePart reads the edges of one kind named by the [from, to] pairs in
// parameter param; loadEdgeRecords joins parts with UNION ALL.
func qEdgePart(param string, kind graph.EdgeKind) string {
	return fmt.Sprintf("UNWIND $%s AS p %s RETURN '%s' AS t, p[0] AS f, p[1] AS to, r.attrs AS attrs, r.docs AS docs", param, bindEdge("p[0]", "p[1]", kind), kind)
}

// bindEdge matches the edge of kind between the nodes with ids from and to
// as r. Both ends are found by id first and the edge inside a subquery, so
// the planner must join them with Expand(Into), which walks the smaller
// side. Given one pattern it seeks one end and expands all its edges of the
// kind (costed on averages), which on an SBOM document or a package with
// 100k dependents reads them all to find one.
func bindEdge(from, to string, kind graph.EdgeKind) string {
	return fmt.Sprintf("MATCH (a:Node {id: %s}) MATCH (b:Node {id: %s}) CALL (a, b) { MATCH (a)-[r:`%s`]->(b) RETURN r }", from, to, kind)
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
