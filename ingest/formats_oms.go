package ingest

import (
	"fmt"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
)

func isOMSPredicate(pt string) bool {
	return pt == "https://model_signing/signature/v1.0" || pt == "https://model_signing/Digests/v0.1"
}

// omsBatch is replaced when ingest/oms lands.
func omsBatch(o *envelope.Opened, doc graph.Document) (*graph.Batch, error) {
	return nil, fmt.Errorf("%w: OMS signatures are not wired yet", ErrUnsupported)
}
