// Package envelope opens signed documents: sigstore bundles (v0.1–v0.3),
// bare DSSE envelopes and bare in-toto statements. It returns the payload and
// the outcome of checking every signature against a trust policy, so OMS
// signatures and in-toto attestations (SLSA, datasets, deployments) share one
// verification path.
//
// Open never reports a signature as verified unless sigstore-go accepted it
// against material the policy trusts for the document's subjects. Bad
// signatures are outcomes (status failed, with a reason), not errors; errors
// are for documents that cannot be read at all.
package envelope

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/modelgraph/modelgraph/ingest/docerr"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/strictjson"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// ErrInvalidDocument is the root of every error for input that cannot be
// opened. Messages name the offending field.
var ErrInvalidDocument = docerr.Sentinel("invalid signed document", docerr.ErrMalformed)

// ErrUnknownFormat is returned for JSON that is none of the known formats.
var ErrUnknownFormat = docerr.Sentinel("invalid signed document: not a sigstore bundle, DSSE envelope or in-toto statement", ErrInvalidDocument, docerr.ErrUnsupported)

// ErrUnverifiable: the document carries no signature material this
// package can check (a bundle without verification material, a message
// digest algorithm it does not support).
var ErrUnverifiable = docerr.Sentinel("invalid signed document: cannot be verified", ErrInvalidDocument, docerr.ErrUnverifiable)

// Limits on input.
const (
	MaxDocumentSize = docerr.MaxDocumentBytes
	MaxPayloadSize  = docerr.MaxDocumentBytes
	MaxSignatures   = graph.MaxSignatures
	MaxChainLength  = 10 // certificates in a bundle's x509CertificateChain
)

// Format says how a document was wrapped.
type Format string

// Formats Open recognises.
const (
	FormatBundle    Format = "sigstore-bundle"
	FormatDSSE      Format = "dsse"
	FormatStatement Format = "in-toto-statement"
)

// Signing methods recorded in graph.Signature.Method.
const (
	MethodKey         = "key"         // a public key the policy names
	MethodCertificate = "certificate" // an X.509 chain to a policy CA
	MethodKeyless     = "keyless"     // a Fulcio certificate with a Rekor entry
)

// Opened is a document with its payload and signature outcomes.
type Opened struct {
	Format      Format
	MediaType   string // the bundle's media type ("" for other formats)
	PayloadType string // DSSE payload type ("" for message-signature bundles)
	Payload     []byte
	// Statement is the decoded payload when it is an in-toto statement.
	Statement *statement.Statement
	// MessageDigest is the signed artifact digest of a message-signature
	// bundle ("sha256:<hex>"), which then has no payload.
	MessageDigest string
	// Signatures holds one outcome per signature, in document order.
	Signatures []graph.Signature
	// Material is the bundle's verification material: MaterialPublicKey,
	// MaterialCertificateChain or MaterialCertificate ("" for other
	// formats); TlogEntries counts its transparency log entries. Profiles
	// such as OMS (spec §4.1) tie methods to them.
	Material    string
	TlogEntries int

	leaf   []byte // DER of a bundle's leaf certificate, for the signer set
	digest string // the document's identity: DocumentDigest
}

// Bundle verification material kinds (Opened.Material), named as the
// bundle's JSON fields.
const (
	MaterialPublicKey        = "publicKey"
	MaterialCertificateChain = "x509CertificateChain"
	MaterialCertificate      = "certificate"
)

// Verified reports whether at least one signature verified.
func (o *Opened) Verified() bool {
	for _, s := range o.Signatures {
		if s.Status == graph.StatusVerified {
			return true
		}
	}
	return false
}

// Role is what the document may vouch for, from its predicate type (a
// message signature over an artifact's bytes is a model signature): the
// policy grants trust per role.
func (o *Opened) Role() graph.Role {
	switch {
	case o.Statement != nil:
		return trust.RoleForPredicate(o.Statement.PredicateType)
	case o.MessageDigest != "":
		return graph.RoleModelSignature
	}
	return graph.RoleOther
}

func (o *Opened) target() target { return target{role: o.Role(), subjects: o.SubjectNames()} }

// SubjectNames returns the statement's subject names (none when the payload
// is not a statement); the policy's rules are selected by them.
func (o *Opened) SubjectNames() []string {
	if o.Statement == nil {
		return nil
	}
	names := make([]string, len(o.Statement.Subject))
	for i, s := range o.Statement.Subject {
		names[i] = s.Name
	}
	return names
}

// Open detects the format of data, extracts the payload and checks each
// signature against pol (nil trusts nothing: signatures are unverifiable).
func Open(ctx context.Context, data []byte, pol *trust.Policy) (*Opened, error) {
	if len(data) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: document is %d bytes, limit %d", ErrInvalidDocument, len(data), MaxDocumentSize)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Strict JSON (duplicate keys at any depth, case variants, invalid
	// UTF-8 refused): a signature must mean one thing to every reader.
	var top map[string]json.RawMessage
	if err := strictjson.Unmarshal(data, &top); err != nil {
		if errors.Is(err, strictjson.ErrAmbiguous) {
			return nil, fmt.Errorf("%w: %w", ErrInvalidDocument, err)
		}
		return nil, fmt.Errorf("%w: not a JSON object: %w", ErrInvalidDocument, err)
	}
	_, hasMediaType := top["mediaType"]
	_, hasVM := top["verificationMaterial"]
	_, hasPayloadType := top["payloadType"]
	_, hasType := top["_type"]
	var o *Opened
	var err error
	switch {
	case hasMediaType || hasVM:
		o, err = openBundle(ctx, data, pol)
	case hasPayloadType:
		o, err = openDSSE(ctx, data, pol)
	case hasType:
		o, err = openStatement(data)
	default:
		return nil, ErrUnknownFormat
	}
	if err != nil {
		return nil, err
	}
	o.computeDigest(data, o.leaf)
	return o, nil
}

func openStatement(data []byte) (*Opened, error) {
	st, err := statement.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: statement: %w", ErrInvalidDocument, err)
	}
	return &Opened{
		Format:      FormatStatement,
		PayloadType: statement.PayloadType,
		Payload:     data,
		Statement:   st,
	}, nil
}

// decodePayload fills the statement when the payload is in-toto.
func (o *Opened) decodePayload(field string) error {
	if len(o.Payload) > MaxPayloadSize {
		return fmt.Errorf("%w: %s: payload is %d bytes, limit %d", ErrInvalidDocument, field, len(o.Payload), MaxPayloadSize)
	}
	if o.PayloadType != statement.PayloadType {
		return nil
	}
	st, err := statement.Decode(o.Payload)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidDocument, field, err)
	}
	o.Statement = st
	return nil
}

// bareEnvelope is a DSSE envelope as JSON (secure-systems-lab/dsse).
type bareEnvelope struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

func openDSSE(ctx context.Context, data []byte, pol *trust.Policy) (*Opened, error) {
	var env bareEnvelope
	if err := strictjson.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("%w: dsse: %w", ErrInvalidDocument, err)
	}
	if env.PayloadType == "" {
		return nil, fmt.Errorf("%w: dsse: payloadType is empty", ErrInvalidDocument)
	}
	if base64.StdEncoding.DecodedLen(len(env.Payload)) > MaxPayloadSize {
		return nil, fmt.Errorf("%w: dsse: payload is larger than %d bytes", ErrInvalidDocument, MaxPayloadSize)
	}
	payload, err := decodeB64(env.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: dsse: payload: %w", ErrInvalidDocument, err)
	}
	if len(env.Signatures) > MaxSignatures {
		return nil, fmt.Errorf("%w: dsse: signatures: %d signatures, limit %d", ErrInvalidDocument, len(env.Signatures), MaxSignatures)
	}
	o := &Opened{Format: FormatDSSE, PayloadType: env.PayloadType, Payload: payload}
	if err := o.decodePayload("dsse.payload"); err != nil {
		return nil, err
	}
	sigs := make([][]byte, len(env.Signatures))
	for i, s := range env.Signatures {
		b, err := decodeB64(s.Sig)
		if err != nil {
			return nil, fmt.Errorf("%w: dsse: signatures[%d].sig: %w", ErrInvalidDocument, i, err)
		}
		if len(b) == 0 {
			return nil, fmt.Errorf("%w: dsse: signatures[%d].sig is empty", ErrInvalidDocument, i)
		}
		sigs[i] = b
	}
	for i, s := range env.Signatures {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pb := dsseBundle(env.PayloadType, payload, s.KeyID, sigs[i])
		o.Signatures = append(o.Signatures, verifyKey(pb, s.KeyID, s.KeyID, pol, o.target(), false))
	}
	return o, nil
}

func openBundle(ctx context.Context, data []byte, pol *trust.Policy) (*Opened, error) {
	pb := new(protobundle.Bundle)
	if err := strictjson.Check(data, pb); err != nil {
		return nil, fmt.Errorf("%w: bundle: %w", ErrInvalidDocument, err)
	}
	// model_signing 0.3.1–1.0.x wrote publicKey.rawBytes/keyDetails, which
	// are not bundle fields: strict parsing would reject real signatures.
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, pb); err != nil {
		return nil, fmt.Errorf("%w: bundle: %w", ErrInvalidDocument, err)
	}
	if pb.GetMediaType() == "" {
		return nil, fmt.Errorf("%w: bundle: mediaType is missing", ErrInvalidDocument)
	}
	if !strings.HasPrefix(pb.GetMediaType(), "application/vnd.dev.sigstore.bundle") {
		return nil, fmt.Errorf("%w: bundle: mediaType %q is not a sigstore bundle", ErrInvalidDocument, truncate(pb.GetMediaType(), 80))
	}
	vm := pb.GetVerificationMaterial()
	if vm == nil || vm.GetContent() == nil {
		return nil, fmt.Errorf("%w: bundle: verificationMaterial is missing or empty", ErrUnverifiable)
	}
	o := &Opened{Format: FormatBundle, MediaType: pb.GetMediaType(), TlogEntries: len(vm.GetTlogEntries())}
	switch vm.GetContent().(type) {
	case *protobundle.VerificationMaterial_PublicKey:
		o.Material = MaterialPublicKey
	case *protobundle.VerificationMaterial_X509CertificateChain:
		o.Material = MaterialCertificateChain
	case *protobundle.VerificationMaterial_Certificate:
		o.Material = MaterialCertificate
	}
	switch c := pb.GetContent().(type) {
	case *protobundle.Bundle_DsseEnvelope:
		env := c.DsseEnvelope
		if env == nil {
			return nil, fmt.Errorf("%w: bundle: dsseEnvelope is empty", ErrInvalidDocument)
		}
		if env.GetPayloadType() == "" {
			return nil, fmt.Errorf("%w: bundle: dsseEnvelope.payloadType is empty", ErrInvalidDocument)
		}
		if n := len(env.GetSignatures()); n != 1 {
			// The bundle spec allows exactly one; sigstore-go refuses others.
			return nil, fmt.Errorf("%w: bundle: dsseEnvelope.signatures has %d entries, want 1", ErrInvalidDocument, n)
		}
		if len(env.GetSignatures()[0].GetSig()) == 0 {
			return nil, fmt.Errorf("%w: bundle: dsseEnvelope.signatures[0].sig is empty", ErrInvalidDocument)
		}
		o.PayloadType = env.GetPayloadType()
		o.Payload = env.GetPayload()
		if err := o.decodePayload("bundle: dsseEnvelope.payload"); err != nil {
			return nil, err
		}
	case *protobundle.Bundle_MessageSignature:
		ms := c.MessageSignature
		if ms == nil || ms.GetMessageDigest() == nil || len(ms.GetMessageDigest().GetDigest()) == 0 {
			return nil, fmt.Errorf("%w: bundle: messageSignature.messageDigest is missing", ErrInvalidDocument)
		}
		if len(ms.GetSignature()) == 0 {
			return nil, fmt.Errorf("%w: bundle: messageSignature.signature is empty", ErrInvalidDocument)
		}
		alg, ok := digestAlgorithms[ms.GetMessageDigest().GetAlgorithm().String()]
		if !ok {
			return nil, fmt.Errorf("%w: bundle: messageSignature.messageDigest.algorithm %s is not supported", ErrUnverifiable, ms.GetMessageDigest().GetAlgorithm())
		}
		k, err := graph.DigestKey(alg, fmt.Sprintf("%x", ms.GetMessageDigest().GetDigest()))
		if err != nil {
			return nil, fmt.Errorf("%w: bundle: messageSignature.messageDigest: %w", ErrInvalidDocument, err)
		}
		o.MessageDigest = k
	default:
		return nil, fmt.Errorf("%w: bundle: neither dsseEnvelope nor messageSignature is set", ErrInvalidDocument)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o.Signatures = []graph.Signature{verifyBundle(data, pb, pol, o.target(), legacyEncodingAllowed(o))}
	o.leaf = leafCertificate(pb)
	return o, nil
}

// leafCertificate is the DER of the bundle's signing certificate (nil for
// public-key bundles).
func leafCertificate(pb *protobundle.Bundle) []byte {
	switch c := pb.GetVerificationMaterial().GetContent().(type) {
	case *protobundle.VerificationMaterial_Certificate:
		return c.Certificate.GetRawBytes()
	case *protobundle.VerificationMaterial_X509CertificateChain:
		if certs := c.X509CertificateChain.GetCertificates(); len(certs) > 0 {
			return certs[0].GetRawBytes()
		}
	}
	return nil
}

var digestAlgorithms = map[string]string{"SHA2_256": "sha256", "SHA2_384": "sha384", "SHA2_512": "sha512"}

// decodeB64 accepts the encodings DSSE producers use (standard, URL-safe,
// padded or not).
func decodeB64(s string) ([]byte, error) {
	var firstErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("not base64: %w", firstErr)
}

// rawPublicKey digs out publicKey.rawBytes, which model_signing 0.3.1–1.0.x
// wrote instead of a hint and protojson discards: it names the signer's key
// (untrusted) when no policy key verifies.
func rawPublicKey(data []byte) []byte {
	var b struct {
		VerificationMaterial struct {
			PublicKey struct {
				RawBytes []byte `json:"rawBytes"`
			} `json:"publicKey"`
		} `json:"verificationMaterial"`
	}
	if strictjson.Unmarshal(data, &b) != nil {
		return nil
	}
	return b.VerificationMaterial.PublicKey.RawBytes
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
