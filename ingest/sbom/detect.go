package sbom

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// GUAC's own detector (pkg/handler/processor/guesser) cannot be linked here:
// it imports ossf/scorecard v4 for one struct, and scorecard v4 does not
// compile beside sigstore-go v1.3.0's tablewriter. Detection is therefore
// done on the top-level shape, the same signals GUAC's guessers use (and
// deterministic, where GUAC's map-ordered guessers are not).

type kind int

const (
	kindUnknown kind = iota
	kindCycloneDX
	kindSPDX
	kindOpenVEX
	kindCSAF
	kindDSSE
	kindStatement
)

func (k kind) describe(why string) string {
	switch k {
	case kindCycloneDX:
		return "a CycloneDX document"
	case kindSPDX:
		return "an SPDX document"
	case kindOpenVEX:
		return "an OpenVEX document"
	case kindCSAF:
		return "a CSAF document"
	case kindDSSE:
		return "a DSSE envelope"
	case kindStatement:
		return "an in-toto statement"
	}
	if why != "" {
		return why
	}
	return "not a recognised document"
}

type sniffed struct {
	kind    kind
	xml     bool
	vex     bool // CycloneDX with vulnerabilities and no components
	tooDeep bool
	why     string // for kindUnknown
	// Raw top-level JSON values, for precise errors.
	bomFormat, specVersion, spdxVersion string
}

func (s sniffed) docType() string {
	switch s.kind {
	case kindCycloneDX:
		if s.vex {
			return TypeCycloneDXVEX
		}
		return TypeCycloneDX
	case kindSPDX:
		return TypeSPDX
	case kindOpenVEX:
		return TypeOpenVEX
	case kindCSAF:
		return TypeCSAF
	}
	return ""
}

type jsonProbe struct {
	BOMFormat       json.RawMessage `json:"bomFormat"`
	SpecVersion     json.RawMessage `json:"specVersion"`
	SPDXVersion     json.RawMessage `json:"spdxVersion"`
	Context         json.RawMessage `json:"@context"`
	ID              json.RawMessage `json:"@id"`
	Statements      json.RawMessage `json:"statements"`
	Document        json.RawMessage `json:"document"`
	PayloadType     json.RawMessage `json:"payloadType"`
	Payload         json.RawMessage `json:"payload"`
	Signatures      json.RawMessage `json:"signatures"`
	Type            json.RawMessage `json:"_type"`
	Components      json.RawMessage `json:"components"`
	Vulnerabilities json.RawMessage `json:"vulnerabilities"`
}

func sniff(raw []byte) sniffed {
	b := bytes.TrimLeft(raw, " \t\r\n\ufeff")
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	switch {
	case len(b) == 0:
		return sniffed{why: "document is empty"}
	case b[0] == '{':
		return sniffJSON(b)
	case b[0] == '<':
		return sniffXML(b)
	case bytes.HasPrefix(b, []byte("SPDXVersion:")):
		return sniffed{why: "SPDX tag-value is not supported (convert it to SPDX JSON)"}
	}
	return sniffed{why: "document is neither JSON nor XML"}
}

func sniffJSON(b []byte) sniffed {
	if jsonDepth(b) > maxNesting {
		return sniffed{why: "JSON nesting exceeds the limit", tooDeep: true}
	}
	var p jsonProbe
	if err := json.Unmarshal(b, &p); err != nil {
		return sniffed{why: "JSON does not parse: " + err.Error()}
	}
	has := func(r json.RawMessage) bool { return len(r) > 0 && string(r) != "null" }
	str := func(r json.RawMessage) string {
		var s string
		_ = json.Unmarshal(r, &s)
		return s
	}
	switch {
	case has(p.BOMFormat) || (has(p.SpecVersion) && !has(p.SPDXVersion)):
		return sniffed{kind: kindCycloneDX, vex: nonEmptyArray(p.Vulnerabilities) && !nonEmptyArray(p.Components),
			bomFormat: string(p.BOMFormat), specVersion: string(p.SpecVersion)}
	case has(p.SPDXVersion):
		return sniffed{kind: kindSPDX, spdxVersion: string(p.SPDXVersion)}
	case has(p.PayloadType) && has(p.Payload) && has(p.Signatures):
		return sniffed{kind: kindDSSE}
	case strings.HasPrefix(str(p.Type), "https://in-toto.io/Statement/"):
		return sniffed{kind: kindStatement}
	case strings.Contains(string(p.Context), "spdx.org/rdf/3"):
		return sniffed{why: "SPDX 3 (JSON-LD) is not supported: GUAC v1.1.0 reads SPDX 2.x"}
	case strings.Contains(string(p.Context), "openvex.dev/ns") || (has(p.Statements) && (has(p.Context) || has(p.ID))):
		return sniffed{kind: kindOpenVEX}
	case has(p.Document) && bytes.Contains(p.Document, []byte(`"csaf_version"`)):
		return sniffed{kind: kindCSAF}
	}
	return sniffed{why: "JSON is not CycloneDX (bomFormat), SPDX (spdxVersion), OpenVEX (statements), CSAF (document.csaf_version), a DSSE envelope or an in-toto statement"}
}

func nonEmptyArray(r json.RawMessage) bool {
	t := bytes.TrimSpace(r)
	if len(t) < 2 || t[0] != '[' {
		return false
	}
	return len(bytes.TrimSpace(t[1:len(t)-1])) > 0
}

// jsonDepth returns the maximum nesting of objects and arrays, stopping as
// soon as it exceeds maxNesting.
func jsonDepth(b []byte) int {
	depth, max := 0, 0
	inStr, esc := false, false
	for _, c := range b {
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
			if depth > max {
				max = depth
				if max > maxNesting {
					return max
				}
			}
		case '}', ']':
			depth--
		}
	}
	return max
}

const cdxXMLNS = "http://cyclonedx.org/schema/bom/"

func sniffXML(b []byte) sniffed {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	depth := 0
	var s sniffed
	hasComps, hasVulns := false, false
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sniffed{why: "XML does not parse: " + err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxNesting {
				return sniffed{why: "XML nesting exceeds the limit", tooDeep: true}
			}
			if depth == 1 {
				ns := ""
				for _, a := range t.Attr {
					if a.Name.Space == "" && a.Name.Local == "xmlns" {
						ns = a.Value
					}
				}
				if t.Name.Local != "bom" || !strings.HasPrefix(ns, cdxXMLNS) {
					return sniffed{why: "XML root is not a CycloneDX <bom> (namespace " + cdxXMLNS + "…)"}
				}
				s = sniffed{kind: kindCycloneDX, xml: true}
			}
			if depth == 2 {
				switch t.Name.Local {
				case "components":
					hasComps = true
				case "vulnerabilities":
					hasVulns = true
				}
			}
		case xml.EndElement:
			depth--
		}
	}
	if s.kind != kindCycloneDX {
		return sniffed{why: "XML has no root element"}
	}
	s.vex = hasVulns && !hasComps
	return s
}

// predicateKind maps an in-toto predicate type to the document it carries.
func predicateKind(pt string) kind {
	switch {
	case strings.HasPrefix(pt, "https://cyclonedx.org/bom"), strings.HasPrefix(pt, "https://cyclonedx.org/vex"):
		return kindCycloneDX
	case strings.HasPrefix(pt, "https://spdx.dev/Document"):
		return kindSPDX
	case strings.HasPrefix(pt, "https://openvex.dev/ns"):
		return kindOpenVEX
	}
	return kindUnknown
}

// predicateBytes returns the document inside a predicate: the predicate
// itself, or the string cosign's older "custom" wrapping stored in Data (or
// the predicate as a JSON string).
func predicateBytes(p json.RawMessage) ([]byte, error) {
	t := bytes.TrimSpace(p)
	if len(t) == 0 || string(t) == "null" {
		return nil, errors.New("predicate is empty")
	}
	if t[0] == '"' {
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return nil, err
		}
		return []byte(s), nil
	}
	if t[0] == '{' {
		var w struct {
			Data json.RawMessage `json:"Data"`
		}
		if json.Unmarshal(t, &w) == nil && len(w.Data) > 0 {
			var s string
			if json.Unmarshal(w.Data, &s) == nil && s != "" && sniff([]byte(s)).kind != kindUnknown {
				return []byte(s), nil
			}
		}
	}
	return t, nil
}
