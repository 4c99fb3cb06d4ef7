package ingest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/docerr"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/inflate"
	"github.com/modelgraph/modelgraph/ingest/intoto"
	"github.com/modelgraph/modelgraph/ingest/modelcard"
	"github.com/modelgraph/modelgraph/ingest/oms"
	"github.com/modelgraph/modelgraph/ingest/sbom"
	"github.com/modelgraph/modelgraph/ingest/spdx3"
	"github.com/modelgraph/modelgraph/ingest/strictjson"
)

// TestOneErrorRoot: every format package's sentinel is rooted at
// docerr.ErrDocument (ingest.ErrInvalidDocument) with the kind its name
// says, and Wrap carries a located error's field and line.
func TestOneErrorRoot(t *testing.T) {
	for _, c := range []struct {
		err  error
		kind docerr.Kind
	}{
		{intoto.ErrInvalidDocument, docerr.Malformed}, {intoto.ErrSchema, docerr.Malformed}, {intoto.ErrLimit, docerr.TooLarge},
		{sbom.ErrInvalidDocument, docerr.Malformed}, {sbom.ErrUnsupported, docerr.Unsupported}, {sbom.ErrTooLarge, docerr.TooLarge},
		{spdx3.ErrInvalidDocument, docerr.Malformed}, {spdx3.ErrTooLarge, docerr.TooLarge},
		{envelope.ErrInvalidDocument, docerr.Malformed}, {envelope.ErrUnknownFormat, docerr.Unsupported}, {envelope.ErrUnverifiable, docerr.Unverifiable},
		{oms.ErrInvalidDocument, docerr.Malformed},
		{modelcard.ErrField, docerr.Malformed}, {modelcard.ErrLimit, docerr.TooLarge},
		{strictjson.ErrInvalid, docerr.Malformed}, {strictjson.ErrAmbiguous, docerr.Ambiguous},
		{inflate.ErrTooLarge, docerr.TooLarge}, {inflate.ErrCorrupt, docerr.Malformed},
		{ingest.ErrUnsupported, docerr.Unsupported}, {ingest.ErrTooLarge, docerr.TooLarge},
	} {
		wrapped := fmt.Errorf("%w: detail", c.err)
		if !errors.Is(wrapped, ingest.ErrInvalidDocument) || docerr.KindOf(wrapped) != c.kind || !ingest.IsBadInput(wrapped) {
			t.Errorf("%q: kind %q, rooted %v; want %s", c.err, docerr.KindOf(wrapped), errors.Is(wrapped, docerr.ErrDocument), c.kind)
		}
	}
	fe := &modelcard.FieldError{Doc: "card.md", Field: "license", Line: 4, Msg: "not a string", Err: modelcard.ErrField}
	e := docerr.Wrap("card.md", fmt.Errorf("parse: %w", fe))
	if e.Field != "license" || e.Line != 4 || e.Kind != docerr.Malformed || e.Document != "card.md" || !errors.Is(e, modelcard.ErrField) {
		t.Errorf("wrapped %+v", e)
	}
	// The format packages share one located error: an in-toto JSON Lines
	// error carries its line as a line, not as a field.
	_, err := intoto.SplitJSONL([]byte("{}\n[1]\n"))
	if e := docerr.Wrap("b.jsonl", err); e.Line != 2 || e.Field != "" || !strings.Contains(e.Error(), "line 2: is not a JSON object") {
		t.Errorf("JSON Lines error wrapped as %+v (%v)", e, e)
	}
	if docerr.KindOf(errors.New("disk on fire")) != "" || ingest.IsBadInput(errors.New("disk on fire")) {
		t.Error("a server error counts as the document's fault")
	}
}
