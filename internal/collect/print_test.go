package collect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/internal/collect"
)

// TestRunAllAndOutput: RunAll runs every collector (the good one's
// documents are stored though another fails) and joins the failures;
// WriteOutcome prints what `collect` prints, in text and JSON Lines;
// Stats says the totals.
func TestRunAllAndOutput(t *testing.T) {
	p, _ := newPipeline(t, nil)
	root := t.TempDir()
	write(t, filepath.Join(root, "d1.json"), datasetStatement(t, 1))
	write(t, filepath.Join(root, "copy.json"), datasetStatement(t, 1))
	write(t, filepath.Join(root, "bad.json"), []byte(`{"_type": 1, `))
	missing := filepath.Join(t.TempDir(), "nope")
	cs, err := collect.ParseAll([]string{"dir:" + root, "dir:" + missing}, collect.Options{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := collect.ParseAll([]string{"s3:x", "dir:" + root, "ftp:y"}, collect.Options{}); err == nil || !strings.Contains(err.Error(), "s3:x") || !strings.Contains(err.Error(), "ftp:y") {
		t.Errorf("ParseAll must report every bad spec: %v", err)
	}
	var text, lines bytes.Buffer
	r := &collect.Runner{Pipeline: p, Log: quiet, OnOutcome: func(o collect.Outcome) {
		collect.WriteOutcome(&text, false, o)
		collect.WriteOutcome(&lines, true, o)
	}}
	err = r.RunAll(context.Background(), cs)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "dir:"+missing) {
		t.Fatalf("RunAll: %v", err)
	}
	st := r.Stats()
	if st.Ingested != 1 || st.Failed != 1 || st.Unchanged != 1 {
		t.Fatalf("stats %+v", st)
	}
	if got := st.String(); got != "collected 2 documents: 1 new, 0 already stored, 1 failed, 0 skipped, 1 unchanged" {
		t.Errorf("summary %q", got)
	}
	out := text.String()
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, "bad.json: error:") || !strings.Contains(out, "d1.json: dataset-attestation sha256:") && !strings.Contains(out, "copy.json: dataset-attestation sha256:") {
		t.Errorf("text output (the unchanged copy says nothing):\n%s", out)
	}
	var recs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(lines.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		recs = append(recs, m)
	}
	if len(recs) != 3 {
		t.Fatalf("%d JSON lines, want one per outcome:\n%s", len(recs), lines.String())
	}
	var unchanged, failed, results int
	for _, m := range recs {
		switch {
		case m["unchanged"] == true:
			unchanged++
		case m["error"] != nil:
			failed++
		case m["results"] != nil:
			results++
		}
	}
	if unchanged != 1 || failed != 1 || results != 1 {
		t.Errorf("JSON lines %v", recs)
	}
}
