package embedded_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest/sbom"
)

// BenchmarkWriteRepeatedSBOMs times the store's writer alone on what bulk
// imports look like: the valid SBOMs of testdata/sbom parsed once, copied
// under distinct document digests (the same packages named again and
// again, as in the 20x corpus of docs/performance.md), applied in groups
// of 32 documents (modelgraph ingest's group commit) into a new store.
// Reported: CPU milliseconds per document (process CPU over the writes,
// which are the only work running) and the store file's size.
func BenchmarkWriteRepeatedSBOMs(b *testing.B) {
	const copies, group = 8, 32
	dir := filepath.Join("..", "..", "testdata", "sbom")
	es, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var batches []*graph.Batch
	for c := range copies {
		for _, e := range es {
			name := e.Name()
			if !e.Type().IsRegular() || strings.HasSuffix(name, ".md") || strings.HasSuffix(name, ".bz2") || strings.HasSuffix(name, ".zst") {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				b.Fatal(err)
			}
			doc := graph.Document{Digest: graph.SHA256Key([]byte(fmt.Sprint(c, name))), Type: "sbom", Source: name}
			bt, err := sbom.Parse(ctx, data, doc, sbom.Options{})
			if err != nil {
				continue // the deliberately invalid ones
			}
			batches = append(batches, bt)
		}
	}
	var cpu time.Duration
	var size int64
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "g.db")
		s, err := embedded.Open(path, embedded.Options{NoIndexSnapshot: true})
		if err != nil {
			b.Fatal(err)
		}
		c0 := processCPU()
		b.StartTimer()
		for i := 0; i < len(batches); i += group {
			if _, err := s.ApplyAll(ctx, batches[i:min(i+group, len(batches))]); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		cpu += processCPU() - c0
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if st, err := os.Stat(path); err == nil {
			size = st.Size()
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N*len(batches)), "cpu-ms/doc")
	b.ReportMetric(float64(size)/(1<<20), "store-MiB")
	b.ReportMetric(float64(len(batches)), "docs")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
