package collect_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/trust"
	"github.com/modelgraph/modelgraph/internal/collect"
)

func TestDirOneShot(t *testing.T) {
	key := envelopetest.NewKeySigner(t)
	pol := &trust.Policy{Rules: []trust.Rule{{Name: "ci", Keys: []trust.PublicKey{key.PublicKey(t)}}}}
	p, store := newPipeline(t, pol)
	root := t.TempDir()

	signed := key.DSSE(t, envelopetest.InTotoPayloadType, datasetStatement(t, 1))
	plain := datasetStatement(t, 2)
	write(t, filepath.Join(root, "a", "signed.intoto.json"), signed)
	write(t, filepath.Join(root, "a", "b", "plain.json"), plain)
	write(t, filepath.Join(root, "a", "b", "copy-of-plain.json"), plain)    // same content: skipped
	write(t, filepath.Join(root, "a", "bad.json"), []byte(`{"_type": 1, `)) // malformed: reported
	write(t, filepath.Join(root, ".git", "config.json"), datasetStatement(t, 3))
	write(t, filepath.Join(root, ".hidden.json"), datasetStatement(t, 4))
	write(t, filepath.Join(root, "partial.json.part"), datasetStatement(t, 5))
	write(t, filepath.Join(root, "model.safetensors"), []byte("weights"))
	write(t, filepath.Join(root, "z.json"), datasetStatement(t, 6)) // after the bad one: still ingested
	outside := filepath.Join(t.TempDir(), "outside.json")
	write(t, outside, datasetStatement(t, 7))
	if err := os.Symlink(outside, filepath.Join(root, "link.json")); err != nil {
		t.Fatal(err)
	}

	rec := newRecorder()
	r := &collect.Runner{Pipeline: p, OnOutcome: rec.add, Log: quiet}
	if err := r.Run(context.Background(), &collect.Dir{Root: root}); err != nil {
		t.Fatal(err)
	}

	got := map[string]collect.Outcome{}
	var order []string
	for _, o := range rec.all() {
		rel, _ := filepath.Rel(root, o.Source)
		got[rel] = o
		order = append(order, rel)
	}
	want := []string{"a/b/copy-of-plain.json", "a/b/plain.json", "a/bad.json", "a/signed.intoto.json", "z.json"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Fatalf("sources in order:\n got %v\nwant %v", order, want)
	}
	if o := got["a/b/plain.json"]; !o.Seen {
		t.Errorf("plain.json: the second file with this content should be the one skipped; got %+v", o)
	}
	if o := got["a/b/copy-of-plain.json"]; o.Err != nil || len(o.Results) != 1 || o.Results[0].Receipt.Duplicate {
		t.Errorf("copy-of-plain.json: %+v", o)
	}
	if o := got["a/bad.json"]; o.Err == nil || !ingest.IsBadInput(o.Err) || !strings.Contains(o.Err.Error(), "bad.json") {
		t.Errorf("bad.json: want a bad-input error naming the file, got %v", o.Err)
	}
	if o := got["a/signed.intoto.json"]; o.Err != nil || o.Results[0].Receipt.Status != graph.StatusVerified {
		t.Errorf("signed: %+v", o)
	}
	st := r.Stats()
	if st != (collect.Stats{Documents: 4, Ingested: 3, Failed: 1, Unchanged: 1}) {
		t.Errorf("stats %+v", st)
	}
	docs := storedDocs(t, store, docDigest(t, p, signed), graph.SHA256Key(plain), graph.SHA256Key(datasetStatement(t, 6)))
	if len(docs) != 3 || docCount(t, store) != 3 {
		t.Fatalf("store holds %d documents (%d of the expected)", docCount(t, store), len(docs))
	}
	if docs[1].Source != filepath.Join(root, "a", "b", "copy-of-plain.json") {
		t.Errorf("source recorded %q", docs[1].Source)
	}

	// A second run over the same tree finds everything already stored.
	r2 := &collect.Runner{Pipeline: p, Log: quiet}
	if err := r2.Run(context.Background(), &collect.Dir{Root: root}); err != nil {
		t.Fatal(err)
	}
	if st := r2.Stats(); st.Duplicates != 3 || st.Ingested != 0 {
		t.Errorf("second run: %+v", st)
	}
}

func TestDirSizeLimit(t *testing.T) {
	p, store := newPipeline(t, nil)
	root := t.TempDir()
	doc := datasetStatement(t, 1)
	write(t, filepath.Join(root, "big.json"), doc)
	rec := newRecorder()
	r := &collect.Runner{Pipeline: p, OnOutcome: rec.add, Log: quiet}
	if err := r.Run(context.Background(), &collect.Dir{Root: root, MaxBytes: int64(len(doc) - 1)}); err != nil {
		t.Fatal(err)
	}
	out := rec.all()
	if len(out) != 1 || !errors.Is(out[0].Err, collect.ErrTooLarge) || !errors.Is(out[0].Err, ingest.ErrTooLarge) || !strings.Contains(out[0].Err.Error(), "big.json") {
		t.Fatalf("want a too-large error naming the file, got %+v", out)
	}
	if docCount(t, store) != 0 {
		t.Fatal("an oversized file was ingested")
	}
	// At the limit it is read.
	r = &collect.Runner{Pipeline: p, Log: quiet}
	if err := r.Run(context.Background(), &collect.Dir{Root: root, MaxBytes: int64(len(doc))}); err != nil {
		t.Fatal(err)
	}
	if r.Stats().Ingested != 1 {
		t.Fatalf("stats %+v", r.Stats())
	}
}

func TestDirWatchLimit(t *testing.T) {
	p, _ := newPipeline(t, nil)
	root := t.TempDir()
	for _, d := range []string{"a", "b", "c"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rec := newRecorder()
	r := &collect.Runner{Pipeline: p, OnOutcome: rec.add, Log: quiet}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, &collect.Dir{Root: root, Watch: true, MaxDirs: 2}) }()
	var limited []string
	for range 2 {
		select {
		case o := <-rec.ch:
			if !errors.Is(o.Err, collect.ErrLimit) {
				t.Fatalf("%+v", o)
			}
			limited = append(limited, filepath.Base(o.Source))
		case <-time.After(5 * time.Second):
			t.Fatal("directory limit not reported")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// root and a are watched; b and c are reported.
	if strings.Join(limited, ",") != "b,c" {
		t.Fatalf("reported %v", limited)
	}
}

func TestDirMissing(t *testing.T) {
	p, _ := newPipeline(t, nil)
	r := &collect.Runner{Pipeline: p, Log: quiet}
	err := r.Run(context.Background(), &collect.Dir{Root: filepath.Join(t.TempDir(), "nope")})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("want not-exist, got %v", err)
	}
	f := filepath.Join(t.TempDir(), "file.json")
	write(t, f, []byte("{}"))
	if err := r.Run(context.Background(), &collect.Dir{Root: f}); !errors.Is(err, collect.ErrInvalidSpec) {
		t.Fatalf("a file as root: %v", err)
	}
}

// TestDirWatch drives a watching collector: files written after the start,
// a file in a new subdirectory, a rewrite, a duplicate and a malformed file.
func TestDirWatch(t *testing.T) {
	p, store := newPipeline(t, nil)
	root := t.TempDir()
	first := datasetStatement(t, 1)
	write(t, filepath.Join(root, "first.json"), first)

	rec := newRecorder()
	r := &collect.Runner{Pipeline: p, OnOutcome: rec.add, Log: quiet}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- r.Run(ctx, &collect.Dir{Root: root, Watch: true, Debounce: 50 * time.Millisecond})
	}()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("watch ended with %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("watch did not stop when its context ended")
		}
	}()

	const bound = 5 * time.Second
	// next returns the outcome for source. Events may report a file the
	// collector already read (a new directory is scanned, and its files'
	// own events follow): those come back as "seen" and are passed over.
	next := func(source string) collect.Outcome {
		t.Helper()
		deadline := time.After(bound)
		for {
			select {
			case o := <-rec.ch:
				if o.Source == source {
					return o
				}
				if !o.Seen {
					t.Fatalf("waiting for %s, got %+v", source, o)
				}
			case <-deadline:
				t.Fatalf("%s: no outcome within %s", source, bound)
			}
		}
	}
	if o := next(filepath.Join(root, "first.json")); o.Err != nil {
		t.Fatalf("initial scan: %+v", o)
	}

	// A new file, written atomically (temp file + rename) as tools do.
	second := datasetStatement(t, 2)
	tmp := filepath.Join(root, ".second.json.tmp")
	write(t, tmp, second)
	if err := os.Rename(tmp, filepath.Join(root, "second.json")); err != nil {
		t.Fatal(err)
	}
	if o := next(filepath.Join(root, "second.json")); o.Err != nil || o.Results[0].Receipt.Duplicate {
		t.Fatalf("new file: %+v", o)
	}

	// A new subdirectory holding a file.
	sub := filepath.Join(root, "team-b", "2024")
	third := datasetStatement(t, 3)
	write(t, filepath.Join(sub, "third.json"), third)
	if o := next(filepath.Join(sub, "third.json")); o.Err != nil || o.Seen {
		t.Fatalf("new subdirectory: %+v", o)
	}
	// ... and a later file in that subdirectory, seen through its new watch.
	fourth := datasetStatement(t, 4)
	write(t, filepath.Join(sub, "fourth.json"), fourth)
	if o := next(filepath.Join(sub, "fourth.json")); o.Err != nil || o.Seen {
		t.Fatalf("later file: %+v", o)
	}

	// The same content under another name is not ingested again.
	write(t, filepath.Join(root, "first-again.json"), first)
	if o := next(filepath.Join(root, "first-again.json")); !o.Seen {
		t.Fatalf("duplicate: %+v", o)
	}

	// A malformed file is reported, and the watch goes on.
	write(t, filepath.Join(root, "broken.json"), []byte(`{"_type": "https://in-toto.io/Statement/v1", "subject": []}`))
	if o := next(filepath.Join(root, "broken.json")); o.Err == nil || !ingest.IsBadInput(o.Err) || !strings.Contains(o.Err.Error(), "broken.json") {
		t.Fatalf("malformed: %+v", o)
	}
	fifth := datasetStatement(t, 5)
	write(t, filepath.Join(root, "fifth.json"), fifth)
	if o := next(filepath.Join(root, "fifth.json")); o.Err != nil || o.Seen {
		t.Fatalf("after malformed: %+v", o)
	}
	// Hidden and temporary files are ignored.
	write(t, filepath.Join(root, ".hidden.json"), datasetStatement(t, 6))
	write(t, filepath.Join(root, "download.json.crdownload"), datasetStatement(t, 7))
	sixth := datasetStatement(t, 8)
	write(t, filepath.Join(root, "sixth.json"), sixth)
	if o := next(filepath.Join(root, "sixth.json")); o.Err != nil || o.Seen {
		t.Fatalf("sixth: %+v", o)
	}

	var digests []string
	for _, d := range [][]byte{first, second, third, fourth, fifth, sixth} {
		digests = append(digests, graph.SHA256Key(d))
	}
	if n := len(storedDocs(t, store, digests...)); n != 6 || docCount(t, store) != 6 {
		t.Fatalf("store holds %d documents, %d of the expected 6", docCount(t, store), n)
	}
}

func TestParseSpec(t *testing.T) {
	c, err := collect.Parse("dir:/evidence?watch=false&debounce=2s&maxsize=1024&role=serving-image", collect.Options{Watch: true})
	if err != nil {
		t.Fatal(err)
	}
	d, ok := c.(*collect.Dir)
	if !ok || d.Root != "/evidence" || d.Watch || d.Debounce != 2*time.Second || d.MaxBytes != 1024 || d.Role != "serving-image" {
		t.Fatalf("%#v", c)
	}
	c, err = collect.Parse("oci:localhost:5000/acme/llm:v1?insecure&interval=1m", collect.Options{Watch: true, MaxBytes: 99})
	if err != nil {
		t.Fatal(err)
	}
	o, ok := c.(*collect.OCI)
	if !ok || o.Ref != "localhost:5000/acme/llm:v1" || !o.Insecure || !o.Watch || o.Interval != time.Minute || o.MaxBlobBytes != 99 {
		t.Fatalf("%#v", c)
	}
	for spec, want := range map[string]string{
		"":                             "want dir:PATH or oci:REF",
		"dir:":                         "want dir:PATH or oci:REF",
		"dir:?watch":                   "empty path",
		"s3:bucket":                    `unknown collector "s3"`,
		"dir:/x?watch=maybe":           "watch",
		"dir:/x?interval=1m":           `unknown option "interval"`,
		"oci:r/x?maxreferrers=-1":      "maxreferrers",
		"oci:r/x?timeout=soon":         "timeout",
		"dir:/x?maxsize=1&maxsize=2":   "given 2 times",
		"oci:r/x?insecure=1&bogus=2&a": `unknown option "a"`,
	} {
		_, err := collect.Parse(spec, collect.Options{})
		if !errors.Is(err, collect.ErrInvalidSpec) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want ErrInvalidSpec mentioning %q, got %v", spec, want, err)
		}
	}
}

func TestRunChecksEverySpecFirst(t *testing.T) {
	p, _ := newPipeline(t, nil)
	specs := []string{"dir:" + t.TempDir(), "ftp:x", "dir:/y?nope=1"}
	err := collect.Run(context.Background(), specs, p, quiet)
	if !errors.Is(err, collect.ErrInvalidSpec) || !strings.Contains(err.Error(), "ftp") || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("%v", err)
	}
	if err := collect.Validate(specs); !errors.Is(err, collect.ErrInvalidSpec) || !strings.Contains(err.Error(), "ftp") || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("Validate: %v", err)
	}
	if err := collect.Validate(specs[:1]); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	// Good specs run until the context ends, then Run returns nil.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := collect.Run(ctx, specs[:1], p, quiet); err != nil {
		t.Fatalf("Run: %v", err)
	}
}
