package reliability

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	loadDuration = flag.Duration("load-duration", 5*time.Second, "load test duration (make soak: 60s)")
	loadClients  = flag.Int("load-clients", 200, "concurrent load clients")
	loadReport   = flag.String("load-report", "", "append the load figures to this file")
)

// TestLoad runs loadClients concurrent clients against a real serve process
// on loopback for loadDuration: a fifth push documents, the rest ask
// incident questions over GraphQL. Every request must succeed. Bounded in
// time and count; loopback only.
func TestLoad(t *testing.T) {
	srv := startServer(t, t.TempDir())
	defer srv.Stop(t)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *loadClients}}
	// Seed: one lineage to ask about.
	for i := range 20 {
		if _, err := push(context.Background(), client, srv.Base, datasetDoc(999, i)); err != nil {
			t.Fatal(err)
		}
	}
	questions := []string{
		`{"query":"{ impact(ref: \"name:crash/ds-999-0@v1\", depth: 30) { totalCount reached { depth node { id kind } } } }"}`,
		`{"query":"{ trace(ref: \"name:crash/ds-999-19@v1\", depth: 30) { totalCount reached { depth status } } }"}`,
		`{"query":"{ lookup(ref: \"name:crash/ds-999-5@v1\") { node { id kind } } }"}`,
	}
	ctx, cancel := context.WithTimeout(context.Background(), *loadDuration)
	defer cancel()
	type sample struct {
		kind string
		d    time.Duration
	}
	var (
		mu      sync.Mutex
		samples []sample
		errs    []string
	)
	var wg sync.WaitGroup
	for c := range *loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				start := time.Now()
				var err error
				kind := "query"
				if c%5 == 0 {
					kind = "push"
					_, err = push(context.Background(), client, srv.Base, datasetDoc(1000+c, i))
				} else {
					err = graphql(client, srv.Base, questions[(c+i)%len(questions)])
				}
				d := time.Since(start)
				mu.Lock()
				if err != nil {
					errs = append(errs, err.Error())
				} else {
					samples = append(samples, sample{kind, d})
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d requests failed; first: %s", len(errs), len(errs)+len(samples), errs[0])
	}
	var lines []string
	for _, kind := range []string{"push", "query"} {
		var ds []time.Duration
		for _, s := range samples {
			if s.kind == kind {
				ds = append(ds, s.d)
			}
		}
		if len(ds) == 0 {
			t.Fatalf("no successful %s requests", kind)
		}
		slices.Sort(ds)
		p := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
		lines = append(lines, fmt.Sprintf("| %s | %d | %.0f/s | %s | %s | %s |", kind, len(ds), float64(len(ds))/loadDuration.Seconds(),
			p(0.50).Round(100*time.Microsecond), p(0.99).Round(100*time.Microsecond), ds[len(ds)-1].Round(time.Millisecond)))
	}
	report := fmt.Sprintf("load: %d clients for %s, 0 errors\n| request | count | rate | p50 | p99 | max |\n|---|---|---|---|---|---|\n%s\n", *loadClients, *loadDuration, strings.Join(lines, "\n"))
	t.Log("\n" + report)
	if *loadReport != "" {
		f, err := os.OpenFile(*loadReport, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			_, _ = f.WriteString(report)
			_ = f.Close()
		}
	}
}

func graphql(client *http.Client, base, body string) error {
	resp, err := client.Post(base+"/graphql", "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("graphql: %d %.200s", resp.StatusCode, raw)
	}
	var out struct {
		Errors []json.RawMessage `json:"errors"`
		Data   map[string]json.RawMessage
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return err
	}
	if len(out.Errors) > 0 || len(out.Data) == 0 {
		return fmt.Errorf("graphql errors: %.300s", raw)
	}
	return nil
}
