package docerr

// Limits every ingest path shares (CLI, HTTP push, GraphQL, collectors).
// One document is bounded by MaxDocumentBytes as received and again once
// decompressed; the format packages' own byte limits are these (sbom,
// spdx3, envelope), so no limit sits unreachable behind another.
const (
	// MaxDocumentBytes bounds one document, before and after
	// decompression. serve's --max-body-bytes and the pipeline's MaxBytes
	// default to it.
	MaxDocumentBytes = 64 << 20
	// MaxRatio bounds decompressed/compressed size above 1 MiB.
	MaxRatio = 200
	// MaxJSONLines bounds the documents one JSON Lines input may hold.
	MaxJSONLines = 10_000
)
