package perf

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/synth"
)

func TestQuantile(t *testing.T) {
	var l Latencies
	if l.Quantile(0.99) != 0 {
		t.Fatal("empty quantile is not zero")
	}
	for i := 100; i >= 1; i-- { // out of order on purpose
		l.Add(time.Duration(i) * time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.99: 99 * time.Millisecond, 1: 100 * time.Millisecond, 0.001: time.Millisecond} {
		if got := l.Quantile(q); got != want {
			t.Errorf("q%.3f = %v, want %v", q, got, want)
		}
	}
	s := l.Summarize(300)
	if s.N != 100 || s.P99ms != 99 || s.MeanSize != 3 {
		t.Errorf("summary %+v", s)
	}
}

func TestParseStatus(t *testing.T) {
	m, err := parseStatus([]byte("Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nRssAnon:\t 512 kB\nRssFile:\t 500 kB\n"))
	if err != nil || m.RSS != 1<<20 || m.PeakRSS != 2<<20 || m.Anon != 512<<10 || m.File != 500<<10 {
		t.Fatalf("%+v %v", m, err)
	}
	if _, err := parseStatus([]byte("VmRSS: 12 MB\nVmHWM: 1 kB\n")); err == nil {
		t.Fatal("accepted an unknown unit")
	}
	if _, err := parseStatus([]byte("Name: x\n")); err == nil {
		t.Fatal("accepted a status without memory lines")
	}
	if _, err := ReadMemory(); err != nil {
		t.Fatal(err)
	}
}

func TestParseBenchOutputs(t *testing.T) {
	out := []byte("goos: linux\nBenchmarkIngestVsGUAC/modelgraph-2 1 123 ns/op\nratio modelgraph/guac: 31.2x by wall time (120.5 vs 3.9 docs/s), 28.0x by CPU (8 vs 224 cpu-ms/doc), 24 documents, 11.3 MB\nok\n")
	r, err := ParseSBOMRatio(out)
	if err != nil || r.WallRatio != 31.2 || r.CPURatio != 28 || r.OursPerS != 120.5 || r.GUACPerS != 3.9 || r.Documents != 24 || r.MB != 11.3 {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := ParseSBOMRatio([]byte("FAIL\n")); err == nil {
		t.Fatal("parsed a failed run")
	}
	e, err := ParseExport([]byte("BenchmarkExport-2   	      52	  22915465 ns/op	        22.92 ms/export	        40.11 cpu-ms/export\n"))
	if err != nil || e.Ms != 22.92 || e.CPUMs != 40.11 {
		t.Fatalf("%+v %v", e, err)
	}
	if _, err := ParseExport([]byte("BenchmarkEncodeJSON-2 1 1 ns/op 3 ms/encode\n")); err == nil {
		t.Fatal("took another benchmark's line")
	}
}

func TestUpdateDoc(t *testing.T) {
	doc := []byte("# Performance\n\nintro\n\n" + BeginMarker + "\nold table\n" + EndMarker + "\n\n## How to reproduce\n")
	got, err := UpdateDoc(doc, "new table\n")
	if err != nil {
		t.Fatal(err)
	}
	s := string(got)
	if strings.Contains(s, "old table") || !strings.Contains(s, "new table") || !strings.HasSuffix(s, EndMarker+"\n\n## How to reproduce\n") || !strings.HasPrefix(s, "# Performance\n\nintro") {
		t.Fatalf("updated doc:\n%s", s)
	}
	again, _ := UpdateDoc(got, "new table\n")
	if string(again) != s {
		t.Fatal("updating twice changed the doc")
	}
	fresh, err := UpdateDoc([]byte("# P"), "t\n")
	if err != nil || !strings.Contains(string(fresh), BeginMarker+"\nt\n"+EndMarker) {
		t.Fatalf("%q %v", fresh, err)
	}
	if _, err := UpdateDoc([]byte(EndMarker+"\n"+BeginMarker), "t"); err == nil {
		t.Fatal("accepted reversed markers")
	}
}

func TestMarkdownStatuses(t *testing.T) {
	r := Report{
		Env: Env{Date: "d", Cores: 2, CPU: "cpu", Go: "go1.26", Commit: "abc"},
		Records: []Record{
			{Step: "build", Backend: "embedded", Size: 1_000_000, Load: &LoadResult{Nodes: 995_000, Edges: 5_600_000, Seconds: 200, EdgesPerS: 28_000}},
			{Step: "query", Backend: "embedded", Size: 1_000_000, OpenSeconds: 0.9, Query: &QueryResult{Impact: Summary{P50ms: 0.3, P99ms: 0.8}, Trace: Summary{P50ms: 30, P99ms: 90, MeanSize: 1300}}, Memory: &Memory{RSS: 2 << 30, PeakRSS: 2 << 30, Anon: 300 << 20, File: 1700 << 20}},
			{Step: "neo4j", Backend: "neo4j", Size: 10_000, Load: &LoadResult{Seconds: 60, EdgesPerS: 800}, Query: &QueryResult{Impact: Summary{P50ms: 10, P99ms: 40}}},
			{Step: "ingest", Backend: "embedded", Ingest: &IngestResult{Workers: 8, Signed: Throughput{Documents: 100, DocsPerS: 2500}}},
		},
		SBOM:   &SBOMRatio{WallRatio: 12, CPURatio: 15},
		Export: &Export{Ms: 20},
	}
	md := r.Markdown()
	for _, want := range []string{
		"| Impact of a dataset, p50 / p99 | 1M (995k nodes, 5.60M edges) | 0.300 / 0.800 ms | — | embedded p99 < 1.00 ms | met |",
		"| Impact of a dataset, p50 / p99 | 10k | — | 10.0 / 40.0 ms | Neo4j p99 < 25.0 ms | **missed** |",
		"2500/s | — | ≥ 2000/s (embedded) | met |",
		"12.0x by wall time",
		"≥ 20x | **missed** |",
		"20.0 ms | — | < 50.0 ms | met |",
		"| RSS after open, index and queries | 1M (995k nodes, 5.60M edges) | 2048 MiB (peak 2048 MiB; 300 MiB anonymous, 1700 MiB mapped store file) | — | < 1.5 GiB | **missed** |",
		"| Cold open (process start to index ready) | 1M | 0.900 s | — | < 3.00 s | met |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
}

// The harness's own pieces on a small graph: the loaded graph is the
// planned one, queries reach what they should, ingest checks statuses.
func TestLoadQueryIngest(t *testing.T) {
	ctx := context.Background()
	pl, err := synth.NewPlan(synth.ForNodes(3000))
	if err != nil {
		t.Fatal(err)
	}
	s, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := Load(ctx, s, pl, 100)
	if err != nil {
		t.Fatal(err)
	}
	if res.Nodes < 2500 || res.Edges < 3*res.Nodes || res.Seconds <= 0 {
		t.Fatalf("load %+v", res)
	}
	q, err := Workload(ctx, s, pl.Handles(), 50, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	if q.Impact.N != 50 || q.Trace.N != 50 || q.Impact.MeanSize < 2 || q.Trace.MeanSize < float64(synth.ForNodes(3000).PackagesPerSBOM)/2 {
		t.Fatalf("workload %+v", q)
	}
	if q.Impact.P99ms < q.Impact.P50ms || q.Impact.P50ms <= 0 {
		t.Fatalf("impact latencies %+v", q.Impact)
	}

	signer, err := synth.NewSigner(1)
	if err != nil {
		t.Fatal(err)
	}
	small, err := synth.NewPlan(synth.Params{Seed: 3, Datasets: 3, Models: 5, FilesPerModel: 2, PackagesPerSBOM: 10, PackagePool: 20, CorePackages: 2, PackageDeps: 1, Deployments: 2})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := Corpus(small, signer)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := signer.Policy()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := embedded.Open(filepath.Join(t.TempDir(), "i.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	tp, err := IngestAll(ctx, &ingest.Pipeline{Store: s2, Parser: ingest.NewParser(pol)}, docs, 4)
	if err != nil {
		t.Fatal(err)
	}
	signed := 0
	for _, d := range docs {
		if d.Signed {
			signed++
		}
	}
	if tp.Documents != len(docs) || tp.Verified != signed || tp.DocsPerS <= 0 {
		t.Fatalf("ingest %+v, %d signed of %d", tp, signed, len(docs))
	}
	st, err := s2.Stats(ctx)
	if err != nil || st.Documents != int64(len(docs)) {
		t.Fatalf("stats %+v %v", st, err)
	}
	// A policy that trusts another key: the harness refuses to report a
	// rate for documents that did not verify.
	other, _ := synth.NewSigner(2)
	otherPol, _ := other.Policy()
	s3, err := embedded.Open(filepath.Join(t.TempDir(), "j.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	if _, err := IngestAll(ctx, &ingest.Pipeline{Store: s3, Parser: ingest.NewParser(otherPol)}, docs, 2); err == nil || !strings.Contains(err.Error(), "want verified") {
		t.Fatalf("unverified documents were counted: %v", err)
	}
	var probe synth.Doc
	for _, d := range docs {
		if d.Kind == synth.DocOMS {
			probe = d
		}
	}
	mapped, err := OMSMapped(ctx, &ingest.Pipeline{Store: s3, Parser: ingest.NewParser(pol)}, probe)
	if err != nil || !mapped {
		t.Fatalf("OMS bundles not mapped: %v", err)
	}
	if mapped, err := OMSMapped(ctx, &ingest.Pipeline{Store: s3, Parser: ingest.NewParser(pol)}, synth.Doc{Name: "x", Data: []byte(`{"a":1}`)}); err != nil || mapped {
		t.Fatalf("an unsupported document probed as mapped: %v", err)
	}
	broken := synth.Doc{Name: "x", Data: []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`)}
	if _, err := OMSMapped(ctx, &ingest.Pipeline{Store: s3, Parser: ingest.NewParser(pol)}, broken); err == nil || !errors.Is(err, ingest.ErrInvalidDocument) {
		t.Fatalf("broken probe: %v", err)
	}
}

// The per-query CPU clock counts work the thread does and not time it
// spends off a core.
func TestThreadCPU(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c0, ok := threadCPU()
	if !ok {
		t.Fatal("no thread CPU clock on this platform")
	}
	x := uint64(1)
	for i := range 20_000_000 {
		x = x*6364136223846793005 + uint64(i)
	}
	c1, _ := threadCPU()
	if c1 <= c0 {
		t.Fatalf("CPU clock did not advance over a busy loop (%d, x=%d)", c1-c0, x)
	}
	time.Sleep(50 * time.Millisecond)
	c2, _ := threadCPU()
	if d := c2 - c1; d >= 50*time.Millisecond {
		t.Fatalf("CPU clock advanced %v over a 50 ms sleep", d)
	}
}
