package reliability

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// The hostile mix: small requests that used to take `serve` down (issue
// 20). The httpapi tests assert each is refused with a 4xx naming its
// limit; the soak sends them among ordinary traffic.

// UILookups is the web UI's largest request: n aliased lookups (the UI
// sends up to 120); the limits must let it through.
func UILookups(n int) (string, map[string]any) {
	var vars, body []string
	vals := map[string]any{}
	for i := range n {
		vars = append(vars, fmt.Sprintf("$r%d: String!", i))
		body = append(body, fmt.Sprintf("n%d: lookup(ref: $r%d) { edges { from { id kind name } kind to { id kind name } status } }", i, i))
		vals[fmt.Sprintf("r%d", i)] = fmt.Sprintf("sha256:%064d", i)
	}
	return fmt.Sprintf("query Cross(%s) {\n  %s\n}", strings.Join(vars, ", "), strings.Join(body, "\n  ")), vals
}

// Hostile is one attack on /graphql and the code it must be refused with.
type Hostile struct {
	Name, Query, Code string
}

// HostileQueries are the GraphQL attacks made with a read token.
func HostileQueries() []Hostile {
	var aliasBomb, aliasSmall, typenames, typenamesSmall, fanout, impacts strings.Builder
	aliasBomb.WriteString("{")
	for i := range 2000 { // 2,000 same-name aliases with different arguments (233 KB)
		fmt.Fprintf(&aliasBomb, ` a%d: impact(ref: "sha256:%064d", first: %d) { totalCount }`, i, i, i%50+1)
	}
	aliasBomb.WriteString("}")
	aliasSmall.WriteString("{")
	for i := range 250 {
		fmt.Fprintf(&aliasSmall, " a%d: stats { nodes }", i)
	}
	aliasSmall.WriteString("}")
	typenames.WriteString("{")
	typenames.WriteString(strings.Repeat(" __typename", 30_000))
	typenames.WriteString("}")
	typenamesSmall.WriteString("{")
	typenamesSmall.WriteString(strings.Repeat(" __typename", 2_500))
	typenamesSmall.WriteString("}")
	// A 1 KB fragment fan-out: each fragment spreads the next twice, 2^26
	// fields once expanded.
	fanout.WriteString("{ ...F0 }")
	for i := range 26 {
		fmt.Fprintf(&fanout, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
	}
	fanout.WriteString(" fragment F26 on Query { __typename }")
	impacts.WriteString("{")
	for i := range 490 {
		fmt.Fprintf(&impacts, " i%d: impact(ref: \"x%d\", first: 1) { totalCount }", i, i)
	}
	impacts.WriteString("}")
	return []Hostile{
		{"2000 aliases", aliasBomb.String(), "TOKEN_LIMIT_EXCEEDED"},
		{"250 aliases", aliasSmall.String(), "ALIAS_LIMIT_EXCEEDED"},
		{"30k __typename", typenames.String(), "TOKEN_LIMIT_EXCEEDED"},
		{"2500 __typename", typenamesSmall.String(), "SELECTION_LIMIT_EXCEEDED"},
		{"fragment fan-out 2^26 (1 KB)", fanout.String(), "FIELD_LIMIT_EXCEEDED"},
		{"490 impact(first:1){totalCount}", impacts.String(), "ALIAS_LIMIT_EXCEEDED"},
	}
}

// ImpactWalks is n aliased impact(first:1){totalCount} questions on ref:
// within the document limits when n is small, so only the cost model
// (which charges the walk behind totalCount) can refuse it.
func ImpactWalks(ref string, n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " i%d: impact(ref: %q, first: 1) { totalCount }", i, ref)
	}
	b.WriteString("}")
	return b.String()
}

// SPDXPackages is an SPDX 2.3 JSON document with n packages, zstd
// compressed (1M packages: ~60 MB of JSON in a few MB).
func SPDXPackages(n int) []byte {
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		panic(err)
	}
	fmt.Fprint(zw, `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"bomb","documentNamespace":"https://example.com/bomb","creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: bomb"]},"packages":[`)
	for i := range n {
		if i > 0 {
			fmt.Fprint(zw, ",")
		}
		fmt.Fprintf(zw, `{"SPDXID":"SPDXRef-p%d","name":"p%d","versionInfo":"1.0.%d","downloadLocation":"NOASSERTION"}`, i, i, i)
	}
	fmt.Fprint(zw, `]}`)
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// GzipSpaces is a gzip CycloneDX document of about n bytes (one long
// string of spaces).
func GzipSpaces(n int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	fmt.Fprint(zw, `{"bomFormat":"CycloneDX","specVersion":"1.6","x":"`)
	chunk := bytes.Repeat([]byte(" "), 1<<16)
	for w := 0; w < n; w += len(chunk) {
		_, _ = zw.Write(chunk)
	}
	fmt.Fprint(zw, `"}`)
	_ = zw.Close()
	return buf.Bytes()
}
