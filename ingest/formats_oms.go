package ingest

import (
	"strings"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/oms"
)

func isOMSPredicate(pt string) bool {
	return pt == oms.PredicateType || pt == oms.LegacyPredicateType
}

// omsBatch: image is the packaged model's manifest digest the OCI collector
// tied the signature to ("" otherwise).
func omsBatch(o *envelope.Opened, doc graph.Document, image string) (*graph.Batch, error) {
	if !strings.HasPrefix(image, "sha256:") {
		image = "" // --subject names something else (a name, for model cards)
	}
	return oms.FromOpenedImage(o, doc, image)
}
