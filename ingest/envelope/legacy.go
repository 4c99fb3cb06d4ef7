package envelope

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/modelgraph/modelgraph/ingest/statement"
)

// ReasonLegacyEncoding is set on a signature that verified only with
// model_signing's legacy v0.2 encoding.
const ReasonLegacyEncoding = "verified with model_signing's legacy v0.2 encoding (pae_compat)"

// Predicate types whose signatures model_signing also checks with its
// legacy encoding (it accepts it for any model signature, whatever the
// predicate).
var legacyEncodingPredicates = map[string]bool{
	"https://model_signing/signature/v1.0": true,
	"https://model_signing/Digests/v0.1":   true,
}

// legacyEncodingAllowed: the document is an OMS signature in a bundle.
func legacyEncodingAllowed(o *Opened) bool {
	return o.Format == FormatBundle && o.PayloadType == statement.PayloadType &&
		o.Statement != nil && legacyEncodingPredicates[o.Statement.PredicateType]
}

// legacyPAE is the pre-authentication encoding model_signing v0.2 signed,
// which its verifiers still accept (model_signing/_signing/sign_sigstore_pb.py
// pae_compat): "DSSEV1", then the Python repr of the payload bytes instead of
// the bytes themselves. No DSSE library produces it, as it is not DSSE.
func legacyPAE(payload []byte) []byte {
	b := fmt.Appendf(nil, "DSSEV1 %d %s %d ", len(statement.PayloadType), statement.PayloadType, len(payload))
	return appendPyBytesRepr(b, payload)
}

// appendPyBytesRepr appends repr(b) as CPython writes it for bytes
// (Objects/bytesobject.c): b'...' (b"..." when b holds ' and no "), with
// \\, the quote, \t \n \r escaped and other bytes outside 0x20–0x7e as \xhh.
func appendPyBytesRepr(dst, b []byte) []byte {
	quote := byte('\'')
	if bytes.IndexByte(b, '\'') >= 0 && bytes.IndexByte(b, '"') < 0 {
		quote = '"'
	}
	dst = append(dst, 'b', quote)
	const hexdigits = "0123456789abcdef"
	for _, c := range b {
		switch {
		case c == quote || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c < ' ' || c >= 0x7f:
			dst = append(dst, '\\', 'x', hexdigits[c>>4], hexdigits[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, quote)
}

// ecHash is the hash model_signing pairs with an EC key (get_ec_key_hash).
func ecHash(pub crypto.PublicKey) (crypto.Hash, bool) {
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return 0, false
	}
	switch k.Curve {
	case elliptic.P256():
		return crypto.SHA256, true
	case elliptic.P384():
		return crypto.SHA384, true
	case elliptic.P521():
		return crypto.SHA512, true
	}
	return 0, false
}

// verifyLegacyEncoding checks the bundle's DSSE signature over legacyPAE
// with an EC key and hash h, as model_signing's compatibility path does
// (sigstore's ECDSA verifier; only EC keys, as model_signing signs with).
func verifyLegacyEncoding(pb *protobundle.Bundle, pub crypto.PublicKey, h crypto.Hash) error {
	env := pb.GetDsseEnvelope()
	if env == nil || len(env.GetSignatures()) != 1 {
		return fmt.Errorf("legacy encoding: not a DSSE bundle with one signature")
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return fmt.Errorf("legacy encoding: %T is not an EC key", pub)
	}
	v, err := signature.LoadECDSAVerifier(k, h)
	if err != nil {
		return err
	}
	return v.VerifySignature(bytes.NewReader(env.GetSignatures()[0].GetSig()), bytes.NewReader(legacyPAE(env.GetPayload())))
}
