package bulk

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Expand lists the files args name: files as given, directories walked
// recursively in lexical order (hidden directories left out).
func Expand(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() != "." && len(d.Name()) > 1 && d.Name()[0] == '.' {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// TotalSize is the bytes of files (those it can stat), for progress.
func TotalSize(files []string) int64 {
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}

// Printer renders a run as `modelgraph ingest` prints it: in text, a line
// per document (or rejected file) as it completes and the summary; in
// JSON, one object with every file and the summary at the end.
type Printer struct {
	W    io.Writer
	JSON bool
	// Clear, when set, is called before each text line (it clears a
	// progress bar, which redraws below).
	Clear    func()
	outcomes []Outcome
}

// Outcome is Run's emit.
func (p *Printer) Outcome(oc Outcome) {
	if p.JSON {
		p.outcomes = append(p.outcomes, oc)
		return
	}
	if p.Clear != nil {
		p.Clear()
	}
	if r := oc.Rejection; r != nil {
		fmt.Fprintf(p.W, "%s: rejected (%s): %s\n", oc.Source, r.Kind, rejectionText(oc))
		return
	}
	for _, r := range oc.Results {
		fmt.Fprintln(p.W, r.Line())
		for _, warn := range r.Warnings {
			fmt.Fprintf(p.W, "%s: warning: %s\n", r.Source, warn)
		}
	}
}

// Finish prints the summary (text) or the whole run (JSON).
func (p *Printer) Finish(s Summary) error {
	if p.JSON {
		if p.outcomes == nil {
			p.outcomes = []Outcome{}
		}
		s.Rejections = nil // already in files
		enc := json.NewEncoder(p.W)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Files   []Outcome `json:"files"`
			Summary Summary   `json:"summary"`
		}{p.outcomes, s})
	}
	secs := s.Elapsed.Seconds()
	fmt.Fprintf(p.W, "ingested %d file(s), %.1f MB in %s (%.1f MB/s, %.1f documents/s): %d new document(s), %d duplicate(s), %d rejected",
		s.Files, float64(s.Bytes)/1e6, s.Elapsed.Round(time.Millisecond), float64(s.Bytes)/1e6/max(secs, 1e-9),
		float64(s.Documents+s.Duplicates)/max(secs, 1e-9), s.Documents, s.Duplicates, s.Rejected)
	if s.Skipped > 0 {
		fmt.Fprintf(p.W, ", %d not tried (--fail-fast)", s.Skipped)
	}
	fmt.Fprintln(p.W)
	if len(s.Rejections) > 0 {
		fmt.Fprintln(p.W, "rejected:")
		for _, oc := range s.Rejections {
			fmt.Fprintf(p.W, "  %s (%s): %s\n", oc.Source, oc.Rejection.Kind, rejectionText(oc))
		}
	}
	_, err := fmt.Fprint(p.W)
	return err
}

// rejectionText is the reason without the file name the line starts with.
func rejectionText(oc Outcome) string {
	r := oc.Rejection
	msg := strings.TrimPrefix(r.Message, oc.Source+": ")
	var at []string
	if r.Field != "" {
		at = append(at, "field "+r.Field)
	}
	if r.Line > 0 {
		at = append(at, fmt.Sprintf("line %d", r.Line))
	}
	if len(at) > 0 {
		return strings.Join(at, ", ") + ": " + msg
	}
	return msg
}
