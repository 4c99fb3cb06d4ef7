package ingest

import (
	"bytes"
	"syscall"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/ingest/inflate"
	"github.com/modelgraph/modelgraph/internal/reliability"
)

// BenchmarkTopScanner: the count scan alone over what the probe of the
// 1M-package bomb inflates before refusing (its first 26.2 MB), in the
// 64 KiB chunks inflate.Copy writes; "word" is the scanner, "byte" the
// byte-at-a-time reference it replaced. MB/s is the scan rate.
func BenchmarkTopScanner(b *testing.B) {
	doc, err := inflate.Decode(reliability.SPDXPackages(300_000), inflate.Limits{MaxBytes: 256 << 20})
	if err != nil {
		b.Fatal(err)
	}
	type scanner interface{ Write([]byte) (int, error) }
	run := func(b *testing.B, s func() scanner) {
		n := 0
		cpu0 := scanCPU()
		for range b.N {
			sc := s()
			for off := 0; off < len(doc); off += 64 << 10 {
				k, err := sc.Write(doc[off:min(off+64<<10, len(doc))])
				if err != nil {
					n += off + k
					break
				}
			}
		}
		cpu := scanCPU() - cpu0
		b.SetBytes(int64(n / b.N))
		b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		b.ReportMetric(float64(n)/1e6/cpu.Seconds(), "cpu-MB/s")
	}
	b.Run("word", func(b *testing.B) {
		run(b, func() scanner { return &topScanner{count: true, max: 250_000} })
	})
	b.Run("byte", func(b *testing.B) {
		run(b, func() scanner { return &refScanner{count: true, max: 250_000} })
	})
}

// scanCPU is the process's user+system time so far.
func scanCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTopScannerShapes: the scanner against the reference on the
// shapes its fast path likes least: a string of escapes, literals outside
// strings (letters are bracket candidates), pretty-printed members, a
// backslash in every block.
func BenchmarkTopScannerShapes(b *testing.B) {
	docs := map[string][]byte{
		"escapes":        append([]byte(`{"spdxVersion":"x","packages":[{"a":"`), append(bytes.Repeat([]byte(`\"\\x`), 4<<20), `"}]}`...)...),
		"literals":       append([]byte(`{"spdxVersion":"x","packages":[{"a":[`), append(bytes.Repeat([]byte(`true,false,null,`), 1<<20), `1]}]}`...)...),
		"pretty":         append([]byte(`{"spdxVersion":"x","packages":[`), append(bytes.Repeat([]byte("\n    {\n      \"name\" : \"p\" ,\n      \"v\" : 1\n    },"), 400_000), "{}]}"...)...),
		"bs-every-block": append([]byte(`{"spdxVersion":"x","packages":[`), append(bytes.Repeat([]byte(`{"name":"p\\n","versionInfo":"1.0.0","downloadLocation":"NOASSERTION"},`), 300_000), "{}]}"...)...),
	}
	for name, doc := range docs {
		for _, v := range []string{"word", "byte"} {
			b.Run(name+"/"+v, func(b *testing.B) {
				b.SetBytes(int64(len(doc)))
				for range b.N {
					var w interface{ Write([]byte) (int, error) } = &topScanner{count: true, max: 1 << 30}
					if v == "byte" {
						w = &refScanner{count: true, max: 1 << 30}
					}
					for off := 0; off < len(doc); off += 64 << 10 {
						_, _ = w.Write(doc[off:min(off+64<<10, len(doc))])
					}
				}
			})
		}
	}
}
