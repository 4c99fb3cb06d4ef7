package watch

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// errStop ends Stream without an error.
var errStop = errors.New("stop")

// Stop, returned by Stream's callback, ends the stream cleanly.
func Stop() error { return errStop }

// MaxSSELine bounds one line of the event stream a client reads.
const MaxSSELine = 1 << 20

// Stream reads the server's event stream (base + "/v1/watch/events") and
// calls fn for each event, from the one after `after` ("" for the
// server's default, "latest" for new ones only). When the server ends
// the stream (its request deadline) or the connection drops, it
// reconnects with Last-Event-ID after a backoff (1s doubling to 30s,
// reset by every event), so no event the server still holds is missed.
// It returns when ctx ends, fn returns an error (Stop() for none), or the
// server refuses the request (4xx).
func Stream(ctx context.Context, client *http.Client, base, token, after string, fn func(Event) error) error {
	wait := time.Second
	for {
		_, err := streamOnce(ctx, client, base, token, after, func(e Event) error {
			after = strconv.FormatInt(e.Seq, 10)
			wait = time.Second
			return fn(e)
		})
		switch {
		case errors.Is(err, errStop):
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && isFatal(err):
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

type fatalError struct{ error }

func isFatal(err error) bool {
	var f fatalError
	return errors.As(err, &f)
}

func streamOnce(ctx context.Context, client *http.Client, base, token, after string, fn func(Event) error) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/v1/watch/events", nil)
	if err != nil {
		return 0, fatalError{err}
	}
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if after != "" {
		req.Header.Set("Last-Event-ID", after)
		q := req.URL.Query()
		q.Set("after", after)
		req.URL.RawQuery = q.Encode()
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		err := fmt.Errorf("watch stream: %s: %s", resp.Status, strings.TrimSpace(string(b)))
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			return 0, fatalError{err}
		}
		return 0, err
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), MaxSSELine)
	n := 0
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() > 0 {
				var e Event
				if err := json.Unmarshal([]byte(data.String()), &e); err != nil {
					return n, fatalError{fmt.Errorf("watch stream: event is not JSON: %w", err)}
				}
				data.Reset()
				n++
				if err := fn(e); err != nil {
					return n, err
				}
			}
		case strings.HasPrefix(line, "data:"):
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	return n, sc.Err()
}

// FollowOptions say how Follow prints.
type FollowOptions struct {
	After string // as Stream's after
	JSON  bool   // JSON Lines instead of text lines
	Count int    // stop after this many events (0: until ctx ends)
	// HeaderTimeout bounds connecting and the answer's headers (a stream
	// has no overall timeout).
	HeaderTimeout time.Duration
}

// Follow prints the server's events to w as `modelgraph watch` does: one
// line per event (time, severity, kind, trust, summary) or one JSON
// object. It returns nil when ctx ends (interrupted) or Count is reached.
func Follow(ctx context.Context, base, token string, o FollowOptions, w io.Writer) error {
	hc := &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: o.HeaderTimeout, IdleConnTimeout: time.Minute}}
	enc := json.NewEncoder(w)
	seen := 0
	err := Stream(ctx, hc, base, token, o.After, func(e Event) error {
		if o.JSON {
			if err := enc.Encode(e); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(w, "%s  %-8s  %-28s  %-12s  %s\n", e.DetectedAt.UTC().Format(time.RFC3339), e.Severity, e.Kind, e.Trust, e.Summary)
		}
		if seen++; o.Count > 0 && seen >= o.Count {
			return Stop()
		}
		return nil
	})
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil // interrupted
	}
	return err
}
