package ingest

import (
	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/oms"
)

func isOMSPredicate(pt string) bool {
	return pt == oms.PredicateType || pt == oms.LegacyPredicateType
}

func omsBatch(o *envelope.Opened, doc graph.Document) (*graph.Batch, error) {
	return oms.FromOpened(o, doc)
}
