// Package verify checks a model against its OpenSSF Model Signing
// signature for `modelgraph verify model`: it finds the signature, reads
// the model where it lives (a directory or file, a registry, an OCI image
// layout), verifies against command-line trust (ingest/trust.Material) and
// renders the report. The checks themselves are ingest/oms's.
package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/oms"
	"github.com/modelgraph/modelgraph/ingest/trust"
	"github.com/modelgraph/modelgraph/internal/collect"
)

// Options of a model check.
type Options struct {
	// Signature is the signature file (default: DIR/model.sig; required
	// for a single file and for OCI artifacts).
	Signature string
	Trust     trust.Material
	// IgnorePaths (relative to the model) are left out of the comparison.
	IgnorePaths []string
	// IgnoreGitPaths leaves .git, .gitattributes, .github and .gitignore
	// at the model root out (the flag's default; model_signing's too).
	IgnoreGitPaths      bool
	AllowSymlinks       bool
	IgnoreUnsignedFiles bool
	// Workers hash files in parallel (0: every CPU).
	Workers int
	// Insecure lets oci:// use plain HTTP, to a loopback registry only.
	Insecure bool
}

// AddFlags registers the options as `verify model`'s flags.
func (o *Options) AddFlags(fl *pflag.FlagSet) {
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
	fl.BoolVar(&o.IgnoreGitPaths, "ignore-git-paths", true, "ignore .git, .gitattributes, .github and .gitignore at the model root")
	fl.BoolVar(&o.AllowSymlinks, "allow-symlinks", false, "follow symlinks to files instead of refusing them")
	fl.BoolVar(&o.IgnoreUnsignedFiles, "ignore-unsigned-files", false, "do not report files the signature does not cover")
	fl.IntVar(&o.Workers, "workers", 0, "files hashed in parallel (default: number of CPUs)")
	fl.BoolVar(&o.Insecure, "insecure-registry", false, "oci://: plain HTTP, to a loopback registry only")
}

// Model verifies the model at target: a directory or a file, oci://REF
// (the registry's manifest: each layer is a file whose digest the
// registry states, so no layer is pulled) or oci-layout:DIR[:TAG|@DIGEST].
// An error means the check could not run; a report that did not verify
// is returned with a nil error (Failure says why).
func Model(ctx context.Context, target string, o Options) (*oms.Report, error) {
	if o.Workers < 0 {
		return nil, fmt.Errorf("--workers %d: want 0 (all CPUs) or more", o.Workers)
	}
	ociRef, isOCI := strings.CutPrefix(target, "oci://")
	layoutRef, isLayout := strings.CutPrefix(target, "oci-layout:")
	sigPath := o.Signature
	if (isOCI || isLayout) && sigPath == "" {
		return nil, errors.New("--signature is required for a model packaged as an OCI artifact")
	}
	if sigPath == "" {
		if fi, err := os.Stat(target); err == nil && !fi.IsDir() {
			return nil, errors.New("--signature is required when the model is a single file")
		}
		sigPath = filepath.Join(target, "model.sig")
	}
	pol, err := o.Trust.Policy()
	if err != nil {
		return nil, err
	}
	sig, err := readSignature(sigPath)
	if err != nil {
		return nil, err
	}
	opts := oms.VerifyOptions{
		SignaturePath:       sigPath,
		IgnorePaths:         o.IgnorePaths,
		KeepGitPaths:        !o.IgnoreGitPaths,
		AllowSymlinks:       o.AllowSymlinks,
		IgnoreUnsignedFiles: o.IgnoreUnsignedFiles,
		Hasher:              oms.Hasher{Workers: o.Workers},
	}
	if !isOCI && !isLayout {
		return oms.VerifyModel(ctx, target, sig, pol, opts)
	}
	src := collect.ManifestSource{Insecure: o.Insecure}
	var raw []byte
	var digest string
	if isOCI {
		raw, digest, err = src.FetchManifest(ctx, ociRef)
	} else {
		raw, digest, err = src.LayoutManifest(layoutRef)
	}
	if err != nil {
		return nil, err
	}
	return oms.VerifyOCI(ctx, target+" ("+digest+")", raw, sig, pol, opts)
}

// Failure is nil for a verified report, else an error naming target and
// its first problems.
func Failure(target string, r *oms.Report) error {
	if r.Verified {
		return nil
	}
	ps := r.Problems()
	if len(ps) > 3 {
		ps = append(ps[:3:3], fmt.Sprintf("and %d more", len(ps)-3))
	}
	return fmt.Errorf("model %s is not verified: %s", target, strings.Join(ps, "; "))
}

func readSignature(path string) ([]byte, error) {
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

// WriteText writes r as an aligned report: model, manifest, signatures,
// the files that do not match, and the result.
func WriteText(w io.Writer, r *oms.Report) error {
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
		fmt.Fprintf(tw, "Signature\t%s\n", signatureLine(r.Format, s))
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
	return tw.Flush()
}

func signatureLine(format envelope.Format, s graph.Signature) string {
	signer := s.Identity
	switch {
	case s.Method == envelope.MethodKey:
		signer = "key " + s.KeyID
	case s.Issuer != "":
		signer += " (issuer " + s.Issuer + ")"
	}
	line := fmt.Sprintf("%s, %s, %s: %s", format, orDash(s.Method), orDash(strings.TrimSpace(signer)), s.Status)
	if s.LogIndex > 0 {
		line += fmt.Sprintf(", Rekor log index %d at %s", s.LogIndex, s.IntegratedTime.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if s.Reason != "" {
		line += " — " + s.Reason
	}
	return line
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Print writes the outcome of Model(target) to w, as text or JSON (a
// check that could not run is JSON too: {"path", "verified": false,
// "error"}), and returns the error that decides the exit status: err,
// Failure, or nil for a verified model.
func Print(w io.Writer, asJSON bool, target string, r *oms.Report, err error) error {
	switch {
	case err != nil && asJSON:
		_ = writeJSON(w, map[string]any{"path": target, "verified": false, "error": err.Error()})
		return err
	case err != nil:
		return err
	case asJSON:
		err = writeJSON(w, r)
	default:
		err = WriteText(w, r)
	}
	if err != nil {
		return err
	}
	return Failure(target, r)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
