package ingest_test

import (
	"testing"

	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/reliability"
)

// BenchmarkProbeZstdSPDX: the probe of the soak's slowest bomb (1M packages,
// zstd): inflated and scanned up to the 250,001st package, ~22 MB in.
// docs/reliability.md: ~45 ms of CPU, 60 % the count scan, 30 % zstd.
func BenchmarkProbeZstdSPDX(b *testing.B) {
	data := reliability.SPDXPackages(1_000_000)
	p := &ingest.Pipeline{}
	b.ResetTimer()
	for range b.N {
		if _, err := p.Probe(data, "bomb", ""); err == nil {
			b.Fatal("accepted")
		}
	}
}
