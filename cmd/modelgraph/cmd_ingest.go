package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/ingest"
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
		if output != "text" && output != "json" {
			return fmt.Errorf("--output %q: want text or json", output)
		}
		if workers < 0 || workers > 256 {
			return fmt.Errorf("--workers %d: want 1..256 (0: the number of cores)", workers)
		}
		files, err := expand(args)
		if err != nil {
			return err
		}
		meter, err := progress.New(cmd.ErrOrStderr(), progressMode, len(files), totalSize(files))
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		store, err := app.OpenStore(ctx, c)
		if err != nil {
			return err
		}
		defer store.Close()
		pipe, err := app.NewPipeline(c, store, nil)
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		var outcomes []bulk.Outcome
		emit := func(oc bulk.Outcome) {
			if output == "json" {
				outcomes = append(outcomes, oc)
				return
			}
			meter.Clear()
			printFileOutcome(out, oc)
		}
		opts := bulk.Options{Workers: workers, FailFast: failFast, Subject: subject, Role: role,
			Progress: func(oc bulk.Outcome) { meter.Done(oc.Bytes, len(oc.Results)) }}
		sum, err := bulk.Run(ctx, pipe, files, opts, emit)
		meter.Finish()
		if output == "json" {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			if outcomes == nil {
				outcomes = []bulk.Outcome{}
			}
			sum.Rejections = nil // already in files
			if e := enc.Encode(struct {
				Files   []bulk.Outcome `json:"files"`
				Summary bulk.Summary   `json:"summary"`
			}{outcomes, sum}); e != nil {
				return e
			}
		} else {
			printSummary(out, sum)
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

func totalSize(files []string) int64 {
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}

func printFileOutcome(w io.Writer, oc bulk.Outcome) {
	if r := oc.Rejection; r != nil {
		fmt.Fprintf(w, "%s: rejected (%s): %s\n", oc.Source, r.Kind, rejectionText(oc))
		return
	}
	for _, r := range oc.Results {
		printResult(w, r)
		for _, warn := range r.Warnings {
			fmt.Fprintf(w, "%s: warning: %s\n", r.Source, warn)
		}
	}
}

// rejectionText is the reason without the file name the line starts with.
func rejectionText(oc bulk.Outcome) string {
	r := oc.Rejection
	msg := strings.TrimPrefix(r.Message, oc.Source+": ")
	var at []string
	if r.Field != "" {
		at = append(at, "field "+r.Field)
	}
	if r.Line > 0 {
		at = append(at, fmt.Sprintf("line %d", r.Line))
	}
	if len(at) > 0 {
		return strings.Join(at, ", ") + ": " + msg
	}
	return msg
}

func printSummary(w io.Writer, s bulk.Summary) {
	secs := s.Elapsed.Seconds()
	fmt.Fprintf(w, "ingested %d file(s), %.1f MB in %s (%.1f MB/s, %.1f documents/s): %d new document(s), %d duplicate(s), %d rejected",
		s.Files, float64(s.Bytes)/1e6, s.Elapsed.Round(time.Millisecond), float64(s.Bytes)/1e6/max(secs, 1e-9),
		float64(s.Documents+s.Duplicates)/max(secs, 1e-9), s.Documents, s.Duplicates, s.Rejected)
	if s.Skipped > 0 {
		fmt.Fprintf(w, ", %d not tried (--fail-fast)", s.Skipped)
	}
	fmt.Fprintln(w)
	if len(s.Rejections) > 0 {
		fmt.Fprintln(w, "rejected:")
		for _, oc := range s.Rejections {
			fmt.Fprintf(w, "  %s (%s): %s\n", oc.Source, oc.Rejection.Kind, rejectionText(oc))
		}
	}
}

func printResult(w io.Writer, r ingest.Result) {
	if r.Receipt.Duplicate {
		fmt.Fprintf(w, "%s: %s %s duplicate (already ingested)\n", r.Source, r.Document.Type, r.Receipt.Document)
		return
	}
	fmt.Fprintf(w, "%s: %s %s %s, %d nodes and %d edges created, %d nodes and %d edges updated\n",
		r.Source, r.Document.Type, r.Receipt.Document, r.Receipt.Status,
		r.Receipt.NodesCreated, r.Receipt.EdgesCreated, r.Receipt.NodesTouched, r.Receipt.EdgesTouched)
}

// expand lists the files named by args, walking directories in lexical order.
func expand(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() != "." && len(d.Name()) > 1 && d.Name()[0] == '.' {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", path, ingest.ErrTooLarge, max)
	}
	return data, nil
}
