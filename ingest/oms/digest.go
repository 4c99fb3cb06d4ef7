package oms

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// DefaultShardSize is the shard size model_signing and the spec (§6.3.2)
// default to.
const DefaultShardSize = 1_000_000_000

// DigestOptions say how to serialize a model, as a signer would: the same
// choices `verify model` reads from a signature.
type DigestOptions struct {
	Method    string // files (default) or shards
	HashType  string // sha256 (default), blake2b, blake3
	ShardSize int64  // shards: DefaultShardSize when 0
	// IgnorePaths are left out (relative to the model root, or absolute
	// inside it); SignaturePath too when it lies inside the model.
	IgnorePaths   []string
	SignaturePath string
	// KeepGitPaths hashes .git, .gitattributes, .github and .gitignore at
	// the model root, which are left out by default.
	KeepGitPaths  bool
	AllowSymlinks bool
	Hasher        Hasher
}

// DigestResource is one resource descriptor as a signer writes it.
type DigestResource struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	Digest    string `json:"digest"`
}

// DigestResult is a model's OMS manifest: the resources a signer would
// list, in model_signing's order, and the root digest (the subject digest
// of a signature over them).
type DigestResult struct {
	Model         string           `json:"model"` // the subject name a signer would write (base name)
	Path          string           `json:"path"`
	RootDigest    string           `json:"rootDigest"` // sha256:<hex>
	Serialization Serialization    `json:"serialization"`
	Resources     []DigestResource `json:"resources"`
}

// Digest computes the OMS root digest of the model at dir (a directory, or
// a file): sha256 over the resource digests in order (spec §6.5.1), the
// resources hashed and ordered as model_signing's signer does (by path
// components, then shard offset). An empty model is an error (§6.1).
func Digest(ctx context.Context, dir string, opts DigestOptions) (*DigestResult, error) {
	ser := Serialization{Method: cmp.Or(opts.Method, MethodFiles), HashType: cmp.Or(opts.HashType, "sha256"), AllowSymlinks: opts.AllowSymlinks}
	switch ser.Method {
	case MethodFiles:
	case MethodShards:
		ser.ShardSize = cmp.Or(opts.ShardSize, DefaultShardSize)
		if ser.ShardSize <= 0 || ser.ShardSize > MaxShardSize {
			return nil, fmt.Errorf("%w: shard size %d is out of range (1..%d)", ErrUnsupported, ser.ShardSize, int64(MaxShardSize))
		}
		if ser.HashType == "blake3" {
			// model_signing: "For BLAKE3 this is equivalent to not sharding."
			ser.Method, ser.ShardSize = MethodFiles, 0
		}
	default:
		return nil, fmt.Errorf("%w: method %q (files or shards)", ErrUnsupported, ser.Method)
	}
	newH, err := newHash(ser.HashType)
	if err != nil {
		return nil, err
	}
	ignore := ignoreSet{}
	for _, p := range opts.IgnorePaths {
		if rel, ok := relIgnore(dir, p); ok {
			ignore = append(ignore, rel)
			ser.IgnorePaths = append(ser.IgnorePaths, rel)
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
	files, err := listFiles(ctx, dir, ignore, opts.AllowSymlinks)
	if err != nil {
		return nil, err
	}
	ts, err := tasks(files, ser)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("%w: %s: the model has no file to sign (an empty model must be rejected, OMS spec §6.1)", ErrModelPath, dir)
	}
	digests, err := opts.Hasher.hashAll(ctx, ts, newH)
	if err != nil {
		return nil, err
	}
	order := make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return compareTasks(ts[a], ts[b]) })
	name := filepath.Base(filepath.Clean(dir))
	if abs, err := filepath.Abs(dir); err == nil {
		name = filepath.Base(abs)
	}
	res := &DigestResult{Model: name, Path: dir, Serialization: ser}
	root := sha256.New()
	alg := ser.ResourceAlgorithm()
	for _, i := range order {
		root.Write(digests[i])
		res.Resources = append(res.Resources, DigestResource{Name: ts[i].key(), Algorithm: alg, Digest: hex.EncodeToString(digests[i])})
	}
	res.RootDigest = "sha256:" + hex.EncodeToString(root.Sum(nil))
	return res, nil
}

// compareTasks orders resources as model_signing does: by path components
// (Python PurePosixPath order, so "a/b" < "a.b"), then by shard offset.
func compareTasks(a, b hashTask) int {
	if c := slices.Compare(strings.Split(a.file.rel, "/"), strings.Split(b.file.rel, "/")); c != 0 {
		return c
	}
	return cmp.Compare(a.start, b.start)
}
