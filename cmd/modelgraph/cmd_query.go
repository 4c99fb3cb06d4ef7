package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/admission"
	"github.com/modelgraph/modelgraph/internal/app"
	"github.com/modelgraph/modelgraph/internal/config"
	"github.com/modelgraph/modelgraph/internal/query"
)

// maxItems bounds what one CLI answer collects over all its pages.
const maxItems = 100_000

// remotePage is the page size asked of a server: small enough for the
// server's complexity limit with the full selection below.
const remotePage = 200

// exitDenied is the exit status of an admission the policy denies.
const exitDenied = 3

func newQueryCommand() *cobra.Command {
	var (
		api    apiFlags
		output string
		op     string
		vars   string
	)
	cmd := &cobra.Command{
		Use:   "query [QUESTION]",
		Short: "Ask incident questions: locally against the store, or against --server",
		Long: `Query answers incident-response questions. Each answer carries, for every
hop, the documents behind it, who signed them and whether the signature
verified; hops resting only on unsigned, unverifiable or failed evidence are
marked.

Without --server the questions run against the configured local store (the
store flags below; an embedded store cannot be opened while "modelgraph
serve" holds it: use --server then). With --server they run on the server
through its GraphQL API and print the same answers.

  modelgraph query impact --dataset clinical-notes@v3
  modelgraph query deployed-trained-on --dataset s3://acme-data/clinical-notes/v3/
  modelgraph query trace --model sha256:ab12...
  modelgraph query --server https://mg.example --token-file tok --graphql '{ stats { nodes } }'

References may be a digest (sha256:...), a purl, a name (acme/llm-7b), an
hf:// or https://huggingface.co URI, a dataset URI, a node id or any graph
key. --output json prints the full answer (the GraphQL answer types).`,
		Args: cobra.NoArgs,
	}
	api.register(cmd.PersistentFlags())
	cmd.PersistentFlags().StringVarP(&output, "output", "o", "table", "output: table or json")
	cmd.Flags().StringVar(&op, "graphql", "", "a GraphQL operation to send to --server; prints the raw JSON answer")
	cmd.Flags().StringVar(&vars, "variables", "", "JSON object of variables for --graphql")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if op == "" {
			return errors.New("give a question (see --help) or --graphql with --server")
		}
		c, err := api.client()
		if err != nil {
			return err
		}
		if c == nil {
			return errors.New("--graphql needs --server")
		}
		var v map[string]any
		if vars != "" {
			if err := json.Unmarshal([]byte(vars), &v); err != nil {
				return fmt.Errorf("--variables: %w", err)
			}
		}
		raw, err := c.graphqlRaw(cmd.Context(), op, v)
		if err != nil {
			return err
		}
		var pretty any
		if err := json.Unmarshal(raw, &pretty); err != nil {
			return fmt.Errorf("graphql answer: %w", err)
		}
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		if err := enc.Encode(pretty); err != nil {
			return err
		}
		if m, ok := pretty.(map[string]any); ok && m["errors"] != nil {
			return &exitError{code: 1, err: errors.New("the server answered with errors")}
		}
		return nil
	}
	for _, q := range questions() {
		cmd.AddCommand(q.command(&api, &output))
	}
	return cmd
}

// qargs holds every question's flags.
type qargs struct {
	ref, from, to      string
	identity, issuer   string
	purl, versionRange string
	digest             string
	depth              int
	kinds              []string
	activeOnly         bool
	includeFiles       bool
	allowSigners       []string
	maxUnsignedHops    int
	allowUnsigned      bool
	ignoreAdvisories   bool
	at                 string // RFC 3339 time or date: ask about the past
}

// atTime parses --at ("" is now).
func (a qargs) atTime() (time.Time, error) {
	if a.at == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, a.at); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--at %q: want an RFC 3339 time or a date (2025-06-01)", a.at)
}

func (a qargs) nodeKinds() ([]graph.NodeKind, error) {
	var out []graph.NodeKind
	for _, k := range a.kinds {
		nk, ok := nodeKind(k)
		if !ok {
			return nil, fmt.Errorf("--kind %q: want one of %v", k, graph.NodeKinds)
		}
		out = append(out, nk)
	}
	return out, nil
}

func nodeKind(s string) (graph.NodeKind, bool) {
	for _, nk := range graph.NodeKinds {
		if strings.EqualFold(s, string(nk)) {
			return nk, true
		}
	}
	return "", false
}

// question is one named question: its flags, how to answer it locally and
// remotely (both give the same Go type), and how to print it.
type question struct {
	name, short, example string
	flags                func(cmd *cobra.Command, a *qargs)
	required             []string
	local                func(ctx context.Context, s *query.Service, a qargs) (any, error)
	remote               func(ctx context.Context, c *apiClient, a qargs) (any, error)
	table                func(w io.Writer, answer any)
	// verdict turns an answer into an exit status (admission).
	verdict func(answer any) error
}

func (q question) command(api *apiFlags, output *string) *cobra.Command {
	var a qargs
	cmd := &cobra.Command{Use: q.name, Short: q.short, Example: q.example, Args: cobra.NoArgs}
	settings := withSettings(cmd)
	if q.flags != nil {
		q.flags(cmd, &a)
	}
	for _, f := range q.required {
		_ = cmd.MarkFlagRequired(f)
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if *output != "table" && *output != "json" {
			return fmt.Errorf("--output %q: want table or json", *output)
		}
		ctx := cmd.Context()
		c, err := api.client()
		if err != nil {
			return err
		}
		var answer any
		if c != nil {
			answer, err = q.remote(ctx, c, a)
		} else {
			answer, err = runLocal(ctx, settings, func(s *query.Service) (any, error) { return q.local(ctx, s, a) })
		}
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		if *output == "json" {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			if err := enc.Encode(answer); err != nil {
				return err
			}
		} else {
			q.table(out, answer)
		}
		if q.verdict != nil {
			return q.verdict(answer)
		}
		return nil
	}
	return cmd
}

// runLocal opens the configured store read-side and runs fn over it.
func runLocal(ctx context.Context, settings func() (config.Config, error), fn func(*query.Service) (any, error)) (any, error) {
	c, err := settings()
	if err != nil {
		return nil, err
	}
	store, err := app.OpenStore(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("opening the store %s: %w (if `modelgraph serve` is using it, ask the server: --server URL)", c.EmbeddedPath(), err)
	}
	defer store.Close()
	return fn(query.New(store))
}

// pages collects every page of a list answer: fetch returns one page and
// its PageInfo, merge appends a page to the accumulated answer.
func pages[T any](fetch func(after string) (T, query.PageInfo, error), merge func(acc *T, next T) int) (T, error) {
	var acc T
	after := ""
	total := 0
	for first := true; ; first = false {
		p, info, err := fetch(after)
		if err != nil {
			return acc, err
		}
		if first {
			acc = p
			total = merge(nil, p)
		} else {
			total += merge(&acc, p)
		}
		if !info.HasNextPage || info.EndCursor == "" || info.EndCursor == after {
			return acc, nil
		}
		if total >= maxItems {
			fmt.Fprintf(os.Stderr, "warning: stopped after %d items; use --output json with --server and GraphQL paging for more\n", total)
			return acc, nil
		}
		after = info.EndCursor
	}
}

// GraphQL selections for the remote answers: every field the Go answer
// types carry, so --server prints what a local run prints.
const fragments = `
fragment N on Node { id kind name keys attrs { name value documents } documents }
fragment R on NodeRef { id kind name }
fragment S on Signer { method identity issuer keyId status reason scope }
fragment E on Evidence { document type predicateType source ingestedAt status role signers { ...S } }
fragment H on Hop { from { ...R } kind to { ...R } attrs { name value documents } status verified weakness evidence { ...E } }
fragment I on Identity { status verified reason basis vouchedBy describedBy { ...E } }
fragment P on PageInfo { endCursor hasNextPage }
`

func remoteCall[T any](ctx context.Context, c *apiClient, op, field string, vars map[string]any) (T, error) {
	var out T
	err := c.graphql(ctx, withFragments(op), vars, field, &out)
	return out, err
}

var fragmentDef = regexp.MustCompile(`(?m)^fragment (\w+) on .*$`)
var fragmentUse = regexp.MustCompile(`\.\.\.(\w+)`)

// withFragments appends the fragments op spreads, and those they spread:
// GraphQL rejects an operation that defines a fragment it does not use.
func withFragments(op string) string {
	defs := map[string]string{}
	for _, m := range fragmentDef.FindAllStringSubmatch(fragments, -1) {
		defs[m[1]] = m[0]
	}
	added := map[string]bool{}
	var sb strings.Builder
	sb.WriteString(op)
	queue := []string{op}
	for len(queue) > 0 {
		text := queue[0]
		queue = queue[1:]
		for _, m := range fragmentUse.FindAllStringSubmatch(text, -1) {
			def, ok := defs[m[1]]
			if !ok || added[m[1]] || strings.Contains(op, "fragment "+m[1]+" on") {
				continue
			}
			added[m[1]] = true
			sb.WriteString("\n" + def)
			queue = append(queue, def)
		}
	}
	return sb.String()
}

func optInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func lineageFlags(what string) func(*cobra.Command, *qargs) {
	return func(cmd *cobra.Command, a *qargs) {
		cmd.Flags().StringVar(&a.ref, "ref", "", what+" (digest, name, purl, URI, node id)")
		for _, alias := range []string{"model", "dataset", "file", "package", "deployment"} {
			cmd.Flags().StringVar(&a.ref, alias, "", "same as --ref")
		}
		cmd.Flags().IntVar(&a.depth, "depth", 0, fmt.Sprintf("walk depth (default %d, at most %d)", query.DefaultDepth, query.MaxDepth))
		cmd.Flags().StringSliceVar(&a.kinds, "kind", nil, "only list these node kinds (Model, Dataset, Deployment, ...)")
	}
}

const lineageOp = `query($ref: String!, $depth: Int, $kinds: [NodeKind!], $files: Boolean, $first: Int, $after: String) {
  %s(ref: $ref, depth: $depth, kinds: $kinds, %sfirst: $first, after: $after) {
    roots { ...N } reached { node { ...N } depth path { ...H } status } pageInfo { ...P } totalCount truncated depthLimited
    signers { signer { ...S } documents }
  }
}`

func lineageQuestion(name, short, example, what string, upstream bool) question {
	return question{
		name: name, short: short, example: example,
		flags: func(cmd *cobra.Command, a *qargs) {
			lineageFlags(what)(cmd, a)
			if upstream {
				cmd.Flags().BoolVar(&a.includeFiles, "files", false, "include the files models and datasets contain")
			}
		},
		local: func(ctx context.Context, s *query.Service, a qargs) (any, error) {
			if a.ref == "" {
				return nil, errors.New("give --ref (or --model, --dataset, ...)")
			}
			kinds, err := a.nodeKinds()
			if err != nil {
				return nil, err
			}
			return pages(func(after string) (query.Lineage, query.PageInfo, error) {
				o := query.LineageOptions{Depth: a.depth, Kinds: kinds, IncludeFiles: a.includeFiles, Page: query.Page{First: query.MaxPageSize, After: after}}
				var l query.Lineage
				var err error
				if upstream {
					l, err = s.Trace(ctx, a.ref, o)
				} else {
					l, err = s.Impact(ctx, a.ref, o)
				}
				return l, l.PageInfo, err
			}, mergeLineage)
		},
		remote: func(ctx context.Context, c *apiClient, a qargs) (any, error) {
			if a.ref == "" {
				return nil, errors.New("give --ref (or --model, --dataset, ...)")
			}
			field, files := "impact", ""
			if upstream {
				field, files = "trace", "includeFiles: $files, "
			}
			op := fmt.Sprintf(lineageOp, field, files)
			if !upstream {
				op = strings.Replace(op, "$files: Boolean, ", "", 1)
			}
			return pages(func(after string) (query.Lineage, query.PageInfo, error) {
				vars := map[string]any{"ref": a.ref, "depth": optInt(a.depth), "kinds": a.kinds, "first": remotePage, "after": after}
				if upstream {
					vars["files"] = a.includeFiles
				}
				l, err := remoteCall[query.Lineage](ctx, c, op, field, vars)
				return l, l.PageInfo, err
			}, mergeLineage)
		},
		table: func(w io.Writer, v any) { lineageTable(w, v.(query.Lineage), upstream) },
	}
}

func mergeLineage(acc *query.Lineage, next query.Lineage) int {
	if acc != nil {
		acc.Reached = append(acc.Reached, next.Reached...)
		acc.PageInfo = next.PageInfo
	}
	return len(next.Reached)
}

func questions() []question {
	return []question{
		lineageQuestion("trace", "Upstream of an artifact: datasets, base models, code, packages, training runs, signers",
			"  modelgraph query trace --model acme/llm-7b-chat", "the artifact to trace", true),
		lineageQuestion("impact", "Downstream of an artifact: derived models and datasets, deployments",
			"  modelgraph query impact --dataset clinical-notes@v3\n  modelgraph query impact --file sha256:ab12... --kind Deployment", "the artifact whose impact to list", false),
		deployedQuestion(),
		explainQuestion(),
		signaturesQuestion(),
		unverifiedQuestion(),
		packageQuestion(),
		advisoriesQuestion(),
		advisoryQuestion(),
		rollbackQuestion(),
		admissionQuestion(),
		lookupQuestion(),
		statsQuestion(),
	}
}

func deployedQuestion() question {
	const op = `query($ref: String!, $depth: Int, $active: Boolean, $at: Time, $first: Int, $after: String) {
  deployedModelsTrainedOn(dataset: $ref, depth: $depth, activeOnly: $active, at: $at, first: $first, after: $after) {
    datasets { ...N } models { ...R }
    deployments { deployment { ...N } model { ...R } environment deployedAt state path { ...H } status history { model { ...R } state windows { from to } trusted records { document deployedAt undeployedAt status trusted } } }
    pageInfo { ...P } totalCount truncated depthLimited
  }
}`
	merge := func(acc *query.DeployedAnswer, next query.DeployedAnswer) int {
		if acc != nil {
			acc.Deployments = append(acc.Deployments, next.Deployments...)
			acc.PageInfo = next.PageInfo
		}
		return len(next.Deployments)
	}
	return question{
		name: "deployed-trained-on", short: "Deployments running a model trained (transitively) on a dataset",
		example:  "  modelgraph query deployed-trained-on --dataset clinical-notes@v3 --active",
		required: []string{"dataset"},
		flags: func(cmd *cobra.Command, a *qargs) {
			cmd.Flags().StringVar(&a.ref, "dataset", "", "the dataset (digest, name@version, URI, hf://datasets/...)")
			cmd.Flags().IntVar(&a.depth, "depth", 0, "walk depth")
			cmd.Flags().BoolVar(&a.activeOnly, "active", false, "leave out deployments not running a model of the lineage (at --at, or now)")
			cmd.Flags().StringVar(&a.at, "at", "", "ask about a moment in the past: RFC 3339 time or date (2025-06-01)")
		},
		local: func(ctx context.Context, s *query.Service, a qargs) (any, error) {
			at, err := a.atTime()
			if err != nil {
				return nil, err
			}
			return pages(func(after string) (query.DeployedAnswer, query.PageInfo, error) {
				d, err := s.DeployedModelsTrainedOn(ctx, a.ref, query.DeployedOptions{Depth: a.depth, ActiveOnly: a.activeOnly, At: at, Page: query.Page{First: query.MaxPageSize, After: after}})
				return d, d.PageInfo, err
			}, merge)
		},
		remote: func(ctx context.Context, c *apiClient, a qargs) (any, error) {
			at, err := a.atTime()
			if err != nil {
				return nil, err
			}
			var atVar any
			if !at.IsZero() {
				atVar = at.Format(time.RFC3339Nano)
			}
			return pages(func(after string) (query.DeployedAnswer, query.PageInfo, error) {
				d, err := remoteCall[query.DeployedAnswer](ctx, c, op, "deployedModelsTrainedOn",
					map[string]any{"ref": a.ref, "depth": optInt(a.depth), "active": a.activeOnly, "at": atVar, "first": remotePage, "after": after})
				return d, d.PageInfo, err
			}, merge)
		},
		table: func(w io.Writer, v any) {
			d := v.(query.DeployedAnswer)
			fmt.Fprintf(w, "dataset: %s\n", nodeNames(d.Datasets))
			var models []string
			for _, m := range d.Models {
				models = append(models, m.Name)
			}
			fmt.Fprintf(w, "models trained on it (%d): %s\n", len(d.Models), strings.Join(models, ", "))
			tw := tabw(w)
			fmt.Fprintln(tw, "DEPLOYMENT\tENVIRONMENT\tSTATE\tMODEL\tDEPLOYED AT\tEVIDENCE\tPATH")
			for _, x := range d.Deployments {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.Deployment.Name, dash(x.Environment), x.State, x.Model.Name, dash(x.DeployedAt), x.Status, chain(x.Path, x.Deployment.ID))
			}
			tw.Flush()
			for _, x := range d.Deployments {
				for _, h := range x.History {
					var ws []string
					for _, win := range h.Windows {
						ws = append(ws, win.From+" .. "+dash(win.To))
					}
					trust := "trusted records"
					if !h.Trusted {
						trust = "no trusted record"
					}
					fmt.Fprintf(w, "  %s history: %s %s [%s] (%s)\n", x.Deployment.Name, h.Model.Name, h.State, strings.Join(ws, ", "), trust)
				}
			}
			fmt.Fprintf(w, "%d deployment(s)%s\n", len(d.Deployments), cut(d.Truncated, d.DepthLimited))
		},
	}
}

func explainQuestion() question {
	const op = `query($from: String!, $to: String!, $depth: Int) {
  explain(from: $from, to: $to, depth: $depth) { from { ...N } to { ...N } found direction path { ...H } verified weakHops summary }
}`
	return question{
		name: "explain", short: "The evidence chain between two artifacts, hop by hop",
		example:  "  modelgraph query explain --from deployment:prod/eu-1/chat/api --to clinical-notes@v3",
		required: []string{"from", "to"},
		flags: func(cmd *cobra.Command, a *qargs) {
			cmd.Flags().StringVar(&a.from, "from", "", "where the chain starts")
			cmd.Flags().StringVar(&a.to, "to", "", "where it ends")
			cmd.Flags().IntVar(&a.depth, "depth", 0, "longest chain to look for")
		},
		local: func(ctx context.Context, s *query.Service, a qargs) (any, error) {
			return s.Explain(ctx, a.from, a.to, a.depth)
		},
		remote: func(ctx context.Context, c *apiClient, a qargs) (any, error) {
			return remoteCall[query.Explanation](ctx, c, op, "explain", map[string]any{"from": a.from, "to": a.to, "depth": optInt(a.depth)})
		},
		table: func(w io.Writer, v any) {
			e := v.(query.Explanation)
			fmt.Fprintf(w, "%s → %s: %s\n", nodeNames(e.From), nodeNames(e.To), e.Summary)
			for i, h := range e.Path {
				fmt.Fprintf(w, "%2d. %s %s %s  [%s]\n", i+1, h.From.Name, h.Kind, h.To.Name, h.Status)
				for _, ev := range h.Evidence {
					fmt.Fprintf(w, "      %s\n", evidenceLine(ev))
				}
				if h.Weakness != "" {
					fmt.Fprintf(w, "      ! %s\n", h.Weakness)
				}
			}
		},
	}
}

func signaturesQuestion() question {
	const op = `query($identity: String!, $issuer: String, $first: Int, $after: String) {
  signatures(identity: $identity, issuer: $issuer, first: $first, after: $after) {
    identities { ...N } documents { document { ...E } signature { ...S } describes { ...R } } pageInfo { ...P } totalCount
  }
}`
	merge := func(acc *query.SignaturesAnswer, next query.SignaturesAnswer) int {
		if acc != nil {
			acc.Documents = append(acc.Documents, next.Documents...)
			acc.PageInfo = next.PageInfo
		}
		return len(next.Documents)
	}
	return question{
		name: "signatures", short: "Documents signed by an identity, what they describe, and whether each signature verified",
		example:  "  modelgraph query signatures --identity ci@acme.dev --issuer https://token.actions.githubusercontent.com",
		required: []string{"identity"},
		flags: func(cmd *cobra.Command, a *qargs) {
			cmd.Flags().StringVar(&a.identity, "identity", "", "certificate SAN (e-mail, workflow URI), key id, or oidc:/key: key")
			cmd.Flags().StringVar(&a.issuer, "issuer", "", "OIDC issuer (any issuer when empty)")
		},
		local: func(ctx context.Context, s *query.Service, a qargs) (any, error) {
			return pages(func(after string) (query.SignaturesAnswer, query.PageInfo, error) {
				r, err := s.Signatures(ctx, a.identity, a.issuer, query.Page{First: query.MaxPageSize, After: after})
				return r, r.PageInfo, err
			}, merge)
		},
		remote: func(ctx context.Context, c *apiClient, a qargs) (any, error) {
			return pages(func(after string) (query.SignaturesAnswer, query.PageInfo, error) {
				r, err := remoteCall[query.SignaturesAnswer](ctx, c, op, "signatures", map[string]any{"identity": a.identity, "issuer": a.issuer, "first": remotePage, "after": after})
				return r, r.PageInfo, err
			}, merge)
		},
		table: func(w io.Writer, v any) {
			r := v.(query.SignaturesAnswer)
			fmt.Fprintf(w, "signer: %s\n", nodeNames(r.Identities))
			tw := tabw(w)
			fmt.Fprintln(tw, "DOCUMENT\tTYPE\tSIGNATURE\tINGESTED\tDESCRIBES\tREASON")
			for _, d := range r.Documents {
				var subj []string
				for _, n := range d.Describes {
					subj = append(subj, n.Name)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Document.Document, d.Document.Type, d.Signature.Status,
					d.Document.IngestedAt.Format("2006-01-02 15:04"), strings.Join(subj, ", "), dash(d.Signature.Reason))
			}
			tw.Flush()
			fmt.Fprintf(w, "%d document(s)\n", len(r.Documents))
		},
	}
}

func unverifiedQuestion() question {
	const op = `query($kinds: [NodeKind!], $first: Int, $after: String) {
  unverified(kinds: $kinds, first: $first, after: $after) { items { node { ...N } identity { ...I } } pageInfo { ...P } }
}`
	merge := func(acc *query.UnverifiedAnswer, next query.UnverifiedAnswer) int {
		if acc != nil {
			acc.Items = append(acc.Items, next.Items...)
			acc.PageInfo = next.PageInfo
		}
		return len(next.Items)
	}
	return question{
		name: "unverified", short: "Models and deployments that no verified document names as its subject",
		flags: func(cmd *cobra.Command, a *qargs) {
			cmd.Flags().StringSliceVar(&a.kinds, "kind", nil, "node kinds to check (default Model,Deployment)")
		},
		local: func(ctx context.Context, s *query.Service, a qargs) (any, error) {
			kinds, err := a.nodeKinds()
			if err != nil {
				return nil, err
			}
			return pages(func(after string) (query.UnverifiedAnswer, query.PageInfo, error) {
				r, err := s.Unverified(ctx, kinds, query.Page{First: query.MaxPageSize, After: after})
				return r, r.PageInfo, err
			}, merge)
		},
		remote: func(ctx context.Context, c *apiClient, a qargs) (any, error) {
			return pages(func(after string) (query.UnverifiedAnswer, query.PageInfo, error) {
				r, err := remoteCall[query.UnverifiedAnswer](ctx, c, op, "unverified", map[string]any{"kinds": a.kinds, "first": remotePage, "after": after})
				return r, r.PageInfo, err
			}, merge)
		},
		table: func(w io.Writer, v any) {
			r := v.(query.UnverifiedAnswer)
			tw := tabw(w)
			fmt.Fprintln(tw, "KIND\tNAME\tSTATUS\tREASON")
			for _, it := range r.Items {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Node.Kind, it.Node.Name, it.Identity.Status, it.Identity.Reason)
			}
			tw.Flush()
			fmt.Fprintf(w, "%d unverified\n", len(r.Items))
		},
	}
}

const affectedSel = `affected { node { ...N } via { ...R } depth path { ...H } status state history { model { ...R } state windows { from to } trusted records { document deployedAt undeployedAt status trusted } } } pageInfo { ...P } totalCount truncated depthLimited`

func packageQuestion() question {
	const op = `query($purl: String!, $range: String, $depth: Int, $first: Int, $after: String) {
  affectedByPackage(purl: $purl, range: $range, depth: $depth, first: $first, after: $after) {
    packages { package { ...R } purl version } ` + affectedSel + `
  }
}`
	merge := func(acc *query.PackageAnswer, next query.PackageAnswer) int {
		if acc != nil {
			acc.Affected = append(acc.Affected, next.Affected...)
			acc.PageInfo = next.PageInfo
		}
		return len(next.Affected)
	}
	return question{
		name: "affected-by-package", short: "Models and deployments depending, transitively, on a package version range",
		example:  `  modelgraph query affected-by-package --purl pkg:pypi/torch --range ">=2.0.0,<2.2.0"`,
		required: []string{"purl"},
		flags: func(cmd *cobra.Command, a *qargs) {
			cmd.Flags().StringVar(&a.purl, "purl", "", "package URL without version (or with one, for an exact match)")
			cmd.Flags().StringVar(&a.versionRange, "range", "", `version range: ">=2.0.0,<2.15.0", "==2.1.*", "~=2.2", ">=1 <2 || >=3"`)
			cmd.Flags().IntVar(&a.depth, "depth", 0, "walk depth")
		},
		local: func(ctx context.Context, s *query.Service, a qargs) (any, error) {
			return pages(func(after string) (query.PackageAnswer, query.PageInfo, error) {
				r, err := s.AffectedByPackage(ctx, a.purl, a.versionRange, a.depth, query.Page{First: query.MaxPageSize, After: after})
				return r, r.PageInfo, err
			}, merge)
		},
		remote: func(ctx context.Context, c *apiClient, a qargs) (any, error) {
			return pages(func(after string) (query.PackageAnswer, query.PageInfo, error) {
				r, err := remoteCall[query.PackageAnswer](ctx, c, op, "affectedByPackage",
					map[string]any{"purl": a.purl, "range": a.versionRange, "depth": optInt(a.depth), "first": remotePage, "after": after})
				return r, r.PageInfo, err
			}, merge)
		},
		table: func(w io.Writer, v any) {
			r := v.(query.PackageAnswer)
			for _, p := range r.Packages {
				fmt.Fprintf(w, "matched %s (version %s)\n", p.Purl, dash(p.Version))
			}
			affectedTable(w, r.Affected, r.Truncated, r.DepthLimited)
		},
	}
}

func advisoriesQuestion() question {
	const op = `query($active: Boolean, $first: Int, $after: String) {
  advisories(activeOnly: $active, first: $first, after: $after) { items { node { ...N } id severity summary status active affects { ...H } } pageInfo { ...P } }
}`
	merge := func(acc *query.AdvisoriesAnswer, next query.AdvisoriesAnswer) int {
		if acc != nil {
			acc.Items = append(acc.Items, next.Items...)
			acc.PageInfo = next.PageInfo
		}
		return len(next.Items)
	}
	return question{
		name: "advisories", short: "Advisories and what they affect directly",
		flags: func(cmd *cobra.Command, a *qargs) {
			cmd.Flags().BoolVar(&a.activeOnly, "active", false, "only active advisories")
		},
		local: func(ctx context.Context, s *query.Service, a qargs) (any, error) {
			return pages(func(after string) (query.AdvisoriesAnswer, query.PageInfo, error) {
				r, err := s.Advisories(ctx, a.activeOnly, query.Page{First: query.MaxPageSize, After: after})
				return r, r.PageInfo, err
			}, merge)
		},
		remote: func(ctx context.Context, c *apiClient, a qargs) (any, error) {
			return pages(func(after string) (query.AdvisoriesAnswer, query.PageInfo, error) {
				r, err := remoteCall[query.AdvisoriesAnswer](ctx, c, op, "advisories", map[string]any{"active": a.activeOnly, "first": remotePage, "after": after})
				return r, r.PageInfo, err
			}, merge)
		},
		table: func(w io.Writer, v any) {
			r := v.(query.AdvisoriesAnswer)
			tw := tabw(w)
			fmt.Fprintln(tw, "ID\tSEVERITY\tSTATUS\tACTIVE\tAFFECTS\tSUMMARY")
			for _, x := range r.Items {
				var aff []string
				for _, h := range x.Affects {
					aff = append(aff, string(h.To.Kind)+" "+h.To.Name)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\n", x.ID, dash(x.Severity), dash(x.Status), x.Active, strings.Join(aff, ", "), dash(x.Summary))
			}
			tw.Flush()
		},
	}
}

func advisoryQuestion() question {
	const op = `query($ref: String!, $depth: Int, $first: Int, $after: String) {
  affectedByAdvisory(advisory: $ref, depth: $depth, first: $first, after: $after) {
    advisory { node { ...N } id severity summary status active affects { ...H } } ` + affectedSel + `
  }
}`
	merge := func(acc *query.AdvisoryAnswer, next query.AdvisoryAnswer) int {
		if acc != nil {
			acc.Affected = append(acc.Affected, next.Affected...)
			acc.PageInfo = next.PageInfo
		}
		return len(next.Affected)
	}
	return question{
		name: "affected-by-advisory", short: "Models and deployments an advisory reaches, directly or downstream",
		required: []string{"advisory"},
		flags: func(cmd *cobra.Command, a *qargs) {
			cmd.Flags().StringVar(&a.ref, "advisory", "", "advisory id (or advisory:/vuln: key)")
			cmd.Flags().IntVar(&a.depth, "depth", 0, "walk depth")
		},
		local: func(ctx context.Context, s *query.Service, a qargs) (any, error) {
			return pages(func(after string) (query.AdvisoryAnswer, query.PageInfo, error) {
				r, err := s.AffectedByAdvisory(ctx, a.ref, a.depth, query.Page{First: query.MaxPageSize, After: after})
				return r, r.PageInfo, err
			}, merge)
		},
		remote: func(ctx context.Context, c *apiClient, a qargs) (any, error) {
			return pages(func(after string) (query.AdvisoryAnswer, query.PageInfo, error) {
				r, err := remoteCall[query.AdvisoryAnswer](ctx, c, op, "affectedByAdvisory", map[string]any{"ref": a.ref, "depth": optInt(a.depth), "first": remotePage, "after": after})
				return r, r.PageInfo, err
			}, merge)
		},
		table: func(w io.Writer, v any) {
			r := v.(query.AdvisoryAnswer)
			active := "inactive"
			if r.Advisory.Active {
				active = "active"
			}
			fmt.Fprintf(w, "advisory %s (%s, %s, severity %s): %s\n", r.Advisory.ID, active, dash(r.Advisory.Status), dash(r.Advisory.Severity), dash(r.Advisory.Summary))
			affectedTable(w, r.Affected, r.Truncated, r.DepthLimited)
		},
	}
}

func rollbackQuestion() question {
	const op = `query($ref: String!, $depth: Int) {
  rollbackCandidates(deployment: $ref, depth: $depth) {
    deployment { ...N } current { ...R } incomplete
    candidates { ...C } recommended { ...C }
  }
}
fragment C on RollbackCandidate { model { ...N } relation distance kept reasons advisories { ...R } identity { ...I } path { ...H } }`
	return question{
		name: "rollback", short: "Earlier models on a deployment's lineage that no active advisory reaches, nearest first",
		example:  "  modelgraph query rollback --deployment deployment:prod/eu-1/chat/api",
		required: []string{"deployment"},
		flags: func(cmd *cobra.Command, a *qargs) {
			cmd.Flags().StringVar(&a.ref, "deployment", "", "the deployment (deployment:<env>/<cluster>/<namespace>/<service>, or its endpoint)")
			cmd.Flags().IntVar(&a.depth, "depth", 0, "DERIVED_FROM hops to look along (default 6)")
		},
		local: func(ctx context.Context, s *query.Service, a qargs) (any, error) {
			return s.RollbackCandidates(ctx, a.ref, a.depth)
		},
		remote: func(ctx context.Context, c *apiClient, a qargs) (any, error) {
			return remoteCall[query.RollbackAnswer](ctx, c, op, "rollbackCandidates", map[string]any{"ref": a.ref, "depth": optInt(a.depth)})
		},
		table: func(w io.Writer, v any) {
			r := v.(query.RollbackAnswer)
			var cur []string
			for _, m := range r.Current {
				cur = append(cur, m.Name)
			}
			fmt.Fprintf(w, "deployment %s runs %s\n", r.Deployment.Name, strings.Join(cur, ", "))
			tw := tabw(w)
			fmt.Fprintln(tw, "RELATION\tDISTANCE\tKEPT\tMODEL\tEVIDENCE\tREASONS")
			for _, c := range r.Candidates {
				fmt.Fprintf(tw, "%s\t%d\t%v\t%s\t%s\t%s\n", c.Relation, c.Distance, c.Kept, c.Model.Name, c.Identity.Status, strings.Join(c.Reasons, "; "))
			}
			tw.Flush()
			if r.Recommended != nil {
				fmt.Fprintf(w, "recommended: %s (%s, %d hop(s))\n", r.Recommended.Model.Name, r.Recommended.Relation, r.Recommended.Distance)
			} else {
				fmt.Fprintln(w, "recommended: none (no candidate is clear of active advisories)")
			}
			if r.Incomplete {
				fmt.Fprintln(w, "warning: a walk hit its bounds; an advisory may reach further than shown")
			}
		},
	}
}

func admissionQuestion() question {
	const op = `query($digest: String!, $policy: PolicyInput) {
  admission(digest: $digest, policy: $policy) {
    digest subjects { ...N } allow checks { rule passed message hops { ...H } } identity { ...I }
    policy { requireVerified allowedSigners { identity issuer } denyOnAdvisory maxUnsignedHops depth }
  }
}`
	policy := func(a qargs) admission.Policy {
		p := admission.Policy{RequireVerified: !a.allowUnsigned, DenyOnAdvisory: !a.ignoreAdvisories, Depth: a.depth}
		for _, s := range a.allowSigners {
			id, iss, _ := strings.Cut(s, "@@")
			p.AllowedSigners = append(p.AllowedSigners, admission.SignerMatch{Identity: id, Issuer: iss})
		}
		if a.maxUnsignedHops >= 0 {
			n := a.maxUnsignedHops
			p.MaxUnsignedHops = &n
		}
		return p
	}
	return question{
		name: "admission", short: "Allow or deny deploying an artifact, with a reason per policy rule (exit status 3 when denied)",
		example:  "  modelgraph query admission --digest sha256:ab12... --allow-signer ci@acme.dev@@https://token.actions.githubusercontent.com --max-unsigned-hops 0",
		required: []string{"digest"},
		flags: func(cmd *cobra.Command, a *qargs) {
			cmd.Flags().StringVar(&a.digest, "digest", "", "the artifact's digest (sha256:...)")
			cmd.Flags().StringSliceVar(&a.allowSigners, "allow-signer", nil, "allowed signer: IDENTITY or IDENTITY@@ISSUER (repeatable)")
			cmd.Flags().IntVar(&a.maxUnsignedHops, "max-unsigned-hops", -1, "deny when more upstream hops than this rest on no verified document (-1: no limit)")
			cmd.Flags().BoolVar(&a.allowUnsigned, "allow-unsigned", false, "do not require a verified signature")
			cmd.Flags().BoolVar(&a.ignoreAdvisories, "ignore-advisories", false, "do not deny on active advisories")
			cmd.Flags().IntVar(&a.depth, "depth", 0, "upstream walk depth")
		},
		local: func(ctx context.Context, s *query.Service, a qargs) (any, error) {
			return admission.Decide(ctx, s, a.digest, policy(a))
		},
		remote: func(ctx context.Context, c *apiClient, a qargs) (any, error) {
			p := policy(a)
			signers := []map[string]any{}
			for _, m := range p.AllowedSigners {
				signers = append(signers, map[string]any{"identity": m.Identity, "issuer": m.Issuer})
			}
			pv := map[string]any{"requireVerified": p.RequireVerified, "denyOnAdvisory": p.DenyOnAdvisory, "allowedSigners": signers, "depth": optInt(p.Depth)}
			if p.MaxUnsignedHops != nil {
				pv["maxUnsignedHops"] = *p.MaxUnsignedHops
			}
			return remoteCall[admission.Decision](ctx, c, op, "admission", map[string]any{"digest": a.digest, "policy": pv})
		},
		table: func(w io.Writer, v any) {
			d := v.(admission.Decision)
			verdict := "DENY"
			if d.Allow {
				verdict = "ALLOW"
			}
			fmt.Fprintf(w, "%s %s %s\n", verdict, d.Digest, nodeNames(d.Subjects))
			for _, c := range d.Checks {
				mark := "pass"
				if !c.Passed {
					mark = "FAIL"
				}
				fmt.Fprintf(w, "  %s %-13s %s\n", mark, c.Rule, c.Message)
				for _, h := range c.Hops {
					fmt.Fprintf(w, "       %s %s %s [%s]\n", h.From.Name, h.Kind, h.To.Name, h.Status)
				}
			}
		},
		verdict: func(v any) error {
			if d := v.(admission.Decision); !d.Allow {
				return &exitError{code: exitDenied, err: fmt.Errorf("admission denied for %s", d.Digest)}
			}
			return nil
		},
	}
}

func lookupQuestion() question {
	const op = `query($ref: String!) { lookup(ref: $ref) { node { ...N } identity { ...I } edges { ...H } edgesTotal files } }`
	return question{
		name: "lookup", short: "What a reference names: the node, its own evidence and its neighbours",
		required: []string{"ref"},
		flags: func(cmd *cobra.Command, a *qargs) {
			cmd.Flags().StringVar(&a.ref, "ref", "", "digest, name, purl, URI or node id")
		},
		local: func(ctx context.Context, s *query.Service, a qargs) (any, error) { return s.Lookup(ctx, a.ref) },
		remote: func(ctx context.Context, c *apiClient, a qargs) (any, error) {
			return remoteCall[[]query.NodeDetail](ctx, c, op, "lookup", map[string]any{"ref": a.ref})
		},
		table: func(w io.Writer, v any) {
			for _, d := range v.([]query.NodeDetail) {
				fmt.Fprintf(w, "%s %s (id %s)\n  keys: %s\n  evidence: %s", d.Node.Kind, d.Node.Name, d.Node.ID, strings.Join(d.Node.Keys, ", "), d.Identity.Status)
				if d.Identity.Reason != "" {
					fmt.Fprintf(w, " — %s", d.Identity.Reason)
				}
				fmt.Fprintln(w)
				for _, e := range d.Identity.DescribedBy {
					fmt.Fprintf(w, "    %s\n", evidenceLine(e))
				}
				for _, a := range d.Node.Attrs {
					fmt.Fprintf(w, "  %s = %s\n", a.Name, clipText(a.Value, 100))
				}
				if d.Files > 0 {
					fmt.Fprintf(w, "  files: %d\n", d.Files)
				}
				for _, h := range d.Edges {
					fmt.Fprintf(w, "  %s %s %s [%s]\n", h.From.Name, h.Kind, h.To.Name, h.Status)
				}
				if d.EdgesTotal > len(d.Edges) {
					fmt.Fprintf(w, "  … %d more edges\n", d.EdgesTotal-len(d.Edges))
				}
			}
		},
	}
}

func statsQuestion() question {
	const op = `query { stats { nodes edges documents nodeKinds { kind count } edgeKinds { kind count } } }`
	return question{
		name: "stats", short: "What the store holds",
		local: func(ctx context.Context, s *query.Service, _ qargs) (any, error) { return s.Stats(ctx) },
		remote: func(ctx context.Context, c *apiClient, _ qargs) (any, error) {
			return remoteCall[query.Stats](ctx, c, op, "stats", nil)
		},
		table: func(w io.Writer, v any) {
			s := v.(query.Stats)
			fmt.Fprintf(w, "%d nodes, %d edges, %d documents\n", s.Nodes, s.Edges, s.Documents)
			for _, k := range append(s.NodeKinds, s.EdgeKinds...) {
				fmt.Fprintf(w, "  %-14s %d\n", k.Kind, k.Count)
			}
		},
	}
}

// --- rendering

func tabw(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 2, 4, 2, ' ', 0) }

func lineageTable(w io.Writer, l query.Lineage, upstream bool) {
	dir := "downstream of"
	if upstream {
		dir = "upstream of"
	}
	fmt.Fprintf(w, "%s %s\n", dir, nodeNames(l.Roots))
	tw := tabw(w)
	fmt.Fprintln(tw, "DEPTH\tKIND\tNAME\tEVIDENCE\tPATH")
	for _, r := range l.Reached {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", r.Depth, r.Node.Kind, r.Node.Name, r.Status, chain(r.Path, r.Node.ID))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d node(s)%s\n", len(l.Reached), cut(l.Truncated, l.DepthLimited))
	if len(l.Signers) > 0 {
		fmt.Fprintln(w, "signers:")
		for _, s := range l.Signers {
			fmt.Fprintf(w, "  %s %s (%d document(s))\n", signerName(s.Signer), s.Signer.Status, len(s.Documents))
		}
	}
}

func affectedTable(w io.Writer, as []query.AffectedNode, truncated, depthLimited bool) {
	tw := tabw(w)
	fmt.Fprintln(tw, "KIND\tNAME\tVIA\tDEPTH\tEVIDENCE\tPATH")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", a.Node.Kind, a.Node.Name, a.Via.Name, a.Depth, a.Status, chain(a.Path, a.Node.ID))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d affected%s\n", len(as), cut(truncated, depthLimited))
}

// chain renders a path ending at end as claims in walk order
// ("a -KIND-> b <-KIND- c"), marking hops that are not verified.
func chain(hops []query.Hop, end graph.NodeID) string {
	if len(hops) == 0 {
		return ""
	}
	// Walk back from the end to find each hop's near side.
	names := make([]string, len(hops)+1)
	near := make([]graph.NodeID, len(hops))
	cur := end
	for i := len(hops) - 1; i >= 0; i-- {
		h := hops[i]
		names[i+1] = h.To.Name
		near[i] = h.From.ID
		if h.From.ID == cur {
			names[i+1] = h.From.Name
			near[i] = h.To.ID
		}
		cur = near[i]
	}
	var sb strings.Builder
	for i, h := range hops {
		if i == 0 {
			if h.From.ID == near[0] {
				sb.WriteString(h.From.Name)
			} else {
				sb.WriteString(h.To.Name)
			}
		}
		mark := ""
		if !h.Verified {
			mark = "[" + string(h.Status) + "]"
		}
		if h.From.ID == near[i] {
			fmt.Fprintf(&sb, " -%s%s-> %s", h.Kind, mark, names[i+1])
		} else {
			fmt.Fprintf(&sb, " <-%s%s- %s", h.Kind, mark, names[i+1])
		}
	}
	return sb.String()
}

func evidenceLine(e query.Evidence) string {
	s := fmt.Sprintf("%s %s %s", e.Type, e.Document, e.Status)
	for _, sg := range e.Signers {
		s += fmt.Sprintf("; signed by %s: %s", signerName(sg), sg.Status)
		if sg.Reason != "" {
			s += " (" + sg.Reason + ")"
		}
	}
	return s
}

func signerName(s query.Signer) string {
	switch {
	case s.Identity != "" && s.Issuer != "":
		return s.Identity + " (" + s.Issuer + ")"
	case s.Identity != "":
		return s.Identity
	case s.KeyID != "":
		return "key " + s.KeyID
	}
	return s.Method
}

func nodeNames(ns []query.Node) string {
	var out []string
	for _, n := range ns {
		out = append(out, string(n.Kind)+" "+n.Name)
	}
	return strings.Join(out, ", ")
}

func cut(truncated, depthLimited bool) string {
	switch {
	case truncated:
		return " (walk stopped at its size limit: the list is incomplete)"
	case depthLimited:
		return " (walk stopped at its depth limit: raise --depth for more)"
	}
	return ""
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
