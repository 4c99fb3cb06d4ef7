package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/oms"
	"github.com/modelgraph/modelgraph/ingest/trust"
	"github.com/modelgraph/modelgraph/internal/collect"
)

func newVerifyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify model signatures",
	}
	cmd.AddCommand(newVerifyModelCommand())
	return cmd
}

type verifyModelFlags struct {
	signature      string
	publicKeys     []string
	certChains     []string
	identity       string
	identityRegexp string
	issuer         string
	issuerRegexp   string
	trustedRoots   []string
	policy         string
	ignorePaths    []string
	ignoreGitPaths bool
	allowSymlinks  bool
	ignoreUnsigned bool
	workers        int
	output         string
	insecure       bool
}

func newVerifyModelCommand() *cobra.Command {
	var f verifyModelFlags
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
			return runVerifyModel(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.signature, "signature", "", "signature file (default DIR/model.sig)")
	fl.StringArrayVar(&f.publicKeys, "public-key", nil, "trusted public key, PEM (repeatable)")
	fl.StringArrayVar(&f.certChains, "cert-chain", nil, "trusted CA certificates, PEM; self-signed ones anchor chains (repeatable)")
	fl.StringVar(&f.identity, "identity", "", "keyless: expected certificate identity (SAN: email or URI)")
	fl.StringVar(&f.identityRegexp, "identity-regexp", "", "keyless: expected identity, as a regular expression")
	fl.StringVar(&f.issuer, "issuer", "", "keyless: expected OIDC issuer")
	fl.StringVar(&f.issuerRegexp, "issuer-regexp", "", "keyless: expected OIDC issuer, as a regular expression")
	fl.StringArrayVar(&f.trustedRoots, "trusted-root", nil, "keyless: sigstore trusted_root.json (repeatable; default public-good)")
	fl.StringVar(&f.policy, "policy", "", "trust policy YAML; flags add to it")
	fl.StringArrayVar(&f.ignorePaths, "ignore-paths", nil, "paths (relative to DIR) left out of the comparison (repeatable)")
	fl.BoolVar(&f.ignoreGitPaths, "ignore-git-paths", true, "ignore .git, .gitattributes, .github and .gitignore at the model root")
	fl.BoolVar(&f.allowSymlinks, "allow-symlinks", false, "follow symlinks to files instead of refusing them")
	fl.BoolVar(&f.ignoreUnsigned, "ignore-unsigned-files", false, "do not report files the signature does not cover")
	fl.IntVar(&f.workers, "workers", 0, "files hashed in parallel (default: number of CPUs)")
	fl.StringVarP(&f.output, "output", "o", "text", "output: text or json")
	fl.BoolVar(&f.insecure, "insecure-registry", false, "oci://: plain HTTP, to a loopback registry only")
	return cmd
}

func runVerifyModel(cmd *cobra.Command, dir string, f verifyModelFlags) error {
	if f.output != "text" && f.output != "json" {
		return fmt.Errorf("--output %q: want text or json", f.output)
	}
	if f.workers < 0 {
		return fmt.Errorf("--workers %d: want 0 (all CPUs) or more", f.workers)
	}
	ociRef, isOCI := strings.CutPrefix(dir, "oci://")
	layoutRef, isLayout := strings.CutPrefix(dir, "oci-layout:")
	sigPath := f.signature
	if (isOCI || isLayout) && sigPath == "" {
		return errors.New("--signature is required for a model packaged as an OCI artifact")
	}
	if sigPath == "" {
		if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
			return errors.New("--signature is required when the model is a single file")
		}
		sigPath = filepath.Join(dir, "model.sig")
	}
	pol, err := f.trustPolicy()
	if err != nil {
		return err
	}
	sig, err := readSignatureFile(sigPath)
	if err != nil {
		return err
	}
	opts := oms.VerifyOptions{
		SignaturePath:       sigPath,
		IgnorePaths:         f.ignorePaths,
		KeepGitPaths:        !f.ignoreGitPaths,
		AllowSymlinks:       f.allowSymlinks,
		IgnoreUnsignedFiles: f.ignoreUnsigned,
		Hasher:              oms.Hasher{Workers: f.workers},
	}
	var r *oms.Report
	switch {
	case isOCI || isLayout:
		// The manifest only: its layer digests are the files' digests.
		src := collect.ManifestSource{Insecure: f.insecure}
		var raw []byte
		var digest string
		if isOCI {
			raw, digest, err = src.FetchManifest(cmd.Context(), ociRef)
		} else {
			raw, digest, err = src.LayoutManifest(layoutRef)
		}
		if err != nil {
			return err
		}
		r, err = oms.VerifyOCI(cmd.Context(), dir+" ("+digest+")", raw, sig, pol, opts)
	default:
		r, err = oms.VerifyModel(cmd.Context(), dir, sig, pol, opts)
	}
	out := cmd.OutOrStdout()
	if err != nil {
		if f.output == "json" {
			// Machine readers get JSON for a check that could not run too.
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			_ = enc.Encode(map[string]any{"path": dir, "verified": false, "error": err.Error()})
			return &exitError{code: 1, err: err}
		}
		return err
	}
	if f.output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		printVerifyReport(out, r)
	}
	if !r.Verified {
		ps := r.Problems()
		msg := strings.Join(verifyFirstProblems(ps, 3), "; ")
		return &exitError{code: 1, err: fmt.Errorf("model %s is not verified: %s", dir, msg)}
	}
	return nil
}

// trustPolicy combines --policy with the material given by flags, which
// apply to every subject.
func (f verifyModelFlags) trustPolicy() (*trust.Policy, error) {
	pol := &trust.Policy{}
	if f.policy != "" {
		p, err := trust.Load(f.policy)
		if err != nil {
			return nil, fmt.Errorf("--policy: %w", err)
		}
		pol = p
	}
	rule := trust.Rule{Name: "command-line"}
	for _, p := range f.publicKeys {
		k, err := trust.LoadPublicKey(p)
		if err != nil {
			return nil, fmt.Errorf("--public-key: %w", err)
		}
		rule.Keys = append(rule.Keys, k)
	}
	if len(f.certChains) > 0 {
		// Like model_signing's --certificate_chain: all files form one store.
		ca := trust.CABundle{Source: strings.Join(f.certChains, ",")}
		for _, p := range f.certChains {
			b, err := trust.LoadCABundle(p)
			if err != nil {
				return nil, fmt.Errorf("--cert-chain: %w", err)
			}
			ca.Roots = append(ca.Roots, b.Roots...)
			ca.Intermediates = append(ca.Intermediates, b.Intermediates...)
		}
		rule.CAs = append(rule.CAs, ca)
	}
	keyless := f.identity != "" || f.identityRegexp != "" || f.issuer != "" || f.issuerRegexp != ""
	if keyless {
		rule.Identities = append(rule.Identities, trust.Identity{Issuer: f.issuer, IssuerRegexp: f.issuerRegexp, SAN: f.identity, SANRegexp: f.identityRegexp})
	}
	for _, p := range f.trustedRoots {
		r, err := trust.LoadTrustedRoot(p)
		if err != nil {
			return nil, fmt.Errorf("--trusted-root: %w", err)
		}
		pol.Roots = append(pol.Roots, r)
	}
	if keyless && len(pol.Roots) == 0 {
		r, err := trust.PublicGood()
		if err != nil {
			return nil, err
		}
		pol.Roots = append(pol.Roots, r)
	}
	if len(rule.Keys)+len(rule.CAs)+len(rule.Identities) > 0 {
		pol.Rules = append(pol.Rules, rule)
	}
	if len(pol.Rules) == 0 {
		return nil, errors.New("no trust material: give --public-key, --cert-chain, --identity and --issuer, or --policy")
	}
	if err := pol.Validate(); err != nil {
		return nil, err
	}
	return pol, nil
}

func readSignatureFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, envelope.MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("signature %s: %w", path, err)
	}
	if len(data) > envelope.MaxDocumentSize {
		return nil, fmt.Errorf("signature %s: larger than %d bytes", path, envelope.MaxDocumentSize)
	}
	return data, nil
}

func printVerifyReport(w io.Writer, r *oms.Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	model := r.Model
	if r.PredicateType == oms.LegacyPredicateType {
		model = "- (legacy v0.2 signature: names files, not a model)"
	}
	if r.RootDigest != "" {
		model += " (" + r.RootDigest + ")"
	}
	fmt.Fprintf(tw, "Model\t%s\n", model)
	fmt.Fprintf(tw, "Path\t%s\n", r.Path)
	ser := r.Serialization.Method + ", " + r.Serialization.HashType
	if r.Serialization.ShardSize > 0 {
		ser += fmt.Sprintf(", shards of %d bytes", r.Serialization.ShardSize)
	}
	fmt.Fprintf(tw, "Manifest\t%s (%s)\n", ser, r.PredicateType)
	if len(r.Signatures) == 0 {
		fmt.Fprintf(tw, "Signature\t%s: unsigned\n", r.Format)
	}
	for _, s := range r.Signatures {
		fmt.Fprintf(tw, "Signature\t%s\n", verifySignatureLine(r.Format, s))
	}
	fmt.Fprintf(tw, "Files\t%d signed: %d match, %d changed, %d missing, %d extra\n", r.Signed, r.Matched, r.Changed, r.Missing, r.Extra)
	for _, f := range r.Files {
		if f.Status == oms.FileOK {
			continue
		}
		line := fmt.Sprintf("  %s\t%s", f.Status, f.Path)
		switch f.Status {
		case oms.FileChanged:
			line += fmt.Sprintf("\texpected %s, got %s", f.Expected, f.Actual)
			if f.Detail != "" {
				line += "; " + f.Detail
			}
		case oms.FileMissing:
			line += "\texpected " + f.Expected
		case oms.FileExtra:
			line += "\tnot in the signature"
		}
		fmt.Fprintln(tw, line)
	}
	result := "VERIFIED"
	if !r.Verified {
		result = "FAILED"
	}
	fmt.Fprintf(tw, "Result\t%s\n", result)
	tw.Flush()
}

func verifySignatureLine(format envelope.Format, s graph.Signature) string {
	signer := s.Identity
	switch {
	case s.Method == envelope.MethodKey:
		signer = "key " + s.KeyID
	case s.Issuer != "":
		signer += " (issuer " + s.Issuer + ")"
	}
	line := fmt.Sprintf("%s, %s, %s: %s", format, verifyOrDash(s.Method), verifyOrDash(strings.TrimSpace(signer)), s.Status)
	if s.LogIndex > 0 {
		line += fmt.Sprintf(", Rekor log index %d at %s", s.LogIndex, s.IntegratedTime.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if s.Reason != "" {
		line += " — " + s.Reason
	}
	return line
}

func verifyOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func verifyFirstProblems(ps []string, n int) []string {
	if len(ps) > n {
		return append(ps[:n:n], fmt.Sprintf("and %d more", len(ps)-n))
	}
	return ps
}
