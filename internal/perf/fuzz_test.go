package perf

import (
	"testing"
)

// The report parses benchmark output and /proc text: neither may panic on
// anything, and what parses must be sane.
func FuzzParsers(f *testing.F) {
	f.Add([]byte("ratio modelgraph/guac: 31.2x by wall time (120.5 vs 3.9 docs/s), 28.0x by CPU (8 vs 224 cpu-ms/doc), 24 documents, 11.3 MB\n"))
	f.Add([]byte("BenchmarkExport-2   	      52	  22915465 ns/op	        22.92 ms/export	        40.11 cpu-ms/export\n"))
	f.Add([]byte("VmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nRssAnon:\t 512 kB\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := ParseSBOMRatio(data); err == nil && (r.WallRatio < 0 || r.Documents < 0) {
			t.Fatalf("%+v", r)
		}
		if e, err := ParseExport(data); err == nil && e.Ms < 0 {
			t.Fatalf("%+v", e)
		}
		if m, err := parseStatus(data); err == nil && (m.RSS < 0 || m.PeakRSS < 0) {
			t.Fatalf("%+v", m)
		}
		_, _ = UpdateDoc(data, "t\n")
	})
}
