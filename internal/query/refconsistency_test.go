package query

import (
	"errors"
	"strings"
	"testing"

	"github.com/modelgraph/modelgraph/aibom"
	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/graph/ref"
)

// TestResolveAgreesWithAIBOM: one string names the same node in the query
// service and in the AI-BOM exporter, because both read it with ref.Parse
// and look it up with ref.Lookup. Spellings: every node's id (both cases),
// every key, the hub's web addresses and revisions for hf:// keys, bare
// names, bare and upper-case digests, plus unknown and invalid strings.
func TestResolveAgreesWithAIBOM(t *testing.T) {
	w := newWorld(t)
	// A hub model with a single file sharing its digest, a multi-file model
	// whose weights digest names only the file, and a name two exportable
	// nodes share.
	b := w.doc("hub-card", "hf-model-card")
	hub := b.Node(graph.KindModel, D("hub"), ref.HFModel("acme/hub-7b"), ref.Name("acme/hub-7b"))
	b.Node(graph.KindFile, D("hub"))
	multi := b.Node(graph.KindModel, D("multi"), ref.Name("acme/multi"))
	wts := b.Node(graph.KindFile, D("multi-weights"))
	b.Edge(multi, graph.Contains, wts)
	b.Node(graph.KindDataset, D("hubdata"), ref.HFDataset("acme/notes"), ref.Name("acme/notes"))
	b.Node(graph.KindModel, D("twin-m"), ref.Name("twin"))
	b.Node(graph.KindDeployment, ref.Deployment("prod", "", "", "twin"), ref.Name("twin"))
	b.Describes(hub)
	w.apply(t, b)

	var spellings []string
	for _, k := range graph.NodeKinds {
		ns, err := w.s.Nodes(ctxT(), graph.NodeQuery{Kind: k, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			spellings = append(spellings, string(n.ID), strings.ToUpper(string(n.ID)))
			for _, k := range n.Keys {
				spellings = append(spellings, k, " "+k+" ")
				if graph.IsDigestKey(k) {
					hex := k[strings.IndexByte(k, ':')+1:]
					spellings = append(spellings, hex, strings.ToUpper(k), "SHA-256:"+hex)
				}
				if h, ok := ref.ParseHF(k); ok {
					web := "https://huggingface.co/" + h.ID
					if h.Dataset {
						web = "https://huggingface.co/datasets/" + h.ID
					}
					spellings = append(spellings, web, web+"/tree/main", "http"+strings.TrimPrefix(web, "https"),
						h.Key()+"@main", "pkg:huggingface/"+h.ID+"@v1", h.ID)
				}
				if v, ok := strings.CutPrefix(k, graph.SchemeName); ok {
					spellings = append(spellings, v)
				}
				if v, ok := strings.CutPrefix(k, graph.SchemeDeployment); ok {
					spellings = append(spellings, v)
				}
			}
		}
	}
	spellings = append(spellings, "twin", "acme/nothing", "hf://nope/nope", "sha256:"+strings.Repeat("0", 64),
		"", "   ", "sha256:zz", "llama3:8b", strings.Repeat("x", ref.MaxLen+1))
	if len(spellings) < 200 {
		t.Fatalf("only %d spellings: the fixture shrank", len(spellings))
	}

	agreed := 0
	for _, s := range spellings {
		qs, qerr := w.q.Resolve(ctxT(), s, graph.KindModel, graph.KindDeployment)
		id, kind, aerr := aibom.Resolve(ctxT(), w.s, s)
		switch {
		case errors.Is(qerr, ErrInvalidReference):
			if !errors.Is(aerr, aibom.ErrInvalidRequest) || errors.Is(aerr, aibom.ErrAmbiguous) {
				t.Errorf("%.40q: query says invalid (%v), aibom %s %s, %v", s, qerr, kind, id, aerr)
			}
		case qerr != nil:
			// Nothing exportable: aibom names the non-exportable node the
			// reference names, or fails alike.
			if !errors.Is(qerr, ErrNotFound) {
				t.Errorf("%q: query error %v", s, qerr)
			}
			if aerr == nil && (kind == graph.KindModel || kind == graph.KindDeployment) {
				t.Errorf("%q: query finds no model or deployment, aibom finds %s %s", s, kind, id)
			}
		case len(qs) == 1:
			if aerr != nil || id != qs[0].ID {
				t.Errorf("%q: query resolves %s %s, aibom %s %s, %v", s, qs[0].Kind, qs[0].ID, kind, id, aerr)
			}
			agreed++
		default:
			if !errors.Is(aerr, aibom.ErrAmbiguous) {
				t.Errorf("%q: query resolves %d nodes, aibom %s %s, %v (want ambiguous)", s, len(qs), kind, id, aerr)
			}
			for _, n := range qs {
				if !strings.Contains(aerr.Error(), string(n.ID)) {
					t.Errorf("%q: aibom's ambiguity error does not name %s", s, n.ID)
				}
			}
		}
	}
	t.Logf("%d of %d spellings agreed on one node", agreed, len(spellings))
	if agreed < 100 {
		t.Errorf("only %d of %d spellings resolved to one exportable node in both", agreed, len(spellings))
	}
	// The spellings above the fixture adds resolve as intended.
	hubID := w.mustOne(t, ref.HFModel("acme/hub-7b"))
	for _, s := range []string{"https://huggingface.co/acme/hub-7b/tree/main", "http://huggingface.co/acme/hub-7b", "hf://acme/hub-7b@v2", "acme/hub-7b", strings.TrimPrefix(D("hub"), "sha256:")} {
		if id, _, err := aibom.Resolve(ctxT(), w.s, s); err != nil || id != hubID {
			t.Errorf("aibom.Resolve(%q) = %s, %v; want %s", s, id, err, hubID)
		}
	}
	multiID := w.mustOne(t, ref.Name("acme/multi"))
	if id, _, err := aibom.Resolve(ctxT(), w.s, D("multi-weights")); err != nil || id != multiID {
		t.Errorf("aibom.Resolve(weights digest) = %s, %v; want the model containing it %s", id, err, multiID)
	}
}

func (w *world) mustOne(t *testing.T, key string) graph.NodeID {
	t.Helper()
	ns, err := w.s.Lookup(ctxT(), key)
	if err != nil || len(ns) != 1 {
		t.Fatalf("lookup %s: %v, %v", key, ns, err)
	}
	return ns[0].ID
}
