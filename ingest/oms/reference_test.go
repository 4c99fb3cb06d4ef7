package oms_test

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/oms"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// The differential tests: every case is decided by modelgraph and by the
// reference (sigstore's model_signing), and both answers must be the
// expected one. The reference verifies through its library with the
// serialization the signature records (the spec's §8.4; its CLI hashes
// files/sha256 whatever was signed), plus the CLI's extra ignore paths
// and the signature file.
const refVerifyScript = `
import json, pathlib, sys
from model_signing import hashing, verifying
from model_signing._signing import sign_sigstore, sign_sigstore_pb
a = json.loads(sys.argv[1])
v = verifying.Config()
m = a["method"]
try:
    if m == "key":
        v.use_elliptic_key_verifier(public_key=a["key"])
    elif m == "certificate":
        v.use_certificate_verifier(certificate_chain=a["chain"])
    else:
        v.use_sigstore_verifier(identity=a["identity"], oidc_issuer=a["issuer"], trust_config=pathlib.Path(a["trust_config"]))
    v.set_ignore_unsigned_files(a.get("ignore_unsigned", False))
    model, sigp = pathlib.Path(a["model"]), pathlib.Path(a["sig"])
    sig = (sign_sigstore.Signature if v._uses_sigstore else sign_sigstore_pb.Signature).read(sigp)
    # The hashing config the signature records, built as a library user
    # must: model_signing's own guess passes "blake2b" (it wants "blake2"),
    # a float shard_size, and drops allow_symlinks.
    ser = v._verifier.verify(sig).serialization_type
    alg = {"blake2b": "blake2"}.get(ser["hash_type"], ser["hash_type"])
    h = hashing.Config()
    if ser["method"] == "shards":
        h = h.use_shard_serialization(hashing_algorithm=alg, shard_size=int(ser["shard_size"]))
    else:
        h = h.use_file_serialization(hashing_algorithm=alg)
    h.set_allow_symlinks(ser.get("allow_symlinks") is True)
    v.set_hashing_config(h)
    extra = list(a.get("ignore_paths") or [])
    if model.is_dir():
        try:
            extra.append(str(sigp.resolve().relative_to(model.resolve())))
        except ValueError:
            pass
    if extra:
        h.add_ignored_paths(model_path=model, paths=extra)
    v.verify(model, sigp)
except Exception as e:
    print(type(e).__name__, str(e)[:300])
    sys.exit(1)
print("OK")
`

// refDigestScript prints the reference's payload (subject and resources)
// for a model hashed with the given options.
const refDigestScript = `
import json, pathlib, sys
from google.protobuf import json_format
from model_signing import hashing
from model_signing._signing import signing
a = json.loads(sys.argv[1])
h = hashing.Config().set_ignored_paths(paths=a.get("ignore_paths") or [], ignore_git_paths=True)
if a["kind"] == "shards":
    h = h.use_shard_serialization(hashing_algorithm=a["alg"], shard_size=a["shard_size"])
else:
    h = h.use_file_serialization(hashing_algorithm=a["alg"])
st = json_format.MessageToDict(signing.Payload(h.hash(pathlib.Path(a["model"]))).statement.pb)
print(json.dumps({"root": st["subject"][0]["digest"]["sha256"], "resources": st["predicate"]["resources"]}))
`

// refSignScript signs through the library, which reaches what the CLI
// does not: shards and the other hash types.
const refSignScript = `
import json, sys
import model_signing
a = json.loads(sys.argv[1])
h = model_signing.hashing.Config().set_ignored_paths(paths=a.get("ignore_paths") or [], ignore_git_paths=True)
if a["kind"] == "shards":
    h = h.use_shard_serialization(hashing_algorithm=a["alg"], shard_size=a["shard_size"], allow_symlinks=a.get("allow_symlinks", False))
else:
    h = h.use_file_serialization(hashing_algorithm=a["alg"], allow_symlinks=a.get("allow_symlinks", False))
h.set_allow_symlinks(a.get("allow_symlinks", False))
model_signing.signing.Config().use_elliptic_key_signer(private_key=a["key"]).set_hashing_config(h).sign(a["model"], a["sig"])
`

type refArgs struct {
	Method         string   `json:"method"` // key | certificate | sigstore
	Model          string   `json:"model"`
	Sig            string   `json:"sig"`
	Key            string   `json:"key,omitempty"`
	Chain          []string `json:"chain,omitempty"`
	Identity       string   `json:"identity,omitempty"`
	Issuer         string   `json:"issuer,omitempty"`
	TrustConfig    string   `json:"trust_config,omitempty"`
	IgnorePaths    []string `json:"ignore_paths,omitempty"` // relative to the model
	IgnoreUnsigned bool     `json:"ignore_unsigned,omitempty"`
}

func pyJSON(t *testing.T, py, script string, arg any) (string, error) {
	t.Helper()
	b, err := json.Marshal(arg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", script, string(b))
	cmd.Env = append(os.Environ(), "MODEL_SIGNING_LOG_LEVEL=ERROR")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err
}

// ours verifies with the same material the reference gets.
func ours(t *testing.T, a refArgs) (*oms.Report, error) {
	t.Helper()
	rule := trust.Rule{}
	pol := &trust.Policy{}
	switch a.Method {
	case "key":
		k, err := trust.LoadPublicKey(a.Key)
		if err != nil {
			t.Fatal(err)
		}
		rule.Keys = []trust.PublicKey{k}
	case "certificate":
		ca := trust.CABundle{Source: "chain"}
		for _, p := range a.Chain {
			b, err := trust.LoadCABundle(p)
			if err != nil {
				t.Fatal(err)
			}
			ca.Roots = append(ca.Roots, b.Roots...)
			ca.Intermediates = append(ca.Intermediates, b.Intermediates...)
		}
		rule.CAs = []trust.CABundle{ca}
	case "sigstore":
		r, err := trust.LoadTrustedRoot(a.TrustConfig)
		if err != nil {
			t.Fatal(err)
		}
		pol.Roots = []trust.Root{r}
		rule.Identities = []trust.Identity{{SAN: a.Identity, Issuer: a.Issuer}}
	}
	pol.Rules = []trust.Rule{rule}
	sig, err := os.ReadFile(a.Sig)
	if err != nil {
		return nil, err
	}
	return oms.VerifyModel(ctx, a.Model, sig, pol, oms.VerifyOptions{SignaturePath: a.Sig, IgnorePaths: a.IgnorePaths, IgnoreUnsignedFiles: a.IgnoreUnsigned})
}

// agree asserts that modelgraph and model_signing both give want.
func agree(t *testing.T, py string, a refArgs, want bool) *oms.Report {
	t.Helper()
	out, refErr := pyJSON(t, py, refVerifyScript, a)
	refOK := refErr == nil && strings.Contains(out, "OK")
	r, err := ours(t, a)
	ourOK := err == nil && r.Verified
	var problems any = err
	if err == nil {
		problems = r.Problems()
	}
	if refOK != want || ourOK != want {
		t.Fatalf("want verified=%v: model_signing %v (%s), modelgraph %v (%v)", want, refOK, strings.TrimSpace(out), ourOK, problems)
	}
	return r
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		writeFiles(t, to, map[string][]byte{filepath.ToSlash(rel): read(t, p)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Every fixture in ../shared/fixtures/oms (testdata/oms): verified by both
// with the material that signed it, refused by both with other material
// and after a file changed.
func TestReferenceAgreesOnFixtures(t *testing.T) {
	py := modelSigningPython(t)
	work := t.TempDir()
	cfg := clientTrustConfig(t)
	otherKey := filepath.Join(work, "other.pub")
	writePEM(t, otherKey, "PUBLIC KEY", mustPKIX(t, newECKey(t, elliptic.P384(), filepath.Join(work, "other.key"))))
	keyPEM, _ := filepath.Abs(filepath.Join(fixtures, "keys/certificate/signing-key-pub.pem"))
	caPEM, _ := filepath.Abs(filepath.Join(fixtures, "keys/certificate/ca-cert.pem"))
	intPEM, _ := filepath.Abs(filepath.Join(fixtures, "keys/certificate/int-ca-cert.pem"))
	for _, dir := range fixtureDirs(t) {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			copyDir := filepath.Join(t.TempDir(), name)
			copyTree(t, dir, copyDir)
			model := fixtureModel(copyDir)
			a := refArgs{Model: model, Sig: filepath.Join(copyDir, "model.sig")}
			if _, err := os.Stat(filepath.Join(copyDir, "ignore-me")); err == nil && model == copyDir {
				a.IgnorePaths = []string{"ignore-me"}
			}
			var wrong refArgs
			switch {
			case strings.HasSuffix(name, "-elliptic-key"):
				a.Method, a.Key = "key", keyPEM
				wrong = a
				wrong.Key = otherKey
			case strings.HasSuffix(name, "-certificate"):
				a.Method, a.Chain = "certificate", []string{caPEM}
				wrong = a
				wrong.Chain = []string{intPEM} // no anchor
			default:
				a.Method, a.Identity, a.Issuer, a.TrustConfig = "sigstore", fixtureSAN, fixtureIssuer, cfg
				wrong = a
				wrong.Identity = "eve@us.ibm.com"
			}
			r := agree(t, py, a, true)
			if strings.HasPrefix(name, "v0.2.") && !strings.Contains(r.Signatures[0].Reason, "legacy v0.2 encoding") {
				t.Fatalf("legacy signature not reported as such: %+v", r.Signatures[0])
			}
			agree(t, py, wrong, false)
			changed := "signme-2"
			if model != copyDir {
				changed = "" // single-file model
			}
			target := filepath.Join(copyDir, changed)
			if changed == "" {
				target = model
			}
			writeFiles(t, filepath.Dir(target), map[string][]byte{filepath.Base(target): []byte("tampered")})
			agree(t, py, a, false)
		})
	}
}

// The spec's test vectors: the valid ones verify with both, the invalid
// ones are refused by both.
func TestReferenceAgreesOnSpecVectors(t *testing.T) {
	py := modelSigningPython(t)
	cfg := clientTrustConfig(t)
	keyPEM, _ := filepath.Abs(filepath.Join(fixtures, "keys/certificate/signing-key-pub.pem"))
	caPEM, _ := filepath.Abs(filepath.Join(fixtures, "keys/certificate/ca-cert.pem"))
	vectors, _ := filepath.Glob(filepath.Join(specDir, "test-vectors", "*", "*.json"))
	if len(vectors) != 8 {
		t.Fatalf("%d vectors", len(vectors))
	}
	for _, v := range vectors {
		class, name := filepath.Base(filepath.Dir(v)), filepath.Base(v)
		t.Run(class+"/"+name, func(t *testing.T) {
			a := refArgs{Model: vectorModel(t, name), Sig: v, Method: "key", Key: keyPEM}
			switch {
			case strings.HasPrefix(name, "certificate"):
				a.Method, a.Key, a.Chain = "certificate", "", []string{caPEM}
			case strings.HasPrefix(name, "sigstore"), strings.HasPrefix(name, "missing-tlog"):
				a.Method, a.Key, a.Identity, a.Issuer, a.TrustConfig = "sigstore", "", fixtureSAN, fixtureIssuer, cfg
			}
			out, refErr := pyJSON(t, py, refVerifyScript, a)
			refOK := refErr == nil && strings.Contains(out, "OK")
			r, err := ours(t, a)
			ourOK := err == nil && r.Verified
			if want := class == "valid"; refOK != want || ourOK != want {
				t.Fatalf("want %v: model_signing %v (%s), modelgraph %v (%v)", want, refOK, strings.TrimSpace(out), ourOK, err)
			}
		})
	}
}

func mustPKIX(t *testing.T, k interface{ Public() crypto.PublicKey }) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func signCLI(t *testing.T, py string, args ...string) {
	t.Helper()
	runPython(t, py, append([]string{"-m", "model_signing", "sign"}, args...)...)
}

func selfSignedCert(t *testing.T, work, name string, tmpl *x509.Certificate) (keyPath, certPath string) {
	t.Helper()
	keyPath = filepath.Join(work, name+".key")
	k := newECKey(t, elliptic.P256(), keyPath)
	tmpl.Subject = pkix.Name{CommonName: name}
	c := envelopetest.Issue(t, tmpl, nil, k, &k.PublicKey)
	certPath = filepath.Join(work, name+".pem")
	writePEM(t, certPath, "CERTIFICATE", c.Raw)
	return keyPath, certPath
}

// Models signed by model_signing itself, every method and serialization:
// both verifiers accept them, and refuse them once changed.
func TestReferenceSignedModels(t *testing.T) {
	py := modelSigningPython(t)
	work := t.TempDir()
	t.Run("key", func(t *testing.T) {
		for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
			t.Run(curve.Params().Name, func(t *testing.T) {
				dir := interopModel(t)
				keyPath := filepath.Join(work, curve.Params().Name+".key")
				k := newECKey(t, curve, keyPath)
				pub := filepath.Join(work, curve.Params().Name+".pub")
				writePEM(t, pub, "PUBLIC KEY", mustPKIX(t, k))
				sig := filepath.Join(dir, "model.sig")
				signCLI(t, py, "key", dir, "--private_key", keyPath, "--signature", sig)
				a := refArgs{Method: "key", Model: dir, Sig: sig, Key: pub}
				agree(t, py, a, true)
				if curve == elliptic.P521() {
					writeFiles(t, dir, map[string][]byte{"tokenizer/vocab.txt": []byte("changed")})
					r := agree(t, py, a, false)
					if r.Changed != 1 || r.Files[len(r.Files)-2].Path != "tokenizer/vocab.txt" && !hasFile(r, "tokenizer/vocab.txt", oms.FileChanged) {
						t.Fatalf("changed file not named: %+v", r.Files)
					}
				}
			})
		}
	})
	t.Run("certificate", func(t *testing.T) {
		now := time.Now()
		rootKey := newECKey(t, elliptic.P384(), filepath.Join(work, "root.key"))
		rootTmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "ref-root"}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		root := envelopetest.Issue(t, rootTmpl, nil, rootKey, &rootKey.PublicKey)
		rootPEM := filepath.Join(work, "root.pem")
		writePEM(t, rootPEM, "CERTIFICATE", root.Raw)
		leafKeyPath := filepath.Join(work, "leaf.key")
		leafKey := newECKey(t, elliptic.P256(), leafKeyPath)
		leafWith := func(name string, notBefore, notAfter time.Time) string {
			tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: name}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
			tmpl.NotBefore, tmpl.NotAfter = notBefore, notAfter // zero: valid now
			c := envelopetest.Issue(t, tmpl, root, rootKey, &leafKey.PublicKey)
			p := filepath.Join(work, name+".pem")
			writePEM(t, p, "CERTIFICATE", c.Raw)
			return p
		}
		cases := []struct {
			name     string
			key      string
			cert     string
			chain    []string // trusted at verification
			verified bool
		}{
			{"chain to a root", leafKeyPath, leafWith("leaf", time.Time{}, time.Time{}), []string{rootPEM}, true},
			{"leaf expired since signing", leafKeyPath, leafWith("expired", root.NotBefore.Add(time.Minute), now.Add(-time.Minute)), []string{rootPEM}, true},
			{"leaf older than its CA", leafKeyPath, leafWith("early", root.NotBefore.Add(-24*time.Hour), now.Add(time.Hour)), []string{rootPEM}, false},
		}
		// The issue's case: a self-signed signing certificate (CA:TRUE,
		// digitalSignature, codeSigning, no keyCertSign) trusted as itself.
		ssKey, ssCert := selfSignedCert(t, work, "self-signed", &x509.Certificate{IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}})
		cases = append(cases, struct {
			name, key, cert string
			chain           []string
			verified        bool
		}{"self-signed, CA without keyCertSign", ssKey, ssCert, []string{ssCert}, true})
		nk, nc := selfSignedCert(t, work, "self-signed-leaf", &x509.Certificate{BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature})
		cases = append(cases, struct {
			name, key, cert string
			chain           []string
			verified        bool
		}{"self-signed, not a CA", nk, nc, []string{nc}, true})
		cases = append(cases, struct {
			name, key, cert string
			chain           []string
			verified        bool
		}{"self-signed, other certificate trusted", ssKey, ssCert, []string{nc}, false})
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				dir := interopModel(t)
				sig := filepath.Join(t.TempDir(), "model.sig")
				// The signer needs a chain; a self-signed certificate is its own.
				signChain := rootPEM
				if strings.HasPrefix(c.name, "self-signed") {
					signChain = c.cert
				}
				signCLI(t, py, "certificate", dir, "--private_key", c.key, "--signing_certificate", c.cert, "--certificate_chain", signChain, "--signature", sig)
				agree(t, py, refArgs{Method: "certificate", Model: dir, Sig: sig, Chain: c.chain}, c.verified)
			})
		}
	})
	t.Run("serializations", func(t *testing.T) {
		keyPath := filepath.Join(work, "ser.key")
		pub := filepath.Join(work, "ser.pub")
		writePEM(t, pub, "PUBLIC KEY", mustPKIX(t, newECKey(t, elliptic.P256(), keyPath)))
		for _, c := range []struct{ kind, alg string }{
			{"shards", "sha256"}, {"shards", "blake2"}, {"shards", "blake3"},
			{"files", "blake2"}, {"files", "blake3"},
		} {
			t.Run(c.kind+"-"+c.alg, func(t *testing.T) {
				dir := interopModel(t)
				sig := filepath.Join(t.TempDir(), "model.sig")
				if out, err := pyJSON(t, py, refSignScript, map[string]any{"kind": c.kind, "alg": c.alg, "shard_size": 1 << 20, "key": keyPath, "model": dir, "sig": sig}); err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				a := refArgs{Method: "key", Model: dir, Sig: sig, Key: pub}
				agree(t, py, a, true)
				if c.kind == "shards" && c.alg == "sha256" {
					b := read(t, filepath.Join(dir, "model.safetensors"))
					b[2<<20+7] ^= 1 // the third shard
					writeFiles(t, dir, map[string][]byte{"model.safetensors": b})
					r := agree(t, py, a, false)
					if !hasFile(r, "model.safetensors", oms.FileChanged) || !strings.Contains(r.Files[indexOf(r, "model.safetensors")].Detail, "2097152:3145728") {
						t.Fatalf("changed shard not named: %+v", r.Files)
					}
				}
			})
		}
	})
	t.Run("ignore paths and unsigned files", func(t *testing.T) {
		keyPath := filepath.Join(work, "ign.key")
		pub := filepath.Join(work, "ign.pub")
		writePEM(t, pub, "PUBLIC KEY", mustPKIX(t, newECKey(t, elliptic.P256(), keyPath)))
		dir := interopModel(t)
		sig := filepath.Join(t.TempDir(), "model.sig")
		signCLI(t, py, "key", dir, "--private_key", keyPath, "--signature", sig,
			"--ignore-paths", filepath.Join(dir, "README.md"), "--ignore-paths", filepath.Join(dir, "tokenizer/special"))
		a := refArgs{Method: "key", Model: dir, Sig: sig, Key: pub}
		// The signature records its ignore paths: nothing to pass.
		writeFiles(t, dir, map[string][]byte{"README.md": []byte("edited"), "tokenizer/special/new": []byte("x")})
		agree(t, py, a, true)
		writeFiles(t, dir, map[string][]byte{"notes.txt": []byte("unsigned")})
		r := agree(t, py, a, false)
		if !hasFile(r, "notes.txt", oms.FileExtra) || r.Extra != 1 {
			t.Fatalf("extra file: %+v", r.Files)
		}
		a.IgnoreUnsigned = true
		agree(t, py, a, true)
		if err := os.Remove(filepath.Join(dir, "config.json")); err != nil {
			t.Fatal(err)
		}
		r = agree(t, py, a, false)
		if !hasFile(r, "config.json", oms.FileMissing) {
			t.Fatalf("missing file: %+v", r.Files)
		}
	})
	t.Run("symlinks", func(t *testing.T) {
		keyPath := filepath.Join(work, "sym.key")
		pub := filepath.Join(work, "sym.pub")
		writePEM(t, pub, "PUBLIC KEY", mustPKIX(t, newECKey(t, elliptic.P256(), keyPath)))
		dir := interopModel(t)
		if err := os.Symlink("config.json", filepath.Join(dir, "config-link.json")); err != nil {
			t.Fatal(err)
		}
		sig := filepath.Join(t.TempDir(), "model.sig")
		if out, err := pyJSON(t, py, refSignScript, map[string]any{"kind": "files", "alg": "sha256", "key": keyPath, "model": dir, "sig": sig, "allow_symlinks": true}); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		// The signature records allow_symlinks: true, which the verifier applies.
		r := agree(t, py, refArgs{Method: "key", Model: dir, Sig: sig, Key: pub}, true)
		if !hasFile(r, "config-link.json", oms.FileOK) {
			t.Fatalf("symlink not verified as a file: %+v", r.Files)
		}
	})
}

func indexOf(r *oms.Report, path string) int {
	for i, f := range r.Files {
		if f.Path == path {
			return i
		}
	}
	return -1
}

func hasFile(r *oms.Report, path string, st oms.FileStatus) bool {
	i := indexOf(r, path)
	return i >= 0 && r.Files[i].Status == st
}

// modelgraph digest gives the reference's root digest and resources (names,
// digests, order) on the interop model, for every serialization.
func TestReferenceDigest(t *testing.T) {
	py := modelSigningPython(t)
	dir := interopModel(t)
	for _, c := range []struct {
		kind, alg string
		ignore    []string
	}{
		{"files", "sha256", nil}, {"files", "blake2", nil}, {"files", "blake3", nil},
		{"shards", "sha256", nil}, {"shards", "blake2", nil}, {"shards", "blake3", nil},
		{"files", "sha256", []string{"README.md", "tokenizer/special"}},
	} {
		t.Run(c.kind+"-"+c.alg+"-"+strings.Join(c.ignore, ","), func(t *testing.T) {
			out, err := pyJSON(t, py, refDigestScript, map[string]any{"kind": c.kind, "alg": c.alg, "shard_size": 1 << 20, "model": dir, "ignore_paths": c.ignore})
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			var ref struct {
				Root      string `json:"root"`
				Resources []struct{ Name, Digest string }
			}
			if err := json.Unmarshal([]byte(out), &ref); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			hashType := c.alg
			if hashType == "blake2" {
				hashType = "blake2b"
			}
			got, err := oms.Digest(ctx, dir, oms.DigestOptions{Method: c.kind, HashType: hashType, ShardSize: 1 << 20, IgnorePaths: c.ignore})
			if err != nil {
				t.Fatal(err)
			}
			if got.RootDigest != "sha256:"+ref.Root || len(got.Resources) != len(ref.Resources) {
				t.Fatalf("root %s (%d resources), model_signing sha256:%s (%d)", got.RootDigest, len(got.Resources), ref.Root, len(ref.Resources))
			}
			for i, r := range ref.Resources {
				if got.Resources[i].Name != r.Name || got.Resources[i].Digest != r.Digest {
					t.Fatalf("resource %d: %+v, model_signing %+v", i, got.Resources[i], r)
				}
			}
		})
	}
}
