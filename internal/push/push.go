package push

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/modelgraph/modelgraph/ingest"
)

// Options of a push.
type Options struct {
	// Subject and Role are the ?subject= and ?role= of SBOMs.
	Subject, Role string
	// ContentType is sent as is ("": the server detects the format).
	ContentType string
	// MaxBytes refuses larger files before sending.
	MaxBytes int64
	// Parallel files are pushed at once (1 when 0).
	Parallel int
	// Retries and RetryWait, when set, replace the server's Retries and
	// Backoff for this push.
	Retries   int
	RetryWait time.Duration
	// Report, when set, sees every file's result as it completes (calls
	// are serialised).
	Report func(Result)
}

// AddFlags registers the options as `modelgraph push`'s flags, with
// their defaults.
func (o *Options) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.Subject, "subject", "", "digest the SBOMs describe (e.g. sha256:...)")
	f.StringVar(&o.Role, "role", "", "SBOM role: serving-image or training-environment")
	f.StringVar(&o.ContentType, "content-type", "", "content type to send (default: let the server detect the format)")
	f.IntVar(&o.Retries, "retries", 5, "retries per file on 5xx, 429 and connection errors")
	f.DurationVar(&o.RetryWait, "retry-wait", 500*time.Millisecond, "first retry delay; it doubles each retry (up to 30s), with jitter")
	f.IntVar(&o.Parallel, "parallel", 4, "files pushed concurrently")
	f.Int64Var(&o.MaxBytes, "max-bytes", 64<<20, "refuse files larger than this before sending")
}

// Check reports options out of range, naming the flag.
func (o Options) Check() error {
	switch {
	case o.Parallel < 1 || o.Parallel > 64:
		return fmt.Errorf("--parallel %d: want 1..64", o.Parallel)
	case o.Retries < 0 || o.Retries > 20:
		return fmt.Errorf("--retries %d: want 0..20", o.Retries)
	case o.RetryWait <= 0:
		return fmt.Errorf("--retry-wait %s: must be positive", o.RetryWait)
	}
	return nil
}

// Result is one file's outcome.
type Result struct {
	Path     string         `json:"path"`
	Status   int            `json:"status,omitempty"`
	Attempts int            `json:"attempts"`
	Receipt  ingest.Receipt `json:"receipt,omitzero"`
	Error    string         `json:"error,omitempty"`
	Bytes    int64          `json:"-"`
}

// Push sends every file to s, o.Parallel at a time, and returns their
// results in the order of files. A file not tried because ctx ended says
// so in its Error.
func Push(ctx context.Context, s *Server, files []string, o Options) []Result {
	if o.RetryWait > 0 {
		c := *s
		c.Retries, c.Backoff = o.Retries, o.RetryWait
		s = &c
	}
	results := make([]Result, len(files))
	var mu sync.Mutex
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(max(o.Parallel, 1), len(files)) {
		wg.Go(func() {
			for i := range next {
				results[i] = one(ctx, s, files[i], o)
				if o.Report != nil {
					mu.Lock()
					o.Report(results[i])
					mu.Unlock()
				}
			}
		})
	}
	for i := range files {
		if ctx.Err() != nil {
			results[i] = Result{Path: files[i], Error: ctx.Err().Error()}
			continue
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

func one(ctx context.Context, s *Server, path string, o Options) Result {
	r := Result{Path: path}
	data, err := readFile(path, o.MaxBytes)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Bytes = int64(len(data))
	q := url.Values{"source": {path}}
	if o.Subject != "" {
		q.Set("subject", o.Subject)
	}
	if o.Role != "" {
		q.Set("role", o.Role)
	}
	resp, attempts, err := s.Do(ctx, http.MethodPost, "/v1/ingest?"+q.Encode(), o.ContentType, data)
	r.Attempts = attempts
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Status = resp.Status
	if resp.Status != http.StatusOK && resp.Status != http.StatusCreated {
		r.Error = resp.ErrorText()
		return r
	}
	if err := json.Unmarshal(resp.Body, &r.Receipt); err != nil {
		r.Error = fmt.Sprintf("reading the receipt: %v", err)
	}
	return r
}

// readFile reads path, refusing it when larger than max bytes (max <= 0:
// ingest.DefaultMaxBytes).
func readFile(path string, max int64) ([]byte, error) {
	if max <= 0 {
		max = ingest.DefaultMaxBytes
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", path, ingest.ErrTooLarge, max)
	}
	return data, nil
}

// WriteResult prints r as lines: the failure, or one line per document
// the server recorded.
func WriteResult(w io.Writer, r Result) {
	if r.Error != "" {
		fmt.Fprintf(w, "%s: FAILED: %s\n", r.Path, r.Error)
	}
	for _, d := range r.Receipt.Documents {
		fmt.Fprintln(w, ReceiptLine(r.Path, d))
	}
}

// ReceiptLine is one document the server recorded: type, digest, status,
// what it created and updated, each signature's outcome.
func ReceiptLine(path string, d ingest.DocumentReceipt) string {
	what := d.Type
	if what == "" {
		what = d.Format
	}
	if d.Duplicate {
		return fmt.Sprintf("%s: %s %s duplicate (already recorded)", path, what, d.Document)
	}
	line := fmt.Sprintf("%s: %s %s %s, %d nodes and %d edges created, %d nodes and %d edges updated", path, what, d.Document, d.Status,
		d.NodesCreated, d.EdgesCreated, d.NodesTouched, d.EdgesTouched)
	for _, s := range d.Signatures {
		who := s.Identity
		if who == "" {
			who = "key " + s.KeyID
		}
		line += fmt.Sprintf("; signature %s by %s", s.Status, who)
		if s.Reason != "" {
			line += " (" + s.Reason + ")"
		}
	}
	return line
}

// Totals counts new and duplicate documents and failed files.
type Totals struct{ Files, Documents, Duplicates, Failed int }

// Count totals results.
func Count(results []Result) Totals {
	t := Totals{Files: len(results)}
	for _, r := range results {
		if r.Error != "" {
			t.Failed++
			continue
		}
		for _, d := range r.Receipt.Documents {
			if d.Duplicate {
				t.Duplicates++
			} else {
				t.Documents++
			}
		}
	}
	return t
}

func (t Totals) String() string {
	return fmt.Sprintf("pushed %d file(s): %d new document(s), %d duplicate(s), %d failed", t.Files, t.Documents, t.Duplicates, t.Failed)
}
