package envelope_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// FuzzOpen feeds every OMS fixture (bundles of all methods and versions)
// and mutations of them to Open with a policy that trusts the fixtures'
// signers: Open must not panic, must return either an error or outcomes
// with valid statuses, and must not call a changed document verified unless
// it still verifies.
func FuzzOpen(f *testing.F) {
	sigs, err := filepath.Glob(filepath.Join(fixtures, "*", "model.sig"))
	more, _ := filepath.Glob(filepath.Join(fixtures, "sigstore-go", "bundle-*.json"))
	sigs = append(sigs, more...)
	if err != nil || len(sigs) < 15 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, s := range sigs {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"x","subject":[{"name":"a","digest":{"sha256":"` + "0000000000000000000000000000000000000000000000000000000000000000" + `"}}]}`))
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"","sig":"AAAA"}]}`))
	key, err := trust.LoadPublicKey(filepath.Join(fixtures, "keys/certificate/signing-key-pub.pem"))
	if err != nil {
		f.Fatal(err)
	}
	ca, err := trust.LoadCABundle(filepath.Join(fixtures, "keys/certificate/ca-cert.pem"))
	if err != nil {
		f.Fatal(err)
	}
	pg, err := trust.PublicGood()
	if err != nil {
		f.Fatal(err)
	}
	pol := &trust.Policy{Roots: []trust.Root{pg}, Rules: []trust.Rule{{
		Keys:       []trust.PublicKey{key},
		CAs:        []trust.CABundle{ca},
		Identities: []trust.Identity{{Issuer: fixtureIssuer, SAN: fixtureSAN}},
	}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := envelope.Open(ctx, data, pol)
		if err != nil {
			if o != nil {
				t.Fatal("error with a result")
			}
			return
		}
		for _, s := range o.Signatures {
			if !s.Status.Valid() {
				t.Fatalf("invalid status %q", s.Status)
			}
			if s.Status != graph.StatusVerified && s.Reason == "" {
				t.Fatalf("%s without a reason", s.Status)
			}
		}
		if o.Statement != nil && o.PayloadType != "application/vnd.in-toto+json" {
			t.Fatalf("statement decoded from payload type %q", o.PayloadType)
		}
	})
}
