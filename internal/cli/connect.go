package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	"github.com/modelgraph/modelgraph/internal/client"
	"github.com/modelgraph/modelgraph/internal/config"
	"github.com/modelgraph/modelgraph/internal/posture"
)

// Target says where a question is asked: a server (Server set) or the
// local store (Settings), and how.
type Target struct {
	// Server is the server's base URL; empty: the local store.
	Server string
	// TokenFile holds the API token (default: $MODELGRAPH_TOKEN).
	TokenFile string
	// Timeout is the per-request timeout against a server.
	Timeout time.Duration
	// PosturePolicy is a posture policy YAML for local runs (a server
	// answers with its own).
	PosturePolicy string
	// Settings loads the store settings of a local run.
	Settings func() (config.Config, error)
	// UserAgent is sent to a server.
	UserAgent string
	// Warn receives warnings (a token over plain http).
	Warn io.Writer
}

// Connect returns a client of the target and what to call when done.
func (t Target) Connect(ctx context.Context) (*client.Client, func() error, error) {
	if t.Server == "" {
		if t.TokenFile != "" {
			return nil, nil, errors.New("--token-file needs --server")
		}
		pp, err := posture.LoadPolicy(t.PosturePolicy)
		if err != nil {
			return nil, nil, err
		}
		c, err := t.Settings()
		if err != nil {
			return nil, nil, err
		}
		return Local(ctx, c, pp)
	}
	if t.PosturePolicy != "" {
		return nil, nil, errors.New("a posture policy applies to local runs; a server answers with its own posture policy (serve --posture-policy)")
	}
	base, token, err := client.Endpoint(t.Server, t.TokenFile, os.Getenv, t.Warn)
	if err != nil {
		return nil, nil, err
	}
	return Remote(base, token, t.UserAgent, t.Timeout), func() error { return nil }, nil
}
