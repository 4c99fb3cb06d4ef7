package collect

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ManifestSource says where to read an image manifest from.
type ManifestSource struct {
	// Insecure allows plain HTTP, only to loopback registries.
	Insecure  bool
	Transport http.RoundTripper // nil: a clone of http.DefaultTransport
	Keychain  authn.Keychain    // nil: authn.DefaultKeychain
	MaxBytes  int64             // DefaultMaxManifestBytes when 0
}

// FetchManifest reads the image manifest ref (registry/repo:tag or
// @sha256:...) names, and none of its layers. It returns the raw manifest
// and its digest.
func (s ManifestSource) FetchManifest(ctx context.Context, ref string) ([]byte, string, error) {
	opts := []name.Option{name.StrictValidation}
	if s.Insecure {
		opts = append(opts, name.Insecure)
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %q is not a registry reference: %w", ErrInvalidSpec, ref, err)
	}
	if s.Insecure && !isLoopback(r.Context().RegistryStr()) {
		return nil, "", fmt.Errorf("%w: %s: plain HTTP is only allowed to a loopback registry", ErrInvalidSpec, ref)
	}
	base := s.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	kc := s.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	p, err := remote.NewPuller(remote.WithTransport(&schemeGuard{base: base, allowHTTP: s.Insecure}), remote.WithAuthFromKeychain(kc), remote.WithUserAgent("modelgraph"))
	if err != nil {
		return nil, "", err
	}
	head, err := p.Head(ctx, r)
	if err != nil {
		return nil, "", fmt.Errorf("resolve %s: %w", ref, err)
	}
	if max := orDefault(s.MaxBytes, DefaultMaxManifestBytes); head.Size > max {
		return nil, "", fmt.Errorf("%w: manifest of %s is %d bytes, limit %d", ErrTooLarge, ref, head.Size, max)
	}
	if !head.MediaType.IsImage() {
		return nil, "", fmt.Errorf("%s is a %s, not an image manifest (name a platform's manifest by digest)", ref, head.MediaType)
	}
	d, err := p.Get(ctx, r.Context().Digest(head.Digest.String()))
	if err != nil {
		return nil, "", fmt.Errorf("fetch %s: %w", ref, err)
	}
	return d.Manifest, d.Digest.String(), nil
}

// LayoutManifest reads an image manifest from an OCI image layout
// directory: "DIR" (its only manifest), "DIR:TAG" (by the
// org.opencontainers.image.ref.name annotation) or "DIR@sha256:HEX".
func (s ManifestSource) LayoutManifest(spec string) ([]byte, string, error) {
	dir, want := spec, ""
	if i := strings.LastIndex(spec, "@sha256:"); i >= 0 {
		dir, want = spec[:i], spec[i+1:]
	} else if i := strings.LastIndexByte(spec, ':'); i > 0 && !strings.ContainsRune(spec[i:], '/') {
		dir, want = spec[:i], spec[i+1:]
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, "", fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, "", fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, "", fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	var found []v1.Descriptor
	for _, d := range im.Manifests {
		switch {
		case want == "":
			found = append(found, d)
		case strings.HasPrefix(want, "sha256:") && d.Digest.String() == want:
			found = append(found, d)
		case d.Annotations["org.opencontainers.image.ref.name"] == want:
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		return nil, "", fmt.Errorf("OCI layout %s: %d manifests match %q, want exactly 1", dir, len(found), want)
	}
	d := found[0]
	if !d.MediaType.IsImage() {
		return nil, "", fmt.Errorf("OCI layout %s: %s is a %s, not an image manifest", dir, d.Digest, d.MediaType)
	}
	if max := orDefault(s.MaxBytes, DefaultMaxManifestBytes); d.Size > max {
		return nil, "", fmt.Errorf("%w: manifest %s is %d bytes, limit %d", ErrTooLarge, d.Digest, d.Size, max)
	}
	raw, err := p.Bytes(d.Digest)
	if err != nil {
		return nil, "", fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	if got, _, err := v1.SHA256(strings.NewReader(string(raw))); err != nil || got != d.Digest {
		return nil, "", fmt.Errorf("OCI layout %s: manifest %s does not match its digest", dir, d.Digest)
	}
	return raw, d.Digest.String(), nil
}
