package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/internal/app"
	"github.com/modelgraph/modelgraph/internal/collect"
)

func newCollectCommand() *cobra.Command {
	var (
		watch    bool
		insecure bool
		output   string
	)
	cmd := &cobra.Command{
		Use:   "collect dir:PATH|oci:REF ...",
		Short: "Collect evidence from directories and OCI registries into the local store",
		Long: `Collect reads evidence where it already lives and ingests it like a push:

  dir:PATH   every signature, attestation, SBOM and model card under PATH
             (hidden and temporary files and other extensions are left alone)
  oci:REF    what is attached to an image or packaged model in a registry:
             OCI 1.1 referrers (API or tag fallback) and cosign .sig/.att/.sbom
             tags; REF without a tag or digest means every tag

Options follow the spec as a URL query, e.g.
  dir:/evidence?subject=sha256:...&role=serving-image
  oci:localhost:5000/acme/llm-7b:v1?insecure&role=serving-image
See docs/collectors.md for every option.

A malformed document is reported and collection goes on; the exit status is 1
when any document could not be collected. With --watch, collect keeps going
(new files, new attachments) until interrupted.`,
		Example: `  modelgraph collect dir:./evidence
  modelgraph collect --watch dir:/var/lib/ml-evidence
  modelgraph collect oci:ghcr.io/acme/llm-7b:v1 oci:ghcr.io/acme/model-server`,
		Args: cobra.MinimumNArgs(1),
	}
	settings := withSettings(cmd)
	cmd.Flags().BoolVar(&watch, "watch", false, "keep collecting: follow directories, poll registries")
	cmd.Flags().BoolVar(&insecure, "insecure-registry", false, "use plain HTTP for loopback registries (localhost, 127.0.0.1, ::1)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output: text or json (one JSON object per line)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := settings()
		if err != nil {
			return err
		}
		if err := checkOutput(output); err != nil {
			return err
		}
		log := app.NewLogger(c, os.Stderr)
		cs, err := collect.ParseAll(args, collect.Options{Watch: watch, MaxBytes: c.MaxBodyBytes, Insecure: insecure, Log: log})
		if err != nil {
			return err
		}
		pipe, closeStore, err := app.OpenPipeline(cmd.Context(), c, nil)
		if err != nil {
			return err
		}
		defer closeStore()
		out := cmd.OutOrStdout()
		r := &collect.Runner{Pipeline: pipe, Log: log, OnOutcome: func(o collect.Outcome) { collect.WriteOutcome(out, output == "json", o) }}
		err = r.RunAll(cmd.Context(), cs)
		st := r.Stats()
		if output == "text" {
			fmt.Fprintln(out, st)
		}
		if err != nil {
			return err
		}
		if st.Failed > 0 {
			return &exitError{code: 1, err: fmt.Errorf("%d documents could not be collected", st.Failed)}
		}
		return nil
	}
	return cmd
}
