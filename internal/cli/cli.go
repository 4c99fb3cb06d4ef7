// Package cli holds the command line's questions: each one is a GraphQL
// operation of internal/client (with the flags that fill its variables)
// and a renderer (a text table; --output json prints the operation's
// answer). The same question runs against a server (--server) or
// in-process against the local store through the same GraphQL handler
// (Local), so both print the same bytes.
package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/spf13/pflag"

	"github.com/modelgraph/modelgraph/internal/app"
	"github.com/modelgraph/modelgraph/internal/client"
	"github.com/modelgraph/modelgraph/internal/config"
	"github.com/modelgraph/modelgraph/internal/gql"
	"github.com/modelgraph/modelgraph/internal/posture"
)

// Exit statuses of verdicts.
const (
	// ExitDenied: an admission the policy denies.
	ExitDenied = 3
	// ExitBelowLevel: a posture below --min-level.
	ExitBelowLevel = 3
)

// PageSize is the page size asked for by list questions: small enough for
// a server's complexity limit with the operations' full selections (a
// variable so tests can make answers span many pages).
var PageSize = 200

// MaxItems bounds what one answer collects over all its pages.
const MaxItems = 100_000

// ExitError is a failure with its process exit status (a denied
// admission, a posture below the gate).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Question is one CLI question: its flags, and how it runs and prints.
type Question struct {
	Name, Short, Example string
	// Use overrides Name as the command's usage line (positional args).
	Use string
	// Required names flags that must be given.
	Required []string
	// Formats are the --output values it prints (default table, json).
	Formats []string
	// PolicyFlag names the flag of a posture policy YAML for local runs
	// ("": none).
	PolicyFlag string
	// Flags registers the question's own flags.
	Flags func(fs *pflag.FlagSet)
	// Args takes positional arguments (nil: none).
	Args func(args []string) error
	// Run asks c and prints the answer to w in format.
	Run func(ctx context.Context, c graphql.Client, w io.Writer, format string) error
}

// CheckFormat refuses an --output the question does not print.
func (q Question) CheckFormat(format string) error {
	fs := q.Formats
	if fs == nil {
		fs = []string{"table", "json"}
	}
	if !slices.Contains(fs, format) {
		return fmt.Errorf("--output %q: want %s", format, strings.Join(fs, ", "))
	}
	return nil
}

// answer makes a Run of a fetch, a table renderer and an optional verdict
// on the answer (an exit status).
func answer[R any](fetch func(context.Context, graphql.Client) (R, error), table func(io.Writer, R), verdict func(R) error) func(context.Context, graphql.Client, io.Writer, string) error {
	return func(ctx context.Context, c graphql.Client, w io.Writer, format string) error {
		r, err := fetch(ctx, c)
		if err != nil {
			return err
		}
		if format == "json" {
			err = WriteJSON(w, r)
		} else {
			table(w, r)
		}
		if err != nil || verdict == nil {
			return err
		}
		return verdict(r)
	}
}

// WriteJSON prints v as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// pages collects every page of a list answer: fetch returns one page,
// info its PageInfo, merge appends a page to the first (returning how
// many items the page held).
func pages[R any](fetch func(after string) (R, error), info func(*R) client.PageInfoFields, merge func(acc *R, next R) int) (R, error) {
	acc, err := fetch("")
	if err != nil {
		return acc, err
	}
	total := merge(new(R), acc)
	for {
		pi := info(&acc)
		if !pi.HasNextPage || pi.EndCursor == "" {
			return acc, nil
		}
		if total >= MaxItems {
			fmt.Fprintf(os.Stderr, "warning: stopped after %d items; use `query --graphql` with paging for more\n", total)
			return acc, nil
		}
		next, err := fetch(pi.EndCursor)
		if err != nil {
			return acc, err
		}
		if info(&next).EndCursor == pi.EndCursor {
			return acc, nil
		}
		total += merge(&acc, next)
	}
}

// LocalTimeout is an operation's deadline in a local run (a server's is
// gql.DefaultTimeout): the user waits for their own machine. Every other
// limit (depth, complexity, document limits) is the server's default, so
// an operation a server refuses is refused locally too.
const LocalTimeout = 10 * time.Minute

// Local opens the configured store and returns a client of the GraphQL
// handler over it, in this process, with the posture policy pp (zero:
// the defaults); close releases the store. It answers queries only.
// Internal errors, which the
// answer names only as "internal error", are logged to stderr.
func Local(ctx context.Context, c config.Config, pp posture.Policy) (cl *client.Client, close func() error, err error) {
	store, err := app.OpenStore(ctx, c)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the store %s: %w (if `modelgraph serve` is using it, ask the server: --server URL)", c.EmbeddedPath(), err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	// Local runs only read: mutations (ingest, createAdvisory) are refused
	// (`modelgraph ingest` writes to the local store).
	readOnly := func(context.Context) bool { return false }
	h := gql.NewHandler(gql.Options{Reader: store, Posture: pp, Timeout: LocalTimeout, Log: log, CanWrite: readOnly})
	return client.InProcess(h), store.Close, nil
}

// Remote returns a client of the server at base with the token (empty:
// none) and a per-request timeout.
func Remote(base, token, userAgent string, timeout time.Duration) *client.Client {
	return client.Remote(base, token, userAgent, &http.Client{Timeout: timeout})
}

// parseKinds turns --kind values into node kinds, any case.
func parseKinds(ks []string) ([]client.NodeKind, error) {
	var out []client.NodeKind
	for _, k := range ks {
		nk, ok := NodeKind(k)
		if !ok {
			return nil, fmt.Errorf("--kind %q: want one of %v", k, client.AllNodeKind)
		}
		out = append(out, nk)
	}
	return out, nil
}

// NodeKind finds the node kind s names, any case.
func NodeKind(s string) (client.NodeKind, bool) {
	for _, nk := range client.AllNodeKind {
		if strings.EqualFold(s, string(nk)) {
			return nk, true
		}
	}
	return "", false
}

// parseTime parses an RFC 3339 time or a date (nil for "").
func parseTime(flag, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, fmt.Errorf("--%s %q: want an RFC 3339 time or a date (2025-06-01)", flag, s)
}
