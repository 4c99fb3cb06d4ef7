package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/reliability"
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

// TestGraphQLHostile: every hostile document is refused with 400 naming
// its limit before validation runs, cheaply.
func TestGraphQLHostile(t *testing.T) {
	e := start(t, Options{})
	for _, h := range reliability.HostileQueries() {
		t.Run(h.Name, func(t *testing.T) {
			var code int
			var out map[string]any
			var took time.Duration
			grew := heapGrowth(func() {
				start := time.Now()
				resp, o := gqlPost(t, e, readSecret, h.Query, nil)
				code, out, took = resp.StatusCode, o, time.Since(start)
			})
			t.Logf("%d bytes: %d %s in %s, heap +%.1f MB", len(h.Query), code, errCode(out), took.Round(time.Millisecond), float64(grew)/(1<<20))
			msg := fmt.Sprint(out["errors"])
			if code != 400 || errCode(out) != h.Code || !strings.Contains(msg, "limit") {
				t.Fatalf("%d %s %.300s, want 400 %s naming the limit", code, errCode(out), msg, h.Code)
			}
			if grew > 64<<20 {
				t.Errorf("heap grew %d MB refusing it", grew>>20)
			}
		})
	}
	// The web UI's largest request (120 aliased lookups) passes the limits
	// and runs (its made-up references are not found).
	q, vars := reliability.UILookups(120)
	if resp, out := gqlPost(t, e, readSecret, q, vars); resp.StatusCode != 200 || errCode(out) != "NOT_FOUND" {
		t.Errorf("the UI's 120 lookups: %d %s %.300v", resp.StatusCode, errCode(out), out["errors"])
	}
	// Counted by code.
	_, m := e.do(t, "GET", "/metrics", "", "", nil)
	for _, line := range []string{`modelgraph_graphql_refused_total{code="TOKEN_LIMIT_EXCEEDED"} 2`, `modelgraph_graphql_refused_total{code="FIELD_LIMIT_EXCEEDED"} 1`} {
		if !strings.Contains(string(m), line) {
			t.Errorf("metrics lack %s", line)
		}
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
	ch, err := synth.Load(context.Background(), s, synth.ForNodes(n))
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
	start := time.Now()
	resp, out := gqlPost(t, e, readSecret, reliability.ImpactWalks(root, 40), nil) // within the alias limit
	t.Logf("40 x impact(first:1){totalCount} on %d nodes: %d in %s: %v", 4000, resp.StatusCode, time.Since(start).Round(time.Millisecond), out["errors"])
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
	// A read-only caller's body is bounded by MaxQueryBody, whatever
	// MaxBody allows (only the ingest mutation carries documents).
	e3 := start(t, Options{MaxBody: 8 << 20, MaxQueryBody: 4 << 10})
	resp, b = e3.do(t, "POST", "/graphql", readSecret, "application/json", big)
	if resp.StatusCode != 413 || !strings.Contains(string(b), "4096") {
		t.Errorf("read token, 4 KB+ body: %d %s", resp.StatusCode, b)
	}
	if resp, b = e3.do(t, "POST", "/graphql", writeSecret, "application/json", big); resp.StatusCode != 200 {
		t.Errorf("write token, same body: %d %s", resp.StatusCode, b)
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

// pushBomb posts body and checks the refusal: status, code, the limit
// named, and how far the heap grew meanwhile.
func pushBomb(t *testing.T, e *env, body []byte, status int, want string, maxGrowth uint64) {
	t.Helper()
	var code int
	var b []byte
	var took time.Duration
	grew := heapGrowth(func() {
		start := time.Now()
		resp, out := e.do(t, "POST", "/v1/ingest", writeSecret, "", body)
		code, b, took = resp.StatusCode, out, time.Since(start)
	})
	t.Logf("%d-byte document: %d in %s, heap +%.1f MB", len(body), code, took.Round(time.Millisecond), float64(grew)/(1<<20))
	if code != status || !strings.Contains(string(b), want) {
		t.Errorf("%d %.300s, want %d naming %q", code, b, status, want)
	}
	if grew > maxGrowth {
		t.Errorf("heap grew %d MB refusing a %d-byte document (bound %d MB)", grew>>20, len(body), maxGrowth>>20)
	}
}

// TestIngestBombs: compressed bombs are decompressed once, streaming,
// and refused with 413 naming the limit as soon as a cap is passed;
// component counts are checked while scanning, before any parser decodes.
func TestIngestBombs(t *testing.T) {
	bz := fixture(t, "bombs/cyclonedx-250MiB.json.bz2")
	e := start(t, Options{MaxBody: 64 << 20})
	t.Run("bzip2 336 B -> 250 MiB", func(t *testing.T) {
		pushBomb(t, e, bz, 413, "ratio limit", 16<<20)
	})
	t.Run("four bzip2 bombs at once", func(t *testing.T) {
		var wg sync.WaitGroup
		codes := make([]int, 4)
		grew := heapGrowth(func() {
			for i := range codes {
				wg.Go(func() {
					resp, _ := e.do(t, "POST", "/v1/ingest", writeSecret, "", bz)
					codes[i] = resp.StatusCode
				})
			}
			wg.Wait()
		})
		t.Logf("four at once: %v, heap +%.1f MB", codes, float64(grew)/(1<<20))
		if fmt.Sprint(codes) != "[413 413 413 413]" || grew > 32<<20 {
			t.Errorf("codes %v, heap grew %d MB", codes, grew>>20)
		}
	})
	t.Run("gzip over the body limit once inflated", func(t *testing.T) {
		small := start(t, Options{MaxBody: 1 << 20})
		pushBomb(t, small, reliability.GzipSpaces(8<<20), 413, "1048576-byte limit", 16<<20)
	})
	t.Run("zstd SPDX 1M packages", func(t *testing.T) {
		pushBomb(t, e, reliability.SPDXPackages(1_000_000), 413, "packages+files: more than 250000", 64<<20) // refused at the count, a third of the way in
	})
	t.Run("zstd SPDX 300k packages", func(t *testing.T) {
		pushBomb(t, e, reliability.SPDXPackages(300_000), 413, "packages+files: more than 250000", 128<<20)
	})
	if n := e.documents(t); n != 0 {
		t.Errorf("%d documents stored", n)
	}
	// A real compressed SBOM still goes in (decompressed once, in the
	// pipeline).
	if resp, b := e.do(t, "POST", "/v1/ingest", writeSecret, "", fixture(t, "sbom/guac-busybox-cyclonedx.json.zst")); resp.StatusCode != 201 {
		t.Errorf("zstd SBOM: %d %s", resp.StatusCode, b)
	}
}

// TestIngestBudget: while the ingest budget is full, a push queues for the
// budget's wait and is refused with 503 and Retry-After, its body unread;
// once a slot frees it goes in.
func TestIngestBudget(t *testing.T) {
	budget := ingest.NewBudget(1, 100*time.Millisecond)
	e := start(t, Options{Pipeline: &ingest.Pipeline{Budget: budget}})
	_, release, err := budget.Acquire(context.Background(), false) // a running ingest
	if err != nil {
		t.Fatal(err)
	}
	doc := fixture(t, "intoto/dataset-raw.intoto.json")
	resp, b := e.do(t, "POST", "/v1/ingest", writeSecret, "", doc)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || decodeErr(t, b).Code != "busy" || !strings.Contains(string(b), "1 documents at once") {
		t.Errorf("with the budget full: %d Retry-After=%q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	// The GraphQL ingest mutation shares the budget.
	r2, out := gqlPost(t, e, writeSecret, `mutation($d: String!) { ingest(document: $d) { documents { type } } }`, map[string]any{"d": string(doc)})
	if r2.StatusCode != 503 || errCode(out) != "OVERLOADED" {
		t.Errorf("mutation with the budget full: %d %v", r2.StatusCode, out)
	}
	release()
	if resp, b := e.do(t, "POST", "/v1/ingest", writeSecret, "", doc); resp.StatusCode != 201 {
		t.Errorf("after release: %d %s", resp.StatusCode, b)
	}

	// Large documents (that may exceed 1 MiB once decompressed) may take
	// only half the slots: while one is running (of 2 slots), another
	// waits and is refused, and a small push still goes in; so does a
	// small compressed one (at most 1 MiB once inflated).
	lanes := ingest.NewBudget(2, 100*time.Millisecond)
	e2 := start(t, Options{MaxBody: 64 << 20, Pipeline: &ingest.Pipeline{Budget: lanes}})
	_, releaseLarge, err := lanes.Acquire(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseLarge()
	resp, b = e2.do(t, "POST", "/v1/ingest", writeSecret, "", gzipBOM(t, 20_000)) // ~1.4 MB once inflated: the probe's size puts it in the large lane
	if resp.StatusCode != 503 || !strings.Contains(string(b), "large or compressed") {
		t.Errorf("second large document: %d %s", resp.StatusCode, b)
	}
	if resp, b := e2.do(t, "POST", "/v1/ingest", writeSecret, "", doc); resp.StatusCode != 201 {
		t.Errorf("small document beside a large one: %d %s", resp.StatusCode, b)
	}
	if resp, b := e2.do(t, "POST", "/v1/ingest", writeSecret, "", fixture(t, "sbom/guac-busybox-cyclonedx.json.zst")); resp.StatusCode != 201 {
		t.Errorf("small compressed document beside a large one: %d %s", resp.StatusCode, b)
	}
}

// slowStore holds every write until release is closed, telling entered
// each time one starts: documents that keep their ingest slots.
type slowStore struct {
	graph.Store
	entered chan struct{}
	release chan struct{}
}

func (s *slowStore) Apply(ctx context.Context, b *graph.Batch) (graph.Receipt, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.Store.Apply(ctx, b)
}

func (s *slowStore) ApplyAll(ctx context.Context, bs []*graph.Batch) ([]graph.Receipt, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.Store.ApplyAll(ctx, bs)
}

// TestIngestBombsWhileSlotsHeld: with every ingest slot held by documents
// being written, compression bombs and an oversized compressed SBOM are
// still refused with 413 naming their limit, answered while those
// documents hold their slots (the probe lane: they never wait for an
// ingest slot); a valid compressed document passes the probe and then
// queues for a slot like any other (503 when the wait runs out).
func TestIngestBombsWhileSlotsHeld(t *testing.T) {
	slow := &slowStore{Store: openBolt(t), entered: make(chan struct{}, 8), release: make(chan struct{})}
	budget := ingest.NewBudget(2, 2*time.Second)
	e := startOn(t, Options{MaxBody: 64 << 20, Pipeline: &ingest.Pipeline{Budget: budget}}, nil, slow)
	var wg sync.WaitGroup
	var held sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		held.Add(1)
		wg.Go(func() {
			defer held.Done()
			resp, b := e.do(t, "POST", "/v1/ingest?source=slow"+fmt.Sprint(i), writeSecret, "", smallBOM(i))
			codes[i] = resp.StatusCode
			if resp.StatusCode != 201 {
				t.Errorf("slow document %d: %d %s", i, resp.StatusCode, b)
			}
		})
	}
	for range codes {
		select {
		case <-slow.entered:
		case <-time.After(30 * time.Second):
			t.Fatal("slow documents did not reach the store")
		}
	}
	stillHeld := make(chan struct{})
	go func() { held.Wait(); close(stillHeld) }()
	bombs := []struct {
		name, want string
		body       []byte
	}{
		{"bzip2 336 B -> 250 MiB", "ratio limit", fixture(t, "bombs/cyclonedx-250MiB.json.bz2")},
		{"gzip 200 KB -> 200 MiB", "ratio limit", reliability.GzipSpaces(200 << 20)},
		{"zstd SPDX 1M packages", "packages+files: more than 250000", reliability.SPDXPackages(1_000_000)},
		{"zstd SPDX 300k packages", "packages+files: more than 250000", reliability.SPDXPackages(300_000)},
	}
	for _, bomb := range bombs {
		resp, b := e.do(t, "POST", "/v1/ingest", writeSecret, "", bomb.body)
		if resp.StatusCode != 413 || decodeErr(t, b).Code != "too_large" || !strings.Contains(string(b), bomb.want) {
			t.Errorf("%s while the slots are held: %d %.300s, want 413 naming %q", bomb.name, resp.StatusCode, b, bomb.want)
		}
		select {
		case <-stillHeld:
			t.Fatalf("%s: answered only after the slow documents let go of their slots", bomb.name)
		default:
		}
	}
	// A valid compressed SBOM passes the probe, then waits for a slot.
	resp, b := e.do(t, "POST", "/v1/ingest", writeSecret, "", fixture(t, "sbom/guac-busybox-cyclonedx.json.zst"))
	select {
	case <-stillHeld:
		t.Fatal("the valid compressed document was answered after the slots were released")
	default:
	}
	if resp.StatusCode != 503 || decodeErr(t, b).Code != "busy" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("valid compressed SBOM with every slot held: %d %s, want 503 busy", resp.StatusCode, b)
	}
	close(slow.release)
	wg.Wait()
	if resp, b := e.do(t, "POST", "/v1/ingest", writeSecret, "", fixture(t, "sbom/guac-busybox-cyclonedx.json.zst")); resp.StatusCode != 201 {
		t.Errorf("valid compressed SBOM once the slots are free: %d %s", resp.StatusCode, b)
	}
	if n := e.documents(t); n != 3 {
		t.Errorf("%d documents stored, want the 2 slow ones and the SBOM", n)
	}
}

// smallBOM is the i'th of a family of small, distinct CycloneDX BOMs.
func smallBOM(i int) []byte {
	return fmt.Appendf(nil, `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"metadata":{"component":{"type":"application","name":"app%d","version":"1","purl":"pkg:generic/app%d@1"}},"components":[{"type":"library","name":"a","version":"1","purl":"pkg:npm/a@1"}]}`, i, i)
}

// gzipBOM is a gzip CycloneDX BOM of n components (about 70 bytes each
// once inflated).
func gzipBOM(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprint(zw, `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"metadata":{"component":{"type":"application","name":"big","version":"1","purl":"pkg:generic/big@1"}},"components":[`)
	for i := range n {
		if i > 0 {
			fmt.Fprint(zw, ",")
		}
		fmt.Fprintf(zw, `{"type":"library","name":"c%d","version":"1","purl":"pkg:npm/c%d@1"}`, i, i)
	}
	fmt.Fprint(zw, `]}`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
