package main

import (
	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/internal/verify"
)

func newVerifyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify model signatures",
	}
	cmd.AddCommand(newVerifyModelCommand())
	return cmd
}

func newVerifyModelCommand() *cobra.Command {
	var o verify.Options
	var output string
	cmd := &cobra.Command{
		Use:   "model DIR|oci://REF|oci-layout:DIR[:TAG|@DIGEST]",
		Short: "Verify an OpenSSF Model Signing signature and re-hash the model against it",
		Long: `Verify checks the signature (a sigstore bundle written by model_signing, or
a DSSE envelope) against the trust material given by flags and/or a policy
file, then re-hashes every file of the model (DIR, or a file for single-file
models) and compares it with the signed manifest. A model packaged as an OCI
artifact (oci://registry/repo:tag, or an OCI image layout) is checked against
its image manifest: each layer (named by org.opencontainers.image.title) is a
file whose digest the registry states, so no layer is pulled.

Trust material (at least one):
  --public-key PEM              key-signed models
  --cert-chain PEM              certificate-signed models (CA certificates; repeatable)
  --identity/--issuer           keyless (sigstore) models, checked offline against
                                --trusted-root (default: the embedded public-good root)
  --policy trust.yaml           a trust policy (see docs/oms.md)

Exit status: 0 only when a signature verified and every file matches; 1 when
anything does not (the report says what), or when the check cannot run.`,
		Example: `  modelgraph verify model ./llm --signature llm.sig --public-key release.pub
  modelgraph verify model ./llm --identity release@acme.com --issuer https://accounts.google.com
  modelgraph verify model ./llm --cert-chain ca.pem --ignore-paths README.md -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			r, err := verify.Model(cmd.Context(), args[0], o)
			if err := verify.Print(cmd.OutOrStdout(), output == "json", args[0], r, err); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	o.AddFlags(cmd.Flags())
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output: text or json")
	return cmd
}
