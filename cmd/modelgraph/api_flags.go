package main

import (
	"errors"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/modelgraph/modelgraph/internal/push"
)

// apiFlags point push and watch at a server.
type apiFlags struct {
	url, tokenFile string
	timeout        time.Duration
}

func (a *apiFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&a.url, "server", "", "modelgraph server URL (e.g. https://modelgraph.example)")
	fs.StringVar(&a.tokenFile, "token-file", "", "file holding the API token (default: $MODELGRAPH_TOKEN)")
	fs.DurationVar(&a.timeout, "timeout", 2*time.Minute, "per-request timeout")
}

// server connects to --server, or returns nil when none was given.
func (a *apiFlags) server() (*push.Server, error) {
	if a.url == "" {
		if a.tokenFile != "" {
			return nil, errors.New("--token-file needs --server")
		}
		return nil, nil
	}
	s, err := push.Connect(a.url, a.tokenFile, a.timeout, os.Getenv, os.Stderr)
	if s != nil {
		s.UserAgent = "modelgraph/" + versionString()
	}
	return s, err
}
