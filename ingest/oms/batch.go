package oms

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/envelope"
)

// ReasonRootMismatch is set on every signature of a manifest whose
// resources do not hash to its subject.
const ReasonRootMismatch = "root digest mismatch"

// Signatures returns the envelope's signature outcomes amended by what the
// manifest says: a subject that the resources do not hash to fails every
// signature (the signer vouched for a root, not for these files). Legacy
// v0.2 signatures have no root; the envelope checks them with
// model_signing's legacy encoding (envelope.ReasonLegacyEncoding).
func Signatures(m *Manifest, sigs []graph.Signature) []graph.Signature {
	out := make([]graph.Signature, len(sigs))
	copy(out, sigs)
	for i := range out {
		if !m.Legacy && !m.RootMatches {
			out[i].Status, out[i].Reason = graph.StatusFailed, ReasonRootMismatch
		}
	}
	return out
}

// FromOpened turns an opened OMS signature into one graph batch: the Model
// (keyed by its root digest and name) CONTAINS one File per resource, and
// the document DESCRIBES the model. doc supplies Digest, Source and Size;
// Type, PredicateType and Signatures are filled in here.
func FromOpened(o *envelope.Opened, doc graph.Document) (*graph.Batch, error) {
	return FromOpenedImage(o, doc, "")
}

// FromOpenedImage is FromOpened for a signature tied to a model packaged
// as an OCI artifact: image is the manifest digest ("sha256:<hex>") whose
// layers the signature lists (MatchOCI; the OCI collector checks it). The
// Model node then carries both the OMS root digest and the image digest,
// so it meets the packaged model's other evidence; attribute ociManifest.
func FromOpenedImage(o *envelope.Opened, doc graph.Document, image string) (*graph.Batch, error) {
	if o == nil || o.Statement == nil {
		return nil, fmt.Errorf("%w: %s: payload is not an in-toto statement", ErrInvalidDocument, docName(doc))
	}
	m, err := ParseOpened(o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", docName(doc), err)
	}
	doc.Type = DocumentType
	doc.PredicateType = m.PredicateType
	doc.Signatures = Signatures(m, o.Signatures)
	b := graph.NewBatch(doc)
	if m.Legacy {
		// v0.2 named no model: the files are the subjects.
		for _, r := range m.Resources {
			f := b.Node(graph.KindFile, "sha256:"+hex.EncodeToString(r.Digest))
			b.Set(f, "path", r.Path)
			b.Set(f, "algorithm", r.Algorithm)
			b.Describes(f)
		}
		return b, b.Validate()
	}
	keys := []string{m.RootKey()}
	if image != "" {
		if _, err := sha256Hex(image); err != nil {
			return nil, fmt.Errorf("%w: %s: image digest: %w", ErrInvalidDocument, docName(doc), err)
		}
		keys = append(keys, image)
	}
	if name := strings.TrimSpace(m.ModelName); name != "" {
		keys = append(keys, graph.NameKey(name))
	}
	model := b.Node(graph.KindModel, keys...)
	b.Set(model, "name", m.ModelName)
	b.Set(model, "omsSerialization", m.Serialization.Method)
	b.Set(model, "omsHashType", m.Serialization.HashType)
	if m.Serialization.ShardSize > 0 {
		b.Set(model, "omsShardSize", strconv.FormatInt(m.Serialization.ShardSize, 10))
	}
	b.Set(model, "omsResources", strconv.Itoa(len(m.Resources)))
	if image != "" {
		b.Set(model, "ociManifest", image)
	}
	b.Describes(model)

	whole := wholeFileShards(m.Resources)
	paths := map[int][]string{} // file node -> paths it appears at
	var order []int
	for i, r := range m.Resources {
		fileKeys := resourceKeys(r, whole[i])
		f := b.Node(graph.KindFile, fileKeys...)
		if _, ok := paths[f]; !ok {
			order = append(order, f)
		}
		paths[f] = append(paths[f], r.Path)
		b.Set(f, "path", r.Path)
		b.Set(f, "algorithm", r.Algorithm)
		if r.Sharded {
			b.Set(f, "start", strconv.FormatInt(r.Start, 10))
			b.Set(f, "end", strconv.FormatInt(r.End, 10))
		}
	}
	// Identical content at several paths is one File node; the edge keeps
	// the first path and lists the others.
	for _, f := range order {
		ps := dedupe(paths[f])
		b.Edge(model, graph.Contains, f, "path", ps[0], "alsoAt", strings.Join(ps[1:], "\n"))
	}
	return b, b.Validate()
}

// resourceKeys keys a File node by its content digest. A shard's digest is
// not the file's, so it gets a key of its own algorithm
// ("sha256-sharded-1000000000:<hex>"); a file that is a single shard from
// offset 0 is the whole file, and its shard digest also is its sha256.
func resourceKeys(r Resource, whole bool) []string {
	h := hex.EncodeToString(r.Digest)
	if !r.Sharded {
		if k, err := graph.DigestKey(r.Algorithm, h); err == nil {
			return []string{k}
		}
		return []string{strings.ToLower(r.Algorithm) + ":" + h}
	}
	keys := []string{strings.ToLower(r.Algorithm) + ":" + h}
	if whole {
		base, _, _ := strings.Cut(r.Algorithm, "-sharded-")
		if k, err := graph.DigestKey(base, h); err == nil {
			keys = append([]string{k}, keys...)
		}
	}
	return keys
}

// wholeFileShards marks the shards that are a whole file: the only shard
// of their path, starting at 0.
func wholeFileShards(rs []Resource) map[int]bool {
	count := map[string]int{}
	for _, r := range rs {
		if r.Sharded {
			count[r.Path]++
		}
	}
	out := map[int]bool{}
	for i, r := range rs {
		if r.Sharded && r.Start == 0 && count[r.Path] == 1 {
			out[i] = true
		}
	}
	return out
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func docName(d graph.Document) string {
	switch {
	case d.Source != "":
		return d.Source
	case d.Digest != "":
		return d.Digest
	}
	return "document"
}
