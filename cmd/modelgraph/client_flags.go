package main

import (
	"errors"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/modelgraph/modelgraph/internal/cli"
	"github.com/modelgraph/modelgraph/internal/config"
)

// clientOptions point a question at a server (--server) or at the local
// store (the store settings, read when it runs).
type clientOptions struct {
	target cli.Target
	output string
}

// addClientFlags registers the client flags (--server, --token-file,
// --timeout) and the store settings of local runs (storeFlags only: a
// question needs no listen address, tokens file or trust policy).
func addClientFlags(cmd *cobra.Command, o *clientOptions) {
	f := cmd.Flags()
	f.StringVar(&o.target.Server, "server", "", "modelgraph server URL (e.g. https://modelgraph.example); without it, the local store")
	f.StringVar(&o.target.TokenFile, "token-file", "", "file holding the API token (default: $MODELGRAPH_TOKEN)")
	f.DurationVar(&o.target.Timeout, "timeout", 2*time.Minute, "per-request timeout against --server")
	o.target.Settings = storeSettings(cmd)
	o.target.UserAgent = "modelgraph/" + versionString()
	o.target.Warn = os.Stderr
}

// storeFlags are the settings a local run reads: where the store is.
var storeFlags = []string{"config", "data-dir", "store", "neo4j-user", "neo4j-password-file", "neo4j-database"}

// storeSettings gives cmd the store settings as flags (the definitions of
// internal/config) and returns their loader (defaults, file, env, flags).
func storeSettings(cmd *cobra.Command) func() (config.Config, error) {
	all := pflag.NewFlagSet("settings", pflag.ContinueOnError)
	c := config.Defaults()
	config.RegisterFlags(all, &c)
	for _, name := range storeFlags {
		cmd.Flags().AddFlag(all.Lookup(name))
	}
	return func() (config.Config, error) { return config.Load(cmd.Flags(), os.Getenv) }
}

// questionCommand is the command of one question: its flags, the client
// flags, --output, and a run through the question's operation.
func questionCommand(q cli.Question) *cobra.Command {
	var o clientOptions
	cmd := &cobra.Command{Use: q.Name, Short: q.Short, Example: q.Example, Args: cobra.NoArgs}
	if q.Use != "" {
		cmd.Use, cmd.Args = q.Use, cobra.ArbitraryArgs
	}
	addClientFlags(cmd, &o)
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "output: table or json (the operation's answer)")
	if q.Flags != nil {
		q.Flags(cmd.Flags())
	}
	if q.PolicyFlag != "" {
		cmd.Flags().StringVar(&o.target.PosturePolicy, q.PolicyFlag, "", "posture policy YAML (docs/posture.md; local runs only: a server uses its own)")
	}
	for _, f := range q.Required {
		_ = cmd.MarkFlagRequired(f)
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if q.Args != nil {
			if err := q.Args(args); err != nil {
				return err
			}
		}
		if err := q.CheckFormat(o.output); err != nil {
			return err
		}
		return o.run(cmd, q, cmd.OutOrStdout())
	}
	return cmd
}

// run asks q through the target and prints to w.
func (o *clientOptions) run(cmd *cobra.Command, q cli.Question, w io.Writer) error {
	c, done, err := o.target.Connect(cmd.Context())
	if err != nil {
		return err
	}
	defer done()
	return exitStatus(q.Run(cmd.Context(), c, w, o.output))
}

// exitStatus carries a question's verdict (cli.ExitError) as the
// process exit status.
func exitStatus(err error) error {
	var ee *cli.ExitError
	if errors.As(err, &ee) {
		return &exitError{code: ee.Code, err: ee.Err}
	}
	return err
}
