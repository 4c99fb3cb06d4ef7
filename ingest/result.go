package ingest

import "fmt"

// Line is the one-line account of r the CLI prints (ingest, collect):
// source, type, digest, status and what the write created and updated,
// or that the document was already stored.
func (r Result) Line() string {
	if r.Receipt.Duplicate {
		return fmt.Sprintf("%s: %s %s duplicate (already ingested)", r.Source, r.Document.Type, r.Receipt.Document)
	}
	return fmt.Sprintf("%s: %s %s %s, %d nodes and %d edges created, %d nodes and %d edges updated",
		r.Source, r.Document.Type, r.Receipt.Document, r.Receipt.Status,
		r.Receipt.NodesCreated, r.Receipt.EdgesCreated, r.Receipt.NodesTouched, r.Receipt.EdgesTouched)
}
