// Package e2e drives the lineage page in a real browser against a real
// `modelgraph serve --demo`. It needs node, the playwright-core module
// (npm ci here) and Debian's chromium: deploy/dev/install-ui-test-deps.sh
// installs them. Without them the tests skip locally and fail in CI.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/internal/demo"
	"github.com/modelgraph/modelgraph/internal/testserve"
)

var update = flag.Bool("update", false, "save the impact screenshot as docs/img/ui-impact.png")

// incidentDataset is the leaked dataset of docs/demo.md's first incident,
// as a responder would type it.
const incidentDataset = demo.DatasetRaw + "@2024-01"

func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// requireBrowser skips when the browser toolchain is missing, except in
// CI, where a skipped browser test would hide a broken page.
func requireBrowser(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	var missing []string
	if err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(chromium()); err != nil {
		missing = append(missing, chromium())
	}
	if _, err := os.Stat(filepath.Join("node_modules", "playwright-core", "package.json")); err != nil {
		missing = append(missing, "internal/ui/e2e/node_modules (npm ci)")
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("browser test needs %s: run deploy/dev/install-ui-test-deps.sh", strings.Join(missing, ", "))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node
}

// childEnv is the test's environment without modelgraph settings (a CI
// job's MODELGRAPH_STORE must not redirect the demo), plus extra.
func childEnv(extra ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "MODELGRAPH_") })
	return append(env, extra...)
}

// serve starts `modelgraph serve --demo` and returns its base URL; the
// server is interrupted when the test ends.
func serve(t *testing.T, env ...string) string {
	t.Helper()
	o := testserve.Options{Env: childEnv(env...), StartTimeout: 90 * time.Second}
	return testserve.Start(t, o, "--demo", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "warn").Base
}

// deploymentsDownstream asks the API, through the generic lineage walk
// (the page asks deployedModelsTrainedOn), which deployments descend from
// the dataset.
func deploymentsDownstream(t *testing.T, base, ref, token string) []string {
	t.Helper()
	q := `query($ref: String!) { impact(ref: $ref, kinds: [Deployment], first: 1000) { reached { node { name } } totalCount truncated } }`
	body, _ := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"ref": ref}})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Impact struct {
				Reached []struct {
					Node struct{ Name string }
				}
				TotalCount int
				Truncated  bool
			}
		}
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("impact answer: %v", err)
	}
	if len(out.Errors) > 0 || out.Data.Impact.Truncated {
		t.Fatalf("impact of %s: errors %v, truncated %v", ref, out.Errors, out.Data.Impact.Truncated)
	}
	var names []string
	for _, r := range out.Data.Impact.Reached {
		names = append(names, r.Node.Name)
	}
	slices.Sort(names)
	return names
}

// browse runs a browser script (e2e.mjs, dashboard.mjs, posture.mjs:
// browser.mjs drives Chromium for them) against base, logs what it said,
// and checks the screenshot it saved to shot: a PNG at least 1200 pixels
// wide and minHeight high.
func browse(t *testing.T, node, script, base, shot string, minHeight int, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script, base, shot}, args...)...)
	cmd.Env = append(childEnv(), "CHROMIUM="+chromium())
	out, err := cmd.CombinedOutput()
	t.Logf("browser:\n%s", out)
	if err != nil {
		t.Fatalf("browser test %s failed: %v", script, err)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if cfg, err := png.DecodeConfig(f); err != nil || cfg.Width < 1200 || cfg.Height < minHeight {
		t.Errorf("screenshot %s: %dx%d, %v", shot, cfg.Width, cfg.Height, err)
	}
}

// TestUIImpactOnDemo is the incident responder's first minutes: open the
// page, search the leaked dataset, press Impact, read which deployments
// run something trained on it and how well each link is backed.
func TestUIImpactOnDemo(t *testing.T) {
	node := requireBrowser(t)
	for _, c := range []struct {
		name  string
		token string
	}{
		{"open API", ""},
		// With tokens configured the page still loads (it holds no data),
		// asks for a token on the first 401 and sends it from then on,
		// the AI-BOM download included.
		{"token required", "e2e-ui-responder-0123456789abcdef0123456789abcdef"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var env []string
			if c.token != "" {
				env = append(env, "MODELGRAPH_TOKENS=responder:read:"+c.token)
			}
			base := serve(t, env...)
			resp, err := http.Get(base + "/ui/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /ui/ without a token: %d; the server must serve ui.Handler() at /ui/ without authentication (the page holds no data)", resp.StatusCode)
			}
			want := deploymentsDownstream(t, base, incidentDataset, c.token)
			if len(want) < 2 {
				t.Fatalf("the demo's %s reaches %d deployments; the incident needs several to show", incidentDataset, len(want))
			}
			shot := filepath.Join(t.TempDir(), "ui-impact.png")
			if *update && c.token == "" {
				shot = filepath.Join("..", "..", "..", "docs", "img", "ui-impact.png")
			}
			expect, _ := json.Marshal(want)
			args := []string{"--ref", incidentDataset, "--expect", string(expect)}
			if c.token != "" {
				args = append(args, "--token", c.token)
			}
			browse(t, node, "e2e.mjs", base, shot, 700, args...)
		})
	}
}

// TestLineageModel runs the drawing model's unit tests (fan-out groups,
// edge orientation, status ranks) and the notification stream parser's
// under node.
func TestLineageModel(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is missing: run deploy/dev/install-ui-test-deps.sh")
		}
		t.Skip("node is missing")
	}
	out, err := exec.Command(node, "--test", filepath.Join("..", "web", "src", "model.test.mjs"), filepath.Join("..", "web", "src", "alerts.test.mjs")).CombinedOutput()
	if err != nil {
		t.Fatalf("node --test model.test.mjs alerts.test.mjs: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("# fail 0")) {
		t.Fatalf("unexpected node --test output:\n%s", out)
	}
}

// postureOf asks the API for a subject's posture.
func postureOf(t *testing.T, base, ref string) (level string, missing []string) {
	t.Helper()
	q := `query($ref: String!) { posture(ref: $ref) { levelName missing } }`
	body, _ := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"ref": ref}})
	resp, err := http.Post(base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Posture struct {
				LevelName string
				Missing   []string
			}
		}
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Errors) > 0 {
		t.Fatalf("posture of %s: %v %v", ref, err, out.Errors)
	}
	return out.Data.Posture.LevelName, out.Data.Posture.Missing
}

var updatePosture = flag.Bool("update-posture", false, "save the posture screenshot as docs/img/ui-posture.png")

// TestUIPostureOnDemo: the demo's production deployment shows its posture
// level and what is missing, as the API answers them.
func TestUIPostureOnDemo(t *testing.T) {
	node := requireBrowser(t)
	base := serve(t)
	const ref = "deployment:production/eu-west-1/ml-serving/clinical-chat"
	level, missing := postureOf(t, base, ref)
	if level == "" || level == "L3" || len(missing) == 0 {
		t.Fatalf("the demo's production deployment sits at %q missing %v: the panel needs gaps to show", level, missing)
	}
	shot := filepath.Join(t.TempDir(), "ui-posture.png")
	if *updatePosture {
		shot = filepath.Join("..", "..", "..", "docs", "img", "ui-posture.png")
	}
	want, _ := json.Marshal(missing)
	browse(t, node, "posture.mjs", base, shot, 0, "--ref", ref, "--level", level, "--missing", string(want))
}
