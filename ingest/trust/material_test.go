package trust_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// TestMaterialPolicy: command-line trust becomes one "command-line" rule
// added to the policy file's rules; keyless material without roots gets
// the public-good root; nothing trusted, or a bad file, is an error
// naming the flag.
func TestMaterialPolicy(t *testing.T) {
	key := filepath.Join(keys, "signing-key-pub.pem")
	ca := filepath.Join(keys, "ca-cert.pem")
	inter := filepath.Join(keys, "int-ca-cert.pem")

	p, err := trust.Material{PublicKeys: []string{key}, CertChains: []string{ca, inter}}.Policy()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rules) != 1 || p.Rules[0].Name != "command-line" || len(p.Rules[0].Keys) != 1 || p.Rules[0].Keys[0].Hint != fixtureHint {
		t.Fatalf("rules %+v", p.Rules)
	}
	if cas := p.Rules[0].CAs; len(cas) != 1 || len(cas[0].Roots) != 1 || len(cas[0].Intermediates) != 1 || cas[0].Source != ca+","+inter {
		t.Fatalf("the CA files must form one store: %+v", cas)
	}
	if len(p.Roots) != 0 {
		t.Errorf("key material got %d sigstore roots", len(p.Roots))
	}
	if got := p.For(graph.RoleModelSignature, "any/model").Keys; len(got) != 1 {
		t.Errorf("the command-line rule does not apply to every subject: %d keys", len(got))
	}

	p, err = trust.Material{Identity: "release@acme.com", Issuer: "https://accounts.google.com"}.Policy()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Roots) != 1 || len(p.Rules[0].Identities) != 1 || p.Rules[0].Identities[0].SAN != "release@acme.com" {
		t.Fatalf("keyless: roots %d, rule %+v", len(p.Roots), p.Rules[0])
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "trust.yaml")
	abs, _ := filepath.Abs(key)
	if err := os.WriteFile(file, []byte("version: 1\nrules:\n  - name: release\n    subjects: [\"acme/*\"]\n    keys: [{path: "+abs+"}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err = trust.Material{PolicyFile: file, CertChains: []string{ca}}.Policy()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rules) != 2 || p.Rules[0].Name != "release" || p.Rules[1].Name != "command-line" {
		t.Fatalf("file rules then the command line: %+v", p.Rules)
	}
	if p, err := (trust.Material{PolicyFile: file}).Policy(); err != nil || len(p.Rules) != 1 {
		t.Fatalf("policy file alone: %v", err)
	}

	for _, c := range []struct {
		m    trust.Material
		want string
	}{
		{trust.Material{}, "no trust material"},
		{trust.Material{PublicKeys: []string{filepath.Join(dir, "none.pem")}}, "--public-key"},
		{trust.Material{CertChains: []string{key}}, "--cert-chain"},
		{trust.Material{Identity: "x", Issuer: "y", TrustedRoots: []string{key}}, "--trusted-root"},
		{trust.Material{PolicyFile: filepath.Join(dir, "none.yaml")}, "--policy"},
		{trust.Material{IdentityRegexp: "(", Issuer: "y"}, "regexp"},
	} {
		if _, err := c.m.Policy(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one naming %q", c.m, err, c.want)
		}
	}
}
