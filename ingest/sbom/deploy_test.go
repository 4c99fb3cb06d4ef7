package sbom

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/embedded"
)

const (
	imgA     = "sha256:cbaa390ec61abd889dfa5146a411c11717c19ef9e5e18458dbdc06439076ffe7" // guac-alpine-cyclonedx.json's own digest
	imgB     = "sha256:2222222222222222222222222222222222222222222222222222222222222222" // given for guac-alpine-spdx.json
	imgMongo = "sha256:fd73df9425bd48f25d7e913422af8124a6eadbd5d99f67bbd4a8b121f59b1187" // guac-big-mongo-cyclonedx.json
	imgTrain = "sha256:3333333333333333333333333333333333333333333333333333333333333333" // guac-oci-spdx.json as a training image
	imgBare  = "sha256:4444444444444444444444444444444444444444444444444444444444444444" // no SBOM
)

// TestWhichDeploymentsServePackage: "which deployments' serving image SBOM
// contains pkg:alpine/alpine-keys@2.4-r1?" is answered exactly. The package
// is in two serving images (one SBOM names its image digest, one is told it),
// not in a third, and also in the training image of a model whose serving
// image lacks it: that deployment must not be reported.
func TestWhichDeploymentsServePackage(t *testing.T) {
	ctx := t.Context()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "graph.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	for _, in := range []struct {
		file string
		opts Options
	}{
		{"guac-alpine-cyclonedx.json", Options{Role: RoleServingImage}},
		{"guac-alpine-spdx.json", Options{Role: RoleServingImage, Subject: imgB}},
		{"guac-big-mongo-cyclonedx.json", Options{Role: RoleServingImage}},
		{"guac-oci-spdx.json", Options{Role: RoleTrainingEnvironment, Subject: imgTrain}},
	} {
		if _, err := st.Apply(ctx, parseFixture(t, in.file, in.opts)); err != nil {
			t.Fatalf("%s: %v", in.file, err)
		}
	}

	// Deployments as a deployment record would state them.
	deploy := func(n int, model, image string) {
		b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte{byte(n)}), Type: "deployment-record"})
		m := b.Node(graph.KindModel, model)
		d := b.Node(graph.KindDeployment, "deployment:prod/-/-/svc-"+string(rune('a'+n)))
		img := b.Node(graph.KindPackage, image)
		b.Edge(m, graph.DeployedAs, d, "status", "active")
		b.Edge(d, graph.DependsOn, img, "role", "servingImage")
		b.Describes(d)
		if _, err := st.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	deploy(0, "name:acme/a", imgA)
	deploy(1, "name:acme/b", imgB)
	deploy(2, "name:acme/c", imgMongo)
	deploy(3, "name:acme/d", imgBare)
	deploy(4, "name:acme/e", imgMongo) // model e is trained in imgTrain, below
	run := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("run")), Type: "slsa-provenance"})
	tr := run.Node(graph.KindTrainingRun, "run:train-e")
	run.Edge(tr, graph.Uses, run.Node(graph.KindPackage, imgTrain), "role", "builderDependency")
	run.Edge(run.Node(graph.KindModel, "name:acme/e"), graph.ProducedBy, tr)
	if _, err := st.Apply(ctx, run); err != nil {
		t.Fatal(err)
	}

	pkgs, err := st.Lookup(ctx, "pkg:alpine/alpine-keys@2.4-r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || len(pkgs[0].Docs) != 3 {
		t.Fatalf("alpine-keys: %d nodes, want 1 named by the 3 alpine SBOMs", len(pkgs))
	}
	deployments := func(kinds ...graph.EdgeKind) []string {
		res, err := st.Traverse(ctx, graph.TraverseRequest{
			From:      []graph.NodeID{pkgs[0].ID},
			Direction: graph.Downstream,
			EdgeKinds: kinds,
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Truncated || res.DepthLimited {
			t.Fatalf("walk cut short: %+v", res)
		}
		var out []string
		for _, s := range res.Steps {
			if s.Node.Kind == graph.KindDeployment {
				out = append(out, s.Node.Keys[0])
				// The path runs package <- image <- deployment.
				if path := res.PathTo(s.Node.ID); len(kinds) > 0 && len(path) != 2 {
					t.Errorf("%s reached in %d steps, want 2", s.Node.Keys[0], len(path))
				}
			}
		}
		slices.Sort(out)
		return out
	}
	got := deployments(graph.DependsOn, graph.Describes, graph.DeployedAs)
	want := []string{"deployment:prod/-/-/svc-a", "deployment:prod/-/-/svc-b"}
	if !slices.Equal(got, want) {
		t.Fatalf("deployments serving alpine-keys: %v, want %v", got, want)
	}
	// The trap is real: following lineage edges too reaches the deployment
	// of the model trained in the image that contains the package.
	if all := deployments(); !slices.Contains(all, "deployment:prod/-/-/svc-e") {
		t.Fatalf("lineage walk %v does not reach svc-e: the test proves nothing", all)
	}
}
