package main

import (
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/modelgraph/modelgraph/ingest/oms"
)

// digest prints the root digest model_signing signed for the fixture
// directories (their subject digests), with the same ignore options.
func TestDigestCommandMatchesSignedRoots(t *testing.T) {
	for dir, want := range map[string]string{
		"v1.1.0-elliptic-key": "sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4",
		"v1.1.0-certificate":  "sha256:61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226",
	} {
		out, err := run(t, "digest", fx(dir), "--ignore-paths", "ignore-me", "--signature", fx(dir+"/model.sig"))
		if err != nil || out != want+"  "+fx(dir)+"\n" {
			t.Fatalf("%s: %v %q, want %s", dir, err, out, want)
		}
	}
	out, err := run(t, "digest", fx("v1.1.0-elliptic-key"), "--ignore-paths", "ignore-me", "--ignore-paths", "model.sig", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var r oms.DigestResult
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Resources) != 2 || r.Resources[0].Name != "signme-1" || r.Serialization.Method != "files" {
		t.Fatalf("%v %+v", err, r)
	}
	if _, err := run(t, "digest", t.TempDir()); err == nil || !strings.Contains(err.Error(), "empty model") {
		t.Fatalf("empty model: %v", err)
	}
	if _, err := run(t, "digest", fx("v1.1.0-elliptic-key"), "--hash-type", "md5"); err == nil {
		t.Fatal("md5 accepted")
	}
}

// verify model reads a model packaged in an OCI image layout from its
// manifest alone, from a registry or an OCI image layout.
func TestVerifyModelCommandOCI(t *testing.T) {
	dir := fx("v1.1.0-elliptic-key")
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	for _, f := range []string{"signme-1", "signme-2"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(b, "application/vnd.cncf.model.weight.v1.raw"), Annotations: map[string]string{oms.AnnotationTitle: f}}); err != nil {
			t.Fatal(err)
		}
	}
	// From a registry (go-containerregistry's, on loopback).
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/acme/fixture:v1"
	tag, err := name.NewTag(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	key0 := fx("keys/certificate/signing-key-pub.pem")
	out, err := runVerify(t, "oci://"+ref, "--insecure-registry", "--signature", fx("v1.1.0-elliptic-key/model.sig"), "--public-key", key0, "-o", "json")
	if err != nil || !strings.Contains(out, `"verified": true`) {
		t.Fatalf("registry: %v\n%s", err, out)
	}
	if _, err := runVerify(t, "oci://"+ref, "--signature", fx("v1.1.0-elliptic-key/model.sig"), "--public-key", key0); err == nil {
		t.Fatal("plain HTTP used without --insecure-registry")
	}

	lp, err := layout.Write(filepath.Join(t.TempDir(), "layout"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v1"})); err != nil {
		t.Fatal(err)
	}
	key := fx("keys/certificate/signing-key-pub.pem")
	out, err = runVerify(t, "oci-layout:"+string(lp)+":v1", "--signature", fx("v1.1.0-elliptic-key/model.sig"), "--public-key", key)
	if err != nil || !strings.Contains(out, "Result     VERIFIED") {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := runVerify(t, "oci-layout:"+string(lp), "--public-key", key); err == nil || !strings.Contains(err.Error(), "--signature is required") {
		t.Fatalf("no signature: %v", err)
	}
}
