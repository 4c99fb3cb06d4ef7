package watch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph/bolt"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/synth"
	"github.com/modelgraph/modelgraph/internal/watch"
)

// benchDocs is a synthetic signed supply chain (internal/synth, ~3,000
// nodes) followed by one unsigned advisory per tenth model, so the
// watcher has advisories reaching deployments to evaluate and deliver.
func benchDocs(b *testing.B) ([][]byte, *synth.Signer) {
	b.Helper()
	pl, err := synth.NewPlan(synth.ForNodes(3000))
	if err != nil {
		b.Fatal(err)
	}
	s, err := synth.NewSigner(1)
	if err != nil {
		b.Fatal(err)
	}
	var docs [][]byte
	if err := pl.Documents(s, func(d synth.Doc) error { docs = append(docs, d.Data); return nil }); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < len(pl.Models); i += 10 {
		m := pl.Models[i]
		sev := []string{"low", "medium", "high", "critical"}[i/10%4]
		raw, _ := json.Marshal(map[string]any{"_type": "https://in-toto.io/Statement/v1",
			"subject":       []any{map[string]any{"name": m.Name, "digest": map[string]string{"sha256": strings.TrimPrefix(m.Key, "sha256:")}}},
			"predicateType": "https://aixv.org/attestation/advisory/v1",
			"predicate": map[string]any{"advisory_id": fmt.Sprintf("BENCH-%d", i), "severity": sev, "status": "active",
				"affected": []any{map[string]any{"digest": m.Key, "artifact_type": "model"}}}})
		docs = append(docs, raw)
	}
	return docs, s
}

// BenchmarkIngestWatched measures ingest throughput (documents per second,
// each durably written; the watcher's evaluation of every document is
// waited for at the end, so its cost is counted) with no watcher, a
// watcher with no subscription, and one with 100 subscriptions (varied
// filters, delivering to a loopback receiver). The target (issue 25):
// subs=100 within 10% of none.
//
//	go test -run '^$' -bench BenchmarkIngestWatched -benchtime 3x ./internal/watch/
func BenchmarkIngestWatched(b *testing.B) {
	docs, signer := benchDocs(b)
	pol, err := signer.Policy()
	if err != nil {
		b.Fatal(err)
	}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer rcv.Close()
	subs := func(n int) []watch.Subscription {
		var out []watch.Subscription
		envs := []string{"", "prod", "staging"}
		sevs := []string{"", "low", "high", "critical"}
		for i := range n {
			s := watch.Subscription{ID: fmt.Sprint("s", i), Name: fmt.Sprint("sub ", i), Environment: envs[i%3], MinSeverity: sevs[i%4],
				URL: rcv.URL + "/hook", Secret: "k", Format: []string{watch.FormatWebhook, watch.FormatSlack, watch.FormatCloudEvents}[i%3]}
			if i%2 == 1 {
				s.Events = []string{watch.KindAdvisoryReachesEnvironment}
			}
			out = append(out, s)
		}
		return out
	}
	for _, c := range []struct {
		name  string
		watch bool
		subs  int
	}{{"none", false, 0}, {"subs=0", true, 0}, {"subs=100", true, 100}} {
		b.Run(c.name, func(b *testing.B) {
			var total time.Duration
			events := 0
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				s, err := bolt.Open(filepath.Join(dir, "graph.db"), bolt.Options{})
				if err != nil {
					b.Fatal(err)
				}
				pipe := &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)}
				var w *watch.Watcher
				if c.watch {
					q, err := watch.OpenQueue(filepath.Join(dir, "watch.db"))
					if err != nil {
						b.Fatal(err)
					}
					if err := q.SyncConfig(subs(c.subs)); err != nil {
						b.Fatal(err)
					}
					w = watch.New(watch.Options{Queue: q, Reader: s})
					w.Start(context.Background())
					pipe.Store = w.Writer(s)
				}
				b.StartTimer()
				start := time.Now()
				for i, d := range docs {
					if _, err := pipe.Ingest(context.Background(), ingest.Input{Data: d, Source: fmt.Sprint("doc-", i)}); err != nil {
						b.Fatal(err)
					}
				}
				if w != nil {
					if err := w.Flush(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				total += time.Since(start)
				b.StopTimer()
				if w != nil {
					evs, _ := w.Events(0, 1000)
					events = len(evs)
					if w.Dropped() > 0 {
						b.Fatalf("%d documents not evaluated", w.Dropped())
					}
					w.Close()
				}
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(len(docs)*b.N)/total.Seconds(), "docs/s")
			b.ReportMetric(float64(events), "events")
		})
	}
}
