package collect

import (
	"bytes"
	"fmt"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	packageurl "github.com/package-url/packageurl-go"
)

// MaxModelLayers bounds the files recorded for one packaged model.
const MaxModelLayers = 10_000

// modelBOM describes a model packaged as an OCI artifact as a CycloneDX 1.6
// ML-BOM, the standard way to say "this model is made of these files":
//
//   - metadata.component: the model (type machine-learning-model), its
//     SHA-256 hash the manifest digest, its purl
//     pkg:oci/<name>@sha256:<manifest>?repository_url=<registry/repo>[&tag=];
//   - one component of type file per layer, named by its
//     org.opencontainers.image.title annotation, hashed with the layer
//     digest (a file's own digest when the layer is stored uncompressed, as
//     ModelPack's .raw layers are);
//   - the model depends on each file.
//
// The document is unsigned: it states what the registry holds, nothing more.
func modelBOM(repo name.Repository, ref name.Reference, manifest v1.Hash, m *v1.Manifest) ([]byte, error) {
	if len(m.Layers) > MaxModelLayers {
		return nil, fmt.Errorf("%w: model manifest %s has %d layers, limit %d", ErrLimit, manifest, len(m.Layers), MaxModelLayers)
	}
	if manifest.Algorithm != "sha256" {
		return nil, fmt.Errorf("model manifest digest %s is not sha256", manifest)
	}
	quals := map[string]string{"repository_url": repo.Name()}
	version := ""
	if t, ok := ref.(name.Tag); ok {
		quals["tag"] = t.TagStr()
		version = t.TagStr()
	}
	purl := packageurl.NewPackageURL("oci", "", lastSegment(repo.RepositoryStr()), manifest.String(), packageurl.QualifiersFromMap(quals), "")
	model := &cdx.Component{
		BOMRef:     "model",
		Type:       cdx.ComponentTypeMachineLearningModel,
		Name:       repo.RepositoryStr(),
		Version:    version,
		PackageURL: purl.ToString(),
		Hashes:     &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: manifest.Hex}},
	}
	var files []cdx.Component
	var deps []string
	for i, l := range m.Layers {
		fname := l.Annotations[AnnotationTitle]
		if fname == "" {
			fname = l.Digest.String()
		}
		c := cdx.Component{
			BOMRef:   fmt.Sprintf("layer-%d", i),
			Type:     cdx.ComponentTypeFile,
			Name:     fname,
			MIMEType: string(l.MediaType),
		}
		if l.Digest.Algorithm == "sha256" {
			c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: l.Digest.Hex}}
		}
		files = append(files, c)
		deps = append(deps, c.BOMRef)
	}
	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{
		Component:  model,
		Properties: &[]cdx.Property{{Name: "modelgraph:source", Value: "oci://" + repo.Name() + "@" + manifest.String()}},
	}
	bom.Components = &files
	bom.Dependencies = &[]cdx.Dependency{{Ref: model.BOMRef, Dependencies: &deps}}
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).SetPretty(false).EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("model BOM: %w", err)
	}
	return buf.Bytes(), nil
}

func lastSegment(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}
