// Package aibom exports what the graph knows about a model, a deployment or
// a whole environment as a CycloneDX AI-BOM (ML-BOM): the model with its
// hashes, files and model card, its datasets and base models, the software
// it runs with, the training runs that produced it, and the signed documents
// that back each of those claims.
//
// The export reads the graph only through graph.Reader and is deterministic:
// every list is sorted, bom-refs are derived from node ids, and the serial
// number and timestamp are derived from the content, so exporting the same
// graph twice gives the same bytes and releases can be diffed.
package aibom

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/modelgraph/modelgraph/graph"
)

// Errors. Bad requests wrap ErrInvalidRequest; unknown subjects wrap
// graph.ErrNotFound.
var (
	// ErrInvalidRequest is the root of every error caused by the request
	// rather than by the store.
	ErrInvalidRequest = errors.New("invalid AI-BOM request")
	// ErrAmbiguous is returned by Resolve when a reference names several
	// nodes; the message lists them.
	ErrAmbiguous = fmt.Errorf("%w: ambiguous reference", ErrInvalidRequest)
	// ErrTooLarge is returned when the subject's supply chain exceeds the
	// export limits. An AI-BOM that silently left components out would be
	// worse than none.
	ErrTooLarge = fmt.Errorf("%w: export too large", ErrInvalidRequest)
)

// Limits on one export.
const (
	// MaxNodes caps the nodes (models, datasets, files, packages, runs,
	// deployments) one export may hold.
	MaxNodes = 250_000
	// MaxEnvironmentLen caps Request.Environment.
	MaxEnvironmentLen = 256
	// MaxToolVersionLen caps Request.ToolVersion.
	MaxToolVersionLen = 128
)

// maxNodes is MaxNodes, lowered by tests to exercise the limit cheaply.
var maxNodes = MaxNodes

// Request selects what to export. Exactly one of Model, Deployment and
// Environment is set.
type Request struct {
	// Model exports one model and its supply chain.
	Model graph.NodeID
	// Deployment exports one deployment, the model(s) it runs and their
	// supply chain.
	Deployment graph.NodeID
	// Environment exports every deployment whose "environment" attribute
	// equals it.
	Environment string
	// SerialNumber ("urn:uuid:...") overrides the serial derived from the
	// content.
	SerialNumber string
	// Timestamp overrides the one derived from the newest evidence
	// document's ingestion time.
	Timestamp time.Time
	// ToolVersion is the modelgraph version named in metadata.tools.
	ToolVersion string
	// Annotate, when set, gives extra properties for each model and
	// deployment component (the posture level and controls:
	// internal/posture.AIBOMProperties). It must be deterministic.
	Annotate func(ctx context.Context, n graph.Node) ([]cdx.Property, error) `json:"-"`
}

var serialPattern = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func (req Request) check() error {
	n := 0
	for _, set := range []bool{req.Model != "", req.Deployment != "", req.Environment != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%w: set exactly one of model, deployment and environment (got %d)", ErrInvalidRequest, n)
	}
	if len(req.Environment) > MaxEnvironmentLen {
		return fmt.Errorf("%w: environment is %d bytes, limit %d", ErrInvalidRequest, len(req.Environment), MaxEnvironmentLen)
	}
	if len(req.ToolVersion) > MaxToolVersionLen {
		return fmt.Errorf("%w: tool version is %d bytes, limit %d", ErrInvalidRequest, len(req.ToolVersion), MaxToolVersionLen)
	}
	if req.SerialNumber != "" && !serialPattern.MatchString(req.SerialNumber) {
		return fmt.Errorf("%w: serial number %q is not urn:uuid:<lower-case uuid>", ErrInvalidRequest, trunc(req.SerialNumber, 80))
	}
	return nil
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
