package sbom

import (
	"os"
	"path/filepath"
	"testing"
)

// testdataDocs is every document in the repository's testdata (the
// shared SBOM fixtures, the GUAC examples, the AI-BOM and end-to-end ones)
// whose first scan keep accepts, by path; fewer than min fails the test.
func testdataDocs(t testing.TB, what string, min int, keep func(sniffed) bool) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, dir := range []string{"../../testdata/sbom", "testdata", "../../testdata/aibom", "../../testdata/query/e2e"} {
		for _, ext := range []string{"*.json", "*.xml"} {
			files, _ := filepath.Glob(filepath.Join(dir, ext))
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if keep(sniff(data)) {
					out[f] = data
				}
			}
		}
	}
	if len(out) < min {
		t.Fatalf("only %d %s files", len(out), what)
	}
	return out
}
