package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

func datasetDoc(n int) []byte {
	return []byte(fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"d%d.tar","digest":{"sha256":"%064x"}}],`+
		`"predicateType":"https://modelgraph.dev/attestation/dataset/v1","predicate":{"name":"acme/d%d","version":"v1"}}`, n, n, n))
}

func runCollect(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newCollectCommand()
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(append([]string{"--log-level", "error"}, args...))
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestCollectCommand(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{"a.json": datasetDoc(1), "sub/b.intoto.json": datasetDoc(2), "broken.json": []byte(`{"_type":`)} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	store := filepath.Join(t.TempDir(), "g.db")
	out, err := runCollect(t, "--store", store, "dir:"+dir)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("a broken file should give exit status 1, got %v\n%s", err, out)
	}
	for _, want := range []string{
		filepath.Join(dir, "broken.json") + ": error:",
		filepath.Join(dir, "a.json") + ": dataset-attestation sha256:",
		"collected 3 documents: 2 new, 0 already stored, 1 failed, 0 skipped, 0 unchanged",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Again, as JSON lines, without the broken file: all duplicates.
	if err := os.Remove(filepath.Join(dir, "broken.json")); err != nil {
		t.Fatal(err)
	}
	out, err = runCollect(t, "--store", store, "-o", "json", "dir:"+dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got:\n%s", out)
	}
	for _, l := range lines {
		var rec struct {
			Source  string `json:"source"`
			Results []struct {
				Receipt graph.Receipt `json:"receipt"`
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil || len(rec.Results) != 1 || !rec.Results[0].Receipt.Duplicate {
			t.Errorf("line %s: %v", l, err)
		}
	}
	if _, err := runCollect(t, "--store", store, "ftp:x"); err == nil || !strings.Contains(err.Error(), "want dir:PATH or oci:REF") && !strings.Contains(err.Error(), "unknown collector") {
		t.Errorf("bad spec: %v", err)
	}
}
