package intoto

import (
	"maps"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
	graphref "github.com/modelgraph/modelgraph/graph/ref"
	packageurl "github.com/package-url/packageurl-go"
)

// artifact is a node as classified from one reference in a document.
type artifact struct {
	kind     graph.NodeKind
	keys     []string
	attrs    map[string]string
	split    string // annotations: dataset split for TRAINED_ON
	relation string // annotations: relation for DERIVED_FROM
}

// resource is a reference to an artifact: an in-toto ResourceDescriptor, a
// SLSA v0.x material or configSource, or an AIXV reference.
type resource struct {
	ptr         string // JSON pointer, for errors
	name, uri   string
	mediaType   string
	digest      map[string]string
	annotations map[string]string
}

// readResource reads a ResourceDescriptor-shaped object.
func (v value) resource() (resource, error) {
	r := resource{ptr: v.ptr}
	if err := v.object(); err != nil {
		return r, err
	}
	var err error
	if r.uri, err = v.get("uri").str(); err != nil {
		return r, err
	}
	if r.uri == "" {
		if r.uri, err = v.get("downloadLocation").str(); err != nil {
			return r, err
		}
	}
	if r.name, err = v.get("name").str(); err != nil {
		return r, err
	}
	if r.mediaType, err = v.get("mediaType").str(); err != nil {
		return r, err
	}
	if r.digest, err = v.get("digest").stringMap(true); err != nil {
		return r, err
	}
	if r.annotations, err = v.get("annotations").stringMap(false); err != nil {
		return r, err
	}
	return r, nil
}

// Model file extensions (lower case). ".bin" is too common outside ML to
// count on its own; it counts only in a training build.
var modelExts = map[string]bool{
	".safetensors": true, ".gguf": true, ".ggml": true, ".onnx": true,
	".pt": true, ".pth": true, ".ckpt": true, ".keras": true, ".tflite": true,
	".mlmodel": true,
}

// Data file extensions that make an object-store URI a dataset.
var dataExts = map[string]bool{
	".parquet": true, ".arrow": true, ".tfrecord": true, ".tfrecords": true,
	".jsonl": true, ".csv": true,
}

var objectStoreSchemes = map[string]bool{
	"s3": true, "gs": true, "gcs": true, "az": true, "abfs": true, "abfss": true,
	"wasb": true, "wasbs": true, "hdfs": true, "r2": true,
}

// kindHints maps annotation values ("kind", "artifact_type") to node kinds;
// the AIXV artifact types are included.
var kindHints = map[string]graph.NodeKind{
	"dataset": graph.KindDataset, "data": graph.KindDataset,
	"model": graph.KindModel, "base-model": graph.KindModel, "fine-tuned-model": graph.KindModel,
	"lora-adapter": graph.KindModel, "quantized-model": graph.KindModel, "checkpoint": graph.KindModel,
	"source": graph.KindSource, "code": graph.KindSource, "git": graph.KindSource,
	"image": graph.KindPackage, "container": graph.KindPackage, "container-image": graph.KindPackage,
	"package": graph.KindPackage,
	"file":    graph.KindFile,
}

func kindHint(ann map[string]string) (graph.NodeKind, bool) {
	for _, k := range []string{"kind", "artifact_type", "artifactType"} {
		if k, ok := kindHints[strings.ToLower(strings.TrimSpace(ann[k]))]; ok {
			return k, true
		}
	}
	return "", false
}

// classify decides the kind and keys of a referenced input. The rules are
// docs/mapping.md's "Inputs" table, in order.
func (p *parser) classify(r resource, training bool) (artifact, error) {
	ref := strings.TrimSpace(r.uri)
	if ref == "" {
		ref = strings.TrimSpace(r.name)
	}
	a := artifact{
		attrs:    map[string]string{"name": r.name, "uri": graphref.URI(r.uri), "mediaType": r.mediaType},
		split:    strings.TrimSpace(r.annotations["split"]),
		relation: strings.TrimSpace(r.annotations["relation"]),
	}
	digests := digestKeys(r.digest)
	hint, hinted := kindHint(r.annotations)
	hf, isHF := graphref.ParseHF(ref)
	purl, isPurl := parsePurl(ref)
	img, isImage := parseImage(ref, r.mediaType, purl, isPurl)
	git, isGit := parseGit(ref, r.digest)

	switch {
	case hinted:
		a.kind = hint
	case isHF:
		a.kind = graph.KindModel
		if hf.Dataset {
			a.kind = graph.KindDataset
		}
	case isImage:
		a.kind = graph.KindPackage
	case isPurl:
		a.kind = graph.KindPackage
	case isGit:
		a.kind = graph.KindSource
	case isObjectStoreDataset(ref):
		a.kind = graph.KindDataset
	case looksLikeModel(ref, training):
		a.kind = graph.KindModel
	default:
		a.kind = graph.KindFile
	}

	switch a.kind {
	case graph.KindModel, graph.KindDataset:
		if isHF {
			// A Hugging Face commit is a revision of the repository, not the
			// content of the artifact: keep it as an attribute.
			digests = withoutCommits(digests)
			a.attrs["revision"] = hf.Revision
			if c := commitOf(r.digest); c != "" && hf.Revision == "" {
				a.attrs["revision"] = c
			}
			a.keys = append(digests, hfKeys(hf, a.kind == graph.KindDataset)...)
			if isPurl {
				a.keys = append(a.keys, ref)
				a.attrs["purl"] = ref
			}
			a.attrs["uri"] = ""
		} else {
			a.keys = digests
			if isPurl {
				a.keys = append(a.keys, ref)
			}
			// Dataset locations name datasets; model file locations are
			// mutable, so they identify a model only without a digest.
			if graphref.IsURI(ref) && !isPurl && (a.kind == graph.KindDataset || len(digests) == 0) {
				a.keys = append(a.keys, graphref.URI(ref))
			}
		}
	case graph.KindSource:
		if isGit {
			a.keys = []string{git.key()}
			a.attrs["uri"] = git.repo
			a.attrs["commit"] = git.commit
			a.attrs["ref"] = git.ref
			a.keys = append(a.keys, withoutCommits(digests)...)
		} else {
			a.keys = digests
			if graphref.IsURI(ref) {
				a.keys = append(a.keys, graphref.URI(ref))
			}
		}
	case graph.KindPackage:
		a.keys = digests
		switch {
		case isImage:
			a.keys = append(a.keys, img.digestKeys()...)
			a.keys = append(a.keys, img.purl)
			a.attrs["image"] = img.name
			a.attrs["purl"] = img.purl
		case isPurl:
			a.keys = append(a.keys, ref)
			a.attrs["purl"] = ref
		case graphref.IsURI(ref):
			a.keys = append(a.keys, graphref.URI(ref))
		}
	default: // File
		a.keys = digests
		if len(digests) == 0 && graphref.IsURI(ref) {
			a.keys = append(a.keys, graphref.URI(ref))
		}
	}
	a.keys = validKeys(a.keys)
	if len(a.keys) == 0 {
		return a, p.errf(ErrInvalidPredicate, r.ptr, "names no artifact: needs a valid digest or a URI (uri %q, name %q)", truncate(r.uri, 80), truncate(r.name, 80))
	}
	return a, nil
}

// nameRef gives the keys a subject name or URI adds to a subject of kind:
// Hugging Face ids and purls name models and datasets across documents.
func nameRef(ref string, kind graph.NodeKind) (artifact, bool) {
	if h, ok := graphref.ParseHF(ref); ok && h.Dataset == (kind == graph.KindDataset) {
		keys := hfKeys(h, h.Dataset)
		if strings.HasPrefix(ref, graph.SchemePurl) {
			keys = append(keys, ref)
		}
		return artifact{keys: keys, attrs: map[string]string{"revision": h.Revision}}, true
	}
	return artifact{}, false
}

// looksLikeModel: a Hugging Face model reference or a model file name.
func looksLikeModel(ref string, training bool) bool {
	if h, ok := graphref.ParseHF(ref); ok {
		return !h.Dataset
	}
	ext := strings.ToLower(path.Ext(stripQuery(ref)))
	return modelExts[ext] || (training && ext == ".bin")
}

func isObjectStoreDataset(ref string) bool {
	u, err := url.Parse(ref)
	if err != nil || !objectStoreSchemes[strings.ToLower(u.Scheme)] {
		return false
	}
	for _, seg := range strings.Split(strings.ToLower(u.Host+u.Path), "/") {
		if seg == "data" || seg == "dataset" || seg == "datasets" || strings.HasSuffix(seg, "-dataset") || strings.HasSuffix(seg, "_dataset") {
			return true
		}
	}
	return dataExts[strings.ToLower(path.Ext(u.Path))]
}

// --- digests

// digestKeys turns a DigestSet into normalised keys, sha256 first. Values
// that are not valid digests (a git commit labelled sha256 is common) are
// left out: they cannot identify content.
func digestKeys(m map[string]string) []string {
	var keys []string
	for _, alg := range slices.Sorted(maps.Keys(m)) {
		if k, err := graph.DigestKey(alg, m[alg]); err == nil && isDigestAlg(k) {
			keys = append(keys, k)
		}
	}
	return digestKeysSorted(keys)
}

func isDigestAlg(k string) bool { return graph.IsDigestKey(k) }

func withoutCommits(keys []string) []string {
	return slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return strings.HasPrefix(k, "sha1:") })
}

var hex40 = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

// commitOf finds a git commit in a DigestSet: gitCommit, sha1, or a 40-hex
// value under any algorithm (SLSA v0.2 producers often label the commit
// "sha256").
func commitOf(m map[string]string) string {
	for _, alg := range []string{"gitCommit", "gitcommit", "sha1"} {
		if v := strings.TrimSpace(m[alg]); hex40.MatchString(v) {
			return strings.ToLower(v)
		}
	}
	for _, alg := range slices.Sorted(maps.Keys(m)) {
		if v := strings.TrimSpace(m[alg]); hex40.MatchString(v) {
			return strings.ToLower(v)
		}
	}
	return ""
}

// validKeys drops keys the graph would reject (no scheme, too long) and
// duplicates.
func validKeys(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		nk, err := graph.NormalizeKey(k)
		if err != nil || slices.Contains(out, nk) {
			continue
		}
		out = append(out, nk)
	}
	return out
}

// --- URIs

func stripQuery(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		return s[:i]
	}
	return s
}

// --- Hugging Face (the grammar is graph/ref's)

// hfKeys are the keys of h's repository as a model or, when dataset, a
// dataset node (an annotation may say which, whatever the reference said).
func hfKeys(h graphref.HF, dataset bool) []string {
	h.Dataset = dataset
	return h.Keys()
}

// --- purls

func parsePurl(ref string) (packageurl.PackageURL, bool) {
	if !strings.HasPrefix(ref, graph.SchemePurl) {
		return packageurl.PackageURL{}, false
	}
	p, err := packageurl.FromString(ref)
	if err != nil {
		return p, false
	}
	return p, true
}

// --- container images

type imageRef struct {
	name   string // registry/repository
	tag    string
	digest string // alg:hex, normalised
	purl   string
}

func (i imageRef) digestKeys() []string {
	if i.digest == "" {
		return nil
	}
	return []string{i.digest}
}

// parseImage recognises oci://, docker://, docker-pullable:// references,
// pkg:oci and pkg:docker purls, and OCI media types.
func parseImage(ref, mediaType string, purl packageurl.PackageURL, isPurl bool) (imageRef, bool) {
	if isPurl {
		if purl.Type != "oci" && purl.Type != "docker" {
			return imageRef{}, false
		}
		img := imageRef{name: strings.Trim(purl.Namespace+"/"+purl.Name, "/"), purl: ref}
		if k, err := graph.NormalizeKey(purl.Version); err == nil && graph.IsDigestKey(k) {
			img.digest = k
		}
		if repo := purl.Qualifiers.Map()["repository_url"]; repo != "" {
			img.name = repo
		}
		return img, true
	}
	gi, ok := graphref.ParseImage(ref)
	if !ok {
		mt := strings.ToLower(mediaType)
		if !strings.HasPrefix(mt, "application/vnd.oci.image.") && !strings.HasPrefix(mt, "application/vnd.docker.distribution.") {
			return imageRef{}, false
		}
		rest := ref
		if i := strings.Index(rest, "://"); i > 0 {
			rest = rest[i+3:]
		}
		if gi, ok = graphref.ImagePath(rest); !ok {
			return imageRef{}, false
		}
	}
	return imageFrom(gi), true
}

// imageFrom adds the pkg:oci purl to an image reference read by graph/ref.
func imageFrom(gi graphref.Image) imageRef {
	return imageRef{name: gi.Name, tag: gi.Tag, digest: gi.Digest, purl: ociPurl(gi.Name, gi.Tag, gi.Digest)}
}

// ociPurl builds pkg:oci/<name>@<digest>?repository_url=<registry/repo>.
func ociPurl(name, tag, digest string) string {
	last := name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		last = name[i+1:]
	}
	q := map[string]string{"repository_url": name}
	if digest == "" && tag != "" {
		q["tag"] = tag
	}
	p := packageurl.NewPackageURL("oci", "", strings.ToLower(last), digest, packageurl.QualifiersFromMap(q), "")
	return p.ToString()
}

// --- git

type gitRef struct {
	repo   string // canonical git+<scheme>://host/path
	ref    string
	commit string
}

func (g gitRef) key() string {
	if g.commit != "" {
		return g.repo + "@" + g.commit
	}
	return g.repo
}

var scpLike = regexp.MustCompile(`^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):([^/].*)$`)

// parseGit recognises git repositories: git+<scheme>:// and git:// URIs,
// scp-like ssh addresses, repository URLs on the big forges, Azure DevOps
// _git paths and paths ending in .git.
func parseGit(ref string, digest map[string]string) (gitRef, bool) {
	ref = strings.TrimSpace(ref)
	explicit := false
	raw := ref
	switch lower := strings.ToLower(ref); {
	case strings.HasPrefix(lower, "git+"):
		raw = ref[4:]
		explicit = true
	case strings.HasPrefix(lower, "git://"):
		explicit = true
	default:
		if m := scpLike.FindStringSubmatch(ref); m != nil {
			raw = "ssh://" + m[1] + "/" + m[2]
			explicit = true
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Scheme == "" {
		return gitRef{}, false
	}
	p := u.Path
	var gref string
	if i := strings.IndexByte(p, '@'); i >= 0 {
		gref = p[i+1:]
		p = p[:i]
	}
	p = strings.TrimSuffix(strings.TrimRight(p, "/"), ".git")
	host := strings.ToLower(u.Hostname())
	if !explicit {
		if u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "ssh" {
			return gitRef{}, false
		}
		segs := strings.Split(strings.Trim(p, "/"), "/")
		switch {
		case strings.HasSuffix(strings.TrimRight(u.Path, "/"), ".git"):
		case host == "github.com" || host == "bitbucket.org" || host == "codeberg.org":
			if len(segs) != 2 {
				return gitRef{}, false
			}
		case host == "gitlab.com":
			if len(segs) < 2 || slices.Contains(segs, "-") {
				return gitRef{}, false
			}
		case len(segs) >= 2 && segs[len(segs)-2] == "_git":
		default:
			return gitRef{}, false
		}
	}
	if p == "" || p == "/" {
		return gitRef{}, false
	}
	g := gitRef{repo: "git+" + strings.ToLower(u.Scheme) + "://" + host + p, ref: gref}
	if u.Port() != "" {
		g.repo = "git+" + strings.ToLower(u.Scheme) + "://" + host + ":" + u.Port() + p
	}
	g.commit = commitOf(digest)
	if g.commit == "" && hex40.MatchString(gref) {
		g.commit = strings.ToLower(gref)
	}
	return g, true
}
