package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/query"
)

// The front door: `modelgraph search` and `modelgraph list`, thin clients
// of query.Search and query.Nodes (locally or through --server's GraphQL).

// frontDoorCommand makes a top-level command of a question, taking its
// positional arguments through args.
func frontDoorCommand(q question, args func([]string) error, use string) *cobra.Command {
	var (
		api    apiFlags
		output string
	)
	cmd := q.command(&api, &output)
	cmd.Use = use
	api.register(cmd.Flags())
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	cmd.Args = cobra.ArbitraryArgs
	cmd.PreRunE = func(_ *cobra.Command, a []string) error { return args(a) }
	return cmd
}

func newSearchCommand() *cobra.Command {
	var text string
	var kinds []string
	var first int
	const op = `query($text: String!, $kinds: [NodeKind!], $first: Int) {
  search(text: $text, kinds: $kinds, first: $first) { items { node { ...N } match matched ref } pageInfo { ...P } totalCount }
}`
	q := question{
		name:  "search",
		short: "Find nodes by a fragment: a name without its version, a path, part of a purl or digest, a signer, with typos",
		example: `  modelgraph search acme/clinical-notes-raw
  modelgraph search s3://acme-data/datasets/clinical-notes-raw/2024-01
  modelgraph search clincal notes --kind Dataset`,
		flags: func(cmd *cobra.Command, _ *qargs) {
			cmd.Flags().StringSliceVar(&kinds, "kind", nil, "node kinds to search (default all)")
			cmd.Flags().IntVar(&first, "first", 20, "how many results")
		},
		local: func(ctx context.Context, s *query.Service, _ qargs) (any, error) {
			ks, err := (qargs{kinds: kinds}).nodeKinds()
			if err != nil {
				return nil, err
			}
			return s.Search(ctx, text, ks, query.Page{First: first})
		},
		remote: func(ctx context.Context, c *apiClient, _ qargs) (any, error) {
			return remoteCall[query.SearchAnswer](ctx, c, op, "search", map[string]any{"text": text, "kinds": kinds, "first": first})
		},
		table: func(w io.Writer, v any) {
			r := v.(query.SearchAnswer)
			tw := tabw(w)
			fmt.Fprintln(tw, "KIND\tNAME\tMATCH\tREF")
			for _, h := range r.Items {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.Node.Kind, h.Node.Name, h.Match, h.Ref)
			}
			tw.Flush()
			fmt.Fprintf(w, "%d of %d\n", len(r.Items), r.TotalCount)
		},
	}
	return frontDoorCommand(q, func(a []string) error {
		text = strings.Join(a, " ")
		if strings.TrimSpace(text) == "" {
			return errors.New("give the text to search for: modelgraph search acme/llm-7b")
		}
		return nil
	}, "search TEXT...")
}

func newListCommand() *cobra.Command {
	var (
		kind    string
		f       query.NodeFilter
		reached string
		since   string
	)
	const op = `query($kind: NodeKind!, $filter: NodeFilterInput, $first: Int, $after: String) {
  nodes(kind: $kind, filter: $filter, first: $first, after: $after) {
    items { node { ...N } identity { ...I } environments state reachedBy { ...R } lastIngested } pageInfo { ...P }
  }
}`
	merge := func(acc *query.InventoryAnswer, next query.InventoryAnswer) int {
		if acc != nil {
			acc.Items = append(acc.Items, next.Items...)
			acc.PageInfo = next.PageInfo
		}
		return len(next.Items)
	}
	filter := func() (query.NodeFilter, error) {
		out := f
		switch reached {
		case "":
		case "true", "false":
			v := reached == "true"
			out.ReachedByActiveAdvisory = &v
		default:
			return out, fmt.Errorf("--reached %q: want true or false", reached)
		}
		if since != "" {
			t, err := (qargs{at: since}).atTime()
			if err != nil {
				return out, fmt.Errorf("--since: %w", err)
			}
			out.IngestedSince = &t
		}
		return out, nil
	}
	q := question{
		name:  "list",
		short: "List the nodes of one kind, filtered: environment, state, verification status, advisory reach, signer, ingested since",
		example: `  modelgraph list Deployment --environment production
  modelgraph list Model --status unverified --reached true
  modelgraph list Model --signer release@acme.example --since 2025-06-01`,
		flags: func(cmd *cobra.Command, _ *qargs) {
			fl := cmd.Flags()
			fl.StringVar(&f.Environment, "environment", "", "a deployment's environment; a model deployed there")
			fl.StringVar(&f.State, "state", "", "active or withdrawn")
			fl.StringVar(&f.Status, "status", "", "verified, unverified, failed, unverifiable or unsigned")
			fl.StringVar(&reached, "reached", "", "true: only nodes an active advisory reaches; false: only the others")
			fl.StringVar(&f.Signer, "signer", "", "signer of a document about the node (SAN, e-mail, key id)")
			fl.StringVar(&since, "since", "", "a document mentioning it was ingested at or after (RFC 3339 or date)")
		},
		local: func(ctx context.Context, s *query.Service, _ qargs) (any, error) {
			nf, err := filter()
			if err != nil {
				return nil, err
			}
			return pages(func(after string) (query.InventoryAnswer, query.PageInfo, error) {
				r, err := s.Nodes(ctx, graph.NodeKind(kind), nf, query.Page{First: query.MaxPageSize, After: after})
				return r, r.PageInfo, err
			}, merge)
		},
		remote: func(ctx context.Context, c *apiClient, _ qargs) (any, error) {
			nf, err := filter()
			if err != nil {
				return nil, err
			}
			vf := map[string]any{"environment": nf.Environment, "state": nf.State, "status": nf.Status, "signer": nf.Signer}
			if nf.ReachedByActiveAdvisory != nil {
				vf["reachedByActiveAdvisory"] = *nf.ReachedByActiveAdvisory
			}
			if nf.IngestedSince != nil {
				vf["ingestedSince"] = nf.IngestedSince.Format(time.RFC3339Nano)
			}
			return pages(func(after string) (query.InventoryAnswer, query.PageInfo, error) {
				r, err := remoteCall[query.InventoryAnswer](ctx, c, op, "nodes", map[string]any{"kind": kind, "filter": vf, "first": remotePage, "after": after})
				return r, r.PageInfo, err
			}, merge)
		},
		table: func(w io.Writer, v any) {
			r := v.(query.InventoryAnswer)
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
		},
	}
	return frontDoorCommand(q, func(a []string) error {
		if len(a) != 1 {
			return errors.New("give one node kind: modelgraph list Model (kinds: Model, Dataset, Deployment, Advisory, Package, Identity, ...)")
		}
		k, ok := nodeKind(a[0])
		if !ok {
			return fmt.Errorf("%q is not a node kind", a[0])
		}
		kind = string(k)
		return nil
	}, "list KIND")
}
