// Package push sends documents to a modelgraph server (POST /v1/ingest),
// as `modelgraph push` does in CI: one request per file, several at once,
// retried with exponential backoff and jitter on 5xx, 429 and connection
// errors. Server is the HTTP client of the API's REST endpoints (the
// connection settings `watch` shares).
package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/modelgraph/modelgraph/internal/client"
)

// Server is a modelgraph server.
type Server struct {
	// Base is the server's URL without a trailing slash.
	Base  string
	Token string
	HTTP  *http.Client
	// Retries is how many times a retryable answer is asked again;
	// Backoff the first delay (it doubles, up to 30 s, with jitter).
	Retries   int
	Backoff   time.Duration
	UserAgent string
}

// Connect checks the server URL and reads the token: from tokenFile, else
// the MODELGRAPH_TOKEN variable getenv reads. Sending a token over plain
// http to another host than this one is allowed, with a warning on warn.
func Connect(server, tokenFile string, timeout time.Duration, getenv func(string) string, warn io.Writer) (*Server, error) {
	base, token, err := client.Endpoint(server, tokenFile, getenv, warn)
	if err != nil {
		return nil, err
	}
	return &Server{Base: base, Token: token, HTTP: &http.Client{Timeout: timeout}, Backoff: 500 * time.Millisecond}, nil
}

// Response is a server's answer.
type Response struct {
	Status     int
	Body       []byte
	RetryAfter string
}

// ErrorText renders the API's JSON error body (code, message, field), or
// the start of any other body.
func (r Response) ErrorText() string {
	var e struct {
		Error struct {
			Code, Message, Document, Field string
			Line                           int
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil || e.Error.Code == "" {
		return fmt.Sprintf("HTTP %d: %s", r.Status, strings.TrimSpace(string(r.Body[:min(len(r.Body), 300)])))
	}
	msg := fmt.Sprintf("HTTP %d %s: %s", r.Status, e.Error.Code, e.Error.Message)
	if e.Error.Field != "" && !strings.Contains(e.Error.Message, e.Error.Field) {
		msg += " (field " + e.Error.Field + ")"
	}
	return msg
}

// Retryable reports whether an answer may succeed when asked again.
func Retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusBadGateway ||
		status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout || status == http.StatusInternalServerError
}

// Do sends one request, retrying 5xx, 429 and connection errors (waiting
// as Retry-After says when it does, up to a minute). It returns the final
// answer and how many attempts it took.
func (s *Server) Do(ctx context.Context, method, path, contentType string, body []byte) (Response, int, error) {
	delay := s.Backoff
	if delay <= 0 {
		delay = 500 * time.Millisecond
	}
	for attempt := 1; ; attempt++ {
		resp, err := s.once(ctx, method, path, contentType, body)
		wait := delay
		switch {
		case err == nil && !Retryable(resp.Status):
			return resp, attempt, nil
		case err != nil && ctx.Err() != nil:
			return resp, attempt, err
		case attempt > s.Retries:
			if err != nil {
				return resp, attempt, fmt.Errorf("after %d attempt(s): %w", attempt, err)
			}
			return resp, attempt, nil
		case err == nil:
			if sec, perr := strconv.Atoi(resp.RetryAfter); perr == nil && sec > 0 {
				wait = min(time.Duration(sec)*time.Second, time.Minute)
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

func (s *Server) once(ctx context.Context, method, path, contentType string, body []byte) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.Base+path, bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	if s.UserAgent != "" {
		req.Header.Set("User-Agent", s.UserAgent)
	}
	client := s.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return Response{}, fmt.Errorf("reading the answer: %w", err)
	}
	return Response{Status: resp.StatusCode, Body: b, RetryAfter: resp.Header.Get("Retry-After")}, nil
}

// GraphQL posts an operation and returns the answer's body; HTTP failures
// other than GraphQL's own 200/400/422 answers are errors.
func (s *Server) GraphQL(ctx context.Context, op string, vars map[string]any) ([]byte, error) {
	body, err := json.Marshal(map[string]any{"query": op, "variables": vars})
	if err != nil {
		return nil, err
	}
	resp, _, err := s.Do(ctx, http.MethodPost, "/graphql", "application/json", body)
	if err != nil {
		return nil, err
	}
	switch resp.Status {
	case http.StatusOK, http.StatusBadRequest, http.StatusUnprocessableEntity:
		return resp.Body, nil
	}
	return nil, errors.New(resp.ErrorText())
}
