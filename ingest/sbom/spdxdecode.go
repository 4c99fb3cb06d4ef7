package sbom

import (
	"fmt"
	"strconv"

	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/spdx/tools-golang/convert"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/common"
	"github.com/spdx/tools-golang/spdx/v2/v2_1"
	"github.com/spdx/tools-golang/spdx/v2/v2_2"
	"github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// decodeSPDX2 decodes an SPDX 2.x JSON document as tools-golang's
// json.Read does (decode the version's own structs, then convert them to
// the current model), given the spdxVersion the first scan already read.
// json.Read decodes the whole document a first time into interface{}
// only to find that field, and both decodes use encoding/json's
// reflection; here it is decoded once, through go-json-experiment's
// encoding/json emulation (the CycloneDX path's decoder). The result is
// the same document, or an error where json.Read fails
// (TestDecodeSPDX2MatchesToolsGolang, FuzzDecodeSPDX2): json.Read's first
// pass also refuses a number float64 cannot hold anywhere in the document,
// even in a member the typed decode skips, so checkNumbers does that.
func decodeSPDX2(raw []byte, version string) (*spdx.Document, error) {
	doc, err := decodeSPDX2Typed(raw, version)
	if err != nil {
		return nil, err
	}
	if err := checkNumbers(raw); err != nil {
		return nil, err
	}
	return doc, nil
}

// checkNumbers fails, as encoding/json's decode into interface{} does, on
// the first number outside float64's range in raw, a JSON text the typed
// decode has already accepted (so strings and structure are well formed).
// Only a number with an exponent or more than 300 characters can be out
// of range.
func checkNumbers(raw []byte) error {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '"':
			for i++; i < len(raw) && raw[i] != '"'; i++ {
				if raw[i] == '\\' {
					i++
				}
			}
		case c == '-' || ('0' <= c && c <= '9'):
			j, exp := i, false
			for ; j < len(raw); j++ {
				d := raw[j]
				if d == 'e' || d == 'E' {
					exp = true
				} else if d != '-' && d != '+' && d != '.' && (d < '0' || d > '9') {
					break
				}
			}
			if exp || j-i > 300 {
				if _, err := strconv.ParseFloat(string(raw[i:j]), 64); err != nil {
					return fmt.Errorf("json: cannot unmarshal number %s into Go value of type float64", raw[i:j])
				}
			}
			i = j - 1
		}
	}
	return nil
}

func decodeSPDX2Typed(raw []byte, version string) (*spdx.Document, error) {
	var data common.AnyDocument
	switch version {
	case v2_1.Version:
		var d v2_1.Document
		if err := jsonv1.Unmarshal(raw, &d); err != nil {
			return nil, err
		}
		data = d
	case v2_2.Version:
		var d v2_2.Document
		if err := jsonv1.Unmarshal(raw, &d); err != nil {
			return nil, err
		}
		data = d
	case v2_3.Version:
		doc := new(spdx.Document)
		if err := jsonv1.Unmarshal(raw, doc); err != nil {
			return nil, err
		}
		return doc, nil
	default:
		return nil, fmt.Errorf("unsupported SDPX version: %s", version)
	}
	doc := new(spdx.Document)
	if err := convert.Document(data, doc); err != nil {
		return nil, err
	}
	return doc, nil
}
