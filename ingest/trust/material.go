package trust

import (
	"errors"
	"fmt"
	"strings"
)

// Material is trust given on a command line (`verify model`), beside or
// instead of a policy file: keys, CA certificates and keyless identities
// that apply to every subject, in one rule named "command-line".
type Material struct {
	// PolicyFile is a trust policy YAML the rest adds to ("" none).
	PolicyFile string
	// PublicKeys and CertChains are PEM files; all the CA files form one
	// store (like model_signing's --certificate_chain).
	PublicKeys []string
	CertChains []string
	// Keyless: the expected certificate identity (SAN) and OIDC issuer,
	// exact or as regular expressions.
	Identity, IdentityRegexp string
	Issuer, IssuerRegexp     string
	// TrustedRoots are sigstore trusted_root.json files; keyless material
	// without any (and a policy without roots) uses the embedded
	// public-good root.
	TrustedRoots []string
}

// Policy assembles m into a validated policy. It fails when m trusts
// nothing, naming the flags that would.
func (m Material) Policy() (*Policy, error) {
	pol := &Policy{}
	if m.PolicyFile != "" {
		p, err := Load(m.PolicyFile)
		if err != nil {
			return nil, fmt.Errorf("--policy: %w", err)
		}
		pol = p
	}
	rule := Rule{Name: "command-line"}
	for _, p := range m.PublicKeys {
		k, err := LoadPublicKey(p)
		if err != nil {
			return nil, fmt.Errorf("--public-key: %w", err)
		}
		rule.Keys = append(rule.Keys, k)
	}
	if len(m.CertChains) > 0 {
		ca := CABundle{Source: strings.Join(m.CertChains, ",")}
		for _, p := range m.CertChains {
			b, err := LoadCABundle(p)
			if err != nil {
				return nil, fmt.Errorf("--cert-chain: %w", err)
			}
			ca.Roots = append(ca.Roots, b.Roots...)
			ca.Intermediates = append(ca.Intermediates, b.Intermediates...)
		}
		rule.CAs = append(rule.CAs, ca)
	}
	keyless := m.Identity != "" || m.IdentityRegexp != "" || m.Issuer != "" || m.IssuerRegexp != ""
	if keyless {
		rule.Identities = append(rule.Identities, Identity{Issuer: m.Issuer, IssuerRegexp: m.IssuerRegexp, SAN: m.Identity, SANRegexp: m.IdentityRegexp})
	}
	for _, p := range m.TrustedRoots {
		r, err := LoadTrustedRoot(p)
		if err != nil {
			return nil, fmt.Errorf("--trusted-root: %w", err)
		}
		pol.Roots = append(pol.Roots, r)
	}
	if keyless && len(pol.Roots) == 0 {
		r, err := PublicGood()
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
