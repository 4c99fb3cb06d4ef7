package neo4j

import "testing"

func TestCheckVersion(t *testing.T) {
	for agent, ok := range map[string]bool{
		"Neo4j/5.26.31":   true,
		"Neo4j/5.25.0":    false,
		"Neo4j/2025.06.0": true,
		"Neo4j/5.22.0":    false,
		"Neo4j/4.4.40":    false,
		"Memgraph/2.0":    false,
		"Neo4j/x":         false,
	} {
		if err := checkVersion(agent); (err == nil) != ok {
			t.Errorf("checkVersion(%q) = %v, want ok=%v", agent, err, ok)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"neo4j+s://user:secret@db.example:7687": "neo4j+s://…@db.example:7687",
		"bolt://127.0.0.1:7687":                 "bolt://127.0.0.1:7687",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
