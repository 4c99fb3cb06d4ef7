// Package envelopetest signs documents offline for tests: with a key, with a
// private CA chain, and keyless with a virtual sigstore instance (Fulcio,
// Rekor, TSA), all through sigstore-go's sign and testing packages.
package envelopetest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/modelgraph/modelgraph/ingest/trust"
)

// InTotoPayloadType is the DSSE payload type of in-toto statements.
const InTotoPayloadType = "application/vnd.in-toto+json"

// Subject is one subject of an in-toto statement: a sha256 digest (hex)
// with an optional name and URI.
type Subject struct{ Name, URI, SHA256 string }

// Statement is an in-toto Statement v1 about subjects with the predicate,
// as JSON: the payload Bundle and DSSE sign.
func Statement(t testing.TB, predicateType string, predicate any, subjects ...Subject) []byte {
	t.Helper()
	var ss []map[string]any
	for _, s := range subjects {
		m := map[string]any{"digest": map[string]string{"sha256": s.SHA256}}
		if s.Name != "" {
			m["name"] = s.Name
		}
		if s.URI != "" {
			m["uri"] = s.URI
		}
		ss = append(ss, m)
	}
	b, err := json.Marshal(map[string]any{"_type": "https://in-toto.io/Statement/v1", "subject": ss, "predicateType": predicateType, "predicate": predicate})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// KeySigner signs with an ephemeral ECDSA P-256 key.
type KeySigner struct {
	kp *sign.EphemeralKeypair
}

// NewKeySigner makes a fresh key.
func NewKeySigner(t testing.TB) *KeySigner {
	t.Helper()
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &KeySigner{kp: kp}
}

// PublicKey is the key as a policy holds it.
func (k *KeySigner) PublicKey(t testing.TB) trust.PublicKey {
	t.Helper()
	p, err := trust.ParsePublicKey(k.PublicPEM(t), "test-key")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// PublicPEM is the public key in PEM.
func (k *KeySigner) PublicPEM(t testing.TB) []byte {
	t.Helper()
	s, err := k.kp.GetPublicKeyPem()
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}

// Bundle signs payload as a DSSE envelope in a sigstore bundle (v0.3, a
// public-key hint as sigstore-go writes it, no log entry).
func (k *KeySigner) Bundle(t testing.TB, payloadType string, payload []byte) []byte {
	t.Helper()
	b, err := sign.Bundle(&sign.DSSEData{Data: payload, PayloadType: payloadType}, k.kp, sign.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return marshal(t, b)
}

// MessageBundle signs data itself (not a DSSE envelope) into a sigstore
// bundle with a message signature, as cosign v3 signs images and blobs.
func (k *KeySigner) MessageBundle(t testing.TB, data []byte) []byte {
	t.Helper()
	b, err := sign.Bundle(&sign.PlainData{Data: data}, k.kp, sign.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return marshal(t, b)
}

// DSSE signs payload into a bare DSSE envelope (what cosign attest --key
// and CI pipelines produce), keyid set to the OMS hint of the key.
func (k *KeySigner) DSSE(t testing.TB, payloadType string, payload []byte) []byte {
	t.Helper()
	env := k.envelope(t, payloadType, payload)
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (k *KeySigner) envelope(t testing.TB, payloadType string, payload []byte) *dsse.Envelope {
	t.Helper()
	return signDSSE(t, keypairSigner{kp: k.kp}, k.kp.GetPublicKey(), k.PublicKey(t).Hint, payloadType, payload)
}

// keypairSigner exposes sigstore-go's ephemeral keypair as a sigstore
// signature.Signer, for the DSSE envelope signer.
type keypairSigner struct{ kp *sign.EphemeralKeypair }

func (s keypairSigner) PublicKey(...signature.PublicKeyOption) (crypto.PublicKey, error) {
	return s.kp.GetPublicKey(), nil
}

func (s keypairSigner) SignMessage(message io.Reader, _ ...signature.SignOption) ([]byte, error) {
	data, err := io.ReadAll(message)
	if err != nil {
		return nil, err
	}
	sig, _, err := s.kp.SignData(context.Background(), data)
	return sig, err
}

func signDSSE(t testing.TB, s signature.Signer, pub crypto.PublicKey, keyID, payloadType string, payload []byte) *dsse.Envelope {
	t.Helper()
	es, err := dsse.NewEnvelopeSigner(&sigdsse.SignerAdapter{SignatureSigner: s, Pub: pub, PubKeyID: keyID})
	if err != nil {
		t.Fatal(err)
	}
	env, err := es.SignPayload(context.Background(), payloadType, payload)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// CA is a private certificate authority (root and intermediate) that issues
// SAN-less code-signing leaves, like model_signing's certificate fixtures.
type CA struct {
	Root, Intermediate *x509.Certificate
	rootKey, interKey  *ecdsa.PrivateKey
}

// NewCA makes a root and an intermediate.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	rk := newKey(t)
	root := Issue(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: name + "-root"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}, nil, rk, &rk.PublicKey)
	ik := newKey(t)
	inter := Issue(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: name + "-intermediate"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}, root, rk, &ik.PublicKey)
	return &CA{Root: root, Intermediate: inter, rootKey: rk, interKey: ik}
}

// Bundle is the CA as a policy holds it (root as anchor).
func (c *CA) Bundle(t testing.TB) trust.CABundle {
	t.Helper()
	b, err := trust.ParseCABundle(c.RootPEM(), "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RootPEM is the root certificate in PEM.
func (c *CA) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Root.Raw})
}

// LeafOptions shape the signing certificate.
type LeafOptions struct {
	NoSigningUsage bool // neither digitalSignature nor codeSigning
	// NotBefore, NotAfter: the leaf's validity (default: an hour ago to a
	// day ahead, like the CA's).
	NotBefore, NotAfter time.Time
}

// Sign issues a leaf for a fresh key and signs payload as DSSE in a bundle
// whose verification material is the chain leaf, intermediate.
func (c *CA) Sign(t testing.TB, payloadType string, payload []byte, opts LeafOptions) []byte {
	t.Helper()
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sign.Bundle(&sign.DSSEData{Data: payload, PayloadType: payloadType}, kp, sign.BundleOptions{
		CertificateChainProvider: chainProvider{ca: c, opts: opts, t: t},
	})
	if err != nil {
		t.Fatal(err)
	}
	return marshal(t, b)
}

type chainProvider struct {
	ca   *CA
	opts LeafOptions
	t    testing.TB
}

func (p chainProvider) GetCertificateChain(_ context.Context, kp sign.Keypair, _ *sign.CertificateProviderOptions) ([][]byte, error) {
	tmpl := &x509.Certificate{
		NotBefore:   p.opts.NotBefore,
		NotAfter:    p.opts.NotAfter,
		Subject:     pkix.Name{CommonName: "model-signer"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	if p.opts.NoSigningUsage {
		tmpl.KeyUsage = x509.KeyUsageKeyEncipherment
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	leaf := Issue(p.t, tmpl, p.ca.Intermediate, p.ca.interKey, kp.GetPublicKey())
	return [][]byte{leaf.Raw, p.ca.Intermediate.Raw}, nil
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Issue signs a certificate for pub from tmpl (a random serial; valid
// from an hour ago for a day unless tmpl says), by parent with parentKey,
// or self-signed when parent is nil.
func Issue(t testing.TB, tmpl, parent *x509.Certificate, parentKey crypto.Signer, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Keyless is a virtual sigstore instance for keyless signatures.
type Keyless struct {
	VS *ca.VirtualSigstore
}

// NewKeyless starts a virtual instance.
func NewKeyless(t testing.TB) *Keyless {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	return &Keyless{VS: vs}
}

// Root is the instance as a policy trusts it. Its leaves carry no SCTs, so
// none is required.
func (k *Keyless) Root() trust.Root {
	return trust.Root{Name: "virtual-sigstore", Material: k.VS}
}

// Sign has identity (issued by issuer) sign an in-toto payload and returns a
// v0.3 bundle with the Fulcio leaf, a Rekor dsse entry (inclusion promise
// and proof) and an RFC 3161 timestamp.
func (k *Keyless) Sign(t testing.TB, identity, issuer string, payload []byte) []byte {
	t.Helper()
	integrated := time.Now().Add(5 * time.Minute) // when the leaf is valid, as ca.Attest does
	ent, err := k.VS.AttestAtTime(identity, issuer, payload, integrated, true)
	if err != nil {
		t.Fatal(err)
	}
	vc, err := ent.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ent.SignatureContent()
	if err != nil {
		t.Fatal(err)
	}
	env := sc.EnvelopeContent().RawEnvelope()
	entries, err := ent.TlogEntries()
	if err != nil {
		t.Fatal(err)
	}
	tss, err := ent.Timestamps()
	if err != nil {
		t.Fatal(err)
	}
	logID, err := k.VS.RekorLogID()
	if err != nil {
		t.Fatal(err)
	}
	var tles []*protorekor.TransparencyLogEntry
	for _, e := range entries {
		tle := proto.Clone(e.TransparencyLogEntry()).(*protorekor.TransparencyLogEntry)
		tle.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"}
		set, err := k.VS.RekorSignPayload(tlog.RekorPayload{
			Body:           base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
			IntegratedTime: tle.IntegratedTime,
			LogIndex:       tle.LogIndex,
			LogID:          logID,
		})
		if err != nil {
			t.Fatal(err)
		}
		tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
		tles = append(tles, tle)
	}
	var rfc []*protocommon.RFC3161SignedTimestamp
	for _, ts := range tss {
		rfc = append(rfc, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
	}
	payloadBytes, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	var sigs []*protodsse.Signature
	for _, s := range env.Signatures {
		raw, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, &protodsse.Signature{Sig: raw, Keyid: s.KeyID})
	}
	b := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:                   &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw}},
			TlogEntries:               tles,
			TimestampVerificationData: &protobundle.TimestampVerificationData{Rfc3161Timestamps: rfc},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     payloadBytes,
			PayloadType: env.PayloadType,
			Signatures:  sigs,
		}},
	}
	return marshal(t, b)
}

func marshal(t testing.TB, b *protobundle.Bundle) []byte {
	t.Helper()
	out, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Mutate decodes a JSON document, lets f change it and encodes it again:
// the tamper tests' scalpel.
func Mutate(t testing.TB, doc []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FlipB64 returns s (base64) with one byte of its decoded value changed.
func FlipB64(t testing.TB, s string, at int) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	if at < 0 {
		at = len(b) + at
	}
	b[at] ^= 0x01
	return base64.StdEncoding.EncodeToString(b)
}

// HexOf is a helper for digests in tests.
func HexOf(b []byte) string { return hex.EncodeToString(b) }

// Re-encodings of one signed document, for replay tests: each keeps what
// was signed (payload type, payload, signature) and changes only the outer
// bytes.

// dsseJSON is a bare DSSE envelope as JSON.
type dsseJSON struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

func decodeDSSE(t testing.TB, doc []byte) dsseJSON {
	t.Helper()
	var env dsseJSON
	if err := json.Unmarshal(doc, &env); err != nil {
		t.Fatal(err)
	}
	return env
}

func rawB64(t testing.TB, s string) []byte {
	t.Helper()
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b
		}
	}
	t.Fatalf("not base64: %.40s", s)
	return nil
}

// Indent re-indents a JSON document (whitespace only).
func Indent(t testing.TB, doc []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, doc, " ", "\t  "); err != nil {
		t.Fatal(err)
	}
	out.WriteString("\n\n")
	return out.Bytes()
}

// ReencodeB64 re-encodes a bare DSSE envelope's payload and signatures
// with enc (URL-safe, unpadded...).
func ReencodeB64(t testing.TB, doc []byte, enc *base64.Encoding) []byte {
	t.Helper()
	env := decodeDSSE(t, doc)
	env.Payload = enc.EncodeToString(rawB64(t, env.Payload))
	for i := range env.Signatures {
		env.Signatures[i].Sig = enc.EncodeToString(rawB64(t, env.Signatures[i].Sig))
	}
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// WrapBundle puts a bare DSSE envelope's first signature into a v0.3
// sigstore bundle whose verification material is a public-key hint (the
// signature's key id), as sigstore-go writes key-signed bundles.
func WrapBundle(t testing.TB, doc []byte) []byte {
	t.Helper()
	env := decodeDSSE(t, doc)
	if len(env.Signatures) == 0 {
		t.Fatal("WrapBundle: envelope has no signature")
	}
	s := env.Signatures[0]
	b := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: s.KeyID}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     rawB64(t, env.Payload),
			PayloadType: env.PayloadType,
			Signatures:  []*protodsse.Signature{{Sig: rawB64(t, s.Sig), Keyid: s.KeyID}},
		}},
	}
	return marshal(t, b)
}

// UnwrapBundle takes the DSSE envelope out of a sigstore bundle as a bare
// envelope (key id: the signature's, else the bundle's public-key hint).
func UnwrapBundle(t testing.TB, doc []byte) []byte {
	t.Helper()
	pb := new(protobundle.Bundle)
	if err := protojson.Unmarshal(doc, pb); err != nil {
		t.Fatal(err)
	}
	env := pb.GetDsseEnvelope()
	if env == nil {
		t.Fatal("UnwrapBundle: bundle holds no DSSE envelope")
	}
	out := dsseJSON{PayloadType: env.GetPayloadType(), Payload: base64.StdEncoding.EncodeToString(env.GetPayload())}
	for _, s := range env.GetSignatures() {
		id := s.GetKeyid()
		if id == "" {
			id = pb.GetVerificationMaterial().GetPublicKey().GetHint()
		}
		out.Signatures = append(out.Signatures, struct {
			KeyID string `json:"keyid"`
			Sig   string `json:"sig"`
		}{id, base64.StdEncoding.EncodeToString(s.GetSig())})
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// JoinSignatures returns envelope a with b's signatures appended (both
// envelopes must carry the same payload): a document signed by both.
func JoinSignatures(t testing.TB, a, b []byte) []byte {
	t.Helper()
	ea, eb := decodeDSSE(t, a), decodeDSSE(t, b)
	if ea.PayloadType != eb.PayloadType || !bytes.Equal(rawB64(t, ea.Payload), rawB64(t, eb.Payload)) {
		t.Fatal("JoinSignatures: the envelopes sign different payloads")
	}
	ea.Signatures = append(ea.Signatures, eb.Signatures...)
	out, err := json.Marshal(ea)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
