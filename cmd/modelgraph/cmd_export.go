package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/internal/app"
	"github.com/modelgraph/modelgraph/internal/cli"
	"github.com/modelgraph/modelgraph/internal/guacexport"
)

func newExportCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "export", Short: "Export the graph: CycloneDX AI-BOMs, or a push into GUAC"}
	cmd.AddCommand(newExportAIBOMCommand(), newExportGUACCommand())
	return cmd
}

// newExportAIBOMCommand: the AI-BOM through the aibom operation, from the
// local store or --server; -o names the file.
func newExportAIBOMCommand() *cobra.Command {
	q := cli.AIBOM()
	var o clientOptions
	var out string
	cmd := &cobra.Command{Use: q.Use, Short: q.Short, Args: cobra.NoArgs, Long: `REF is a node id, a digest (sha256:...), a purl, a name or an hf:// URI.
The output is deterministic: the same graph gives the same bytes, locally
or from --server.`}
	addClientFlags(cmd, &o)
	q.Flags(cmd.Flags())
	cmd.Flags().StringVar(&o.target.PosturePolicy, q.PolicyFlag, "", "posture policy YAML for the modelgraph:posture:* properties (docs/posture.md; local runs only)")
	cmd.Flags().StringVarP(&out, "output", "o", "-", "output file (- for stdout)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if out == "-" {
			return o.run(cmd, q, cmd.OutOrStdout())
		}
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		bw := bufio.NewWriter(f)
		if err := o.run(cmd, q, bw); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		return f.Sync()
	}
	return cmd
}

func newExportGUACCommand() *cobra.Command {
	var endpoint string
	cmd := &cobra.Command{
		Use:   "guac --endpoint URL",
		Short: "Push the ML graph (models, datasets, lineage, SBOM links, advisories) into a GUAC GraphQL server",
		Args:  cobra.NoArgs,
	}
	settings := withSettings(cmd)
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "GUAC GraphQL endpoint, e.g. http://localhost:8080/query")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := settings()
		if err != nil {
			return err
		}
		if endpoint == "" {
			return fmt.Errorf("--endpoint is required")
		}
		ctx := cmd.Context()
		store, err := app.OpenStore(ctx, c)
		if err != nil {
			return err
		}
		defer store.Close()
		res, err := guacexport.Export(ctx, store, endpoint, guacexport.Options{})
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "pushed to %s: %d models, %d datasets, %d deployments, %d training runs, %d advisories (IsOccurrence %d, HasSLSA %d, HasSBOM %d, HasMetadata %d, CertifyBad %d)\n",
			endpoint, res.Models, res.Datasets, res.Deployments, res.TrainingRuns, res.Advisories, res.IsOccurrence, res.HasSLSA, res.HasSBOM, res.HasMetadata, res.CertifyBad)
		return nil
	}
	return cmd
}
