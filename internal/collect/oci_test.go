package collect_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sirupsen/logrus"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/ingest/envelope/envelopetest"
	"github.com/modelgraph/modelgraph/ingest/trust"
	"github.com/modelgraph/modelgraph/internal/collect"
)

// distributionRegistry runs the CNCF distribution registry (in-memory
// storage) on loopback. It has no referrers API: attachments are found
// through the referrers tag schema.
func distributionRegistry(t *testing.T) string {
	t.Helper()
	logrus.SetOutput(io.Discard)
	cfg := &configuration.Configuration{
		Storage: configuration.Storage{
			"inmemory":    configuration.Parameters{},
			"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
		},
	}
	cfg.Log.AccessLog.Disabled = true
	cfg.Log.Level = "error"
	app := handlers.NewApp(context.Background(), cfg)
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// ggcrRegistry runs go-containerregistry's in-memory registry with the
// OCI 1.1 referrers API.
func ggcrRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.WithReferrersSupport(true), ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

type layerSpec struct {
	data        []byte
	mediaType   types.MediaType
	annotations map[string]string
}

// push writes an OCI manifest with the given config media type and layers,
// attached to subject when given, under ref (a tag) or by digest.
func push(t *testing.T, repo name.Repository, tag string, configType types.MediaType, subject *v1.Descriptor, layers ...layerSpec) v1.Descriptor {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, configType)
	for _, l := range layers {
		var err error
		img, err = mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(l.data, l.mediaType), Annotations: l.annotations, MediaType: l.mediaType})
		if err != nil {
			t.Fatal(err)
		}
	}
	if subject != nil {
		img = mutate.Subject(img, *subject).(v1.Image)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	var ref name.Reference = repo.Digest(d.String())
	if tag != "" {
		ref = repo.Tag(tag)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	return v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: d, Size: int64(len(raw))}
}

func slsaStatement(t *testing.T, subjectName, digestHex, invocation string) []byte {
	t.Helper()
	return statement(t, subjectName, digestHex, "https://slsa.dev/provenance/v1", map[string]any{
		"buildDefinition": map[string]any{
			"buildType":          "https://ci.acme.example/container-build/v1",
			"externalParameters": map[string]any{"ref": "refs/heads/main"},
		},
		"runDetails": map[string]any{
			"builder":  map[string]any{"id": "https://ci.acme.example/builder"},
			"metadata": map[string]any{"invocationId": invocation},
		},
	})
}

// sbomJSON is a serving image's SBOM as scanners write it: the image as
// metadata.component (no digest: the registry knows it), its packages, and
// the dependency graph.
// trainingStatement is SLSA provenance of a training run: its subject is a
// model.
func trainingStatement(t *testing.T, subjectName, digestHex, invocation string) []byte {
	t.Helper()
	return statement(t, subjectName, digestHex, "https://slsa.dev/provenance/v1", map[string]any{
		"buildDefinition": map[string]any{"buildType": "https://ml.acme.example/buildtypes/training/v1", "externalParameters": map[string]any{"epochs": 3}},
		"runDetails":      map[string]any{"builder": map[string]any{"id": "https://ml.acme.example/runners/gpu"}, "metadata": map[string]any{"invocationId": invocation}},
	})
}

const sbomJSON = `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,` +
	`"metadata":{"component":{"type":"container","bom-ref":"app","name":"acme/app","version":"v1"}},` +
	`"components":[{"type":"library","bom-ref":"tf","name":"transformers","version":"4.30.0","purl":"pkg:pypi/transformers@4.30.0"}],` +
	`"dependencies":[{"ref":"app","dependsOn":["tf"]},{"ref":"tf"}]}`

// supplyChain is what a test pushed and expects collected.
type supplyChain struct {
	image, model           v1.Descriptor
	bundle, att, sbom      []byte // collected from app:v1
	spdx                   []byte
	generic, unknownLayer  []byte
	modelAtt               []byte
	modelFiles             map[string][]byte
	referrersForImage      int
	fallbackTag            name.Tag
	appRepo, llmRepo       name.Repository
	key                    *envelopetest.KeySigner
	bundleLayer, sbomLayer v1.Hash
	bundleManifest         v1.Hash
}

// pushSupplyChain pushes an image with attachments of every kind, and a
// packaged model with a signed attestation.
func pushSupplyChain(t *testing.T, host string) *supplyChain {
	t.Helper()
	sc := &supplyChain{key: envelopetest.NewKeySigner(t)}
	var err error
	if sc.appRepo, err = name.NewRepository(host + "/acme/app"); err != nil {
		t.Fatal(err)
	}
	if sc.llmRepo, err = name.NewRepository(host + "/acme/llm-7b"); err != nil {
		t.Fatal(err)
	}
	sc.image = push(t, sc.appRepo, "v1", types.OCIConfigJSON, nil, layerSpec{data: []byte("app layer"), mediaType: types.OCILayer})
	img := sc.image
	hexd := img.Digest.Hex

	// Referrers.
	sc.bundle = sc.key.Bundle(t, envelopetest.InTotoPayloadType, slsaStatement(t, sc.appRepo.Name(), hexd, "build-1"))
	bundleRef := push(t, sc.appRepo, "", "application/vnd.dev.sigstore.bundle.v0.3+json", &img,
		layerSpec{data: sc.bundle, mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json"})
	sc.bundleManifest = bundleRef.Digest
	sc.bundleLayer = digestOf(sc.bundle)
	sc.sbom = []byte(sbomJSON)
	push(t, sc.appRepo, "", "application/vnd.cyclonedx+json", &img, layerSpec{data: sc.sbom, mediaType: "application/vnd.cyclonedx+json"})
	sc.sbomLayer = digestOf(sc.sbom)
	// oras attach style: a generic layer type, the artifact type says what it is.
	sc.generic = datasetStatement(t, 42)
	sc.unknownLayer = []byte("not evidence")
	push(t, sc.appRepo, "", "application/vnd.in-toto+json", &img,
		layerSpec{data: sc.generic, mediaType: "application/vnd.oci.image.layer.v1.tar", annotations: map[string]string{"org.opencontainers.image.title": "dataset.intoto.json"}})
	push(t, sc.appRepo, "", "application/vnd.example.thing", &img, layerSpec{data: sc.unknownLayer, mediaType: "application/vnd.example.thing.v1"})
	sc.referrersForImage = 4

	// cosign tags.
	sc.att = sc.key.DSSE(t, envelopetest.InTotoPayloadType, slsaStatement(t, sc.appRepo.Name(), hexd, "build-2"))
	push(t, sc.appRepo, "sha256-"+hexd+".att", types.OCIConfigJSON, nil,
		layerSpec{data: sc.att, mediaType: "application/vnd.dsse.envelope.v1+json", annotations: map[string]string{"predicateType": "https://slsa.dev/provenance/v1"}})
	simple := fmt.Sprintf(`{"critical":{"identity":{"docker-reference":%q},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`, sc.appRepo.Name(), img.Digest.String())
	push(t, sc.appRepo, "sha256-"+hexd+".sig", types.OCIConfigJSON, nil,
		layerSpec{data: []byte(simple), mediaType: collect.MediaCosignSimpleSigning, annotations: map[string]string{collect.AnnotationCosignSig: base64.StdEncoding.EncodeToString([]byte("sig"))}})
	// cosign attach sbom --type spdxjson.
	var err2 error
	if sc.spdx, err2 = os.ReadFile("../../testdata/sbom/guac-small-spdx.json"); err2 != nil {
		t.Fatal(err2)
	}
	push(t, sc.appRepo, "sha256-"+hexd+".sbom", types.OCIConfigJSON, nil, layerSpec{data: sc.spdx, mediaType: "text/spdx+json"})
	sc.fallbackTag = sc.appRepo.Tag("sha256-" + hexd)

	// A model packaged as an OCI artifact (CNCF ModelPack), with a signed
	// attestation attached.
	sc.modelFiles = map[string][]byte{"model.safetensors": []byte("weights v1"), "tokenizer.json": []byte(`{"vocab":{}}`)}
	var ls []layerSpec
	for _, n := range []string{"model.safetensors", "tokenizer.json"} {
		ls = append(ls, layerSpec{data: sc.modelFiles[n], mediaType: "application/vnd.cncf.model.weight.v1.raw", annotations: map[string]string{collect.AnnotationTitle: n}})
	}
	sc.model = push(t, sc.llmRepo, "v1", "application/vnd.cncf.model.config.v1+json", nil, ls...)
	model := sc.model
	sc.modelAtt = sc.key.DSSE(t, envelopetest.InTotoPayloadType, trainingStatement(t, "acme/llm-7b", model.Digest.Hex, "train-1"))
	push(t, sc.llmRepo, "", "application/vnd.dsse.envelope.v1+json", &model, layerSpec{data: sc.modelAtt, mediaType: "application/vnd.dsse.envelope.v1+json"})
	return sc
}

func digestOf(b []byte) v1.Hash {
	h, _, err := v1.SHA256(strings.NewReader(string(b)))
	if err != nil {
		panic(err)
	}
	return h
}

func (sc *supplyChain) policy(t *testing.T) *trust.Policy {
	return &trust.Policy{Rules: []trust.Rule{{Name: "ci", Keys: []trust.PublicKey{sc.key.PublicKey(t)}}}}
}

func TestOCICollector(t *testing.T) {
	for _, reg := range []struct {
		name      string
		start     func(*testing.T) string
		referrers bool // serves the referrers API (else: tag schema fallback)
	}{
		{"distribution", distributionRegistry, false},
		{"ggcr-referrers-api", ggcrRegistry, true},
	} {
		t.Run(reg.name, func(t *testing.T) {
			host := reg.start(t)
			sc := pushSupplyChain(t, host)
			checkReferrersPath(t, host, sc, reg.referrers)
			p, store := newPipeline(t, sc.policy(t))

			rec := newRecorder()
			r := &collect.Runner{Pipeline: p, OnOutcome: rec.add, Log: quiet}
			c, err := collect.Parse("oci:"+sc.appRepo.Tag("v1").String()+"?insecure&role=serving-image", collect.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Run(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			for _, o := range rec.all() {
				if o.Err != nil {
					t.Errorf("%s: %v", o.Source, o.Err)
				}
			}
			if st := r.Stats(); st != (collect.Stats{Documents: 5, Ingested: 5, Skipped: 1}) {
				t.Errorf("stats %+v", st)
			}
			var skipped []collect.Outcome
			for _, o := range rec.all() {
				if o.Skipped {
					skipped = append(skipped, o)
				}
			}
			if len(skipped) != 1 || !strings.Contains(skipped[0].Reason, "cosign simple-signing") || !strings.Contains(skipped[0].Reason, ".sig") {
				t.Errorf("skipped: %+v", skipped)
			}

			want := map[string]graph.Status{
				docDigest(t, p, sc.bundle):  graph.StatusVerified,
				docDigest(t, p, sc.att):     graph.StatusVerified,
				graph.SHA256Key(sc.sbom):    graph.StatusUnsigned,
				graph.SHA256Key(sc.generic): graph.StatusUnsigned,
				graph.SHA256Key(sc.spdx):    graph.StatusUnsigned,
			}
			var digests []string
			for d := range want {
				digests = append(digests, d)
			}
			docs := storedDocs(t, store, digests...)
			if len(docs) != len(want) || docCount(t, store) != int64(len(want)) {
				t.Fatalf("store holds %d documents, %d of the expected %d", docCount(t, store), len(docs), len(want))
			}
			for _, d := range docs {
				if d.Status() != want[d.Digest] {
					t.Errorf("%s (%s): status %s, want %s", d.Digest, d.Source, d.Status(), want[d.Digest])
				}
				if d.Digest == docDigest(t, p, sc.bundle) {
					wantSrc := "oci://" + sc.appRepo.Name() + "@" + sc.bundleManifest.String() + "#" + sc.bundleLayer.String()
					if d.Source != wantSrc {
						t.Errorf("bundle source %q, want %q", d.Source, wantSrc)
					}
				}
			}
			// The SBOM describes the image it is attached to.
			img := lookup(t, store, sc.image.Digest.String(), graph.KindPackage)
			var depKeys []string
			for _, e := range edges(t, store, img.ID, graph.Out, graph.DependsOn) {
				depKeys = append(depKeys, node(t, store, e.To).Keys...)
			}
			if !slices.Contains(depKeys, "pkg:pypi/transformers@4.30.0") {
				t.Errorf("image dependencies: %v", depKeys)
			}
			var describedBy []string
			for _, e := range edges(t, store, img.ID, graph.In, graph.Describes) {
				describedBy = append(describedBy, node(t, store, e.From).Keys...)
			}
			for _, d := range [][]byte{sc.sbom, sc.spdx} {
				if !slices.Contains(describedBy, graph.SHA256Key(d)) {
					t.Errorf("SBOM %s does not describe the image (described by %v)", graph.SHA256Key(d), describedBy)
				}
			}
			// The provenance describes the same digest (as a File: the
			// in-toto mapping's kind for build outputs).
			for _, d := range [][]byte{sc.bundle, sc.att} {
				found := false
				for _, n := range lookupAll(t, store, sc.image.Digest.String()) {
					for _, e := range edges(t, store, n.ID, graph.In, graph.Describes) {
						found = found || slices.Contains(node(t, store, e.From).Keys, docDigest(t, p, d))
					}
				}
				if !found {
					t.Errorf("provenance %s does not describe the image digest", docDigest(t, p, d))
				}
			}

			// The whole repository: the model's tag is collected, the
			// image's again (all duplicates now).
			rec2 := newRecorder()
			r2 := &collect.Runner{Pipeline: p, OnOutcome: rec2.add, Log: quiet}
			if err := r2.Run(context.Background(), &collect.OCI{Ref: sc.llmRepo.String(), Insecure: true}); err != nil {
				t.Fatal(err)
			}
			if st := r2.Stats(); st != (collect.Stats{Documents: 2, Ingested: 2}) {
				t.Errorf("model repository: stats %+v", st)
				for _, o := range rec2.all() {
					t.Logf("%+v", o)
				}
			}
			checkModel(t, p, store, sc)
			r3 := &collect.Runner{Pipeline: p, Log: quiet}
			if err := r3.Run(context.Background(), &collect.OCI{Ref: sc.appRepo.String(), Insecure: true}); err != nil {
				t.Fatal(err)
			}
			if st := r3.Stats(); st != (collect.Stats{Documents: 5, Duplicates: 5, Skipped: 1}) {
				t.Errorf("repository listing (tags other than cosign's and the fallback): stats %+v", st)
			}
		})
	}
}

// checkReferrersPath proves which discovery path the registry exercises.
func checkReferrersPath(t *testing.T, host string, sc *supplyChain, api bool) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s/v2/%s/referrers/%s", host, sc.appRepo.RepositoryStr(), sc.image.Digest))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, ferr := remote.Head(sc.fallbackTag)
	switch {
	case api && (resp.StatusCode != http.StatusOK || ferr == nil):
		t.Fatalf("referrers API: status %d, fallback tag err %v", resp.StatusCode, ferr)
	case !api && (resp.StatusCode == http.StatusOK || ferr != nil):
		t.Fatalf("tag schema: referrers API status %d, fallback tag err %v", resp.StatusCode, ferr)
	}
}

// checkModel asserts the packaged model's mapping: a Model keyed by the
// manifest digest, depending on one node per layer keyed by the layer
// digest (the SBOM mapping makes CycloneDX file components Packages), and
// the attestation attached to it describing that same model.
func checkModel(t *testing.T, p *ingest.Pipeline, store graph.Reader, sc *supplyChain) {
	t.Helper()
	m := lookup(t, store, sc.model.Digest.String(), graph.KindModel)
	wantPurl := fmt.Sprintf("pkg:oci/llm-7b@%s?repository_url=%s&tag=v1", strings.Replace(sc.model.Digest.String(), ":", "%3A", 1), strings.ReplaceAll(sc.llmRepo.Name(), "/", "%2F"))
	if !slices.ContainsFunc(m.Keys, func(k string) bool { return strings.HasPrefix(k, "pkg:oci/llm-7b@") }) {
		t.Errorf("model keys %v lack its purl (like %s)", m.Keys, wantPurl)
	}
	var files []string
	for _, e := range edges(t, store, m.ID, graph.Out, graph.DependsOn) {
		files = append(files, node(t, store, e.To).Keys...)
	}
	for n, data := range sc.modelFiles {
		if !slices.Contains(files, graph.SHA256Key(data)) {
			t.Errorf("file %s (%s) missing from the model's files %v", n, graph.SHA256Key(data), files)
		}
	}
	var describedBy []string
	for _, e := range edges(t, store, m.ID, graph.In, graph.Describes) {
		describedBy = append(describedBy, node(t, store, e.From).Keys...)
	}
	if !slices.Contains(describedBy, docDigest(t, p, sc.modelAtt)) {
		t.Errorf("the attached attestation does not describe the model (described by %v)", describedBy)
	}
}

func lookup(t *testing.T, s graph.Reader, key string, kind graph.NodeKind) graph.Node {
	t.Helper()
	ns, err := s.Lookup(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if n.Kind == kind {
			return n
		}
	}
	t.Fatalf("no %s with key %s (found %+v)", kind, key, ns)
	return graph.Node{}
}

func lookupAll(t *testing.T, s graph.Reader, key string) []graph.Node {
	t.Helper()
	ns, err := s.Lookup(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func node(t *testing.T, s graph.Reader, id graph.NodeID) graph.Node {
	t.Helper()
	n, err := s.Node(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func edges(t *testing.T, s graph.Reader, id graph.NodeID, dir graph.Direction, kinds ...graph.EdgeKind) []graph.Edge {
	t.Helper()
	es, err := s.Edges(context.Background(), id, dir, kinds...)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestOCILimits(t *testing.T) {
	host := distributionRegistry(t)
	sc := pushSupplyChain(t, host)
	p, store := newPipeline(t, sc.policy(t))
	rec := newRecorder()
	r := &collect.Runner{Pipeline: p, OnOutcome: rec.add, Log: quiet}
	if err := r.Run(context.Background(), &collect.OCI{Ref: sc.appRepo.Tag("v1").String(), Insecure: true, MaxReferrers: 1, MaxBlobBytes: int64(len(sc.sbom))}); err != nil {
		t.Fatal(err)
	}
	var limit, large int
	for _, o := range rec.all() {
		switch {
		case errors.Is(o.Err, collect.ErrLimit):
			limit++
			if !strings.Contains(o.Err.Error(), fmt.Sprintf("%d referrers", sc.referrersForImage)) {
				t.Errorf("limit error: %v", o.Err)
			}
		case errors.Is(o.Err, collect.ErrTooLarge):
			large++
		}
	}
	if limit != 1 || large == 0 {
		t.Fatalf("want one referrer-limit report and too-large layers, got %d and %d: %+v", limit, large, rec.all())
	}
	// Only blobs within the size limit were read.
	for _, d := range storedDocs(t, store, docDigest(t, p, sc.bundle), docDigest(t, p, sc.att)) {
		t.Errorf("%s (%d bytes) was read despite the %d-byte limit", d.Source, d.Size, len(sc.sbom))
	}

	// A repository with more tags than allowed: the first ones are collected
	// and the cut is reported.
	push(t, sc.appRepo, "v2", types.OCIConfigJSON, nil, layerSpec{data: []byte("app layer"), mediaType: types.OCILayer})
	rec = newRecorder()
	r = &collect.Runner{Pipeline: p, OnOutcome: rec.add, Log: quiet}
	if err := r.Run(context.Background(), &collect.OCI{Ref: sc.appRepo.String(), Insecure: true, MaxTags: 1}); err != nil {
		t.Fatal(err)
	}
	tagLimit := 0
	for _, o := range rec.all() {
		if errors.Is(o.Err, collect.ErrLimit) && strings.Contains(o.Err.Error(), "more than 1 tags") {
			tagLimit++
		}
	}
	if tagLimit != 1 {
		t.Errorf("tag limit not reported: %+v", rec.all())
	}
	// A manifest over the limit is not fetched.
	err := (&collect.Runner{Pipeline: p, Log: quiet}).Run(context.Background(), &collect.OCI{Ref: sc.appRepo.Tag("v1").String(), Insecure: true, MaxManifestBytes: 64})
	if !errors.Is(err, collect.ErrTooLarge) || !strings.Contains(err.Error(), "manifest") {
		t.Errorf("manifest limit: %v", err)
	}

}

func TestOCIPlainHTTPOnlyToLoopbackWhenAsked(t *testing.T) {
	host := distributionRegistry(t)
	sc := pushSupplyChain(t, host)
	p, store := newPipeline(t, nil)
	r := &collect.Runner{Pipeline: p, Log: quiet}
	err := r.Run(context.Background(), &collect.OCI{Ref: sc.appRepo.Tag("v1").String()})
	if err == nil || !strings.Contains(err.Error(), "plain HTTP") {
		t.Fatalf("without insecure: %v", err)
	}
	err = r.Run(context.Background(), &collect.OCI{Ref: "10.1.2.3:5000/acme/app:v1", Insecure: true})
	if !errors.Is(err, collect.ErrInvalidSpec) || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("insecure to a private address: %v", err)
	}
	if docCount(t, store) != 0 {
		t.Fatal("documents were collected")
	}
	if err := r.Run(context.Background(), &collect.OCI{Ref: "Not A Ref"}); !errors.Is(err, collect.ErrInvalidSpec) {
		t.Fatalf("bad reference: %v", err)
	}
}

func TestOCIWatchPollsForNewAttachments(t *testing.T) {
	host := distributionRegistry(t)
	sc := pushSupplyChain(t, host)
	p, store := newPipeline(t, sc.policy(t))
	rec := newRecorder()
	r := &collect.Runner{Pipeline: p, OnOutcome: rec.add, Log: quiet}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- r.Run(ctx, &collect.OCI{Ref: sc.llmRepo.Tag("v1").String(), Insecure: true, Watch: true, Interval: 50 * time.Millisecond})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	waitFor := func(digest string) {
		t.Helper()
		for range 200 {
			o := <-rec.ch
			if o.Err != nil {
				t.Fatalf("%s: %v", o.Source, o.Err)
			}
			for _, res := range o.Results {
				if res.Document.Digest == digest {
					return
				}
			}
		}
		t.Fatalf("%s never collected", digest)
	}
	waitFor(docDigest(t, p, sc.modelAtt))
	// A signature attached later is found by the next poll.
	later := sc.key.Bundle(t, envelopetest.InTotoPayloadType, trainingStatement(t, "acme/llm-7b", sc.model.Digest.Hex, "eval-1"))
	push(t, sc.llmRepo, "", "application/vnd.dev.sigstore.bundle.v0.3+json", &sc.model, layerSpec{data: later, mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json"})
	waitFor(docDigest(t, p, later))
	if d := storedDocs(t, store, docDigest(t, p, later)); len(d) != 1 || d[0].Status() != graph.StatusVerified {
		t.Fatalf("%+v", d)
	}
	// Polls in between hand nothing new to the pipeline.
	if st := r.Stats(); st.Duplicates != 0 {
		t.Errorf("already collected blobs were ingested again: %+v", st)
	}
}
