package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/modelgraph/modelgraph/internal/perf"
)

func reportCmd(fs *flag.FlagSet) func(context.Context) (any, error) {
	results := fs.String("results", "", "JSON Lines of mgbench records")
	sbomOut := fs.String("sbom", "", "output of go test -bench IngestVsGUAC ./internal/guacexport/")
	exportOut := fs.String("export", "", "output of go test -bench Export ./aibom/")
	doc := fs.String("doc", "", "markdown file to update between the bench markers")
	commit := fs.String("commit", "", "commit measured")
	loadStart := fs.Float64("load-start", -1, "load average when the run started")
	var notes multiFlag
	fs.Var(&notes, "note", "a line to show under the table (repeatable)")
	return func(context.Context) (any, error) {
		if *results == "" {
			return nil, errors.New("report: -results is required")
		}
		r := perf.Report{Env: env(*commit, *loadStart), Notes: notes}
		raw, err := os.ReadFile(*results)
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			var rec perf.Record
			if err := json.Unmarshal(line, &rec); err != nil {
				return nil, fmt.Errorf("report: %s: %w", *results, err)
			}
			r.Records = append(r.Records, rec)
		}
		if *sbomOut != "" {
			if r.SBOM, err = parseFile(*sbomOut, perf.ParseSBOMRatio); err != nil {
				r.Notes = append(r.Notes, fmt.Sprintf("SBOM ingest vs GUAC: %v (see %s)", err, *sbomOut))
			}
		}
		if *exportOut != "" {
			if r.Export, err = parseFile(*exportOut, perf.ParseExport); err != nil {
				r.Notes = append(r.Notes, fmt.Sprintf("AI-BOM export: %v (see %s)", err, *exportOut))
			}
		}
		table := r.Markdown()
		fmt.Print(table)
		if *doc != "" {
			old, err := os.ReadFile(*doc)
			if err != nil && !os.IsNotExist(err) {
				return nil, fmt.Errorf("report: %w", err)
			}
			updated, err := perf.UpdateDoc(old, table)
			if err != nil {
				return nil, fmt.Errorf("report: %s: %w", *doc, err)
			}
			if err := os.WriteFile(*doc, updated, 0o644); err != nil {
				return nil, fmt.Errorf("report: %w", err)
			}
		}
		return nil, nil
	}
}

func parseFile[T any](path string, parse func([]byte) (*T, error)) (*T, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parse(raw)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, "; ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func env(commit string, loadStart float64) perf.Env {
	e := perf.Env{Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Commit: commit, Go: runtime.Version(), Cores: runtime.NumCPU(), LoadStart: loadStart}
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(raw), "\n") {
			if name, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(name) == "model name" {
				e.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		if _, err := fmt.Sscanf(string(raw), "MemTotal: %f kB", &kb); err == nil {
			e.MemGiB = kb / (1 << 20)
		}
	}
	if e.CPU == "" {
		e.CPU = runtime.GOARCH
	}
	return e
}
