package main

import (
	"errors"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/modelgraph/modelgraph/internal/app"
	"github.com/modelgraph/modelgraph/internal/config"
	"github.com/modelgraph/modelgraph/internal/push"
)

// Flags come in groups, each added only to the commands that read it:
// store flags (commands that open the store), server flags (serve) and
// client flags (commands that talk to a server). The config file and
// MODELGRAPH_* variables still set every setting (internal/config).

// storeOptions are the settings of a command that opens the store.
type storeOptions struct{ flags *pflag.FlagSet }

func addStoreFlags(cmd *cobra.Command, o *storeOptions) {
	c := config.Defaults()
	config.RegisterStoreFlags(cmd.Flags(), &c)
	o.flags = cmd.Flags()
}

// load layers defaults, the config file, the environment and the flags.
func (o *storeOptions) load() (config.Config, error) { return config.Load(o.flags, os.Getenv) }

// withSettings adds the store flags to cmd and returns their loader.
func withSettings(cmd *cobra.Command) func() (config.Config, error) {
	var o storeOptions
	addStoreFlags(cmd, &o)
	return o.load
}

// serverOptions are serve's flags beyond the store's.
type serverOptions struct{ app.ServeOptions }

func addServerFlags(cmd *cobra.Command, o *serverOptions) {
	c := config.Defaults()
	f := cmd.Flags()
	config.RegisterServerFlags(f, &c)
	o.AddFlags(f)
}

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
