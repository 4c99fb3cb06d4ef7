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
	var ignoreGit bool
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
			o.KeepGitPaths = !ignoreGit
			r, err := verify.Model(cmd.Context(), args[0], o)
			out := cmd.OutOrStdout()
			switch {
			case err != nil && output == "json":
				// Machine readers get JSON for a check that could not run too.
				_ = printJSON(out, map[string]any{"path": args[0], "verified": false, "error": err.Error()})
				return &exitError{code: 1, err: err}
			case err != nil:
				return err
			case output == "json":
				err = printJSON(out, r)
			default:
				err = verify.WriteText(out, r)
			}
			if err != nil {
				return err
			}
			if err := verify.Failure(args[0], r); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Signature, "signature", "", "signature file (default DIR/model.sig)")
	fl.StringArrayVar(&o.Trust.PublicKeys, "public-key", nil, "trusted public key, PEM (repeatable)")
	fl.StringArrayVar(&o.Trust.CertChains, "cert-chain", nil, "trusted CA certificates, PEM; self-signed ones anchor chains (repeatable)")
	fl.StringVar(&o.Trust.Identity, "identity", "", "keyless: expected certificate identity (SAN: email or URI)")
	fl.StringVar(&o.Trust.IdentityRegexp, "identity-regexp", "", "keyless: expected identity, as a regular expression")
	fl.StringVar(&o.Trust.Issuer, "issuer", "", "keyless: expected OIDC issuer")
	fl.StringVar(&o.Trust.IssuerRegexp, "issuer-regexp", "", "keyless: expected OIDC issuer, as a regular expression")
	fl.StringArrayVar(&o.Trust.TrustedRoots, "trusted-root", nil, "keyless: sigstore trusted_root.json (repeatable; default public-good)")
	fl.StringVar(&o.Trust.PolicyFile, "policy", "", "trust policy YAML; flags add to it")
	fl.StringArrayVar(&o.IgnorePaths, "ignore-paths", nil, "paths (relative to DIR) left out of the comparison (repeatable)")
	fl.BoolVar(&ignoreGit, "ignore-git-paths", true, "ignore .git, .gitattributes, .github and .gitignore at the model root")
	fl.BoolVar(&o.AllowSymlinks, "allow-symlinks", false, "follow symlinks to files instead of refusing them")
	fl.BoolVar(&o.IgnoreUnsignedFiles, "ignore-unsigned-files", false, "do not report files the signature does not cover")
	fl.IntVar(&o.Workers, "workers", 0, "files hashed in parallel (default: number of CPUs)")
	fl.StringVarP(&output, "output", "o", "text", "output: text or json")
	fl.BoolVar(&o.Insecure, "insecure-registry", false, "oci://: plain HTTP, to a loopback registry only")
	return cmd
}
