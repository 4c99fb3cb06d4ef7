package oms

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// VerifyOptions follow model_signing's verify flags.
type VerifyOptions struct {
	// SignaturePath is the signature file; when it lies inside the model it
	// is not part of the model.
	SignaturePath string
	// IgnorePaths are left out of the comparison (relative to the model
	// root, or absolute inside it), besides the predicate's ignore_paths.
	IgnorePaths []string
	// KeepGitPaths hashes .git, .gitattributes, .github and .gitignore at
	// the model root, which are ignored by default.
	KeepGitPaths bool
	// AllowSymlinks follows symlinks to files; otherwise a symlink is an
	// error.
	AllowSymlinks bool
	// IgnoreUnsignedFiles hashes only the files the manifest names, so
	// extra files are not reported.
	IgnoreUnsignedFiles bool
	// Hasher tunes parallelism.
	Hasher Hasher
}

// FileStatus is the comparison outcome for one file.
type FileStatus string

// File statuses.
const (
	FileOK      FileStatus = "ok"
	FileChanged FileStatus = "changed"
	FileMissing FileStatus = "missing" // signed, not on disk
	FileExtra   FileStatus = "extra"   // on disk, not signed
)

// FileResult compares one file with the manifest.
type FileResult struct {
	Path     string     `json:"path"`
	Status   FileStatus `json:"status"`
	Expected string     `json:"expected,omitempty"` // algorithm:hex, or a shard count
	Actual   string     `json:"actual,omitempty"`
	Detail   string     `json:"detail,omitempty"`
}

// Report is the outcome of verifying a model against a signature.
type Report struct {
	Model         string            `json:"model"` // the subject name
	Path          string            `json:"path"`  // what was hashed
	RootDigest    string            `json:"rootDigest,omitempty"`
	RootMatches   bool              `json:"rootMatches"`
	PredicateType string            `json:"predicateType"`
	Format        envelope.Format   `json:"format"`
	Serialization Serialization     `json:"serialization"`
	Signatures    []graph.Signature `json:"signatures"`
	// SignatureVerified: a signature verified against the policy and the
	// manifest is consistent with the signed root digest.
	SignatureVerified bool         `json:"signatureVerified"`
	Files             []FileResult `json:"files"` // sorted by path
	Signed            int          `json:"signed"`
	Matched           int          `json:"matched"`
	Changed           int          `json:"changed"`
	Missing           int          `json:"missing"`
	Extra             int          `json:"extra"`
	// Verified: the signature verified and every file matches.
	Verified bool `json:"verified"`
}

// Problems lists why the model is not verified, for humans.
func (r *Report) Problems() []string {
	var ps []string
	if !r.SignatureVerified {
		for _, s := range r.Signatures {
			ps = append(ps, fmt.Sprintf("signature (%s) %s: %s", orDash(s.Method), s.Status, s.Reason))
		}
		if len(r.Signatures) == 0 {
			ps = append(ps, "the document carries no signature")
		}
	}
	for _, f := range r.Files {
		if f.Status != FileOK {
			ps = append(ps, fmt.Sprintf("%s file %s", f.Status, f.Path))
		}
	}
	return ps
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// VerifyModel checks sig (an OMS signature) against pol, then re-hashes the
// model at dir (a directory, or a file for single-file models) the way the
// signature says it was serialized and compares every file. The report says
// what matched; an error means the check could not run (unreadable or
// malformed signature, unsupported serialization, unreadable model).
func VerifyModel(ctx context.Context, dir string, sig []byte, pol *trust.Policy, opts VerifyOptions) (*Report, error) {
	o, err := envelope.Open(ctx, sig, pol)
	if err != nil {
		return nil, fmt.Errorf("signature %s: %w", orDash(opts.SignaturePath), err)
	}
	m, err := ParseOpened(o)
	if err != nil {
		return nil, fmt.Errorf("signature %s: %w", orDash(opts.SignaturePath), err)
	}
	r := newReport(m, o, dir)
	newH, err := newHash(m.Serialization.HashType)
	if err != nil {
		return nil, err
	}

	ignore := ignoreSet{}
	for _, p := range m.Serialization.IgnorePaths {
		if rel, ok := relIgnore(dir, p); ok {
			ignore = append(ignore, rel)
		}
	}
	for _, p := range opts.IgnorePaths {
		if rel, ok := relIgnore(dir, p); ok {
			ignore = append(ignore, rel)
		}
	}
	if !opts.KeepGitPaths {
		ignore = append(ignore, GitPaths...)
	}
	if opts.SignaturePath != "" {
		if abs, err := filepath.Abs(opts.SignaturePath); err == nil {
			if rel, ok := relIgnore(dir, abs); ok {
				ignore = append(ignore, rel)
			}
		}
	}
	// Spec §6.1.1: the recorded symlink policy applies; the option can
	// only add to it, like model_signing's --allow_symlinks.
	files, err := listFiles(ctx, dir, ignore, opts.AllowSymlinks || m.Serialization.AllowSymlinks)
	if err != nil {
		return nil, err
	}
	singleFileName(files, m)
	if opts.IgnoreUnsignedFiles {
		signed := map[string]bool{}
		for _, res := range m.Resources {
			signed[res.Path] = true
		}
		files = slices.DeleteFunc(files, func(f *localFile) bool { return !signed[f.rel] })
	}
	ts, err := tasks(files, m.Serialization)
	if err != nil {
		return nil, err
	}
	digests, err := opts.Hasher.hashAll(ctx, ts, newH)
	if err != nil {
		return nil, err
	}
	compare(r, m, files, ts, digests)
	r.Verified = r.SignatureVerified && r.Changed+r.Missing+r.Extra == 0
	return r, nil
}

func newReport(m *Manifest, o *envelope.Opened, where string) *Report {
	r := &Report{
		Model:         m.ModelName,
		Path:          where,
		RootDigest:    m.RootKey(),
		RootMatches:   m.RootMatches,
		PredicateType: m.PredicateType,
		Format:        o.Format,
		Serialization: m.Serialization,
		Signatures:    Signatures(m, o.Signatures),
		Signed:        countPaths(m.Resources),
	}
	for _, s := range r.Signatures {
		r.SignatureVerified = r.SignatureVerified || s.Status == graph.StatusVerified
	}
	return r
}

type digestOf struct {
	alg string
	d   []byte
}

// compare builds per-file results: a file matches when every one of its
// resources (one, or its shards) is signed with the same algorithm and
// digest, and none is missing or extra.
func compare(r *Report, m *Manifest, files []*localFile, ts []hashTask, digests [][]byte) {
	localAlg := m.Serialization.ResourceAlgorithm()
	want := map[string]map[string]digestOf{} // path -> resource key -> digest
	for _, res := range m.Resources {
		if want[res.Path] == nil {
			want[res.Path] = map[string]digestOf{}
		}
		want[res.Path][res.key()] = digestOf{res.Algorithm, res.Digest}
	}
	got := map[string]map[string]digestOf{}
	for _, f := range files {
		got[f.rel] = map[string]digestOf{} // an empty sharded file has no shard, but exists
	}
	for i, t := range ts {
		got[t.file.rel][t.key()] = digestOf{localAlg, digests[i]}
	}
	paths := map[string]bool{}
	for p := range want {
		paths[p] = true
	}
	for p, g := range got {
		if len(g) > 0 || want[p] != nil || m.Serialization.Method != MethodShards {
			paths[p] = true
		}
	}
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		w, g := want[p], got[p]
		fr := FileResult{Path: p}
		switch {
		case w == nil:
			fr.Status = FileExtra
			fr.Actual = describe(g)
			r.Extra++
		case g == nil:
			fr.Status = FileMissing
			fr.Expected = describe(w)
			r.Missing++
		default:
			var diffs []string
			for k, wd := range w {
				gd, ok := g[k]
				if !ok || !bytes.Equal(gd.d, wd.d) { // algorithms: checked against hash_type by ParseStatement
					diffs = append(diffs, shardPart(k, p))
				}
			}
			for k := range g {
				if _, ok := w[k]; !ok {
					diffs = append(diffs, shardPart(k, p))
				}
			}
			fr.Expected, fr.Actual = describe(w), describe(g)
			if len(diffs) == 0 {
				fr.Status = FileOK
				r.Matched++
			} else {
				fr.Status = FileChanged
				r.Changed++
				if m.Serialization.Method == MethodShards {
					slices.Sort(diffs)
					fr.Detail = fmt.Sprintf("%d shard(s) differ: %s", len(diffs), strings.Join(firstN(diffs, 5), ", "))
				}
			}
		}
		r.Files = append(r.Files, fr)
	}
}

// describe renders a file's digest ("sha256:<hex>") or its shard count.
func describe(ds map[string]digestOf) string {
	if len(ds) == 1 {
		for _, d := range ds {
			return d.alg + ":" + hex.EncodeToString(d.d)
		}
	}
	return fmt.Sprintf("%d shards", len(ds))
}

func shardPart(key, path string) string {
	if s := strings.TrimPrefix(key, path+":"); s != key {
		return s
	}
	return key
}

func firstN(ss []string, n int) []string {
	if len(ss) > n {
		return append(ss[:n:n], fmt.Sprintf("… %d more", len(ss)-n))
	}
	return ss
}

func countPaths(rs []Resource) int {
	seen := map[string]bool{}
	for _, r := range rs {
		seen[r.Path] = true
	}
	return len(seen)
}

// singleFileName: a single-file model is the resource "." for
// model_signing and its base name for the spec (§6.1.2, item 5); the local
// file takes the name the manifest uses.
func singleFileName(files []*localFile, m *Manifest) {
	if len(files) != 1 || files[0].rel != "." {
		return
	}
	base := filepath.Base(files[0].full)
	for _, r := range m.Resources {
		if r.Path == "." {
			return
		}
	}
	for _, r := range m.Resources {
		if r.Path == base {
			files[0].rel = base
			return
		}
	}
}
