package aibom

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// fixXML repairs two encodings of cyclonedx-go v0.12.0 that the official
// 1.6 and 1.7 XSDs reject, so that XML exports validate:
//
//   - BOMReference values are written as an attribute (<claim ref="x"/>),
//     which is right for compositions but not in declarations, where the
//     XSD wants the reference as text (<claim>x</claim>): claims, targets,
//     evidence and assessors.
//   - modelParameters datasets given by reference are wrapped
//     (<datasets><dataset><ref>x</ref></dataset></datasets>) where the XSD
//     wants <datasets><ref>x</ref></datasets>.
//
// It only rewrites those two patterns and passes every other token through,
// so it is a no-op on output that is already valid (a test holds it to
// that, and another proves the library still needs it).
func fixXML(in []byte) ([]byte, error) {
	d := xml.NewDecoder(bytes.NewReader(in))
	var out bytes.Buffer
	out.Grow(len(in))
	e := xml.NewEncoder(&out)
	var stack []string
	inDeclarations := 0
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("re-read XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "dataset" && len(stack) > 0 && stack[len(stack)-1] == "datasets" {
				toks, err := subtree(d, t)
				if err != nil {
					return nil, err
				}
				if ref, ok := onlyRef(toks); ok {
					toks = ref
				}
				for _, tk := range toks {
					if err := e.EncodeToken(tk); err != nil {
						return nil, err
					}
				}
				continue
			}
			stack = append(stack, t.Name.Local)
			if t.Name.Local == "declarations" {
				inDeclarations++
			}
			if inDeclarations > 0 && len(t.Attr) == 1 && t.Attr[0].Name.Space == "" && t.Attr[0].Name.Local == "ref" {
				if err := e.EncodeToken(xml.StartElement{Name: t.Name}); err != nil {
					return nil, err
				}
				if err := e.EncodeToken(xml.CharData(t.Attr[0].Value)); err != nil {
					return nil, err
				}
				continue
			}
		case xml.EndElement:
			if len(stack) > 0 {
				if stack[len(stack)-1] == "declarations" {
					inDeclarations--
				}
				stack = stack[:len(stack)-1]
			}
		}
		if err := e.EncodeToken(tok); err != nil {
			return nil, fmt.Errorf("re-write XML: %w", err)
		}
	}
	if err := e.Flush(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// subtree reads the tokens of the element start opened, start and end
// included.
func subtree(d *xml.Decoder, start xml.StartElement) ([]xml.Token, error) {
	toks := []xml.Token{start.Copy()}
	for depth := 1; depth > 0; {
		tok, err := d.RawToken()
		if err != nil {
			return nil, fmt.Errorf("re-read XML: %w", err)
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
		toks = append(toks, xml.CopyToken(tok))
	}
	return toks, nil
}

// onlyRef returns the <ref> element inside toks when it is the element's
// only content besides whitespace.
func onlyRef(toks []xml.Token) ([]xml.Token, bool) {
	var inner []xml.Token
	for _, tk := range toks[1 : len(toks)-1] {
		if cd, ok := tk.(xml.CharData); ok && len(bytes.TrimSpace(cd)) == 0 && len(inner)%3 == 0 {
			continue
		}
		inner = append(inner, tk)
	}
	if len(inner) != 3 {
		return nil, false
	}
	s, ok1 := inner[0].(xml.StartElement)
	_, ok2 := inner[1].(xml.CharData)
	_, ok3 := inner[2].(xml.EndElement)
	if !ok1 || !ok2 || !ok3 || s.Name.Local != "ref" || len(s.Attr) != 0 {
		return nil, false
	}
	return inner, true
}
