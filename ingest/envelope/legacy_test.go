package envelope

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"strings"
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// python finds an interpreter to serve as the oracle for Python's bytes
// repr: model_signing's venv (MODELGRAPH_MODEL_SIGNING_PY), else python3.
func python(t *testing.T) string {
	t.Helper()
	if py := os.Getenv("MODELGRAPH_MODEL_SIGNING_PY"); py != "" {
		return py
	}
	if py, err := exec.LookPath("python3"); err == nil {
		return py
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no python3: the legacy encoding test needs it in CI")
	}
	t.Skip("no python3 for the bytes repr oracle")
	return ""
}

// The legacy encoding embeds repr(payload); check ours byte for byte
// against CPython's on payloads that exercise every escape.
func TestPyBytesReprMatchesPython(t *testing.T) {
	py := python(t)
	payloads := []string{
		"",
		`{"_type": "https://in-toto.io/Statement/v1", "subject": []}`,
		"it's",
		`say "hi"`,
		`both ' and "`,
		"back\\slash\ttab\nnewline\rcr",
		"\x00\x01\x1f\x7f\x80\xff é ü \u2603",
		"{\n  \"a\": 'b'\n}\n",
	}
	for _, p := range payloads {
		cmd := exec.Command(py, "-c", "import sys; sys.stdout.buffer.write(repr(sys.stdin.buffer.read()).encode())")
		cmd.Stdin = strings.NewReader(p)
		want, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := appendPyBytesRepr(nil, []byte(p)); string(got) != string(want) {
			t.Errorf("repr(%q) = %s, python says %s", p, got, want)
		}
	}
}

func legacyKeyBundle(t *testing.T, k *ecdsa.PrivateKey, h crypto.Hash, payload []byte) []byte {
	t.Helper()
	d := h.New()
	d.Write(legacyPAE(payload))
	sig, err := ecdsa.SignASN1(rand.Reader, k, d.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err := protojson.Marshal(&protobundle.Bundle{
		MediaType: bundleV03,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: payload, PayloadType: statement.PayloadType,
			Signatures: []*protodsse.Signature{{Sig: sig}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Key-signed OMS bundles in the legacy encoding verify, hashed as
// model_signing pairs hashes with curves; other predicates, other hashes
// and other payloads do not.
func TestLegacyEncodingKey(t *testing.T) {
	oms := func(pt string) []byte {
		b, _ := json.Marshal(map[string]any{"_type": statement.TypeV1, "predicateType": pt,
			"subject": []any{map[string]any{"name": "m", "digest": map[string]string{"sha256": strings.Repeat("ab", 32)}}}, "predicate": map[string]any{}})
		return b
	}
	for _, c := range []struct {
		curve elliptic.Curve
		hash  crypto.Hash
	}{{elliptic.P256(), crypto.SHA256}, {elliptic.P384(), crypto.SHA384}, {elliptic.P521(), crypto.SHA512}} {
		t.Run(c.curve.Params().Name, func(t *testing.T) {
			k, err := ecdsa.GenerateKey(c.curve, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
			pk, err := trust.ParsePublicKey(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), "test")
			if err != nil {
				t.Fatal(err)
			}
			pol := &trust.Policy{Rules: []trust.Rule{{Keys: []trust.PublicKey{pk}}}}
			check := func(doc []byte, want graph.Status, reason string) {
				t.Helper()
				o, err := Open(context.Background(), doc, pol)
				if err != nil {
					t.Fatal(err)
				}
				if s := o.Signatures[0]; s.Status != want || !strings.Contains(s.Reason, reason) {
					t.Fatalf("signature = %+v, want %s (%q)", s, want, reason)
				}
			}
			for _, pt := range []string{"https://model_signing/signature/v1.0", "https://model_signing/Digests/v0.1"} {
				check(legacyKeyBundle(t, k, c.hash, oms(pt)), graph.StatusVerified, "legacy v0.2 encoding")
			}
			// Not an OMS signature: the legacy encoding is model_signing's alone.
			check(legacyKeyBundle(t, k, c.hash, oms("https://slsa.dev/provenance/v1")), graph.StatusFailed, "")
			if c.hash != crypto.SHA256 {
				check(legacyKeyBundle(t, k, crypto.SHA256, oms("https://model_signing/signature/v1.0")), graph.StatusFailed, "")
			}
			// A signature over another payload.
			doc := legacyKeyBundle(t, k, c.hash, oms("https://model_signing/signature/v1.0"))
			var m map[string]any
			_ = json.Unmarshal(doc, &m)
			other := legacyKeyBundle(t, k, c.hash, oms("https://model_signing/Digests/v0.1"))
			var mo map[string]any
			_ = json.Unmarshal(other, &mo)
			m["dsseEnvelope"].(map[string]any)["signatures"] = mo["dsseEnvelope"].(map[string]any)["signatures"]
			swapped, _ := json.Marshal(m)
			check(swapped, graph.StatusFailed, "")
		})
	}
}
