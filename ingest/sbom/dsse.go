package sbom

import (
	"fmt"

	"github.com/guacsec/guac/pkg/handler/processor"
	guacdsse "github.com/guacsec/guac/pkg/handler/processor/dsse"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"go.uber.org/zap"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/strictjson"
)

// unwrapDSSE returns the in-toto statement inside a DSSE envelope and one
// unverifiable signature record per envelope signature: the SBOM path does
// not check signatures (the attestation path does), and saying "unsigned"
// would be false.
func unwrapDSSE(raw []byte) (*statement.Statement, []graph.Signature, error) {
	var env dsse.Envelope
	if err := strictjson.Unmarshal(raw, &env); err != nil {
		return nil, nil, fmt.Errorf("%w: DSSE envelope: %w", ErrInvalidDocument, err)
	}
	if env.PayloadType != statement.PayloadType {
		return nil, nil, fmt.Errorf("%w: DSSE envelope: payloadType %q is not %q", ErrUnsupported, env.PayloadType, statement.PayloadType)
	}
	if len(env.Signatures) > graph.MaxSignatures {
		return nil, nil, fmt.Errorf("%w: DSSE envelope: signatures: %d entries, limit %d", ErrTooLarge, len(env.Signatures), graph.MaxSignatures)
	}
	payload, err := unpackGUAC(raw)
	if err != nil {
		// GUAC decodes standard base64 only; DSSE also allows URL-safe.
		if payload, err = env.DecodeB64Payload(); err != nil {
			return nil, nil, fmt.Errorf("%w: DSSE envelope: payload: %w", ErrInvalidDocument, err)
		}
	}
	st, err := statement.Decode(payload)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: DSSE payload: %w", ErrInvalidDocument, err)
	}
	sigs := make([]graph.Signature, 0, len(env.Signatures))
	for _, s := range env.Signatures {
		sigs = append(sigs, graph.Signature{
			Method: "key",
			KeyID:  s.KeyID,
			Status: graph.StatusUnverifiable,
			Reason: "DSSE signature not verified on the SBOM ingest path",
		})
	}
	return st, sigs, nil
}

func unpackGUAC(raw []byte) ([]byte, error) {
	d := &processor.Document{
		Blob:        raw,
		Type:        processor.DocumentDSSE,
		Format:      processor.FormatJSON,
		Encoding:    processor.EncodingUnknown,
		ChildLogger: zap.NewNop().Sugar(),
	}
	var p guacdsse.DSSEProcessor
	if err := p.ValidateSchema(d); err != nil {
		return nil, err
	}
	kids, err := p.Unpack(d)
	if err != nil {
		return nil, err
	}
	if len(kids) != 1 {
		return nil, fmt.Errorf("DSSE envelope unpacked into %d documents", len(kids))
	}
	return kids[0].Blob, nil
}
