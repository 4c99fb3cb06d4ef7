package app

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/config"
	"github.com/modelgraph/modelgraph/internal/watch"
)

// OpenWatch opens the watch queue the settings name, replaces its config
// subscriptions with the file's, and returns a Watcher over r (not yet
// started). getenv resolves secret-env.
func OpenWatch(c config.Config, r graph.Reader, log *slog.Logger, getenv func(string) string) (*watch.Watcher, error) {
	var subs []watch.Subscription
	for _, s := range c.Watch.Subscriptions {
		id := s.ID
		if id == "" {
			id = s.Name
		}
		secret := s.Secret
		if s.SecretEnv != "" {
			if secret = getenv(s.SecretEnv); secret == "" {
				return nil, fmt.Errorf("watch subscription %q: secret-env %s is empty or unset", id, s.SecretEnv)
			}
		}
		subs = append(subs, watch.Subscription{ID: id, Name: s.Name, Events: s.Events, Environment: s.Environment,
			MinSeverity: s.MinSeverity, VerifiedOnly: s.VerifiedOnly, PostureBelow: s.PostureBelow, Question: s.Question, URL: s.URL, Format: s.Format, Secret: secret})
	}
	path := c.WatchQueuePath()
	if c.Watch.Queue == "" {
		// Beside the store: data-dir (created like the store's) or the
		// folder of --store; for Neo4j, data-dir.
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("watch queue folder: %w", err)
		}
	}
	q, err := watch.OpenQueue(path)
	if err != nil {
		return nil, err
	}
	if err := q.SyncConfig(subs); err != nil {
		q.Close()
		return nil, fmt.Errorf("watch: %w", err)
	}
	rt := c.Watch.Retry
	return watch.New(watch.Options{Queue: q, Reader: r, Log: log, Buffer: c.Watch.Buffer,
		Retry: watch.Retry{Initial: rt.Initial, Max: rt.Max, Attempts: rt.Attempts, Timeout: rt.Timeout}}), nil
}
