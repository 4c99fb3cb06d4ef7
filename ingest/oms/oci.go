package oms

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/modelgraph/modelgraph/ingest/envelope"
	"github.com/modelgraph/modelgraph/ingest/trust"
)

// AnnotationTitle names a layer's file in an OCI manifest (oras, ModelPack,
// and model_signing's Go port read it the same way).
const AnnotationTitle = "org.opencontainers.image.title"

// OCIConfigName is the resource name of the manifest's config blob when a
// signature covers it (model_signing's Go port, "include config").
const OCIConfigName = "config.json"

// Limits on OCI manifests (4 MiB: what registries must accept).
const (
	MaxOCILayers        = 10_000
	MaxOCIManifestBytes = 4 << 20
)

// ociManifest is the part of an OCI image manifest OMS reads.
type ociManifest struct {
	SchemaVersion int             `json:"schemaVersion"`
	MediaType     string          `json:"mediaType"`
	Manifests     json.RawMessage `json:"manifests"` // set in an index
	Config        ociDescriptor   `json:"config"`
	Layers        []ociDescriptor `json:"layers"`
}

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations"`
}

// OCIFile is one resource of a model packaged as an OCI artifact: a layer
// (named by its title annotation, else layer_NNN.tar.gz as the Go port of
// model_signing names it) or the config blob.
type OCIFile struct {
	Name   string `json:"name"`
	Digest string `json:"digest"` // sha256 hex of the blob
	Config bool   `json:"config,omitempty"`
}

// OCIFiles lists the files of an OCI image manifest without fetching any
// blob: a blob's digest is its sha256 (of the stored, possibly compressed,
// bytes), so a layer stored raw, as model artifacts store their files, has
// the file's own digest.
func OCIFiles(manifestJSON []byte) ([]OCIFile, error) {
	if len(manifestJSON) > MaxOCIManifestBytes {
		return nil, fmt.Errorf("%w: OCI manifest is %d bytes, limit %d", ErrModelPath, len(manifestJSON), MaxOCIManifestBytes)
	}
	var m ociManifest
	if err := json.Unmarshal(manifestJSON, &m); err != nil {
		return nil, fmt.Errorf("%w: OCI manifest: %w", ErrModelPath, err)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("%w: OCI manifest: schemaVersion %d, want 2 (an image manifest, not an index)", ErrModelPath, m.SchemaVersion)
	}
	if m.Manifests != nil || strings.Contains(m.MediaType, "index") || strings.Contains(m.MediaType, "manifest.list") {
		return nil, fmt.Errorf("%w: an image index, not an image manifest: name one platform's manifest by digest", ErrModelPath)
	}
	if len(m.Layers) > MaxOCILayers {
		return nil, fmt.Errorf("%w: OCI manifest has %d layers, limit %d", ErrModelPath, len(m.Layers), MaxOCILayers)
	}
	var out []OCIFile
	seen := map[string]bool{}
	for i, l := range m.Layers {
		d, err := sha256Hex(l.Digest)
		if err != nil {
			return nil, fmt.Errorf("%w: OCI manifest: layers[%d].digest: %w", ErrModelPath, i, err)
		}
		n := l.Annotations[AnnotationTitle]
		if n == "" {
			n = fmt.Sprintf("layer_%03d.tar.gz", i)
		}
		c, err := cleanPath(n)
		if err != nil || c == "." {
			return nil, fmt.Errorf("%w: OCI manifest: layers[%d] title %q is not a relative path", ErrModelPath, i, truncate(n, 100))
		}
		if seen[c] {
			return nil, fmt.Errorf("%w: OCI manifest: two layers are titled %q", ErrModelPath, truncate(c, 100))
		}
		seen[c] = true
		out = append(out, OCIFile{Name: c, Digest: d})
	}
	if m.Config.Digest != "" && !seen[OCIConfigName] {
		if d, err := sha256Hex(m.Config.Digest); err == nil {
			out = append(out, OCIFile{Name: OCIConfigName, Digest: d, Config: true})
		}
	}
	return out, nil
}

func sha256Hex(digest string) (string, error) {
	alg, h, ok := strings.Cut(digest, ":")
	if !ok || alg != "sha256" {
		return "", fmt.Errorf("%q is not a sha256 digest", truncate(digest, 80))
	}
	if b, err := hex.DecodeString(h); err != nil || len(b) != 32 || !isLowerHex(h) {
		return "", fmt.Errorf("%q is not a sha256 digest", truncate(digest, 80))
	}
	return h, nil
}

// VerifyOCI checks sig (an OMS signature) against pol, then compares its
// resources with the layers of an OCI image manifest instead of files on
// disk: no layer is pulled, since the registry's layer digests are the
// files' sha256. The config blob counts as "config.json" only when the
// signature lists it. ref names the manifest in the report.
func VerifyOCI(ctx context.Context, ref string, manifestJSON, sig []byte, pol *trust.Policy, opts VerifyOptions) (*Report, error) {
	o, err := envelope.Open(ctx, sig, pol)
	if err != nil {
		return nil, fmt.Errorf("signature %s: %w", orDash(opts.SignaturePath), err)
	}
	m, err := ParseOpened(o)
	if err != nil {
		return nil, fmt.Errorf("signature %s: %w", orDash(opts.SignaturePath), err)
	}
	if m.Serialization.Method != MethodFiles || m.Serialization.HashType != "sha256" {
		return nil, fmt.Errorf("%w: an OCI manifest carries sha256 digests of whole blobs; the signature hashed %s/%s", ErrUnsupported, m.Serialization.Method, m.Serialization.HashType)
	}
	ofs, err := OCIFiles(manifestJSON)
	if err != nil {
		return nil, err
	}
	r := newReport(m, o, ref)
	ignore := ignoreSet{}
	for _, p := range append(slices.Clone(m.Serialization.IgnorePaths), opts.IgnorePaths...) {
		if c := path.Clean(p); c != "." && !strings.HasPrefix(c, "../") && !strings.HasPrefix(c, "/") {
			ignore = append(ignore, c)
		}
	}
	signed := map[string]bool{}
	for _, res := range m.Resources {
		signed[res.Path] = true
	}
	var files []*localFile
	var ts []hashTask
	var digests [][]byte
	for _, f := range ofs {
		if ignore.has(f.Name) || (f.Config && !signed[f.Name]) || (opts.IgnoreUnsignedFiles && !signed[f.Name]) {
			continue
		}
		lf := &localFile{rel: f.Name}
		d, _ := hex.DecodeString(f.Digest)
		files = append(files, lf)
		ts = append(ts, hashTask{file: lf})
		digests = append(digests, d)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	compare(r, m, files, ts, digests)
	r.Verified = r.SignatureVerified && r.Changed+r.Missing+r.Extra == 0
	return r, nil
}

// MatchOCI reports whether an OMS signature document lists exactly the
// files of an OCI image manifest (files/sha256 serialization, ignore paths
// applied), without checking who signed it; root is its root digest key.
// The OCI collector uses it to tie a signature attached to a packaged
// model to that model's manifest.
func MatchOCI(ctx context.Context, sig, manifestJSON []byte) (root string, ok bool) {
	r, err := VerifyOCI(ctx, "", manifestJSON, sig, nil, VerifyOptions{})
	if err != nil || !r.RootMatches {
		return "", false
	}
	return r.RootDigest, r.Changed+r.Missing+r.Extra == 0
}
