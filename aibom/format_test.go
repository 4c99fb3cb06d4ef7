package aibom

import (
	"errors"
	"testing"
)

// TestParseFormat: the names the CLI and HTTP accept, any case; anything
// else is an invalid request naming the value.
func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"json": FormatJSON, "CycloneDX-JSON": FormatJSON, "xml": FormatXML, "cyclonedx-xml": FormatXML,
		"spdx3": FormatSPDX3, "SPDX": FormatSPDX3, "spdx-3": FormatSPDX3, "spdx3-json": FormatSPDX3} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "pdf", "cyclonedx", "spdx2"} {
		if _, err := ParseFormat(in); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("ParseFormat(%q): %v, want ErrInvalidRequest", in, err)
		}
	}
}
