//go:build linux

package search_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/internal/query"
	"github.com/modelgraph/modelgraph/internal/search"
	"github.com/modelgraph/modelgraph/internal/synth"
)

// BenchmarkColdStart measures what `modelgraph serve` does at start on the
// embedded store, from opening the store to a ready search index: once
// with no snapshot (the index is built by a scan, as after a crash or a
// write by another process), once loading the snapshot the previous Close
// saved; then the query mix through query.Service.Search (the index plus
// one Reader.Node per hit, 20 hits), as GraphQL answers it.
//
// The store is MODELGRAPH_SEARCH_BENCH_STORE (a file `mgbench build -db F
// -nodes N` made; MODELGRAPH_SEARCH_BENCH_NODES=N names its chain for the
// query mix) or, without it, a 100k chain built here. Run with
// -benchtime 1x: each figure is one measurement.
func BenchmarkColdStart(b *testing.B) {
	ctx := context.Background()
	path, nodes := os.Getenv("MODELGRAPH_SEARCH_BENCH_STORE"), 100_000
	if v := os.Getenv("MODELGRAPH_SEARCH_BENCH_NODES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		nodes = n
	}
	if path == "" {
		path = filepath.Join(b.TempDir(), "g.db")
		st, err := embedded.Open(path, embedded.Options{})
		if err != nil {
			b.Fatal(err)
		}
		var chunk []*graph.Batch
		flush := func() error {
			_, err := st.ApplyAll(ctx, chunk)
			chunk = chunk[:0]
			return err
		}
		_, err = synth.Stream(synth.ForNodes(nodes), func(bt *graph.Batch) error {
			chunk = append(chunk, bt)
			if len(chunk) == 1000 {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err == nil {
			err = st.Close()
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	pl, err := synth.NewPlan(synth.ForNodes(nodes))
	if err != nil {
		b.Fatal(err)
	}
	chain := pl.Handles()
	start := func(wantBuilds int64) (*search.Store, time.Duration, time.Duration) {
		b.Helper()
		builds := search.Builds()
		c0 := cpuTime()
		t0 := time.Now()
		st, err := embedded.Open(path, embedded.Options{})
		if err != nil {
			b.Fatal(err)
		}
		s, err := search.Wrap(ctx, st)
		if err != nil {
			b.Fatal(err)
		}
		d, c := time.Since(t0), cpuTime()-c0
		if got := search.Builds() - builds; got != wantBuilds {
			b.Fatalf("%d index builds, want %d", got, wantBuilds)
		}
		return s, d, c
	}
	for range b.N {
		_ = os.Remove(search.SnapshotPath(path))
		s, build, buildCPU := start(1)
		t0 := time.Now()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		save := time.Since(t0)
		fi, err := os.Stat(search.SnapshotPath(path))
		if err != nil {
			b.Fatal(err)
		}
		s, load, loadCPU := start(0)
		q := query.New(s)
		var lat, work []time.Duration
		perText := map[int][]time.Duration{} // thread CPU by position in the mix
		runtime.LockOSThread()
		c0 := cpuTime()
		for i := 0; len(lat) < 3000; i++ {
			for j, text := range queries(chain, i) {
				t, w := time.Now(), threadCPU()
				if _, err := q.Search(ctx, text, nil, query.Page{First: 20}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
				work = append(work, threadCPU()-w)
				perText[j] = append(perText[j], work[len(work)-1])
			}
		}
		qCPU := cpuTime() - c0
		runtime.UnlockOSThread()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		slices.Sort(lat)
		slices.Sort(work)
		for j := range len(perText) {
			ws := perText[j]
			slices.Sort(ws)
			b.Logf("mix query %d (e.g. %q): thread CPU p50 %v, p99 %v, max %v", j, queries(chain, 0)[j], ws[len(ws)/2], ws[len(ws)*99/100], ws[len(ws)-1])
		}
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(build.Seconds(), "start-build-s")
		b.ReportMetric(buildCPU.Seconds(), "start-build-cpu-s")
		b.ReportMetric(load.Seconds(), "start-load-s")
		b.ReportMetric(loadCPU.Seconds(), "start-load-cpu-s")
		b.ReportMetric(ms(qCPU)/float64(len(lat)), "query-cpu-ms")
		b.ReportMetric(save.Seconds(), "close-save-s")
		b.ReportMetric(float64(fi.Size())/(1<<20), "snapshot-MiB")
		b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
		b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
		b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
		b.ReportMetric(ms(work[len(work)/2]), "thread-cpu-p50-ms")
		b.ReportMetric(ms(work[len(work)*99/100]), "thread-cpu-p99-ms")
	}
}

// cpuTime is the process's user and system CPU time so far: on a machine
// shared with other jobs it says what the work cost when wall time mostly
// says how long it waited for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// threadCPU is the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID; the
// goroutine is locked to it): what one query cost, without the time it
// waited for a core.
func threadCPU() time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTime = 3
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}
