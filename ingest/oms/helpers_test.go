package oms_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/blake2b"
	"lukechampine.com/blake3"

	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

const (
	fixtures      = "../../testdata/oms"
	fixtureIssuer = "https://sigstore.verify.ibm.com/oauth2"
	fixtureSAN    = "stefanb@us.ibm.com"
)

var ctx = context.Background()

func fixtureKey(t testing.TB) trust.PublicKey {
	t.Helper()
	k, err := trust.LoadPublicKey(filepath.Join(fixtures, "keys/certificate/signing-key-pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func fixtureCA(t testing.TB) trust.CABundle {
	t.Helper()
	c, err := trust.LoadCABundle(filepath.Join(fixtures, "keys/certificate/ca-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func publicGood(t testing.TB) trust.Root {
	t.Helper()
	r, err := trust.PublicGood()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fixturePolicy trusts what signed the fixtures, for every subject.
func fixturePolicy(t testing.TB) *trust.Policy {
	return &trust.Policy{Roots: []trust.Root{publicGood(t)}, Rules: []trust.Rule{{
		Keys:       []trust.PublicKey{fixtureKey(t)},
		CAs:        []trust.CABundle{fixtureCA(t)},
		Identities: []trust.Identity{{Issuer: fixtureIssuer, SAN: fixtureSAN}},
	}}}
}

func keyPolicy(keys ...trust.PublicKey) *trust.Policy {
	return &trust.Policy{Rules: []trust.Rule{{Keys: keys}}}
}

func read(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFiles(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for p, data := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// copyDir copies a fixture directory (flat) so tests can tamper with it.
func copyDir(t testing.TB, from string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), filepath.Base(from))
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		writeFiles(t, to, map[string][]byte{e.Name(): read(t, filepath.Join(from, e.Name()))})
	}
	return to
}

// The test oracle: digests computed directly, not with the package's
// hasher, so a hashing bug cannot agree with itself.
func digest(hashType string, data []byte) []byte {
	switch hashType {
	case "sha256":
		s := sha256.Sum256(data)
		return s[:]
	case "blake2b":
		s := blake2b.Sum512(data)
		return s[:]
	case "blake3":
		s := blake3.Sum256(data)
		return s[:]
	}
	panic(hashType)
}

type manifestSpec struct {
	name        string // subject name
	method      string // files | shards
	hashType    string
	shardSize   any // int or float, as JSON
	ignorePaths []string
	// specShardAlg: shard resources carry hash_type as their algorithm, as
	// the spec (§6.3.2) writes, not model_signing's "<hash>-sharded-<size>".
	specShardAlg bool
}

// manifest builds an OMS v1.0 statement for files as model_signing would:
// resources sorted by path components, root = sha256 over their digests.
func manifest(t testing.TB, spec manifestSpec, files map[string][]byte) []byte {
	t.Helper()
	type res struct {
		key        []string
		name, alg  string
		digestHex  string
		start, end int64
	}
	var rs []res
	for p, data := range files {
		parts := strings.Split(p, "/")
		if spec.method == "shards" {
			size := toInt(spec.shardSize)
			alg := spec.hashType + "-sharded-" + itoa(size)
			if spec.specShardAlg {
				alg = spec.hashType
			}
			for start := int64(0); start < int64(len(data)); start += size {
				end := min(start+size, int64(len(data)))
				rs = append(rs, res{key: parts, name: p + ":" + itoa(start) + ":" + itoa(end), alg: alg, digestHex: hex.EncodeToString(digest(spec.hashType, data[start:end])), start: start, end: end})
			}
			continue
		}
		rs = append(rs, res{key: parts, name: p, alg: spec.hashType, digestHex: hex.EncodeToString(digest(spec.hashType, data))})
	}
	slices.SortFunc(rs, func(a, b res) int {
		if c := slices.Compare(a.key, b.key); c != 0 {
			return c
		}
		return int(a.start - b.start)
	})
	root := sha256.New()
	var resources []map[string]string
	for _, r := range rs {
		d, _ := hex.DecodeString(r.digestHex)
		root.Write(d)
		resources = append(resources, map[string]string{"name": r.name, "algorithm": r.alg, "digest": r.digestHex})
	}
	ser := map[string]any{"method": spec.method, "hash_type": spec.hashType, "allow_symlinks": false}
	if spec.method == "shards" {
		ser["shard_size"] = spec.shardSize
	}
	if spec.ignorePaths != nil {
		ser["ignore_paths"] = spec.ignorePaths
	}
	return statementJSON(t, spec.name, hex.EncodeToString(root.Sum(nil)), map[string]any{"serialization": ser, "resources": resources})
}

func statementJSON(t testing.TB, name, rootHex string, predicate any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"_type":         statement.TypeV1,
		"subject":       []any{map[string]any{"name": name, "digest": map[string]string{"sha256": rootHex}}},
		"predicateType": "https://model_signing/signature/v1.0",
		"predicate":     predicate,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int64:
		return n
	case float64:
		return int64(n)
	}
	panic(v)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// payloadOf returns the DSSE payload of a bundle.
func payloadOf(t testing.TB, bundle []byte) []byte {
	t.Helper()
	var b struct {
		DsseEnvelope struct {
			Payload string `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	p, err := base64.StdEncoding.DecodeString(b.DsseEnvelope.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustJSON(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func toJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rootOf recomputes a decoded statement's root digest.
func rootOf(t testing.TB, st map[string]any) string {
	t.Helper()
	h := sha256.New()
	for _, r := range st["predicate"].(map[string]any)["resources"].([]any) {
		d, err := hex.DecodeString(r.(map[string]any)["digest"].(string))
		if err != nil {
			t.Fatal(err)
		}
		h.Write(d)
	}
	return hex.EncodeToString(h.Sum(nil))
}
