package ref

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/modelgraph/modelgraph/graph"
)

// Digest is the key of a digest: the algorithm normalised, the hex lower
// case ("SHA-256", "ABC..." -> "sha256:abc..."). Non-hex values and wrong
// lengths for known algorithms are errors.
func Digest(alg, hex string) (string, error) { return graph.DigestKey(alg, hex) }

// Name is the key of a human name ("acme/llm-7b" -> "name:acme/llm-7b").
func Name(name string) string { return graph.NameKey(name) }

// Identity is the key of a certificate identity (issuer and subject).
func Identity(issuer, subject string) string { return graph.IdentityKey(issuer, subject) }

// PublicKey is the key of a signing key named by its hint or fingerprint.
func PublicKey(hint string) string { return graph.PublicKeyKey(hint) }

// Advisory is the key of an advisory id.
func Advisory(id string) string { return graph.SchemeAdvisory + strings.TrimSpace(id) }

// Vuln is the key of a vulnerability id (CVE-..., GHSA-...).
func Vuln(id string) string { return graph.SchemeVuln + strings.TrimSpace(id) }

// Run is the key of a training or build run. Invocation ids are unique per
// builder only, so the key joins both when the builder is known; a run
// without an invocation id is the document's own (pass its digest as id).
func Run(builder, invocation string) string {
	if builder != "" {
		return graph.SchemeRun + builder + "|" + invocation
	}
	return graph.SchemeRun + invocation
}

// Deployment is the key of a deployment location:
// deployment:<environment>/<cluster>/<namespace>/<service>, "-" for a part
// that is not known.
func Deployment(environment, cluster, namespace, service string) string {
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return graph.SchemeDeployment + dash(environment) + "/" + dash(cluster) + "/" + dash(namespace) + "/" + dash(service)
}

// DeploymentPolicy is the key of a deployment named only by the policy
// that admitted it.
func DeploymentPolicy(id string) string {
	return graph.SchemeDeployment + "policy/" + strings.TrimSpace(id)
}

// Purl checks that s is a package URL (read by packageurl-go) and returns
// it trimmed, as written: purl keys are stored as documents write them.
func Purl(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, graph.SchemePurl) {
		return "", false
	}
	if _, err := packageurl.FromString(s); err != nil {
		return "", false
	}
	return s, true
}

// IsURI reports whether s has the <scheme>://... shape of a URI key.
func IsURI(s string) bool {
	i := strings.Index(s, "://")
	return i > 0 && !strings.ContainsAny(s[:i], " /:")
}

// URI is the key of a location (s3://, gs://, https://, git+https://...):
// trimmed, userinfo dropped, so credentials never become keys.
func URI(s string) string {
	s = strings.TrimSpace(s)
	if !IsURI(s) {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = nil
	return u.String()
}

// --- container images

// Image is a container image reference: oci://, docker:// or
// docker-pullable:// followed by registry/repository[:tag][@digest].
type Image struct {
	Name   string // registry/repository
	Tag    string
	Digest string // a normalised digest key, "" when not pinned
}

// imageSchemes are the URI schemes of container image references.
var imageSchemes = []string{"oci://", "docker://", "docker-pullable://"}

// OCI is the oci:// reference of an image repository pinned to digest
// (a digest key, "" for none).
func OCI(repository, digest string) string {
	if digest == "" {
		return imageSchemes[0] + repository
	}
	return imageSchemes[0] + repository + "@" + digest
}

// ParseImage reads oci://, docker:// and docker-pullable:// references.
func ParseImage(s string) (Image, bool) {
	var rest string
	for _, scheme := range imageSchemes {
		if len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) {
			rest = s[len(scheme):]
		}
	}
	if rest == "" {
		return Image{}, false
	}
	return ImagePath(rest)
}

// ImagePath reads registry/repository[:tag][@digest] without a scheme.
func ImagePath(rest string) (Image, bool) {
	img := Image{Name: rest}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		img.Name = rest[:i]
		if k, err := graph.NormalizeKey(rest[i+1:]); err == nil && graph.IsDigestKey(k) {
			img.Digest = k
		}
	}
	slash := strings.LastIndexByte(img.Name, '/')
	if c := strings.LastIndexByte(img.Name, ':'); c > slash {
		img.Tag = img.Name[c+1:]
		img.Name = img.Name[:c]
	}
	if img.Name == "" {
		return Image{}, false
	}
	return img, true
}

// --- Hugging Face

// HF is a Hugging Face repository reference.
type HF struct {
	ID       string // "org/name", or a legacy "name"
	Dataset  bool
	Revision string // "" when the reference pins none
}

// Key is the repository's node key: hf://<id> for a model,
// hf://datasets/<id> for a dataset. The revision is not part of it.
func (h HF) Key() string {
	if h.Dataset {
		return graph.SchemeHFDatasets + h.ID
	}
	return graph.SchemeHF + h.ID
}

// Keys are the keys ingest writes for the repository: Key, then name:<id>.
func (h HF) Keys() []string { return []string{h.Key(), Name(h.ID)} }

// String is the hf:// reference, with @revision when pinned.
func (h HF) String() string {
	if h.Revision != "" {
		return h.Key() + "@" + h.Revision
	}
	return h.Key()
}

// HFModel is the key of the Hugging Face model repository id.
func HFModel(id string) string { return HF{ID: id}.Key() }

// HFDataset is the key of the Hugging Face dataset repository id.
func HFDataset(id string) string { return HF{ID: id, Dataset: true}.Key() }

var hfSegment = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$`)

// hfReserved are huggingface.co paths that are not repositories.
var hfReserved = map[string]bool{
	"api": true, "docs": true, "blog": true, "spaces": true, "models": true,
	"pricing": true, "login": true, "join": true, "settings": true,
	"organizations": true, "new": true, "collections": true, "papers": true,
	"learn": true, "tasks": true, "chat": true, "posts": true,
}

// hfWebVerbs follow the repository id in huggingface.co URLs, before a
// revision.
var hfWebVerbs = map[string]bool{"tree": true, "resolve": true, "blob": true, "commit": true}

// hfWebPrefixes are the web addresses of the hub (lower case). http:// is
// normalised to the same repository: a key names a repository, not a
// transport.
var hfWebPrefixes = []string{
	"https://huggingface.co/", "https://hf.co/", "https://www.huggingface.co/",
	"http://huggingface.co/", "http://hf.co/", "http://www.huggingface.co/",
}

// ValidHFID reports whether id is a Hugging Face repository id ("org/name"
// or a legacy "name").
func ValidHFID(id string) bool {
	segs := strings.Split(id, "/")
	if len(segs) > 2 {
		return false
	}
	for _, s := range segs {
		if !hfSegment.MatchString(s) || strings.Contains(s, "..") {
			return false
		}
	}
	return true
}

// ParseHF recognises a Hugging Face repository reference:
// hf://[datasets/]org/name[@rev][/path], the hub's web addresses
// (https://huggingface.co/[datasets/]org/name[/tree|resolve|blob|commit/<rev>/...],
// hf.co, www., http://) and pkg:huggingface/org/name[@rev] purls
// (?repository_type=dataset for datasets).
func ParseHF(ref string) (HF, bool) {
	var h HF
	var rest string
	web := false
	lower := strings.ToLower(ref)
	switch {
	case strings.HasPrefix(lower, graph.SchemeHF):
		rest = ref[len(graph.SchemeHF):]
	case strings.HasPrefix(ref, "pkg:huggingface/"):
		p, err := packageurl.FromString(ref)
		if err != nil {
			return h, false
		}
		h.ID = strings.Trim(p.Namespace+"/"+p.Name, "/")
		h.Revision = p.Version // lower case: the purl spec's huggingface rule
		q := p.Qualifiers.Map()
		h.Dataset = q["repository_type"] == "dataset" || q["repo_type"] == "dataset"
		return h, ValidHFID(h.ID)
	default:
		for _, p := range hfWebPrefixes {
			if strings.HasPrefix(lower, p) {
				rest = ref[len(p):]
				web = true
				break
			}
		}
		if !web {
			return h, false
		}
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	switch segs[0] {
	case "datasets":
		h.Dataset = true
		segs = segs[1:]
	case "spaces":
		return h, false
	case "models":
		if !web {
			segs = segs[1:]
		}
	}
	if len(segs) == 0 || segs[0] == "" || (web && !h.Dataset && hfReserved[segs[0]]) {
		return HF{}, false
	}
	idSegs := segs
	if len(segs) >= 2 {
		idSegs = segs[:2]
	}
	if web && len(segs) >= 2 && hfWebVerbs[segs[1]] {
		idSegs = segs[:1] // a legacy id without an organisation
	}
	// hf://org/name@rev: the revision rides on the last id segment.
	last := idSegs[len(idSegs)-1]
	if i := strings.IndexByte(last, '@'); i >= 0 {
		h.Revision = last[i+1:]
		idSegs = append(slices.Clone(idSegs[:len(idSegs)-1]), last[:i])
	}
	h.ID = strings.Join(idSegs, "/")
	if web && len(segs) > len(idSegs)+1 && hfWebVerbs[segs[len(idSegs)]] {
		h.Revision = segs[len(idSegs)+1]
	}
	if !ValidHFID(h.ID) {
		return HF{}, false
	}
	return h, true
}
