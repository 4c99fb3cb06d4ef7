package embedded

import (
	"sync"
	"sync/atomic"

	bbolt "go.etcd.io/bbolt"
)

// warmer maps the store file's pages into the process once, at open, in
// the background: one read transaction walks every key of the buckets
// reads use, so each page of the file is touched in file order (the kernel
// maps the pages around a fault too) instead of one random page fault at a
// time inside the first queries that reach it. At 1M nodes a walk reaches
// ~350 nodes at p99, each a B-tree lookup for the node and one for the
// edge that reached it; without warming nearly every such lookup's leaf is
// a first touch of the mapped file, which was the largest single cost of
// the impact query's tail (docs/performance.md). The pages are clean page
// cache the kernel may reclaim; they are not pinned.
type warmer struct {
	quit atomic.Bool
	wg   sync.WaitGroup
}

// warmBuckets are read by queries (docs by Documents, evidence by loads).
var warmBuckets = [][]byte{bNodes, bEdges, bKeys, bKinds, bNodeEv, bEdgeEv, bDocs, bAliases}

func (w *warmer) start(db *bbolt.DB) {
	w.wg.Go(func() {
		_ = db.View(func(tx *bbolt.Tx) error {
			var sink byte
			for _, name := range warmBuckets {
				b := tx.Bucket(name)
				if b == nil {
					continue
				}
				c := b.Cursor()
				n := 0
				for k, v := c.First(); k != nil; k, v = c.Next() {
					if len(v) > 0 {
						sink ^= v[len(v)-1] // values on overflow pages too
					}
					if n++; n%4096 == 0 && w.quit.Load() {
						return nil
					}
				}
			}
			_ = sink
			return nil
		})
	})
}

// stop ends the warming early and waits for its transaction to end (a
// bbolt file cannot close under an open read transaction).
func (w *warmer) stop() {
	w.quit.Store(true)
	w.wg.Wait()
}
