package scorecard_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/scorecard"
	"github.com/modelgraph/modelgraph/ingest/statement"
)

func real(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "scorecard-ossf-scorecard-2024-05-25.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func doc(data []byte) graph.Document {
	return graph.Document{Digest: graph.SHA256Key(data), Source: "scorecard.json"}
}

func TestParseRealResult(t *testing.T) {
	data := real(t)
	if f, err := ingest.Detect(data, ""); err != nil || f != ingest.FormatScorecard {
		t.Fatalf("Detect = %q, %v", f, err)
	}
	b, err := scorecard.Parse(data, doc(data))
	if err != nil {
		t.Fatal(err)
	}
	if b.Doc.Type != "scorecard" || b.Doc.Role != graph.RoleScorecard || graph.RoleOfType(b.Doc.Type) != graph.RoleScorecard {
		t.Fatalf("doc = %+v", b.Doc)
	}
	if len(b.Nodes) != 3 { // the document node, the repository at the commit, the repository
		t.Fatalf("nodes = %+v", b.Nodes)
	}
	const repo = "git+https://github.com/ossf/scorecard"
	var keys []string
	for _, n := range b.Nodes[1:] {
		if n.Kind != graph.KindSource || n.Attrs[scorecard.AttrScore] != "9.6" || n.Attrs[scorecard.AttrDate] != "2024-05-25T20:38:05Z" ||
			n.Attrs[scorecard.AttrCheckPrefix+"Branch-Protection"] != "8" || n.Attrs["uri"] != repo {
			t.Errorf("node = %+v", n)
		}
		keys = append(keys, n.Keys...)
	}
	if strings.Join(keys, " ") != repo+"@d99ae690a90ece02d0fd74c3c5875190c4da76d7 "+repo {
		t.Errorf("keys = %v", keys)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, old, new, want string }{
		{"no repo", `"repo": {`, `"repx": {`, "/repo: is missing"},
		{"bad commit", `"commit": "d99ae690a90ece02d0fd74c3c5875190c4da76d7"
    },
    "scorecard"`, `"commit": "main"
    },
    "scorecard"`, `/repo/commit: "main" is not a git commit`},
		{"bad score", `"score": 9.6`, `"score": 12`, "/score: 12 is out of range"},
		{"bad date", `"date": "2024-05-25T20:38:05Z"`, `"date": "yesterday"`, "/date"},
		{"bad check score", `"score": 8,`, `"score": 18,`, "/checks/1/score: 18 is out of range"},
		{"duplicate key", `"score": 9.6`, `"score": 9.6, "score": 1`, "duplicate"},
		{"bad name", `"name": "github.com/ossf/scorecard"`, `"name": "scorecard"`, "/repo/name"},
	} {
		data := []byte(strings.Replace(string(real(t)), tc.old, tc.new, 1))
		if string(data) == string(real(t)) {
			t.Fatalf("%s: replacement did not apply", tc.name)
		}
		_, err := scorecard.Parse(data, doc(data))
		if err == nil || !errors.Is(err, scorecard.ErrInvalid) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "scorecard.json") {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestFromStatement(t *testing.T) {
	pred := strings.Replace(string(real(t)), `"repo": {
        "name": "github.com/ossf/scorecard",
        "commit": "d99ae690a90ece02d0fd74c3c5875190c4da76d7"
    },`, "", 1)
	st := &statement.Statement{Type: statement.TypeV1, PredicateType: scorecard.PredicateType, Predicate: []byte(pred),
		Subject: []statement.Subject{{Name: "github.com/ossf/scorecard", Digest: map[string]string{"gitCommit": "d99ae690a90ece02d0fd74c3c5875190c4da76d7"}}}}
	d := graph.Document{Digest: graph.SHA256Key([]byte(pred)), Source: "sc.intoto"}
	b, err := scorecard.FromStatement(st, d)
	if err != nil {
		t.Fatal(err)
	}
	if b.Nodes[1].Keys[0] != "git+https://github.com/ossf/scorecard@d99ae690a90ece02d0fd74c3c5875190c4da76d7" {
		t.Fatalf("nodes = %+v", b.Nodes)
	}
	st.Subject[0].Digest = map[string]string{"sha256": strings.Repeat("a", 64)}
	if _, err := scorecard.FromStatement(st, d); err == nil || !strings.Contains(err.Error(), "/subject/0/commit") {
		t.Fatalf("subject without gitCommit: %v", err)
	}
}

// Through the pipeline, unsigned JSON is recorded as an unsigned scorecard
// document.
func TestPipeline(t *testing.T) {
	p := ingest.NewParser(nil)
	ps, err := p.Parse(context.Background(), ingest.Input{Data: real(t), Source: "scorecard.json"})
	if err != nil || len(ps) != 1 || ps[0].Format != ingest.FormatScorecard || ps[0].Batch.Doc.Status() != graph.StatusUnsigned {
		t.Fatalf("parse = %+v, %v", ps, err)
	}
}
