package collect

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/oms"
)

// OCI collector defaults.
const (
	DefaultMaxReferrers     = 256
	DefaultMaxTags          = 1_000
	DefaultMaxManifestBytes = 4 << 20 // the size registries must accept (OCI distribution spec)
	DefaultOCITimeout       = 2 * time.Minute
	DefaultOCIInterval      = 5 * time.Minute
)

// Media types the OCI collector reads or names.
const (
	MediaCosignSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
	AnnotationCosignSig      = "dev.cosignproject.cosign/signature"
	AnnotationTitle          = "org.opencontainers.image.title"
)

// ModelArtifactTypes are the artifact and config media types that mark an
// OCI manifest as a packaged model (CNCF ModelPack, Docker model runner,
// KitOps ModelKit).
var ModelArtifactTypes = []string{
	"application/vnd.cncf.model.manifest.v1+json",
	"application/vnd.cncf.model.config.v1+json",
	"application/vnd.docker.ai.model.config.v0.1+json",
	"application/vnd.kitops.modelkit.config.v1+json",
}

// OCI collects the signatures, attestations and SBOMs attached to images or
// model artifacts in an OCI registry: OCI 1.1 referrers (the referrers API,
// or its tag-schema fallback on registries without it) and cosign's
// sha256-<digest>.sig/.att/.sbom tags. See docs/collectors.md.
type OCI struct {
	// Ref is a reference (registry/repo:tag or @sha256:...) or a repository,
	// whose tags are then all collected (up to MaxTags).
	Ref string
	// Insecure allows plain HTTP, only to loopback registries
	// (localhost, 127.0.0.0/8, ::1).
	Insecure bool
	Watch    bool
	Interval time.Duration // between polls when watching; DefaultOCIInterval when 0
	Role     string        // SBOM role handed to the pipeline ("serving-image" for serving images)

	MaxReferrers     int           // per subject; DefaultMaxReferrers when 0
	MaxTags          int           // per repository; DefaultMaxTags when 0
	MaxBlobBytes     int64         // per document; ingest.DefaultMaxBytes when 0
	MaxManifestBytes int64         // DefaultMaxManifestBytes when 0
	Timeout          time.Duration // per subject; DefaultOCITimeout when 0

	Transport http.RoundTripper // nil: a clone of http.DefaultTransport
	Keychain  authn.Keychain    // nil: authn.DefaultKeychain (docker config, credential helpers)
	Log       *slog.Logger

	seen map[string]struct{} // blob digests handed over
}

func (o *OCI) String() string { return "oci:" + o.Ref }

func (o *OCI) log() *slog.Logger {
	if o.Log != nil {
		return o.Log
	}
	return slog.Default()
}

func orDefault[T int | int64 | time.Duration](v, d T) T {
	if v > 0 {
		return v
	}
	return d
}

// Collect reads what is attached to Ref's subject(s), then, with Watch,
// polls again every Interval until ctx ends.
func (o *OCI) Collect(ctx context.Context, emit func(Doc) error) error {
	opts := []name.Option{name.StrictValidation}
	if o.Insecure {
		opts = append(opts, name.Insecure)
	}
	repo, ref, err := parseRef(o.Ref, opts...)
	if err != nil {
		return err
	}
	if o.Insecure && !isLoopback(repo.RegistryStr()) {
		return fmt.Errorf("%w: %s: plain HTTP is only allowed to a loopback registry, not %s", ErrInvalidSpec, o.Ref, repo.RegistryStr())
	}
	base := o.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	puller, err := remote.NewPuller(
		remote.WithTransport(&schemeGuard{base: base, allowHTTP: o.Insecure}),
		remote.WithAuthFromKeychain(kc),
		remote.WithUserAgent("modelgraph-collector"),
	)
	if err != nil {
		return err
	}
	s := &ociSession{o: o, puller: puller, repo: repo, emit: emit}
	for {
		if err := s.pass(ctx, ref); err != nil {
			if ctx.Err() != nil && o.Watch {
				return nil
			}
			if !o.Watch {
				return err
			}
			o.log().Error("registry poll failed", "ref", o.Ref, "err", err)
		}
		if !o.Watch {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(orDefault(o.Interval, DefaultOCIInterval)):
		}
	}
}

// parseRef returns the repository and, unless s names a repository only,
// the reference.
func parseRef(s string, opts ...name.Option) (name.Repository, name.Reference, error) {
	if d, err := name.NewDigest(s, opts...); err == nil {
		return d.Context(), d, nil
	}
	if t, err := name.NewTag(s, opts...); err == nil {
		return t.Context(), t, nil
	}
	r, err := name.NewRepository(s, opts...)
	if err != nil {
		return name.Repository{}, nil, fmt.Errorf("%w: %q is not a registry reference or repository: %w", ErrInvalidSpec, s, err)
	}
	return r, nil, nil
}

func isLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// schemeGuard refuses plain HTTP unless allowed, and then only to loopback
// hosts: go-containerregistry would otherwise fall back to HTTP for private
// (RFC 1918) addresses on its own.
type schemeGuard struct {
	base      http.RoundTripper
	allowHTTP bool
}

func (g *schemeGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" && !(g.allowHTTP && req.URL.Scheme == "http" && isLoopback(req.URL.Host)) {
		return nil, fmt.Errorf("refusing %s://%s: plain HTTP is only used for loopback registries with the insecure option", req.URL.Scheme, req.URL.Host)
	}
	return g.base.RoundTrip(req)
}

// cosignTag matches the tags cosign and the referrers fallback use to attach
// things to a digest: they are not subjects of their own.
var cosignTag = regexp.MustCompile(`^sha256-[0-9a-f]{64}(\.(sig|att|sbom))?$`)

// ociSession is one collector's state across polls.
type ociSession struct {
	o      *OCI
	puller *remote.Puller
	repo   name.Repository
	emit   func(Doc) error
}

// pass collects once: the reference, or every tag of the repository.
func (s *ociSession) pass(ctx context.Context, ref name.Reference) error {
	if ref != nil {
		return s.subject(ctx, ref)
	}
	tags, truncated, err := s.tags(ctx)
	if err != nil {
		return fmt.Errorf("list tags of %s: %w", s.repo, err)
	}
	if truncated {
		if err := s.emit(Doc{Source: "oci://" + s.repo.String(), Err: fmt.Errorf("%w: more than %d tags; only the first %d are collected", ErrLimit, orDefault(s.o.MaxTags, DefaultMaxTags), len(tags))}); err != nil {
			return err
		}
	}
	for _, t := range tags {
		if err := s.subject(ctx, s.repo.Tag(t)); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// One broken tag must not hide the others.
			if err := s.emit(Doc{Source: "oci://" + s.repo.Tag(t).String(), Err: err}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *ociSession) tags(ctx context.Context) ([]string, bool, error) {
	limit := orDefault(s.o.MaxTags, DefaultMaxTags)
	ctx, cancel := context.WithTimeout(ctx, orDefault(s.o.Timeout, DefaultOCITimeout))
	defer cancel()
	l, err := s.puller.Lister(ctx, s.repo)
	if err != nil {
		return nil, false, err
	}
	var out []string
	for l.HasNext() {
		page, err := l.Next(ctx)
		if err != nil {
			return nil, false, err
		}
		for _, t := range page.Tags {
			if cosignTag.MatchString(t) {
				continue
			}
			if len(out) == limit {
				return out, true, nil
			}
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, false, nil
}

// subject collects what is attached to one reference's manifest.
func (s *ociSession) subject(ctx context.Context, ref name.Reference) error {
	ctx, cancel := context.WithTimeout(ctx, orDefault(s.o.Timeout, DefaultOCITimeout))
	defer cancel()
	head, err := s.puller.Head(ctx, ref)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", ref, err)
	}
	maxManifest := orDefault(s.o.MaxManifestBytes, DefaultMaxManifestBytes)
	if head.Size > maxManifest {
		return fmt.Errorf("%w: manifest of %s is %d bytes, limit %d", ErrTooLarge, ref, head.Size, maxManifest)
	}
	desc, err := s.puller.Get(ctx, s.repo.Digest(head.Digest.String()))
	if err != nil {
		return fmt.Errorf("fetch %s: %w", ref, err)
	}
	subject := desc.Digest
	s.o.log().Debug("collecting", "ref", ref.String(), "subject", subject.String(), "mediaType", desc.MediaType)

	var modelManifest []byte // a packaged model's manifest, to tie OMS signatures to
	if desc.MediaType.IsImage() {
		var m v1.Manifest
		if err := json.Unmarshal(desc.Manifest, &m); err != nil {
			return fmt.Errorf("%s: manifest: %w", ref, err)
		}
		if isModelManifest(&m) {
			modelManifest = desc.Manifest
			if err := s.model(ref, subject, &m); err != nil {
				return err
			}
		}
	}

	// OCI 1.1 referrers: the API, or the sha256-<hex> fallback tag.
	idx, err := remote.Referrers(s.repo.Digest(subject.String()), remote.Reuse(s.puller), remote.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("referrers of %s: %w", subject, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return fmt.Errorf("referrers of %s: %w", subject, err)
	}
	refs := im.Manifests
	if limit := orDefault(s.o.MaxReferrers, DefaultMaxReferrers); len(refs) > limit {
		if err := s.emit(Doc{Source: s.source(subject, ""), Err: fmt.Errorf("%w: %d referrers, only the first %d are collected", ErrLimit, len(refs), limit)}); err != nil {
			return err
		}
		refs = refs[:limit]
	}
	for _, r := range refs {
		if err := s.artifact(ctx, r, subject, "", modelManifest); err != nil {
			return err
		}
	}

	// cosign's tag scheme.
	hexd := subject.Hex
	for _, suffix := range []string{"sig", "att", "sbom"} {
		tag := s.repo.Tag(fmt.Sprintf("%s-%s.%s", subject.Algorithm, hexd, suffix))
		h, err := s.puller.Head(ctx, tag)
		if err != nil {
			var terr *transport.Error
			if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
				continue
			}
			return fmt.Errorf("cosign tag %s: %w", tag, err)
		}
		if err := s.artifact(ctx, *h, subject, tag.TagStr(), modelManifest); err != nil {
			return err
		}
	}
	return nil
}

func (s *ociSession) source(manifest v1.Hash, layer string) string {
	src := "oci://" + s.repo.String() + "@" + manifest.String()
	if layer != "" {
		src += "#" + layer
	}
	return src
}

// artifact reads the documents in the layers of one attached manifest.
// modelManifest is the subject's manifest when it is a packaged model: an
// OMS signature listing exactly its layers is tied to it (Doc.Subject).
func (s *ociSession) artifact(ctx context.Context, d v1.Descriptor, subject v1.Hash, tag string, modelManifest []byte) error {
	src := s.source(d.Digest, "")
	if !d.MediaType.IsImage() {
		s.o.log().Debug("attached artifact is not an image manifest; skipped", "source", src, "mediaType", d.MediaType)
		return nil
	}
	maxManifest := orDefault(s.o.MaxManifestBytes, DefaultMaxManifestBytes)
	if d.Size > maxManifest {
		return s.emit(Doc{Source: src, Err: fmt.Errorf("%w: manifest is %d bytes, limit %d", ErrTooLarge, d.Size, maxManifest)})
	}
	desc, err := s.puller.Get(ctx, s.repo.Digest(d.Digest.String()))
	if err != nil {
		return s.emit(Doc{Source: src, Err: fmt.Errorf("fetch manifest: %w", err)})
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		return s.emit(Doc{Source: src, Err: fmt.Errorf("manifest: %w", err)})
	}
	artifactType := m.ArtifactType
	if artifactType == "" {
		artifactType = d.ArtifactType
	}
	if artifactType == "" {
		artifactType = string(m.Config.MediaType)
	}
	for _, l := range m.Layers {
		lsrc := s.source(d.Digest, l.Digest.String())
		kind, ct := classify(string(l.MediaType), artifactType)
		switch kind {
		case kindNone:
			s.o.log().Debug("layer is not an evidence document; skipped", "source", lsrc, "mediaType", l.MediaType)
			continue
		case kindCosignSig:
			if err := s.emit(Doc{Source: lsrc, Skip: fmt.Sprintf(
				"cosign simple-signing signature (%s) of %s: not recorded, because modelgraph records only signatures it verifies with sigstore-go; attach a sigstore bundle instead (cosign v3, or cosign v2.4+ with --new-bundle-format)",
				tagOr(tag, "referrer"), subject)}); err != nil {
				return err
			}
			continue
		}
		if _, dup := s.o.seen[l.Digest.String()]; dup {
			if err := s.emit(Doc{Source: lsrc, Seen: true}); err != nil {
				return err
			}
			continue
		}
		data, err := s.blob(ctx, l)
		if err != nil {
			if err := s.emit(Doc{Source: lsrc, Err: err}); err != nil {
				return err
			}
			continue
		}
		if s.o.seen == nil {
			s.o.seen = map[string]struct{}{}
		}
		if len(s.o.seen) >= MaxSeen {
			clear(s.o.seen)
		}
		s.o.seen[l.Digest.String()] = struct{}{}
		doc := Doc{Data: data, Source: lsrc, ContentType: ct}
		if kind == kindSigned && modelManifest != nil {
			if _, ok := oms.MatchOCI(ctx, data, modelManifest); ok {
				doc.Subject = subject.String()
			}
		}
		if kind == kindSBOM {
			// A bare SBOM does not say which image it describes: the
			// registry does.
			doc.Subject = subject.String()
			doc.Role = s.o.Role
		}
		if err := s.emit(doc); err != nil {
			return err
		}
	}
	return nil
}

func tagOr(tag, alt string) string {
	if tag != "" {
		return "tag " + tag
	}
	return alt
}

// blob reads one layer, bounded, and checks its digest.
func (s *ociSession) blob(ctx context.Context, l v1.Descriptor) ([]byte, error) {
	max := orDefault(s.o.MaxBlobBytes, ingest.DefaultMaxBytes)
	if l.Size > max {
		return nil, fmt.Errorf("%w: layer is %d bytes, limit %d", ErrTooLarge, l.Size, max)
	}
	layer, err := s.puller.Layer(ctx, s.repo.Digest(l.Digest.String()))
	if err != nil {
		return nil, fmt.Errorf("fetch layer: %w", err)
	}
	rc, err := layer.Compressed()
	if err != nil {
		return nil, fmt.Errorf("fetch layer: %w", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("read layer: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: layer is larger than %d bytes", ErrTooLarge, max)
	}
	// go-containerregistry checks the digest at EOF; check again when the
	// size limit kept us from reaching it.
	if l.Digest.Algorithm == "sha256" {
		if sum := fmt.Sprintf("%x", sha256.Sum256(data)); sum != l.Digest.Hex {
			return nil, fmt.Errorf("layer digest mismatch: got sha256:%s", sum)
		}
	}
	return data, nil
}

type docKind int

const (
	kindNone docKind = iota
	kindSigned
	kindSBOM
	kindCosignSig
)

// classify decides what a layer holds from its media type, or, for the
// generic layer types tools such as oras use for single files, from the
// manifest's artifact type. It returns the content type hint to hand to
// the pipeline ("" lets it sniff).
func classify(layerType, artifactType string) (docKind, string) {
	if k, ct := classifyType(layerType); k != kindNone {
		return k, ct
	}
	switch base(layerType) {
	case "application/octet-stream", "application/vnd.oci.image.layer.v1.tar", "application/json", "text/plain", "":
		return classifyType(artifactType)
	}
	return kindNone, ""
}

func base(mt string) string {
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	return strings.ToLower(strings.TrimSpace(mt))
}

func classifyType(mt string) (docKind, string) {
	b := base(mt)
	switch {
	case b == "application/vnd.dev.sigstore.bundle.v0.3+json":
		return kindSigned, b
	case strings.HasPrefix(b, "application/vnd.dev.sigstore.bundle"):
		return kindSigned, "application/vnd.dev.sigstore.bundle+json"
	case strings.HasPrefix(b, "application/vnd.in-toto") || strings.HasPrefix(b, "application/vnd.dsse.envelope"):
		// A bare statement or a DSSE envelope: the pipeline tells which.
		return kindSigned, ""
	case b == "application/vnd.cyclonedx+json" || b == "application/vnd.cyclonedx+xml" || b == "application/vnd.cyclonedx":
		return kindSBOM, b
	case b == "application/spdx+json" || b == "application/vnd.spdx+json" || b == "text/spdx+json":
		return kindSBOM, "application/spdx+json"
	case b == "text/spdx":
		return kindSBOM, "text/spdx"
	case b == MediaCosignSimpleSigning:
		return kindCosignSig, ""
	}
	return kindNone, ""
}

func isModelManifest(m *v1.Manifest) bool {
	return slices.Contains(ModelArtifactTypes, base(m.ArtifactType)) || slices.Contains(ModelArtifactTypes, base(string(m.Config.MediaType)))
}

// model records a packaged model: see modelBOM.
func (s *ociSession) model(ref name.Reference, manifest v1.Hash, m *v1.Manifest) error {
	if _, dup := s.o.seen["model:"+manifest.String()]; dup {
		return s.emit(Doc{Source: s.source(manifest, ""), Seen: true})
	}
	bom, err := modelBOM(s.repo, ref, manifest, m)
	if err != nil {
		return s.emit(Doc{Source: s.source(manifest, ""), Err: err})
	}
	if s.o.seen == nil {
		s.o.seen = map[string]struct{}{}
	}
	s.o.seen["model:"+manifest.String()] = struct{}{}
	return s.emit(Doc{Data: bom, Source: s.source(manifest, ""), ContentType: "application/vnd.cyclonedx+json", Subject: manifest.String()})
}
