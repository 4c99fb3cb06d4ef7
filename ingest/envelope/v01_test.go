package envelope_test

import (
	"path/filepath"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// sigstore-go's v0.1 example bundles (npm provenance, keyless on GitHub
// Actions; npm publish attestation, signed by the registry's key) cover the
// oldest bundle media type and x509CertificateChain with a log entry.
func TestOpenBundleV01(t *testing.T) {
	const (
		san    = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
		issuer = "https://token.actions.githubusercontent.com"
	)
	key, err := trust.LoadPublicKey(filepath.Join(fixtures, "sigstore-go/publish_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	pg := []trust.Root{publicGood(t)}
	cases := []struct {
		file, method string
		pol          *trust.Policy
		want         graph.Status
	}{
		{"bundle-provenance.json", envelope.MethodKeyless, policy(pg, trust.Rule{Subjects: []string{"pkg:npm/sigstore@*"}, Identities: []trust.Identity{{Issuer: issuer, SAN: san}}}), graph.StatusVerified},
		{"bundle-provenance.json", envelope.MethodKeyless, policy(pg, trust.Rule{Identities: []trust.Identity{{Issuer: issuer, SANRegexp: `^https://github\.com/acme/`}}}), graph.StatusFailed},
		{"bundle-provenance.json", envelope.MethodKeyless, policy(pg, trust.Rule{Subjects: []string{"pkg:npm/other@*"}, Identities: []trust.Identity{{Issuer: issuer, SAN: san}}}), graph.StatusFailed},
		{"bundle-provenance.json", envelope.MethodKeyless, policy(pg, trust.Rule{Keys: []trust.PublicKey{key}}), graph.StatusUnverifiable},
		{"bundle-publish.json", envelope.MethodKey, policy(nil, trust.Rule{Keys: []trust.PublicKey{key}}), graph.StatusVerified},
		{"bundle-publish.json", envelope.MethodKey, policy(nil, trust.Rule{Keys: []trust.PublicKey{envelopetest.NewKeySigner(t).PublicKey(t)}}), graph.StatusFailed},
	}
	for _, c := range cases {
		o, err := envelope.Open(ctx, read(t, filepath.Join(fixtures, "sigstore-go", c.file)), c.pol)
		if err != nil {
			t.Fatal(err)
		}
		s := one(t, o)
		if o.MediaType != "application/vnd.dev.sigstore.bundle+json;version=0.1" || s.Method != c.method || s.Status != c.want {
			t.Errorf("%s: %s %+v, want %s", c.file, o.MediaType, s, c.want)
		}
		if c.want == graph.StatusVerified && c.method == envelope.MethodKeyless && (s.Identity != san || s.Issuer != issuer || s.LogIndex != 18300934) {
			t.Errorf("%s: signer %+v", c.file, s)
		}
	}
}
