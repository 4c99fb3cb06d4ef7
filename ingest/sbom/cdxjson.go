package sbom

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"sync"
	"unicode/utf8"

	cdx "github.com/CycloneDX/cyclonedx-go"
	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// A reflection-free decode of the CycloneDX JSON types every BOM repeats
// (components with their hashes, licenses, external references and
// properties; dependencies) into cyclonedx-go's own structs, plugged into
// go-json-experiment's v1 emulation as type-specific unmarshalers. Every
// other type, and every rarely used field of these, still goes through
// the reflective decoder (json.UnmarshalDecode on the field), so the
// structs are the same.
//
// The fast path only takes the plain shape: an object whose names are
// spelt exactly as the struct tags, each at most once, and whose values
// have the expected kind (string, array, object; never null). Anything
// else — an unknown or differently cased name, a duplicate, a null, a
// number where a string belongs, a string that is not valid UTF-8 — makes
// it give up (errCDXFallback) and decodeCDXJSON decodes the whole BOM
// again with the reflective path alone, so its result (or error) is
// exactly the old one. TestCDXFastDecodeMatches and FuzzCDXDecodeMatches
// hold the two paths equal.

var errCDXFallback = errors.New("CycloneDX JSON fast path: shape not handled")

// cdxFast is one decode's state: the options that route the hot types to
// its methods, a string cache like the reflective decoder's (repeated
// short strings, such as hash algorithms and reference types, are
// allocated once per document), and scratch stacks each slice is built
// on before it is copied out at its exact length.
type cdxFast struct {
	opts   json.Options
	cache  [256]string
	hashes []cdx.Hash
	exts   []cdx.ExternalReference
	props  []cdx.Property
	lics   []cdx.LicenseChoice
	strs   []string
}

var cdxFastPool = sync.Pool{New: func() any {
	st := new(cdxFast)
	st.opts = json.JoinOptions(jsonv1.DefaultOptionsV1(),
		// Only how errors are reported, and the up-front syntax scan of
		// the whole input that goes with it: the fast path's errors are
		// never shown (the reflective decode runs again), and a
		// successful decode's BOM is the same.
		jsonv1.ReportErrorsWithLegacySemantics(false),
		json.WithUnmarshalers(json.JoinUnmarshalers(
			json.UnmarshalFromFunc(st.component),
			json.UnmarshalFromFunc(st.dependency),
		)))
	return st
}}

// decodeCDXJSONFast is the fast path alone: a non-nil error means it gave
// up (or the input is invalid); bom is then garbage.
func decodeCDXJSONFast(raw []byte, s sniffed, bom *cdx.BOM) error {
	presizeComponents(s, bom)
	st := cdxFastPool.Get().(*cdxFast)
	err := json.Unmarshal(raw, bom, st.opts)
	// Nothing of this document stays reachable from the pool.
	st.cache = [256]string{}
	clear(st.hashes[:cap(st.hashes)])
	clear(st.exts[:cap(st.exts)])
	clear(st.props[:cap(st.props)])
	clear(st.lics[:cap(st.lics)])
	clear(st.strs[:cap(st.strs)])
	st.hashes, st.exts, st.props, st.lics, st.strs = st.hashes[:0], st.exts[:0], st.props[:0], st.lics[:0], st.strs[:0]
	cdxFastPool.Put(st)
	return err
}

// cdxFastJSON is switched off by tests to compare the paths.
var cdxFastJSON = true

func decodeCDXJSONReflective(raw []byte, s sniffed, bom *cdx.BOM) error {
	presizeComponents(s, bom)
	return jsonv1.Unmarshal(raw, bom)
}

func presizeComponents(s sniffed, bom *cdx.BOM) {
	if s.components > 0 && !s.xml {
		cs := make([]cdx.Component, 0, s.components)
		bom.Components = &cs
	}
}

// str reads a JSON string into dst.
func (st *cdxFast) str(dec *jsontext.Decoder, dst *string) error {
	if dec.PeekKind() != '"' {
		return errCDXFallback
	}
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	s, ok := st.unquote(v)
	if !ok {
		return errCDXFallback
	}
	*dst = s
	return nil
}

// unquote decodes a quoted JSON string of valid UTF-8; escapes are
// decoded by jsontext. ok is false for anything else (invalid UTF-8, an
// escaped lone surrogate), which the reflective path handles.
func (st *cdxFast) unquote(v jsontext.Value) (string, bool) {
	in := v[1 : len(v)-1]
	if bytes.IndexByte(in, '\\') < 0 {
		for _, c := range in {
			if c >= utf8.RuneSelf {
				if !utf8.Valid(in) {
					return "", false
				}
				break
			}
		}
		return st.intern(in), true
	}
	if !utf8.Valid(in) {
		return "", false
	}
	out, err := jsontext.AppendUnquote(nil, v)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
		return "", false
	}
	return string(out), true
}

// intern is go-json-experiment's string cache (its makeString): a
// direct-mapped cache of 256 strings of 2 to 256 bytes, hashed on their
// first and last bytes.
func (st *cdxFast) intern(b []byte) string {
	if len(b) < 2 || len(b) > 256 {
		return string(b)
	}
	var h uint32
	switch {
	case len(b) >= 8:
		lo := binary.LittleEndian.Uint64(b[:8])
		hi := binary.LittleEndian.Uint64(b[len(b)-8:])
		h = hash64(uint32(lo), uint32(lo>>32)) ^ hash64(uint32(hi), uint32(hi>>32))
	case len(b) >= 4:
		h = hash64(binary.LittleEndian.Uint32(b[:4]), binary.LittleEndian.Uint32(b[len(b)-4:]))
	default:
		h = hash64(uint32(binary.LittleEndian.Uint16(b[:2])), uint32(binary.LittleEndian.Uint16(b[len(b)-2:])))
	}
	i := h % uint32(len(st.cache))
	if s := st.cache[i]; s == string(b) {
		return s
	}
	s := string(b)
	st.cache[i] = s
	return s
}

// hash64 is XXH32 of two uint32s (go-json-experiment's).
func hash64(lo, hi uint32) uint32 {
	const (
		prime1 = 0x9e3779b1
		prime2 = 0x85ebca77
		prime3 = 0xc2b2ae3d
		prime4 = 0x27d4eb2f
		prime5 = 0x165667b1
	)
	h := prime5 + uint32(8)
	h += lo * prime3
	h = bits.RotateLeft32(h, 17) * prime4
	h += hi * prime3
	h = bits.RotateLeft32(h, 17) * prime4
	h ^= h >> 15
	h *= prime2
	h ^= h >> 13
	h *= prime3
	h ^= h >> 16
	return h
}

// array reads a JSON array, calling elem for each element (a null is a
// fallback).
func array(dec *jsontext.Decoder, elem func() error) error {
	if dec.PeekKind() != '[' {
		return errCDXFallback
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for {
		switch dec.PeekKind() {
		case ']':
			_, err := dec.ReadToken()
			return err
		case 0:
			_, err := dec.ReadToken() // the error
			if err == nil {
				err = errCDXFallback
			}
			return err
		}
		if err := elem(); err != nil {
			return err
		}
	}
}

// exact copies a scratch stack's top from start into a slice of its
// length (an empty array gives an empty, non-nil slice, as encoding/json)
// and pops it.
func exact[T any](stack *[]T, start int) *[]T {
	out := make([]T, len(*stack)-start)
	copy(out, (*stack)[start:])
	*stack = (*stack)[:start]
	return &out
}

// list reads an array whose elements elem decodes, through the scratch
// stack, into a slice of its exact length (exact).
func list[T any](dec *jsontext.Decoder, stack *[]T, dst **[]T, elem func(*jsontext.Decoder, *T) error) error {
	start := len(*stack)
	err := array(dec, func() error {
		var v T
		err := elem(dec, &v)
		*stack = append(*stack, v)
		return err
	})
	if err != nil {
		return err
	}
	*dst = exact(stack, start)
	return nil
}

func (st *cdxFast) hashList(dec *jsontext.Decoder, dst **[]cdx.Hash) error {
	return list(dec, &st.hashes, dst, st.hash)
}

func (st *cdxFast) propList(dec *jsontext.Decoder, dst **[]cdx.Property) error {
	return list(dec, &st.props, dst, st.property)
}

func (st *cdxFast) extList(dec *jsontext.Decoder, dst **[]cdx.ExternalReference) error {
	return list(dec, &st.exts, dst, st.externalReference)
}

func (st *cdxFast) licList(dec *jsontext.Decoder, dst **cdx.Licenses) error {
	var out *[]cdx.LicenseChoice
	if err := list(dec, &st.lics, &out, st.licenseChoice); err != nil {
		return err
	}
	*dst = (*cdx.Licenses)(out)
	return nil
}

func (st *cdxFast) strList(dec *jsontext.Decoder, dst **[]string) error {
	return list(dec, &st.strs, dst, st.str)
}

func (st *cdxFast) componentList(dec *jsontext.Decoder, dst **[]cdx.Component) error {
	s := []cdx.Component{}
	err := array(dec, func() error {
		s = append(s, cdx.Component{})
		return st.component(dec, &s[len(s)-1])
	})
	if err != nil {
		return err
	}
	*dst = &s
	return nil
}

// object reads an object's names, calling field with each (its raw,
// quoted bytes: valid only until the next read) to decode the value.
func object(dec *jsontext.Decoder, field func(name []byte) error) error {
	if dec.PeekKind() != '{' {
		return errCDXFallback
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for {
		switch dec.PeekKind() {
		case '}':
			_, err := dec.ReadToken()
			return err
		case '"':
		case 0:
			_, err := dec.ReadToken()
			if err == nil {
				err = errCDXFallback
			}
			return err
		default:
			return errCDXFallback
		}
		name, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if err := field(name); err != nil {
			return err
		}
	}
}

// once records field i as seen; a duplicate name is a fallback (the
// reflective path merges a repeated object into the first).
func once(seen *uint64, i int) error {
	if *seen&(1<<i) != 0 {
		return errCDXFallback
	}
	*seen |= 1 << i
	return nil
}

func reflective(dec *jsontext.Decoder, v any) error {
	return json.UnmarshalDecode(dec, v)
}

func (st *cdxFast) component(dec *jsontext.Decoder, c *cdx.Component) error {
	if *c != (cdx.Component{}) {
		return errCDXFallback
	}
	var seen uint64
	return object(dec, func(name []byte) error {
		i := -1
		switch string(name) {
		case `"bom-ref"`:
			i = 0
		case `"mime-type"`:
			i = 1
		case `"type"`:
			i = 2
		case `"supplier"`:
			i = 3
		case `"manufacturer"`:
			i = 4
		case `"author"`:
			i = 5
		case `"authors"`:
			i = 6
		case `"publisher"`:
			i = 7
		case `"group"`:
			i = 8
		case `"name"`:
			i = 9
		case `"version"`:
			i = 10
		case `"description"`:
			i = 11
		case `"scope"`:
			i = 12
		case `"hashes"`:
			i = 13
		case `"licenses"`:
			i = 14
		case `"copyright"`:
			i = 15
		case `"cpe"`:
			i = 16
		case `"purl"`:
			i = 17
		case `"omniborId"`:
			i = 18
		case `"swhid"`:
			i = 19
		case `"swid"`:
			i = 20
		case `"modified"`:
			i = 21
		case `"pedigree"`:
			i = 22
		case `"externalReferences"`:
			i = 23
		case `"properties"`:
			i = 24
		case `"components"`:
			i = 25
		case `"evidence"`:
			i = 26
		case `"releaseNotes"`:
			i = 27
		case `"modelCard"`:
			i = 28
		case `"data"`:
			i = 29
		case `"cryptoProperties"`:
			i = 30
		case `"tags"`:
			i = 31
		case `"isExternal"`:
			i = 32
		case `"patentAssertions"`:
			i = 33
		case `"versionRange"`:
			i = 34
		case `"signature"`:
			i = 35
		default:
			return errCDXFallback
		}
		if err := once(&seen, i); err != nil {
			return err
		}
		switch i {
		case 0:
			return st.str(dec, &c.BOMRef)
		case 1:
			return st.str(dec, &c.MIMEType)
		case 2:
			return st.str(dec, (*string)(&c.Type))
		case 3:
			return reflective(dec, &c.Supplier)
		case 4:
			return reflective(dec, &c.Manufacturer)
		case 5:
			return st.str(dec, &c.Author)
		case 6:
			return reflective(dec, &c.Authors)
		case 7:
			return st.str(dec, &c.Publisher)
		case 8:
			return st.str(dec, &c.Group)
		case 9:
			return st.str(dec, &c.Name)
		case 10:
			return st.str(dec, &c.Version)
		case 11:
			return st.str(dec, &c.Description)
		case 12:
			return st.str(dec, (*string)(&c.Scope))
		case 13:
			return st.hashList(dec, &c.Hashes)
		case 14:
			return st.licList(dec, &c.Licenses)
		case 15:
			return st.str(dec, &c.Copyright)
		case 16:
			return st.str(dec, &c.CPE)
		case 17:
			return st.str(dec, &c.PackageURL)
		case 18:
			return reflective(dec, &c.OmniborID)
		case 19:
			return reflective(dec, &c.SWHID)
		case 20:
			return reflective(dec, &c.SWID)
		case 21:
			return reflective(dec, &c.Modified)
		case 22:
			return reflective(dec, &c.Pedigree)
		case 23:
			return st.extList(dec, &c.ExternalReferences)
		case 24:
			return st.propList(dec, &c.Properties)
		case 25:
			return st.componentList(dec, &c.Components)
		case 26:
			return reflective(dec, &c.Evidence)
		case 27:
			return reflective(dec, &c.ReleaseNotes)
		case 28:
			return reflective(dec, &c.ModelCard)
		case 29:
			return reflective(dec, &c.Data)
		case 30:
			return reflective(dec, &c.CryptoProperties)
		case 31:
			return reflective(dec, &c.Tags)
		case 32:
			return reflective(dec, &c.IsExternal)
		case 33:
			return reflective(dec, &c.PatentAssertions)
		case 34:
			return st.str(dec, &c.VersionRange)
		default:
			return reflective(dec, &c.Signature)
		}
	})
}

func (st *cdxFast) hash(dec *jsontext.Decoder, h *cdx.Hash) error {
	var seen uint64
	return object(dec, func(name []byte) error {
		switch string(name) {
		case `"alg"`:
			if err := once(&seen, 0); err != nil {
				return err
			}
			return st.str(dec, (*string)(&h.Algorithm))
		case `"content"`:
			if err := once(&seen, 1); err != nil {
				return err
			}
			return st.str(dec, &h.Value)
		}
		return errCDXFallback
	})
}

func (st *cdxFast) property(dec *jsontext.Decoder, p *cdx.Property) error {
	var seen uint64
	return object(dec, func(name []byte) error {
		switch string(name) {
		case `"name"`:
			if err := once(&seen, 0); err != nil {
				return err
			}
			return st.str(dec, &p.Name)
		case `"value"`:
			if err := once(&seen, 1); err != nil {
				return err
			}
			return st.str(dec, &p.Value)
		}
		return errCDXFallback
	})
}

func (st *cdxFast) externalReference(dec *jsontext.Decoder, e *cdx.ExternalReference) error {
	var seen uint64
	return object(dec, func(name []byte) error {
		i := -1
		switch string(name) {
		case `"url"`:
			i = 0
		case `"comment"`:
			i = 1
		case `"hashes"`:
			i = 2
		case `"type"`:
			i = 3
		case `"properties"`:
			i = 4
		default:
			return errCDXFallback
		}
		if err := once(&seen, i); err != nil {
			return err
		}
		switch i {
		case 0:
			return st.str(dec, &e.URL)
		case 1:
			return st.str(dec, &e.Comment)
		case 2:
			return st.hashList(dec, &e.Hashes)
		case 3:
			return st.str(dec, (*string)(&e.Type))
		default:
			return st.propList(dec, &e.Properties)
		}
	})
}

func (st *cdxFast) licenseChoice(dec *jsontext.Decoder, lc *cdx.LicenseChoice) error {
	var seen uint64
	return object(dec, func(name []byte) error {
		i := -1
		switch string(name) {
		case `"license"`:
			i = 0
		case `"expression"`:
			i = 1
		case `"expressionDetails"`:
			i = 2
		case `"acknowledgement"`:
			i = 3
		case `"bom-ref"`:
			i = 4
		case `"licensing"`:
			i = 5
		case `"properties"`:
			i = 6
		default:
			return errCDXFallback
		}
		if err := once(&seen, i); err != nil {
			return err
		}
		switch i {
		case 0:
			l := new(cdx.License)
			if err := st.license(dec, l); err != nil {
				return err
			}
			lc.License = l
			return nil
		case 1:
			return st.str(dec, &lc.Expression)
		case 2:
			return reflective(dec, &lc.ExpressionDetails)
		case 3:
			return reflective(dec, &lc.Acknowledgement)
		case 4:
			return st.str(dec, &lc.BOMRef)
		case 5:
			return reflective(dec, &lc.Licensing)
		default:
			return st.propList(dec, &lc.Properties)
		}
	})
}

func (st *cdxFast) license(dec *jsontext.Decoder, l *cdx.License) error {
	var seen uint64
	return object(dec, func(name []byte) error {
		i := -1
		switch string(name) {
		case `"bom-ref"`:
			i = 0
		case `"id"`:
			i = 1
		case `"name"`:
			i = 2
		case `"acknowledgement"`:
			i = 3
		case `"text"`:
			i = 4
		case `"url"`:
			i = 5
		case `"licensing"`:
			i = 6
		case `"properties"`:
			i = 7
		default:
			return errCDXFallback
		}
		if err := once(&seen, i); err != nil {
			return err
		}
		switch i {
		case 0:
			return st.str(dec, &l.BOMRef)
		case 1:
			return st.str(dec, &l.ID)
		case 2:
			return st.str(dec, &l.Name)
		case 3:
			return st.str(dec, (*string)(&l.Acknowledgement))
		case 4:
			return reflective(dec, &l.Text)
		case 5:
			return st.str(dec, &l.URL)
		case 6:
			return reflective(dec, &l.Licensing)
		default:
			return st.propList(dec, &l.Properties)
		}
	})
}

func (st *cdxFast) dependency(dec *jsontext.Decoder, d *cdx.Dependency) error {
	if *d != (cdx.Dependency{}) {
		return errCDXFallback
	}
	var seen uint64
	return object(dec, func(name []byte) error {
		switch string(name) {
		case `"ref"`:
			if err := once(&seen, 0); err != nil {
				return err
			}
			return st.str(dec, &d.Ref)
		case `"dependsOn"`:
			if err := once(&seen, 1); err != nil {
				return err
			}
			return st.strList(dec, &d.Dependencies)
		case `"provides"`:
			if err := once(&seen, 2); err != nil {
				return err
			}
			return st.strList(dec, &d.Provides)
		}
		return errCDXFallback
	})
}
