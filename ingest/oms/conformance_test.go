package oms_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/oms"
	"github.com/modelgraph/modelgraph/ingest/statement"
)

// A correctly signed OMS payload whose in-toto _type is Statement v0.1 is
// not a model signature (spec §8.3, and model_signing refuses it): verify
// model reports an error naming _type instead of "verified".
func TestVerifyModelRejectsStatementV01(t *testing.T) {
	ks := envelopetest.NewKeySigner(t)
	dir := filepath.Join(t.TempDir(), "gen")
	writeFiles(t, dir, generated)
	good := manifest(t, manifestSpec{name: "gen", method: "files", hashType: "sha256"}, generated)
	if r, err := oms.VerifyModel(ctx, dir, ks.Bundle(t, statement.PayloadType, good), keyPolicy(ks.PublicKey(t)), oms.VerifyOptions{}); err != nil || !r.Verified {
		t.Fatalf("control: %v %v", err, r)
	}
	v01 := bytes.Replace(good, []byte(statement.TypeV1), []byte(statement.TypeV01), 1)
	if bytes.Equal(v01, good) {
		t.Fatal("statement type not replaced")
	}
	r, err := oms.VerifyModel(ctx, dir, ks.Bundle(t, statement.PayloadType, v01), keyPolicy(ks.PublicKey(t)), oms.VerifyOptions{})
	if !errors.Is(err, oms.ErrInvalidDocument) || !strings.Contains(err.Error(), "_type") || r != nil {
		t.Fatalf("Statement v0.1: report %v, err %v", r, err)
	}
}
