package envelope_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

const (
	fixtures      = "../../testdata/oms"
	fixtureIssuer = "https://sigstore.verify.ibm.com/oauth2"
	fixtureSAN    = "stefanb@us.ibm.com"
)

var ctx = context.Background()

func fixtureKey(t *testing.T) trust.PublicKey {
	t.Helper()
	k, err := trust.LoadPublicKey(filepath.Join(fixtures, "keys/certificate/signing-key-pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func fixtureCA(t *testing.T) trust.CABundle {
	t.Helper()
	c, err := trust.LoadCABundle(filepath.Join(fixtures, "keys/certificate/ca-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func publicGood(t *testing.T) trust.Root {
	t.Helper()
	r, err := trust.PublicGood()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func policy(roots []trust.Root, rules ...trust.Rule) *trust.Policy {
	return &trust.Policy{Roots: roots, Rules: rules}
}

// method of a fixture directory, by its name.
func method(dir string) string {
	switch {
	case strings.HasSuffix(dir, "-elliptic-key"):
		return envelope.MethodKey
	case strings.HasSuffix(dir, "-certificate"):
		return envelope.MethodCertificate
	}
	return envelope.MethodKeyless
}

// signedFixtures are the fixtures in the current OMS format (v0.2.0 is
// legacy; the oms package covers it).
func signedFixtures(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(fixtures, "v*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range dirs {
		if !strings.HasPrefix(filepath.Base(d), "v0.2.") {
			out = append(out, d)
		}
	}
	if len(out) < 12 {
		t.Fatalf("found %d signed fixtures, want 12", len(out))
	}
	return out
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rightPolicy trusts exactly what signed the fixture.
func rightPolicy(t *testing.T, m string) *trust.Policy {
	switch m {
	case envelope.MethodKey:
		return policy(nil, trust.Rule{Keys: []trust.PublicKey{fixtureKey(t)}})
	case envelope.MethodCertificate:
		return policy(nil, trust.Rule{CAs: []trust.CABundle{fixtureCA(t)}})
	}
	return policy([]trust.Root{publicGood(t)}, trust.Rule{Identities: []trust.Identity{{Issuer: fixtureIssuer, SAN: fixtureSAN}}})
}

func one(t *testing.T, o *envelope.Opened) graph.Signature {
	t.Helper()
	if len(o.Signatures) != 1 {
		t.Fatalf("got %d signatures, want 1", len(o.Signatures))
	}
	return o.Signatures[0]
}

func TestOpenFixturesVerify(t *testing.T) {
	key := fixtureKey(t)
	for _, dir := range signedFixtures(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m := method(dir)
			o, err := envelope.Open(ctx, read(t, filepath.Join(dir, "model.sig")), rightPolicy(t, m))
			if err != nil {
				t.Fatal(err)
			}
			s := one(t, o)
			if s.Status != graph.StatusVerified || s.Method != m {
				t.Fatalf("signature = %+v, want verified by %s", s, m)
			}
			if o.Format != envelope.FormatBundle || o.PayloadType != statement.PayloadType || o.Statement == nil {
				t.Fatalf("opened = %s %q statement=%v", o.Format, o.PayloadType, o.Statement != nil)
			}
			if o.Statement.PredicateType != "https://model_signing/signature/v1.0" {
				t.Fatalf("predicateType = %q", o.Statement.PredicateType)
			}
			switch m {
			case envelope.MethodKey:
				if s.KeyID != key.Hint {
					t.Errorf("keyId = %q, want %q", s.KeyID, key.Hint)
				}
			case envelope.MethodCertificate:
				if s.KeyID != key.Hint || s.Identity != "CN=intermediate-ca" || s.Issuer != "CN=intermediate-ca" {
					t.Errorf("certificate signer = %+v", s)
				}
			case envelope.MethodKeyless:
				if s.Identity != fixtureSAN || s.Issuer != fixtureIssuer || s.LogIndex <= 0 || s.IntegratedTime.IsZero() {
					t.Errorf("keyless signer = %+v", s)
				}
			}
		})
	}
}

func TestOpenFixturesWrongMaterial(t *testing.T) {
	other := envelopetest.NewKeySigner(t).PublicKey(t)
	otherCA := envelopetest.NewCA(t, "other").Bundle(t)
	intermediateOnly, err := trust.LoadCABundle(filepath.Join(fixtures, "keys/certificate/int-ca-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pg := []trust.Root{publicGood(t)}
	virtual := []trust.Root{envelopetest.NewKeyless(t).Root()}
	right := trust.Identity{Issuer: fixtureIssuer, SAN: fixtureSAN}
	wrong := map[string]map[string]*trust.Policy{
		envelope.MethodKey: {
			"other key":      policy(nil, trust.Rule{Keys: []trust.PublicKey{other}}),
			"key for others": policy(nil, trust.Rule{Subjects: []string{"acme/*"}, Keys: []trust.PublicKey{fixtureKey(t)}}, trust.Rule{Keys: []trust.PublicKey{other}}),
		},
		envelope.MethodCertificate: {
			"other CA":                policy(nil, trust.Rule{CAs: []trust.CABundle{otherCA}}),
			"intermediate, no anchor": policy(nil, trust.Rule{CAs: []trust.CABundle{otherCA}}, trust.Rule{Subjects: []string{"nothing"}, CAs: []trust.CABundle{{Source: "int", Roots: nil, Intermediates: intermediateOnly.Intermediates}}}),
		},
		envelope.MethodKeyless: {
			"other identity":       policy(pg, trust.Rule{Identities: []trust.Identity{{Issuer: fixtureIssuer, SAN: "mallory@us.ibm.com"}}}),
			"other issuer":         policy(pg, trust.Rule{Identities: []trust.Identity{{Issuer: "https://accounts.google.com", SAN: fixtureSAN}}}),
			"identity regexp miss": policy(pg, trust.Rule{Identities: []trust.Identity{{IssuerRegexp: `^https://sigstore\.verify\.ibm\.com/.*$`, SANRegexp: `^.*@example\.com$`}}}),
			"untrusted root":       policy(virtual, trust.Rule{Identities: []trust.Identity{right}}),
			"identity for others":  policy(pg, trust.Rule{Subjects: []string{"regexp:acme/.*"}, Identities: []trust.Identity{right}}, trust.Rule{Identities: []trust.Identity{{Issuer: fixtureIssuer, SAN: "x@y"}}}),
		},
	}
	for _, dir := range signedFixtures(t) {
		m := method(dir)
		data := read(t, filepath.Join(dir, "model.sig"))
		for name, pol := range wrong[m] {
			t.Run(filepath.Base(dir)+"/"+name, func(t *testing.T) {
				o, err := envelope.Open(ctx, data, pol)
				if err != nil {
					t.Fatal(err)
				}
				if s := one(t, o); s.Status != graph.StatusFailed || s.Reason == "" {
					t.Fatalf("signature = %+v, want failed with a reason", s)
				}
			})
		}
		t.Run(filepath.Base(dir)+"/no trust material", func(t *testing.T) {
			for _, pol := range []*trust.Policy{nil, {}} {
				o, err := envelope.Open(ctx, data, pol)
				if err != nil {
					t.Fatal(err)
				}
				if s := one(t, o); s.Status != graph.StatusUnverifiable || s.Reason == "" {
					t.Fatalf("signature = %+v, want unverifiable", s)
				}
			}
		})
	}
}

func TestOpenFixtureTamper(t *testing.T) {
	for _, dir := range signedFixtures(t) {
		m := method(dir)
		pol := rightPolicy(t, m)
		data := read(t, filepath.Join(dir, "model.sig"))
		tampers := map[string]func(map[string]any){
			"signature bytes": func(b map[string]any) {
				s := b["dsseEnvelope"].(map[string]any)["signatures"].([]any)[0].(map[string]any)
				s["sig"] = envelopetest.FlipB64(t, s["sig"].(string), 10)
			},
			"subject digest": func(b map[string]any) {
				editPayload(t, b, func(st map[string]any) {
					st["subject"].([]any)[0].(map[string]any)["digest"] = map[string]any{"sha256": strings.Repeat("ab", 32)}
				})
			},
			"resource digest": func(b map[string]any) {
				editPayload(t, b, func(st map[string]any) {
					r := st["predicate"].(map[string]any)["resources"].([]any)[0].(map[string]any)
					r["digest"] = strings.Repeat("0", 64)
				})
			},
			"payload type": func(b map[string]any) {
				b["dsseEnvelope"].(map[string]any)["payloadType"] = "application/json"
			},
		}
		for name, f := range tampers {
			t.Run(filepath.Base(dir)+"/"+name, func(t *testing.T) {
				o, err := envelope.Open(ctx, envelopetest.Mutate(t, data, f), pol)
				if err != nil {
					t.Fatal(err)
				}
				if s := one(t, o); s.Status != graph.StatusFailed {
					t.Fatalf("signature = %+v, want failed", s)
				}
			})
		}
	}
}

// editPayload decodes a bundle's in-toto payload, edits and re-encodes it.
func editPayload(t *testing.T, b map[string]any, f func(map[string]any)) {
	t.Helper()
	env := b["dsseEnvelope"].(map[string]any)
	raw, err := base64.StdEncoding.DecodeString(env["payload"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	f(st)
	raw, err = json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	env["payload"] = base64.StdEncoding.EncodeToString(raw)
}

func stmt(t *testing.T, names ...string) []byte {
	t.Helper()
	var subs []map[string]any
	for i, n := range names {
		subs = append(subs, map[string]any{"name": n, "digest": map[string]string{"sha256": strings.Repeat(string(rune('a'+i)), 64)}})
	}
	b, err := json.Marshal(map[string]any{
		"_type":         statement.TypeV1,
		"subject":       subs,
		"predicateType": "https://example.com/test/v1",
		"predicate":     map[string]any{"k": "v"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKeyBundleSubjectRules(t *testing.T) {
	k := envelopetest.NewKeySigner(t)
	stranger := envelopetest.NewKeySigner(t)
	pol := policy(nil,
		trust.Rule{Name: "acme", Subjects: []string{"acme/*", "regexp:acme-[0-9]+"}, Keys: []trust.PublicKey{k.PublicKey(t)}},
		trust.Rule{Name: "other", Subjects: []string{"other/*"}, Keys: []trust.PublicKey{envelopetest.NewKeySigner(t).PublicKey(t)}},
	)
	if err := pol.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		signer   *envelopetest.KeySigner
		subjects []string
		want     graph.Status
		reason   string
	}{
		{"allowed glob", k, []string{"acme/llm"}, graph.StatusVerified, ""},
		{"allowed regexp", k, []string{"acme-7"}, graph.StatusVerified, ""},
		{"glob does not cross slash", k, []string{"acme/llm/v2"}, graph.StatusFailed, "does not allow"},
		{"one subject outside", k, []string{"acme/llm", "evil/x"}, graph.StatusFailed, "does not allow"},
		{"other rule's subject", k, []string{"other/x"}, graph.StatusFailed, "does not allow"},
		{"unknown subject, unknown key", stranger, []string{"nobody/x"}, graph.StatusUnverifiable, "no public key"},
		{"stranger on acme", stranger, []string{"acme/llm"}, graph.StatusFailed, "does not verify"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := envelope.Open(ctx, c.signer.Bundle(t, statement.PayloadType, stmt(t, c.subjects...)), pol)
			if err != nil {
				t.Fatal(err)
			}
			s := one(t, o)
			if s.Status != c.want || !strings.Contains(s.Reason, c.reason) {
				t.Fatalf("signature = %+v, want %s (%q)", s, c.want, c.reason)
			}
		})
	}
}

func TestBareDSSE(t *testing.T) {
	k := envelopetest.NewKeySigner(t)
	other := envelopetest.NewKeySigner(t)
	pol := policy(nil, trust.Rule{Keys: []trust.PublicKey{k.PublicKey(t)}})
	payload := stmt(t, "acme/llm")
	env := k.DSSE(t, statement.PayloadType, payload)

	o, err := envelope.Open(ctx, env, pol)
	if err != nil {
		t.Fatal(err)
	}
	if o.Format != envelope.FormatDSSE || !bytes.Equal(o.Payload, payload) || o.Statement == nil || o.Statement.Subject[0].Name != "acme/llm" {
		t.Fatalf("opened = %+v", o)
	}
	if s := one(t, o); s.Status != graph.StatusVerified || s.KeyID != k.PublicKey(t).Hint || s.Method != envelope.MethodKey {
		t.Fatalf("signature = %+v", s)
	}

	// Two signers: each signature gets its own outcome.
	var a, b map[string]any
	if err := json.Unmarshal(env, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(other.DSSE(t, statement.PayloadType, payload), &b); err != nil {
		t.Fatal(err)
	}
	a["signatures"] = append(a["signatures"].([]any), b["signatures"].([]any)...)
	two, _ := json.Marshal(a)
	o, err = envelope.Open(ctx, two, pol)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Signatures) != 2 || o.Signatures[0].Status != graph.StatusVerified || o.Signatures[1].Status != graph.StatusFailed {
		t.Fatalf("signatures = %+v", o.Signatures)
	}

	tampered := envelopetest.Mutate(t, env, func(m map[string]any) {
		m["payload"] = base64.StdEncoding.EncodeToString(stmt(t, "evil/x"))
	})
	o, err = envelope.Open(ctx, tampered, pol)
	if err != nil {
		t.Fatal(err)
	}
	if s := one(t, o); s.Status != graph.StatusFailed {
		t.Fatalf("tampered payload: %+v", s)
	}

	o, err = envelope.Open(ctx, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := one(t, o); s.Status != graph.StatusUnverifiable {
		t.Fatalf("no policy: %+v", s)
	}
}

func TestBareStatementIsUnsigned(t *testing.T) {
	payload := stmt(t, "acme/llm", "acme/tok")
	o, err := envelope.Open(ctx, payload, policy(nil, trust.Rule{Keys: []trust.PublicKey{envelopetest.NewKeySigner(t).PublicKey(t)}}))
	if err != nil {
		t.Fatal(err)
	}
	if o.Format != envelope.FormatStatement || len(o.Signatures) != 0 || o.Verified() || len(o.SubjectNames()) != 2 {
		t.Fatalf("opened = %+v", o)
	}
	if (graph.Document{Signatures: o.Signatures}).Status() != graph.StatusUnsigned {
		t.Fatal("bare statement is not unsigned")
	}
}

func TestCertificateChain(t *testing.T) {
	ca := envelopetest.NewCA(t, "acme")
	payload := stmt(t, "acme/llm")
	good := ca.Sign(t, statement.PayloadType, payload, envelopetest.LeafOptions{})
	cases := []struct {
		name string
		doc  []byte
		pol  *trust.Policy
		want graph.Status
	}{
		{"trusted CA", good, policy(nil, trust.Rule{CAs: []trust.CABundle{ca.Bundle(t)}}), graph.StatusVerified},
		{"subject-scoped CA", good, policy(nil, trust.Rule{Subjects: []string{"acme/*"}, CAs: []trust.CABundle{ca.Bundle(t)}}), graph.StatusVerified},
		{"other CA", good, policy(nil, trust.Rule{CAs: []trust.CABundle{envelopetest.NewCA(t, "other").Bundle(t)}}), graph.StatusFailed},
		{"CA for other subjects", good, policy(nil, trust.Rule{Subjects: []string{"beta/*"}, CAs: []trust.CABundle{ca.Bundle(t)}}), graph.StatusFailed},
		{"no CA", good, policy(nil, trust.Rule{Keys: []trust.PublicKey{envelopetest.NewKeySigner(t).PublicKey(t)}}), graph.StatusUnverifiable},
		{"leaf not for signing", ca.Sign(t, statement.PayloadType, payload, envelopetest.LeafOptions{NoSigningUsage: true}), policy(nil, trust.Rule{CAs: []trust.CABundle{ca.Bundle(t)}}), graph.StatusFailed},
		{"tampered signature", envelopetest.Mutate(t, good, func(b map[string]any) {
			s := b["dsseEnvelope"].(map[string]any)["signatures"].([]any)[0].(map[string]any)
			s["sig"] = envelopetest.FlipB64(t, s["sig"].(string), -3)
		}), policy(nil, trust.Rule{CAs: []trust.CABundle{ca.Bundle(t)}}), graph.StatusFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := envelope.Open(ctx, c.doc, c.pol)
			if err != nil {
				t.Fatal(err)
			}
			s := one(t, o)
			if s.Status != c.want || s.Method != envelope.MethodCertificate || s.Identity != "CN=model-signer" {
				t.Fatalf("signature = %+v, want %s", s, c.want)
			}
		})
	}
}

func TestKeylessVirtualSigstore(t *testing.T) {
	ks := envelopetest.NewKeyless(t)
	const iss, san = "https://issuer.example", "release@acme.example"
	payload := stmt(t, "acme/llm")
	good := ks.Sign(t, san, iss, payload)
	roots := []trust.Root{ks.Root()}
	id := trust.Identity{Issuer: iss, SAN: san}
	cases := []struct {
		name string
		doc  []byte
		pol  *trust.Policy
		want graph.Status
	}{
		{"exact identity", good, policy(roots, trust.Rule{Identities: []trust.Identity{id}}), graph.StatusVerified},
		{"regexp identity", good, policy(roots, trust.Rule{Subjects: []string{"acme/*"}, Identities: []trust.Identity{{IssuerRegexp: `^https://issuer\.example$`, SANRegexp: `^.*@acme\.example$`}}}), graph.StatusVerified},
		{"second root matches", good, policy(append([]trust.Root{publicGood(t)}, roots...), trust.Rule{Identities: []trust.Identity{id}}), graph.StatusVerified},
		{"wrong SAN", good, policy(roots, trust.Rule{Identities: []trust.Identity{{Issuer: iss, SAN: "mallory@acme.example"}}}), graph.StatusFailed},
		{"wrong issuer", good, policy(roots, trust.Rule{Identities: []trust.Identity{{Issuer: "https://evil.example", SAN: san}}}), graph.StatusFailed},
		{"untrusted root", good, policy([]trust.Root{publicGood(t)}, trust.Rule{Identities: []trust.Identity{id}}), graph.StatusFailed},
		{"SCT required, none", good, policy([]trust.Root{{Name: "strict", Material: ks.VS, RequireSCT: true}}, trust.Rule{Identities: []trust.Identity{id}}), graph.StatusFailed},
		{"no identities", good, policy(roots, trust.Rule{Keys: []trust.PublicKey{envelopetest.NewKeySigner(t).PublicKey(t)}}), graph.StatusUnverifiable},
		{"no roots", good, policy(nil, trust.Rule{Identities: []trust.Identity{id}}), graph.StatusUnverifiable},
		{"tampered payload", envelopetest.Mutate(t, good, func(b map[string]any) {
			b["dsseEnvelope"].(map[string]any)["payload"] = base64.StdEncoding.EncodeToString(stmt(t, "acme/other"))
		}), policy(roots, trust.Rule{Identities: []trust.Identity{id}}), graph.StatusFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := envelope.Open(ctx, c.doc, c.pol)
			if err != nil {
				t.Fatal(err)
			}
			s := one(t, o)
			if s.Status != c.want || s.Method != envelope.MethodKeyless {
				t.Fatalf("signature = %+v, want %s", s, c.want)
			}
			if c.want == graph.StatusVerified && (s.Identity != san || s.Issuer != iss || s.IntegratedTime.IsZero()) {
				t.Fatalf("signer = %+v", s)
			}
		})
	}
}

func TestMessageSignatureBundle(t *testing.T) {
	k := envelopetest.NewKeySigner(t)
	doc := k.MessageBundle(t, []byte("model weights"))
	key := k.PublicKey(t)
	o, err := envelope.Open(ctx, doc, policy(nil, trust.Rule{Keys: []trust.PublicKey{key}}))
	if err != nil {
		t.Fatal(err)
	}
	if o.MessageDigest != graph.SHA256Key([]byte("model weights")) || o.Payload != nil {
		t.Fatalf("opened = %+v", o)
	}
	// No subjects: only rules without subject patterns apply.
	if s := one(t, o); s.Status != graph.StatusVerified {
		t.Fatalf("signature = %+v", s)
	}
}

func TestOpenErrors(t *testing.T) {
	good := read(t, filepath.Join(fixtures, "v1.0.1-elliptic-key/model.sig"))
	k := envelopetest.NewKeySigner(t)
	dsseDoc := k.DSSE(t, statement.PayloadType, stmt(t, "a"))
	manySigs := envelopetest.Mutate(t, dsseDoc, func(m map[string]any) {
		s := m["signatures"].([]any)
		for len(s) <= envelope.MaxSignatures {
			s = append(s, s[0])
		}
		m["signatures"] = s
	})
	cases := []struct {
		name  string
		doc   []byte
		field string
	}{
		{"not json", []byte("not json"), "not a JSON object"},
		{"json array", []byte("[1,2]"), "not a JSON object"},
		{"unknown", []byte(`{"hello":"world"}`), "not a sigstore bundle"},
		{"bundle no media type", envelopetest.Mutate(t, good, func(m map[string]any) { delete(m, "mediaType") }), "mediaType is missing"},
		{"bundle wrong media type", envelopetest.Mutate(t, good, func(m map[string]any) { m["mediaType"] = "text/plain" }), "mediaType"},
		{"bundle no material", envelopetest.Mutate(t, good, func(m map[string]any) { delete(m, "verificationMaterial") }), "verificationMaterial"},
		{"bundle no content", envelopetest.Mutate(t, good, func(m map[string]any) { delete(m, "dsseEnvelope") }), "neither dsseEnvelope nor messageSignature"},
		{"bundle two signatures", envelopetest.Mutate(t, good, func(m map[string]any) {
			e := m["dsseEnvelope"].(map[string]any)
			e["signatures"] = append(e["signatures"].([]any), e["signatures"].([]any)[0])
		}), "dsseEnvelope.signatures has 2 entries"},
		{"bundle bad statement", envelopetest.Mutate(t, good, func(m map[string]any) {
			m["dsseEnvelope"].(map[string]any)["payload"] = base64.StdEncoding.EncodeToString([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[]}`))
		}), "dsseEnvelope.payload"},
		{"bundle bad field type", envelopetest.Mutate(t, good, func(m map[string]any) { m["dsseEnvelope"] = "x" }), "bundle"},
		{"dsse empty payload type", envelopetest.Mutate(t, dsseDoc, func(m map[string]any) { m["payloadType"] = "" }), "payloadType is empty"},
		{"dsse bad base64", envelopetest.Mutate(t, dsseDoc, func(m map[string]any) { m["payload"] = "!!!" }), "dsse: payload"},
		{"dsse bad sig", envelopetest.Mutate(t, dsseDoc, func(m map[string]any) {
			m["signatures"].([]any)[0].(map[string]any)["sig"] = "***"
		}), "signatures[0].sig"},
		{"dsse too many signatures", manySigs, "signatures: 33 signatures, limit 32"},
		{"statement no subject", []byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"x","subject":[]}`), "subject is empty"},
		{"too large", append(append([]byte(`{"_type":"`), bytes.Repeat([]byte("a"), envelope.MaxDocumentSize)...), `"}`...), "limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := envelope.Open(ctx, c.doc, nil)
			if err == nil {
				t.Fatalf("opened %+v, want an error", o)
			}
			if !errors.Is(err, envelope.ErrInvalidDocument) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("error %q: want ErrInvalidDocument naming %q", err, c.field)
			}
		})
	}
}

func TestOpenCancelled(t *testing.T) {
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := envelope.Open(c, read(t, filepath.Join(fixtures, "v1.0.1-elliptic-key/model.sig")), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
