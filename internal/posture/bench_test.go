package posture_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/internal/posture"
	"github.com/modelgraph/modelgraph/internal/query"
	"github.com/modelgraph/modelgraph/internal/synth"
)

// BenchmarkReport times the posture report (every model and deployment,
// every control, sorted by level) on the synthetic supply chain
// (docs/performance.md: target < 2 s at 100k nodes).
func BenchmarkReport(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(graphSize(n), func(b *testing.B) {
			dir, err := os.MkdirTemp("", "posture-bench")
			if err != nil {
				b.Fatal(err)
			}
			defer os.RemoveAll(dir)
			s, err := embedded.Open(filepath.Join(dir, "graph.db"), embedded.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if _, err := synth.Load(context.Background(), s, synth.ForNodes(n)); err != nil {
				b.Fatal(err)
			}
			ps, err := posture.New(query.New(s), posture.DefaultPolicy())
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			var rows int
			cpu0 := cpuTime()
			for b.Loop() {
				r, err := ps.Report(context.Background(), posture.ReportOptions{Page: query.Page{First: 100}})
				if err != nil {
					b.Fatal(err)
				}
				rows = r.TotalCount
			}
			b.ReportMetric(float64(rows), "rows")
			// CPU time per report: on a shared machine wall time also counts
			// the waits for a core.
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

func graphSize(n int) string {
	if n >= 1000 {
		return itoa(n/1000) + "k"
	}
	return itoa(n)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
