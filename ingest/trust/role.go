package trust

import (
	"strings"

	"github.com/modelgraph/modelgraph/graph"
)

// RoleForPredicate is the role of a signed in-toto statement by its
// predicate type, known before the document is parsed, so the verifier
// can ask the policy for the material trusted for that role. Parsers set
// Document.Type afterwards; graph.RoleOfType(type) must agree (tested in
// ingest), and ingest records this role on the document.
func RoleForPredicate(predicateType string) graph.Role {
	pt := strings.TrimSpace(predicateType)
	switch pt {
	case "https://model_signing/signature/v1.0", "https://model_signing/Digests/v0.1":
		return graph.RoleModelSignature
	case "https://slsa.dev/provenance/v0.1", "https://slsa.dev/provenance/v0.2", "https://slsa.dev/provenance/v1",
		"https://aixv.org/attestation/training/v1":
		return graph.RoleProvenance
	case "https://modelgraph.dev/attestation/dataset/v1":
		return graph.RoleDataset
	case "https://modelgraph.dev/attestation/deployment/v1", "https://aixv.org/attestation/deployment/v1":
		return graph.RoleDeployment
	case "https://aixv.org/attestation/advisory/v1":
		return graph.RoleAdvisory
	case "https://scorecard.dev/result/v0.1":
		return graph.RoleScorecard
	}
	switch {
	case strings.HasPrefix(pt, "https://openvex.dev/ns"), strings.HasPrefix(pt, "https://cyclonedx.org/vex"):
		return graph.RoleVEX
	case strings.HasPrefix(pt, "https://cyclonedx.org/bom"), strings.HasPrefix(pt, "https://spdx.dev/Document"):
		return graph.RoleSBOM
	}
	return graph.RoleOther
}
