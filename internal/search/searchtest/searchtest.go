// Package searchtest is the table of fragments every search engine must
// answer with the intended node first (internal/search's in-memory index,
// graph/neo4j's full-text index): the demo chain plus a keyless-signer
// document, and a synthetic chain.
package searchtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/demo"
	"github.com/modelgraph/modelgraph/internal/search"
	"github.com/modelgraph/modelgraph/internal/synth"
)

// Case is one fragment and the node it should find first, named by kind
// and one of its keys.
type Case struct {
	Text  string
	Kinds []graph.NodeKind
	Kind  graph.NodeKind
	Key   string
}

// SignerEmail is the keyless (OIDC) signer SignerBatch adds to the demo,
// whose signers are all keys.
const SignerEmail = "release-bot@acme.example"

// SignerBatch is a document naming a keyless signer by e-mail, as a
// verified Sigstore bundle's identity does.
func SignerBatch() *graph.Batch {
	b := graph.NewBatch(graph.Document{Digest: graph.SHA256Key([]byte("searchtest signer")), Type: "test"})
	id := b.Node(graph.KindIdentity, graph.IdentityKey("https://token.actions.githubusercontent.com", SignerEmail))
	b.Describes(id)
	if b.Nodes[id].Attrs == nil {
		b.Nodes[id].Attrs = map[string]string{}
	}
	b.Nodes[id].Attrs["identity"] = SignerEmail
	return b
}

// Demo is the table on the demo chain plus SignerBatch.
func Demo() []Case {
	raw := Case{Kind: graph.KindDataset, Key: "name:acme/clinical-notes-raw@2024-01"}
	clinical := Case{Kind: graph.KindDataset, Key: "name:acme/clinical-notes@v3"}
	chatDep := Case{Kind: graph.KindDeployment, Key: "deployment:production/eu-west-1/ml-serving/clinical-chat"}
	transformers := Case{Kind: graph.KindPackage, Key: demo.VulnerablePackage}
	signer := Case{Kind: graph.KindIdentity, Key: graph.IdentityKey("https://token.actions.githubusercontent.com", SignerEmail)}
	tok := demo.TokenizerDigest()
	is := func(text string, w Case, kinds ...graph.NodeKind) Case {
		w.Text, w.Kinds = text, kinds
		return w
	}
	return []Case{
		// The fragments: a dataset path without its trailing
		// slash, a model name without its version, a service name, part
		// of a purl, a signer's e-mail.
		is("acme/clinical-notes-raw", raw),
		is("s3://acme-data/datasets/clinical-notes-raw/2024-01", raw),
		is("clinical-chat", chatDep),
		is("pkg:pypi/transformers", transformers),
		is(SignerEmail, signer),
		is("release-bot", signer),
		is("relase-bot@acme.example", signer),
		// Exact keys, names, ids.
		is("name:acme/clinical-notes-raw@2024-01", raw),
		is("acme/llm-7b", Case{Kind: graph.KindModel, Key: "name:acme/llm-7b"}),
		is("hf://acme/llm-7b-chat", Case{Kind: graph.KindModel, Key: "name:acme/llm-7b-chat"}),
		is("AIXV-2024-0042", Case{Kind: graph.KindAdvisory, Key: "advisory:AIXV-2024-0042"}),
		is("ghcr.io/acme/model-server", Case{Kind: graph.KindPackage, Key: "sha256:81a0db31a5eb4924726ddd4ca446b5b200e7e422d87908f428cb9bd0f9934d7f"}),
		is("llama.cpp", Case{Kind: graph.KindPackage, Key: "pkg:github/ggerganov/llama.cpp@b3000"}),
		// Prefixes: ids, digests, key hints, paths.
		is("aixv-2024", Case{Kind: graph.KindAdvisory, Key: "advisory:AIXV-2024-0042"}),
		is(tok[:20], Case{Kind: graph.KindFile, Key: tok}),
		is(strings.ToUpper(tok[7:25]), Case{Kind: graph.KindFile, Key: tok}),
		is("790e9c18", Case{Kind: graph.KindIdentity, Key: "key:790e9c18774a729d3582f683f697f9f5b87887948e1cb069542750dd3ba15fc3"}),
		is("production/eu-west-1", chatDep),
		is("transformers", transformers),
		// Words, in any order.
		is("clinical-notes-raw/2024-01", raw),
		is("web corpus", Case{Kind: graph.KindDataset, Key: "name:acme/web-corpus@2024-03"}),
		is("llm-7b-chat", Case{Kind: graph.KindModel, Key: "name:acme/llm-7b-chat"}),
		is("note-summarizer", Case{Kind: graph.KindDeployment, Key: "deployment:staging/eu-west-1/ml-staging/note-summarizer"}),
		is("summarizer lora", Case{Kind: graph.KindModel, Key: "name:acme/llm-7b-summarizer-lora"}),
		// Typos.
		is("clincal notes", clinical),
		is("acme/llm-7b-clincal", Case{Kind: graph.KindModel, Key: "name:acme/llm-7b-clinical"}),
		is("trasnformers", transformers),
		is("uvicron", Case{Kind: graph.KindPackage, Key: "pkg:pypi/uvicorn@0.22.0"}),
		is("clinical-caht", chatDep),
		// Kind filters.
		is("clinical", chatDep, graph.KindDeployment),
		is("llm-7b-clinical", Case{Kind: graph.KindTrainingRun, Key: "run:ft-llm-7b-clinical-2024-06-02"}, graph.KindTrainingRun),
	}
}

// Synthetic is the table on a synth chain (synth.ForNodes); indices are
// picked within the chain's sizes (the 100k chain has 1,234 models and
// more).
func Synthetic(c *synth.Chain) []Case {
	pick := func(want, n int) int { return min(want, n-1) }
	m, m2, m3 := pick(1234, len(c.Models)), pick(12, len(c.Models)), pick(777, len(c.Models))
	d := pick(77, len(c.Datasets))
	dp, dp2 := pick(124, len(c.Deployments)), pick(123, len(c.Deployments))
	model := func(i int) Case { return Case{Kind: graph.KindModel, Key: c.Models[i]} }
	dataset := func(i int) Case { return Case{Kind: graph.KindDataset, Key: c.Datasets[i]} }
	dep := func(i int) Case { return Case{Kind: graph.KindDeployment, Key: c.Deployments[i]} }
	is := func(text string, w Case) Case { w.Text = text; return w }
	svc := c.Deployments[dp2][strings.LastIndexByte(c.Deployments[dp2], '/')+1:]
	return []Case{
		is(fmt.Sprintf("synth/model-%d", m), model(m)),
		is(fmt.Sprintf("synth/model-%d", m2), model(m2)),
		is(fmt.Sprintf("model-%d", m), model(m)),
		is(fmt.Sprintf("synth/modle-%d", m), model(m)),
		is(fmt.Sprintf("sytnh/model-%d", m3), model(m3)),
		is(fmt.Sprintf("synth/dataset-%d", d), dataset(d)),
		is(fmt.Sprintf("dataset %d", d), dataset(d)),
		is(fmt.Sprintf("synth/datset-%d", d), dataset(d)),
		is(c.Models[42%len(c.Models)][:22], model(42%len(c.Models))),
		is(strings.TrimPrefix(c.Deployments[dp], "deployment:"), dep(dp)),
		is(svc, dep(dp2)),
		is("numpy", Case{Kind: graph.KindPackage, Key: c.Packages[0]}),
		is("nunpy", Case{Kind: graph.KindPackage, Key: c.Packages[0]}),
		is("pkg:pypi/torch", Case{Kind: graph.KindPackage, Key: c.Packages[1]}),
	}
}

// Check runs every case on e and reports those whose first hit is not the
// intended node (r reads the hits' nodes).
func Check(t testing.TB, r graph.Reader, e search.Engine, cases []Case) {
	t.Helper()
	ctx := context.Background()
	for _, c := range cases {
		hits, err := e.Find(ctx, search.Query{Text: c.Text, Kinds: c.Kinds, Limit: 5})
		if err != nil {
			t.Errorf("%q: %v", c.Text, err)
			continue
		}
		if len(hits) == 0 {
			t.Errorf("%q: no hit, want %s %s", c.Text, c.Kind, c.Key)
			continue
		}
		n, err := r.Node(ctx, hits[0].ID)
		if err != nil {
			t.Errorf("%q: first hit %s: %v", c.Text, hits[0].ID, err)
			continue
		}
		if n.Kind != c.Kind || !slices.Contains(n.Keys, c.Key) {
			var got []string
			for _, h := range hits {
				m, _ := r.Node(ctx, h.ID)
				got = append(got, string(m.Kind)+" "+strings.Join(m.Keys, ",")+" ["+h.Tier.String()+" "+h.Matched+"]")
			}
			t.Errorf("%q: first hit is %s %v, want %s %s; hits:\n  %s", c.Text, n.Kind, n.Keys, c.Kind, c.Key, strings.Join(got, "\n  "))
		}
	}
}
