package demo

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"github.com/modelgraph/modelgraph/graph"
	"slices"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/modelgraph/modelgraph/ingest/trust"
)

// inTotoPayloadType is the DSSE payload type of in-toto statements.
const inTotoPayloadType = "application/vnd.in-toto+json"

// signer is one of the fictional Acme teams. Its ed25519 key is derived
// from a fixed seed, so every generation signs identically (ed25519
// signatures are deterministic). The private keys are therefore public:
// the demo policy must never be trusted outside the demo.
type signer struct {
	name string
	priv ed25519.PrivateKey
	pub  trust.PublicKey
}

func newSigner(name string) (*signer, error) {
	seed := sha256.Sum256([]byte("modelgraph demo signing key v1: " + name))
	priv := ed25519.NewKeyFromSeed(seed[:])
	pemKey, err := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("demo key %s: %w", name, err)
	}
	pub, err := trust.ParsePublicKey(pemKey, "demo:"+name)
	if err != nil {
		return nil, fmt.Errorf("demo key %s: %w", name, err)
	}
	return &signer{name: name, priv: priv, pub: pub}, nil
}

// dsse signs an in-toto statement into a bare DSSE envelope, as CI
// pipelines do (cosign attest --key, witness); the key id is the key's OMS
// hint.
func (s *signer) dsse(statement []byte) ([]byte, error) {
	sv, err := signature.LoadED25519Signer(s.priv)
	if err != nil {
		return nil, err
	}
	es, err := dsse.NewEnvelopeSigner(&sigdsse.SignerAdapter{SignatureSigner: sv, Pub: s.priv.Public(), PubKeyID: s.pub.Hint})
	if err != nil {
		return nil, err
	}
	env, err := es.SignPayload(context.Background(), inTotoPayloadType, statement)
	if err != nil {
		return nil, fmt.Errorf("sign as %s: %w", s.name, err)
	}
	return json.Marshal(env)
}

// bundle signs an in-toto statement into a sigstore bundle (v0.3) with a
// public-key hint, the shape model_signing's key method writes.
func (s *signer) bundle(statement []byte) ([]byte, error) {
	pb, err := sign.Bundle(&sign.DSSEData{Data: statement, PayloadType: inTotoPayloadType}, (*keypair)(s), sign.BundleOptions{})
	if err != nil {
		return nil, fmt.Errorf("sign as %s: %w", s.name, err)
	}
	raw, err := protojson.Marshal(pb)
	if err != nil {
		return nil, err
	}
	// protojson varies its whitespace on purpose; compact it so the bytes
	// (and so the document digest) are the same on every generation.
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// keypair adapts a signer to sigstore-go's sign.Keypair.
type keypair signer

var ed25519Details = func() signature.AlgorithmDetails {
	d, err := signature.GetAlgorithmDetails(protocommon.PublicKeyDetails_PKIX_ED25519)
	if err != nil {
		panic(err) // a constant of the sigstore library
	}
	return d
}()

func (k *keypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	return ed25519Details.GetProtoHashType()
}
func (k *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return ed25519Details.GetSignatureAlgorithm()
}
func (k *keypair) GetHint() []byte                { return []byte(k.pub.Hint) }
func (k *keypair) GetKeyAlgorithm() string        { return "ED25519" }
func (k *keypair) GetPublicKey() crypto.PublicKey { return k.priv.Public() }
func (k *keypair) GetPublicKeyPem() (string, error) {
	b, err := cryptoutils.MarshalPublicKeyToPEM(k.priv.Public())
	return string(b), err
}

// SignData signs with pure ed25519, which hashes internally.
func (k *keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	return ed25519.Sign(k.priv, data), data, nil
}

// The demo's signers.
const (
	teamData     = "acme-data-platform" // dataset attestations
	teamML       = "acme-ml-platform"   // training provenance, OMS model signatures
	teamDeploy   = "acme-deploy"        // deployment records, serving-image SBOMs
	teamSecurity = "acme-security"      // advisories
)

type signers struct {
	data, ml, deploy, security *signer
}

func newSigners() (*signers, error) {
	var s signers
	for _, x := range []struct {
		dst  **signer
		name string
	}{{&s.data, teamData}, {&s.ml, teamML}, {&s.deploy, teamDeploy}, {&s.security, teamSecurity}} {
		k, err := newSigner(x.name)
		if err != nil {
			return nil, err
		}
		*x.dst = k
	}
	return &s, nil
}

// RulePrefix starts the names of the demo policy's rules.
const RulePrefix = "demo/"

// TrustPolicy returns the policy under which every signed demo document
// verifies: each team's key, trusted only for the subjects that team
// signs for and only for its roles (the data team cannot vouch for a
// model; the security team signs advisories, not weights). Do not use it for
// anything but the demo: its private keys are derived from public seeds.
func TrustPolicy() (*trust.Policy, error) {
	s, err := newSigners()
	if err != nil {
		return nil, err
	}
	p := &trust.Policy{Rules: []trust.Rule{
		{Name: RulePrefix + teamData, Roles: []graph.Role{graph.RoleDataset}, Subjects: []string{"datasets/*"}, Keys: []trust.PublicKey{s.data.pub}},
		{Name: RulePrefix + teamML, Roles: []graph.Role{graph.RoleModelSignature, graph.RoleProvenance}, Subjects: []string{"acme/*"}, Keys: []trust.PublicKey{s.ml.pub}},
		{Name: RulePrefix + teamDeploy, Roles: []graph.Role{graph.RoleDeployment, graph.RoleSBOM}, Subjects: []string{"acme/*", "ghcr.io/acme/*"}, Keys: []trust.PublicKey{s.deploy.pub}},
		{Name: RulePrefix + teamSecurity, Roles: []graph.Role{graph.RoleAdvisory, graph.RoleVEX}, Keys: []trust.PublicKey{s.security.pub}},
	}}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// WithTrust returns base (nil: an empty policy) extended with the demo's
// rules, so a demo server verifies the demo documents and everything its
// own policy trusts. base is not modified; a base that already holds the
// demo rules is returned as it is.
func WithTrust(base *trust.Policy) (*trust.Policy, error) {
	d, err := TrustPolicy()
	if err != nil {
		return nil, err
	}
	out := &trust.Policy{}
	if base != nil {
		out.Roots = append(out.Roots, base.Roots...)
		out.Rules = append(out.Rules, base.Rules...)
	}
	for _, r := range d.Rules {
		if !slices.ContainsFunc(out.Rules, func(o trust.Rule) bool { return sameRule(o, r) }) {
			out.Rules = append(out.Rules, r)
		}
	}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("demo trust policy: %w", err)
	}
	return out, nil
}

func sameRule(a, b trust.Rule) bool {
	return a.Name == b.Name && slices.Equal(a.Subjects, b.Subjects) && len(a.Keys) == len(b.Keys) &&
		len(a.Identities)+len(a.CAs)+len(b.Identities)+len(b.CAs) == 0 &&
		!slices.ContainsFunc(a.Keys, func(k trust.PublicKey) bool {
			return !slices.ContainsFunc(b.Keys, func(l trust.PublicKey) bool { return l.Hint == k.Hint })
		})
}
