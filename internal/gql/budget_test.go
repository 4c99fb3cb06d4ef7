package gql

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph/embedded"
)

func post(t *testing.T, h http.Handler, q string) *httptest.ResponseRecorder {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": q})
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestAdmission: while the query budget is held by running operations, a
// new one queues for QueueWait and is then refused with 503, Retry-After
// and a message naming the budget; once released it runs.
func TestAdmission(t *testing.T) {
	s, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h, adm := newHandler(Options{Reader: s, Budget: 1000, QueueWait: 50 * time.Millisecond})
	if err := adm.sem.Acquire(context.Background(), 1000); err != nil { // what running operations hold
		t.Fatal(err)
	}
	rec := post(t, h, `{ stats { nodes } }`)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
		!strings.Contains(rec.Body.String(), "OVERLOADED") || !strings.Contains(rec.Body.String(), "1000 work units") {
		t.Fatalf("with the budget held: %d Retry-After=%q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	adm.sem.Release(1000)
	// Every operation slot taken: refused likewise, naming the slots.
	for range cap(adm.running) {
		adm.running <- struct{}{}
	}
	rec = post(t, h, `{ stats { nodes } }`)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "operation slots") {
		t.Fatalf("with every slot taken: %d %s", rec.Code, rec.Body)
	}
	for range cap(adm.running) {
		<-adm.running
	}
	if rec := post(t, h, `{ stats { nodes } }`); rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "errors") {
		t.Fatalf("after release: %d %s", rec.Code, rec.Body)
	}
	if len(adm.running) != 0 {
		t.Errorf("%d operation slots still held", len(adm.running))
	}
	// The operation's share was given back.
	if !adm.sem.TryAcquire(1000) {
		t.Error("budget not released after the operation")
	}
}

// TestCostModel: a walk's cost follows the graph's size up to the walk
// limit, so totalCount on a one-item page is charged for the walk.
func TestCostModel(t *testing.T) {
	small, big := costs{nodes: func() int { return 0 }}, costs{nodes: func() int { return 10_000 }}
	c0, c1 := complexity(small), complexity(big)
	first := 1
	a := c0.Query.Impact(1, "x", nil, nil, &first, nil)
	b := c1.Query.Impact(1, "x", nil, nil, &first, nil)
	if b < a+4_000 || b*490 <= DefaultMaxComplexity {
		t.Errorf("impact(first:1){totalCount}: %d on an empty graph, %d on 10k nodes (490 of them must exceed %d)", a, b, DefaultMaxComplexity)
	}
	huge := costs{nodes: func() int { return 10_000_000 }}
	if w := huge.walk(); w > walkBase+50_000 {
		t.Errorf("walk cost %d is not capped by the walk limit", w)
	}
	// One question of each kind still fits on a very large graph.
	ch := complexity(huge)
	if r := ch.Query.RollbackCandidates(10, "d", nil); r > DefaultMaxComplexity {
		t.Errorf("rollbackCandidates costs %d on a huge graph, over the default limit %d", r, DefaultMaxComplexity)
	}
}
