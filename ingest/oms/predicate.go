// Package oms reads OpenSSF Model Signing (OMS) signatures: it turns the
// signed manifest into a graph batch (a Model that CONTAINS its Files) and
// verifies a model directory against it by re-hashing every file, with the
// semantics of sigstore's model_signing tool.
package oms

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/strictjson"
)

// Predicate types.
const (
	PredicateType = "https://model_signing/signature/v1.0"
	// LegacyPredicateType is model_signing v0.2's format: one subject per
	// file, signed with a non-standard DSSE pre-authentication encoding.
	LegacyPredicateType = "https://model_signing/Digests/v0.1"
)

// DocumentType is graph.Document.Type of OMS signatures.
const DocumentType = "oms"

// ErrInvalidDocument is the root of errors for OMS signatures that cannot be
// read; it wraps envelope.ErrInvalidDocument.
var ErrInvalidDocument = fmt.Errorf("%w: OMS", envelope.ErrInvalidDocument)

// Limits.
const (
	MaxResources    = 200_000 // files or shards in one manifest
	MaxIgnorePaths  = 10_000
	MaxPathLen      = 4_096
	MaxShardSize    = 1 << 50
	MaxAlgorithmLen = 64
)

// Serialization methods and hash types model_signing writes.
const (
	MethodFiles  = "files"
	MethodShards = "shards"
)

// Serialization says how the signer turned the model into resources.
type Serialization struct {
	Method        string   `json:"method"`
	HashType      string   `json:"hashType"`
	ShardSize     int64    `json:"shardSize,omitempty"`
	AllowSymlinks bool     `json:"allowSymlinks"`
	IgnorePaths   []string `json:"ignorePaths,omitempty"`
}

// ResourceAlgorithm is the algorithm name model_signing gives each resource
// of this serialization ("sha256", "sha256-sharded-1000000000").
func (s Serialization) ResourceAlgorithm() string {
	if s.Method == MethodShards {
		return s.HashType + "-sharded-" + strconv.FormatInt(s.ShardSize, 10)
	}
	return s.HashType
}

// Resource is one signed file or file shard.
type Resource struct {
	Name      string // as signed: "dir/file" or "dir/file:start:end"
	Path      string // the file, relative to the model root ("." for a single-file model)
	Algorithm string
	Digest    []byte
	Sharded   bool
	Start     int64 // shards: byte range [Start, End)
	End       int64
}

// Manifest is a parsed OMS predicate.
type Manifest struct {
	PredicateType string
	// ModelName is the subject name (the signed directory's base name).
	ModelName string
	// RootDigest is the subject's sha256: sha256 over the resource digests
	// in listed order. RootMatches says whether the resources hash to it.
	RootDigest    []byte
	RootMatches   bool
	Legacy        bool
	Serialization Serialization
	Resources     []Resource
}

// RootKey is the model's graph key ("sha256:<hex>"); "" for legacy.
func (m *Manifest) RootKey() string {
	if len(m.RootDigest) == 0 {
		return ""
	}
	return "sha256:" + hex.EncodeToString(m.RootDigest)
}

// ParseOpened checks an opened document against the OMS profile of its
// container (spec §4.1, §11.1: a sigstore-method bundle, whose material is
// a single certificate, must carry a transparency log entry; the payload
// must be in-toto) and parses its statement.
func ParseOpened(o *envelope.Opened) (*Manifest, error) {
	if o == nil {
		return nil, fmt.Errorf("%w: no document", ErrInvalidDocument)
	}
	if o.Format == envelope.FormatBundle && o.Material == envelope.MaterialCertificate && o.TlogEntries == 0 {
		return nil, fmt.Errorf("%w: bundle: verificationMaterial.certificate (sigstore method) without tlogEntries; OMS spec §4.1 requires at least one", ErrInvalidDocument)
	}
	if o.Format != envelope.FormatStatement && o.PayloadType != statement.PayloadType {
		return nil, fmt.Errorf("%w: payloadType %q is not %s", ErrInvalidDocument, truncate(o.PayloadType, 80), statement.PayloadType)
	}
	return ParseStatement(o.Statement)
}

// ParseStatement reads an OMS statement's manifest. It rejects resource
// names that could leave the model directory, so nothing derived from a
// manifest touches disk outside it.
func ParseStatement(st *statement.Statement) (*Manifest, error) {
	if st == nil {
		return nil, fmt.Errorf("%w: payload is not an in-toto statement", ErrInvalidDocument)
	}
	// Spec §8.3 and model_signing: Statement v1 only, for both predicates.
	if st.Type != statement.TypeV1 {
		return nil, fmt.Errorf("%w: _type %q is not %s (OMS spec §8.3)", ErrInvalidDocument, truncate(st.Type, 100), statement.TypeV1)
	}
	switch st.PredicateType {
	case PredicateType:
		return parseV1(st)
	case LegacyPredicateType:
		return parseLegacy(st)
	}
	return nil, fmt.Errorf("%w: predicateType %q is not %s", ErrInvalidDocument, truncate(st.PredicateType, 100), PredicateType)
}

type predicateV1 struct {
	Serialization *struct {
		Method        string          `json:"method"`
		HashType      string          `json:"hash_type"`
		AllowSymlinks json.RawMessage `json:"allow_symlinks"`
		ShardSize     json.Number     `json:"shard_size"`
		IgnorePaths   []string        `json:"ignore_paths"`
	} `json:"serialization"`
	Resources []struct {
		Name      string `json:"name"`
		Algorithm string `json:"algorithm"`
		Digest    string `json:"digest"`
	} `json:"resources"`
}

func parseV1(st *statement.Statement) (*Manifest, error) {
	if len(st.Subject) != 1 {
		return nil, fmt.Errorf("%w: subject has %d entries, want exactly 1 (the model)", ErrInvalidDocument, len(st.Subject))
	}
	sub := st.Subject[0]
	if sub.Name == "" {
		return nil, fmt.Errorf("%w: subject[0].name is empty", ErrInvalidDocument)
	}
	rootHex, ok := sub.Digest["sha256"]
	if !ok {
		return nil, fmt.Errorf("%w: subject[0].digest.sha256 is missing", ErrInvalidDocument)
	}
	root, err := hex.DecodeString(rootHex)
	if err != nil || len(root) != sha256.Size || !isLowerHex(rootHex) {
		return nil, fmt.Errorf("%w: subject[0].digest.sha256 %q is not a sha256 digest", ErrInvalidDocument, truncate(rootHex, 80))
	}
	var p predicateV1
	if err := strictjson.Unmarshal(st.Predicate, &p, strictjson.UseNumber()); err != nil {
		return nil, fmt.Errorf("%w: predicate: %w", ErrInvalidDocument, err)
	}
	if p.Serialization == nil {
		return nil, fmt.Errorf("%w: predicate.serialization is missing", ErrInvalidDocument)
	}
	ser := p.Serialization
	m := &Manifest{PredicateType: st.PredicateType, ModelName: sub.Name, RootDigest: root}
	m.Serialization = Serialization{Method: ser.Method, HashType: ser.HashType, IgnorePaths: ser.IgnorePaths}
	switch ser.Method {
	case MethodFiles, MethodShards:
	case "":
		return nil, fmt.Errorf("%w: predicate.serialization.method is missing", ErrInvalidDocument)
	default:
		return nil, fmt.Errorf("%w: predicate.serialization.method %q is not files or shards", ErrInvalidDocument, truncate(ser.Method, 40))
	}
	if !HashTypes[ser.HashType] {
		return nil, fmt.Errorf("%w: predicate.serialization.hash_type %q is not in the OMS algorithm registry (sha256, blake2b, blake3)", ErrInvalidDocument, truncate(ser.HashType, 40))
	}
	switch string(bytes.TrimSpace(ser.AllowSymlinks)) {
	case "true":
		m.Serialization.AllowSymlinks = true
	case "false":
	case "":
		return nil, fmt.Errorf("%w: predicate.serialization.allow_symlinks is missing", ErrInvalidDocument)
	default:
		return nil, fmt.Errorf("%w: predicate.serialization.allow_symlinks is not a boolean", ErrInvalidDocument)
	}
	if ser.Method == MethodFiles && ser.ShardSize != "" {
		return nil, fmt.Errorf("%w: predicate.serialization.shard_size must be absent for method files", ErrInvalidDocument)
	}
	for i, p := range ser.IgnorePaths {
		if p == "" {
			return nil, fmt.Errorf("%w: predicate.serialization.ignore_paths[%d] is empty", ErrInvalidDocument, i)
		}
	}
	if ser.Method == MethodShards {
		n, err := shardSize(ser.ShardSize)
		if err != nil {
			return nil, fmt.Errorf("%w: predicate.serialization.shard_size: %w", ErrInvalidDocument, err)
		}
		m.Serialization.ShardSize = n
	}
	if len(ser.IgnorePaths) > MaxIgnorePaths {
		return nil, fmt.Errorf("%w: predicate.serialization.ignore_paths has %d entries, limit %d", ErrInvalidDocument, len(ser.IgnorePaths), MaxIgnorePaths)
	}
	if len(p.Resources) == 0 {
		return nil, fmt.Errorf("%w: predicate.resources is empty (an empty model cannot be signed, OMS spec §5.2.1)", ErrInvalidDocument)
	}
	if len(p.Resources) > MaxResources {
		return nil, fmt.Errorf("%w: predicate.resources has %d entries, limit %d", ErrInvalidDocument, len(p.Resources), MaxResources)
	}
	seen := make(map[string]int, len(p.Resources))
	h := sha256.New()
	for i, r := range p.Resources {
		field := fmt.Sprintf("predicate.resources[%d]", i)
		// The spec writes hash_type; model_signing writes
		// "<hash_type>-sharded-<shard_size>" for shards.
		if r.Algorithm != ser.HashType && r.Algorithm != m.Serialization.ResourceAlgorithm() {
			return nil, fmt.Errorf("%w: %s.algorithm %q does not match serialization.hash_type %q", ErrInvalidDocument, field, truncate(r.Algorithm, 40), ser.HashType)
		}
		d, err := hex.DecodeString(r.Digest)
		if err != nil || len(d) == 0 || !isLowerHex(r.Digest) {
			return nil, fmt.Errorf("%w: %s.digest %q is not lowercase hex", ErrInvalidDocument, field, truncate(r.Digest, 80))
		}
		if want := digestSize(r.Algorithm); want > 0 && len(d) != want {
			return nil, fmt.Errorf("%w: %s.digest has %d bytes, %s digests have %d", ErrInvalidDocument, field, len(d), truncate(r.Algorithm, 40), want)
		}
		res := Resource{Name: r.Name, Algorithm: r.Algorithm, Digest: d}
		if ser.Method == MethodShards {
			if err := parseShardName(&res, m.Serialization.ShardSize); err != nil {
				return nil, fmt.Errorf("%w: %s.name: %w", ErrInvalidDocument, field, err)
			}
		} else {
			p, err := cleanPath(r.Name)
			if err != nil {
				return nil, fmt.Errorf("%w: %s.name: %w", ErrInvalidDocument, field, err)
			}
			res.Path = p
		}
		key := res.key()
		if j, dup := seen[key]; dup {
			return nil, fmt.Errorf("%w: %s.name %q repeats resources[%d]", ErrInvalidDocument, field, truncate(r.Name, 100), j)
		}
		seen[key] = i
		h.Write(d)
		m.Resources = append(m.Resources, res)
	}
	if err := checkSingleFile(m.Resources); err != nil {
		return nil, fmt.Errorf("%w: predicate.resources: %w", ErrInvalidDocument, err)
	}
	m.RootMatches = bytes.Equal(h.Sum(nil), root)
	return m, nil
}

func parseLegacy(st *statement.Statement) (*Manifest, error) {
	if len(st.Subject) > MaxResources {
		return nil, fmt.Errorf("%w: subject has %d entries, limit %d", ErrInvalidDocument, len(st.Subject), MaxResources)
	}
	m := &Manifest{PredicateType: st.PredicateType, Legacy: true, Serialization: Serialization{Method: MethodFiles, HashType: "sha256"}}
	seen := map[string]int{}
	for i, s := range st.Subject {
		field := fmt.Sprintf("subject[%d]", i)
		p, err := cleanPath(s.Name)
		if err != nil {
			return nil, fmt.Errorf("%w: %s.name: %w", ErrInvalidDocument, field, err)
		}
		d, err := hex.DecodeString(s.Digest["sha256"])
		if err != nil || len(d) != sha256.Size {
			return nil, fmt.Errorf("%w: %s.digest.sha256 is missing or not a sha256 digest", ErrInvalidDocument, field)
		}
		if j, dup := seen[p]; dup {
			return nil, fmt.Errorf("%w: %s.name %q repeats subject[%d]", ErrInvalidDocument, field, truncate(s.Name, 100), j)
		}
		seen[p] = i
		m.Resources = append(m.Resources, Resource{Name: s.Name, Path: p, Algorithm: "sha256", Digest: d})
	}
	if err := checkSingleFile(m.Resources); err != nil {
		return nil, fmt.Errorf("%w: subject: %w", ErrInvalidDocument, err)
	}
	return m, nil
}

// HashTypes is the OMS algorithm registry's file hashing algorithms.
var HashTypes = map[string]bool{"sha256": true, "blake2b": true, "blake3": true}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}

func (r Resource) key() string {
	if r.Sharded {
		return fmt.Sprintf("%s:%d:%d", r.Path, r.Start, r.End)
	}
	return r.Path
}

// shardSize accepts integers and integral floats ("1000000000.0": the
// predicate went through a protobuf Struct, whose numbers are doubles).
func shardSize(n json.Number) (int64, error) {
	if n == "" {
		return 0, fmt.Errorf("missing for shards")
	}
	if i, err := n.Int64(); err == nil {
		if i <= 0 || i > MaxShardSize {
			return 0, fmt.Errorf("%d is out of range (1..%d)", i, int64(MaxShardSize))
		}
		return i, nil
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || f <= 0 || f > MaxShardSize {
		return 0, fmt.Errorf("%q is not a positive whole number up to %d", truncate(string(n), 40), int64(MaxShardSize))
	}
	return int64(f), nil
}

// parseShardName splits "path:start:end" (from the right: only the last two
// colons delimit) and checks the range against the shard size.
func parseShardName(r *Resource, size int64) error {
	i := strings.LastIndexByte(r.Name, ':')
	j := -1
	if i > 0 {
		j = strings.LastIndexByte(r.Name[:i], ':')
	}
	if j <= 0 {
		return fmt.Errorf("%q is not path:start:end", truncate(r.Name, 100))
	}
	start, err1 := strconv.ParseInt(r.Name[j+1:i], 10, 64)
	end, err2 := strconv.ParseInt(r.Name[i+1:], 10, 64)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%q: start and end must be integers", truncate(r.Name, 100))
	}
	if start < 0 || end <= start || end-start > size || start%size != 0 {
		return fmt.Errorf("%q: range [%d, %d) is not a shard of size %d", truncate(r.Name, 100), start, end, size)
	}
	p, err := cleanPath(r.Name[:j])
	if err != nil {
		return err
	}
	r.Path, r.Sharded, r.Start, r.End = p, true, start, end
	return nil
}

// cleanPath checks that a manifest path names something inside the model:
// relative, no "..", no NUL or backslash (a separator on Windows).
func cleanPath(p string) (string, error) {
	switch {
	case p == "":
		return "", fmt.Errorf("empty path")
	case len(p) > MaxPathLen:
		return "", fmt.Errorf("path is %d bytes, limit %d", len(p), MaxPathLen)
	case strings.HasPrefix(p, "/"):
		return "", fmt.Errorf("%q is absolute", truncate(p, 100))
	case strings.ContainsAny(p, "\x00\\"):
		return "", fmt.Errorf("%q contains NUL or a backslash", truncate(p, 100))
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", fmt.Errorf("%q leaves the model directory", truncate(p, 100))
		}
	}
	c := path.Clean(p) // model_signing's PurePosixPath also drops "./" and "//"
	if c == "." && p != "." {
		return "", fmt.Errorf("%q names the model root", truncate(p, 100))
	}
	return c, nil
}

// checkSingleFile: "." (the model is one file) cannot mix with other paths.
func checkSingleFile(rs []Resource) error {
	dot, other := false, false
	for _, r := range rs {
		if r.Path == "." {
			dot = true
		} else {
			other = true
		}
	}
	if dot && other {
		return fmt.Errorf(`"." (a single-file model) appears beside other paths`)
	}
	return nil
}

// digestSize is the digest length of the algorithms model_signing writes
// (0 when unknown: not checked).
func digestSize(alg string) int {
	base, _, _ := strings.Cut(alg, "-sharded-")
	switch base {
	case "sha256", "blake3":
		return 32
	case "blake2b":
		return 64
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
