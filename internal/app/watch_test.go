package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/internal/config"
)

// TestOpenWatch: config subscriptions reach the queue (secret-env
// resolved), the queue sits beside the store, a missing secret variable is
// an error naming the subscription.
func TestOpenWatch(t *testing.T) {
	dir := t.TempDir()
	s, err := embedded.Open(filepath.Join(dir, "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := config.Defaults()
	c.DataDir = filepath.Join(dir, "data")
	c.Watch.Subscriptions = []config.WatchSubscription{{Name: "prod", URL: "http://127.0.0.1:9/x", SecretEnv: "HOOK"}}
	env := map[string]string{"HOOK": "k"}
	w, err := OpenWatch(c, s, nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	stored, err := w.Queue().Subscriptions()
	if err != nil || len(stored) != 1 || stored[0].ID != "prod" || stored[0].Secret != "k" || stored[0].Source != "config" {
		t.Errorf("stored %+v %v", stored, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "watch.db")); err != nil {
		t.Errorf("queue file: %v", err)
	}
	delete(env, "HOOK")
	if _, err := OpenWatch(c, s, nil, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), `"prod"`) {
		t.Errorf("missing secret: %v", err)
	}
}
