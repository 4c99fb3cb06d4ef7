package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/Khan/genqlient/graphql"
	"github.com/spf13/pflag"

	"github.com/modelgraph/modelgraph/internal/client"
)

// Search is `modelgraph search TEXT...`.
func Search() Question {
	var (
		text  string
		kinds []string
		first int
	)
	type S = client.SearchAnswer
	return Question{
		Name: "search", Use: "search TEXT...",
		Short: "Find nodes by a fragment: a name without its version, a path, part of a purl or digest, a signer, with typos",
		Example: `  modelgraph search acme/clinical-notes-raw
  modelgraph search s3://acme-data/datasets/clinical-notes-raw/2024-01
  modelgraph search clincal notes --kind Dataset`,
		Flags: func(fs *pflag.FlagSet) {
			fs.StringSliceVar(&kinds, "kind", nil, "node kinds to search (default all)")
			fs.IntVar(&first, "first", 20, "how many results")
		},
		Args: func(a []string) error {
			text = strings.Join(a, " ")
			if strings.TrimSpace(text) == "" {
				return errors.New("give the text to search for: modelgraph search acme/llm-7b")
			}
			return nil
		},
		Run: answer(func(ctx context.Context, c graphql.Client) (S, error) {
			ks, err := parseKinds(kinds)
			if err != nil {
				return S{}, err
			}
			r, err := client.Search(ctx, c, text, ks, first)
			return r.GetSearch(), err
		}, func(w io.Writer, r S) {
			tw := tabw(w)
			fmt.Fprintln(tw, "KIND\tNAME\tMATCH\tREF")
			for _, h := range r.Items {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.Node.Kind, h.Node.Name, h.Match, h.Ref)
			}
			tw.Flush()
			fmt.Fprintf(w, "%d of %d\n", len(r.Items), r.TotalCount)
		}, nil),
	}
}

// List is `modelgraph list KIND`.
func List() Question {
	var (
		kind           client.NodeKind
		f              client.NodeFilterInput
		reached, since string
	)
	type N = client.NodesAnswer
	return Question{
		Name: "list", Use: "list KIND",
		Short: "List the nodes of one kind, filtered: environment, state, verification status, advisory reach, signer, ingested since",
		Example: `  modelgraph list Deployment --environment production
  modelgraph list Model --status unverified --reached true
  modelgraph list Model --signer release@acme.example --since 2025-06-01`,
		Flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&f.Environment, "environment", "", "a deployment's environment; a model deployed there")
			fs.StringVar(&f.State, "state", "", "active or withdrawn")
			fs.StringVar(&f.Status, "status", "", "verified, unverified, failed, unverifiable or unsigned")
			fs.StringVar(&reached, "reached", "", "true: only nodes an active advisory reaches; false: only the others")
			fs.StringVar(&f.Signer, "signer", "", "signer of a document about the node (SAN, e-mail, key id)")
			fs.StringVar(&since, "since", "", "a document mentioning it was ingested at or after (RFC 3339 or date)")
		},
		Args: func(a []string) error {
			if len(a) != 1 {
				return errors.New("give one node kind: modelgraph list Model (kinds: Model, Dataset, Deployment, Advisory, Package, Identity, ...)")
			}
			k, ok := NodeKind(a[0])
			if !ok {
				return fmt.Errorf("%q is not a node kind", a[0])
			}
			kind = k
			return nil
		},
		Run: answer(func(ctx context.Context, c graphql.Client) (N, error) {
			nf := f
			switch reached {
			case "":
			case "true", "false":
				v := reached == "true"
				nf.ReachedByActiveAdvisory = &v
			default:
				return N{}, fmt.Errorf("--reached %q: want true or false", reached)
			}
			t, err := parseTime("since", since)
			if err != nil {
				return N{}, err
			}
			nf.IngestedSince = t
			return pages(func(after string) (N, error) {
				r, err := client.Nodes(ctx, c, kind, nf, PageSize, after)
				return r.GetNodes(), err
			}, (*N).GetPageInfo, func(acc *N, next N) int {
				acc.Items = append(acc.Items, next.Items...)
				acc.PageInfo = next.PageInfo
				return len(next.Items)
			})
		}, func(w io.Writer, r N) {
			tw := tabw(w)
			fmt.Fprintln(tw, "KIND\tNAME\tSTATUS\tSTATE\tENVIRONMENTS\tREACHED BY")
			for _, it := range r.Items {
				by := ""
				if it.ReachedBy != nil {
					by = it.ReachedBy.Name
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", it.Node.Kind, it.Node.Name, it.Identity.Status, it.State, strings.Join(it.Environments, ","), by)
			}
			tw.Flush()
			fmt.Fprintf(w, "%d nodes\n", len(r.Items))
		}, nil),
	}
}
