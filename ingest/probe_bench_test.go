package ingest_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/reliability"
)

// BenchmarkProbeZstdSPDX: the probe of the soak's slowest bomb (1M packages,
// zstd): inflated and scanned up to the 250,001st package, 26.2 MB in.
// It reports the process's CPU time per probe (cpu-ms/op), the figure to
// compare on a shared machine. docs/reliability.md has the figures.
func BenchmarkProbeZstdSPDX(b *testing.B) {
	benchmarkProbe(b, reliability.SPDXPackages(1_000_000))
}

// BenchmarkProbeZstdSPDX300k: the soak's other zstd bomb (300k packages,
// 1.3 MB), refused at the same package.
func BenchmarkProbeZstdSPDX300k(b *testing.B) {
	benchmarkProbe(b, reliability.SPDXPackages(300_000))
}

func benchmarkProbe(b *testing.B, data []byte) {
	p := &ingest.Pipeline{}
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		if _, err := p.Probe(data, "bomb", ""); err == nil {
			b.Fatal("accepted")
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// cpuTime is the process's user+system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
