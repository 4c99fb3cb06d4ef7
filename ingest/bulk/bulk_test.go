package bulk

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
)

// countingStore records the documents of every write and refuses any
// write holding a document from a file named poison (as a store refuses
// a batch that breaks a graph rule), slowly enough that files parsed
// meanwhile queue up.
type countingStore struct {
	graph.Store
	mu     sync.Mutex
	writes []int
}

func (s *countingStore) check(bs []*graph.Batch) error {
	s.mu.Lock()
	s.writes = append(s.writes, len(bs))
	s.mu.Unlock()
	time.Sleep(30 * time.Millisecond)
	for _, b := range bs {
		if strings.HasSuffix(b.Doc.Source, "poison.json") {
			return fmt.Errorf("%w: poison", graph.ErrInvalidBatch)
		}
	}
	return nil
}

func (s *countingStore) Apply(ctx context.Context, b *graph.Batch) (graph.Receipt, error) {
	if err := s.check([]*graph.Batch{b}); err != nil {
		return graph.Receipt{}, err
	}
	return s.Store.Apply(ctx, b)
}

func (s *countingStore) ApplyAll(ctx context.Context, bs []*graph.Batch) ([]graph.Receipt, error) {
	if err := s.check(bs); err != nil {
		return nil, err
	}
	return s.Store.ApplyAll(ctx, bs)
}

func bom(i int) string {
	return fmt.Sprintf(`{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"metadata":{"component":{"type":"application","name":"app%d","version":"1","purl":"pkg:generic/app%d@1"}},"components":[{"type":"library","name":"lib","version":"%d","purl":"pkg:npm/lib@%d"},{"type":"library","name":"core","version":"1","purl":"pkg:npm/core@1"}]}`, i, i, i%3, i%3)
}

// corpus writes n distinct BOMs with a copy of the first right after it
// (likely in the same group), a malformed file and a poison one (refused
// by the store) in the middle, and another copy of the first at the end.
func corpus(t *testing.T, n int) []string {
	dir := t.TempDir()
	var files []string
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	for i := range n {
		write(fmt.Sprintf("bom%03d.json", i), bom(i))
		if i == 0 {
			write("bom000-again.json", bom(0))
		}
		if i == n/2 {
			write("malformed.json", `{"bomFormat":`)
			write("poison.json", bom(1000))
		}
	}
	write("copy.json", bom(0))
	return files
}

func run(t *testing.T, files []string, o Options) (Summary, []Outcome, *countingStore) {
	t.Helper()
	es, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := es.Check(context.Background()); err != nil {
			t.Errorf("graph invariants: %v", err)
		}
		_ = es.Close()
	})
	s := &countingStore{Store: es}
	p := &ingest.Pipeline{Store: s, Parser: ingest.NewParser(nil)}
	var got []Outcome
	sum, err := Run(context.Background(), p, files, o, func(oc Outcome) { got = append(got, oc) })
	if err != nil {
		t.Fatal(err)
	}
	return sum, got, s
}

// TestRunGroupsWrites: parsed files are written in groups (fewer store
// writes than files, one holding several documents), a file the store
// refuses fails alone (the rest of its group is written), outcomes come
// in input order, and the graph is the one file-by-file writes give.
func TestRunGroupsWrites(t *testing.T) {
	files := corpus(t, 40)
	sum, got, s := run(t, files, Options{Workers: 2})
	if len(got) != len(files) {
		t.Fatalf("%d outcomes for %d files", len(got), len(files))
	}
	for i, oc := range got {
		if oc.Source != files[i] {
			t.Fatalf("outcome %d is %s, want %s (input order)", i, oc.Source, files[i])
		}
		bad := strings.HasSuffix(oc.Source, "malformed.json") || strings.HasSuffix(oc.Source, "poison.json")
		if bad != (oc.Rejection != nil) {
			t.Errorf("%s: rejection %+v", oc.Source, oc.Rejection)
		}
	}
	if sum.Documents != 40 || sum.Duplicates != 2 || sum.Rejected != 2 {
		t.Errorf("summary %+v, want 40 new, 2 duplicates, 2 rejected", sum)
	}
	// Of three copies of one document exactly one is new, whichever was
	// written first (files are written as they are parsed, as concurrent
	// writes always were).
	fresh := 0
	for _, oc := range got {
		if base := filepath.Base(oc.Source); base == "bom000.json" || base == "bom000-again.json" || base == "copy.json" {
			if len(oc.Results) == 1 && !oc.Results[0].Receipt.Duplicate {
				fresh++
			}
		}
	}
	if fresh != 1 {
		t.Errorf("%d of the three copies recorded as new", fresh)
	}
	biggest := 0
	for _, n := range s.writes {
		biggest = max(biggest, n)
	}
	if biggest < 2 {
		t.Errorf("writes %v: no group of several documents", s.writes)
	}

	one, _, s1 := run(t, files, Options{Workers: 2, MaxGroup: 1})
	if one.Documents != sum.Documents || one.Duplicates != sum.Duplicates || one.Rejected != sum.Rejected {
		t.Errorf("file by file %+v, grouped %+v", one, sum)
	}
	for _, n := range s1.writes {
		if n != 1 {
			t.Fatalf("MaxGroup 1: a write of %d documents", n)
		}
	}
	a, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s1.Stats(context.Background())
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("grouped writes give %+v, file by file %+v", a, b)
	}
}

// TestBytesBudget: past its capacity acquire waits for a release; a
// request larger than the capacity goes alone.
func TestBytesBudget(t *testing.T) {
	b := newBytesBudget(100)
	b.acquire(60)
	got := make(chan int64)
	go func() { got <- b.acquire(60) }()
	select {
	case <-got:
		t.Fatal("acquired past the capacity")
	case <-time.After(50 * time.Millisecond):
	}
	b.release(60)
	if n := <-got; n != 60 {
		t.Fatal(n)
	}
	b.release(60)
	if n := b.acquire(500); n != 500 {
		t.Fatal("an oversized request alone must go through")
	}
}

// TestRunMemoryFlat: what a run holds does not grow with the number of
// files: the live heap (after a GC) once 300 files are done is within a
// few MiB of where it was after 75-150 (the store's in-memory index grows
// by the documents' edges, ~3-5 MiB here), although every file's batch
// (100 components) kept would add ~100 KB, ~15 MiB over the last 150.
func TestRunMemoryFlat(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i := range 300 {
		var b strings.Builder
		fmt.Fprintf(&b, `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"metadata":{"component":{"type":"application","name":"app%d","version":"1","purl":"pkg:generic/app%d@1"}},"components":[`, i, i)
		for c := range 100 {
			if c > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"type":"library","name":"c%d","version":"1","purl":"pkg:npm/c%d@1","licenses":[{"license":{"id":"MIT"}}]}`, c, c)
		}
		b.WriteString(`]}`)
		p := filepath.Join(dir, fmt.Sprintf("bom%03d.json", i))
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	es, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	p := &ingest.Pipeline{Store: es, Parser: ingest.NewParser(nil)}
	live := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	// The store's writer keeps bounded caches across transactions (hot
	// records up to 16 MiB, committed key entries: graph/embedded
	// txcache.go) that fill during the first documents; "early" is the
	// larger of two samples once they are warm, so the comparison sees
	// what grows with the number of files, not a cache filling up.
	var early, late uint64
	done := 0
	o := Options{Workers: 2, Progress: func(Outcome) {
		switch done++; done {
		case 75, 150:
			early = max(early, live())
		case 300:
			late = live()
		}
	}}
	sum, err := Run(context.Background(), p, files, o, nil)
	if err != nil || sum.Documents != 300 {
		t.Fatalf("%+v, %v", sum, err)
	}
	t.Logf("live heap after 75-150 files %.1f MiB, after 300 %.1f MiB", float64(early)/(1<<20), float64(late)/(1<<20))
	if late > early+12<<20 {
		t.Errorf("live heap grew from %d MiB to %d MiB between 75-150 and 300 files", early>>20, late>>20)
	}
}
