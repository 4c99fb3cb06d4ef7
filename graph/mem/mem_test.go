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
