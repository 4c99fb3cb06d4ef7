package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/internal/watch"
)

func newWatchCommand() *cobra.Command {
	var (
		api apiFlags
		o   watch.FollowOptions
	)
	cmd := &cobra.Command{
		Use:   "watch --server URL [--token-file FILE]",
		Short: "Stream incident events (advisories reaching production, failed verifications, unverified deployments) to the terminal",
		Long: `Watch reads the server's event stream (GET /v1/watch/events, server-sent
events) and prints one line per event: time, severity, kind, trust and summary
(--json prints the events as JSON Lines). It reconnects when the stream ends,
resuming after the last event it printed. Events are what the server's watcher
found in committed documents; see docs/watch.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := api.server()
			if err != nil {
				return err
			}
			if s == nil {
				return errors.New("--server is required (e.g. --server http://127.0.0.1:8080)")
			}
			o.HeaderTimeout = api.timeout
			return watch.Follow(cmd.Context(), s.Base, s.Token, o, cmd.OutOrStdout())
		},
	}
	api.register(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&o.After, "after", "", `start after this event sequence number ("latest": new events only; default: the server's last 100)`)
	f.BoolVar(&o.JSON, "json", false, "print events as JSON Lines")
	f.IntVar(&o.Count, "count", 0, "exit after this many events (0: run until interrupted)")
	return cmd
}
