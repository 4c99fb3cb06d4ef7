package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/ingest/bulk"
	"github.com/modelgraph/modelgraph/internal/app"
	"github.com/modelgraph/modelgraph/internal/progress"
)

func newIngestCommand() *cobra.Command {
	var subject, role, output, progressMode string
	var workers int
	var cpuProfile string
	var failFast bool
	cmd := &cobra.Command{
		Use:   "ingest PATH...",
		Short: "Ingest documents (OMS signatures, attestations, SBOMs, model cards) into the local store",
		Long: `Ingest reads each file (directories recursively) and writes one atomic
document per file into the configured store, parsing and verifying on every
core (--workers) and committing concurrent writes together.

It keeps going past files it cannot ingest and ends with a summary: documents
recorded, duplicates (already ingested), and each rejected file with the
reason (kind, field, line). --fail-fast stops at the first rejected file
(files already being parsed finish). The exit status is 1 when any file was
rejected.

On a terminal a progress bar shows files, MB, MB/s, documents per second and
the time left on stderr; elsewhere a plain progress line every few seconds
(--progress none to silence it). --output json prints one JSON object: every
file's receipts or rejection, and the summary.`,
		Args: cobra.MinimumNArgs(1),
	}
	settings := withSettings(cmd)
	cmd.Flags().StringVar(&subject, "subject", "", "digest the SBOMs describe (e.g. sha256:...)")
	cmd.Flags().StringVar(&role, "role", "", "SBOM role: serving-image or training-environment")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output: text or json")
	cmd.Flags().IntVar(&workers, "workers", 0, "documents parsed and verified at once (default: the number of cores)")
	cmd.Flags().BoolVar(&failFast, "fail-fast", false, "stop at the first rejected file")
	cmd.Flags().StringVar(&progressMode, "progress", progress.Auto, "progress on stderr: auto (a bar on a terminal, plain lines otherwise), bar, plain or none")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if cpuProfile != "" {
			f, err := os.Create(cpuProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}
		c, err := settings()
		if err != nil {
			return err
		}
		if err := checkOutput(output); err != nil {
			return err
		}
		if workers < 0 || workers > 256 {
			return fmt.Errorf("--workers %d: want 1..256 (0: the number of cores)", workers)
		}
		files, err := bulk.Expand(args)
		if err != nil {
			return err
		}
		meter, err := progress.New(cmd.ErrOrStderr(), progressMode, len(files), bulk.TotalSize(files))
		if err != nil {
			return err
		}
		pipe, closeStore, err := app.OpenPipeline(cmd.Context(), c, nil)
		if err != nil {
			return err
		}
		defer closeStore()
		pr := &bulk.Printer{W: cmd.OutOrStdout(), JSON: output == "json", Clear: meter.Clear}
		sum, err := bulk.Run(cmd.Context(), pipe, files, bulk.Options{Workers: workers, FailFast: failFast, Subject: subject, Role: role,
			Progress: func(oc bulk.Outcome) { meter.Done(oc.Bytes, len(oc.Results)) }}, pr.Outcome)
		meter.Finish()
		if perr := pr.Finish(sum); err == nil {
			err = perr
		}
		if err != nil {
			return err
		}
		if sum.Rejected > 0 {
			return &exitError{code: 1, err: fmt.Errorf("%d of %d file(s) rejected", sum.Rejected, len(files))}
		}
		return nil
	}
	return cmd
}
