package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/aibom"
	"github.com/modelgraph/modelgraph/internal/app"
	"github.com/modelgraph/modelgraph/internal/guacexport"
	"github.com/modelgraph/modelgraph/internal/posture"
	"github.com/modelgraph/modelgraph/internal/query"
)

func newExportCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "export", Short: "Export the graph: CycloneDX AI-BOMs, or a push into GUAC"}
	cmd.AddCommand(newExportAIBOMCommand(), newExportGUACCommand())
	return cmd
}

func newExportAIBOMCommand() *cobra.Command {
	var model, deployment, environment, format, spec, out, posturePolicy string
	cmd := &cobra.Command{
		Use:   "aibom (--model REF | --deployment REF | --environment NAME)",
		Short: "Export an AI-BOM (CycloneDX 1.6 or 1.7, JSON or XML, or SPDX 3.0.1 JSON-LD) for a model, a deployment or an environment",
		Long: `REF is a node id, a digest (sha256:...), a purl, a name or an hf:// URI.
The output is deterministic: the same graph gives the same bytes.`,
		Args: cobra.NoArgs,
	}
	settings := withSettings(cmd)
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "model reference")
	f.StringVar(&deployment, "deployment", "", "deployment reference")
	f.StringVar(&environment, "environment", "", "environment name (all its deployments)")
	f.StringVar(&format, "format", "cyclonedx-json", "cyclonedx-json, cyclonedx-xml or spdx3 (SPDX 3.0.1 JSON-LD)")
	f.StringVar(&spec, "spec", "1.6", "CycloneDX version: 1.6 or 1.7 (ignored by spdx3, which is 3.0.1)")
	f.StringVarP(&out, "output", "o", "-", "output file (- for stdout)")
	f.StringVar(&posturePolicy, "posture-policy", "", "posture policy YAML for the modelgraph:posture:* properties (docs/posture.md)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := settings()
		if err != nil {
			return err
		}
		fm, err := parseBOMFormat(format)
		if err != nil {
			return err
		}
		if model != "" && deployment != "" {
			return fmt.Errorf("give --model or --deployment, not both")
		}
		ctx := cmd.Context()
		store, err := app.OpenStore(ctx, c)
		if err != nil {
			return err
		}
		defer store.Close()
		req, err := aibom.RequestFor(ctx, store, model+deployment, environment, versionString())
		if err != nil {
			return err
		}
		pp, err := posture.LoadPolicy(posturePolicy)
		if err != nil {
			return err
		}
		ps, err := posture.New(query.New(store), pp)
		if err != nil {
			return err
		}
		req.Annotate = ps.Annotator()
		var w io.Writer = cmd.OutOrStdout()
		var file *os.File
		if out != "-" {
			if file, err = os.Create(out); err != nil {
				return err
			}
			defer file.Close()
			w = file
		}
		bw := bufio.NewWriter(w)
		if err := aibom.Write(ctx, store, req, fm, aibom.Spec(spec), bw); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if file != nil {
			return file.Sync()
		}
		return nil
	}
	return cmd
}

func parseBOMFormat(s string) (aibom.Format, error) {
	switch strings.TrimPrefix(strings.ToLower(s), "cyclonedx-") {
	case "json":
		return aibom.FormatJSON, nil
	case "xml":
		return aibom.FormatXML, nil
	case "spdx3", "spdx-3", "spdx3-json", "spdx":
		return aibom.FormatSPDX3, nil
	}
	return "", fmt.Errorf("--format %q: want cyclonedx-json, cyclonedx-xml or spdx3", s)
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
