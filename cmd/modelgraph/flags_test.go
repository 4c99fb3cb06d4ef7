package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// serverFlags are the flags only serve has.
var serverFlags = []string{"listen", "demo", "tokens-file", "request-timeout", "shutdown-timeout", "collect",
	"query-timeout", "query-budget", "max-running-queries", "queue-wait", "max-concurrent-ingests", "memory-limit",
	"admission-listen", "admission-tls-cert", "admission-tls-key", "admission-client-ca", "admission-config"}

// TestFlagGroups: server flags are serve's alone (no other command lists
// them, in its flags or its help); store flags are on the commands that
// open the store.
func TestFlagGroups(t *testing.T) {
	root := NewRootCommand()
	var walk func(c *cobra.Command)
	seen := 0
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c == root {
			return
		}
		seen++
		for _, f := range serverFlags {
			has := c.Flags().Lookup(f) != nil || c.InheritedFlags().Lookup(f) != nil
			if has != (c.Name() == "serve") {
				t.Errorf("%s: has --%s = %v", c.CommandPath(), f, has)
			}
		}
	}
	walk(root)
	if seen < 15 {
		t.Fatalf("walked %d commands", seen)
	}
	if root.PersistentFlags().HasFlags() {
		t.Errorf("root has persistent flags: every subcommand would list them")
	}
	for _, path := range [][]string{{"serve"}, {"ingest"}, {"collect"}} {
		c, _, err := root.Find(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"config", "data-dir", "store", "trust-policy", "log-level"} {
			if c.Flags().Lookup(f) == nil {
				t.Errorf("%s lacks the store flag --%s", c.CommandPath(), f)
			}
		}
	}
	help := func(args ...string) string {
		out, _, err := runCLI(t, append(args, "--help")...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, args := range [][]string{{"query", "trace"}, {"ingest"}, {"push"}, {"verify", "model"}} {
		h := help(args...)
		if strings.Contains(h, "--listen") || strings.Contains(h, "--demo") || strings.Contains(h, "--admission-listen") {
			t.Errorf("%s --help lists server flags:\n%s", strings.Join(args, " "), h)
		}
	}
	if h := help("serve"); !strings.Contains(h, "--listen") || !strings.Contains(h, "--demo") || !strings.Contains(h, "--data-dir") {
		t.Errorf("serve --help lacks its flags:\n%s", h)
	}
}

// TestStoreFlagsLayering: a command with store flags only still reads
// the whole config file (server keys in it are accepted, not applied) and
// the environment, and its own flags win over both.
func TestStoreFlagsLayering(t *testing.T) {
	dir := t.TempDir()
	fromFile, fromEnv, fromFlag := filepath.Join(dir, "file"), filepath.Join(dir, "env"), filepath.Join(dir, "flag")
	cfg := filepath.Join(dir, "modelgraph.yaml")
	if err := os.WriteFile(cfg, []byte("data-dir: "+fromFile+"\nlisten: \":1\"\ndemo: false\nlog-level: warn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join("..", "..", "testdata", "intoto", "dataset-raw.intoto.json")
	ingestInto := func(args ...string) {
		t.Helper()
		if _, stderr, err := runCLI(t, append([]string{"ingest", "--progress", "none", "--config", cfg, doc}, args...)...); err != nil {
			t.Fatalf("ingest %v: %v %s", args, err, stderr)
		}
	}
	stored := func(d string) bool { _, err := os.Stat(filepath.Join(d, "graph.db")); return err == nil }
	ingestInto()
	if !stored(fromFile) {
		t.Fatal("the config file's data-dir was not used")
	}
	t.Setenv("MODELGRAPH_DATA_DIR", fromEnv)
	ingestInto()
	if !stored(fromEnv) {
		t.Fatal("MODELGRAPH_DATA_DIR did not win over the file")
	}
	ingestInto("--data-dir", fromFlag)
	if !stored(fromFlag) {
		t.Fatal("--data-dir did not win over the environment")
	}
}
