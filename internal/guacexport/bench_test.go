package guacexport

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/guacsec/guac/pkg/assembler"
	"github.com/guacsec/guac/pkg/assembler/backends"
	"github.com/guacsec/guac/pkg/assembler/clients/helpers"
	"github.com/guacsec/guac/pkg/assembler/kv/memmap"
	"github.com/guacsec/guac/pkg/assembler/server"
	"github.com/guacsec/guac/pkg/handler/processor"
	"github.com/guacsec/guac/pkg/ingestor/parser/common"
	guaccsaf "github.com/guacsec/guac/pkg/ingestor/parser/csaf"
	guaccdx "github.com/guacsec/guac/pkg/ingestor/parser/cyclonedx"
	guacvex "github.com/guacsec/guac/pkg/ingestor/parser/open_vex"
	guacspdx "github.com/guacsec/guac/pkg/ingestor/parser/spdx"
	"go.uber.org/zap"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest/sbom"
)

type benchDoc struct {
	name   string
	data   []byte
	typ    processor.DocumentType
	format processor.FormatType
	parser func() common.DocumentParser
}

// benchCorpus is the valid testdata/sbom documents both GUAC and modelgraph
// ingest (compressed copies and the documents GUAC rejects are left out, so
// both sides do the same work).
func benchCorpus(b *testing.B) (docs []benchDoc, bytesTotal int) {
	es, err := os.ReadDir(corpus)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range es {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasSuffix(name, ".md") || strings.HasSuffix(name, ".bz2") || strings.HasSuffix(name, ".zst") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(corpus, name))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sbom.Parse(context.Background(), data, graph.Document{}, sbom.Options{}); err != nil {
			continue // deliberately broken
		}
		ft, _ := sbom.Detect(data)
		d := benchDoc{name: name, data: data, format: processor.FormatJSON}
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte("<")) {
			d.format = processor.FormatXML
		}
		switch ft {
		case sbom.TypeCycloneDX, sbom.TypeCycloneDXVEX:
			d.typ, d.parser = processor.DocumentCycloneDX, guaccdx.NewCycloneDXParser
		case sbom.TypeSPDX:
			d.typ, d.parser = processor.DocumentSPDX, guacspdx.NewSpdxParser
		case sbom.TypeOpenVEX:
			d.typ, d.parser = processor.DocumentOpenVEX, guacvex.NewOpenVEXParser
		case sbom.TypeCSAF:
			d.typ, d.parser = processor.DocumentCsaf, guaccsaf.NewCsafParser
		default:
			continue
		}
		if _, err := guacPredicates(d); err != nil {
			b.Logf("left out %s: GUAC rejects it: %v", name, err)
			continue
		}
		docs = append(docs, d)
		bytesTotal += len(data)
	}
	return docs, bytesTotal
}

func guacPredicates(d benchDoc) (*assembler.IngestPredicates, error) {
	ctx := context.Background()
	pd := &processor.Document{Blob: d.data, Type: d.typ, Format: d.format, ChildLogger: zap.NewNop().Sugar(),
		SourceInformation: processor.SourceInformation{Collector: "bench", Source: d.name}}
	p := d.parser()
	if err := p.Parse(ctx, pd); err != nil {
		return nil, err
	}
	return p.GetPredicates(ctx), nil
}

// inProcess serves GraphQL requests without a socket: GUAC "in-process".
// cpuTime is the process's user+system CPU time: on a shared machine it
// says more than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type inProcess struct{ h http.Handler }

func (c inProcess) Do(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// BenchmarkIngestVsGUAC ingests the same documents through sbom.Parse into
// graph/embedded, and through GUAC's own in-process path (its parsers, bulk
// assembler and keyvalue backend; one IngestPredicates per document), and
// prints the ratio.
func BenchmarkIngestVsGUAC(b *testing.B) {
	docs, size := benchCorpus(b)
	b.Logf("%d documents, %.1f MB", len(docs), float64(size)/1e6)
	var rates, cpus [2]float64
	b.Run("modelgraph", func(b *testing.B) {
		ctx := context.Background()
		var elapsed, cpu time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			st, err := embedded.Open(filepath.Join(b.TempDir(), fmt.Sprintf("g%d.db", i)), embedded.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start, cpu0 := time.Now(), cpuTime()
			for _, d := range docs {
				bt, err := sbom.Parse(ctx, d.data, graph.Document{Source: d.name}, sbom.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := st.Apply(ctx, bt); err != nil {
					b.Fatal(err)
				}
			}
			elapsed += time.Since(start)
			cpu += cpuTime() - cpu0
			b.StopTimer()
			st.Close()
			b.StartTimer()
		}
		rates[0] = float64(len(docs)*b.N) / elapsed.Seconds()
		cpus[0] = float64(cpu.Milliseconds()) / float64(len(docs)*b.N)
		b.ReportMetric(rates[0], "docs/s")
		b.ReportMetric(cpus[0], "cpu-ms/doc")
		b.ReportMetric(float64(size*b.N)/1e6/elapsed.Seconds(), "MB/s")
	})
	b.Run("guac", func(b *testing.B) {
		ctx := context.Background()
		var elapsed, cpu time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			be, err := backends.Get("keyvalue", ctx, memmap.GetStore())
			if err != nil {
				b.Fatal(err)
			}
			client := graphql.NewClient("http://guac/query", inProcess{server.GetGraphqlServer(ctx, be)})
			assemble := helpers.GetBulkAssembler(ctx, zap.NewNop().Sugar(), client)
			b.StartTimer()
			start, cpu0 := time.Now(), cpuTime()
			for _, d := range docs {
				preds, err := guacPredicates(d)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := assemble([]assembler.IngestPredicates{*preds}); err != nil {
					b.Fatalf("%s: %v", d.name, err)
				}
			}
			elapsed += time.Since(start)
			cpu += cpuTime() - cpu0
		}
		rates[1] = float64(len(docs)*b.N) / elapsed.Seconds()
		cpus[1] = float64(cpu.Milliseconds()) / float64(len(docs)*b.N)
		b.ReportMetric(rates[1], "docs/s")
		b.ReportMetric(cpus[1], "cpu-ms/doc")
		b.ReportMetric(float64(size*b.N)/1e6/elapsed.Seconds(), "MB/s")
	})
	if rates[0] > 0 && rates[1] > 0 {
		fmt.Printf("ratio modelgraph/guac: %.1fx by wall time (%.1f vs %.1f docs/s), %.1fx by CPU (%.0f vs %.0f cpu-ms/doc), %d documents, %.1f MB\n",
			rates[0]/rates[1], rates[0], rates[1], cpus[1]/cpus[0], cpus[0], cpus[1], len(docs), float64(size)/1e6)
	}
}
