package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/Khan/genqlient/graphql"
	"github.com/spf13/pflag"

	"github.com/modelgraph/modelgraph/internal/client"
)

// AIBOM is `modelgraph export aibom`: the AI-BOM document, as the
// server (or the local store) renders it, written as is.
func AIBOM() Question {
	var model, deployment, environment, format, spec string
	return Question{
		Name: "aibom", Use: "aibom (--model REF | --deployment REF | --environment NAME)",
		Short: "Export an AI-BOM (CycloneDX 1.6 or 1.7, JSON or XML, or SPDX 3.0.1 JSON-LD) for a model, a deployment or an environment",
		Flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&model, "model", "", "model reference")
			fs.StringVar(&deployment, "deployment", "", "deployment reference")
			fs.StringVar(&environment, "environment", "", "environment name (all its deployments)")
			fs.StringVar(&format, "format", "cyclonedx-json", "cyclonedx-json, cyclonedx-xml or spdx3 (SPDX 3.0.1 JSON-LD)")
			fs.StringVar(&spec, "spec", "1.6", "CycloneDX version: 1.6 or 1.7 (ignored by spdx3, which is 3.0.1)")
		},
		PolicyFlag: "posture-policy",
		Run: func(ctx context.Context, c graphql.Client, w io.Writer, _ string) error {
			if model != "" && deployment != "" {
				return fmt.Errorf("give --model or --deployment, not both")
			}
			// The server reads the format (aibom.ParseFormat, the one rule).
			r, err := client.AIBOM(ctx, c, model+deployment, environment, format, spec)
			if err != nil {
				return err
			}
			_, err = io.WriteString(w, r.Aibom.Document)
			return err
		},
	}
}
