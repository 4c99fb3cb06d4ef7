// Package ingest turns raw documents into graph writes: it detects what a
// document is, opens and verifies its envelope, hands the payload to the
// format's parser and applies the resulting batch, one document per atomic
// write. CLI ingest, the HTTP push endpoint, GraphQL and collectors all go
// through Pipeline.
package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/modelgraph/modelgraph/ingest/docerr"
	"github.com/modelgraph/modelgraph/ingest/spdx3"
)

// Format is what a document was detected as.
type Format string

const (
	FormatSigstoreBundle Format = "sigstore-bundle" // OMS signatures and signed attestations
	FormatDSSE           Format = "dsse"            // bare DSSE envelope
	FormatStatement      Format = "in-toto"         // bare in-toto statement (unsigned)
	FormatJSONLines      Format = "jsonl"           // .intoto.jsonl: one envelope or statement per line
	FormatCycloneDX      Format = "cyclonedx"       // JSON or XML
	FormatSPDX           Format = "spdx"            // JSON or tag-value
	FormatSPDX3          Format = "spdx3"           // SPDX 3 JSON-LD
	FormatOpenVEX        Format = "openvex"
	FormatCSAF           Format = "csaf"
	FormatModelCard      Format = "model-card" // Hugging Face model/dataset card (README.md with YAML front matter)
)

// ErrUnsupported is returned when a document is none of the known formats
// (docerr.ErrUnsupported).
var ErrUnsupported = docerr.ErrUnsupported

// ErrTooLarge is returned for documents over the size limit.
var ErrTooLarge = docerr.ErrTooLarge

// Detect guesses the format from the content (and an optional content type).
// It looks only at the top-level shape, so it is cheap on large inputs.
func Detect(data []byte, contentType string) (Format, error) {
	switch contentType {
	case "application/vnd.dev.sigstore.bundle+json", "application/vnd.dev.sigstore.bundle.v0.3+json":
		return FormatSigstoreBundle, nil
	case "application/vnd.in-toto+json":
		return FormatStatement, nil
	case "application/vnd.cyclonedx+json", "application/vnd.cyclonedx+xml", "application/vnd.cyclonedx":
		return FormatCycloneDX, nil
	case "application/spdx+json", "text/spdx", "application/ld+json":
		if spdx3.Detect(data) {
			return FormatSPDX3, nil
		}
		if contentType != "application/ld+json" {
			return FormatSPDX, nil
		}
	case "text/markdown":
		return FormatModelCard, nil
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return "", fmt.Errorf("%w: document is empty", docerr.ErrMalformed)
	}
	switch {
	case bytes.HasPrefix(trimmed, []byte("---")):
		return FormatModelCard, nil
	case bytes.HasPrefix(trimmed, []byte("<")):
		if bytes.Contains(head(trimmed), []byte("cyclonedx.org/schema/bom")) {
			return FormatCycloneDX, nil
		}
		return "", fmt.Errorf("%w: XML document is not a CycloneDX BOM", ErrUnsupported)
	case bytes.HasPrefix(trimmed, []byte("SPDXVersion:")) || bytes.Contains(head(trimmed), []byte("\nSPDXVersion:")):
		return FormatSPDX, nil
	case trimmed[0] != '{':
		return "", fmt.Errorf("%w: not JSON, XML, SPDX tag-value or a model card", ErrUnsupported)
	}
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&top); err != nil {
		return "", fmt.Errorf("%w: invalid JSON: %v", docerr.ErrMalformed, err)
	}
	if dec.More() {
		return FormatJSONLines, nil
	}
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(top[k], &s)
		return s
	}
	switch {
	case bytes.HasPrefix([]byte(str("mediaType")), []byte("application/vnd.dev.sigstore.bundle")):
		return FormatSigstoreBundle, nil
	case top["payloadType"] != nil && top["signatures"] != nil:
		return FormatDSSE, nil
	case top["_type"] != nil:
		return FormatStatement, nil
	case str("bomFormat") == "CycloneDX" || (top["bomFormat"] == nil && top["specVersion"] != nil && top["spdxVersion"] == nil && top["@context"] == nil):
		return FormatCycloneDX, nil
	case top["spdxVersion"] != nil:
		return FormatSPDX, nil
	case top["@graph"] != nil && bytes.Contains(top["@context"], []byte("spdx.org/rdf/3.")):
		return FormatSPDX3, nil
	case bytes.Contains([]byte(str("@context")), []byte("openvex")):
		return FormatOpenVEX, nil
	case top["document"] != nil && bytes.Contains(top["document"], []byte("csaf_version")):
		return FormatCSAF, nil
	case top["statements"] != nil && top["@id"] != nil:
		return FormatOpenVEX, nil // OpenVEX with an empty or non-standard @context
	}
	return "", fmt.Errorf("%w: JSON document is not a sigstore bundle, DSSE envelope, in-toto statement, CycloneDX, SPDX 2/3, OpenVEX or CSAF", ErrUnsupported)
}

func head(b []byte) []byte {
	if len(b) > 4096 {
		return b[:4096]
	}
	return b
}
