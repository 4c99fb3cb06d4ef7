package sbom

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/modelgraph/modelgraph/graph"
)

// synthBOM is a CycloneDX BOM of n components in a dependency chain, each
// with a hash: enough to expose anything quadratic in component count.
func synthBOM(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"bom-ref":"root","type":"application","name":"app","version":"1","purl":"pkg:generic/app@1"}},"components":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"bom-ref":"c%d","type":"library","name":"lib%d","version":"1.0.%d","purl":"pkg:pypi/lib%d@1.0.%d","hashes":[{"alg":"SHA-256","content":"%064x"}]}`, i, i, i, i, i, i+1)
	}
	b.WriteString(`],"dependencies":[{"ref":"root","dependsOn":["c0"]}`)
	for i := range n - 1 {
		fmt.Fprintf(&b, `,{"ref":"c%d","dependsOn":["c%d"]}`, i, i+1)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkParseScaling: cost per component stays flat from 2k to 20k
// components (compare the per-component metric across sizes).
func BenchmarkParseScaling(b *testing.B) {
	for _, n := range []int{2_000, 20_000} {
		data := synthBOM(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				bt, err := Parse(b.Context(), data, graph.Document{}, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if count(bt, graph.KindPackage) != n+1 {
					b.Fatalf("%d packages", count(bt, graph.KindPackage))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/component")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N*n), "cpu-µs/component")
		})
	}
}

// cpuTime is the process's CPU time: steadier than wall time on a shared
// machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkParseCorpus: Parse over every SBOM, VEX and CSAF document in
// testdata/sbom (the shared fixtures the 20x bulk corpus copies), bare;
// CPU per MB is the parse side's cost in the bulk-ingest figures
// (docs/performance.md).
func BenchmarkParseCorpus(b *testing.B) {
	files, _ := filepath.Glob("../../testdata/sbom/*")
	var docs [][]byte
	size := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil || strings.HasSuffix(f, ".md") {
			continue
		}
		if _, err := Parse(b.Context(), data, graph.Document{}, Options{}); err != nil {
			continue // the deliberately invalid ones
		}
		docs = append(docs, data)
		size += len(data)
	}
	if len(docs) < 20 {
		b.Fatalf("%d documents", len(docs))
	}
	cpu0 := cpuTime()
	for b.Loop() {
		for _, d := range docs {
			if _, err := Parse(b.Context(), d, graph.Document{}, Options{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	mb := float64(b.N*size) / 1e6
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/mb, "cpu-ms/MB")
	b.ReportMetric(float64(len(docs)), "docs")
}

// BenchmarkCDXJSONDecode: decodeCDXJSON (the fast path) against the
// reflective decode alone, over the CycloneDX JSON documents of
// testdata/sbom; compare cpu-ms/op (process CPU, GC included: steadier
// than ns/op on a shared machine) and B/op of the two.
func BenchmarkCDXJSONDecode(b *testing.B) {
	files, _ := filepath.Glob("../../testdata/sbom/*.json")
	var docs [][]byte
	var sn []sniffed
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		var bom cdx.BOM
		if s := sniff(data); s.kind == kindCycloneDX && !s.xml && decodeCDXJSONReflective(data, s, &bom) == nil {
			docs, sn = append(docs, data), append(sn, s)
		}
	}
	if len(docs) < 5 {
		b.Fatalf("%d documents", len(docs))
	}
	for _, c := range []struct {
		name   string
		decode func([]byte, sniffed, *cdx.BOM) error
	}{{"fast", decodeCDXJSON}, {"reflective", decodeCDXJSONReflective}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				for i, d := range docs {
					var bom cdx.BOM
					if err := c.decode(d, sn[i], &bom); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N)/1000, "cpu-ms/op")
		})
	}
}
