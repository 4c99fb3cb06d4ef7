package envelope_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

func digestOf(t *testing.T, doc []byte, pol *trust.Policy) (string, graph.Status) {
	t.Helper()
	o, err := envelope.Open(ctx, doc, pol)
	if err != nil {
		t.Fatal(err)
	}
	var st graph.Status = graph.StatusUnsigned
	if len(o.Signatures) > 0 {
		st = o.Signatures[0].Status
	}
	return o.DocumentDigest(), st
}

// DocumentDigest across signing methods and verification outcomes: the
// outer bytes never matter, the payload and the signer set always do.
func TestDocumentDigest(t *testing.T) {
	payload, other := stmt(t, "acme/llm"), stmt(t, "acme/other")
	key := envelopetest.NewKeySigner(t)
	keyPol := policy(nil, trust.Rule{Keys: []trust.PublicKey{key.PublicKey(t)}})
	ca := envelopetest.NewCA(t, "acme")
	caPol := policy(nil, trust.Rule{CAs: []trust.CABundle{ca.Bundle(t)}})
	ks := envelopetest.NewKeyless(t)
	const iss, san = "https://issuer.example", "release@acme.example"
	klPol := policy([]trust.Root{ks.Root()}, trust.Rule{Identities: []trust.Identity{{Issuer: iss, SAN: san}}})

	dsse := key.DSSE(t, statement.PayloadType, payload)
	chain := ca.Sign(t, statement.PayloadType, payload, envelopetest.LeafOptions{})
	keyless := ks.Sign(t, san, iss, payload)
	same := []struct {
		name   string
		a, b   []byte
		pol    *trust.Policy
		status graph.Status
	}{
		{"key, verified: bare vs bundle", dsse, envelopetest.WrapBundle(t, dsse), keyPol, graph.StatusVerified},
		{"key, unverifiable (no policy): base64 variant", dsse, envelopetest.ReencodeB64(t, dsse, base64.RawURLEncoding), nil, graph.StatusUnverifiable},
		{"key, unverifiable (no policy): bare vs bundle", dsse, envelopetest.WrapBundle(t, dsse), nil, graph.StatusUnverifiable},
		{"certificate chain, verified: whitespace", chain, envelopetest.Indent(t, chain), caPol, graph.StatusVerified},
		{"certificate chain, failed (other CA): whitespace", chain, envelopetest.Indent(t, chain), policy(nil, trust.Rule{CAs: []trust.CABundle{envelopetest.NewCA(t, "x").Bundle(t)}}), graph.StatusFailed},
		{"keyless, verified: whitespace", keyless, envelopetest.Indent(t, keyless), klPol, graph.StatusVerified},
	}
	for _, c := range same {
		t.Run(c.name, func(t *testing.T) {
			da, sa := digestOf(t, c.a, c.pol)
			db, sb := digestOf(t, c.b, c.pol)
			if sa != c.status || sb != c.status {
				t.Fatalf("statuses %s, %s, want %s", sa, sb, c.status)
			}
			if da != db {
				t.Fatalf("digests differ: %s vs %s", da, db)
			}
			if da == graph.SHA256Key(c.a) || da == graph.SHA256Key(c.b) {
				t.Fatal("digest is the sha256 of the bytes")
			}
		})
	}
	bothPol := policy(nil, trust.Rule{Keys: []trust.PublicKey{key.PublicKey(t)}, CAs: []trust.CABundle{ca.Bundle(t)}})
	differ := []struct {
		name       string
		a, b       []byte
		polA, polB *trust.Policy
	}{
		{"other payload, same key", dsse, key.DSSE(t, statement.PayloadType, other), keyPol, keyPol},
		{"other payload type", dsse, key.DSSE(t, "application/json", payload), keyPol, keyPol},
		{"other key (unverifiable)", dsse, envelopetest.NewKeySigner(t).DSSE(t, statement.PayloadType, payload), nil, nil},
		{"other leaf certificate (same CA)", chain, ca.Sign(t, statement.PayloadType, payload, envelopetest.LeafOptions{}), caPol, caPol},
		{"key vs certificate (other key)", dsse, chain, bothPol, bothPol},
		{"verified vs not (same bytes, other policy)", dsse, dsse, keyPol, policy(nil, trust.Rule{Keys: []trust.PublicKey{envelopetest.NewKeySigner(t).PublicKey(t)}})},
	}
	for _, c := range differ {
		t.Run(c.name, func(t *testing.T) {
			da, _ := digestOf(t, c.a, c.polA)
			db, _ := digestOf(t, c.b, c.polB)
			if da == db {
				t.Fatalf("same digest %s", da)
			}
		})
	}
	// The signer is the key: a certificate-chain signature unwrapped to a
	// bare DSSE envelope, verified by the same key trusted as a key, is the
	// same document.
	leafPol := policy(nil, trust.Rule{CAs: []trust.CABundle{ca.Bundle(t)}, Keys: []trust.PublicKey{leafKey(t, chain)}})
	dc, sc := digestOf(t, chain, leafPol)
	du, su := digestOf(t, envelopetest.UnwrapBundle(t, chain), leafPol)
	if sc != graph.StatusVerified || su != graph.StatusVerified || dc != du {
		t.Fatalf("certificate bundle %s (%s) vs unwrapped %s (%s): want one verified document", dc, sc, du, su)
	}

	// Unsigned statements keep the sha256 of their bytes.
	if d, _ := digestOf(t, payload, keyPol); d != graph.SHA256Key(payload) {
		t.Fatalf("bare statement digest %s, want %s", d, graph.SHA256Key(payload))
	}
}

// leafKey is the public key of a bundle's leaf certificate, as a policy key.
func leafKey(t *testing.T, bundle []byte) trust.PublicKey {
	t.Helper()
	pb := new(protobundle.Bundle)
	if err := protojson.Unmarshal(bundle, pb); err != nil {
		t.Fatal(err)
	}
	certs := pb.GetVerificationMaterial().GetX509CertificateChain().GetCertificates()
	if len(certs) == 0 {
		t.Fatal("bundle has no certificate chain")
	}
	c, err := x509.ParseCertificate(certs[0].GetRawBytes())
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(c.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	k, err := trust.ParsePublicKey(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), "leaf")
	if err != nil {
		t.Fatal(err)
	}
	return k
}
