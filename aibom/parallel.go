package aibom

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelMin is the batch size below which forEach does not bother with
// goroutines.
const parallelMin = 64

// forEach calls fn(i) for every i in [0, n), on up to GOMAXPROCS
// goroutines for large n. Callers write results to index i of their own
// slices, so the outcome does not depend on scheduling. It returns an
// error of fn (or the context's) when any occurred.
func forEach(ctx context.Context, n int, fn func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), 8)
	if n < parallelMin || workers < 2 {
		for i := range n {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(i); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
		failed   atomic.Bool
	)
	for range workers {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = fn(i)
				}
				if err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}
