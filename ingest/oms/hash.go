package oms

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/blake2b"
	"lukechampine.com/blake3"
)

// ErrUnsupported is returned for manifests whose hashing this package does
// not implement.
var ErrUnsupported = errors.New("unsupported OMS serialization")

// ErrModelPath is returned when the model directory cannot be hashed as
// model_signing would (symlinks not allowed, special files, unreadable).
var ErrModelPath = errors.New("model path")

// MaxFiles bounds the files hashed in one model.
const MaxFiles = 1_000_000

// DefaultChunkSize is the read size per hashing call.
const DefaultChunkSize = 1 << 20

// GitPaths are ignored at the model root unless asked otherwise, as
// model_signing does.
var GitPaths = []string{".git", ".gitattributes", ".github", ".gitignore"}

// newHash returns the hash for a model_signing hash type.
func newHash(hashType string) (func() hash.Hash, error) {
	switch hashType {
	case "sha256":
		return sha256.New, nil
	case "blake2b":
		return func() hash.Hash {
			h, _ := blake2b.New512(nil) // no key: cannot fail
			return h
		}, nil
	case "blake3":
		return func() hash.Hash { return blake3.New(32, nil) }, nil
	}
	return nil, fmt.Errorf("%w: hash_type %q (supported: sha256, blake2b, blake3)", ErrUnsupported, hashType)
}

// localFile is a file found under the model root.
type localFile struct {
	rel  string // slash-separated, relative to the root; "." for a single-file model
	full string
	size int64
}

// hashTask is one digest to compute: a whole file, or one shard of it.
type hashTask struct {
	file       *localFile
	sharded    bool
	start, end int64
}

func (t hashTask) key() string {
	if t.sharded {
		return fmt.Sprintf("%s:%d:%d", t.file.rel, t.start, t.end)
	}
	return t.file.rel
}

// ignoreSet holds slash-separated relative paths; a path is ignored when it
// is one of them or lies under one (model_signing's is_relative_to).
type ignoreSet []string

func (s ignoreSet) has(rel string) bool {
	for _, ig := range s {
		if rel == ig || strings.HasPrefix(rel, ig+"/") {
			return true
		}
	}
	return false
}

// relIgnore turns an ignore path (relative to the root, or absolute) into
// a clean relative path; ok is false when it is outside the root.
func relIgnore(root, p string) (string, bool) {
	if p == "" {
		return "", false
	}
	if filepath.IsAbs(p) {
		absRoot, err := filepath.Abs(root)
		if err != nil {
			return "", false
		}
		r, err := filepath.Rel(absRoot, p)
		if err != nil {
			return "", false
		}
		p = r
	}
	c := path.Clean(filepath.ToSlash(p))
	if c == "." || c == ".." || strings.HasPrefix(c, "../") || strings.HasPrefix(c, "/") {
		return "", false
	}
	return c, true
}

// listFiles walks the model like model_signing: regular files are hashed;
// symlinks are refused unless allowed, and then followed to files but not
// into directories; anything else (sockets, devices) is an error. Ignored
// paths are skipped without being inspected.
func listFiles(ctx context.Context, root string, ignore ignoreSet, allowSymlinks bool) ([]*localFile, error) {
	fi, err := os.Lstat(root)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModelPath, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if !allowSymlinks {
			return nil, fmt.Errorf("%w: %s is a symlink (allow symlinks to follow it)", ErrModelPath, root)
		}
		if fi, err = os.Stat(root); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrModelPath, err)
		}
	}
	if fi.Mode().IsRegular() {
		return []*localFile{{rel: ".", full: root, size: fi.Size()}}, nil
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is neither a file nor a directory", ErrModelPath, root)
	}
	var files []*localFile
	err = filepath.WalkDir(root, func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%w: %w", ErrModelPath, err)
		}
		if full == root {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, full)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrModelPath, err)
		}
		rel = filepath.ToSlash(rel)
		if ignore.has(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !utf8.ValidString(rel) {
			return fmt.Errorf("%w: %q is not valid UTF-8 (OMS spec §6.1.2)", ErrModelPath, rel)
		}
		mode := d.Type()
		switch {
		case mode.IsDir():
			return nil
		case mode&fs.ModeSymlink != 0:
			if !allowSymlinks {
				return fmt.Errorf("%w: %s is a symlink (allow symlinks to follow it)", ErrModelPath, rel)
			}
			target, err := os.Stat(full)
			if err != nil {
				return fmt.Errorf("%w: symlink %s: %w", ErrModelPath, rel, err)
			}
			if target.IsDir() {
				return nil // listed, not descended, as model_signing's glob does
			}
			if !target.Mode().IsRegular() {
				return fmt.Errorf("%w: %s points to neither a file nor a directory", ErrModelPath, rel)
			}
			files = append(files, &localFile{rel: rel, full: full, size: target.Size()})
		case mode.IsRegular():
			info, err := d.Info()
			if err != nil {
				return fmt.Errorf("%w: %w", ErrModelPath, err)
			}
			files = append(files, &localFile{rel: rel, full: full, size: info.Size()})
		default:
			return fmt.Errorf("%w: %s is neither a file nor a directory", ErrModelPath, rel)
		}
		if len(files) > MaxFiles {
			return fmt.Errorf("%w: more than %d files", ErrModelPath, MaxFiles)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return files, nil
}

// tasks splits files into digests to compute. model_signing gives an empty
// file no shard at all.
func tasks(files []*localFile, ser Serialization) ([]hashTask, error) {
	var ts []hashTask
	for _, f := range files {
		if ser.Method != MethodShards {
			ts = append(ts, hashTask{file: f})
			continue
		}
		for start := int64(0); start < f.size; start += ser.ShardSize {
			ts = append(ts, hashTask{file: f, sharded: true, start: start, end: min(start+ser.ShardSize, f.size)})
			if len(ts) > MaxResources+MaxFiles {
				return nil, fmt.Errorf("%w: more than %d shards to hash", ErrModelPath, MaxResources+MaxFiles)
			}
		}
	}
	return ts, nil
}

// Hasher computes digests of files and shards in parallel.
type Hasher struct {
	Workers   int // parallel reads; GOMAXPROCS when 0
	ChunkSize int // bytes per read; DefaultChunkSize when 0
}

// hashAll computes every task's digest, running at most h.Workers at once;
// the first error cancels the rest.
func (h Hasher) hashAll(ctx context.Context, ts []hashTask, newH func() hash.Hash) ([][]byte, error) {
	workers := h.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	chunk := h.ChunkSize
	if chunk <= 0 {
		chunk = DefaultChunkSize
	}
	// Largest first, so one big file does not start last and finish alone.
	order := make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(ts[b].bytes(), ts[a].bytes()) })
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([][]byte, len(ts))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(len(ts), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, chunk)
			for i := range next {
				d, err := hashOne(ctx, ts[i], newH(), buf)
				if err != nil {
					cancel(err)
					continue
				}
				out[i] = d
			}
		}()
	}
feed:
	for _, i := range order {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// bytes is how much the task reads.
func (t hashTask) bytes() int64 {
	if t.sharded {
		return t.end - t.start
	}
	return t.file.size
}

func hashOne(ctx context.Context, t hashTask, h hash.Hash, buf []byte) ([]byte, error) {
	f, err := os.Open(t.file.full)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModelPath, err)
	}
	defer f.Close()
	var r io.Reader = f
	want := int64(-1)
	if t.sharded {
		r = io.NewSectionReader(f, t.start, t.end-t.start)
		want = t.end - t.start
	}
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m, err := r.Read(buf)
		h.Write(buf[:m])
		n += int64(m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: read %s: %w", ErrModelPath, t.file.rel, err)
		}
	}
	if want >= 0 && n != want {
		return nil, fmt.Errorf("%w: %s changed while hashing (read %d bytes of shard %d:%d)", ErrModelPath, t.file.rel, n, t.start, t.end)
	}
	return h.Sum(nil), nil
}
