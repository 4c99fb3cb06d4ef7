package synth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"

	graphref "github.com/modelgraph/modelgraph/graph/ref"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// Signer signs synthetic documents with one ECDSA P-256 key derived from a
// seed, the key type of OpenSSF Model Signing's "elliptic key" method. It
// signs through sigstore-go's sign package, so bundles and envelopes are
// what real producers write.
type Signer struct {
	priv   *ecdsa.PrivateKey
	pubPEM []byte
	hint   string
}

// NewSigner derives the signing key from seed.
func NewSigner(seed uint64) (*Signer, error) {
	var buf [16]byte
	copy(buf[:8], "synthkey")
	for ctr := uint64(0); ctr < 16; ctr++ {
		binary.BigEndian.PutUint64(buf[8:], seed+ctr<<56)
		d := sha256.Sum256(buf[:])
		priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
		if err != nil {
			continue // out of range for the curve: try the next candidate
		}
		der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("synth: signer: %w", err)
		}
		hint, err := trust.KeyHint(&priv.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("synth: signer: %w", err)
		}
		return &Signer{priv: priv, pubPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), hint: hint}, nil
	}
	return nil, fmt.Errorf("synth: signer: no valid key for seed %d", seed)
}

// PublicKeyPEM is the verification key, as a trust policy file holds it.
func (s *Signer) PublicKeyPEM() []byte { return bytes.Clone(s.pubPEM) }

// Hint is the key's OMS hint (hex sha256 of its PEM), the key id in
// bundles and envelopes.
func (s *Signer) Hint() string { return s.hint }

// Policy is a trust policy trusting the key for every subject.
func (s *Signer) Policy() (*trust.Policy, error) {
	k, err := trust.ParsePublicKey(s.pubPEM, "synth")
	if err != nil {
		return nil, fmt.Errorf("synth: policy: %w", err)
	}
	pol := &trust.Policy{Rules: []trust.Rule{{Name: "synth-ci", Keys: []trust.PublicKey{k}}}}
	if err := pol.Validate(); err != nil {
		return nil, fmt.Errorf("synth: policy: %w", err)
	}
	return pol, nil
}

// keypair adapts the key to sign.Keypair.
type keypair struct{ s *Signer }

func (k keypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	return protocommon.HashAlgorithm_SHA2_256
}
func (k keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
}
func (k keypair) GetHint() []byte                  { return []byte(k.s.hint) }
func (k keypair) GetKeyAlgorithm() string          { return "ECDSA" }
func (k keypair) GetPublicKey() crypto.PublicKey   { return &k.s.priv.PublicKey }
func (k keypair) GetPublicKeyPem() (string, error) { return string(k.s.pubPEM), nil }
func (k keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	d := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, k.s.priv, d[:])
	return sig, d[:], err
}

var _ sign.Keypair = keypair{}

// Bundle signs payload as a DSSE envelope in a sigstore bundle v0.3 whose
// verification material is the key hint (what model_signing writes for key
// signatures; no transparency log entry).
func (s *Signer) Bundle(payloadType string, payload []byte) ([]byte, error) {
	b, err := sign.Bundle(&sign.DSSEData{Data: payload, PayloadType: payloadType}, keypair{s}, sign.BundleOptions{})
	if err != nil {
		return nil, fmt.Errorf("synth: sign bundle: %w", err)
	}
	out, err := protojson.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("synth: sign bundle: %w", err)
	}
	return out, nil
}

// dsseEnvelope is a bare DSSE envelope as JSON.
type dsseEnvelope struct {
	PayloadType string          `json:"payloadType"`
	Payload     string          `json:"payload"`
	Signatures  []dsseSignature `json:"signatures"`
}

type dsseSignature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// DSSE signs payload into a bare DSSE envelope (what cosign attest --key and
// CI pipelines publish), key id set to the hint. sign.Bundle computes the
// pre-authentication encoding and signature; the envelope is copied out.
func (s *Signer) DSSE(payloadType string, payload []byte) ([]byte, error) {
	b, err := sign.Bundle(&sign.DSSEData{Data: payload, PayloadType: payloadType}, keypair{s}, sign.BundleOptions{})
	if err != nil {
		return nil, fmt.Errorf("synth: sign dsse: %w", err)
	}
	env := b.GetDsseEnvelope()
	out := dsseEnvelope{PayloadType: env.GetPayloadType(), Payload: base64.StdEncoding.EncodeToString(env.GetPayload())}
	for _, sg := range env.GetSignatures() {
		out.Signatures = append(out.Signatures, dsseSignature{KeyID: s.hint, Sig: base64.StdEncoding.EncodeToString(sg.GetSig())})
	}
	return json.Marshal(out)
}

// DocKind says what a synthetic document is.
type DocKind string

const (
	DocDataset    DocKind = "dataset-attestation"    // project dataset/v1 statement, bare DSSE
	DocOMS        DocKind = "oms-signature"          // OMS v1.0 signature, sigstore bundle
	DocTraining   DocKind = "training-attestation"   // AIXV training/v1 statement, sigstore bundle (or unsigned)
	DocSBOM       DocKind = "cyclonedx-sbom"         // CycloneDX 1.6 JSON, unsigned
	DocDeployment DocKind = "deployment-attestation" // project deployment/v1 statement, bare DSSE
)

// Doc is one rendered document.
type Doc struct {
	Name   string // a file name, stored as the document source
	Kind   DocKind
	Signed bool // carries a signature by the Signer
	Data   []byte
}

// Predicate and statement types the documents use.
const (
	statementType     = "https://in-toto.io/Statement/v1"
	inTotoPayloadType = "application/vnd.in-toto+json"
	omsPredicate      = "https://model_signing/signature/v1.0"
	aixvTraining      = "https://aixv.org/attestation/training/v1"
	datasetPredicate  = "https://modelgraph.dev/attestation/dataset/v1"
	deployPredicate   = "https://modelgraph.dev/attestation/deployment/v1"
)

type statementJSON struct {
	Type          string        `json:"_type"`
	Subject       []subjectJSON `json:"subject"`
	PredicateType string        `json:"predicateType"`
	Predicate     any           `json:"predicate"`
}

type subjectJSON struct {
	Name   string            `json:"name"`
	URI    string            `json:"uri,omitempty"`
	Digest map[string]string `json:"digest"`
}

func hexOf(key string) string { return strings.TrimPrefix(key, "sha256:") }

func digestSet(key string) map[string]string { return map[string]string{"sha256": hexOf(key)} }

// Documents renders the plan as documents, in dependency order (datasets,
// then per model its OMS signature, training attestation and SBOM, then
// deployments), signing with s. fn gets each document; its error stops the
// walk.
func (pl *Plan) Documents(s *Signer, fn func(Doc) error) error {
	if s == nil {
		return fmt.Errorf("synth: documents: no signer")
	}
	emit := func(d Doc, err error) error {
		if err != nil {
			return fmt.Errorf("synth: %s: %w", d.Name, err)
		}
		return fn(d)
	}
	for i := range pl.Datasets {
		d, err := pl.datasetDoc(s, i)
		if err := emit(d, err); err != nil {
			return err
		}
	}
	for i := range pl.Models {
		d, err := pl.omsDoc(s, i)
		if err := emit(d, err); err != nil {
			return err
		}
		d, err = pl.trainingDoc(s, i)
		if err := emit(d, err); err != nil {
			return err
		}
		if len(pl.Models[i].Packages) > 0 {
			d, err = pl.sbomDoc(i)
			if err := emit(d, err); err != nil {
				return err
			}
		}
	}
	for i := range pl.Deployments {
		d, err := pl.deploymentDoc(s, i)
		if err := emit(d, err); err != nil {
			return err
		}
	}
	return nil
}

func marshalStatement(subjects []subjectJSON, predicateType string, predicate any) ([]byte, error) {
	return json.Marshal(statementJSON{Type: statementType, Subject: subjects, PredicateType: predicateType, Predicate: predicate})
}

func (pl *Plan) datasetDoc(s *Signer, i int) (Doc, error) {
	ds := pl.Datasets[i]
	doc := Doc{Name: fmt.Sprintf("dataset-%d.intoto.dsse.json", i), Kind: DocDataset, Signed: true}
	type ref struct {
		Name    string            `json:"name"`
		Version string            `json:"version"`
		Digest  map[string]string `json:"digest"`
	}
	pred := map[string]any{
		"name":          ds.Name,
		"version":       "v1",
		"uri":           fmt.Sprintf("s3://synth-data/datasets/dataset-%d/v1/", i),
		"license":       "CC-BY-4.0",
		"preprocessing": []any{"deduplicate", map[string]string{"name": "pii-scrub", "tool": "presidio", "version": "2.2"}},
		"sensitiveData": map[string]bool{"pii": false, "phi": false},
	}
	if ds.Source >= 0 {
		src := pl.Datasets[ds.Source]
		pred["sourceDatasets"] = []ref{{Name: src.Name, Version: "v1", Digest: digestSet(src.Key)}}
	}
	st, err := marshalStatement([]subjectJSON{{Name: fmt.Sprintf("dataset-%d.tar", i), Digest: digestSet(ds.Key)}}, datasetPredicate, pred)
	if err != nil {
		return doc, err
	}
	doc.Data, err = s.DSSE(inTotoPayloadType, st)
	return doc, err
}

func (pl *Plan) omsDoc(s *Signer, i int) (Doc, error) {
	ms := pl.Models[i]
	doc := Doc{Name: fmt.Sprintf("model-%d/model.sig", i), Kind: DocOMS, Signed: true}
	type resource struct {
		Algorithm string `json:"algorithm"`
		Name      string `json:"name"`
		Digest    string `json:"digest"`
	}
	res := make([]resource, 0, ms.Files)
	for f := range ms.Files {
		res = append(res, resource{Algorithm: "sha256", Name: shardName(f, ms.Files), Digest: hexOf(FileDigest(i, f))})
	}
	pred := map[string]any{
		"resources": res,
		"serialization": map[string]any{
			"method": "files", "hash_type": "sha256", "allow_symlinks": false,
			"ignore_paths": []string{".git", "model.sig", ".gitattributes", ".gitignore", ".github"},
		},
	}
	st, err := marshalStatement([]subjectJSON{{Name: ms.Name, Digest: digestSet(ms.Key)}}, omsPredicate, pred)
	if err != nil {
		return doc, err
	}
	doc.Data, err = s.Bundle(inTotoPayloadType, st)
	return doc, err
}

func (pl *Plan) trainingDoc(s *Signer, i int) (Doc, error) {
	ms := pl.Models[i]
	doc := Doc{Name: fmt.Sprintf("model-%d/training.intoto.json", i), Kind: DocTraining, Signed: ms.ProvenanceSigned}
	type ref struct {
		Digest   string `json:"digest"`
		URI      string `json:"uri,omitempty"`
		Relation string `json:"relation,omitempty"`
		Split    string `json:"split,omitempty"`
	}
	var parents, datasets []ref
	if ms.Parent >= 0 {
		pm := pl.Models[ms.Parent]
		parents = append(parents, ref{Digest: pm.Key, URI: graphref.HFModel(pm.Name), Relation: ms.Relation})
	}
	for _, di := range ms.Datasets {
		ds := pl.Datasets[di]
		datasets = append(datasets, ref{Digest: ds.Key, URI: fmt.Sprintf("s3://synth-data/datasets/dataset-%d/v1/", di), Split: "train"})
	}
	pred := map[string]any{
		"parent_models": parents,
		"datasets":      datasets,
		"training_run": map[string]string{
			"id":                 fmt.Sprintf("synth-run-%d", i),
			"framework":          "pytorch",
			"framework_version":  "2.5.1",
			"code_digest":        Digest(fmt.Sprintf("code/%d", i%97)),
			"environment_digest": Digest(fmt.Sprintf("env/%d", i%13)),
		},
		"hyperparameters": map[string]any{"learning_rate": 2e-05, "epochs": 1 + i%3},
	}
	if parents == nil {
		pred["parent_models"] = []ref{}
	}
	st, err := marshalStatement([]subjectJSON{{Name: ms.Name + "/model.safetensors", URI: graphref.HFModel(ms.Name), Digest: digestSet(ms.Key)}}, aixvTraining, pred)
	if err != nil {
		return doc, err
	}
	if !ms.ProvenanceSigned {
		doc.Data = st
		return doc, nil
	}
	doc.Data, err = s.Bundle(inTotoPayloadType, st)
	return doc, err
}

func (pl *Plan) sbomDoc(i int) (Doc, error) {
	ms := pl.Models[i]
	doc := Doc{Name: fmt.Sprintf("model-%d/serving.cdx.json", i), Kind: DocSBOM}
	bom := cdx.NewBOM()
	bom.SerialNumber = fmt.Sprintf("urn:uuid:%s", uuidOf(ms.Key))
	bom.Metadata = &cdx.Metadata{
		Timestamp: "2026-01-01T00:00:00Z",
		Component: &cdx.Component{
			BOMRef: "model", Type: cdx.ComponentTypeMachineLearningModel, Name: ms.Name, Version: "1.0",
			Hashes: &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: hexOf(ms.Key)}},
		},
	}
	comps := make([]cdx.Component, 0, len(ms.Packages))
	direct := make([]string, 0, len(ms.Packages))
	in := make(map[int32]bool, len(ms.Packages))
	for _, j := range ms.Packages {
		in[j] = true
	}
	deps := []cdx.Dependency{}
	for _, j := range ms.Packages {
		purl := pl.Packages[j]
		name, version := purlNameVersion(purl)
		comps = append(comps, cdx.Component{BOMRef: purl, Type: cdx.ComponentTypeLibrary, Name: name, Version: version, PackageURL: purl})
		direct = append(direct, purl)
		var on []string
		for _, d := range pl.depsOf(j) {
			if in[d] {
				on = append(on, pl.Packages[d])
			}
		}
		if on != nil {
			deps = append(deps, cdx.Dependency{Ref: purl, Dependencies: &on})
		}
	}
	bom.Components = &comps
	deps = append([]cdx.Dependency{{Ref: "model", Dependencies: &direct}}, deps...)
	bom.Dependencies = &deps
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return doc, err
	}
	doc.Data = buf.Bytes()
	return doc, nil
}

func (pl *Plan) deploymentDoc(s *Signer, i int) (Doc, error) {
	dp := pl.Deployments[i]
	ms := pl.Models[dp.Model]
	doc := Doc{Name: fmt.Sprintf("deployment-%d.intoto.dsse.json", i), Kind: DocDeployment, Signed: true}
	pred := map[string]any{
		"environment": dp.Environment,
		"cluster":     dp.Cluster,
		"namespace":   Namespace,
		"service":     dp.Service,
		"endpoint":    fmt.Sprintf("https://%s.%s.synth.example/v1", dp.Service, dp.Cluster),
		"deployedAt":  "2026-01-01T00:00:00Z",
	}
	st, err := marshalStatement([]subjectJSON{{Name: ms.Name + "/model.safetensors", URI: graphref.HFModel(ms.Name), Digest: digestSet(ms.Key)}}, deployPredicate, pred)
	if err != nil {
		return doc, err
	}
	doc.Data, err = s.DSSE(inTotoPayloadType, st)
	return doc, err
}

func purlNameVersion(purl string) (name, version string) {
	rest := strings.TrimPrefix(purl, "pkg:pypi/")
	name, version, _ = strings.Cut(rest, "@")
	return name, version
}

// uuidOf formats the first 16 bytes of a digest key as a UUID, so serial
// numbers are deterministic.
func uuidOf(key string) string {
	h, _ := hex.DecodeString(hexOf(key)[:32])
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
