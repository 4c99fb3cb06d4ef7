// Package demotest gives tests the signed demo supply chain in a store.
// It is test support only: docs/architecture.md marks its row "tests
// only" and TestArchitecture fails when non-test code imports it.
package demotest

import (
	"context"
	"testing"

	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/demo"
	"github.com/modelgraph/modelgraph/internal/testserve"
)

// Store returns a fresh embedded store (testserve.Embedded) holding
// the demo, loaded through a pipeline that trusts the demo's keys only,
// and that pipeline, for more documents under the same trust. Every demo
// document must be ingested, or the test fails.
func Store(t testing.TB) (*embedded.Store, *ingest.Pipeline) {
	t.Helper()
	s := testserve.Embedded(t)
	pol, err := demo.WithTrust(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &ingest.Pipeline{Store: s, Parser: ingest.NewParser(pol)}
	rep, err := demo.Load(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := demo.Documents()
	if err != nil {
		t.Fatal(err)
	}
	if rep != (demo.Report{Documents: len(docs), Ingested: len(docs)}) {
		t.Fatalf("demo load into a fresh store: %+v for %d documents", rep, len(docs))
	}
	return s, p
}
