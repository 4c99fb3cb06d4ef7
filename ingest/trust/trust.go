// Package trust holds the trust policy: which sigstore instances, signing
// identities, public keys and certificate authorities a signature may chain
// to, and for which subjects (models, datasets...) each of them is trusted.
//
// A Policy comes from YAML (Load, Parse; see docs/oms.md) or is built in code
// (command-line flags, tests). Verifiers ask it For the subjects a document
// names and get the material that may vouch for them.
package trust

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/encoding/protojson"
)

// ErrInvalidPolicy is the root of every policy error.
var ErrInvalidPolicy = errors.New("invalid trust policy")

// Limits on policy inputs.
const (
	MaxPolicySize      = 1 << 20  // YAML file
	MaxKeySize         = 64 << 10 // one PEM public key
	MaxCABundleSize    = 4 << 20  // one PEM certificate bundle
	MaxTrustedRootSize = 8 << 20  // one trusted_root.json
	MaxRoots           = 16
	MaxRules           = 1_000
	MaxRuleEntries     = 1_000 // identities, keys, CA bundles or subjects per rule
	MaxCertsPerBundle  = 1_000
	MaxPatternLen      = 1_024
)

// PublicGoodName names the embedded sigstore public-good trusted root.
const PublicGoodName = "public-good"

// Policy is a trust policy. The zero value trusts nothing: every signature
// checked against it is unverifiable.
type Policy struct {
	// Roots are the sigstore instances keyless signatures may chain to.
	Roots []Root
	// Rules say who may sign what.
	Rules []Rule
}

// Root is one sigstore instance's trusted material (Fulcio CAs, Rekor and CT
// logs, TSAs), usually a trusted_root.json.
type Root struct {
	Name     string // "public-good" or the file it came from
	Material root.TrustedMaterial
	// RequireSCT demands a signed certificate timestamp from one of the
	// root's CT logs in every Fulcio certificate. On by default for roots
	// loaded from YAML; off only for private instances that have no CT log.
	RequireSCT bool
}

// Rule grants trust to identities, keys and CAs for the subjects it matches.
type Rule struct {
	Name string
	// Subjects are patterns over subject names (an OMS model's name, an
	// attestation subject): a glob as in path.Match ('*' does not cross
	// '/'), or "regexp:<RE2>" matched against the whole name. Empty means
	// every subject.
	Subjects []string
	// Roles are the kinds of document the rule's signers are trusted for
	// (graph.Role: model-signature, provenance, dataset, deployment,
	// advisory, vex, sbom, other). Empty means every role, as policies
	// written before roles existed meant; docs/security.md recommends
	// naming them.
	Roles      []graph.Role
	Identities []Identity
	Keys       []PublicKey
	CAs        []CABundle

	// subjectsChecked: Validate found Subjects valid (patterns are
	// matched by graph.ScopeMatches, the one home of the namespace rule).
	subjectsChecked bool
}

// Identity is a keyless signing identity: the certificate's OIDC issuer and
// subject alternative name, each given exactly or as a regular expression
// (like cosign's --certificate-identity / --certificate-identity-regexp).
type Identity struct {
	Issuer       string `yaml:"issuer,omitempty" json:"issuer,omitempty"`
	IssuerRegexp string `yaml:"issuerRegexp,omitempty" json:"issuerRegexp,omitempty"`
	SAN          string `yaml:"san,omitempty" json:"san,omitempty"`
	SANRegexp    string `yaml:"sanRegexp,omitempty" json:"sanRegexp,omitempty"`
}

// CertificateIdentity converts i for sigstore-go's matcher.
func (i Identity) CertificateIdentity() (verify.CertificateIdentity, error) {
	return verify.NewShortCertificateIdentity(i.Issuer, i.IssuerRegexp, i.SAN, i.SANRegexp)
}

func (i Identity) String() string {
	iss, san := i.Issuer, i.SAN
	if iss == "" {
		iss = "~" + i.IssuerRegexp
	}
	if san == "" {
		san = "~" + i.SANRegexp
	}
	return san + " (issuer " + iss + ")"
}

func (i Identity) check() error {
	var errs []error
	if (i.Issuer == "") == (i.IssuerRegexp == "") {
		errs = append(errs, errors.New("set exactly one of issuer and issuerRegexp"))
	}
	if (i.SAN == "") == (i.SANRegexp == "") {
		errs = append(errs, errors.New("set exactly one of san and sanRegexp"))
	}
	for name, re := range map[string]string{"issuerRegexp": i.IssuerRegexp, "sanRegexp": i.SANRegexp} {
		if re == "" {
			continue
		}
		if len(re) > MaxPatternLen {
			errs = append(errs, fmt.Errorf("%s is %d bytes, limit %d", name, len(re), MaxPatternLen))
		} else if _, err := regexp.Compile(re); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// PublicKey is a trusted signing key.
type PublicKey struct {
	// Hint is the OpenSSF Model Signing key hint: hex sha256 of the key's
	// canonical PEM encoding (what model_signing writes to publicKey.hint).
	Hint   string
	Key    crypto.PublicKey
	Source string // file name, "inline" or "flag"
}

// CABundle is a set of certificate authorities for certificate-chain
// signatures (model_signing's "certificate" method). Self-signed
// certificates are trust anchors; the others may serve as intermediates.
type CABundle struct {
	Source        string
	Roots         []*x509.Certificate
	Intermediates []*x509.Certificate
}

// Pools returns the bundle's anchors and intermediates as cert pools.
func (c CABundle) Pools() (roots, intermediates *x509.CertPool) {
	roots, intermediates = x509.NewCertPool(), x509.NewCertPool()
	for _, r := range c.Roots {
		roots.AddCert(r)
	}
	for _, i := range c.Intermediates {
		intermediates.AddCert(i)
	}
	return roots, intermediates
}

// KeyHint computes the OMS hint of a public key: hex sha256 of its PEM
// encoding ("PUBLIC KEY" block of the PKIX DER, 64-column base64), which is
// what model_signing computes from the key, whatever the file looked like.
func KeyHint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	sum := sha256.Sum256(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	return hex.EncodeToString(sum[:]), nil
}

// ParsePublicKey reads a PEM "PUBLIC KEY" block (PKIX) or a certificate
// (whose key is taken).
func ParsePublicKey(data []byte, source string) (PublicKey, error) {
	if len(data) > MaxKeySize {
		return PublicKey{}, fmt.Errorf("%w: key %s: %d bytes, limit %d", ErrInvalidPolicy, source, len(data), MaxKeySize)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return PublicKey{}, fmt.Errorf("%w: key %s: no PEM block", ErrInvalidPolicy, source)
	}
	var pub crypto.PublicKey
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return PublicKey{}, fmt.Errorf("%w: key %s: %w", ErrInvalidPolicy, source, err)
		}
		pub = k
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return PublicKey{}, fmt.Errorf("%w: key %s: %w", ErrInvalidPolicy, source, err)
		}
		pub = c.PublicKey
	default:
		return PublicKey{}, fmt.Errorf("%w: key %s: PEM block %q is not a PUBLIC KEY (private keys do not belong in a trust policy)", ErrInvalidPolicy, source, block.Type)
	}
	hint, err := KeyHint(pub)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: key %s: %w", ErrInvalidPolicy, source, err)
	}
	return PublicKey{Hint: hint, Key: pub, Source: source}, nil
}

// ParseCABundle reads PEM certificates.
func ParseCABundle(data []byte, source string) (CABundle, error) {
	if len(data) > MaxCABundleSize {
		return CABundle{}, fmt.Errorf("%w: CA bundle %s: %d bytes, limit %d", ErrInvalidPolicy, source, len(data), MaxCABundleSize)
	}
	b := CABundle{Source: source}
	rest := data
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		n++
		if n > MaxCertsPerBundle {
			return CABundle{}, fmt.Errorf("%w: CA bundle %s: more than %d certificates", ErrInvalidPolicy, source, MaxCertsPerBundle)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return CABundle{}, fmt.Errorf("%w: CA bundle %s: certificate %d: %w", ErrInvalidPolicy, source, n, err)
		}
		if isSelfSigned(c) {
			b.Roots = append(b.Roots, c)
		} else {
			b.Intermediates = append(b.Intermediates, c)
		}
	}
	if n == 0 {
		return CABundle{}, fmt.Errorf("%w: CA bundle %s: no PEM certificate", ErrInvalidPolicy, source)
	}
	return b, nil
}

// isSelfSigned: issued by itself and signed by its own key. Unlike
// CheckSignatureFrom, it does not demand the CA basic constraint or the
// keyCertSign key usage: a self-signed signing certificate (model_signing's
// "certificate" method with a one-certificate chain) anchors itself, as it
// does for OpenSSL's store in the reference verifier.
func isSelfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawIssuer, c.RawSubject) {
		return false
	}
	return c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// clientTrustConfigType prefixes the media type of a sigstore client trust
// configuration (a trusted root with a signing configuration), what
// model_signing's --trust_config and sigstore-python read.
const clientTrustConfigType = "application/vnd.dev.sigstore.clienttrustconfig"

// ParseTrustedRoot reads a sigstore trusted_root.json, or the trusted root
// of a sigstore client trust configuration (its signing configuration is
// for signers, and ignored).
func ParseTrustedRoot(data []byte, source string) (Root, error) {
	if len(data) > MaxTrustedRootSize {
		return Root{}, fmt.Errorf("%w: trusted root %s: %d bytes, limit %d", ErrInvalidPolicy, source, len(data), MaxTrustedRootSize)
	}
	var head struct {
		MediaType string `json:"mediaType"`
	}
	if json.Unmarshal(data, &head) == nil && strings.HasPrefix(head.MediaType, clientTrustConfigType) {
		var cfg prototrustroot.ClientTrustConfig
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, &cfg); err != nil {
			return Root{}, fmt.Errorf("%w: trust config %s: %w", ErrInvalidPolicy, source, err)
		}
		if cfg.GetTrustedRoot() == nil {
			return Root{}, fmt.Errorf("%w: trust config %s: trustedRoot is missing", ErrInvalidPolicy, source)
		}
		tr, err := root.NewTrustedRootFromProtobuf(cfg.GetTrustedRoot())
		if err != nil {
			return Root{}, fmt.Errorf("%w: trust config %s: trustedRoot: %w", ErrInvalidPolicy, source, err)
		}
		return Root{Name: source, Material: tr, RequireSCT: true}, nil
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return Root{}, fmt.Errorf("%w: trusted root %s: %w", ErrInvalidPolicy, source, err)
	}
	return Root{Name: source, Material: tr, RequireSCT: true}, nil
}

// Applicable is the trust material a policy grants for a set of subjects.
type Applicable struct {
	Rules      []string // names of the rules that matched
	Identities []Identity
	Keys       []PublicKey
	CAs        []CABundle
}

// For returns the material of the rules that grant role and match every
// one of names. A rule with subject patterns never applies to a document
// that names no subject, so a key trusted for "acme/*" cannot vouch for an
// anonymous blob; a rule naming roles never applies to a document of
// another role, so a key trusted for advisories cannot vouch for weights.
func (p *Policy) For(role graph.Role, names ...string) Applicable {
	var a Applicable
	if p == nil {
		return a
	}
	for i := range p.Rules {
		r := &p.Rules[i]
		if !r.grants(role) || !r.matchesAll(names) {
			continue
		}
		a.Rules = append(a.Rules, r.Name)
		a.Identities = append(a.Identities, r.Identities...)
		a.Keys = append(a.Keys, r.Keys...)
		a.CAs = append(a.CAs, r.CAs...)
	}
	return a
}

// All returns the material of every rule, whatever subjects they cover.
// Verifiers use it to tell "signed by someone trusted for another subject"
// from "signed by a stranger".
func (p *Policy) All() Applicable {
	var a Applicable
	if p == nil {
		return a
	}
	for _, r := range p.Rules {
		a.Rules = append(a.Rules, r.Name)
		a.Identities = append(a.Identities, r.Identities...)
		a.Keys = append(a.Keys, r.Keys...)
		a.CAs = append(a.CAs, r.CAs...)
	}
	return a
}

// grants reports whether the rule's signers are trusted for role.
func (r *Rule) grants(role graph.Role) bool {
	return len(r.Roles) == 0 || slices.Contains(r.Roles, role)
}

// Scope returns the namespace patterns a signer is held to for a document
// of role naming names: nil when some rule that grants role, matches names
// and holds the signer (has reports whether a rule holds it) has no subject
// patterns; otherwise the union of those rules' patterns. Verifiers record
// it on graph.Signature.Scope so answers check it against the keys the
// graph knows for the subject, not only the names the signer chose.
func (p *Policy) Scope(role graph.Role, names []string, has func(*Rule) bool) []string {
	if p == nil {
		return nil
	}
	var out []string
	for i := range p.Rules {
		r := &p.Rules[i]
		if !r.grants(role) || !r.matchesAll(names) || !has(r) {
			continue
		}
		if len(r.Subjects) == 0 {
			return nil
		}
		for _, s := range r.Subjects {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}

// GrantedElsewhere names the roles other rules grant to a signer (has
// reports whether a rule holds it), for messages such as "trusted for
// advisories, not for model signatures".
func (p *Policy) GrantedElsewhere(has func(*Rule) bool) []graph.Role {
	if p == nil {
		return nil
	}
	var out []graph.Role
	for i := range p.Rules {
		r := &p.Rules[i]
		if !has(r) {
			continue
		}
		roles := r.Roles
		if len(roles) == 0 {
			roles = graph.Roles
		}
		for _, role := range roles {
			if !slices.Contains(out, role) {
				out = append(out, role)
			}
		}
	}
	return out
}

func (r *Rule) matchesAll(names []string) bool {
	if len(r.Subjects) == 0 {
		return true
	}
	if len(names) == 0 {
		return false
	}
	if !r.subjectsChecked && checkSubjects(r.Subjects) != nil {
		return false // Validate reports it; an invalid rule grants nothing
	}
	for _, n := range names {
		if !graph.ScopeMatches(r.Subjects, n) {
			return false
		}
	}
	return true
}

// checkSubjects reports the subject patterns graph.ScopeMatches cannot
// read: empty, too long, a bad RE2 after "regexp:", a malformed glob.
func checkSubjects(pats []string) error {
	var errs []error
	for i, p := range pats {
		if err := checkSubject(p); err != nil {
			errs = append(errs, fmt.Errorf("subjects[%d] %q: %w", i, truncate(p, 80), err))
		}
	}
	return errors.Join(errs...)
}

func checkSubject(p string) error {
	switch {
	case p == "":
		return errors.New("empty pattern")
	case len(p) > MaxPatternLen:
		return fmt.Errorf("pattern is %d bytes, limit %d", len(p), MaxPatternLen)
	case strings.HasPrefix(p, "regexp:"):
		_, err := regexp.Compile(`^(?:` + strings.TrimPrefix(p, "regexp:") + `)$`)
		return err
	}
	_, err := path.Match(p, "")
	return err
}

// Validate checks the policy and reports every problem at once.
func (p *Policy) Validate() error {
	if p == nil {
		return fmt.Errorf("%w: policy is nil", ErrInvalidPolicy)
	}
	if errs := p.problems(); len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidPolicy, errors.Join(errs...))
	}
	return nil
}

func (p *Policy) problems() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(p.Roots) > MaxRoots {
		add("trustedRoots: %d roots, limit %d", len(p.Roots), MaxRoots)
	}
	for i, r := range p.Roots {
		if r.Material == nil {
			add("trustedRoots[%d] (%s): no trusted material", i, r.Name)
		}
	}
	if len(p.Rules) > MaxRules {
		add("rules: %d rules, limit %d", len(p.Rules), MaxRules)
	}
	names := map[string]int{}
	for i := range p.Rules {
		r := &p.Rules[i]
		where := fmt.Sprintf("rules[%d]", i)
		if r.Name != "" {
			where += " (" + r.Name + ")"
			if j, dup := names[r.Name]; dup {
				add("%s: name also used by rules[%d]", where, j)
			}
			names[r.Name] = i
		}
		for j, role := range r.Roles {
			if !role.Valid() {
				add("%s.roles[%d] %q is not a role (%v)", where, j, role, graph.Roles)
			}
		}
		if len(r.Identities)+len(r.Keys)+len(r.CAs) == 0 {
			add("%s: grants nothing (no identities, keys or certificateAuthorities)", where)
		}
		for what, n := range map[string]int{"subjects": len(r.Subjects), "identities": len(r.Identities), "keys": len(r.Keys), "certificateAuthorities": len(r.CAs)} {
			if n > MaxRuleEntries {
				add("%s.%s: %d entries, limit %d", where, what, n, MaxRuleEntries)
			}
		}
		if err := checkSubjects(r.Subjects); err != nil {
			errs = append(errs, prefixEach(where+": ", err)...)
		} else {
			r.subjectsChecked = true
		}
		for j, id := range r.Identities {
			if err := id.check(); err != nil {
				errs = append(errs, prefixEach(fmt.Sprintf("%s.identities[%d]: ", where, j), err)...)
			}
		}
		if len(r.Identities) > 0 && len(p.Roots) == 0 {
			add("%s: identities need a sigstore trusted root, and trustedRoots is empty", where)
		}
		for j, k := range r.Keys {
			if k.Key == nil || k.Hint == "" {
				add("%s.keys[%d] (%s): no key (use ParsePublicKey)", where, j, k.Source)
			}
		}
		for j, c := range r.CAs {
			if len(c.Roots) == 0 {
				add("%s.certificateAuthorities[%d] (%s): no self-signed root certificate to anchor a chain", where, j, c.Source)
			}
		}
	}
	return errs
}

// prefixEach flattens joined errors, prefixing every line with where it was
// found, and drops the repeated ErrInvalidPolicy prefix of nested errors.
func prefixEach(prefix string, err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, prefixEach(prefix, e)...)
		}
		return out
	}
	return []error{errors.New(prefix + strings.TrimPrefix(err.Error(), ErrInvalidPolicy.Error()+": "))}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
