package bulk

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
)

// TestExpand: files as given, directories walked in lexical order with
// hidden directories left out; a missing path is an error.
func TestExpand(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"b/2.json", "b/1.json", "a.json", ".git/x.json", "c/.hidden/y.json", "c/.z.json"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	single := filepath.Join(dir, "b", "2.json")
	got, err := Expand([]string{single, dir})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{single, filepath.Join(dir, "a.json"), filepath.Join(dir, "b/1.json"), filepath.Join(dir, "b/2.json"), filepath.Join(dir, "c/.z.json")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Expand = %v, want %v", got, want)
	}
	if n := TotalSize(got); n != int64(2*len(want)) {
		t.Errorf("TotalSize = %d", n)
	}
	if _, err := Expand([]string{filepath.Join(dir, "none")}); err == nil {
		t.Error("a missing path was accepted")
	}
}

// TestPrinter: text lines per document, warnings and rejections (field and
// line, without repeating the file name), then the summary; JSON: one
// object with every file and the summary.
func TestPrinter(t *testing.T) {
	ok := Outcome{Source: "a.json", Results: []ingest.Result{{Source: "a.json", Document: graph.Document{Type: "sbom"},
		Receipt: graph.Receipt{Document: "sha256:aa", Status: graph.StatusUnsigned, NodesCreated: 3, EdgesCreated: 2}, Warnings: []string{"2 components without identity"}}}}
	dup := Outcome{Source: "b.json", Results: []ingest.Result{{Source: "b.json", Document: graph.Document{Type: "sbom"}, Receipt: graph.Receipt{Document: "sha256:aa", Duplicate: true}}}}
	bad := Outcome{Source: "c.json", Rejection: &Rejection{Kind: "malformed", Message: "c.json: name: want a string", Field: "/predicate/name", Line: 4}}
	sum := Summary{Files: 3, Bytes: 2e6, Documents: 1, Duplicates: 1, Rejected: 1, Elapsed: time.Second, Rejections: []Outcome{bad}}

	var out bytes.Buffer
	cleared := 0
	p := &Printer{W: &out, Clear: func() { cleared++ }}
	for _, oc := range []Outcome{ok, dup, bad} {
		p.Outcome(oc)
	}
	if err := p.Finish(sum); err != nil {
		t.Fatal(err)
	}
	want := `a.json: sbom sha256:aa unsigned, 3 nodes and 2 edges created, 0 nodes and 0 edges updated
a.json: warning: 2 components without identity
b.json: sbom sha256:aa duplicate (already ingested)
c.json: rejected (malformed): field /predicate/name, line 4: name: want a string
ingested 3 file(s), 2.0 MB in 1s (2.0 MB/s, 2.0 documents/s): 1 new document(s), 1 duplicate(s), 1 rejected
rejected:
  c.json (malformed): field /predicate/name, line 4: name: want a string
`
	if out.String() != want || cleared != 3 {
		t.Fatalf("text (%d clears):\n%s\nwant:\n%s", cleared, out.String(), want)
	}

	out.Reset()
	p = &Printer{W: &out, JSON: true}
	p.Outcome(ok)
	p.Outcome(bad)
	if err := p.Finish(sum); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Files   []Outcome
		Summary map[string]any
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 2 || rep.Files[1].Rejection.Field != "/predicate/name" || rep.Summary["rejected"] != float64(1) || rep.Summary["rejections"] != nil {
		t.Errorf("json %s", out.String())
	}
	out.Reset()
	if err := (&Printer{W: &out, JSON: true}).Finish(Summary{}); err != nil || !strings.Contains(out.String(), `"files": []`) {
		t.Errorf("empty run: %s %v", out.String(), err)
	}
}
