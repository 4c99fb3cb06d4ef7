package mem_test

import (
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/graphtest"
	"github.com/modelgraph/modelgraph/graph/mem"
)

type harness struct{}

func (harness) Open(t *testing.T) graph.Driver { return mem.New() }

func (harness) Reopen(t *testing.T, d graph.Driver) graph.Driver { return d.(*mem.Driver).Reopen() }

// TestContract runs the driver harness: graph.DB's planner path (PlanTx)
// in a plain go test.
func TestContract(t *testing.T) {
	graphtest.Run(t, harness{})
}

// TestAsExposesDriverCapabilities: graph.DB.As hands out the driver for an
// interface it implements and refuses one it does not (or a bad target),
// leaving the target untouched.
func TestAsExposesDriverCapabilities(t *testing.T) {
	db := mem.Open()
	defer db.Close()
	var drv graph.Driver
	if !db.As(&drv) || drv == nil {
		t.Fatal("As(*graph.Driver) = false: the mem driver is a graph.Driver")
	}
	if _, ok := drv.(*mem.Driver); !ok {
		t.Fatalf("As gave %T, want *mem.Driver", drv)
	}
	var missing interface{ SearchCandidates() }
	if db.As(&missing) || missing != nil {
		t.Fatal("As accepted an interface the driver does not implement")
	}
	var notIface *mem.Driver
	if db.As(&notIface) || db.As(nil) || db.As(drv) {
		t.Fatal("As accepted a target that is not a pointer to an interface")
	}
}
