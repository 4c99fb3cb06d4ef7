package query

import (
	"bytes"
	"context"
	"fmt"

	"github.com/modelgraph/modelgraph/aibom"
)

// AIBOM is an exported CycloneDX document.
type AIBOM struct {
	MediaType string `json:"mediaType"`
	Document  string `json:"document"`
}

// AIBOM exports the CycloneDX AI-BOM for a model or deployment reference,
// or for an environment; format is read by aibom.ParseFormat (json, xml,
// spdx3 and their spellings), spec "1.6" or "1.7".
// opts adjust the request (e.g. set Annotate to add posture properties).
func (s *Service) AIBOM(ctx context.Context, ref, environment, format, spec, toolVersion string, opts ...func(*aibom.Request)) (AIBOM, error) {
	if format == "" {
		format = string(aibom.FormatJSON)
	}
	f, err := aibom.ParseFormat(format)
	if err != nil {
		return AIBOM{}, fmt.Errorf("aibom: %w", err)
	}
	if spec == "" {
		spec = string(aibom.Spec1_6)
	}
	mt, err := aibom.ContentType(f, aibom.Spec(spec))
	if err != nil {
		return AIBOM{}, fmt.Errorf("aibom: %w", err)
	}
	req, err := aibom.RequestFor(ctx, s.r, ref, environment, toolVersion)
	if err != nil {
		return AIBOM{}, err
	}
	for _, o := range opts {
		o(&req)
	}
	var buf bytes.Buffer
	if err := aibom.Write(ctx, s.r, req, f, aibom.Spec(spec), &buf); err != nil {
		return AIBOM{}, err
	}
	return AIBOM{MediaType: mt, Document: buf.String()}, nil
}
