package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/synth"
)

// heapGrowth runs f and reports how far the live heap (after a GC) rose
// above where it started, sampling while f runs.
func heapGrowth(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	peak := base
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			runtime.ReadMemStats(&ms)
			return max(peak, ms.HeapAlloc) - base
		case <-tick.C:
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
}

// hostile is one attack on /graphql and the refusal it must get.
type hostile struct {
	name, query, code string
}

func hostileQueries() []hostile {
	var aliasBomb, aliasSmall, typenames, typenamesSmall, fanout, impacts strings.Builder
	aliasBomb.WriteString("{")
	for i := range 2000 { // 2,000 same-name aliases with different arguments (~80 KB)
		fmt.Fprintf(&aliasBomb, ` a%d: impact(ref: "sha256:%064d", first: %d) { totalCount }`, i, i, i%50+1)
	}
	aliasBomb.WriteString("}")
	aliasSmall.WriteString("{")
	for i := range 150 {
		fmt.Fprintf(&aliasSmall, " a%d: stats { nodes }", i)
	}
	aliasSmall.WriteString("}")
	typenames.WriteString("{")
	typenames.WriteString(strings.Repeat(" __typename", 30_000))
	typenames.WriteString("}")
	typenamesSmall.WriteString("{")
	typenamesSmall.WriteString(strings.Repeat(" __typename", 1_500))
	typenamesSmall.WriteString("}")
	// A 1 KB fragment fan-out: each fragment spreads the next twice, 2^26
	// fields once expanded.
	fanout.WriteString("{ ...F0 }")
	for i := range 26 {
		fmt.Fprintf(&fanout, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
	}
	fanout.WriteString(" fragment F26 on Query { __typename }")
	impacts.WriteString("{")
	for i := range 490 {
		fmt.Fprintf(&impacts, " i%d: impact(ref: \"x%d\", first: 1) { totalCount }", i, i)
	}
	impacts.WriteString("}")
	return []hostile{
		{"2000 aliases", aliasBomb.String(), "TOKEN_LIMIT_EXCEEDED"},
		{"150 aliases", aliasSmall.String(), "ALIAS_LIMIT_EXCEEDED"},
		{"30k __typename", typenames.String(), "TOKEN_LIMIT_EXCEEDED"},
		{"1500 __typename", typenamesSmall.String(), "SELECTION_LIMIT_EXCEEDED"},
		{"fragment fan-out 2^26", fanout.String(), "FIELD_LIMIT_EXCEEDED"},
		{"490 impact totalCount", impacts.String(), "TOKEN_LIMIT_EXCEEDED"},
	}
}

// TestGraphQLHostile: every hostile document is refused with 400 naming
// its limit before validation runs, cheaply.
func TestGraphQLHostile(t *testing.T) {
	e := start(t, Options{})
	for _, h := range hostileQueries() {
		t.Run(h.name, func(t *testing.T) {
			var code int
			var out map[string]any
			grew := heapGrowth(func() {
				resp, o := gqlPost(t, e, readSecret, h.query, nil)
				code, out = resp.StatusCode, o
			})
			msg := fmt.Sprint(out["errors"])
			if code != 400 || errCode(out) != h.code || !strings.Contains(msg, "limit") {
				t.Fatalf("%d %s %.300s, want 400 %s naming the limit", code, errCode(out), msg, h.code)
			}
			if grew > 64<<20 {
				t.Errorf("heap grew %d MB refusing it", grew>>20)
			}
		})
	}
	// Nothing was logged at ERROR for these client errors.
	if strings.Contains(e.log.String(), `"level":"ERROR"`) {
		t.Errorf("client errors logged at ERROR:\n%.2000s", e.log.String())
	}
}

// bigGraph fills s with a synthetic supply chain of about n nodes and
// returns its handles.
func bigGraph(t *testing.T, s graph.Store, n int) *synth.Chain {
	t.Helper()
	ch, err := synth.Stream(synth.ForNodes(n), func(b *graph.Batch) error {
		_, err := s.Apply(context.Background(), b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestGraphQLCostChargesWalk: totalCount on a small page costs the walk
// behind it, so many cheap-looking walks exceed the complexity limit
// (490 of them cost 3.8 GB before), while one is answered.
func TestGraphQLCostChargesWalk(t *testing.T) {
	s := openBolt(t)
	ch := bigGraph(t, s, 4000)
	e := startOn(t, Options{MaxComplexity: 50_000}, nil, s)
	root := ch.Datasets[0]
	one := fmt.Sprintf(`{ impact(ref: %q, first: 1) { totalCount } }`, root)
	if resp, out := gqlPost(t, e, readSecret, one, nil); resp.StatusCode != 200 || out["errors"] != nil {
		t.Fatalf("one impact: %d %v", resp.StatusCode, out["errors"])
	}
	var b strings.Builder
	b.WriteString("{")
	for i := range 40 { // within the alias limit
		fmt.Fprintf(&b, " i%d: impact(ref: %q, first: 1) { totalCount }", i, root)
	}
	b.WriteString("}")
	resp, out := gqlPost(t, e, readSecret, b.String(), nil)
	if resp.StatusCode != 400 || errCode(out) != "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Fatalf("40 walks on a %d-node graph: %d %v, want 400 COMPLEXITY_LIMIT_EXCEEDED", 4000, resp.StatusCode, out["errors"])
	}
}

// TestGraphQLDeadline: a walk running past the operation's deadline is
// stopped through its context and answered TIMEOUT.
func TestGraphQLDeadline(t *testing.T) {
	s := openBolt(t)
	ch := bigGraph(t, s, 4000)
	e := startOn(t, Options{QueryTimeout: time.Nanosecond}, nil, s)
	q := fmt.Sprintf(`{ impact(ref: %q, first: 5) { totalCount } }`, ch.Datasets[0])
	resp, out := gqlPost(t, e, readSecret, q, nil)
	if errCode(out) != "TIMEOUT" || !strings.Contains(fmt.Sprint(out["errors"]), "deadline of 1ns") {
		t.Fatalf("%d %v, want TIMEOUT naming the deadline", resp.StatusCode, out)
	}
}

// TestGraphQLClientErrors: a body that is not a GraphQL request is a 400
// with a short message, logged briefly and never at ERROR.
func TestGraphQLClientErrors(t *testing.T) {
	e := start(t, Options{})
	junk := `{"query": ` + strings.Repeat(`"x`, 20_000)
	resp, b := e.do(t, "POST", "/graphql", readSecret, "application/json", []byte(junk))
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if resp.StatusCode != 400 || errCode(out) != "BAD_REQUEST" || len(b) > 1000 {
		t.Errorf("junk body: %d %.300s (%d bytes)", resp.StatusCode, b, len(b))
	}
	// Too large for the body limit: 413 naming it.
	e2 := start(t, Options{MaxBody: 1 << 10})
	big, _ := json.Marshal(map[string]string{"query": "{ stats { nodes } }" + strings.Repeat(" ", 4<<10)})
	resp, b = e2.do(t, "POST", "/graphql", readSecret, "application/json", big)
	if resp.StatusCode != 413 || !strings.Contains(string(b), "REQUEST_TOO_LARGE") || !strings.Contains(string(b), "1024") {
		t.Errorf("oversize body: %d %s", resp.StatusCode, b)
	}
	// Syntax errors are 400 too.
	r2, o2 := gqlPost(t, e, readSecret, "{ stats { ", nil)
	if r2.StatusCode != 400 || errCode(o2) != "GRAPHQL_PARSE_FAILED" {
		t.Errorf("syntax error: %d %v", r2.StatusCode, o2)
	}
	log := e.log.String()
	if strings.Contains(log, `"level":"ERROR"`) || strings.Contains(log, strings.Repeat(`"x`, 200)) {
		t.Errorf("client error logged at ERROR or with its body:\n%.1000s", log)
	}
}
