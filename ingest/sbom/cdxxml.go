package sbom

import (
	"bytes"
	"encoding/xml"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// A fast CycloneDX XML decode into cyclonedx-go's own structs, for the
// shapes real BOMs have (components with hashes, licenses, external
// references, properties and nested components; legacy tools and tool
// components; dependencies), over a small tokenizer of the XML subset it
// can prove equal to encoding/xml (Strict mode, as xml.NewDecoder):
//
//   - names are ASCII ([A-Za-z_][A-Za-z0-9_.-]*), never prefixed: a ':'
//     anywhere in a name, and an xmlns attribute anywhere but on <bom>,
//     falls back, so every element is in the root's default namespace
//     and field matching (by local name; cyclonedx-go's tags name no
//     namespace) is the same;
//   - text and attribute values may hold the five predefined entities;
//     numeric character references, other entities, '\r' (encoding/xml
//     rewrites it), control characters, invalid UTF-8, characters outside
//     XML's range and "]]>" in text fall back;
//   - comments and CDATA sections are read as encoding/xml reads them
//     (a comment's first "--" must close it; CDATA's text is taken raw,
//     its characters checked); processing instructions and directives
//     fall back, but for an XML declaration of a known spelling first;
//   - like xml.Decoder.Decode, nothing after </bom> is read.
//
// Each struct is filled with encoding/xml's semantics: an element of a
// field that this file does not handle falls back, an element of no field
// is skipped (its subtree still tokenized, so a syntax error in it falls
// back too), a string field takes all its character data with child
// elements skipped, a repeated element overwrites (a string) or decodes
// into the same struct, a list allocates its pointer at its first item.
// cyclonedx-go's custom UnmarshalXML methods (Licenses, Dependency,
// ToolsChoice) are followed step by step. Anything else gives
// errXMLFallback and decodeCDXXML decodes the whole BOM again with
// cyclonedx-go's decoder, so the result (or error) is exactly the old
// one. TestCDXXMLFastDecodeMatches and FuzzCDXXMLDecodeMatches hold the
// two equal.

var errXMLFallback = errors.New("CycloneDX XML fast path: shape not handled")

// cdxFastXML is switched off by tests to compare the paths.
var cdxFastXML = true

// decodeCDXXML decodes a CycloneDX XML BOM into bom: the fast path, and
// when it gives up, cyclonedx-go's decoder alone into a fresh BOM.
func decodeCDXXML(raw []byte, bom *cdx.BOM) error {
	if cdxFastXML {
		if decodeCDXXMLFast(raw, bom) == nil {
			return nil
		}
		*bom = cdx.BOM{}
	}
	return decodeCDXXMLReflective(raw, bom)
}

func decodeCDXXMLReflective(raw []byte, bom *cdx.BOM) error {
	return cdx.NewBOMDecoder(bytes.NewReader(raw), cdx.BOMFileFormatXML).Decode(bom)
}

// xmlDecls are the XML declarations taken (version 1.0, UTF-8); any
// other prolog falls back.
var xmlDecls = []string{
	`<?xml version="1.0" encoding="UTF-8"?>`,
	`<?xml version="1.0" encoding="utf-8"?>`,
	`<?xml version='1.0' encoding='UTF-8'?>`,
	`<?xml version='1.0' encoding='utf-8'?>`,
	`<?xml version="1.0"?>`,
	`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`,
}

// decodeCDXXMLFast is the fast path alone: a non-nil error means it gave
// up; bom is then garbage.
func decodeCDXXMLFast(raw []byte, bom *cdx.BOM) error {
	r := xr{b: raw}
	for _, d := range xmlDecls {
		if bytes.HasPrefix(raw, []byte(d)) {
			r.i = len(d)
			break
		}
	}
	// Whitespace and comments up to the root.
	for {
		r.space()
		if bytes.HasPrefix(raw[r.i:], []byte("<!--")) {
			if err := r.comment(); err != nil {
				return err
			}
			continue
		}
		break
	}
	if r.i >= len(raw) || raw[r.i] != '<' {
		return errXMLFallback
	}
	e, err := r.startTag()
	if err != nil {
		return err
	}
	if string(e.name) != "bom" {
		return errXMLFallback
	}
	for _, a := range r.attrs {
		switch string(a.name) {
		case "xmlns":
			bom.XMLNS = a.val
		case "serialNumber":
			bom.SerialNumber = a.val
		case "version":
			// encoding/xml's copyValue for an int.
			if a.val == "" {
				bom.Version = 0
				break
			}
			n, err := strconv.ParseInt(strings.TrimSpace(a.val), 10, strconv.IntSize)
			if err != nil {
				return errXMLFallback
			}
			bom.Version = int(n)
		}
	}
	bom.XMLName = xml.Name{Space: bom.XMLNS, Local: "bom"}
	err = r.body(e, nil, func(c xelem) error {
		switch string(c.name) {
		case "metadata":
			if bom.Metadata == nil {
				bom.Metadata = new(cdx.Metadata)
			}
			return r.metadata(c, bom.Metadata)
		case "components":
			return r.components(c, &bom.Components)
		case "dependencies":
			return r.list(c, "dependency", func(c xelem) error {
				if bom.Dependencies == nil {
					bom.Dependencies = new([]cdx.Dependency)
				}
				*bom.Dependencies = append(*bom.Dependencies, cdx.Dependency{})
				return r.dependency(c, &(*bom.Dependencies)[len(*bom.Dependencies)-1])
			})
		case "externalReferences":
			return r.extRefs(c, &bom.ExternalReferences)
		case "properties":
			return r.properties(c, &bom.Properties)
		}
		return r.unknown(c, xmlFieldsBOM)
	})
	if err != nil {
		return err
	}
	bom.SpecVersion = specVersionOfXMLNS(bom.XMLNS)
	return nil
}

// specVersionOfXMLNS is cyclonedx-go's own mapping (its xmlBOMDecoder
// looks XMLNS up in an unexported table): an empty BOM of that namespace
// decoded by it, remembered for the namespaces it knows.
var specVersions sync.Map // string -> cdx.SpecVersion

func specVersionOfXMLNS(ns string) cdx.SpecVersion {
	if v, ok := specVersions.Load(ns); ok {
		return v.(cdx.SpecVersion)
	}
	var b strings.Builder
	b.WriteString(`<bom xmlns="`)
	_ = xml.EscapeText(&b, []byte(ns))
	b.WriteString(`"/>`)
	var bom cdx.BOM
	if decodeCDXXMLReflective([]byte(b.String()), &bom) != nil || bom.XMLNS != ns {
		return 0
	}
	if bom.SpecVersion != 0 {
		specVersions.Store(ns, bom.SpecVersion)
	}
	return bom.SpecVersion
}

// xmlFields: for each struct decoded here, the first name of every
// element path of its fields (as encoding/xml reads the tags). An element
// of one of these that the decode does not handle falls back; any other
// is skipped, as encoding/xml skips it.
var (
	xmlFieldsBOM       = xmlFieldNames(reflect.TypeFor[cdx.BOM]())
	xmlFieldsMetadata  = xmlFieldNames(reflect.TypeFor[cdx.Metadata]())
	xmlFieldsComponent = xmlFieldNames(reflect.TypeFor[cdx.Component]())
	xmlFieldsExtRef    = xmlFieldNames(reflect.TypeFor[cdx.ExternalReference]())
	xmlFieldsLicense   = xmlFieldNames(reflect.TypeFor[cdx.License]())
	//lint:ignore SA1019 legacy <tools><tool> of CycloneDX 1.0–1.4, decoded into cyclonedx-go's own type as its XML decoder does
	xmlFieldsTool    = xmlFieldNames(reflect.TypeFor[cdx.Tool]())
	xmlFieldsContact = xmlFieldNames(reflect.TypeFor[cdx.OrganizationalContact]())
)

func xmlFieldNames(t reflect.Type) map[string]bool {
	m := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Name == "XMLName" {
			continue
		}
		tag := f.Tag.Get("xml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous || strings.Contains(opts, "any") || strings.Contains(opts, "innerxml") || strings.Contains(opts, "comment") {
			// Shapes this decode does not model: the test fails on them.
			panic("cdxxml: " + t.Name() + "." + f.Name + " has an xml tag this decode does not model")
		}
		if strings.Contains(opts, "attr") || strings.Contains(opts, "chardata") {
			continue
		}
		if name == "" {
			name = f.Name
		}
		first, _, _ := strings.Cut(name, ">")
		m[first] = true
	}
	return m
}

// unknown skips an element that matches no field, and falls back on one
// that matches a field not handled here.
func (r *xr) unknown(c xelem, fields map[string]bool) error {
	if fields[string(c.name)] {
		return errXMLFallback
	}
	return r.skip(c)
}

func (r *xr) metadata(e xelem, m *cdx.Metadata) error {
	return r.body(e, nil, func(c xelem) error {
		switch string(c.name) {
		case "timestamp":
			return r.str(c, &m.Timestamp)
		case "tools":
			if m.Tools == nil {
				m.Tools = new(cdx.ToolsChoice)
			}
			return r.tools(c, m.Tools)
		case "authors":
			return r.list(c, "author", func(c xelem) error {
				if m.Authors == nil {
					m.Authors = new([]cdx.OrganizationalContact)
				}
				*m.Authors = append(*m.Authors, cdx.OrganizationalContact{})
				return r.contact(c, &(*m.Authors)[len(*m.Authors)-1])
			})
		case "component":
			if m.Component == nil {
				m.Component = new(cdx.Component)
			}
			return r.component(c, m.Component)
		case "licenses":
			if m.Licenses == nil {
				m.Licenses = new(cdx.Licenses)
			}
			return r.licenses(c, m.Licenses)
		case "properties":
			return r.properties(c, &m.Properties)
		}
		return r.unknown(c, xmlFieldsMetadata)
	})
}

// tools follows ToolsChoice.UnmarshalXML.
func (r *xr) tools(e xelem, tc *cdx.ToolsChoice) error {
	var components []cdx.Component
	//lint:ignore SA1019 legacy <tools><tool> of CycloneDX 1.0–1.4, decoded into cyclonedx-go's own type as its XML decoder does
	legacy := make([]cdx.Tool, 0)
	err := r.body(e, nil, func(c xelem) error {
		switch string(c.name) {
		case "tool":
			//lint:ignore SA1019 legacy <tools><tool> of CycloneDX 1.0–1.4, decoded into cyclonedx-go's own type as its XML decoder does
			var t cdx.Tool
			if err := r.tool(c, &t); err != nil {
				return err
			}
			legacy = append(legacy, t)
			return nil
		case "components":
			// toolsChoiceUnmarshalXML: <component> and <service> items.
			var comps *[]cdx.Component
			err := r.body(c, nil, func(c xelem) error {
				switch string(c.name) {
				case "component":
					if comps == nil {
						comps = new([]cdx.Component)
					}
					*comps = append(*comps, cdx.Component{})
					return r.component(c, &(*comps)[len(*comps)-1])
				case "service":
					return errXMLFallback
				}
				return r.skip(c)
			})
			if err != nil {
				return err
			}
			if comps != nil {
				components = *comps
			}
			return nil
		}
		// services, and the error on any other element.
		return errXMLFallback
	})
	if err != nil {
		return err
	}
	if len(legacy) > 0 && len(components) > 0 {
		return errXMLFallback // cyclonedx-go's error
	}
	var choice cdx.ToolsChoice
	if len(components) > 0 {
		choice.Components = &components
	}
	if len(legacy) > 0 {
		choice.Tools = &legacy
	}
	if choice.Tools != nil || choice.Components != nil {
		*tc = choice
	}
	return nil
}

//lint:ignore SA1019 legacy <tools><tool> of CycloneDX 1.0–1.4, decoded into cyclonedx-go's own type as its XML decoder does
func (r *xr) tool(e xelem, t *cdx.Tool) error {
	return r.body(e, nil, func(c xelem) error {
		switch string(c.name) {
		case "vendor":
			return r.str(c, &t.Vendor)
		case "name":
			return r.str(c, &t.Name)
		case "version":
			return r.str(c, &t.Version)
		case "hashes":
			return r.hashes(c, &t.Hashes)
		case "externalReferences":
			return r.extRefs(c, &t.ExternalReferences)
		}
		return r.unknown(c, xmlFieldsTool)
	})
}

func (r *xr) contact(e xelem, oc *cdx.OrganizationalContact) error {
	for _, a := range r.attrs {
		if string(a.name) == "bom-ref" {
			oc.BOMRef = a.val
		}
	}
	return r.body(e, nil, func(c xelem) error {
		switch string(c.name) {
		case "name":
			return r.str(c, &oc.Name)
		case "email":
			return r.str(c, &oc.Email)
		case "phone":
			return r.str(c, &oc.Phone)
		}
		return r.unknown(c, xmlFieldsContact)
	})
}

// components reads a <components> wrapper: its <component> items are
// appended to *dst, allocated at the first.
func (r *xr) components(e xelem, dst **[]cdx.Component) error {
	return r.list(e, "component", func(c xelem) error {
		if *dst == nil {
			*dst = new([]cdx.Component)
		}
		*(*dst) = append(*(*dst), cdx.Component{})
		return r.component(c, &(*(*dst))[len(*(*dst))-1])
	})
}

func (r *xr) component(e xelem, comp *cdx.Component) error {
	for _, a := range r.attrs {
		switch string(a.name) {
		case "bom-ref":
			comp.BOMRef = a.val
		case "mime-type":
			comp.MIMEType = a.val
		case "type":
			comp.Type = cdx.ComponentType(a.val)
		}
	}
	return r.body(e, nil, func(c xelem) error {
		switch string(c.name) {
		case "author":
			return r.str(c, &comp.Author)
		case "publisher":
			return r.str(c, &comp.Publisher)
		case "group":
			return r.str(c, &comp.Group)
		case "name":
			return r.str(c, &comp.Name)
		case "version":
			return r.str(c, &comp.Version)
		case "description":
			return r.str(c, &comp.Description)
		case "scope":
			var s string
			err := r.str(c, &s)
			comp.Scope = cdx.Scope(s)
			return err
		case "copyright":
			return r.str(c, &comp.Copyright)
		case "cpe":
			return r.str(c, &comp.CPE)
		case "purl":
			return r.str(c, &comp.PackageURL)
		case "versionRange":
			return r.str(c, &comp.VersionRange)
		case "hashes":
			return r.hashes(c, &comp.Hashes)
		case "licenses":
			if comp.Licenses == nil {
				comp.Licenses = new(cdx.Licenses)
			}
			return r.licenses(c, comp.Licenses)
		case "externalReferences":
			return r.extRefs(c, &comp.ExternalReferences)
		case "properties":
			return r.properties(c, &comp.Properties)
		case "components":
			return r.components(c, &comp.Components)
		}
		return r.unknown(c, xmlFieldsComponent)
	})
}

func (r *xr) hashes(e xelem, dst **[]cdx.Hash) error {
	return r.list(e, "hash", func(c xelem) error {
		if *dst == nil {
			*dst = new([]cdx.Hash)
		}
		var h cdx.Hash
		for _, a := range r.attrs {
			if string(a.name) == "alg" {
				h.Algorithm = cdx.HashAlgorithm(a.val)
			}
		}
		if err := r.str(c, &h.Value); err != nil {
			return err
		}
		*(*dst) = append(*(*dst), h)
		return nil
	})
}

func (r *xr) properties(e xelem, dst **[]cdx.Property) error {
	return r.list(e, "property", func(c xelem) error {
		if *dst == nil {
			*dst = new([]cdx.Property)
		}
		var p cdx.Property
		for _, a := range r.attrs {
			if string(a.name) == "name" {
				p.Name = a.val
			}
		}
		if err := r.str(c, &p.Value); err != nil {
			return err
		}
		*(*dst) = append(*(*dst), p)
		return nil
	})
}

func (r *xr) extRefs(e xelem, dst **[]cdx.ExternalReference) error {
	return r.list(e, "reference", func(c xelem) error {
		if *dst == nil {
			*dst = new([]cdx.ExternalReference)
		}
		*(*dst) = append(*(*dst), cdx.ExternalReference{})
		ref := &(*(*dst))[len(*(*dst))-1]
		for _, a := range r.attrs {
			if string(a.name) == "type" {
				ref.Type = cdx.ExternalReferenceType(a.val)
			}
		}
		return r.body(c, nil, func(c xelem) error {
			switch string(c.name) {
			case "url":
				return r.str(c, &ref.URL)
			case "comment":
				return r.str(c, &ref.Comment)
			case "hashes":
				return r.hashes(c, &ref.Hashes)
			case "properties":
				return r.properties(c, &ref.Properties)
			}
			return r.unknown(c, xmlFieldsExtRef)
		})
	})
}

// licenses follows Licenses.UnmarshalXML: <license> and <expression>
// items into a fresh (non-nil) list; any other element is its error.
func (r *xr) licenses(e xelem, l *cdx.Licenses) error {
	list := make([]cdx.LicenseChoice, 0)
	err := r.body(e, nil, func(c xelem) error {
		switch string(c.name) {
		case "license":
			lic := new(cdx.License)
			if err := r.license(c, lic); err != nil {
				return err
			}
			list = append(list, cdx.LicenseChoice{License: lic})
			return nil
		case "expression":
			// licenseExpressionXML: chardata and two attributes.
			var ack, ref string
			for _, a := range r.attrs {
				switch string(a.name) {
				case "acknowledgement":
					ack = a.val
				case "bom-ref":
					ref = a.val
				}
			}
			choice := cdx.LicenseChoice{BOMRef: ref}
			if err := r.str(c, &choice.Expression); err != nil {
				return err
			}
			if ack != "" {
				a := cdx.LicenseAcknowledgement(ack)
				choice.Acknowledgement = &a
			}
			list = append(list, choice)
			return nil
		}
		return errXMLFallback
	})
	if err != nil {
		return err
	}
	*l = list
	return nil
}

func (r *xr) license(e xelem, lic *cdx.License) error {
	for _, a := range r.attrs {
		switch string(a.name) {
		case "bom-ref":
			lic.BOMRef = a.val
		case "acknowledgement":
			lic.Acknowledgement = cdx.LicenseAcknowledgement(a.val)
		}
	}
	return r.body(e, nil, func(c xelem) error {
		switch string(c.name) {
		case "id":
			return r.str(c, &lic.ID)
		case "name":
			return r.str(c, &lic.Name)
		case "url":
			return r.str(c, &lic.URL)
		}
		return r.unknown(c, xmlFieldsLicense)
	})
}

// dependency follows Dependency.UnmarshalXML (dependencyXML: a ref
// attribute, nested <dependency> and <provides> elements whose own
// children are decoded and dropped).
func (r *xr) dependency(e xelem, d *cdx.Dependency) error {
	ref := r.attrRef()
	var deps, provides []string
	err := r.body(e, nil, func(c xelem) error {
		switch string(c.name) {
		case "dependency":
			deps = append(deps, r.attrRef())
		case "provides":
			provides = append(provides, r.attrRef())
		}
		return r.skip(c)
	})
	if err != nil {
		return err
	}
	dep := cdx.Dependency{Ref: ref}
	if len(deps) > 0 {
		s := make([]string, len(deps))
		copy(s, deps)
		dep.Dependencies = &s
	}
	if len(provides) > 0 {
		s := make([]string, len(provides))
		copy(s, provides)
		dep.Provides = &s
	}
	*d = dep
	return nil
}

func (r *xr) attrRef() string {
	var ref string
	for _, a := range r.attrs {
		if string(a.name) == "ref" {
			ref = a.val
		}
	}
	return ref
}

// list reads a wrapper element (a field path "wrapper>item"): its item
// elements go to fn, anything else is skipped.
func (r *xr) list(e xelem, item string, fn func(xelem) error) error {
	return r.body(e, nil, func(c xelem) error {
		if string(c.name) == item {
			return fn(c)
		}
		return r.skip(c)
	})
}

// The tokenizer.

type xmlAttr struct {
	name []byte
	val  string
}

// xelem is a start tag just read; its attributes are r.attrs until the
// next start tag.
type xelem struct {
	name  []byte
	empty bool // <name/>
}

type xr struct {
	b     []byte
	i     int
	depth int
	attrs []xmlAttr
	tbuf  []byte // a string field's text (str)
	vbuf  []byte // scratch: attribute values, text only checked
}

// maxXMLDepth is far below encoding/xml's own limit: deeper falls back.
const maxXMLDepth = 512

// str reads a string field: all its character data, child elements
// skipped.
func (r *xr) str(e xelem, dst *string) error {
	r.tbuf = r.tbuf[:0]
	if err := r.body(e, &r.tbuf, nil); err != nil {
		return err
	}
	*dst = string(r.tbuf)
	return nil
}

func (r *xr) skip(e xelem) error { return r.body(e, nil, nil) }

// body reads e's content up to its end tag: character data is appended
// to *text (when text is not nil), child elements go to child (skipped
// when child is nil).
func (r *xr) body(e xelem, text *[]byte, child func(xelem) error) error {
	if e.empty {
		return nil
	}
	if r.depth++; r.depth > maxXMLDepth {
		return errXMLFallback
	}
	b := r.b
	for {
		j := bytes.IndexByte(b[r.i:], '<')
		if j < 0 {
			return errXMLFallback
		}
		if j > 0 {
			raw := b[r.i : r.i+j]
			r.i += j
			var ok bool
			if text != nil {
				*text, ok = appendXMLText(*text, raw, xmlText)
			} else {
				ok = validXMLText(raw, &r.vbuf)
			}
			if !ok {
				return errXMLFallback
			}
		}
		if r.i+1 >= len(b) {
			return errXMLFallback
		}
		switch b[r.i+1] {
		case '/':
			r.i += 2
			name := r.name()
			if name == nil || !bytes.Equal(name, e.name) {
				return errXMLFallback
			}
			r.space()
			if r.i >= len(b) || b[r.i] != '>' {
				return errXMLFallback
			}
			r.i++
			r.depth--
			return nil
		case '!':
			rest := b[r.i:]
			switch {
			case bytes.HasPrefix(rest, []byte("<!--")):
				if err := r.comment(); err != nil {
					return err
				}
			case bytes.HasPrefix(rest, []byte("<![CDATA[")):
				r.i += len("<![CDATA[")
				k := bytes.Index(b[r.i:], []byte("]]>"))
				if k < 0 {
					return errXMLFallback
				}
				raw := b[r.i : r.i+k]
				r.i += k + 3
				var ok bool
				if text != nil {
					*text, ok = appendXMLText(*text, raw, xmlCDATA)
				} else {
					_, ok = appendXMLText(r.vbuf[:0], raw, xmlCDATA)
				}
				if !ok {
					return errXMLFallback
				}
			default:
				return errXMLFallback
			}
		case '?':
			return errXMLFallback
		default:
			c, err := r.startTag()
			if err != nil {
				return err
			}
			if child != nil {
				err = child(c)
			} else {
				err = r.skip(c)
			}
			if err != nil {
				return err
			}
		}
	}
}

// comment skips <!--...-->: as encoding/xml, the first "--" after "<!--"
// must be followed by '>'.
func (r *xr) comment() error {
	r.i += len("<!--")
	k := bytes.Index(r.b[r.i:], []byte("--"))
	if k < 0 || r.i+k+2 >= len(r.b) || r.b[r.i+k+2] != '>' {
		return errXMLFallback
	}
	r.i += k + 3
	return nil
}

// startTag reads <name attr="v" ...> or <name .../> at r.i.
func (r *xr) startTag() (xelem, error) {
	b := r.b
	r.i++ // '<'
	name := r.name()
	if name == nil {
		return xelem{}, errXMLFallback
	}
	r.attrs = r.attrs[:0]
	for {
		r.space()
		if r.i >= len(b) {
			return xelem{}, errXMLFallback
		}
		switch b[r.i] {
		case '/':
			if r.i+1 < len(b) && b[r.i+1] == '>' {
				r.i += 2
				return xelem{name: name, empty: true}, nil
			}
			return xelem{}, errXMLFallback
		case '>':
			r.i++
			return xelem{name: name}, nil
		}
		an := r.name()
		if an == nil || r.depth > 0 && string(an) == "xmlns" {
			return xelem{}, errXMLFallback
		}
		r.space()
		if r.i >= len(b) || b[r.i] != '=' {
			return xelem{}, errXMLFallback
		}
		r.i++
		r.space()
		if r.i >= len(b) || b[r.i] != '"' && b[r.i] != '\'' {
			return xelem{}, errXMLFallback
		}
		q := b[r.i]
		r.i++
		k := bytes.IndexByte(b[r.i:], q)
		if k < 0 {
			return xelem{}, errXMLFallback
		}
		raw := b[r.i : r.i+k]
		r.i += k + 1
		if bytes.IndexByte(raw, '<') >= 0 {
			return xelem{}, errXMLFallback
		}
		var val string
		if plainXMLText(raw) {
			val = string(raw)
		} else {
			t, ok := appendXMLText(r.vbuf[:0], raw, xmlAttrVal)
			r.vbuf = t
			if !ok {
				return xelem{}, errXMLFallback
			}
			val = string(t)
		}
		r.attrs = append(r.attrs, xmlAttr{name: an, val: val})
	}
}

// name reads [A-Za-z_][A-Za-z0-9_.-]* at r.i; nil (fall back) when the
// name goes on with a ':' or a non-ASCII byte, or the input ends.
func (r *xr) name() []byte {
	b, i := r.b, r.i
	if i >= len(b) || !(b[i] >= 'a' && b[i] <= 'z' || b[i] >= 'A' && b[i] <= 'Z' || b[i] == '_') {
		return nil
	}
	j := i + 1
	for j < len(b) && xmlNameByte[b[j]] {
		j++
	}
	if j >= len(b) || b[j] == ':' || b[j] >= utf8.RuneSelf {
		return nil
	}
	r.i = j
	return b[i:j]
}

var xmlNameByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
	}
	return
}()

// space skips encoding/xml's white space.
func (r *xr) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

const (
	xmlText = iota
	xmlAttrVal
	xmlCDATA
)

// plainXMLText: printable ASCII, tab and newline only, no '&' or ']':
// encoding/xml gives such text unchanged.
func plainXMLText(raw []byte) bool {
	for _, c := range raw {
		if c < 0x20 && c != '\n' && c != '\t' || c >= utf8.RuneSelf || c == '&' || c == ']' {
			return false
		}
	}
	return true
}

func validXMLText(raw []byte, scratch *[]byte) bool {
	if plainXMLText(raw) {
		return true
	}
	t, ok := appendXMLText((*scratch)[:0], raw, xmlText)
	*scratch = t
	return ok
}

// appendXMLText appends raw as encoding/xml's text() decodes it, or
// reports false where this decode falls back (encoding/xml gives an
// error there, or something this function does not reproduce).
func appendXMLText(dst, raw []byte, mode int) ([]byte, bool) {
	start := 0
	for k := 0; k < len(raw); {
		c := raw[k]
		switch {
		case c >= 0x20 && c < utf8.RuneSelf && c != '&' && c != ']' || c == '\n' || c == '\t':
			k++
		case c == ']':
			if mode == xmlText && k+2 < len(raw) && raw[k+1] == ']' && raw[k+2] == '>' {
				return dst, false // "unescaped ]]> not in CDATA section"
			}
			k++
		case c == '&':
			if mode == xmlCDATA {
				k++
				continue
			}
			dst = append(dst, raw[start:k]...)
			var rep byte
			rest := raw[k:]
			switch {
			case bytes.HasPrefix(rest, []byte("&lt;")):
				rep = '<'
			case bytes.HasPrefix(rest, []byte("&gt;")):
				rep = '>'
			case bytes.HasPrefix(rest, []byte("&amp;")):
				rep = '&'
			case bytes.HasPrefix(rest, []byte("&apos;")):
				rep = '\''
			case bytes.HasPrefix(rest, []byte("&quot;")):
				rep = '"'
			default:
				return dst, false
			}
			dst = append(dst, rep)
			k += bytes.IndexByte(rest, ';') + 1
			start = k
		case c >= utf8.RuneSelf:
			rr, size := utf8.DecodeRune(raw[k:])
			if rr == utf8.RuneError && size == 1 || !xmlCharInRange(rr) {
				return dst, false
			}
			k += size
		default: // control characters, and '\r' (encoding/xml rewrites it)
			return dst, false
		}
	}
	return append(dst, raw[start:]...), true
}

// xmlCharInRange is encoding/xml's isInCharacterRange.
func xmlCharInRange(r rune) bool {
	return r == 0x09 ||
		r == 0x0A ||
		r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
