package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/internal/watch"
)

func newWatchCommand() *cobra.Command {
	var (
		api    apiFlags
		after  string
		asJSON bool
		count  int
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
			c, err := api.server()
			if err != nil {
				return err
			}
			if c == nil {
				return errors.New("--server is required (e.g. --server http://127.0.0.1:8080)")
			}
			// No overall timeout on a stream: bound connecting and headers.
			hc := &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: api.timeout, IdleConnTimeout: time.Minute}}
			out := cmd.OutOrStdout()
			enc := json.NewEncoder(out)
			seen := 0
			err = watch.Stream(cmd.Context(), hc, c.Base, c.Token, after, func(e watch.Event) error {
				if asJSON {
					if err := enc.Encode(e); err != nil {
						return err
					}
				} else {
					fmt.Fprintf(out, "%s  %-8s  %-28s  %-12s  %s\n", e.DetectedAt.UTC().Format(time.RFC3339), e.Severity, e.Kind, e.Trust, e.Summary)
				}
				seen++
				if count > 0 && seen >= count {
					return watch.Stop()
				}
				return nil
			})
			if errors.Is(err, cmd.Context().Err()) && cmd.Context().Err() != nil {
				return nil // interrupted
			}
			return err
		},
	}
	api.register(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&after, "after", "", `start after this event sequence number ("latest": new events only; default: the server's last 100)`)
	f.BoolVar(&asJSON, "json", false, "print events as JSON Lines")
	f.IntVar(&count, "count", 0, "exit after this many events (0: run until interrupted)")
	return cmd
}
