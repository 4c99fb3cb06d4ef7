package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	c := Defaults()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs, &c)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return Load(fs, func(k string) string { return env[k] })
}

func TestLayering(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("listen: \":9000\"\nlog-level: debug\nrequest-timeout: 5s\ndata-dir: /from/file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := load(t, []string{"--config", file, "--listen", ":7000"}, map[string]string{"MODELGRAPH_LISTEN": ":8000", "MODELGRAPH_LOG_LEVEL": "warn"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":7000" {
		t.Errorf("listen = %q: flag must win over env and file", c.Listen)
	}
	if c.LogLevel != "warn" {
		t.Errorf("log-level = %q: env must win over file", c.LogLevel)
	}
	if c.RequestTimeout != 5*time.Second || c.DataDir != "/from/file" {
		t.Errorf("file settings lost: %+v", c)
	}
	if c.LogFormat != "text" {
		t.Errorf("default lost: log-format %q", c.LogFormat)
	}
}

func TestValidateReportsAll(t *testing.T) {
	_, err := load(t, []string{"--log-format", "xml", "--log-level", "loud", "--store", "ftp://x", "--collect", "s3:bucket"}, nil)
	if err == nil {
		t.Fatal("invalid settings accepted")
	}
	for _, want := range []string{"log-format", "log-level", "store", "collect"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestUnknownFileKeyRejected(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("lissten: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := load(t, []string{"--config", file}, nil); err == nil || !strings.Contains(err.Error(), "lissten") {
		t.Fatalf("typo in config file: error %v", err)
	}
}

func TestBadEnvNamesVariable(t *testing.T) {
	_, err := load(t, nil, map[string]string{"MODELGRAPH_MAX_BODY_BYTES": "lots"})
	if err == nil || !strings.Contains(err.Error(), "MODELGRAPH_MAX_BODY_BYTES") {
		t.Fatalf("error %v does not name the variable", err)
	}
}

func TestStoreSelection(t *testing.T) {
	for store, neo := range map[string]bool{"": false, "/tmp/g.db": false, "bolt://h:7687": true, "neo4j+s://x": true, "neo4j://x": true} {
		c := Defaults()
		c.Store = store
		if c.Neo4j() != neo {
			t.Errorf("%q: Neo4j() = %v", store, c.Neo4j())
		}
	}
	c := Defaults()
	c.DataDir = "/d"
	if c.EmbeddedPath() != "/d/graph.db" {
		t.Errorf("embedded path %q", c.EmbeddedPath())
	}
}

func TestWatchSection(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	yml := `data-dir: ` + dir + `
watch:
  retry: {initial: 2s, attempts: 4}
  subscriptions:
    - name: prod-advisories
      events: [advisory-reaches-environment]
      environment: production
      min-severity: high
      url: http://127.0.0.1:9/hook
      secret-env: HOOK_SECRET
    - name: slack
      format: slack
      events: [posture-drop]
      posture-below: 80
      url: http://127.0.0.1:9/slack
`
	if err := os.WriteFile(file, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := load(t, []string{"--config", file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := c.Watch
	if len(w.Subscriptions) != 2 || w.Subscriptions[0].MinSeverity != "high" || w.Subscriptions[0].SecretEnv != "HOOK_SECRET" ||
		w.Subscriptions[1].Format != "slack" || w.Subscriptions[1].PostureBelow != 80 || w.Retry.Initial != 2*time.Second || w.Retry.Attempts != 4 {
		t.Errorf("watch section: %+v", w)
	}
	if got := c.WatchQueuePath(); got != filepath.Join(dir, "watch.db") {
		t.Errorf("queue path %q", got)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("watch:\n  subscriptions:\n    - name: a\n      url: http://x\n    - name: a\n    - name: b\n      url: http://y\n      secret: s\n      secret-env: E\n  retry: {attempts: -1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = load(t, []string{"--config", bad}, nil)
	for _, want := range []string{`id "a" is used twice`, "(a): url is empty", "not both", "attempts -1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v: want %q", err, want)
		}
	}
}
