package oms_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/oms"
)

const specDir = "../../testdata/oms/spec-v1.0"

// specSchemas compiles the four OMS JSON Schemas (draft 2020-12), each
// registered under its $id so the $refs between them resolve offline.
func specSchemas(t *testing.T) (bundle, stmt *jsonschema.Schema) {
	t.Helper()
	c := jsonschema.NewCompiler()
	for _, f := range []string{"bundle", "envelope", "statement", "predicate"} {
		raw := read(t, filepath.Join(specDir, "schemas", f+".schema.json"))
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if err := c.AddResource(id, doc); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if bundle, err = c.Compile("https://model_signing/bundle/v1.0/schema"); err != nil {
		t.Fatal(err)
	}
	if stmt, err = c.Compile("https://model_signing/statement/v1.0/schema"); err != nil {
		t.Fatal(err)
	}
	return bundle, stmt
}

// schemaValid validates a bundle and its decoded payload, as the spec's
// conformance suite must (§3.1).
func schemaValid(t *testing.T, bundleSchema, stmtSchema *jsonschema.Schema, data []byte) error {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	if err := bundleSchema.Validate(doc); err != nil {
		return err
	}
	var b struct {
		DSSE struct {
			Payload string `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return err
	}
	payload, err := base64.StdEncoding.DecodeString(b.DSSE.Payload)
	if err != nil {
		return err
	}
	st, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return err
	}
	return stmtSchema.Validate(st)
}

// vectorModel lays out the model a valid vector signed, outside the
// directory of the signature.
func vectorModel(t *testing.T, vector string) string {
	t.Helper()
	from := filepath.Join(fixtures, "v1.1.0-elliptic-key")
	if strings.HasPrefix(vector, "sigstore") {
		from = filepath.Join(fixtures, "v1.1.0-sigstore")
	}
	dir := filepath.Join(t.TempDir(), "model")
	for _, f := range []string{"signme-1", "signme-2", "ignore-me"} {
		writeFiles(t, dir, map[string][]byte{f: read(t, filepath.Join(from, f))})
	}
	return dir
}

// Every test vector of the OMS specification v1.0: the valid ones verify
// with the material that signed them (and are schema-valid), fail with
// other material and on a changed model; the invalid ones are schema-
// invalid and rejected by verify and by ingest with an error naming why.
func TestSpecTestVectors(t *testing.T) {
	bundleSchema, stmtSchema := specSchemas(t)
	pol := fixturePolicy(t)
	vectors, err := filepath.Glob(filepath.Join(specDir, "test-vectors", "*", "*.json"))
	if err != nil || len(vectors) != 8 {
		t.Fatalf("found %d test vectors (%v), want 8", len(vectors), err)
	}
	for _, v := range vectors {
		class, name := filepath.Base(filepath.Dir(v)), filepath.Base(v)
		t.Run(class+"/"+name, func(t *testing.T) {
			data := read(t, v)
			schemaErr := schemaValid(t, bundleSchema, stmtSchema, data)
			dir := vectorModel(t, name)
			r, verr := oms.VerifyModel(ctx, dir, data, pol, oms.VerifyOptions{SignaturePath: v})
			o, oerr := envelope.Open(ctx, data, pol)
			var berr error
			if oerr == nil {
				_, berr = oms.FromOpened(o, graph.Document{Digest: "sha256:" + strings.Repeat("0", 64), Source: name})
			}
			if class == "valid" {
				if schemaErr != nil {
					t.Fatalf("schema: %v", schemaErr)
				}
				if verr != nil || !r.Verified || r.Matched != 2 {
					t.Fatalf("verify: %v %v", verr, r.Problems())
				}
				if oerr != nil || berr != nil {
					t.Fatalf("ingest: %v %v", oerr, berr)
				}
				// Other material: not verified.
				if r, err := oms.VerifyModel(ctx, dir, data, keyPolicy(envelopetest.NewKeySigner(t).PublicKey(t)), oms.VerifyOptions{}); err != nil || r.SignatureVerified {
					t.Fatalf("verified with another key: %v", err)
				}
				// A changed model: not verified, the file named.
				writeFiles(t, dir, map[string][]byte{"signme-2": []byte("changed")})
				if r, err := oms.VerifyModel(ctx, dir, data, pol, oms.VerifyOptions{}); err != nil || r.Verified || r.Changed != 1 || r.Files[1].Path != "signme-2" {
					t.Fatalf("changed model: %v %+v", err, r)
				}
				return
			}
			if schemaErr == nil {
				t.Fatal("schema accepts an invalid vector")
			}
			if !errors.Is(verr, envelope.ErrInvalidDocument) || r != nil {
				t.Fatalf("verify: report %v, err %v", r, verr)
			}
			ingestErr := oerr
			if ingestErr == nil {
				ingestErr = berr
			}
			if !errors.Is(ingestErr, envelope.ErrInvalidDocument) {
				t.Fatalf("ingest: %v", ingestErr)
			}
			t.Logf("rejected: %v", verr)
		})
	}
}
