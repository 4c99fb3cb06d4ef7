// Package perf is modelgraph's performance harness: it builds synthetic
// supply chains (internal/synth) in a store, measures the queries incident
// responders run (impact of a dataset, trace of a deployment), ingest of
// signed documents end to end, process memory and open time, and renders
// the figures against the project's targets as one table
// (docs/performance.md). cmd/mgbench drives it; deploy/dev/bench.sh is
// `make bench`.
package perf

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Latencies collects the durations of repeated operations (and their
// result sizes, since a walk's cost follows what it reaches).
type Latencies struct {
	d    []time.Duration
	size []int
	cpu  *Latencies // CPU time per operation, when measured (SetCPU)
}

// Add records one operation.
func (l *Latencies) Add(d time.Duration) { l.d = append(l.d, d) }

// AddSized records one operation that returned size items.
func (l *Latencies) AddSized(d time.Duration, size int) {
	l.d = append(l.d, d)
	l.size = append(l.size, size)
}

// N is the number of operations recorded.
func (l *Latencies) N() int { return len(l.d) }

// Quantile returns the q-quantile (0 < q <= 1) by the nearest-rank method:
// the smallest recorded duration with at least q of the operations at or
// below it. Zero when nothing was recorded.
func (l *Latencies) Quantile(q float64) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	rank := int(math.Ceil(q * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// Summary is a latency distribution as reported.
type Summary struct {
	N        int     `json:"n"`
	P50ms    float64 `json:"p50ms"`
	P99ms    float64 `json:"p99ms"`
	MaxMs    float64 `json:"maxms"`
	MeanSize float64 `json:"meanSize"` // nodes returned per operation
	P99Size  int     `json:"p99Size"`  // 99th percentile of the nodes returned
	MaxSize  int     `json:"maxSize"`
	// CPU per operation (the thread's CPU time around it; see threadCPU),
	// when measured: on a loaded machine the wall-clock percentiles above
	// include waiting for a core, these do not.
	CPUP50ms float64 `json:"cpuP50ms,omitempty"`
	CPUP99ms float64 `json:"cpuP99ms,omitempty"`
	CPUMaxMs float64 `json:"cpuMaxMs,omitempty"`
}

// SetCPU attaches the CPU time of each operation recorded in l (Summarize
// reports its percentiles).
func (l *Latencies) SetCPU(cpu *Latencies) { l.cpu = cpu }

// Summarize reports l; size is the total result size over the operations
// (AddSized's sizes are used when there are any).
func (l *Latencies) Summarize(size int) Summary {
	s := Summary{N: l.N(), P50ms: ms(l.Quantile(0.5)), P99ms: ms(l.Quantile(0.99)), MaxMs: ms(l.Quantile(1))}
	if len(l.size) > 0 {
		sz := slices.Clone(l.size)
		slices.Sort(sz)
		size = 0
		for _, v := range sz {
			size += v
		}
		s.P99Size = sz[min(max(int(math.Ceil(0.99*float64(len(sz))))-1, 0), len(sz)-1)]
		s.MaxSize = sz[len(sz)-1]
	}
	if l.cpu != nil && l.cpu.N() > 0 {
		s.CPUP50ms, s.CPUP99ms, s.CPUMaxMs = ms(l.cpu.Quantile(0.5)), ms(l.cpu.Quantile(0.99)), ms(l.cpu.Quantile(1))
	}
	if s.N > 0 {
		s.MeanSize = float64(size) / float64(s.N)
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Memory is the process's memory as the kernel counts it.
type Memory struct {
	RSS     int64 `json:"rss"`     // resident now (VmRSS), bytes
	PeakRSS int64 `json:"peakRss"` // high-water mark (VmHWM), bytes
	// Anon is RssAnon (the heap: index, caches); File is RssFile, pages of
	// mapped files, here mostly the store file bbolt maps: clean page cache
	// the kernel can drop under pressure, but resident and counted.
	Anon int64 `json:"anon"`
	File int64 `json:"file"`
}

// ReadMemory reads /proc/self/status (Linux). Elsewhere it fails.
func ReadMemory() (Memory, error) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return Memory{}, fmt.Errorf("read memory: %w", err)
	}
	return parseStatus(raw)
}

func parseStatus(raw []byte) (Memory, error) {
	var m Memory
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.PeakRSS
		case "RssAnon":
			dst = &m.Anon
		case "RssFile":
			dst = &m.File
		default:
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("read memory: %s: unexpected %q", name, rest)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err == nil && (kb < 0 || kb > 1<<40) {
			err = fmt.Errorf("%d kB is out of range", kb)
		}
		if err != nil {
			return m, fmt.Errorf("read memory: %s: %w", name, err)
		}
		*dst = kb << 10
		if name == "VmRSS" || name == "VmHWM" {
			found++
		}
	}
	if found != 2 {
		return m, fmt.Errorf("read memory: VmRSS or VmHWM missing")
	}
	return m, nil
}

// LoadAverage reads the 1-minute load average (Linux), so every figure is
// reported with how busy the machine was.
func LoadAverage() float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// Record is one measurement step's result: mgbench prints one per run and
// the report reads them back (JSON Lines).
type Record struct {
	Step    string  `json:"step"`              // build | query | neo4j | ingest
	Backend string  `json:"backend,omitempty"` // embedded | neo4j
	Size    int     `json:"size,omitempty"`    // requested node count
	LoadAvg float64 `json:"loadAvg"`           // 1-minute load average when the step ended

	Load        *LoadResult   `json:"load,omitempty"`
	OpenSeconds float64       `json:"openSeconds,omitempty"` // cold open: process start to index rebuilt
	Query       *QueryResult  `json:"query,omitempty"`
	Memory      *Memory       `json:"memory,omitempty"`
	Ingest      *IngestResult `json:"ingest,omitempty"`
}
