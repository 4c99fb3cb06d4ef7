package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/ingest/bulk"
	"github.com/modelgraph/modelgraph/internal/app"
	"github.com/modelgraph/modelgraph/internal/progress"
)

func newIngestCommand() *cobra.Command {
	var o bulk.Options
	var output, progressMode, cpuProfile, allocProfile string
	var memLimitMiB int64
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
	cmd.Flags().StringVar(&o.Subject, "subject", "", "digest the SBOMs describe (e.g. sha256:...)")
	cmd.Flags().StringVar(&o.Role, "role", "", "SBOM role: serving-image or training-environment")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output: text or json")
	cmd.Flags().IntVar(&o.Workers, "workers", 0, "documents parsed and verified at once (default: the number of cores)")
	cmd.Flags().BoolVar(&o.FailFast, "fail-fast", false, "stop at the first rejected file")
	cmd.Flags().StringVar(&progressMode, "progress", progress.Auto, "progress on stderr: auto (a bar on a terminal, plain lines otherwise), bar, plain or none")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	cmd.Flags().StringVar(&allocProfile, "allocprofile", "", "write an allocation profile of the run to this file (go tool pprof -sample_index=alloc_space)")
	_ = cmd.Flags().MarkHidden("allocprofile")
	cmd.Flags().IntVar(&o.MaxGroup, "group", 0, "documents per store write (default 64)")
	cmd.Flags().Int64Var(&o.MaxInFlightBytes, "inflight-bytes", 0, "input bytes read but not yet written (default 32 MiB)")
	cmd.Flags().Int64Var(&memLimitMiB, "heap-limit", defaultIngestMemLimitMiB, "soft limit on the Go heap during the run, in MiB (0: none; GOMEMLIMIT, when set, wins)")
	_ = cmd.Flags().MarkHidden("group")
	_ = cmd.Flags().MarkHidden("inflight-bytes")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		stopProfile, err := app.StartCPUProfile(cpuProfile)
		if err != nil {
			return err
		}
		defer stopProfile()
		stopAlloc, err := app.StartAllocProfile(allocProfile)
		if err != nil {
			return err
		}
		defer stopAlloc()
		c, err := settings()
		if err != nil {
			return err
		}
		if err := checkOutput(output); err != nil {
			return err
		}
		if o.Workers < 0 || o.Workers > 256 {
			return fmt.Errorf("--workers %d: want 1..256 (0: the number of cores)", o.Workers)
		}
		if memLimitMiB < 0 {
			return fmt.Errorf("--heap-limit %d: want MiB >= 0", memLimitMiB)
		}
		defer ingestMemoryLimit(memLimitMiB, os.Getenv("GOMEMLIMIT"), os.Getenv("GOGC"))()
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
		o.Progress = func(oc bulk.Outcome) { meter.Done(oc.Bytes, len(oc.Results)) }
		sum, err := bulk.Run(cmd.Context(), pipe, files, o, pr.Outcome)
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

// defaultIngestMemLimitMiB is `modelgraph ingest`'s soft heap limit: what
// the run holds is far less (docs/performance.md: the live heap stays under
// ~110 MiB on the 20x corpus), but without a limit the garbage between
// collections makes the peak grow with the length of the run. With the
// limit set the collector's proportional goal is raised to
// ingestGCPercent, so collections come when the heap nears the limit
// rather than at twice the live heap: on the 20x corpus 128 MiB at GOGC
// 100 cost 17% more CPU than 192 MiB at GOGC 400 (peak RSS 188 against
// 248 MiB; docs/performance.md, "GC budget"). A document whose live heap
// alone passes the limit is still collected at 5x its live heap, not
// continuously (GOGC off would thrash there).
const defaultIngestMemLimitMiB = 192

// ingestGCPercent is the GOGC used under the run's heap limit.
const ingestGCPercent = 400

// ingestMemoryLimit sets the Go runtime's soft memory limit to mib MiB for
// the run, and the GC percent to ingestGCPercent, unless GOMEMLIMIT (env)
// already sets a limit or mib is 0; gogc, GOGC's value, keeps the
// collector's percent when set. It returns what restores both.
func ingestMemoryLimit(mib int64, env, gogc string) (restore func()) {
	if mib <= 0 || env != "" {
		return func() {}
	}
	prev := debug.SetMemoryLimit(mib << 20)
	if gogc != "" {
		return func() { debug.SetMemoryLimit(prev) }
	}
	prevGC := debug.SetGCPercent(ingestGCPercent)
	return func() { debug.SetMemoryLimit(prev); debug.SetGCPercent(prevGC) }
}
