package aibom

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
)

// RequestFor builds the request for a reference (model or deployment, as
// Resolve understands it) or, when ref is empty, for an environment.
// Callers (CLI, HTTP, GraphQL) share it so they select subjects alike.
func RequestFor(ctx context.Context, r graph.Reader, ref, environment, toolVersion string) (Request, error) {
	req := Request{ToolVersion: toolVersion}
	switch {
	case ref != "" && environment != "":
		return req, fmt.Errorf("%w: give a model/deployment reference or an environment, not both", ErrInvalidRequest)
	case environment != "":
		req.Environment = environment
		return req, nil
	case ref == "":
		return req, fmt.Errorf("%w: no model, deployment or environment given", ErrInvalidRequest)
	}
	id, kind, err := Resolve(ctx, r, ref)
	if err != nil {
		return req, err
	}
	switch kind {
	case graph.KindModel:
		req.Model = id
	case graph.KindDeployment:
		req.Deployment = id
	default:
		return req, fmt.Errorf("%w: %s is a %s; an AI-BOM is exported for a model, a deployment or an environment", ErrInvalidRequest, ref, kind)
	}
	return req, nil
}

// Write exports req and encodes it to w.
func Write(ctx context.Context, r graph.Reader, req Request, format Format, spec Spec, w io.Writer) error {
	bom, err := Export(ctx, r, req)
	if err != nil {
		return err
	}
	return Encode(w, bom, format, spec)
}

// ParseFormat reads a format name as the CLI and HTTP callers give it:
// json, xml (or cyclonedx-json, cyclonedx-xml) and spdx3 (spdx, spdx-3,
// spdx3-json), in any case.
func ParseFormat(s string) (Format, error) {
	switch strings.TrimPrefix(strings.ToLower(s), "cyclonedx-") {
	case "json":
		return FormatJSON, nil
	case "xml":
		return FormatXML, nil
	case "spdx3", "spdx-3", "spdx3-json", "spdx":
		return FormatSPDX3, nil
	}
	return "", fmt.Errorf("%w: format %q: want cyclonedx-json, cyclonedx-xml or spdx3", ErrInvalidRequest, s)
}
