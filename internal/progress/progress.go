// Package progress shows how far a bulk command (ingest, push) has got:
// on a terminal a progress bar (github.com/schollz/progressbar/v3) with
// files, MB, MB/s, documents per second and the time left; elsewhere a
// plain line every few seconds (logs stay readable); or nothing.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Modes.
const (
	Auto  = "auto"  // bar on a terminal, plain lines otherwise
	Bar   = "bar"   // always the bar
	Plain = "plain" // always plain lines
	None  = "none"
)

// PlainEvery is how often plain mode prints a line; Throttle how often the
// bar may redraw.
var (
	PlainEvery = 2 * time.Second
	Throttle   = 100 * time.Millisecond
)

// Meter counts files, bytes and documents done out of a known total.
type Meter struct {
	mu                sync.Mutex
	w                 io.Writer
	bar               *progressbar.ProgressBar
	plain             bool
	files, totalFiles int
	bytes, totalBytes int64
	docs              int
	start, last       time.Time
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// New returns a meter writing to w in mode (Auto, Bar, Plain, None) for
// files files of totalBytes bytes. It never returns nil; mode None (or a
// single file in Auto) shows nothing.
func New(w io.Writer, mode string, files int, totalBytes int64) (*Meter, error) {
	m := &Meter{w: w, totalFiles: files, totalBytes: totalBytes, start: time.Now()}
	m.last = m.start
	switch mode {
	case Auto:
		if files < 2 {
			return m, nil
		}
		if IsTerminal(w) {
			m.bar = newBar(w, totalBytes)
		} else {
			m.plain = true
		}
	case Bar:
		m.bar = newBar(w, totalBytes)
	case Plain:
		m.plain = true
	case None, "":
	default:
		return nil, fmt.Errorf("--progress %q: want auto, bar, plain or none", mode)
	}
	return m, nil
}

func newBar(w io.Writer, total int64) *progressbar.ProgressBar {
	return progressbar.NewOptions64(max(total, 1),
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetWidth(24),
		progressbar.OptionThrottle(Throttle),
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)
}

// Done records one file of n bytes that gave docs documents.
func (m *Meter) Done(n int64, docs int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files++
	m.bytes += n
	m.docs += docs
	switch {
	case m.bar != nil:
		m.bar.Describe(m.status(false))
		_ = m.bar.Add64(n)
	case m.plain && time.Since(m.last) >= PlainEvery:
		m.last = time.Now()
		fmt.Fprintln(m.w, m.status(true))
	}
}

// status is "12/340 files, 3.1 MB, 28.0 docs/s" (plain adds the MB total,
// MB/s and ETA, which the bar shows itself).
func (m *Meter) status(plain bool) string {
	el := time.Since(m.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(m.docs) / el
	}
	if !plain {
		return fmt.Sprintf("%d/%d files, %.1f docs/s", m.files, m.totalFiles, rate)
	}
	mb := float64(m.bytes) / 1e6
	eta := "?"
	if m.bytes > 0 && el > 0 {
		left := time.Duration(float64(m.totalBytes-m.bytes) / (float64(m.bytes) / el) * float64(time.Second))
		eta = left.Round(time.Second).String()
	}
	return fmt.Sprintf("progress: %d/%d files, %.1f/%.1f MB, %.1f MB/s, %.1f docs/s, ETA %s",
		m.files, m.totalFiles, mb, float64(m.totalBytes)/1e6, mb/max(el, 1e-9), rate, eta)
}

// Finish clears the bar (the summary follows) or prints a last plain line.
func (m *Meter) Finish() {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.bar != nil:
		_ = m.bar.Finish()
	case m.plain:
		fmt.Fprintln(m.w, m.status(true))
	}
}

// Clear erases the bar's line so a line of output can be printed above it
// (the bar redraws on the next file).
func (m *Meter) Clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bar != nil {
		_ = m.bar.Clear()
	}
}
