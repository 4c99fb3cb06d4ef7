package reliability

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/internal/testserve"
)

// startServer runs serve on dataDir and waits until it listens.
func startServer(t testing.TB, dataDir string, extra ...string) *testserve.Server {
	t.Helper()
	return startServerIn(t, "", dataDir, extra...)
}

// startServerIn is startServer with the process placed in a cgroup first
// (procs: the cgroup's cgroup.procs file; "" for none).
func startServerIn(t testing.TB, procs, dataDir string, extra ...string) *testserve.Server {
	t.Helper()
	args := append([]string{"--listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "error"}, extra...)
	return testserve.Start(t, testserve.Options{Cgroup: procs, Stderr: os.Stderr}, args...)
}

// receipt is the part of the push endpoint's answer the harness needs.
type receipt struct {
	Document  string `json:"document"`
	Duplicate bool   `json:"duplicate"`
}

// errBusy: the server answered 503 (its ingest budget was full) every
// time push asked.
var errBusy = errors.New("push: server busy (503) after retries")

// push sends one document and returns the acknowledged document digests.
// A 503 (the ingest budget is full) is retried after its Retry-After, a
// few times, as a well-behaved client does.
func push(ctx context.Context, client *http.Client, base string, body []byte) ([]receipt, error) {
	for range 5 {
		rs, retry, err := pushOnce(ctx, client, base, body)
		if retry == 0 {
			return rs, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(retry):
		}
	}
	return nil, errBusy
}

func pushOnce(ctx context.Context, client *http.Client, base string, body []byte) ([]receipt, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/ingest", strings.NewReader(string(body)))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/vnd.in-toto+json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return nil, time.Duration(max(secs, 1)) * time.Second, nil
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return nil, 0, fmt.Errorf("push: %d %s", resp.StatusCode, raw)
	}
	rs, err := decodeReceipts(raw)
	return rs, 0, err
}

// decodeReceipts collects every receipt object ({"document": "sha256:...",
// "duplicate": bool, ...}) in the endpoint's answer, whatever wraps it.
func decodeReceipts(raw []byte) ([]receipt, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("receipt is not JSON: %w", err)
	}
	var out []receipt
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			if d, ok := t["document"].(string); ok && strings.HasPrefix(d, "sha256:") {
				if _, ok := t["duplicate"]; ok {
					dup, _ := t["duplicate"].(bool)
					out = append(out, receipt{Document: d, Duplicate: dup})
					return
				}
			}
			for _, y := range t {
				walk(y)
			}
		case []any:
			for _, y := range t {
				walk(y)
			}
		}
	}
	walk(v)
	if len(out) == 0 {
		return nil, fmt.Errorf("no receipt in answer: %.200s", raw)
	}
	return out, nil
}
