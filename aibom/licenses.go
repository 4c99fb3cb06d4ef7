package aibom

import (
	_ "embed"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// spdxIDs is the enum of the CycloneDX spdx.schema.json (SPDX licence list
// 3.28, Apache-2.0, CycloneDX/specification); a test keeps it equal to the
// schema in testdata. The schemas reject a licence id outside it, so only
// ids found here are written as ids, in their canonical case (Hugging Face
// writes "apache-2.0").
//
//go:embed spdx_ids.txt
var spdxIDList string

var spdxIDs = func() map[string]string {
	m := map[string]string{}
	for _, id := range strings.Fields(spdxIDList) {
		m[strings.ToLower(id)] = id
	}
	return m
}()

// licensesOf turns claimed licence values into CycloneDX licences: SPDX ids
// as ids, a lone SPDX expression as an expression, anything else ("other",
// "llama2", a licence name) as a name. All are "declared": documents
// claimed them, modelgraph did not analyse the artifacts.
func licensesOf(values []string) *cdx.Licenses {
	if len(values) == 0 {
		return nil
	}
	if len(values) == 1 && isExpression(values[0]) {
		return &cdx.Licenses{{Expression: values[0], Acknowledgement: ptr(cdx.LicenseAcknowledgementDeclared)}}
	}
	ls := make(cdx.Licenses, 0, len(values))
	for _, v := range values {
		if id, ok := spdxIDs[strings.ToLower(v)]; ok {
			ls = append(ls, cdx.LicenseChoice{License: &cdx.License{ID: id, Acknowledgement: cdx.LicenseAcknowledgementDeclared}})
		} else {
			ls = append(ls, cdx.LicenseChoice{License: &cdx.License{Name: v, Acknowledgement: cdx.LicenseAcknowledgementDeclared}})
		}
	}
	return &ls
}

// isExpression reports whether v is a compound SPDX expression. The schema
// allows an expression only alone, so several values are always names.
func isExpression(v string) bool {
	for _, op := range []string{" AND ", " OR ", " WITH "} {
		if strings.Contains(v, op) {
			return true
		}
	}
	return false
}
