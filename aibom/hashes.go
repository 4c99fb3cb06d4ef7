package aibom

import (
	"cmp"
	"slices"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/modelgraph/modelgraph/graph"
)

// hashAlgs maps graph digest algorithms (graph.NormalizeAlgorithm names) to
// CycloneDX's. OMS writes blake2b as BLAKE2b-512 digests (128 hex
// characters, which graph.DigestKey enforces), and blake3 as 256-bit ones.
// sha224 and blake2s have no CycloneDX name: they become properties.
var hashAlgs = map[string]cdx.HashAlgorithm{
	"md5":      cdx.HashAlgoMD5,
	"sha1":     cdx.HashAlgoSHA1,
	"sha256":   cdx.HashAlgoSHA256,
	"sha384":   cdx.HashAlgoSHA384,
	"sha512":   cdx.HashAlgoSHA512,
	"sha3-256": cdx.HashAlgoSHA3_256,
	"sha3-512": cdx.HashAlgoSHA3_512,
	"blake2b":  cdx.HashAlgoBlake2b_512,
	"blake3":   cdx.HashAlgoBlake3,
}

// hashesOf returns the CycloneDX hashes for the digest keys among keys,
// sorted by algorithm and value, and adds digests CycloneDX cannot name to
// p.
func hashesOf(keys []string, p *props) *[]cdx.Hash {
	var hs []cdx.Hash
	for _, k := range keys {
		if !graph.IsDigestKey(k) {
			continue
		}
		alg, hex, _ := strings.Cut(k, ":")
		if a, ok := hashAlgs[alg]; ok && validHashContent(hex) {
			hs = append(hs, cdx.Hash{Algorithm: a, Value: hex})
			continue
		}
		if p != nil {
			p.add(propUnmappedDigest, k)
		}
	}
	slices.SortFunc(hs, func(a, b cdx.Hash) int {
		return cmp.Or(cmp.Compare(a.Algorithm, b.Algorithm), cmp.Compare(a.Value, b.Value))
	})
	return nonEmpty(slices.Compact(hs))
}

// validHashContent mirrors the schema's hash-content pattern.
func validHashContent(hex string) bool {
	switch len(hex) {
	case 32, 40, 64, 96, 128:
		return isHex(hex)
	}
	return false
}

// sha256Hex returns the hex of a sha256 digest key ("" if k is not one).
func sha256Hex(k string) string {
	if h, ok := strings.CutPrefix(k, "sha256:"); ok {
		return h
	}
	return ""
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}
