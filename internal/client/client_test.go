package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/internal/client"
	"github.com/modelgraph/modelgraph/internal/gql"
)

// handler is the real GraphQL handler over an empty embedded store.
func handler(t *testing.T) http.Handler {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return gql.NewHandler(gql.Options{Reader: s})
}

// Both transports give the generated operations the same answers and the
// same errors.
func TestTransports(t *testing.T) {
	h := handler(t)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	for name, c := range map[string]*client.Client{
		"in-process": client.InProcess(h),
		"remote":     client.Remote(srv.URL, "", "test", srv.Client()),
	} {
		st, err := client.Stats(ctx, c)
		if err != nil || st.Stats.Nodes != 0 || st.Stats.NodeKinds == nil {
			t.Errorf("%s: stats = %+v, %v", name, st, err)
		}
		_, err = client.Trace(ctx, c, "no-such-model", 0, nil, false, 10, "")
		var ce *client.Error
		if !errors.As(err, &ce) || ce.Code != gql.CodeNotFound || !strings.Contains(err.Error(), `no node matches "no-such-model"`) {
			t.Errorf("%s: trace of nothing: %v", name, err)
		}
		raw, err := c.Raw(ctx, `{ nope }`, nil)
		if err != nil || !strings.Contains(string(raw), "Cannot query field") {
			t.Errorf("%s: raw invalid operation: %s, %v", name, raw, err)
		}
	}
}

// A failed HTTP answer is an error naming its status and the API's
// error message.
func TestHTTPErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"code":"unauthenticated","message":"missing bearer token"}}`))
			return
		}
		http.Error(w, "upstream down", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	_, err := client.Stats(ctx, client.Remote(srv.URL, "", "", srv.Client()))
	if err == nil || err.Error() != "HTTP 401 unauthenticated: missing bearer token" {
		t.Errorf("401: %v", err)
	}
	_, err = client.Stats(ctx, client.Remote(srv.URL+"/", "tok", "", srv.Client()))
	if err == nil || err.Error() != "HTTP 502: upstream down" {
		t.Errorf("502: %v", err)
	}
}
