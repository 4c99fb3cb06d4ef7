package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// RunAll runs every collector at once until all return, and joins their
// failures.
func (r *Runner) RunAll(ctx context.Context, cs []Collector) error {
	errc := make(chan error, len(cs))
	for _, c := range cs {
		go func() { errc <- r.Run(ctx, c) }()
	}
	var errs []error
	for range cs {
		if err := <-errc; err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// WriteOutcome prints o as `modelgraph collect` does: a line per document
// ingested, skipped or failed (nothing for content already collected), or
// with asJSON one JSON object per line.
func WriteOutcome(w io.Writer, asJSON bool, o Outcome) {
	if asJSON {
		rec := struct {
			Source  string `json:"source"`
			Results any    `json:"results,omitempty"`
			Error   string `json:"error,omitempty"`
			Skipped string `json:"skipped,omitempty"`
			Seen    bool   `json:"unchanged,omitempty"`
		}{Source: o.Source, Skipped: o.Reason, Seen: o.Seen}
		if len(o.Results) > 0 {
			rec.Results = o.Results
		}
		if o.Err != nil {
			rec.Error = o.Err.Error()
		}
		b, _ := json.Marshal(rec)
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	switch {
	case o.Seen:
		// Same content as a file already collected in this run: say nothing.
	case o.Skipped:
		fmt.Fprintf(w, "%s: skipped: %s\n", o.Source, o.Reason)
	case o.Err != nil:
		fmt.Fprintf(w, "%s: error: %v\n", o.Source, o.Err)
	default:
		for _, r := range o.Results {
			fmt.Fprintln(w, r.Line())
		}
	}
}

// String is the run's summary line.
func (s Stats) String() string {
	return fmt.Sprintf("collected %d documents: %d new, %d already stored, %d failed, %d skipped, %d unchanged",
		s.Documents, s.Ingested, s.Duplicates, s.Failed, s.Skipped, s.Unchanged)
}
