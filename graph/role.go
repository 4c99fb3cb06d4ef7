package graph

import (
	"path"
	"regexp"
	"strings"
	"sync"
)

// Role says what kind of evidence a document is, and so what it may vouch
// for. Trust is granted per role: a key trusted to sign deployment records
// is not thereby trusted to say which weights are genuine. The trust policy
// (ingest/trust) grants roles to signers; the question layer
// (internal/query) asks VouchesFor before letting a verified document make
// a node verified.
type Role string

// Roles. The set is closed: a policy naming another role is rejected.
const (
	// RoleModelSignature: a signature over an artifact's bytes (an OMS
	// model signature, a sigstore message signature over a file).
	RoleModelSignature Role = "model-signature"
	// RoleProvenance: build or training provenance (SLSA, AIXV training)
	// naming the artifact it produced as its subject.
	RoleProvenance Role = "provenance"
	// RoleDataset: a dataset attestation naming the dataset.
	RoleDataset Role = "dataset"
	// RoleDeployment: a deployment record (what runs where, from when).
	RoleDeployment Role = "deployment"
	// RoleAdvisory: an advisory about artifacts (AIXV advisory, API).
	RoleAdvisory Role = "advisory"
	// RoleVEX: a VEX statement (exploitability of a vulnerability).
	RoleVEX Role = "vex"
	// RoleSBOM: a software bill of materials.
	RoleSBOM Role = "sbom"
	// RoleScorecard: an OpenSSF Scorecard result about a source
	// repository; it vouches for nothing (a score is not an identity), and
	// posture may require it to be verified (docs/posture.md).
	RoleScorecard Role = "scorecard"
	// RoleOther: anything else (cards, unknown predicates); vouches for
	// nothing.
	RoleOther Role = "other"
)

// Roles lists every role, in a stable order.
var Roles = []Role{RoleModelSignature, RoleProvenance, RoleDataset, RoleDeployment, RoleAdvisory, RoleVEX, RoleSBOM, RoleScorecard, RoleOther}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, k := range Roles {
		if r == k {
			return true
		}
	}
	return false
}

// roleByType maps the document types ingest records (Document.Type) to
// their role, for documents stored without Document.Role.
var roleByType = map[string]Role{
	"oms":                        RoleModelSignature,
	"sigstore-message-signature": RoleModelSignature,
	"slsa-provenance":            RoleProvenance,
	"aixv-training":              RoleProvenance,
	"dataset-attestation":        RoleDataset,
	"deployment-record":          RoleDeployment,
	"aixv-deployment":            RoleDeployment,
	"aixv-advisory":              RoleAdvisory,
	"advisory":                   RoleAdvisory,
	"openvex":                    RoleVEX,
	"csaf":                       RoleVEX,
	"cyclonedx-vex":              RoleVEX,
	"cyclonedx":                  RoleSBOM,
	"spdx":                       RoleSBOM,
	"scorecard":                  RoleScorecard,
}

// RoleOfType is the role of a document type ("other" when unknown).
func RoleOfType(docType string) Role {
	if r, ok := roleByType[docType]; ok {
		return r
	}
	return RoleOther
}

// RoleOf is the role of d: the one ingest recorded, else the one its type
// implies.
func RoleOf(d Document) Role {
	if d.Role.Valid() {
		return d.Role
	}
	return RoleOfType(d.Type)
}

// VouchesFor reports whether a verified document of role r may make a node
// of kind k verified ("trust by role"). Advisories, deployment records,
// SBOMs and VEX never vouch for a model or dataset: they talk ABOUT an
// artifact, they do not attest that the artifact is genuine.
func VouchesFor(r Role, k NodeKind) bool {
	switch k {
	case KindModel, KindFile:
		return r == RoleModelSignature || r == RoleProvenance
	case KindDataset:
		return r == RoleDataset || r == RoleProvenance || r == RoleModelSignature
	case KindDeployment:
		return r == RoleDeployment
	case KindAdvisory, KindVulnerability:
		return r == RoleAdvisory || r == RoleVEX
	case KindPackage, KindSource:
		return r == RoleProvenance || r == RoleModelSignature || r == RoleSBOM
	case KindTrainingRun:
		return r == RoleProvenance
	}
	return false
}

// ScopeMatches reports whether a key lies inside one of the namespace
// patterns a signer is restricted to (Signature.Scope). A pattern is
//
//   - "regexp:<RE2>", matched against the whole key and against its name;
//   - a glob as in path.Match ('*' does not cross '/'), matched against the
//     whole key ("hf://acme/*", "pkg:huggingface/acme/*") and against the
//     key's name part: the value of a "name:" key, the path of a hub URI
//     ("hf://acme/x" -> "acme/x"), so a policy written for subject names
//     ("acme/*") keeps its meaning.
//
// An empty pattern list is no restriction. Digest keys never match: a
// namespace is about names, and a digest names no organisation.
func ScopeMatches(patterns []string, key string) bool {
	if len(patterns) == 0 {
		return true
	}
	if IsDigestKey(key) {
		return false
	}
	cands := []string{key}
	if n := KeyName(key); n != "" && n != key {
		cands = append(cands, n)
	}
	for _, p := range patterns {
		for _, c := range cands {
			if matchPattern(p, c) {
				return true
			}
		}
	}
	return false
}

// KeyName is the human name part of a name-like key: "name:acme/x" ->
// "acme/x", "hf://acme/x" -> "acme/x", "pkg:huggingface/acme/x@v" ->
// "acme/x"; "" for digests, identities and keys without a name part.
func KeyName(key string) string {
	switch {
	case strings.HasPrefix(key, SchemeName):
		return key[len(SchemeName):]
	case strings.HasPrefix(key, SchemeHF):
		return strings.TrimSuffix(key[len(SchemeHF):], "/")
	case strings.HasPrefix(key, SchemePurl):
		rest := key[len(SchemePurl):]
		if i := strings.IndexAny(rest, "@?#"); i >= 0 {
			rest = rest[:i]
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			return rest[i+1:]
		}
		return rest
	}
	return ""
}

// IsNameKey reports whether k names an artifact by a human or hub name
// (name:, hf://, pkg:, other URIs), as opposed to a digest, a signer or an
// internal key.
func IsNameKey(k string) bool {
	if IsDigestKey(k) {
		return false
	}
	for _, p := range []string{SchemeIdentity, SchemeKey, SchemeDeployment, SchemeAdvisory, SchemeVuln} {
		if strings.HasPrefix(k, p) {
			return false
		}
	}
	return true
}

var (
	reMu    sync.Mutex
	reCache = map[string]*regexp.Regexp{}
)

func matchPattern(p, s string) bool {
	if re, ok := strings.CutPrefix(p, "regexp:"); ok {
		reMu.Lock()
		c, ok := reCache[re]
		if !ok {
			var err error
			if c, err = regexp.Compile("^(?:" + re + ")$"); err != nil {
				c = nil
			}
			if len(reCache) < 4096 {
				reCache[re] = c
			}
		}
		reMu.Unlock()
		return c != nil && c.MatchString(s)
	}
	ok, err := path.Match(p, s)
	return err == nil && ok
}
