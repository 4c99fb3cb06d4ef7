package sbom

import (
	"fmt"

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
// the same document (TestDecodeSPDX2MatchesToolsGolang, FuzzDecodeSPDX2).
func decodeSPDX2(raw []byte, version string) (*spdx.Document, error) {
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
