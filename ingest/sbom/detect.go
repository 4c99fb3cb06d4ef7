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
	// items counts components (CycloneDX, top-level array and XML
	// elements) or packages and files (SPDX) during the scan, so a
	// document over maxComponents stops before a parser decodes it.
	items int
	// components is the number of top-level CycloneDX JSON components
	// when the scan counted nothing else (0 when unknown): the decoder
	// sizes the slice once.
	components int
	why        string // for kindUnknown
	fast       bool   // XML scanned by scanXML, not checked by sniffXML
	// Raw top-level JSON values, for precise errors.
	bomFormat, specVersion, spdxVersion string
}

// itemsField names what items counted.
func (s sniffed) itemsField() string {
	switch s.kind {
	case kindSPDX:
		return "packages+files"
	case kindCycloneDX:
		return "components"
	}
	return "components/packages"
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

// probed are the top-level members detection looks at.
var probed = map[string]bool{
	"bomFormat": true, "specVersion": true, "spdxVersion": true, "@context": true, "@id": true,
	"statements": true, "document": true, "payloadType": true, "payload": true, "signatures": true,
	"_type": true, "components": true, "vulnerabilities": true,
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

// fastXMLScan lets the tests compare Parse with and without scanXML.
var fastXMLScan = true

// sniffForParse is sniff with scanXML in front of sniffXML (see scanXML).
func sniffForParse(raw []byte) sniffed {
	b := bytes.TrimLeft(raw, " \t\r\n\ufeff")
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if len(b) > 0 && b[0] == '<' && fastXMLScan {
		if s, ok := scanXML(b); ok {
			s.fast = true
			return s
		}
	}
	return sniff(raw)
}

func sniffJSON(b []byte) (out sniffed) {
	p, depth, ok, items := scanTop(b)
	defer func() { out.items = items }()
	switch {
	case depth > maxNesting:
		return sniffed{why: "JSON nesting exceeds the limit", tooDeep: true}
	case !ok:
		return sniffed{why: "JSON is truncated or not an object"}
	}
	has := func(k string) bool { r := p[k]; return len(r) > 0 && string(r) != "null" }
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(p[k], &s)
		return s
	}
	switch {
	case has("bomFormat") || (has("specVersion") && !has("spdxVersion")):
		out := sniffed{kind: kindCycloneDX, vex: nonEmptyArray(p["vulnerabilities"]) && !nonEmptyArray(p["components"]),
			bomFormat: string(p["bomFormat"]), specVersion: string(p["specVersion"])}
		if nonEmptyArray(p["components"]) && p["packages"] == nil && p["files"] == nil {
			out.components = items // only components were counted
		}
		return out
	case has("spdxVersion"):
		return sniffed{kind: kindSPDX, spdxVersion: string(p["spdxVersion"])}
	case has("payloadType") && has("payload") && has("signatures"):
		return sniffed{kind: kindDSSE}
	case strings.HasPrefix(str("_type"), "https://in-toto.io/Statement/"):
		return sniffed{kind: kindStatement}
	case bytes.Contains(p["@context"], []byte("spdx.org/rdf/3")):
		return sniffed{why: "SPDX 3 (JSON-LD) is not supported: GUAC v1.1.0 reads SPDX 2.x"}
	case bytes.Contains(p["@context"], []byte("openvex.dev/ns")) || (has("statements") && (has("@context") || has("@id"))):
		return sniffed{kind: kindOpenVEX}
	case has("document") && bytes.Contains(p["document"], []byte(`"csaf_version"`)):
		return sniffed{kind: kindCSAF}
	}
	return sniffed{why: "JSON is not CycloneDX (bomFormat), SPDX (spdxVersion), OpenVEX (statements), CSAF (document.csaf_version), a DSSE envelope or an in-toto statement"}
}

// counted are the top-level arrays whose elements scanTop counts.
var counted = map[string]bool{"components": true, "packages": true, "files": true}

// scanTop makes one pass over a JSON object: it returns the raw values of
// the probed top-level members, the nesting depth (stopping once it
// exceeds maxNesting) and how many objects the counted top-level arrays
// hold (stopping once past maxComponents), without decoding anything. ok
// is false when the object does not close. Validity is left to the
// decoder that follows.
func scanTop(b []byte) (members map[string][]byte, depth int, ok bool, items int) {
	members = map[string][]byte{}
	d, maxD := 0, 0
	expectKey := false
	keyStart, valStart := -1, -1
	key := ""
	end := func(i int) {
		if valStart >= 0 && key != "" {
			if _, dup := members[key]; !dup {
				members[key] = bytes.TrimSpace(b[valStart:i])
			}
		}
		valStart, key = -1, ""
	}
	for i := 0; i < len(b); i++ {
		// To the next byte that means something outside a string.
		for i < len(b) && !jsonStructural[b[i]] {
			i++
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		if c == '"' {
			if d == 1 && expectKey {
				keyStart, expectKey = i+1, false
			}
			// The string's body: to its closing quote, stepping over
			// each backslash and the byte it escapes.
			j := i + 1
			for {
				q := bytes.IndexByte(b[j:], '"')
				if q < 0 {
					return members, maxD, false, items
				}
				k := bytes.IndexByte(b[j:j+q], '\\')
				if k < 0 {
					j += q
					break
				}
				if j+k+1 >= len(b) {
					return members, maxD, false, items
				}
				j += k + 2
			}
			i = j // the closing quote
			if keyStart >= 0 {
				if k := string(b[keyStart:i]); probed[k] || counted[k] {
					key = k
				}
				keyStart = -1
			}
			continue
		}
		switch c {
		case ':':
			if d == 1 && valStart < 0 {
				valStart = i + 1
			}
		case ',':
			if d == 1 {
				end(i)
				expectKey = true
			}
		case '{', '[':
			d++
			if d > maxD {
				maxD = d
				if maxD > maxNesting {
					return members, maxD, false, items
				}
			}
			if d == 3 && c == '{' && counted[key] {
				if items++; items > maxComponents {
					return members, maxD, true, items
				}
			}
			if d == 1 {
				if c != '{' {
					return members, maxD, false, items
				}
				expectKey = true
			}
		case '}', ']':
			if d == 1 {
				end(i)
			}
			d--
			if d == 0 {
				return members, maxD, len(bytes.TrimSpace(b[i+1:])) == 0, items
			}
		}
	}
	return members, maxD, false, items
}

// jsonStructural marks the bytes scanTop acts on outside strings.
var jsonStructural = func() (t [256]bool) {
	for _, c := range []byte(`"{}[],:`) {
		t[c] = true
	}
	return t
}()

func nonEmptyArray(r json.RawMessage) bool {
	t := bytes.TrimSpace(r)
	if len(t) < 2 || t[0] != '[' {
		return false
	}
	return len(bytes.TrimSpace(t[1:len(t)-1])) > 0
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
			if t.Name.Local == "component" {
				if s.items++; s.items > maxComponents {
					return s
				}
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
	if t[0] == '{' && sniff(t).kind == kindUnknown {
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

// scanXML is sniffXML's verdict for an ordinary CycloneDX XML document,
// found with byte searches instead of encoding/xml's tokenizer (which
// allocates every name and attribute: the first scan cost a third of what
// decoding the BOM costs). It counts what sniffXML counts the way it counts
// it — start tags, their depth, <component> elements, the root's name and
// default namespace, <components> and <vulnerabilities> under the root —
// but does not check that the document is well-formed: sure is true only
// for a document whose scan met nothing sniffXML would treat differently
// (prefixed names, a DOCTYPE, an entity in the root's namespace, the
// limits reached, anything but white space after the root element). The caller then decodes; when the
// decoder (which tokenizes at least as strictly as sniffXML, up to the
// root's end) refuses the document, the caller falls back to sniffXML for
// the verdict it gave before (errResniff), so results and errors are
// sniffXML's exactly (TestScanXMLMatchesSniffXML, FuzzScanXML).
func scanXML(b []byte) (s sniffed, sure bool) {
	depth, rootEnd := 0, -1
	hasComps, hasVulns := false, false
	i := 0
	for {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 {
			break
		}
		if rootEnd >= 0 {
			return s, false // markup after the root element
		}
		i += j
		rest := b[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			k := bytes.Index(rest[4:], []byte("-->"))
			if k < 0 {
				return s, false
			}
			i += 4 + k + 3
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			if rootEnd >= 0 || depth == 0 {
				return s, false
			}
			k := bytes.Index(rest, []byte("]]>"))
			if k < 0 {
				return s, false
			}
			i += k + 3
		case bytes.HasPrefix(rest, []byte("<?")):
			k := bytes.Index(rest, []byte("?>"))
			if k < 0 {
				return s, false
			}
			i += k + 2
		case bytes.HasPrefix(rest, []byte("<!")):
			return s, false // DOCTYPE and the like
		case bytes.HasPrefix(rest, []byte("</")):
			k := bytes.IndexByte(rest, '>')
			if k < 0 || depth == 0 {
				return s, false
			}
			depth--
			i += k + 1
			if depth == 0 {
				rootEnd = i
			}
		default:
			if rootEnd >= 0 {
				return s, false // a second top-level element
			}
			// A start tag: its name, then attributes to the unquoted '>'.
			n := 1
			for n < len(rest) && !isXMLSpace(rest[n]) && rest[n] != '/' && rest[n] != '>' {
				n++
			}
			name := rest[1:n]
			if len(name) == 0 || bytes.IndexByte(name, ':') >= 0 {
				return s, false
			}
			end, attrs, ok := tagEnd(rest, n)
			if !ok {
				return s, false
			}
			selfClosing := rest[end-1] == '/'
			depth++
			if depth > maxNesting {
				return s, false
			}
			if string(name) == "component" {
				if s.items++; s.items > maxComponents {
					return s, false
				}
			}
			if depth == 1 {
				if string(name) != "bom" {
					return s, false
				}
				ns, ok := defaultNS(attrs)
				if !ok || !strings.HasPrefix(ns, cdxXMLNS) {
					return s, false
				}
				s = sniffed{kind: kindCycloneDX, xml: true, items: s.items}
			}
			if depth == 2 {
				switch string(name) {
				case "components":
					hasComps = true
				case "vulnerabilities":
					hasVulns = true
				}
			}
			i += end + 1
			if selfClosing {
				depth--
				if depth == 0 {
					rootEnd = i
				}
			}
		}
	}
	if rootEnd < 0 || len(bytes.TrimSpace(b[i:])) > 0 || s.kind != kindCycloneDX {
		return s, false
	}
	s.vex = hasVulns && !hasComps
	return s, true
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// tagEnd finds the '>' closing the start tag t (its name ends at n),
// skipping quoted attribute values; attrs is what lies between.
func tagEnd(t []byte, n int) (end int, attrs []byte, ok bool) {
	for k := n; k < len(t); k++ {
		switch t[k] {
		case '"', '\'':
			q := bytes.IndexByte(t[k+1:], t[k])
			if q < 0 {
				return 0, nil, false
			}
			k += q + 1
		case '<':
			return 0, nil, false
		case '>':
			a := t[n:k]
			if len(a) > 0 && a[len(a)-1] == '/' {
				a = a[:len(a)-1]
			}
			return k, a, true
		}
	}
	return 0, nil, false
}

// defaultNS returns the value of the unprefixed xmlns attribute in attrs
// (a start tag's attributes); ok is false when they do not read as plain
// name="value" pairs, or the value holds an entity.
func defaultNS(attrs []byte) (ns string, ok bool) {
	a := attrs
	for {
		a = bytes.TrimLeft(a, " \t\r\n")
		if len(a) == 0 {
			return ns, true
		}
		eq := bytes.IndexByte(a, '=')
		if eq <= 0 {
			return "", false
		}
		name := bytes.TrimRight(a[:eq], " \t\r\n")
		a = bytes.TrimLeft(a[eq+1:], " \t\r\n")
		if len(a) == 0 || (a[0] != '"' && a[0] != '\'') {
			return "", false
		}
		q := bytes.IndexByte(a[1:], a[0])
		if q < 0 {
			return "", false
		}
		v := a[1 : 1+q]
		a = a[q+2:]
		if string(name) == "xmlns" {
			if bytes.IndexByte(v, '&') >= 0 {
				return "", false
			}
			ns = string(v)
		}
		if len(a) > 0 && !isXMLSpace(a[0]) {
			return "", false
		}
	}
}
