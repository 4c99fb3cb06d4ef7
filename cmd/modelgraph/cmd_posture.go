package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/posture"
	"github.com/modelgraph/modelgraph/internal/query"
)

// exitBelowLevel is the exit status when a subject sits below --min-level.
const exitBelowLevel = 3

const postureSel = `subject { ...R } environment model { ...R } level levelName missing passed failed unknown
  controls { id title stage level result message fix subjects { ...R } evidence { ...E } }`

const reportSel = `rows { subject { ...R } environment model { ...R } level levelName passed failed unknown missing controls { id result } }
  pageInfo { ...P } totalCount levels { level count } truncated`

func newPostureCommand() *cobra.Command {
	var (
		api                 apiFlags
		output, env, sortBy string
		policyFile          string
		kinds               []string
		minLevel            int
		descending          bool
	)
	cmd := &cobra.Command{
		Use:   "posture [REF]",
		Short: "MLSecOps posture: the controls each model and deployment meets and its level (L0..L3)",
		Long: `Posture evaluates the MLSecOps controls of docs/posture.md (weights signed,
training provenance, datasets attested, lineage, advisories, serving SBOM,
vulnerable packages, Scorecard of the training code, deployment record) and
the level (L0..L3) they add up to under a YAML posture policy (--policy;
defaults in docs/posture.md).

With REF (a model or deployment reference) it prints that subject's
controls, each passed, failed or unknown with why and what would fix it.
Without REF it prints a report, one row per model and deployment.

--min-level N makes it a CI gate: the exit status is 3 when REF, or any row
of the report, sits below LN.

  modelgraph posture deployment:production/eu-west-1/ml-serving/clinical-chat
  modelgraph posture --environment production --min-level 2
  modelgraph posture --kind Deployment -o csv > posture.csv`,
		Args: cobra.MaximumNArgs(1),
	}
	settings := withSettings(cmd)
	api.register(cmd.Flags())
	f := cmd.Flags()
	f.StringVarP(&output, "output", "o", "table", "output: table, json or csv")
	f.StringVar(&env, "environment", "", "report only deployments in this environment and the models they serve")
	f.StringSliceVar(&kinds, "kind", nil, "report only Model or Deployment")
	f.StringVar(&sortBy, "sort", "level", "report order: level (lowest first), name or failed")
	f.BoolVar(&descending, "descending", false, "reverse the report order")
	f.StringVar(&policyFile, "policy", "", "posture policy YAML (levels and thresholds; local only: a server uses its own)")
	f.IntVar(&minLevel, "min-level", 0, "exit status 3 when a subject sits below this level (0..3)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if output != "table" && output != "json" && output != "csv" {
			return fmt.Errorf("--output %q: want table, json or csv", output)
		}
		if minLevel < 0 || minLevel > 3 {
			return fmt.Errorf("--min-level %d: want 0..3", minLevel)
		}
		opts := posture.ReportOptions{Environment: env, Sort: posture.Sort(strings.ToUpper(sortBy)), Descending: descending}
		for _, k := range kinds {
			nk, ok := nodeKind(k)
			if !ok {
				return fmt.Errorf("--kind %q: want Model or Deployment", k)
			}
			opts.Kinds = append(opts.Kinds, nk)
		}
		pol, err := posture.LoadPolicy(policyFile)
		if err != nil {
			return err
		}
		c, err := api.client()
		if err != nil {
			return err
		}
		if c != nil && policyFile != "" {
			return fmt.Errorf("--policy applies to local runs; a server answers with its own posture policy (serve --posture-policy)")
		}
		ctx := cmd.Context()
		out := cmd.OutOrStdout()
		if len(args) == 1 {
			var p posture.Posture
			if c != nil {
				p, err = remoteCall[posture.Posture](ctx, c, `query($ref: String!) { posture(ref: $ref) { `+postureSel+` } }`, "posture", map[string]any{"ref": args[0]})
			} else {
				var a any
				a, err = runLocal(ctx, settings, func(s *query.Service) (any, error) {
					ps, err := posture.New(s, pol)
					if err != nil {
						return nil, err
					}
					return ps.Posture(ctx, args[0])
				})
				if err == nil {
					p = a.(posture.Posture)
				}
			}
			if err != nil {
				return err
			}
			switch output {
			case "json":
				err = writeJSON(out, p)
			case "csv":
				err = posture.WritePostureCSV(out, p)
			default:
				err = posture.WriteTable(out, p)
			}
			if err != nil {
				return err
			}
			if p.Level < minLevel {
				return &exitError{code: exitBelowLevel, err: fmt.Errorf("%s sits at %s, below L%d: missing %s", p.Subject.Name, p.LevelName, minLevel, strings.Join(p.Missing, ", "))}
			}
			return nil
		}
		var r posture.Report
		if c != nil {
			r, err = remoteReport(ctx, c, opts)
		} else {
			var a any
			a, err = runLocal(ctx, settings, func(s *query.Service) (any, error) {
				ps, err := posture.New(s, pol)
				if err != nil {
					return nil, err
				}
				return allRows(func(p query.Page) (posture.Report, error) {
					o := opts
					o.Page = p
					return ps.Report(ctx, o)
				})
			})
			if err == nil {
				r = a.(posture.Report)
			}
		}
		if err != nil {
			return err
		}
		switch output {
		case "json":
			err = writeJSON(out, r)
		case "csv":
			err = posture.WriteReportCSV(out, r)
		default:
			err = posture.WriteReportTable(out, r)
		}
		if err != nil {
			return err
		}
		if below := r.Below(minLevel); len(below) > 0 {
			return &exitError{code: exitBelowLevel, err: fmt.Errorf("%d of %d subjects sit below L%d (first: %s %s at %s)", len(below), r.TotalCount, minLevel, below[0].Subject.Kind, below[0].Subject.Name, below[0].LevelName)}
		}
		return nil
	}
	return cmd
}

// allRows collects every page of a report.
func allRows(fetch func(query.Page) (posture.Report, error)) (posture.Report, error) {
	return pages(func(after string) (posture.Report, query.PageInfo, error) {
		r, err := fetch(query.Page{First: query.MaxPageSize, After: after})
		return r, r.PageInfo, err
	}, func(acc *posture.Report, next posture.Report) int {
		if acc != nil {
			acc.Rows = append(acc.Rows, next.Rows...)
			acc.PageInfo = next.PageInfo
		}
		return len(next.Rows)
	})
}

func remoteReport(ctx context.Context, c *apiClient, o posture.ReportOptions) (posture.Report, error) {
	kinds := []graph.NodeKind{}
	kinds = append(kinds, o.Kinds...)
	return allRows(func(p query.Page) (posture.Report, error) {
		vars := map[string]any{"env": o.Environment, "kinds": kinds, "sort": string(o.Sort), "desc": o.Descending, "first": remotePage, "after": p.After}
		if o.Sort == "" {
			vars["sort"] = string(posture.SortLevel)
		}
		return remoteCall[posture.Report](ctx, c, `query($env: String, $kinds: [NodeKind!], $sort: PostureSort, $desc: Boolean, $first: Int, $after: String) {
  postureReport(environment: $env, kinds: $kinds, sort: $sort, descending: $desc, first: $first, after: $after) { `+reportSel+` } }`, "postureReport", vars)
	})
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
