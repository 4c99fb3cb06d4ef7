package query

import (
	"testing"

	"github.com/modelgraph/modelgraph/graph"
)

// The incident world for tests in package query_test (admission decisions:
// internal/admission imports this package, so they cannot live in it).

type World = world

func NewWorld(t *testing.T) *World { return newWorld(t) }

func (w *world) Q() *Service { return w.q }

func (w *world) Name(id graph.NodeID) string { return w.name(id) }

// HopWant is hopWant for package query_test.
type HopWant struct {
	From, Kind, To string
	Status         graph.Status
	Docs           []string
}

func (w *world) CheckHops(t *testing.T, what string, got []Hop, want []HopWant) {
	t.Helper()
	ws := make([]hopWant, len(want))
	for i, h := range want {
		ws[i] = hopWant{h.From, h.Kind, h.To, h.Status, h.Docs}
	}
	w.checkHops(t, what, got, ws)
}
