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
	"io"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/modelgraph/modelgraph/ingest/advisory"
	"github.com/modelgraph/modelgraph/ingest/docerr"
	"github.com/modelgraph/modelgraph/ingest/scorecard"
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
	FormatScorecard      Format = "scorecard"  // OpenSSF Scorecard JSON result (scorecard --format json)
	FormatAdvisory       Format = "advisory"   // the project's advisory document (ingest/advisory; createAdvisory builds them)
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
	top, more, err := topLevel(trimmed)
	if err != nil {
		return "", fmt.Errorf("%w: invalid JSON: %v", docerr.ErrMalformed, err)
	}
	if more {
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
	case scorecard.Detect(top):
		return FormatScorecard, nil
	case top["advisoryFormat"] != nil && advisory.Detect(top["advisoryFormat"]):
		return FormatAdvisory, nil
	case top["statements"] != nil && top["@id"] != nil:
		return FormatOpenVEX, nil // OpenVEX with an empty or non-standard @context
	}
	return "", fmt.Errorf("%w: JSON document is not a sigstore bundle, DSSE envelope, in-toto statement, CycloneDX, SPDX 2/3, OpenVEX, CSAF, a Scorecard result or an advisory document", ErrUnsupported)
}

func head(b []byte) []byte {
	if len(b) > 4096 {
		return b[:4096]
	}
	return b
}

// detectKeys are the top-level members Detect looks at.
var detectKeys = map[string]bool{"mediaType": true, "payloadType": true, "signatures": true, "_type": true,
	"bomFormat": true, "specVersion": true, "spdxVersion": true, "@graph": true, "@context": true,
	"document": true, "statements": true, "@id": true,
	"repo": true, "scorecard": true, "checks": true, // scorecard.Detect
	"advisoryFormat": true}

// presenceKeys are the detectKeys whose value Detect does not read.
var presenceKeys = map[string]bool{"payloadType": true, "signatures": true, "@graph": true, "statements": true, "@id": true, "specVersion": true, "spdxVersion": true, "_type": true,
	"repo": true, "scorecard": true, "checks": true}

// topLevel reads the first JSON object of data in one streaming pass
// (jsontext: values it does not keep are skipped, not copied or decoded),
// keeping the raw values of detectKeys, and reports whether another value
// follows (JSON Lines).
func topLevel(data []byte) (map[string]json.RawMessage, bool, error) {
	if top, more, ok := topLevelFast(data); ok {
		return top, more, nil
	}
	return topLevelJSONText(data)
}

// topLevelJSONText is topLevel by jsontext: what decides, and words the
// error, whenever topLevelFast does not accept the input.
func topLevelJSONText(data []byte) (map[string]json.RawMessage, bool, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(data), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if tok, err := dec.ReadToken(); err != nil {
		return nil, false, err
	} else if tok.Kind() != '{' {
		return nil, false, fmt.Errorf("not a JSON object")
	}
	top := map[string]json.RawMessage{}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, false, err
		}
		name := tok.String()
		if presenceKeys[name] { // only presence matters: do not copy a large value
			if err := dec.SkipValue(); err != nil {
				return nil, false, err
			}
			top[name] = json.RawMessage("1")
			continue
		}
		if detectKeys[name] {
			v, err := dec.ReadValue()
			if err != nil {
				return nil, false, err
			}
			top[name] = json.RawMessage(bytes.Clone(v)) // the last wins, as encoding/json reads it; strict parsing refuses duplicates later
			continue
		}
		if err := dec.SkipValue(); err != nil {
			return nil, false, err
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, false, err
	}
	more := dec.PeekKind() != 0
	if !more {
		// Trailing garbage that is not a JSON value: surface the error.
		if _, err := dec.ReadToken(); err != nil && err != io.EOF {
			return nil, false, err
		}
	}
	return top, more, nil
}
