package main

import (
	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/internal/app"
)

func newServeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API (GraphQL, push endpoint, health) over the configured store",
		Long: `Serve runs the API over the configured store until interrupted. The first
SIGINT or SIGTERM stops it in order: the HTTP listener drains, then the
admission webhook, the collectors, the watcher, and the store closes last
(within --shutdown-timeout). A second signal exits at once (status 130).`,
		Args: cobra.NoArgs,
	}
	var st storeOptions
	var srv serverOptions
	addStoreFlags(cmd, &st)
	addServerFlags(cmd, &srv)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := st.load()
		if err != nil {
			return err
		}
		o := srv.ServeOptions
		o.Out = cmd.OutOrStdout()
		return app.Serve(cmd.Context(), c, o)
	}
	return cmd
}
