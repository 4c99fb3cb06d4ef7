package ref_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
	"github.com/modelgraph/modelgraph/graph/ref"
)

const (
	hex64  = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
	hex40  = "0123456789abcdef0123456789abcdef01234567"
	hex96  = "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"
	hex128 = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		id   graph.NodeID
		keys []string
		rev  string // the HF revision kept aside
	}{
		// node ids, digests
		{in: "0123456789abcdef0123456789abcdef", id: "0123456789abcdef0123456789abcdef"},
		{in: " 0123456789ABCDEF0123456789ABCDEF ", id: "0123456789abcdef0123456789abcdef"},
		{in: "sha256:" + hex64, keys: []string{"sha256:" + hex64}},
		{in: "SHA-256:" + strings.ToUpper(hex64), keys: []string{"sha256:" + hex64}},
		{in: "sha2-256:" + hex64, keys: []string{"sha256:" + hex64}},
		{in: hex64, keys: []string{"sha256:" + hex64}},
		{in: strings.ToUpper(hex64), keys: []string{"sha256:" + hex64}},
		{in: hex96, keys: []string{"sha384:" + hex96}},
		{in: hex128, keys: []string{"sha512:" + hex128}},
		{in: "sha512:" + hex128, keys: []string{"sha512:" + hex128}},
		{in: "md5:d41d8cd98f00b204e9800998ecf8427e", keys: []string{"md5:d41d8cd98f00b204e9800998ecf8427e"}},
		{in: "sha1:" + hex40, keys: []string{"sha1:" + hex40}},
		{in: "blake3:" + hex64, keys: []string{"blake3:" + hex64}},
		// Hugging Face, every spelling of one repository
		{in: "hf://acme/llm-7b", keys: []string{"hf://acme/llm-7b", "name:acme/llm-7b"}},
		{in: "hf://acme/llm-7b@main", keys: []string{"hf://acme/llm-7b", "name:acme/llm-7b", "hf://acme/llm-7b@main"}, rev: "main"},
		{in: "hf://models/acme/llm-7b", keys: []string{"hf://acme/llm-7b", "name:acme/llm-7b", "hf://models/acme/llm-7b"}},
		{in: "HF://acme/llm-7b", keys: []string{"hf://acme/llm-7b", "name:acme/llm-7b", "HF://acme/llm-7b"}},
		{in: "https://huggingface.co/acme/llm-7b", keys: []string{"hf://acme/llm-7b", "name:acme/llm-7b", "https://huggingface.co/acme/llm-7b"}},
		{in: "https://huggingface.co/acme/llm-7b/", keys: []string{"hf://acme/llm-7b", "name:acme/llm-7b", "https://huggingface.co/acme/llm-7b/"}},
		{in: "https://huggingface.co/acme/llm-7b/tree/v1.0", keys: []string{"hf://acme/llm-7b", "name:acme/llm-7b", "https://huggingface.co/acme/llm-7b/tree/v1.0"}, rev: "v1.0"},
		{in: "https://huggingface.co/acme/llm-7b/resolve/" + hex40 + "/model.safetensors", keys: []string{"hf://acme/llm-7b", "name:acme/llm-7b", "https://huggingface.co/acme/llm-7b/resolve/" + hex40 + "/model.safetensors"}, rev: hex40},
		{in: "https://hf.co/acme/llm-7b?x=1", keys: []string{"hf://acme/llm-7b", "name:acme/llm-7b", "https://hf.co/acme/llm-7b?x=1"}},
		{in: "https://www.huggingface.co/acme/llm-7b#top", keys: []string{"hf://acme/llm-7b", "name:acme/llm-7b", "https://www.huggingface.co/acme/llm-7b#top"}},
		{in: "http://huggingface.co/acme/llm-7b", keys: []string{"hf://acme/llm-7b", "name:acme/llm-7b", "http://huggingface.co/acme/llm-7b"}},
		{in: "https://huggingface.co/gpt2/tree/main", keys: []string{"hf://gpt2", "name:gpt2", "https://huggingface.co/gpt2/tree/main"}, rev: "main"},
		{in: "hf://datasets/acme/clinical-notes", keys: []string{"hf://datasets/acme/clinical-notes", "name:acme/clinical-notes"}},
		{in: "https://huggingface.co/datasets/acme/clinical-notes/tree/main", keys: []string{"hf://datasets/acme/clinical-notes", "name:acme/clinical-notes", "https://huggingface.co/datasets/acme/clinical-notes/tree/main"}, rev: "main"},
		{in: "pkg:huggingface/acme/llm-7b@" + hex40, keys: []string{"pkg:huggingface/acme/llm-7b@" + hex40, "hf://acme/llm-7b", "name:acme/llm-7b"}, rev: hex40},
		{in: "pkg:huggingface/acme/notes?repository_type=dataset", keys: []string{"pkg:huggingface/acme/notes?repository_type=dataset", "hf://datasets/acme/notes", "name:acme/notes"}},
		// web pages that are no repository: only the URI itself
		{in: "https://huggingface.co/docs/hub", keys: []string{"https://huggingface.co/docs/hub"}},
		{in: "https://huggingface.co/spaces/acme/demo", keys: []string{"https://huggingface.co/spaces/acme/demo"}},
		// other URIs
		{in: "s3://acme-datasets/clinical-notes/v3/", keys: []string{"s3://acme-datasets/clinical-notes/v3/"}},
		{in: "s3://user:secret@acme-datasets/x/", keys: []string{"s3://acme-datasets/x/"}},
		{in: "gs://bucket/data.parquet", keys: []string{"gs://bucket/data.parquet"}},
		{in: "git+https://github.com/acme/train@" + hex40, keys: []string{"git+https://github.com/acme/train@" + hex40}},
		{in: "oci://ghcr.io/acme/server@sha256:" + hex64, keys: []string{"oci://ghcr.io/acme/server@sha256:" + hex64, "sha256:" + hex64}},
		{in: "oci://ghcr.io/acme/server:1.0", keys: []string{"oci://ghcr.io/acme/server:1.0"}},
		// keys with their scheme
		{in: "pkg:pypi/torch@2.1.0", keys: []string{"pkg:pypi/torch@2.1.0"}},
		{in: "name:acme/llm-7b", keys: []string{"name:acme/llm-7b"}},
		{in: "deployment:prod/eu-1/chat/api", keys: []string{"deployment:prod/eu-1/chat/api"}},
		{in: "advisory:ACME-2026-001", keys: []string{"advisory:ACME-2026-001"}},
		{in: "vuln:CVE-2024-3568", keys: []string{"vuln:CVE-2024-3568"}},
		{in: "key:oms-key-1", keys: []string{"key:oms-key-1"}},
		{in: "oidc:https://accounts.google.com|a@b.c", keys: []string{"oidc:https://accounts.google.com|a@b.c"}},
		{in: "run:builder|42", keys: []string{"run:builder|42"}},
		// a colon that is no scheme
		{in: "llama3:8b", keys: []string{"llama3:8b", "name:llama3:8b"}},
		{in: "clinical-notes:v3", keys: []string{"clinical-notes:v3", "name:clinical-notes:v3"}},
		// bare names
		{in: "acme/llm-7b", keys: []string{"name:acme/llm-7b", "hf://acme/llm-7b", "advisory:acme/llm-7b", "deployment:acme/llm-7b"}},
		{in: "acme/llm-7b@main", keys: []string{"name:acme/llm-7b@main", "hf://acme/llm-7b", "advisory:acme/llm-7b@main", "deployment:acme/llm-7b@main"}, rev: "main"},
		{in: "clinical-notes@v3", keys: []string{"name:clinical-notes@v3", "hf://clinical-notes", "advisory:clinical-notes@v3", "deployment:clinical-notes@v3"}, rev: "v3"},
		{in: "CVE-2024-3568", keys: []string{"name:CVE-2024-3568", "hf://CVE-2024-3568", "vuln:CVE-2024-3568", "advisory:CVE-2024-3568", "deployment:CVE-2024-3568"}},
		{in: "ghsa-xxxx-yyyy-zzzz", keys: []string{"name:ghsa-xxxx-yyyy-zzzz", "hf://ghsa-xxxx-yyyy-zzzz", "vuln:ghsa-xxxx-yyyy-zzzz", "advisory:ghsa-xxxx-yyyy-zzzz", "deployment:ghsa-xxxx-yyyy-zzzz"}},
		{in: "prod/eu-1/chat/api", keys: []string{"name:prod/eu-1/chat/api", "advisory:prod/eu-1/chat/api", "deployment:prod/eu-1/chat/api"}},
		{in: "my model", keys: []string{"name:my model", "advisory:my model", "deployment:my model"}},
	} {
		r, err := ref.Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if r.ID != c.id || !slices.Equal(r.Keys, c.keys) {
			t.Errorf("Parse(%q) = id %q keys %q, want id %q keys %q", c.in, r.ID, r.Keys, c.id, c.keys)
		}
		rev := ""
		if r.HF != nil {
			rev = r.HF.Revision
		}
		if rev != c.rev {
			t.Errorf("Parse(%q): revision %q, want %q", c.in, rev, c.rev)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "empty"},
		{"   ", "empty"},
		{strings.Repeat("a", ref.MaxLen+1), "bytes, limit"},
		{"acme/\x00x", "control or invalid character"},
		{"acme/\xffx", "control or invalid character"},
		{"sha256:zz", "not hex"},
		{"sha256:abcd", "has 4 hex characters, want 64"},
		{"SHA-256:", "empty"},
		{"md5:" + hex64, "want 32"},
	} {
		_, err := ref.Parse(c.in)
		var e *ref.Error
		if err == nil || !errors.Is(err, ref.ErrInvalid) || !errors.As(err, &e) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%.40q) = %v, want an ErrInvalid error containing %q", c.in, err, c.want)
		}
	}
}

func TestParseHF(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
		h  ref.HF
	}{
		{"hf://acme/x", true, ref.HF{ID: "acme/x"}},
		{"hf://acme/x@v1/config.json", true, ref.HF{ID: "acme/x", Revision: "v1"}},
		{"hf://datasets/acme/d", true, ref.HF{ID: "acme/d", Dataset: true}},
		{"https://huggingface.co/acme/x/blob/main/README.md", true, ref.HF{ID: "acme/x", Revision: "main"}},
		{"https://huggingface.co/acme/x/commit/" + hex40, true, ref.HF{ID: "acme/x", Revision: hex40}},
		{"http://hf.co/datasets/acme/d", true, ref.HF{ID: "acme/d", Dataset: true}},
		{"pkg:huggingface/acme/x@v2", true, ref.HF{ID: "acme/x", Revision: "v2"}},
		{"pkg:huggingface/Acme/X@ABCDEF", true, ref.HF{ID: "Acme/X", Revision: "abcdef"}},
		{"pkg:huggingface/acme/d?repo_type=dataset", true, ref.HF{ID: "acme/d", Dataset: true}},
		{"pkg:huggingface/ac%6De/x", true, ref.HF{ID: "acme/x"}},
		{"hf://", false, ref.HF{}},
		{"hf://a/b/c/d", true, ref.HF{ID: "a/b"}},
		{"hf://../x", false, ref.HF{}},
		{"hf://acme/x..y", false, ref.HF{}},
		{"https://huggingface.co/models", false, ref.HF{}},
		{"https://huggingface.co/spaces/a/b", false, ref.HF{}},
		{"https://example.com/acme/x", false, ref.HF{}},
		{"pkg:pypi/acme", false, ref.HF{}},
		{"pkg:huggingface/", false, ref.HF{}},
	} {
		h, ok := ref.ParseHF(c.in)
		if ok != c.ok || (ok && h != c.h) {
			t.Errorf("ParseHF(%q) = %+v, %v; want %+v, %v", c.in, h, ok, c.h, c.ok)
		}
	}
	if k := (ref.HF{ID: "acme/d", Dataset: true, Revision: "v1"}); k.Key() != "hf://datasets/acme/d" || k.String() != "hf://datasets/acme/d@v1" ||
		!slices.Equal(k.Keys(), []string{"hf://datasets/acme/d", "name:acme/d"}) {
		t.Errorf("HF keys: %q %q %q", k.Key(), k.String(), k.Keys())
	}
}

func TestConstructors(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{ref.Name(" acme/x "), "name:acme/x"},
		{ref.HFModel("acme/x"), "hf://acme/x"},
		{ref.HFDataset("acme/d"), "hf://datasets/acme/d"},
		{ref.Advisory("ACME-1"), "advisory:ACME-1"},
		{ref.Vuln("CVE-2024-1"), "vuln:CVE-2024-1"},
		{ref.Run("", "sha256:"+hex64), "run:sha256:" + hex64},
		{ref.Run("https://builder", "42"), "run:https://builder|42"},
		{ref.Deployment("prod", "", "chat", "api"), "deployment:prod/-/chat/api"},
		{ref.Deployment("", "", "ns", "svc"), "deployment:-/-/ns/svc"},
		{ref.DeploymentPolicy("p1"), "deployment:policy/p1"},
		{ref.Identity("https://issuer", "a@b.c"), "oidc:https://issuer|a@b.c"},
		{ref.PublicKey("abc"), "key:abc"},
		{ref.URI(" s3://u:p@bucket/x "), "s3://bucket/x"},
		{ref.URI("https://example.com/x"), "https://example.com/x"},
		{ref.OCI("ghcr.io/acme/x", "sha256:"+hex64), "oci://ghcr.io/acme/x@sha256:" + hex64},
		{ref.OCI("ghcr.io/acme/x", ""), "oci://ghcr.io/acme/x"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
		if _, err := graph.NormalizeKey(c.got); err != nil {
			t.Errorf("%q is not a valid key: %v", c.got, err)
		}
	}
	if k, err := ref.Digest("SHA-256", strings.ToUpper(hex64)); err != nil || k != "sha256:"+hex64 {
		t.Errorf("Digest = %q, %v", k, err)
	}
	if _, err := ref.Digest("sha256", "xyz"); err == nil {
		t.Error("Digest accepted non-hex")
	}
	if p, ok := ref.Purl(" pkg:pypi/torch@2 "); !ok || p != "pkg:pypi/torch@2" {
		t.Errorf("Purl = %q, %v", p, ok)
	}
	for _, bad := range []string{"pkg:", "pkg:pypi", "pkg:pypi/", "pypi/torch", "pkg:/x"} {
		if _, ok := ref.Purl(bad); ok {
			t.Errorf("Purl(%q) accepted", bad)
		}
	}
	img, ok := ref.ParseImage("docker://Registry:5000/acme/x:1.2@SHA256:" + strings.ToUpper(hex64))
	if !ok || img != (ref.Image{Name: "Registry:5000/acme/x", Tag: "1.2", Digest: "sha256:" + hex64}) {
		t.Errorf("ParseImage = %+v, %v", img, ok)
	}
	if _, ok := ref.ParseImage("oci://"); ok {
		t.Error("ParseImage accepted an empty reference")
	}
}

func TestDisplayName(t *testing.T) {
	at := func(kv ...string) []graph.Attr {
		var as []graph.Attr
		for i := 0; i < len(kv); i += 2 {
			as = append(as, graph.Attr{Name: kv[i], Value: kv[i+1]})
		}
		return as
	}
	for _, c := range []struct {
		n            graph.Node
		display, nam string
	}{
		{graph.Node{Kind: graph.KindModel, Keys: []string{"sha256:" + hex64, "hf://acme/x", "name:acme/x"}, Attrs: at("name", "acme/x", "version", "1.2")}, "acme/x@1.2", "acme/x"},
		{graph.Node{Kind: graph.KindDataset, Attrs: at("name", "clinical-notes@v3", "version", "v3")}, "clinical-notes@v3", "clinical-notes@v3"},
		{graph.Node{Kind: graph.KindModel, Attrs: at("name", " ", "modelName", "Pretty")}, "Pretty", "Pretty"},
		{graph.Node{Kind: graph.KindModel, Keys: []string{"name:acme/x"}, Attrs: at("version", "9")}, "acme/x", "acme/x"},
		{graph.Node{Kind: graph.KindVulnerability, Keys: []string{"vuln:CVE-1"}, Attrs: at("advisoryId", "CVE-1")}, "CVE-1", "CVE-1"},
		{graph.Node{Kind: graph.KindAdvisory, Keys: []string{"advisory:A-1"}}, "A-1", "A-1"},
		{graph.Node{Kind: graph.KindDeployment, Keys: []string{"deployment:prod/-/chat/api"}}, "prod/-/chat/api", "prod/-/chat/api"},
		{graph.Node{Kind: graph.KindDocument, Keys: []string{"sha256:" + hex64}, Attrs: at("type", "oms")}, "oms sha256:" + hex64, "oms sha256:" + hex64},
		{graph.Node{Kind: graph.KindIdentity, Keys: []string{"key:k1"}, Attrs: at("keyId", "k1")}, "key k1", "key k1"},
		{graph.Node{Kind: graph.KindIdentity, Keys: []string{"oidc:i|s"}, Attrs: at("identity", "s")}, "s", "s"},
		{graph.Node{Kind: graph.KindPackage, Keys: []string{"sha256:" + hex64, "pkg:pypi/torch@2.1.0"}}, "pkg:pypi/torch@2.1.0", "pkg:pypi/torch@2.1.0"},
		{graph.Node{Kind: graph.KindModel, Keys: []string{"sha256:" + hex64, "hf://acme/x"}}, "hf://acme/x", "hf://acme/x"},
		{graph.Node{Kind: graph.KindDataset, Keys: []string{"sha256:" + hex64, "s3://b/d/"}}, "s3://b/d/", "s3://b/d/"},
		{graph.Node{Kind: graph.KindTrainingRun, Keys: []string{"sha256:" + hex64, "run:x|1"}}, "run:x|1", "run:x|1"},
		{graph.Node{Kind: graph.KindFile, Keys: []string{"sha256:" + hex64}}, "sha256:" + hex64, "sha256:" + hex64},
		{graph.Node{ID: "0123456789abcdef0123456789abcdef", Kind: graph.KindFile}, "0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"},
	} {
		if got := ref.DisplayName(c.n); got != c.display {
			t.Errorf("DisplayName(%+v) = %q, want %q", c.n, got, c.display)
		}
		if got := ref.NameOf(c.n); got != c.nam {
			t.Errorf("NameOf(%+v) = %q, want %q", c.n, got, c.nam)
		}
	}
}

func TestSignerLabel(t *testing.T) {
	for _, c := range []struct {
		s    graph.Signature
		want string
	}{
		{graph.Signature{Method: "keyless", Identity: "a@b.c", Issuer: "https://accounts.google.com"}, "a@b.c (https://accounts.google.com)"},
		{graph.Signature{Method: "certificate", Identity: "CN=acme"}, "CN=acme"},
		{graph.Signature{Method: "key", KeyID: "k1"}, "key k1"},
		{graph.Signature{Method: "legacy"}, "unnamed legacy signer"},
		{graph.Signature{}, "unnamed signer"},
	} {
		if got := ref.SignerLabel(c.s); got != c.want {
			t.Errorf("SignerLabel(%+v) = %q, want %q", c.s, got, c.want)
		}
	}
}

// TestLookup resolves every spelling of a stored model against a real
// store: the first candidate key that names a node wins.
func TestLookup(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := graph.NewBatch(graph.Document{Digest: "sha256:" + strings.Repeat("1", 64), Type: "test"})
	m := b.Node(graph.KindModel, append([]string{"sha256:" + hex64}, ref.HF{ID: "acme/llm-7b"}.Keys()...)...)
	f := b.Node(graph.KindFile, "sha256:"+strings.Repeat("a", 64))
	b.Edge(m, graph.Contains, f)
	b.Node(graph.KindDeployment, ref.Deployment("acme", "", "", "llm-7b"))
	if _, err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	model, err := s.Lookup(ctx, "hf://acme/llm-7b")
	if err != nil || len(model) != 1 {
		t.Fatalf("lookup: %v %v", model, err)
	}
	for _, in := range []string{"acme/llm-7b", "hf://acme/llm-7b", "hf://acme/llm-7b@main", "https://huggingface.co/acme/llm-7b/tree/main",
		"http://huggingface.co/acme/llm-7b", "pkg:huggingface/acme/llm-7b@v1", "name:acme/llm-7b", hex64, "SHA-256:" + strings.ToUpper(hex64), string(model[0].ID)} {
		found, _, err := ref.Lookup(ctx, s, ref.MustParse(in), nil)
		if err != nil || len(found) != 1 || found[0].ID != model[0].ID {
			t.Errorf("Lookup(%q) = %v, %v; want the model", in, found, err)
		}
	}
	// want refuses the file: it comes back among the others, and the
	// model containing it is found instead.
	found, others, err := ref.Lookup(ctx, s, ref.MustParse(strings.Repeat("a", 64)), func(n graph.Node) bool { return n.Kind == graph.KindModel })
	if err != nil || len(found) != 1 || found[0].ID != model[0].ID || len(others) != 1 || others[0].Kind != graph.KindFile {
		t.Errorf("Lookup(file digest, models) = %v, %v, %v", found, others, err)
	}
	// Deployments wanted: the file is no deployment and neither is its model.
	found, _, err = ref.Lookup(ctx, s, ref.MustParse(strings.Repeat("a", 64)), func(n graph.Node) bool { return n.Kind == graph.KindDeployment })
	if err != nil || len(found) != 0 {
		t.Errorf("Lookup(file digest, deployments) = %v, %v", found, err)
	}
	// The key order decides: "acme/-/-/llm-7b" names only the deployment.
	found, _, err = ref.Lookup(ctx, s, ref.MustParse("acme/-/-/llm-7b"), nil)
	if err != nil || len(found) != 1 || found[0].Kind != graph.KindDeployment {
		t.Errorf("Lookup(deployment) = %v, %v", found, err)
	}
	found, others, err = ref.Lookup(ctx, s, ref.MustParse("nobody/nothing"), nil)
	if err != nil || len(found)+len(others) != 0 {
		t.Errorf("Lookup(unknown) = %v, %v, %v", found, others, err)
	}
}

// FuzzParse: Parse never panics; it names something or fails with
// ErrInvalid; its keys are normalised; parsing its Raw again is stable.
func FuzzParse(f *testing.F) {
	file, err := os.Open("testdata/refs.txt")
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		f.Add(sc.Text())
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ref.Parse(s)
		if err != nil {
			if !errors.Is(err, ref.ErrInvalid) {
				t.Fatalf("Parse(%q): error %v is not ErrInvalid", s, err)
			}
			return
		}
		if r.ID == "" && len(r.Keys) == 0 {
			t.Fatalf("Parse(%q) = %+v: names nothing", s, r)
		}
		if r.ID != "" && !r.ID.Valid() {
			t.Fatalf("Parse(%q): invalid id %q", s, r.ID)
		}
		for _, k := range r.Keys {
			if nk, err := graph.NormalizeKey(k); err != nil || nk != k {
				t.Fatalf("Parse(%q): key %q is not normalised (%q, %v)", s, k, nk, err)
			}
		}
		again, err := ref.Parse(r.Raw)
		if err != nil || again.ID != r.ID || !slices.Equal(again.Keys, r.Keys) {
			t.Fatalf("Parse is not stable on %q: %+v then %+v, %v", s, r, again, err)
		}
	})
}
