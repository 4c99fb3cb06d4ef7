package perf

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// SBOMRatio is internal/guacexport's BenchmarkIngestVsGUAC summary line.
type SBOMRatio struct {
	WallRatio float64 `json:"wallRatio"`
	CPURatio  float64 `json:"cpuRatio"`
	OursPerS  float64 `json:"oursPerS"`
	GUACPerS  float64 `json:"guacPerS"`
	Documents int     `json:"documents"`
	MB        float64 `json:"mb"`
}

var sbomRatioRE = regexp.MustCompile(`ratio modelgraph/guac: ([0-9.]+)x by wall time \(([0-9.]+) vs ([0-9.]+) docs/s\), ([0-9.]+)x by CPU .*?, (\d+) documents, ([0-9.]+) MB`)

// ParseSBOMRatio finds the ratio line in `go test -bench IngestVsGUAC`
// output.
func ParseSBOMRatio(out []byte) (*SBOMRatio, error) {
	m := sbomRatioRE.FindSubmatch(out)
	if m == nil {
		return nil, errors.New("no \"ratio modelgraph/guac\" line in the benchmark output")
	}
	f := func(i int) float64 { v, _ := strconv.ParseFloat(string(m[i]), 64); return v }
	n, _ := strconv.Atoi(string(m[5]))
	return &SBOMRatio{WallRatio: f(1), OursPerS: f(2), GUACPerS: f(3), CPURatio: f(4), Documents: n, MB: f(6)}, nil
}

// Export is aibom's BenchmarkExport result.
type Export struct {
	Ms    float64 `json:"ms"`
	CPUMs float64 `json:"cpuMs"`
}

var exportRE = regexp.MustCompile(`(?m)^BenchmarkExport(?:-\d+)?\s+\d+\s+.*?([0-9.]+) ms/export(?:\s+([0-9.]+) cpu-ms/export)?`)

// ParseExport finds BenchmarkExport's ms/export in `go test -bench Export`
// output.
func ParseExport(out []byte) (*Export, error) {
	m := exportRE.FindSubmatch(out)
	if m == nil {
		return nil, errors.New("no BenchmarkExport ms/export line in the benchmark output")
	}
	e := &Export{}
	e.Ms, _ = strconv.ParseFloat(string(m[1]), 64)
	if len(m[2]) > 0 {
		e.CPUMs, _ = strconv.ParseFloat(string(m[2]), 64)
	}
	return e, nil
}

// Env describes where and when the figures were taken.
type Env struct {
	Date      string  `json:"date"`
	Commit    string  `json:"commit"`
	Go        string  `json:"go"`
	CPU       string  `json:"cpu"`
	Cores     int     `json:"cores"`
	MemGiB    float64 `json:"memGiB"`
	LoadStart float64 `json:"loadStart"`
}

// Report is everything one `make bench` measured.
type Report struct {
	Env     Env
	Records []Record
	SBOM    *SBOMRatio
	Export  *Export
	// Notes are shown under the table (a step that failed, say).
	Notes []string
}

// Targets (2-core machine).
const (
	TargetImpactP99Embedded = 1.0  // ms, at 1M nodes
	TargetImpactP99Neo4j    = 25.0 // ms, at 100k nodes
	TargetImpactP99Neo4j1M  = 50.0 // ms, at 1M nodes
	TargetTraceP99Neo4j1M   = 150.0
	TargetNeo4jEdgesPerS    = 50_000.0 // bulk load
	TargetNeo4jVerifiedPerS = 1000.0
	TargetVerifiedPerS      = 2000.0
	TargetSBOMRatio         = 20.0
	TargetExportMs          = 50.0
	TargetRSSBytes          = 1.5 * (1 << 30)
	TargetOpenSeconds       = 3.0
)

func (r *Report) find(step, backend string, size int) *Record {
	for i := range r.Records {
		x := &r.Records[i]
		if x.Step == step && x.Backend == backend && (size == 0 || x.Size == size) {
			return x
		}
	}
	return nil
}

func (r *Report) sizes(steps ...string) []int {
	var out []int
	for _, x := range r.Records {
		if slices.Contains(steps, x.Step) && x.Size > 0 && !slices.Contains(out, x.Size) {
			out = append(out, x.Size)
		}
	}
	slices.Sort(out)
	return out
}

func status(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func human(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return strconv.Itoa(n)
}

func graphSize(x *Record) string {
	if x == nil || x.Load == nil {
		return ""
	}
	return fmt.Sprintf(" (%s nodes, %s edges)", approx(x.Load.Nodes), approx(x.Load.Edges))
}

func approx(n int64) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1000:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return strconv.FormatInt(n, 10)
}

func lat(s Summary) string { return fmt.Sprintf("%s / %s ms", num(s.P50ms), num(s.P99ms)) }

func num(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// Markdown renders the report as one table with notes.
func (r *Report) Markdown() string {
	var b strings.Builder
	e := r.Env
	fmt.Fprintf(&b, "Measured %s on %d cores (%s), %.0f GiB RAM, %s, commit %s. Load average (1 min) %s at the start;",
		e.Date, e.Cores, e.CPU, e.MemGiB, e.Go, e.Commit, num(e.LoadStart))
	var loads []string
	for _, x := range r.Records {
		loads = append(loads, num(x.LoadAvg))
	}
	fmt.Fprintf(&b, " at the end of each step: %s.\n\n", strings.Join(loads, ", "))
	b.WriteString("| Measure | Size | Embedded (graph/embedded) | Neo4j | Target | Status |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	row := func(cols ...string) { b.WriteString("| " + strings.Join(cols, " | ") + " |\n") }
	na := "—"

	qsizes := r.sizes("query", "neo4j")
	largestNeo := 0
	for _, sz := range qsizes {
		if x := r.find("neo4j", "neo4j", sz); x != nil && x.Query != nil {
			largestNeo = sz
		}
	}
	for _, sz := range qsizes {
		emb, neo := r.find("query", "embedded", sz), r.find("neo4j", "neo4j", sz)
		ec, nc, target, st := na, na, na, na
		if emb != nil && emb.Query != nil {
			ec = lat(emb.Query.Impact)
		}
		if neo != nil && neo.Query != nil {
			nc = lat(neo.Query.Impact)
		}
		var checks []bool
		var ts []string
		if sz == 1_000_000 && emb != nil && emb.Query != nil {
			ts = append(ts, fmt.Sprintf("embedded p99 < %s ms", num(TargetImpactP99Embedded)))
			checks = append(checks, emb.Query.Impact.P99ms < TargetImpactP99Embedded)
		}
		if neo != nil && neo.Query != nil {
			switch {
			case sz == 1_000_000:
				ts = append(ts, fmt.Sprintf("Neo4j p99 < %s ms", num(TargetImpactP99Neo4j1M)))
				checks = append(checks, neo.Query.Impact.P99ms < TargetImpactP99Neo4j1M)
			case sz == 100_000 || sz == largestNeo && sz < 100_000:
				ts = append(ts, fmt.Sprintf("Neo4j p99 < %s ms", num(TargetImpactP99Neo4j)))
				checks = append(checks, neo.Query.Impact.P99ms < TargetImpactP99Neo4j)
			}
		}
		if len(ts) > 0 {
			target = strings.Join(ts, "; ")
			var ss []string
			for _, c := range checks {
				ss = append(ss, status(c))
			}
			st = strings.Join(ss, "; ")
		}
		row("Impact of a dataset, p50 / p99", human(sz)+graphSize(r.find("build", "embedded", sz)), ec, nc, target, st)
	}
	for _, sz := range qsizes {
		emb, neo := r.find("query", "embedded", sz), r.find("neo4j", "neo4j", sz)
		ec, nc, target, st := na, na, na, na
		if emb != nil && emb.Query != nil {
			ec = fmt.Sprintf("%s (%.0f nodes)", lat(emb.Query.Trace), emb.Query.Trace.MeanSize)
		}
		if neo != nil && neo.Query != nil {
			nc = lat(neo.Query.Trace)
			if sz == 1_000_000 {
				target = fmt.Sprintf("Neo4j p99 < %s ms", num(TargetTraceP99Neo4j1M))
				st = status(neo.Query.Trace.P99ms < TargetTraceP99Neo4j1M)
			}
		}
		row("Trace of a deployment, p50 / p99", human(sz), ec, nc, target, st)
	}
	for _, sz := range r.sizes("build", "neo4j") {
		emb, neo := r.find("build", "embedded", sz), r.find("neo4j", "neo4j", sz)
		ec, nc, target, st := na, na, na, na
		if emb != nil && emb.Load != nil {
			ec = fmt.Sprintf("%s s (%s edges/s)", num(emb.Load.Seconds), approx(int64(emb.Load.EdgesPerS)))
			if emb.Load.FileBytes > 0 {
				ec += fmt.Sprintf(", file %d MiB", emb.Load.FileBytes>>20)
			}
			if emb.Load.CompactedBytes > 0 {
				ec += fmt.Sprintf("; compacted in %s s to %d MiB", num(emb.Load.CompactSeconds), emb.Load.CompactedBytes>>20)
			}
		}
		if neo != nil && neo.Load != nil {
			nc = fmt.Sprintf("%s s (%s edges/s)", num(neo.Load.Seconds), approx(int64(neo.Load.EdgesPerS)))
			target = fmt.Sprintf("Neo4j ≥ %s edges/s", approx(int64(TargetNeo4jEdgesPerS)))
			st = status(neo.Load.EdgesPerS >= TargetNeo4jEdgesPerS)
		}
		row("Bulk load (ApplyAll)", human(sz), ec, nc, target, st)
	}
	emb, neo := r.find("ingest", "embedded", 0), r.find("ingest", "neo4j", 0)
	if emb != nil || neo != nil {
		ec, nc, st, size := na, na, na, ""
		if emb != nil && emb.Ingest != nil {
			ec = fmt.Sprintf("%.0f/s", emb.Ingest.Signed.DocsPerS)
			st = status(emb.Ingest.Signed.DocsPerS >= TargetVerifiedPerS)
			size = fmt.Sprintf("%d signed documents, %d workers", emb.Ingest.Signed.Documents, emb.Ingest.Workers)
		}
		if neo != nil && neo.Ingest != nil {
			nc = fmt.Sprintf("%.0f/s", neo.Ingest.Signed.DocsPerS)
			if size == "" {
				size = fmt.Sprintf("%d signed documents, %d workers", neo.Ingest.Signed.Documents, neo.Ingest.Workers)
			}
		}
		target := fmt.Sprintf("≥ %.0f/s (embedded)", TargetVerifiedPerS)
		if neo != nil && neo.Ingest != nil {
			target += fmt.Sprintf("; ≥ %.0f/s (Neo4j)", TargetNeo4jVerifiedPerS)
			if st == na {
				st = status(neo.Ingest.Signed.DocsPerS >= TargetNeo4jVerifiedPerS)
			} else {
				st += "; " + status(neo.Ingest.Signed.DocsPerS >= TargetNeo4jVerifiedPerS)
			}
		}
		row("Verified signed documents/s (OMS bundles, signed attestations; ingest.Pipeline)", size, ec, nc, target, st)
		if emb != nil && emb.Ingest != nil && emb.Ingest.All.Documents > 0 {
			a := emb.Ingest.All
			row("All documents/s (signed + CycloneDX SBOMs + unsigned)", fmt.Sprintf("%d documents, %.0f MB", a.Documents, float64(emb.Ingest.Bytes)/1e6),
				fmt.Sprintf("%.0f/s", a.DocsPerS), na, na, na)
		}
	}
	if s := r.SBOM; s != nil {
		row("SBOM ingest vs GUAC in-process (same corpus)", fmt.Sprintf("%d documents, %.1f MB", s.Documents, s.MB),
			fmt.Sprintf("%.1fx by wall time, %.1fx by CPU (%.1f vs %.1f docs/s)", s.WallRatio, s.CPURatio, s.OursPerS, s.GUACPerS), na,
			fmt.Sprintf("≥ %.0fx", TargetSBOMRatio), status(s.WallRatio >= TargetSBOMRatio))
	}
	if x := r.Export; x != nil {
		cell := num(x.Ms) + " ms"
		if x.CPUMs > 0 {
			cell += fmt.Sprintf(" (%s ms CPU)", num(x.CPUMs))
		}
		row("AI-BOM export", "model with a 5,000-package SBOM", cell, na, fmt.Sprintf("< %s ms", num(TargetExportMs)), status(x.Ms < TargetExportMs))
	}
	for _, x := range r.Records {
		if x.Step == "query" && x.Size == 1_000_000 && x.Memory != nil {
			label := "RSS after open, index and queries"
			if b := r.find("build", "embedded", x.Size); b != nil && b.Load != nil && b.Load.CompactedBytes > 0 {
				label += " (compacted store)"
			}
			row(label, "1M"+graphSize(r.find("build", "embedded", x.Size)),
				fmt.Sprintf("%d MiB (peak %d MiB; %d MiB anonymous, %d MiB mapped store file)", x.Memory.RSS>>20, x.Memory.PeakRSS>>20, x.Memory.Anon>>20, x.Memory.File>>20), na, "< 1.5 GiB", status(float64(x.Memory.RSS) < TargetRSSBytes))
			row("Cold open (process start to index ready)", "1M", num(x.OpenSeconds)+" s", na, fmt.Sprintf("< %s s", num(TargetOpenSeconds)), status(x.OpenSeconds < TargetOpenSeconds))
		}
		if x.Step == "open-rebuild" && x.Size == 1_000_000 {
			row("Cold open after a crash (no index snapshot: full rebuild)", "1M", num(x.OpenSeconds)+" s", na, na, na)
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range r.Notes {
			b.WriteString("- " + n + "\n")
		}
	}
	return b.String()
}

// Markers delimit the generated table in docs/performance.md.
const (
	BeginMarker = "<!-- bench:begin (generated by make bench; edits between the markers are overwritten) -->"
	EndMarker   = "<!-- bench:end -->"
)

// UpdateDoc replaces what lies between the markers in doc with table. A
// document without markers gets them appended.
func UpdateDoc(doc []byte, table string) ([]byte, error) {
	bi := bytes.Index(doc, []byte(BeginMarker))
	ei := bytes.Index(doc, []byte(EndMarker))
	switch {
	case bi < 0 && ei < 0:
		var out bytes.Buffer
		out.Write(doc)
		if len(doc) > 0 && !bytes.HasSuffix(doc, []byte("\n")) {
			out.WriteString("\n")
		}
		fmt.Fprintf(&out, "\n%s\n%s%s\n", BeginMarker, table, EndMarker)
		return out.Bytes(), nil
	case bi < 0 || ei < 0 || ei < bi:
		return nil, errors.New("performance doc: bench markers are unbalanced")
	}
	var out bytes.Buffer
	out.Write(doc[:bi+len(BeginMarker)])
	out.WriteString("\n")
	out.WriteString(table)
	out.Write(doc[ei:])
	return out.Bytes(), nil
}
