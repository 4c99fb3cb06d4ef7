package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/Khan/genqlient/graphql"
	"github.com/spf13/pflag"

	"github.com/modelgraph/modelgraph/internal/client"
	"github.com/modelgraph/modelgraph/internal/posture"
)

// Posture is `modelgraph posture [REF]`: one subject's controls with REF,
// else the report (one row per model and deployment).
func Posture() Question {
	var (
		ref, env, sortBy string
		kinds            []string
		minLevel         int
		descending       bool
	)
	return Question{
		Name: "posture", Use: "posture [REF]", Formats: []string{"table", "json", "csv"}, PolicyFlag: "policy",
		Flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&env, "environment", "", "report only deployments in this environment and the models they serve")
			fs.StringSliceVar(&kinds, "kind", nil, "report only Model or Deployment")
			fs.StringVar(&sortBy, "sort", "level", "report order: level (lowest first), name or failed")
			fs.BoolVar(&descending, "descending", false, "reverse the report order")
			fs.IntVar(&minLevel, "min-level", 0, "exit status 3 when a subject sits below this level (0..3)")
		},
		Args: func(a []string) error {
			if len(a) > 1 {
				return errors.New("give at most one reference")
			}
			ref = strings.Join(a, "")
			return nil
		},
		Run: func(ctx context.Context, c graphql.Client, w io.Writer, format string) error {
			if minLevel < 0 || minLevel > 3 {
				return fmt.Errorf("--min-level %d: want 0..3", minLevel)
			}
			if ref != "" {
				r, err := client.Posture(ctx, c, ref)
				if err != nil {
					return err
				}
				p := r.Posture
				if err := render(w, format, p, postureTable, postureCSV); err != nil {
					return err
				}
				if p.Level < minLevel {
					return &ExitError{Code: ExitBelowLevel, Err: fmt.Errorf("%s sits at %s, below L%d: missing %s", p.Subject.Name, p.LevelName, minLevel, strings.Join(p.Missing, ", "))}
				}
				return nil
			}
			sort := client.PostureSort(strings.ToUpper(sortBy))
			if !slices.Contains(client.AllPostureSort, sort) {
				return fmt.Errorf("--sort %q: want level, name or failed", sortBy)
			}
			var ks []client.NodeKind
			for _, k := range kinds {
				nk, ok := NodeKind(k)
				if !ok || (nk != client.NodeKindModel && nk != client.NodeKindDeployment) {
					return fmt.Errorf("--kind %q: want Model or Deployment", k)
				}
				ks = append(ks, nk)
			}
			type R = client.ReportAnswer
			r, err := pages(func(after string) (R, error) {
				r, err := client.PostureReport(ctx, c, env, ks, sort, descending, PageSize, after)
				return r.GetPostureReport(), err
			}, (*R).GetPageInfo, func(acc *R, next R) int {
				acc.Rows = append(acc.Rows, next.Rows...)
				acc.PageInfo = next.PageInfo
				return len(next.Rows)
			})
			if err != nil {
				return err
			}
			if err := render(w, format, r, reportTable, reportCSV); err != nil {
				return err
			}
			var below []string
			for _, row := range r.Rows {
				if row.Level < minLevel {
					below = append(below, fmt.Sprintf("%s %s at %s", row.Subject.Kind, row.Subject.Name, row.LevelName))
				}
			}
			if len(below) > 0 {
				return &ExitError{Code: ExitBelowLevel, Err: fmt.Errorf("%d of %d subjects sit below L%d (first: %s)", len(below), r.TotalCount, minLevel, below[0])}
			}
			return nil
		},
	}
}

func render[R any](w io.Writer, format string, r R, table, csv func(io.Writer, R) error) error {
	switch format {
	case "json":
		return WriteJSON(w, r)
	case "csv":
		return csv(w, r)
	}
	return table(w, r)
}

func postureTable(w io.Writer, p client.PostureAnswer) error {
	fmt.Fprintf(w, "%s %s: %s", p.Subject.Kind, p.Subject.Name, p.LevelName)
	if p.Model != nil {
		fmt.Fprintf(w, " (serves %s)", p.Model.Name)
	}
	if p.Environment != "" {
		fmt.Fprintf(w, " in %s", p.Environment)
	}
	fmt.Fprintf(w, "; %d passed, %d failed, %d unknown\n", p.Passed, p.Failed, p.Unknown)
	if len(p.Missing) > 0 {
		fmt.Fprintf(w, "missing for L%d: %s\n", p.Level+1, strings.Join(p.Missing, ", "))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTROL\tLEVEL\tRESULT\tWHY\tFIX")
	for _, c := range p.Controls {
		lvl := "-"
		if c.Level > 0 {
			lvl = fmt.Sprintf("L%d", c.Level)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Id, lvl, c.Result, oneLine(c.Message, 110), oneLine(c.Fix, 80))
	}
	return tw.Flush()
}

func postureCSV(w io.Writer, p client.PostureAnswer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"subject", "kind", "level", "control", "control_level", "result", "message", "fix", "documents"})
	for _, c := range p.Controls {
		var docs []string
		for _, e := range c.Evidence {
			docs = append(docs, e.Document)
		}
		if err := cw.Write([]string{p.Subject.Name, string(p.Subject.Kind), p.LevelName, c.Id, fmt.Sprintf("L%d", c.Level), c.Result, c.Message, c.Fix, strings.Join(docs, " ")}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func reportTable(w io.Writer, r client.ReportAnswer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LEVEL\tKIND\tNAME\tENVIRONMENT\tPASSED\tFAILED\tUNKNOWN\tMISSING")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", row.LevelName, row.Subject.Kind, row.Subject.Name, dash(row.Environment),
			row.Passed, row.Failed, row.Unknown, dash(strings.Join(row.Missing, ",")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var parts []string
	for _, l := range r.Levels {
		parts = append(parts, fmt.Sprintf("%s %d", l.Level, l.Count))
	}
	fmt.Fprintf(w, "%d subjects: %s\n", r.TotalCount, strings.Join(parts, ", "))
	return nil
}

// reportCSV: one row per subject, one column per control (in the
// evaluation order of internal/posture).
func reportCSV(w io.Writer, r client.ReportAnswer) error {
	cw := csv.NewWriter(w)
	ids := posture.ControlIDsInOrder()
	if err := cw.Write(append([]string{"id", "kind", "name", "environment", "model", "level", "passed", "failed", "unknown", "missing"}, ids...)); err != nil {
		return err
	}
	for _, row := range r.Rows {
		model := ""
		if row.Model != nil {
			model = row.Model.Name
		}
		rec := []string{row.Subject.Id, string(row.Subject.Kind), row.Subject.Name, row.Environment, model, row.LevelName,
			fmt.Sprint(row.Passed), fmt.Sprint(row.Failed), fmt.Sprint(row.Unknown), strings.Join(row.Missing, " ")}
		res := map[string]string{}
		for _, c := range row.Controls {
			res[c.Id] = c.Result
		}
		for _, id := range ids {
			rec = append(rec, res[id])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}
