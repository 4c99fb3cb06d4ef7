package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/modelgraph/modelgraph/internal/progress"
)

var update = flag.Bool("update", false, "rewrite golden files")

// timing is the part of the summary that changes from run to run.
var timing = regexp.MustCompile(`in [0-9.]+[µmn]?s \([0-9.]+ MB/s, [0-9.]+ documents/s\)`)

// TestIngestDirectoryGolden: ingesting a directory with bad files ingests
// the rest (on several workers), reports every file in order, and ends with
// the summary naming each rejected file with its kind, field and line; the
// exit status is 1. Four workers record the same; a second run finds every good document a duplicate.
func TestIngestDirectoryGolden(t *testing.T) {
	dir := t.TempDir()
	// One worker: with several, which of two copies of a document is
	// recorded and which is the duplicate depends on timing (the counts do
	// not; checked below).
	args := []string{"ingest", "--data-dir", dir, "--workers", "1", "--progress", "none", filepath.Join("testdata", "ingest-bad")}
	out, stderr, err := runCLI(t, args...)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), "5 of 10 file(s) rejected") {
		t.Fatalf("exit: %v (stderr %q)", err, stderr)
	}
	got := timing.ReplaceAllString(out, "in TIME")
	golden := filepath.Join("testdata", "ingest-bad.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -run TestIngestDirectoryGolden -update):\n%s", golden, got)
	}
	// Again, as JSON receipts: nothing new, the same rejections.
	out, _, err = runCLI(t, "ingest", "--data-dir", dir, "--progress", "none", "-o", "json", filepath.Join("testdata", "ingest-bad"))
	if !errors.As(err, &ee) {
		t.Fatalf("second run: %v", err)
	}
	var rep struct {
		Files []struct {
			Source    string
			Rejection *struct{ Kind, Field string }
		}
		Summary struct{ Files, Documents, Duplicates, Rejected int }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json output: %v\n%s", err, out)
	}
	if s := rep.Summary; s.Files != 10 || s.Documents != 0 || s.Duplicates != 5 || s.Rejected != 5 || len(rep.Files) != 10 {
		t.Errorf("second run summary %+v (%d files)", s, len(rep.Files))
	}
	if r := rep.Files[4].Rejection; r == nil || r.Kind != "malformed" || r.Field != "/predicate/name" {
		t.Errorf("e-bad-field: %+v", rep.Files[4])
	}
	// Four workers on a fresh store: the same counts.
	out, _, _ = runCLI(t, "ingest", "--data-dir", t.TempDir(), "--workers", "4", "--progress", "none", "-o", "json", filepath.Join("testdata", "ingest-bad"))
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if s := rep.Summary; s.Documents != 4 || s.Duplicates != 1 || s.Rejected != 5 {
		t.Errorf("four workers: summary %+v", s)
	}
	// --fail-fast stops at the first rejected file.
	out, _, err = runCLI(t, "ingest", "--data-dir", t.TempDir(), "--workers", "1", "--fail-fast", "--progress", "none", filepath.Join("testdata", "ingest-bad"))
	if !errors.As(err, &ee) || !strings.Contains(out, "3 new document(s), 1 duplicate(s), 1 rejected, 5 not tried (--fail-fast)") {
		t.Errorf("--fail-fast: %v\n%s", err, out)
	}
}

// TestIngestProgress: on a terminal (a pseudo-terminal here) ingest draws
// a progress bar on stderr with files, bytes, documents per second and the
// time left; on a pipe it prints plain progress lines instead.
func TestIngestProgress(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 160}); err != nil {
		t.Fatal(err)
	}
	var screen bytes.Buffer
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = io.Copy(&screen, ptmx) })

	oldThrottle := progress.Throttle
	progress.Throttle = 0 // draw on every file: the test is faster than 100 ms
	defer func() { progress.Throttle = oldThrottle }()
	root := testRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(tty)
	root.SetArgs([]string{"ingest", "--data-dir", t.TempDir(), filepath.Join("testdata", "ingest-bad")})
	err = root.ExecuteContext(context.Background())
	var ee *exitError
	if !errors.As(err, &ee) {
		t.Fatalf("ingest: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	tty.Close()
	wg.Wait()
	s := screen.String()
	for _, want := range []string{"10/10 files", "docs/s", "kB/", "kB/s", "%", "\r"} {
		if !strings.Contains(s, want) {
			t.Errorf("terminal output lacks %q: %q", want, s)
		}
	}
	if !regexp.MustCompile(`\[[0-9]+s:[0-9]+s\]`).MatchString(s) { // elapsed:left
		t.Errorf("terminal output has no time left: %q", s)
	}
	if strings.Contains(out.String(), "\r") || !strings.Contains(out.String(), "rejected:") {
		t.Errorf("stdout (the report) %q", out.String())
	}

	// Not a terminal: plain lines.
	old := progress.PlainEvery
	progress.PlainEvery = 0
	defer func() { progress.PlainEvery = old }()
	_, stderr, _ := runCLI(t, "ingest", "--data-dir", t.TempDir(), filepath.Join("testdata", "ingest-bad"))
	if !regexp.MustCompile(`(?m)^progress: 10/10 files, [0-9.]+/[0-9.]+ MB, [0-9.]+ MB/s, [0-9.]+ docs/s, ETA 0s$`).MatchString(stderr) || strings.Contains(stderr, "\r") {
		t.Errorf("plain progress: %q", stderr)
	}
}
