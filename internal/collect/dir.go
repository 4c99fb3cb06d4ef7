package collect

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/modelgraph/modelgraph/ingest"
)

// Directory collector defaults.
const (
	DefaultDebounce = 500 * time.Millisecond
	DefaultMaxDirs  = 10_000 // watched directories (each costs an inotify watch)
	// MaxSeen bounds the in-memory set of collected content digests; when it
	// fills up it is cleared and the store's idempotency takes over.
	MaxSeen = 1 << 20
)

// DefaultExtensions are the file name endings a directory collector reads.
// Evidence folders often sit beside model files; weights and archives are
// left alone rather than reported as malformed documents.
var DefaultExtensions = []string{
	".json", ".jsonl", ".jsonld", ".sig", ".bundle", ".dsse", ".intoto", ".xml", ".spdx", ".md", ".bz2", ".zst",
}

// Dir collects documents from a directory tree: once, or continuously with
// Watch (new files, rewritten files and new subdirectories are picked up).
type Dir struct {
	Root     string
	Watch    bool
	MaxBytes int64         // per file; ingest.DefaultMaxBytes when 0
	Debounce time.Duration // quiet time after the last write before a file is read; DefaultDebounce when 0
	// Extensions lists the name endings read (case-insensitive);
	// DefaultExtensions when nil.
	Extensions []string
	MaxDirs    int    // DefaultMaxDirs when 0
	Subject    string // handed to the pipeline with every document (SBOM folders)
	Role       string
	Log        *slog.Logger

	seen    seenSet
	watcher *fsnotify.Watcher
	watched map[string]struct{}
}

func (d *Dir) String() string { return "dir:" + d.Root }

func (d *Dir) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}

func (d *Dir) maxBytes() int64 {
	if d.MaxBytes > 0 {
		return d.MaxBytes
	}
	return ingest.DefaultMaxBytes
}

// Collect reads every eligible file under Root in lexical order, then, with
// Watch, follows changes until ctx ends.
func (d *Dir) Collect(ctx context.Context, emit func(Doc) error) error {
	st, err := os.Stat(d.Root)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", ErrInvalidSpec, d.Root)
	}
	if d.Watch {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			return fmt.Errorf("watch: %w", err)
		}
		defer w.Close()
		d.watcher = w
	}
	// Watches go in before the scan, so a file created during the scan is
	// either seen by it or reported as an event (both is harmless: the
	// content digest is remembered).
	if err := d.scan(ctx, d.Root, emit); err != nil {
		return err
	}
	if !d.Watch {
		return nil
	}
	return d.watch(ctx, emit)
}

// scan walks dir, adding watches for its directories when watching, and
// collects its files.
func (d *Dir) scan(ctx context.Context, dir string, emit func(Doc) error) error {
	var files []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			// A subdirectory vanished or is unreadable: say so, go on.
			return emit(Doc{Source: p, Err: err})
		}
		if e.IsDir() {
			if p != d.Root && ignoredName(e.Name()) {
				return filepath.SkipDir
			}
			return d.addWatch(p, emit)
		}
		if e.Type().IsRegular() && d.eligible(e.Name()) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range files { // WalkDir's order is lexical
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := d.collectFile(f, emit); err != nil {
			return err
		}
	}
	return nil
}

func (d *Dir) addWatch(p string, emit func(Doc) error) error {
	if d.watcher == nil {
		return nil
	}
	max := d.MaxDirs
	if max <= 0 {
		max = DefaultMaxDirs
	}
	if _, ok := d.watched[p]; ok {
		return nil
	}
	if len(d.watched) >= max {
		return emit(Doc{Source: p, Err: fmt.Errorf("%w: more than %d directories to watch; %s is not watched", ErrLimit, max, p)})
	}
	if err := d.watcher.Add(p); err != nil {
		return emit(Doc{Source: p, Err: fmt.Errorf("watch: %w", err)})
	}
	if d.watched == nil {
		d.watched = map[string]struct{}{}
	}
	d.watched[p] = struct{}{}
	return nil
}

// ignoredName reports hidden files and directories and the temporary files
// editors and downloaders leave while writing.
func ignoredName(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "#") || strings.HasSuffix(name, "~") {
		return true
	}
	lower := strings.ToLower(name)
	for _, s := range []string{".tmp", ".temp", ".swp", ".swx", ".part", ".partial", ".crdownload", ".download"} {
		if strings.HasSuffix(lower, s) {
			return true
		}
	}
	return false
}

func (d *Dir) eligible(name string) bool {
	if ignoredName(name) {
		return false
	}
	exts := d.Extensions
	if exts == nil {
		exts = DefaultExtensions
	}
	lower := strings.ToLower(name)
	return slices.ContainsFunc(exts, func(e string) bool { return strings.HasSuffix(lower, strings.ToLower(e)) })
}

// collectFile reads one file and hands it over, unless its content was
// already collected. Symbolic links are not followed, so a watched folder
// cannot be used to read files outside it.
func (d *Dir) collectFile(p string, emit func(Doc) error) error {
	doc := Doc{Source: p, Subject: d.Subject, Role: d.Role}
	data, err := d.read(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // gone before we got to it (a temp file renamed away)
	}
	if err != nil {
		doc.Err = err
		return emit(doc)
	}
	if !d.seen.add(sha256.Sum256(data)) {
		doc.Seen = true
		return emit(doc)
	}
	doc.Data = data
	return emit(doc)
}

func (d *Dir) read(p string) ([]byte, error) {
	lst, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !lst.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (symbolic links are not followed)", p)
	}
	max := d.maxBytes()
	if lst.Size() > max {
		return nil, fmt.Errorf("%w: %s: %d bytes, limit %d", ErrTooLarge, p, lst.Size(), max)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !os.SameFile(lst, st) {
		return nil, fmt.Errorf("%s: replaced while being opened", p)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrTooLarge, p, max)
	}
	return data, nil
}

// watch follows file system events until ctx ends. A file is read once no
// write has touched it for Debounce, so a document being written is not
// read half-way.
func (d *Dir) watch(ctx context.Context, emit func(Doc) error) error {
	debounce := d.Debounce
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	tick := time.NewTicker(max(debounce/4, 10*time.Millisecond))
	defer tick.Stop()
	pending := map[string]time.Time{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-d.watcher.Events:
			if !ok {
				return errors.New("watch: event stream closed")
			}
			if err := d.event(ctx, ev, pending, emit); err != nil {
				return err
			}
		case err, ok := <-d.watcher.Errors:
			if !ok {
				return errors.New("watch: event stream closed")
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost: rescan; content already seen is skipped.
				d.log().Warn("watch: events lost, rescanning", "dir", d.Root)
				if err := d.scan(ctx, d.Root, emit); err != nil {
					return err
				}
				continue
			}
			d.log().Error("watch", "dir", d.Root, "err", err)
		case now := <-tick.C:
			var due []string
			for p, t := range pending {
				if now.Sub(t) >= debounce {
					due = append(due, p)
				}
			}
			slices.Sort(due)
			for _, p := range due {
				delete(pending, p)
				if err := d.collectFile(p, emit); err != nil {
					return err
				}
			}
		}
	}
}

func (d *Dir) event(ctx context.Context, ev fsnotify.Event, pending map[string]time.Time, emit func(Doc) error) error {
	name := filepath.Base(ev.Name)
	switch {
	case ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename):
		delete(pending, ev.Name)
		delete(d.watched, ev.Name) // the kernel drops a removed directory's watch
	case ev.Has(fsnotify.Create):
		st, err := os.Lstat(ev.Name)
		if err != nil {
			return nil // already gone
		}
		if st.IsDir() {
			if ignoredName(name) || !d.inTree(ev.Name) {
				return nil
			}
			// Files may have landed before the watch did: scan it.
			return d.scan(ctx, ev.Name, emit)
		}
		if st.Mode().IsRegular() && d.eligible(name) {
			pending[ev.Name] = time.Now()
		}
	case ev.Has(fsnotify.Write):
		if d.eligible(name) {
			pending[ev.Name] = time.Now()
		}
	}
	return nil
}

// inTree reports whether p is under a non-hidden path of Root.
func (d *Dir) inTree(p string) bool {
	rel, err := filepath.Rel(d.Root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return false
	}
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if ignoredName(part) {
			return false
		}
	}
	return true
}

// seenSet remembers content digests collected in this run.
type seenSet struct {
	m map[[32]byte]struct{}
}

// add reports whether sum is new, and remembers it.
func (s *seenSet) add(sum [32]byte) bool {
	if s.m == nil || len(s.m) >= MaxSeen {
		s.m = make(map[[32]byte]struct{})
	}
	if _, ok := s.m[sum]; ok {
		return false
	}
	s.m[sum] = struct{}{}
	return true
}
