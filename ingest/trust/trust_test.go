package trust_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

const keys = "../../testdata/oms/keys/certificate"

// The hint model_signing 1.1 wrote into the elliptic-key fixtures' bundles.
const fixtureHint = "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e"

func TestKeyHintMatchesModelSigning(t *testing.T) {
	k, err := trust.LoadPublicKey(filepath.Join(keys, "signing-key-pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if k.Hint != fixtureHint {
		t.Fatalf("hint = %s, want %s", k.Hint, fixtureHint)
	}
	// The certificate carries the same key, so the same hint.
	c, err := trust.LoadPublicKey(filepath.Join(keys, "signing-key-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Hint != fixtureHint {
		t.Fatalf("hint from certificate = %s", c.Hint)
	}
	// Re-wrapped PEM (other line length, CRLF) names the same key.
	raw, err := os.ReadFile(filepath.Join(keys, "signing-key-pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	crlf := strings.ReplaceAll(string(raw), "\n", "\r\n")
	k2, err := trust.ParsePublicKey([]byte("comment line\n"+crlf), "crlf")
	if err != nil {
		t.Fatal(err)
	}
	if k2.Hint != fixtureHint {
		t.Fatalf("hint after re-wrapping = %s", k2.Hint)
	}
}

func TestParsePublicKeyErrors(t *testing.T) {
	for name, data := range map[string]string{
		"not pem":     "hello",
		"private key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"bad der":     "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
		"too large":   strings.Repeat("x", trust.MaxKeySize+1),
	} {
		if _, err := trust.ParsePublicKey([]byte(data), name); !errors.Is(err, trust.ErrInvalidPolicy) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestCABundle(t *testing.T) {
	ca, err := trust.LoadCABundle(filepath.Join(keys, "ca-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ca.Roots) != 1 || len(ca.Intermediates) != 0 || ca.Roots[0].Subject.CommonName != "root-ca" {
		t.Fatalf("ca = %+v", ca)
	}
	inter, err := trust.LoadCABundle(filepath.Join(keys, "int-ca-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inter.Roots) != 0 || len(inter.Intermediates) != 1 {
		t.Fatalf("intermediate bundle = %+v", inter)
	}
	if _, err := trust.ParseCABundle([]byte("no certs"), "empty"); !errors.Is(err, trust.ErrInvalidPolicy) {
		t.Fatalf("empty bundle: %v", err)
	}
}

func TestPublicGood(t *testing.T) {
	r, err := trust.PublicGood()
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != trust.PublicGoodName || !r.RequireSCT || len(r.Material.FulcioCertificateAuthorities()) == 0 || len(r.Material.RekorLogs()) == 0 {
		t.Fatalf("public-good root = %+v", r)
	}
}

func write(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func copyFile(t *testing.T, from, dir, name string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, name, string(b))
}

func TestLoadPolicy(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, filepath.Join(keys, "signing-key-pub.pem"), dir, "release.pub")
	copyFile(t, filepath.Join(keys, "ca-cert.pem"), dir, "ca.pem")
	copyFile(t, "../../testdata/oms/trusted_root.public-good.json", dir, "root.json")
	pemKey, err := os.ReadFile(filepath.Join(keys, "signing-key-pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	path := write(t, dir, "trust.yaml", `version: 1
trustedRoots:
  - name: public-good
  - path: root.json
    requireSCT: false
rules:
  - name: acme
    subjects: ["acme/*", "regexp:acme-[0-9]+"]
    identities:
      - issuer: https://token.actions.githubusercontent.com
        sanRegexp: ^https://github\.com/acme/.*$
    keys:
      - path: release.pub
  - name: everything
    keys:
      - pem: |
`+indent(string(pemKey), "          ")+`
    certificateAuthorities:
      - path: ca.pem
`)
	p, err := trust.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Roots) != 2 || !p.Roots[0].RequireSCT || p.Roots[1].RequireSCT {
		t.Fatalf("roots = %+v", p.Roots)
	}
	a := p.For(graph.RoleModelSignature, "acme/llm")
	if !slices.Equal(a.Rules, []string{"acme", "everything"}) || len(a.Identities) != 1 || len(a.Keys) != 2 || len(a.CAs) != 1 {
		t.Fatalf("For(acme/llm) = %+v", a)
	}
	if a.Keys[0].Hint != fixtureHint || a.Keys[1].Hint != fixtureHint {
		t.Fatalf("hints = %s, %s", a.Keys[0].Hint, a.Keys[1].Hint)
	}
	for names, want := range map[string][]string{
		"acme-12":          {"acme", "everything"},
		"acme/llm/v2":      {"everything"},
		"beta/llm":         {"everything"},
		"acme/a\x00acme-1": {"acme", "everything"},
		"acme/a\x00beta/b": {"everything"},
		"":                 {"everything"},
	} {
		var ns []string
		if names != "" {
			ns = strings.Split(names, "\x00")
		}
		if got := p.For(graph.RoleModelSignature, ns...).Rules; !slices.Equal(got, want) {
			t.Errorf("For(%q) = %v, want %v", ns, got, want)
		}
	}
	if got := len(p.All().Keys); got != 2 {
		t.Fatalf("All().Keys = %d", got)
	}
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pre + lines[i]
	}
	return strings.Join(lines, "\n")
}

func TestDefaultAndEmptyRoots(t *testing.T) {
	p, err := trust.Parse([]byte("version: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Roots) != 1 || p.Roots[0].Name != trust.PublicGoodName {
		t.Fatalf("default roots = %+v", p.Roots)
	}
	p, err = trust.Parse([]byte("version: 1\ntrustedRoots: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Roots) != 0 {
		t.Fatalf("explicit empty roots = %+v", p.Roots)
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := trust.Parse([]byte(`version: 2
trustedRoots:
  - path: /does/not/exist.json
  - name: public-good
    path: x.json
rules:
  - name: a
    subjects: ["[", "regexp:("]
    identities:
      - issuer: x
      - san: y
        sanRegexp: "("
        issuerRegexp: "("
    keys:
      - path: /no/such.pub
      - pem: nonsense
      - {}
  - name: a
  - name: b
    certificateAuthorities:
      - pem: nonsense
`))
	if !errors.Is(err, trust.ErrInvalidPolicy) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{
		"version: 2",
		"trustedRoots[0]", "trustedRoots[1]",
		`subjects[0] "["`, `subjects[1] "regexp:("`,
		"identities[0]: set exactly one of san and sanRegexp",
		"identities[1]: set exactly one of san and sanRegexp",
		"identities[1]: issuerRegexp", "sanRegexp: error parsing regexp",
		"keys[0]", "keys[1]", "keys[2]: set exactly one of path and pem",
		"rules[1] (a): name also used by rules[0]",
		"rules[1] (a): grants nothing",
		"rules[2].certificateAuthorities[0]",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field": "version: 1\nrulez: []\n",
		"empty":         "",
		"not yaml":      "version: [",
		"too large":     "version: 1\n#" + strings.Repeat("x", trust.MaxPolicySize),
		"identity needs root": `version: 1
trustedRoots: []
rules:
  - identities: [{issuer: a, san: b}]
`,
	} {
		if _, err := trust.Parse([]byte(doc)); !errors.Is(err, trust.ErrInvalidPolicy) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := trust.Load("/does/not/exist.yaml"); !errors.Is(err, trust.ErrInvalidPolicy) {
		t.Errorf("missing file: %v", err)
	}
}

func TestValidateProgrammatic(t *testing.T) {
	var nilPolicy *trust.Policy
	if err := nilPolicy.Validate(); !errors.Is(err, trust.ErrInvalidPolicy) {
		t.Fatalf("nil policy: %v", err)
	}
	if err := (&trust.Policy{}).Validate(); err != nil {
		t.Fatalf("empty policy: %v", err)
	}
	p := &trust.Policy{
		Roots: []trust.Root{{Name: "broken"}},
		Rules: []trust.Rule{{Keys: []trust.PublicKey{{Source: "hand-made"}}, CAs: []trust.CABundle{{Source: "no-roots"}}}},
	}
	err := p.Validate()
	for _, want := range []string{"trustedRoots[0] (broken)", "keys[0] (hand-made)", "(no-roots): no self-signed root"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
	// An invalid subject pattern grants nothing even unvalidated.
	bad := &trust.Policy{Rules: []trust.Rule{{Subjects: []string{"["}, Keys: []trust.PublicKey{{Hint: "x"}}}}}
	if a := bad.For(graph.RoleModelSignature, "["); len(a.Keys) != 0 {
		t.Fatalf("invalid pattern matched: %+v", a)
	}
	var np *trust.Policy
	if a := np.For(graph.RoleModelSignature, "x"); len(a.Rules) != 0 {
		t.Fatal("nil policy grants something")
	}
}

// Which subjects a rule covers at ingest and whether a recorded scope holds
// at question time are one rule, graph.ScopeMatches: a pattern written for
// names covers a hub URI of that name, a regexp the whole name, and no
// pattern covers a digest.
func TestRuleSubjectsAreScopeMatches(t *testing.T) {
	pats := []string{"acme/*", "regexp:corp/(llm|vision)-[0-9]+"}
	p := &trust.Policy{Rules: []trust.Rule{{Name: "acme", Subjects: pats, Keys: []trust.PublicKey{{Hint: "k"}}}}}
	for _, name := range []string{"acme/llm", "hf://acme/llm", "name:acme/llm", "corp/llm-7", "corp/vision-12", "evil/llm", "acme/llm/extra", "corp/llm-x",
		"sha256:0000000000000000000000000000000000000000000000000000000000000000"} {
		granted := len(p.For(graph.RoleModelSignature, name).Keys) == 1
		if want := graph.ScopeMatches(pats, name); granted != want {
			t.Errorf("%q: rule grants %v, graph.ScopeMatches says %v", name, granted, want)
		}
	}
	if len(p.For(graph.RoleModelSignature, "hf://acme/llm").Keys) != 1 {
		t.Error("a rule for acme/* does not cover hf://acme/llm")
	}
}
