package graph

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// A key names a node. Keys are strings with a scheme that says what they are:
//
//	sha256:<hex>         a content digest (any algorithm, see NormalizeAlgorithm)
//	pkg:<type>/<name>... a package URL
//	name:<name>          a human name (model "acme/llm-7b", dataset "clinical-notes@v3")
//	<scheme>://...       a URI (hf://, s3://, https://, git+https://...)
//	oidc:<issuer>|<san>  a signing identity from a certificate
//	key:<hint>           a signing key
//	<other>:<id>         anything else with a scheme (CVE-..., GHSA-...: "vuln:CVE-2021-44228")
//
// One node may carry several keys; a key is unique per node kind.
//
// The schemes below are the vocabulary graph itself needs (KeyName,
// IsNameKey, ScopeMatches). Building keys and reading what users type is
// graph/ref's job: its constructors and Parse are the one home of the
// reference grammar; graph never imports it.
const (
	SchemeName       = "name:"          // a human name
	SchemeHF         = "hf://"          // a Hugging Face model repository: hf://org/name
	SchemeHFDatasets = "hf://datasets/" // a Hugging Face dataset repository
	SchemePurl       = "pkg:"           // a package URL
	SchemeIdentity   = "oidc:"          // a certificate identity: oidc:<issuer>|<subject>
	SchemeKey        = "key:"           // a signing key hint
	SchemeDeployment = "deployment:"    // deployment:<env>/<cluster>/<namespace>/<service>
	SchemeAdvisory   = "advisory:"      // an advisory id
	SchemeVuln       = "vuln:"          // a vulnerability id (CVE, GHSA, ...)
	SchemeRun        = "run:"           // a training or build run
)

// digestHexLen gives the hex length of well-known algorithms, to reject
// truncated digests early.
var digestHexLen = map[string]int{
	"sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128,
	"sha3-256": 64, "sha3-512": 128, "blake2b": 128, "blake2s": 64, "blake3": 64, "md5": 32,
}

// NormalizeAlgorithm maps the spellings found in the wild ("SHA-256",
// "SHA256", "sha-256", "BLAKE2b-512", "BLAKE3") to one lower-case name, so a
// CycloneDX hash and an in-toto digest of the same bytes meet on one key.
func NormalizeAlgorithm(alg string) string {
	a := strings.ToLower(strings.TrimSpace(alg))
	a = strings.ReplaceAll(a, "_", "-")
	switch a {
	case "sha-1", "sha1":
		return "sha1"
	case "sha-224", "sha224":
		return "sha224"
	case "sha-256", "sha256", "sha2-256":
		return "sha256"
	case "sha-384", "sha384":
		return "sha384"
	case "sha-512", "sha512", "sha2-512":
		return "sha512"
	case "sha3-256", "sha-3-256":
		return "sha3-256"
	case "sha3-512", "sha-3-512":
		return "sha3-512"
	case "blake2b", "blake2b-512", "blake2b512":
		return "blake2b"
	case "blake2s", "blake2s-256":
		return "blake2s"
	case "blake3", "blake3-256":
		return "blake3"
	case "md5":
		return "md5"
	}
	return strings.ReplaceAll(a, "-", "")
}

// DigestKey builds the key for a digest, normalising the algorithm name and
// the hex case. It fails on non-hex values and on wrong lengths for known
// algorithms.
func DigestKey(alg, value string) (string, error) {
	// Fast path: an algorithm already in normal form and lower-case hex of
	// its length (what parsers and graph/ref mostly pass) need one
	// concatenation and no other allocation.
	if n, ok := digestHexLen[alg]; ok && len(value) == n && isLowerHex(value) {
		return alg + ":" + value, nil
	}
	a := NormalizeAlgorithm(alg)
	if a == "" {
		return "", fmt.Errorf("digest algorithm is empty")
	}
	v := strings.TrimSpace(value)
	isHex := isLowerHex(v)
	if !isHex {
		v = strings.ToLower(v)
		isHex = isLowerHex(v)
	}
	if v == "" {
		return "", fmt.Errorf("%s digest is empty", a)
	}
	if len(v)%2 != 0 || !isHex { // what hex.DecodeString accepts, lower-cased
		return "", fmt.Errorf("%s digest %q is not hex", a, truncate(v, 80))
	}
	if n, ok := digestHexLen[a]; ok && len(v) != n {
		return "", fmt.Errorf("%s digest has %d hex characters, want %d", a, len(v), n)
	}
	return a + ":" + v, nil
}

// MustDigestKey is DigestKey for values known to be valid (tests, generators).
func MustDigestKey(alg, value string) string {
	k, err := DigestKey(alg, value)
	if err != nil {
		panic(err)
	}
	return k
}

// SHA256Key returns the sha256 digest key of b.
func SHA256Key(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// NameKey is the key for a human name.
func NameKey(name string) string { return SchemeName + strings.TrimSpace(name) }

// IdentityKey is the key of a certificate identity.
func IdentityKey(issuer, subject string) string { return SchemeIdentity + issuer + "|" + subject }

// PublicKeyKey is the key of a signing key named by its hint or fingerprint.
func PublicKeyKey(hint string) string { return SchemeKey + hint }

// NormalizeKey canonicalises a key: digests get their algorithm normalised and
// hex lower-cased; "sha256:ABC" and "SHA-256:abc" become one key. Other keys
// are trimmed. It rejects empty keys, keys without a scheme and keys longer
// than MaxKeyLen.
func NormalizeKey(k string) (string, error) {
	if normalKey(k) {
		return k, nil
	}
	return normalizeKeySlow(k)
}

func normalizeKeySlow(k string) (string, error) {
	k = strings.TrimSpace(k)
	if k == "" {
		return "", fmt.Errorf("key is empty")
	}
	if len(k) > MaxKeyLen {
		return "", fmt.Errorf("key is %d bytes, limit %d", len(k), MaxKeyLen)
	}
	i := strings.IndexByte(k, ':')
	if i <= 0 {
		return "", fmt.Errorf("key %q has no scheme (want e.g. sha256:<hex>, pkg:..., name:...)", truncate(k, 80))
	}
	scheme := k[:i]
	if strings.HasPrefix(k[i:], "://") {
		return k, nil // a URI
	}
	if a := NormalizeAlgorithm(scheme); isDigestAlg(a) {
		return DigestKey(a, k[i+1:])
	}
	return k, nil
}

// normalKey reports, with a scan and no allocation, whether k is a key
// NormalizeKey returns unchanged: no surrounding space, within MaxKeyLen,
// a scheme, and either a scheme no digest algorithm spelling can have
// (they all start with s, b or m, after any '-' or '_') or a normal-form algorithm followed by
// lower-case hex of its length. Anything else takes the slow path, which
// decides.
func normalKey(k string) bool {
	if k == "" || len(k) > MaxKeyLen || isSpace(k[0]) || isSpace(k[len(k)-1]) {
		return false
	}
	i := strings.IndexByte(k, ':')
	if i <= 0 {
		return false
	}
	if strings.HasPrefix(k[i:], "://") {
		return true
	}
	// NormalizeAlgorithm lower-cases, drops '-' and '_', and every digest
	// algorithm name starts with s, b or m: a scheme starting with another
	// ASCII letter or digit is no digest.
	if c := k[0] | 0x20; (c >= 'a' && c <= 'z' || k[0] >= '0' && k[0] <= '9') && c != 's' && c != 'b' && c != 'm' {
		return true
	}
	n, ok := digestHexLen[k[:i]]
	return ok && len(k)-i-1 == n && isLowerHex(k[i+1:])
}

// isSpace is the ASCII and Unicode white space strings.TrimSpace removes,
// conservatively: any byte >= 0x80 counts (the slow path decides).
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c >= 0x80
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !lowerHexByte[s[i]] {
			return false
		}
	}
	return true
}

// lowerHexByte marks 0-9 and a-f: one load per byte instead of two
// comparisons and two branches (digest keys are checked on every hash of
// every component).
var lowerHexByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = true
	}
	return t
}()

func isDigestAlg(a string) bool { _, ok := digestHexLen[a]; return ok }

// IsDigestKey reports whether k is a (normalised) digest key.
func IsDigestKey(k string) bool {
	i := strings.IndexByte(k, ':')
	return i > 0 && isDigestAlg(k[:i]) && !strings.HasPrefix(k[i:], "://")
}

// NewNodeID derives a node's id from its kind and the key it was created
// with, so two backends fed the same documents in the same order agree on ids.
func NewNodeID(kind NodeKind, key string) NodeID {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(key))
	var s [32]byte
	return NodeID(hex.EncodeToString(h.Sum(s[:0])[:16]))
}

// NodeID identifies a node: 32 lower-case hex characters.
type NodeID string

// Valid reports whether id has the NodeID shape.
func (id NodeID) Valid() bool {
	if len(id) != 32 {
		return false
	}
	// Lower-case hex only; no allocation (walks check every id they load).
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Bytes returns the 16 raw bytes of a valid id.
func (id NodeID) Bytes() [16]byte {
	var b [16]byte
	_, _ = hex.Decode(b[:], []byte(id))
	return b
}

// NodeIDFromBytes inverts Bytes.
func NodeIDFromBytes(b []byte) NodeID { return NodeID(hex.EncodeToString(b)) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
