package envelope

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

const bundleV03 = "application/vnd.dev.sigstore.bundle.v0.3+json"

// verifyBundle checks a bundle's single signature by the method its
// verification material implies. legacy also accepts model_signing's
// legacy v0.2 encoding for key and certificate signatures.
func verifyBundle(data []byte, pb *protobundle.Bundle, pol *trust.Policy, tg target, legacy bool) graph.Signature {
	vm := pb.GetVerificationMaterial()
	switch c := vm.GetContent().(type) {
	case *protobundle.VerificationMaterial_PublicKey:
		hint := c.PublicKey.GetHint()
		claimed := hint
		if claimed == "" {
			if k, err := trust.ParsePublicKey(rawPublicKey(data), "bundle"); err == nil {
				claimed = k.Hint
			}
		}
		return verifyKey(pb, hint, claimed, pol, tg, legacy)
	case *protobundle.VerificationMaterial_Certificate:
		return certificateSignature(pb, [][]byte{c.Certificate.GetRawBytes()}, pol, tg, legacy)
	case *protobundle.VerificationMaterial_X509CertificateChain:
		var raw [][]byte
		for _, cert := range c.X509CertificateChain.GetCertificates() {
			raw = append(raw, cert.GetRawBytes())
		}
		return certificateSignature(pb, raw, pol, tg, legacy)
	}
	return graph.Signature{Status: graph.StatusFailed, Reason: "bundle has no usable verification material"}
}

// certificateSignature tells a private-CA chain (model_signing's
// "certificate" method: no transparency log) from a keyless Fulcio
// certificate (logged in Rekor).
func certificateSignature(pb *protobundle.Bundle, raw [][]byte, pol *trust.Policy, tg target, legacy bool) graph.Signature {
	if len(raw) == 0 {
		return graph.Signature{Method: MethodCertificate, Status: graph.StatusFailed, Reason: "certificate chain is empty"}
	}
	if len(raw) > MaxChainLength {
		return graph.Signature{Method: MethodCertificate, Status: graph.StatusFailed, Reason: fmt.Sprintf("certificate chain has %d certificates, limit %d", len(raw), MaxChainLength)}
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return graph.Signature{Method: MethodCertificate, Status: graph.StatusFailed, Reason: fmt.Sprintf("certificate %d: %v", i, err)}
		}
		certs[i] = c
	}
	if len(pb.GetVerificationMaterial().GetTlogEntries()) > 0 {
		return verifyKeyless(pb, certs[0], pol, tg)
	}
	return verifyChain(pb, certs, pol, tg, legacy)
}

// verifyKey checks the signature with the policy's public keys. hint is
// what the document says (may be empty); claimed names the signer's key
// when no trusted key verifies. legacy: see verifyBundle.
func verifyKey(pb *protobundle.Bundle, hint, claimed string, pol *trust.Policy, tg target, legacy bool) graph.Signature {
	sig := graph.Signature{Method: MethodKey, KeyID: claimed}
	all := pol.All().Keys
	if len(all) == 0 {
		return unverifiable(sig, "the trust policy has no public keys")
	}
	allowed := pol.For(tg.role, tg.subjects...).Keys
	// The hint is only a hint: try the key it names first, then the others,
	// as model_signing 0.3.1–1.0.x bundles carry none.
	byHint := func(ks []trust.PublicKey) []trust.PublicKey {
		ks = slices.Clone(ks)
		slices.SortStableFunc(ks, func(a, b trust.PublicKey) int {
			switch {
			case a.Hint == hint && b.Hint != hint:
				return -1
			case b.Hint == hint && a.Hint != hint:
				return 1
			}
			return 0
		})
		return ks
	}
	var lastErr error
	// check reports whether k signed; reason notes the legacy encoding.
	check := func(k trust.PublicKey) (ok bool, reason string, err error) {
		if err = verifyWithKey(pb, k.Key); err == nil {
			return true, "", nil
		}
		if h, isEC := ecHash(k.Key); legacy && isEC && verifyLegacyEncoding(pb, k.Key, h) == nil {
			return true, ReasonLegacyEncoding, nil
		}
		return false, "", err
	}
	for _, k := range byHint(allowed) {
		ok, reason, err := check(k)
		if !ok {
			if lastErr == nil || k.Hint == hint {
				lastErr = err
			}
			continue
		}
		sig.KeyID = k.Hint
		sig.Status, sig.Reason = graph.StatusVerified, reason
		sig.Scope = pol.Scope(tg.role, tg.subjects, func(r *trust.Rule) bool {
			return slices.ContainsFunc(r.Keys, func(rk trust.PublicKey) bool { return rk.Hint == k.Hint })
		})
		return sig
	}
	for _, k := range byHint(all) {
		if slices.ContainsFunc(allowed, func(a trust.PublicKey) bool { return a.Hint == k.Hint }) {
			continue
		}
		if ok, _, _ := check(k); ok {
			sig.KeyID = k.Hint
			return failed(sig, fmt.Sprintf("signed by trusted key %s (%s), which the trust policy does not allow for %s", k.Hint, k.Source, tg.String()))
		}
	}
	if len(allowed) == 0 {
		return unverifiable(sig, fmt.Sprintf("no public key in the trust policy applies to %s", tg.String()))
	}
	if hint != "" {
		if i := slices.IndexFunc(allowed, func(a trust.PublicKey) bool { return a.Hint == hint }); i >= 0 {
			// The document names a key the policy trusts for it, and that
			// key does not verify it: the payload or the signature was
			// changed after signing. Say so; "unknown key" would send a
			// responder to the policy instead of to the tampering.
			return failed(sig, fmt.Sprintf("signed by trusted key %s (%s), but the payload or signature was altered after signing: %v", hint, allowed[i].Source, lastErr))
		}
	}
	return failed(sig, fmt.Sprintf("signature does not verify with any of the %d trusted keys for %s: %v", len(allowed), tg.String(), lastErr))
}

// verifyWithKey runs sigstore-go's key verification of pb's signature
// with pub, whatever key material pb itself carries.
func verifyWithKey(pb *protobundle.Bundle, pub crypto.PublicKey) error {
	const hint = "policy-key"
	mt := pb.GetMediaType()
	if mt == "" {
		mt = bundleV03
	}
	// Shallow: the content (and its possibly large payload) is shared.
	keyed := &protobundle.Bundle{
		MediaType: mt,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: hint}},
		},
		Content: pb.GetContent(),
	}
	if env := pb.GetDsseEnvelope(); env != nil {
		keyed.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: withoutKeyIDs(env)}
	}
	b, err := bundle.NewBundle(keyed)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	v, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	tm := root.NewTrustedPublicKeyMaterialFromMapping(map[string]*root.ExpiringKey{hint: root.NewExpiringKey(v, time.Time{}, time.Time{})})
	ver, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
	if err != nil {
		return err
	}
	art, err := artifactPolicy(pb)
	if err != nil {
		return err
	}
	_, err = ver.Verify(b, verify.NewPolicy(art, verify.WithKey()))
	return err
}

// withoutKeyIDs drops DSSE signature key ids, which are unsigned hints: the
// DSSE verifier skips a signature whose keyid differs from its own idea of
// the key's id (hex sha256 of the DER), and producers disagree on ids (OMS
// hints hash the PEM). The trusted key alone decides.
func withoutKeyIDs(env *protodsse.Envelope) *protodsse.Envelope {
	sigs := make([]*protodsse.Signature, len(env.GetSignatures()))
	for i, s := range env.GetSignatures() {
		sigs[i] = &protodsse.Signature{Sig: s.GetSig()}
	}
	return &protodsse.Envelope{Payload: env.GetPayload(), PayloadType: env.GetPayloadType(), Signatures: sigs}
}

// artifactPolicy binds a message signature to the digest it carries. A DSSE
// payload is checked as is: its subjects are the caller's to compare (OMS
// recomputes the root digest and re-hashes files).
func artifactPolicy(pb *protobundle.Bundle) (verify.ArtifactPolicyOption, error) {
	ms := pb.GetMessageSignature()
	if ms == nil {
		return verify.WithoutArtifactUnsafe(), nil
	}
	alg, ok := digestAlgorithms[ms.GetMessageDigest().GetAlgorithm().String()]
	if !ok {
		return nil, fmt.Errorf("message digest algorithm %s is not supported", ms.GetMessageDigest().GetAlgorithm())
	}
	return verify.WithArtifactDigest(alg, ms.GetMessageDigest().GetDigest()), nil
}

// verifyChain checks a certificate-chain signature the way model_signing
// does: the chain must lead to a trusted CA at the leaf's notBefore (the
// signature carries no timestamp), and the leaf must be fit for signing.
// sigstore-go's certificate path is not used because it insists on a SAN,
// which private-CA leaves often lack.
func verifyChain(pb *protobundle.Bundle, certs []*x509.Certificate, pol *trust.Policy, tg target, legacy bool) graph.Signature {
	leaf := certs[0]
	sig := graph.Signature{Method: MethodCertificate, Identity: certIdentity(leaf), Issuer: leaf.Issuer.String()}
	if h, err := trust.KeyHint(leaf.PublicKey); err == nil {
		sig.KeyID = h
	}
	all := pol.All().CAs
	if len(all) == 0 {
		return unverifiable(sig, "the trust policy has no certificate authorities")
	}
	allowed := pol.For(tg.role, tg.subjects...).CAs
	var chainErr error
	ok := false
	var okCA trust.CABundle
	for _, ca := range allowed {
		if chainErr = verifyLeaf(leaf, certs[1:], ca); chainErr == nil {
			ok, okCA = true, ca
			break
		}
	}
	scope := func() []string {
		return pol.Scope(tg.role, tg.subjects, func(r *trust.Rule) bool {
			return slices.ContainsFunc(r.CAs, func(c trust.CABundle) bool { return c.Source == okCA.Source })
		})
	}
	if !ok {
		for _, ca := range all {
			if slices.ContainsFunc(allowed, func(a trust.CABundle) bool { return a.Source == ca.Source }) {
				continue
			}
			if verifyLeaf(leaf, certs[1:], ca) == nil {
				return failed(sig, fmt.Sprintf("certificate chains to %s, which the trust policy does not allow for %s", ca.Source, tg.String()))
			}
		}
		if len(allowed) == 0 {
			return unverifiable(sig, fmt.Sprintf("no certificate authority in the trust policy applies to %s", tg.String()))
		}
		return failed(sig, fmt.Sprintf("certificate chain does not lead to a trusted CA: %v", chainErr))
	}
	if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageCodeSigning) {
		return failed(sig, "signing certificate has neither the digitalSignature key usage nor the codeSigning extended key usage")
	}
	if err := verifyWithKey(pb, leaf.PublicKey); err != nil {
		// model_signing's legacy v0.2 certificate signatures hashed with
		// SHA-256 whatever the curve; its verifier does the same.
		if legacy && verifyLegacyEncoding(pb, leaf.PublicKey, crypto.SHA256) == nil {
			sig.Status, sig.Reason = graph.StatusVerified, ReasonLegacyEncoding
			sig.Scope = scope()
			return sig
		}
		return failed(sig, fmt.Sprintf("signature does not verify with the certificate's key: %v", err))
	}
	sig.Status = graph.StatusVerified
	sig.Scope = scope()
	return sig
}

func verifyLeaf(leaf *x509.Certificate, chain []*x509.Certificate, ca trust.CABundle) error {
	roots, inter := ca.Pools()
	for _, c := range chain {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   leaf.NotBefore,
		// Usage is checked on the leaf alone, as model_signing does.
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	return err
}

// certIdentity names a certificate's subject: its first SAN, else its DN.
func certIdentity(c *x509.Certificate) string {
	switch {
	case len(c.EmailAddresses) > 0:
		return c.EmailAddresses[0]
	case len(c.URIs) > 0:
		return c.URIs[0].String()
	case len(c.DNSNames) > 0:
		return c.DNSNames[0]
	case len(c.IPAddresses) > 0:
		return c.IPAddresses[0].String()
	}
	return c.Subject.String()
}

// verifyKeyless checks a Fulcio certificate and its Rekor entry offline
// against each trusted root, then the signer's identity against the policy.
func verifyKeyless(pb *protobundle.Bundle, leaf *x509.Certificate, pol *trust.Policy, tg target) graph.Signature {
	sig := graph.Signature{Method: MethodKeyless, Identity: certIdentity(leaf)}
	if s, err := certificate.SummarizeCertificate(leaf); err == nil {
		sig.Identity, sig.Issuer = s.SubjectAlternativeName, s.Issuer
	}
	if pol == nil || len(pol.Roots) == 0 {
		return unverifiable(sig, "the trust policy has no sigstore trusted root")
	}
	var opts []bundle.Option
	if strings.HasSuffix(pb.GetMediaType(), "v0.3+json") || strings.Contains(pb.GetMediaType(), "version=0.3") {
		opts = append(opts, bundle.AllowCertificateChain())
	}
	b, err := bundle.NewBundle(pb, opts...)
	if err != nil {
		return failed(sig, fmt.Sprintf("bundle: %v", err))
	}
	art, err := artifactPolicy(pb)
	if err != nil {
		return failed(sig, err.Error())
	}
	var res *verify.VerificationResult
	var errs []error
	for _, r := range pol.Roots {
		vopts := []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1)}
		if r.RequireSCT {
			vopts = append(vopts, verify.WithSignedCertificateTimestamps(1))
		}
		v, err := verify.NewVerifier(r.Material, vopts...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.Name, err))
			continue
		}
		res, err = v.Verify(b, verify.NewPolicy(art, verify.WithoutIdentitiesUnsafe()))
		if err == nil {
			break
		}
		errs = append(errs, fmt.Errorf("%s: %w", r.Name, err))
		res = nil
	}
	if res == nil {
		return failed(sig, fmt.Sprintf("not verified against the trusted roots: %v", errors.Join(errs...)))
	}
	if c := res.Signature.Certificate; c != nil {
		sig.Identity, sig.Issuer = c.SubjectAlternativeName, c.Issuer
	}
	if entries, err := b.TlogEntries(); err == nil && len(entries) > 0 {
		sig.LogIndex = entries[0].LogIndex()
		sig.IntegratedTime = entries[0].IntegratedTime().UTC()
	}
	summary := *res.Signature.Certificate
	allIDs := pol.All().Identities
	if len(allIDs) == 0 {
		return unverifiable(sig, "the trust policy names no signing identities")
	}
	allowed := pol.For(tg.role, tg.subjects...).Identities
	if matchIdentity(allowed, summary) {
		sig.Status = graph.StatusVerified
		sig.Scope = pol.Scope(tg.role, tg.subjects, func(r *trust.Rule) bool { return matchIdentity(r.Identities, summary) })
		return sig
	}
	if matchIdentity(allIDs, summary) {
		return failed(sig, fmt.Sprintf("identity %s (issuer %s) is trusted, but not for %s", sig.Identity, sig.Issuer, tg.String()))
	}
	if len(allowed) == 0 {
		return unverifiable(sig, fmt.Sprintf("no signing identity in the trust policy applies to %s", tg.String()))
	}
	return failed(sig, fmt.Sprintf("identity %s (issuer %s) is not one the trust policy allows for %s", sig.Identity, sig.Issuer, tg.String()))
}

func matchIdentity(ids []trust.Identity, s certificate.Summary) bool {
	for _, id := range ids {
		ci, err := id.CertificateIdentity()
		if err != nil {
			continue // Validate reports it
		}
		if ci.Verify(s) == nil {
			return true
		}
	}
	return false
}

// dsseBundle wraps one signature of a bare DSSE envelope as a bundle, so it
// goes through the same sigstore-go verification as bundled ones.
func dsseBundle(payloadType string, payload []byte, keyID string, sig []byte) *protobundle.Bundle {
	return &protobundle.Bundle{
		MediaType: bundleV03,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: keyID}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     payload,
			PayloadType: payloadType,
			Signatures:  []*protodsse.Signature{{Sig: sig, Keyid: keyID}},
		}},
	}
}

func unverifiable(s graph.Signature, reason string) graph.Signature {
	s.Status, s.Reason = graph.StatusUnverifiable, reason
	return s
}

func failed(s graph.Signature, reason string) graph.Signature {
	s.Status, s.Reason = graph.StatusFailed, reason
	return s
}

// target is what a signature is checked for: the document's role and the
// subject names it states.
type target struct {
	role     graph.Role
	subjects []string
}

func (t target) String() string {
	if t.role == "" || t.role == graph.RoleOther {
		return subjectList(t.subjects)
	}
	return string(t.role) + " documents about " + subjectList(t.subjects)
}

func subjectList(names []string) string {
	switch len(names) {
	case 0:
		return "a document without subjects"
	case 1:
		return fmt.Sprintf("subject %q", names[0])
	}
	if len(names) > 3 {
		return fmt.Sprintf("subjects %q and %d more", names[:3], len(names)-3)
	}
	return fmt.Sprintf("subjects %q", names)
}
