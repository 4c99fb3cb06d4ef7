package neo4j

import (
	"fmt"
	"os"
	"sort"
	"sync"
	"time"
)

// timingOn: MODELGRAPH_NEO4J_TIMING set makes the store time every
// statement and transaction phase (a profiling aid; see docs/neo4j.md).
var timingOn = os.Getenv("MODELGRAPH_NEO4J_TIMING") != ""

var timings = struct {
	sync.Mutex
	d map[string]time.Duration
	n map[string]int
}{d: map[string]time.Duration{}, n: map[string]int{}}

func timeit(what string, t0 time.Time) {
	if !timingOn {
		return
	}
	timings.Lock()
	timings.d[what] += time.Since(t0)
	timings.n[what]++
	timings.Unlock()
}

// DumpTimings prints the statement timings gathered when
// MODELGRAPH_NEO4J_TIMING is set.
func DumpTimings() {
	if !timingOn {
		return
	}
	timings.Lock()
	defer timings.Unlock()
	var ks []string
	for k := range timings.d {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return timings.d[ks[i]] > timings.d[ks[j]] })
	for _, k := range ks {
		fmt.Fprintf(os.Stderr, "timing %-30s %5d calls %10.3f s\n", k, timings.n[k], timings.d[k].Seconds())
	}
}
