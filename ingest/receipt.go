package ingest

import (
	"context"

	"github.com/modelgraph/modelgraph/graph"
)

// Receipt is what the push endpoint (POST /v1/ingest) and the GraphQL
// ingest mutation answer: one entry per document recorded (a JSON Lines
// input holds several).
type Receipt struct {
	Documents []DocumentReceipt `json:"documents"`
}

// DocumentReceipt says what one document was and what recording it did.
type DocumentReceipt struct {
	Source        string       `json:"source,omitempty"`
	Format        string       `json:"format"`
	Document      string       `json:"document"` // the document's identity (envelope.Opened.DocumentDigest)
	Type          string       `json:"type"`
	PredicateType string       `json:"predicateType,omitempty"`
	Status        graph.Status `json:"status"`
	// Duplicate: the document was already stored; nothing changed.
	Duplicate    bool     `json:"duplicate"`
	NodesCreated int      `json:"nodesCreated"`
	NodesTouched int      `json:"nodesTouched"`
	EdgesCreated int      `json:"edgesCreated"`
	EdgesTouched int      `json:"edgesTouched"`
	Signatures   []Signer `json:"signatures"`
	// Merges and KeysNotAttached say how the document's keys met the graph
	// (graph.Receipt); Warnings what it held that was left out.
	Merges          []graph.Merge   `json:"merges"`
	KeysNotAttached []graph.KeyNote `json:"keysNotAttached"`
	Warnings        []string        `json:"warnings"`
}

// Signer is one signature of a document as a receipt shows it.
type Signer struct {
	Method   string       `json:"method"`
	Identity string       `json:"identity,omitempty"`
	Issuer   string       `json:"issuer,omitempty"`
	KeyID    string       `json:"keyId,omitempty"`
	Status   graph.Status `json:"status"`
	Reason   string       `json:"reason,omitempty"`
}

// IngestReceipt runs one input through the pipeline (Ingest) and reports
// it. The pipeline writes each document atomically, so on error nothing of
// the failing input was written (IsBadInput tells the caller's fault).
func (p *Pipeline) IngestReceipt(ctx context.Context, in Input) (Receipt, error) {
	rs, err := p.Ingest(ctx, in)
	if err != nil {
		return Receipt{}, err
	}
	return Receipts(rs), nil
}

// Receipts converts pipeline results.
func Receipts(rs []Result) Receipt {
	out := Receipt{Documents: make([]DocumentReceipt, 0, len(rs))}
	for _, r := range rs {
		d := DocumentReceipt{
			Source: r.Source, Format: string(r.Format), Document: r.Receipt.Document, Type: r.Document.Type,
			PredicateType: r.Document.PredicateType, Status: r.Receipt.Status, Duplicate: r.Receipt.Duplicate,
			NodesCreated: r.Receipt.NodesCreated, NodesTouched: r.Receipt.NodesTouched,
			EdgesCreated: r.Receipt.EdgesCreated, EdgesTouched: r.Receipt.EdgesTouched,
			Signatures: []Signer{},
			Merges:     append([]graph.Merge{}, r.Receipt.Merges...), KeysNotAttached: append([]graph.KeyNote{}, r.Receipt.KeysNotAttached...),
			Warnings: append([]string{}, r.Warnings...),
		}
		if d.Document == "" {
			d.Document = r.Document.Digest
		}
		if d.Status == "" {
			d.Status = r.Document.Status()
		}
		for _, s := range r.Document.Signatures {
			d.Signatures = append(d.Signatures, Signer{Method: s.Method, Identity: s.Identity, Issuer: s.Issuer, KeyID: s.KeyID, Status: s.Status, Reason: s.Reason})
		}
		out.Documents = append(out.Documents, d)
	}
	return out
}
