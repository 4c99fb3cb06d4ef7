package envelope_test

import (
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// A model signed with a self-signed certificate (CA:TRUE, digitalSignature,
// codeSigning, no keyCertSign) verifies when that certificate is trusted,
// as with model_signing (OpenSSL trusts a self-signed certificate in its
// store without asking for keyCertSign). It used to be refused: the anchor
// test demanded keyCertSign.
func TestSelfSignedCertificateAnchorsItself(t *testing.T) {
	payload := stmt(t, "acme/llm")
	now := time.Now()
	cases := []struct {
		name string
		opts envelopetest.CertOptions
		want graph.Status
	}{
		{"CA, no keyCertSign", envelopetest.CertOptions{}, graph.StatusVerified},
		{"CA with keyCertSign", envelopetest.CertOptions{KeyCertSign: true}, graph.StatusVerified},
		{"not a CA", envelopetest.CertOptions{NotCA: true}, graph.StatusVerified},
		// model_signing checks the chain at the leaf's notBefore (a
		// certificate signature carries no timestamp): expiry since then
		// does not matter, as for the reference.
		{"expired since signing", envelopetest.CertOptions{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)}, graph.StatusVerified},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, certPEM := envelopetest.SelfSigned(t, statement.PayloadType, payload, c.opts)
			ca, err := trust.ParseCABundle(certPEM, "self-signed.pem")
			if err != nil {
				t.Fatal(err)
			}
			if len(ca.Roots) != 1 {
				t.Fatalf("the self-signed certificate is not an anchor: %d roots, %d intermediates", len(ca.Roots), len(ca.Intermediates))
			}
			pol := policy(nil, trust.Rule{CAs: []trust.CABundle{ca}})
			if err := pol.Validate(); err != nil {
				t.Fatalf("policy with a self-signed signing certificate: %v", err)
			}
			o, err := envelope.Open(ctx, doc, pol)
			if err != nil {
				t.Fatal(err)
			}
			if s := one(t, o); s.Status != c.want || s.Method != envelope.MethodCertificate || s.Identity != "CN=self-signed-signer" {
				t.Fatalf("signature = %+v, want %s", s, c.want)
			}
			// Another self-signed certificate does not vouch for it.
			_, otherPEM := envelopetest.SelfSigned(t, statement.PayloadType, payload, c.opts)
			other, err := trust.ParseCABundle(otherPEM, "other.pem")
			if err != nil {
				t.Fatal(err)
			}
			o, err = envelope.Open(ctx, doc, policy(nil, trust.Rule{CAs: []trust.CABundle{other}}))
			if err != nil {
				t.Fatal(err)
			}
			if s := one(t, o); s.Status != graph.StatusFailed {
				t.Fatalf("verified against another self-signed certificate: %+v", s)
			}
		})
	}
}

// A chain is checked at the leaf's notBefore: a leaf issued before its CA
// was valid (a not-yet-valid chain at signing time) fails, as in
// model_signing (OpenSSL store time = leaf notBefore).
func TestCertificateChainValidityWindow(t *testing.T) {
	ca := envelopetest.NewCA(t, "acme") // valid from an hour ago
	payload := stmt(t, "acme/llm")
	pol := policy(nil, trust.Rule{CAs: []trust.CABundle{ca.Bundle(t)}})
	now := time.Now()
	cases := []struct {
		name string
		opts envelopetest.LeafOptions
		want graph.Status
	}{
		{"valid", envelopetest.LeafOptions{}, graph.StatusVerified},
		{"leaf before its CA", envelopetest.LeafOptions{NotBefore: now.Add(-48 * time.Hour)}, graph.StatusFailed},
		{"leaf expired since signing", envelopetest.LeafOptions{NotBefore: now.Add(-30 * time.Minute), NotAfter: now.Add(-time.Minute)}, graph.StatusVerified},
		{"leaf after its CA expired", envelopetest.LeafOptions{NotBefore: now.Add(48 * time.Hour), NotAfter: now.Add(72 * time.Hour)}, graph.StatusFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := envelope.Open(ctx, ca.Sign(t, statement.PayloadType, payload, c.opts), pol)
			if err != nil {
				t.Fatal(err)
			}
			if s := one(t, o); s.Status != c.want {
				t.Fatalf("signature = %+v, want %s", s, c.want)
			}
		})
	}
}
