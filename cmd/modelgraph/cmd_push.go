package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/ingest/bulk"
	"github.com/modelgraph/modelgraph/internal/progress"
	"github.com/modelgraph/modelgraph/internal/push"
)

func newPushCommand() *cobra.Command {
	var (
		api          apiFlags
		o            push.Options
		output       string
		progressMode string
	)
	cmd := &cobra.Command{
		Use:   "push --server URL [--token-file FILE] PATH...",
		Short: "Push documents to a modelgraph server (POST /v1/ingest), for CI",
		Long: `Push sends each file (directories recursively) to the server's push
endpoint, one document per request, and prints what the server recorded: the
document digest, its detected type, how many nodes and edges it added, and
the verification status of its signatures.

Pushing is idempotent (documents are keyed by the digest of their bytes), so
requests that fail with a 5xx, 429 or a connection error are retried with
exponential backoff. A 4xx answer (malformed, unsupported, too large, bad
token) is reported and not retried. The exit status is 1 when any file
failed.

Progress goes to stderr as for ingest: a bar on a terminal (files, bytes,
MB/s, documents/s, time left), plain lines every few seconds otherwise
(--progress none to silence it).

The token is read from --token-file, else from MODELGRAPH_TOKEN; it needs
the write scope.`,
		Args: cobra.MinimumNArgs(1),
	}
	api.register(cmd.Flags())
	o.AddFlags(cmd.Flags())
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output: text or json")
	cmd.Flags().StringVar(&progressMode, "progress", progress.Auto, "progress on stderr: auto (a bar on a terminal, plain lines otherwise), bar, plain or none")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := errors.Join(checkOutput(output), o.Check()); err != nil {
			return err
		}
		srv, err := api.server()
		if err != nil {
			return err
		}
		if srv == nil {
			return errors.New("--server is required (e.g. --server https://modelgraph.example)")
		}
		files, err := bulk.Expand(args)
		if err != nil {
			return err
		}
		meter, err := progress.New(cmd.ErrOrStderr(), progressMode, len(files), bulk.TotalSize(files))
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		o.Report = func(r push.Result) {
			if output == "text" {
				meter.Clear() // the bar redraws below the lines
				push.WriteResult(out, r)
			}
			meter.Done(r.Bytes, len(r.Receipt.Documents))
		}
		results := push.Push(cmd.Context(), srv, files, o)
		meter.Finish()
		t := push.Count(results)
		if output == "json" {
			err = printJSON(out, results)
		} else {
			_, err = fmt.Fprintln(out, t)
		}
		if err != nil {
			return err
		}
		if t.Failed > 0 {
			return &exitError{code: 1, err: fmt.Errorf("%d of %d file(s) failed", t.Failed, t.Files)}
		}
		return nil
	}
	return cmd
}
