// Package demo generates a small, realistic, signed ML supply chain for
// Acme Health: two datasets derived one from the other, a base model trained
// on them, two fine-tunes, a quantized variant and a LoRA adapter,
// deployments in production and staging, serving-image SBOMs (one with a
// vulnerable transformers), an advisory and a model card. Every document is
// one a real tool could have produced (DSSE envelopes, sigstore bundles,
// OpenSSF Model Signing manifests of real in-memory files, CycloneDX) and
// goes through ingest.Pipeline like a user's. Generation is deterministic:
// fixed seeds for file contents and keys, ed25519 signatures, fixed times,
// so two runs give the same bytes. docs/demo.md describes the chain and the
// incident questions it answers.
package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// ErrUntrusted is returned by Load when the pipeline would not verify the
// demo's signatures.
var ErrUntrusted = errors.New("the pipeline's trust policy does not include the demo keys (use demo.WithTrust)")

// SourcePrefix starts the Source of every demo document.
const SourcePrefix = "demo:"

// Documents returns the demo's documents in ingestion order.
func Documents() ([]ingest.Input, error) {
	s, err := newSigners()
	if err != nil {
		return nil, err
	}
	return build(s)
}

// TokenizerDigest is the digest of the tokenizer.json file the base model
// and its fine-tunes share: the file an incident may start from.
func TokenizerDigest() string { return "sha256:" + sha256Hex(newChain().tokenizer) }

// Report counts what Load did.
type Report struct {
	Documents  int // documents ingested or found
	Ingested   int // newly written
	Duplicates int // already in the store
}

// Load ingests the demo documents through p. p's parser must trust the
// demo keys (WithTrust); otherwise Load writes nothing and returns
// ErrUntrusted, as an unverified demo would teach the wrong lesson. Loading
// twice finds every document already stored.
func Load(ctx context.Context, p *ingest.Pipeline) (Report, error) {
	var rep Report
	if p == nil || p.Parser == nil {
		return rep, errors.New("demo: no pipeline")
	}
	if err := trusts(p.Parser.Trust); err != nil {
		return rep, err
	}
	docs, err := Documents()
	if err != nil {
		return rep, err
	}
	for _, in := range docs {
		res, err := p.Ingest(ctx, in)
		if err != nil {
			return rep, fmt.Errorf("demo: %w", err)
		}
		for _, r := range res {
			rep.Documents++
			if r.Receipt.Duplicate {
				rep.Duplicates++
			} else {
				rep.Ingested++
			}
		}
	}
	return rep, nil
}

// trusts reports whether pol holds every demo key.
func trusts(pol *trust.Policy) error {
	want, err := TrustPolicy()
	if err != nil {
		return err
	}
	var have []string
	for _, k := range pol.All().Keys {
		have = append(have, k.Hint)
	}
	var missing []string
	for _, r := range want.Rules {
		for _, k := range r.Keys {
			if !slices.Contains(have, k.Hint) {
				missing = append(missing, strings.TrimPrefix(r.Name, RulePrefix))
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("demo: %w: missing %s", ErrUntrusted, strings.Join(missing, ", "))
	}
	return nil
}
