package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/progress"
)

func newPushCommand() *cobra.Command {
	var (
		c                 apiFlags
		subject, role, ct string
		output            string
		progressMode      string
		retries, parallel int
		maxBytes          int64
		retryWait         time.Duration
	)
	cmd := &cobra.Command{
		Use:   "push --server URL [--token-file FILE] PATH...",
		Short: "Push documents to a modelgraph server (POST /v1/ingest), for CI",
		Long: `Push sends each file (directories recursively) to the server's push
endpoint, one document per request, and prints what the server recorded: the
document digest, its detected type, how many nodes and edges it added, and
the verification status of its signatures.

Pushing is idempotent (documents are keyed by the digest of their bytes), so
requests that fail with a 5xx, 429 or a connection error are retried with
exponential backoff. A 4xx answer (malformed, unsupported, too large, bad
token) is reported and not retried. The exit status is 1 when any file
failed.

Progress goes to stderr as for ingest: a bar on a terminal (files, bytes,
MB/s, documents/s, time left), plain lines every few seconds otherwise
(--progress none to silence it).

The token is read from --token-file, else from MODELGRAPH_TOKEN; it needs
the write scope.`,
		Args: cobra.MinimumNArgs(1),
	}
	c.register(cmd.Flags())
	cmd.Flags().StringVar(&subject, "subject", "", "digest the SBOMs describe (e.g. sha256:...)")
	cmd.Flags().StringVar(&role, "role", "", "SBOM role: serving-image or training-environment")
	cmd.Flags().StringVar(&ct, "content-type", "", "content type to send (default: let the server detect the format)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output: text or json")
	cmd.Flags().IntVar(&retries, "retries", 5, "retries per file on 5xx, 429 and connection errors")
	cmd.Flags().DurationVar(&retryWait, "retry-wait", 500*time.Millisecond, "first retry delay; it doubles each retry (up to 30s), with jitter")
	cmd.Flags().IntVar(&parallel, "parallel", 4, "files pushed concurrently")
	cmd.Flags().StringVar(&progressMode, "progress", progress.Auto, "progress on stderr: auto (a bar on a terminal, plain lines otherwise), bar, plain or none")
	cmd.Flags().Int64Var(&maxBytes, "max-bytes", 64<<20, "refuse files larger than this before sending")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if output != "text" && output != "json" {
			return fmt.Errorf("--output %q: want text or json", output)
		}
		if parallel < 1 || parallel > 64 {
			return fmt.Errorf("--parallel %d: want 1..64", parallel)
		}
		if retries < 0 || retries > 20 {
			return fmt.Errorf("--retries %d: want 0..20", retries)
		}
		client, err := c.client()
		if err != nil {
			return err
		}
		if client == nil {
			return errors.New("--server is required (e.g. --server https://modelgraph.example)")
		}
		client.retries = retries
		if retryWait <= 0 {
			return fmt.Errorf("--retry-wait %s: must be positive", retryWait)
		}
		client.backoff = retryWait
		files, err := expand(args)
		if err != nil {
			return err
		}
		meter, err := progress.New(cmd.ErrOrStderr(), progressMode, len(files), totalSize(files))
		if err != nil {
			return err
		}
		p := &pusher{client: client, subject: subject, role: role, contentType: ct, maxBytes: maxBytes,
			out: cmd.OutOrStdout(), text: output == "text", meter: meter}
		results := p.run(cmd.Context(), files, parallel)
		if output == "json" {
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			if err := enc.Encode(results); err != nil {
				return err
			}
		}
		var failed, docs, dups int
		for _, r := range results {
			if r.Error != "" {
				failed++
				continue
			}
			for _, d := range r.Receipt.Documents {
				if d.Duplicate {
					dups++
				} else {
					docs++
				}
			}
		}
		if output == "text" {
			fmt.Fprintf(cmd.OutOrStdout(), "pushed %d file(s): %d new document(s), %d duplicate(s), %d failed\n", len(files), docs, dups, failed)
		}
		if failed > 0 {
			return &exitError{code: 1, err: fmt.Errorf("%d of %d file(s) failed", failed, len(files))}
		}
		return nil
	}
	return cmd
}

// pushResult is one file's outcome (the JSON output is a list of them).
type pushResult struct {
	Path     string         `json:"path"`
	Status   int            `json:"status,omitempty"`
	Attempts int            `json:"attempts"`
	Receipt  ingest.Receipt `json:"receipt,omitzero"`
	Error    string         `json:"error,omitempty"`
	bytes    int64
}

type pusher struct {
	client        *apiClient
	subject, role string
	contentType   string
	maxBytes      int64
	out           io.Writer
	text          bool
	meter         *progress.Meter
	mu            sync.Mutex
	done          int
}

func (p *pusher) run(ctx context.Context, files []string, parallel int) []pushResult {
	results := make([]pushResult, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(parallel, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = p.one(ctx, files[i])
				p.report(results[i])
			}
		}()
	}
	for i := range files {
		if ctx.Err() != nil {
			results[i] = pushResult{Path: files[i], Error: ctx.Err().Error()}
			continue
		}
		next <- i
	}
	close(next)
	wg.Wait()
	p.meter.Finish()
	return results
}

func (p *pusher) one(ctx context.Context, path string) pushResult {
	r := pushResult{Path: path}
	data, err := readLimited(path, p.maxBytes)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.bytes = int64(len(data))
	q := url.Values{"source": {path}}
	if p.subject != "" {
		q.Set("subject", p.subject)
	}
	if p.role != "" {
		q.Set("role", p.role)
	}
	resp, attempts, err := p.client.do(ctx, http.MethodPost, "/v1/ingest?"+q.Encode(), p.contentType, data)
	r.Attempts = attempts
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Status = resp.status
	if resp.status != http.StatusOK && resp.status != http.StatusCreated {
		r.Error = resp.errorText()
		return r
	}
	if err := json.Unmarshal(resp.body, &r.Receipt); err != nil {
		r.Error = fmt.Sprintf("reading the receipt: %v", err)
	}
	return r
}

func (p *pusher) report(r pushResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if p.text {
		p.meter.Clear() // the bar redraws below the lines
		if r.Error != "" {
			fmt.Fprintf(p.out, "%s: FAILED: %s\n", r.Path, r.Error)
		}
		for _, d := range r.Receipt.Documents {
			fmt.Fprintln(p.out, receiptLine(r.Path, d))
		}
	}
	p.meter.Done(r.bytes, len(r.Receipt.Documents))
}

func receiptLine(path string, d ingest.DocumentReceipt) string {
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

// apiFlags are the flags that point a command at a server.
type apiFlags struct {
	server    string
	tokenFile string
	timeout   time.Duration
}

func (a *apiFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&a.server, "server", "", "modelgraph server URL (e.g. https://modelgraph.example)")
	fs.StringVar(&a.tokenFile, "token-file", "", "file holding the API token (default: $MODELGRAPH_TOKEN)")
	fs.DurationVar(&a.timeout, "timeout", 2*time.Minute, "per-request timeout")
}

// client returns the API client, or nil when no server was given.
func (a *apiFlags) client() (*apiClient, error) {
	if a.server == "" {
		if a.tokenFile != "" {
			return nil, errors.New("--token-file needs --server")
		}
		return nil, nil
	}
	u, err := url.Parse(a.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--server %q: want an http:// or https:// URL", a.server)
	}
	token := os.Getenv("MODELGRAPH_TOKEN")
	if a.tokenFile != "" {
		b, err := os.ReadFile(a.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		token = strings.TrimSpace(string(b))
		if token == "" {
			return nil, fmt.Errorf("--token-file %s is empty", a.tokenFile)
		}
	}
	if u.Scheme == "http" && token != "" && !isLoopback(u.Hostname()) {
		fmt.Fprintf(os.Stderr, "warning: sending the API token over plain http to %s\n", u.Host)
	}
	return &apiClient{base: strings.TrimRight(u.String(), "/"), token: token, http: &http.Client{Timeout: a.timeout}, backoff: 500 * time.Millisecond}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// apiClient talks to a modelgraph server.
type apiClient struct {
	base    string
	token   string
	http    *http.Client
	retries int
	backoff time.Duration // first retry delay; doubles, capped at 30 s
}

type apiResponse struct {
	status     int
	body       []byte
	retryAfter string
}

// errorText renders the server's JSON error body.
func (r apiResponse) errorText() string {
	var e struct {
		Error struct {
			Code, Message, Document, Field string
			Line                           int
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code == "" {
		return fmt.Sprintf("HTTP %d: %s", r.status, strings.TrimSpace(string(r.body[:min(len(r.body), 300)])))
	}
	msg := fmt.Sprintf("HTTP %d %s: %s", r.status, e.Error.Code, e.Error.Message)
	if e.Error.Field != "" && !strings.Contains(e.Error.Message, e.Error.Field) {
		msg += " (field " + e.Error.Field + ")"
	}
	return msg
}

// retryable reports whether an answer may succeed when asked again.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusBadGateway ||
		status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout || status == http.StatusInternalServerError
}

// do sends one request, retrying 5xx, 429 and connection errors. It
// returns the final answer and how many attempts it took.
func (c *apiClient) do(ctx context.Context, method, path, contentType string, body []byte) (apiResponse, int, error) {
	delay := c.backoff
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, method, path, contentType, body)
		wait := delay
		switch {
		case err == nil && !retryable(resp.status):
			return resp, attempt, nil
		case err != nil && ctx.Err() != nil:
			return resp, attempt, err
		case attempt > c.retries:
			if err != nil {
				return resp, attempt, fmt.Errorf("after %d attempt(s): %w", attempt, err)
			}
			return resp, attempt, nil
		case err == nil:
			if s, perr := strconv.Atoi(resp.retryAfter); perr == nil && s > 0 {
				wait = min(time.Duration(s)*time.Second, time.Minute)
			}
		}
		// Full jitter keeps many CI jobs from retrying in step.
		wait = wait/2 + rand.N(wait/2+1)
		select {
		case <-ctx.Done():
			return resp, attempt, ctx.Err()
		case <-time.After(wait):
		}
		delay = min(delay*2, 30*time.Second)
	}
}

func (c *apiClient) once(ctx context.Context, method, path, contentType string, body []byte) (apiResponse, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return apiResponse{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("User-Agent", "modelgraph/"+versionString())
	resp, err := c.http.Do(req)
	if err != nil {
		return apiResponse{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return apiResponse{}, fmt.Errorf("reading the answer: %w", err)
	}
	return apiResponse{status: resp.StatusCode, body: b, retryAfter: resp.Header.Get("Retry-After")}, nil
}

// graphql runs an operation and decodes data[field] into out.
func (c *apiClient) graphql(ctx context.Context, op string, vars map[string]any, field string, out any) error {
	raw, err := c.graphqlRaw(ctx, op, vars)
	if err != nil {
		return err
	}
	var r struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("graphql answer: %w", err)
	}
	if len(r.Errors) > 0 {
		code, _ := r.Errors[0].Extensions["code"].(string)
		return fmt.Errorf("server: %s (%s)", r.Errors[0].Message, code)
	}
	return json.Unmarshal(r.Data[field], out)
}

// graphqlRaw posts an operation and returns the response body; HTTP
// failures other than GraphQL's own 200/4xx answers are errors.
func (c *apiClient) graphqlRaw(ctx context.Context, op string, vars map[string]any) ([]byte, error) {
	body, err := json.Marshal(map[string]any{"query": op, "variables": vars})
	if err != nil {
		return nil, err
	}
	resp, _, err := c.do(ctx, http.MethodPost, "/graphql", "application/json", body)
	if err != nil {
		return nil, err
	}
	switch resp.status {
	case http.StatusOK, http.StatusBadRequest, http.StatusUnprocessableEntity:
		return resp.body, nil
	}
	return nil, errors.New(resp.errorText())
}
