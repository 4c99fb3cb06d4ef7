package envelope

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"slices"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// IdentityVersion tags the canonical encoding DocumentDigest hashes. A new
// encoding gets a new version, so digests of one version never collide with
// another's.
const IdentityVersion = "modelgraph.dev/document-identity/v1"

// Signer identities (the elements of a document's signer set).
const (
	signerKey  = "key:"  // + hex sha256 of the public key's PEM (the OMS key hint)
	signerX509 = "x509:" // + hex sha256 of a leaf certificate DER whose key cannot be read
)

// identity is what a signed document's digest is computed over. Its JSON
// encoding (fixed field order, sorted de-duplicated signers) is the
// canonical form.
type identity struct {
	Version       string   `json:"v"`
	PayloadType   string   `json:"payloadType"`
	PayloadSHA256 string   `json:"payloadSHA256,omitempty"` // DSSE payload
	MessageDigest string   `json:"messageDigest,omitempty"` // message-signature bundles
	Signers       string   `json:"signers"`                 // "verified" | "claimed"
	SignerSet     []string `json:"signerSet"`
}

// DocumentDigest is the one rule for a document's identity
// (graph.Document.Digest), decided at the envelope stage so every wrapping
// of the same signed content gets the same digest:
//
//   - No signature (a bare in-toto statement, a DSSE envelope with no
//     signatures): sha256 of the raw bytes received, as for every unsigned
//     format.
//   - Signed: sha256 over the canonical JSON of
//     {v: IdentityVersion, payloadType, payloadSHA256 (sha256 of the DSSE
//     payload) or messageDigest (a message-signature bundle's artifact
//     digest), signers, signerSet}.
//     signerSet is the sorted set of signer identities: the key that made
//     each signature, "key:<hex sha256 of its PEM>" (trust.KeyHint), for
//     every method (a key; the leaf certificate's key for certificate and
//     keyless signatures), so re-wrapping a signature under other
//     verification material does not make a new signer.
//     When at least one signature verified against the trust policy, the
//     set holds only the verified signers (signers "verified"): a copy with
//     an extra signature that does not verify (an attacker's own key, a
//     forged key id) is still the same document. When none verified, it
//     holds every signature's claimed signer (signers "claimed"): the key id
//     or hint the document names, or its leaf certificate's key.
//
// Outer bytes never matter: JSON whitespace and key order, the base64
// variant of payload and signatures, bare DSSE versus sigstore bundle
// (any version), JSON Lines versus a single document all give the same
// digest. Signature bytes are not part of it (ECDSA signatures are
// malleable: a re-signed or mangled signature over the same payload by the
// same key is the same document). The same payload signed by another set of
// verified signers (K1 versus K1+K2) is a different document.
func (o *Opened) DocumentDigest() string { return o.digest }

// computeDigest sets o.digest from the opened document; raw is the bytes
// received; leaf is the DER of the bundle's leaf certificate (nil if none).
func (o *Opened) computeDigest(raw []byte, leaf []byte) {
	if len(o.Signatures) == 0 {
		o.digest = graph.SHA256Key(raw)
		return
	}
	id := identity{Version: IdentityVersion, PayloadType: o.PayloadType, Signers: "claimed"}
	if o.MessageDigest != "" {
		id.MessageDigest = o.MessageDigest
	} else {
		sum := sha256.Sum256(o.Payload)
		id.PayloadSHA256 = hex.EncodeToString(sum[:])
	}
	var verified, claimed []string
	for _, s := range o.Signatures {
		sid := signerID(s, leaf)
		claimed = append(claimed, sid)
		if s.Status == graph.StatusVerified {
			verified = append(verified, sid)
		}
	}
	set := claimed
	if len(verified) > 0 {
		set, id.Signers = verified, "verified"
	}
	slices.Sort(set)
	id.SignerSet = slices.Compact(set)
	b, err := json.Marshal(id)
	if err != nil { // strings and a string slice always encode
		panic(err)
	}
	o.digest = graph.SHA256Key(b)
}

// signerID names the key that made signature s: the leaf certificate's key
// for certificate and keyless signatures, else (key signatures) the trusted
// key's hint after verification (trust.KeyHint, computed from the key) or,
// unverified, the key id or hint the document claims.
func signerID(s graph.Signature, leaf []byte) string {
	if s.Method != MethodKey && len(leaf) > 0 {
		if c, err := x509.ParseCertificate(leaf); err == nil {
			if h, err := trust.KeyHint(c.PublicKey); err == nil {
				return signerKey + h
			}
		}
		sum := sha256.Sum256(leaf)
		return signerX509 + hex.EncodeToString(sum[:])
	}
	return signerKey + s.KeyID
}
