package reliability

import (
	"context"
	"flag"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
)

var rounds = flag.Int("rounds", 3, "crash rounds (make soak runs 100)")

// TestCrashConsistency pushes documents from several clients into a real
// serve process, SIGKILLs it at random moments, restarts it on the same data
// dir, and finally checks that every acknowledged document is stored and
// complete, and that every stored document is complete (no half-writes).
func TestCrashConsistency(t *testing.T) {
	dataDir := t.TempDir()
	const clients = 4
	rng := rand.New(rand.NewPCG(42, uint64(time.Now().UnixNano())))
	var (
		mu    sync.Mutex
		acked = map[string][]byte{} // digest -> document
		sent  = map[string][]byte{}
	)
	next := make([]int, clients)
	var totalAcked atomic.Int64
	for round := range *rounds {
		srv := startServer(t, dataDir)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				client := &http.Client{Timeout: 10 * time.Second}
				for ctx.Err() == nil {
					mu.Lock()
					i := next[c]
					next[c]++
					mu.Unlock()
					doc := datasetDoc(c, i)
					digest := graph.SHA256Key(doc)
					mu.Lock()
					sent[digest] = doc
					mu.Unlock()
					rs, err := push(ctx, client, srv.Base, doc)
					if err != nil {
						return // the server died (or the round ended): unacknowledged
					}
					mu.Lock()
					for _, r := range rs {
						acked[r.Document] = doc
					}
					mu.Unlock()
					totalAcked.Add(1)
				}
			}()
		}
		time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond)
		srv.Kill()
		cancel()
		wg.Wait()
		t.Logf("round %d: killed; %d documents acknowledged so far", round, totalAcked.Load())
	}
	// A final clean run re-pushes one acknowledged document: still a duplicate.
	srv := startServer(t, dataDir)
	var anyDoc []byte
	for _, d := range acked {
		anyDoc = d
		break
	}
	if anyDoc != nil {
		rs, err := push(context.Background(), http.DefaultClient, srv.Base, anyDoc)
		if err != nil || len(rs) != 1 || !rs[0].Duplicate {
			t.Errorf("re-push of an acknowledged document after crashes: %+v, %v (want duplicate)", rs, err)
		}
	}
	_ = srv.Stop(t)
	if len(acked) == 0 {
		t.Fatal("no document was acknowledged in any round: the harness measured nothing")
	}

	store, err := embedded.Open(filepath.Join(dataDir, "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Check(context.Background()); err != nil {
		t.Fatalf("graph invariants after crashes: %v", err)
	}
	ctx := context.Background()
	parser := ingest.NewParser(nil)
	missing := 0
	for digest := range acked {
		if docs, err := store.Documents(ctx, digest); err != nil || len(docs) != 1 {
			missing++
			t.Errorf("acknowledged document %s is missing after crashes", digest)
		}
	}
	complete := 0
	for digest, doc := range sent {
		docs, err := store.Documents(ctx, digest)
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) == 0 {
			continue // never committed: fine, it was not acknowledged
		}
		checkComplete(t, store, parser, digest, doc)
		complete++
	}
	t.Logf("%d rounds, %d documents acknowledged, %d stored and complete, %d acknowledged but missing", *rounds, len(acked), complete, missing)
}

// checkComplete re-parses doc and checks that every node and edge it asserts
// is in the store with doc among its evidence.
func checkComplete(t *testing.T, s *embedded.Store, p *ingest.Parser, digest string, doc []byte) {
	t.Helper()
	ctx := context.Background()
	parsed, err := p.Parse(ctx, ingest.Input{Data: doc, Source: digest})
	if err != nil {
		t.Fatal(err)
	}
	b := parsed[0].Batch
	ids := make([]graph.NodeID, len(b.Nodes))
	for i, n := range b.Nodes {
		found := false
		for _, k := range n.Keys {
			ns, err := s.Lookup(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			for _, node := range ns {
				if node.Kind == n.Kind && slices.Contains(node.Docs, digest) {
					ids[i], found = node.ID, true
				}
			}
		}
		if !found {
			t.Errorf("document %s is stored but its node %s %v is missing or lacks its evidence", digest, n.Kind, n.Keys)
			return
		}
	}
	for _, e := range b.Edges {
		es, err := s.Edges(ctx, ids[e.From], graph.Out, e.Kind)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(es, func(x graph.Edge) bool { return x.To == ids[e.To] })
		if i < 0 {
			t.Errorf("document %s is stored but its edge %s is missing", digest, e.Kind)
			return
		}
		if !slices.Contains(es[i].Docs, digest) {
			t.Errorf("document %s is stored but edge %s lacks its evidence", digest, e.Kind)
		}
	}
}
