package envelopetest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// CertOptions shape a self-signed signing certificate.
type CertOptions struct {
	// NotBefore, NotAfter: the validity window (default: an hour ago to a
	// day ahead).
	NotBefore, NotAfter time.Time
	// KeyCertSign adds the keyCertSign key usage (a "proper" CA).
	KeyCertSign bool
	// NotCA leaves out the CA basic constraint.
	NotCA bool
}

// SelfSigned signs payload as DSSE in a bundle whose x509CertificateChain
// is one self-signed certificate, as `model_signing sign certificate` writes
// when the signing certificate is its own root: by default CA:TRUE, key
// usage digitalSignature, EKU codeSigning and no keyCertSign. It returns
// the bundle and the certificate in PEM (to trust it).
func SelfSigned(t testing.TB, payloadType string, payload []byte, opts CertOptions) (doc, certPEM []byte) {
	t.Helper()
	kp := &ecKeypair{k: newKey(t)}
	p := &selfSignedProvider{opts: opts, t: t, kp: kp}
	b, err := sign.Bundle(&sign.DSSEData{Data: payload, PayloadType: payloadType}, kp, sign.BundleOptions{CertificateChainProvider: p})
	if err != nil {
		t.Fatal(err)
	}
	return marshal(t, b), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.cert.Raw})
}

type selfSignedProvider struct {
	opts CertOptions
	t    testing.TB
	kp   *ecKeypair
	cert *x509.Certificate
}

func (p *selfSignedProvider) GetCertificateChain(context.Context, sign.Keypair, *sign.CertificateProviderOptions) ([][]byte, error) {
	o := p.opts
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "self-signed-signer"},
		NotBefore:             o.NotBefore,
		NotAfter:              o.NotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		IsCA:                  !o.NotCA,
		BasicConstraintsValid: true,
	}
	if o.KeyCertSign {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, p.kp.GetPublicKey(), p.kp.k)
	if err != nil {
		return nil, err
	}
	if p.cert, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	return [][]byte{der}, nil
}

// ecKeypair is a sign.Keypair over a P-256 key the test holds, so the
// same key can also sign the certificate.
type ecKeypair struct{ k *ecdsa.PrivateKey }

func (e *ecKeypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	return protocommon.HashAlgorithm_SHA2_256
}

func (e *ecKeypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
}
func (e *ecKeypair) GetHint() []byte                { return nil }
func (e *ecKeypair) GetKeyAlgorithm() string        { return "ECDSA" }
func (e *ecKeypair) GetPublicKey() crypto.PublicKey { return &e.k.PublicKey }

func (e *ecKeypair) GetPublicKeyPem() (string, error) {
	b, err := cryptoutils.MarshalPublicKeyToPEM(&e.k.PublicKey)
	return string(b), err
}

func (e *ecKeypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	d := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, e.k, d[:])
	return sig, d[:], err
}
