package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/Khan/genqlient/graphql"
)

// MaxAnswer bounds the bytes of one GraphQL answer the client reads.
const MaxAnswer = 256 << 20

// Client sends operations to one GraphQL endpoint. It implements
// graphql.Client, so the generated operations (Trace, Impact, ...) run
// over it, and Raw sends any operation text.
type Client struct {
	endpoint string
	doer     graphql.Doer
	header   http.Header
}

var _ graphql.Client = (*Client)(nil)

// Remote is a client of the server at base (its /graphql), sending token
// as a bearer token when it is not empty.
func Remote(base, token, userAgent string, doer graphql.Doer) *Client {
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	if userAgent != "" {
		h.Set("User-Agent", userAgent)
	}
	return &Client{endpoint: strings.TrimRight(base, "/") + "/graphql", doer: doer, header: h}
}

// InProcess is a client of a GraphQL handler in this process: requests
// are served by h directly, without a socket, so a local run goes through
// the same operations, schema and resolvers as a server.
func InProcess(h http.Handler) *Client {
	return &Client{endpoint: "http://in-process/graphql", doer: handlerDoer{h}, header: http.Header{}}
}

// handlerDoer answers requests with an http.Handler.
type handlerDoer struct{ h http.Handler }

func (d handlerDoer) Do(req *http.Request) (*http.Response, error) {
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	d.h.ServeHTTP(rec, req)
	return &http.Response{
		StatusCode: rec.status, Status: fmt.Sprintf("%d %s", rec.status, http.StatusText(rec.status)),
		Header: rec.header, Body: io.NopCloser(&rec.body), ContentLength: int64(rec.body.Len()), Request: req,
	}, nil
}

// recorder is the http.ResponseWriter an in-process request writes to.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// Raw sends an operation and returns the answer's JSON body (data and
// errors) as the endpoint gave it.
func (c *Client) Raw(ctx context.Context, query string, variables map[string]any) ([]byte, error) {
	return c.post(ctx, &graphql.Request{Query: query, Variables: variables})
}

// MakeRequest implements graphql.Client: errors in the answer become a
// Go error naming their message and code.
func (c *Client) MakeRequest(ctx context.Context, req *graphql.Request, resp *graphql.Response) error {
	body, err := c.post(ctx, req)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, resp); err != nil {
		return fmt.Errorf("graphql answer: %w", err)
	}
	if len(resp.Errors) > 0 {
		e := resp.Errors[0]
		msg := e.Message
		if code, _ := e.Extensions["code"].(string); code != "" {
			msg += " (" + code + ")"
		}
		return &Error{Message: msg, Code: codeOf(e.Extensions)}
	}
	return nil
}

// Error is an error the GraphQL answer carried.
type Error struct {
	Message string
	Code    string
}

func (e *Error) Error() string { return e.Message }

func codeOf(ext map[string]any) string {
	c, _ := ext["code"].(string)
	return c
}

func (c *Client) post(ctx context.Context, req *graphql.Request) ([]byte, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	for k, v := range c.header {
		hr.Header[k] = v
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	res, err := c.doer.Do(hr)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, MaxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if len(body) > MaxAnswer {
		return nil, fmt.Errorf("the answer is larger than %d bytes", MaxAnswer)
	}
	switch res.StatusCode {
	case http.StatusOK, http.StatusBadRequest, http.StatusUnprocessableEntity:
		if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || json.Valid(body) {
			if res.StatusCode == http.StatusOK || isGraphQLAnswer(body) {
				return body, nil
			}
		}
	}
	return nil, errors.New(httpError(res.StatusCode, body))
}

// isGraphQLAnswer reports whether body is a GraphQL answer (data or
// errors) rather than the HTTP API's error body.
func isGraphQLAnswer(body []byte) bool {
	var a struct {
		Data   json.RawMessage `json:"data"`
		Errors json.RawMessage `json:"errors"`
	}
	return json.Unmarshal(body, &a) == nil && (a.Data != nil || a.Errors != nil)
}

// httpError renders a failed HTTP answer: the API's JSON error body
// ({"error": {"code", "message"}}) when it is one, else the text.
func httpError(status int, body []byte) string {
	var e struct {
		Error struct {
			Code, Message, Field string
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Code == "" {
		return fmt.Sprintf("HTTP %d: %s", status, strings.TrimSpace(string(body[:min(len(body), 300)])))
	}
	msg := fmt.Sprintf("HTTP %d %s: %s", status, e.Error.Code, e.Error.Message)
	if e.Error.Field != "" && !strings.Contains(e.Error.Message, e.Error.Field) {
		msg += " (field " + e.Error.Field + ")"
	}
	return msg
}
