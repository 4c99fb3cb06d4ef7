package posture

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable prints a posture as a table: the level, then one line per
// control with its result, message and fix.
func WriteTable(w io.Writer, p Posture) error {
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, lvl, c.Result, oneLine(c.Message, 110), oneLine(c.Fix, 80))
	}
	return tw.Flush()
}

// WriteReportTable prints a report as a table, one row per subject.
func WriteReportTable(w io.Writer, r Report) error {
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

// WriteReportCSV prints a report as CSV: one row per subject, one column
// per control.
func WriteReportCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	head := []string{"id", "kind", "name", "environment", "model", "level", "passed", "failed", "unknown", "missing"}
	ids := ControlIDsInOrder()
	head = append(head, ids...)
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, row := range r.Rows {
		model := ""
		if row.Model != nil {
			model = row.Model.Name
		}
		rec := []string{string(row.Subject.ID), string(row.Subject.Kind), row.Subject.Name, row.Environment, model, row.LevelName,
			fmt.Sprint(row.Passed), fmt.Sprint(row.Failed), fmt.Sprint(row.Unknown), strings.Join(row.Missing, " ")}
		res := map[string]Result{}
		for _, c := range row.Controls {
			res[c.ID] = c.Result
		}
		for _, id := range ids {
			rec = append(rec, string(res[id]))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WritePostureCSV prints one posture as CSV, one line per control.
func WritePostureCSV(w io.Writer, p Posture) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"subject", "kind", "level", "control", "control_level", "result", "message", "fix", "documents"})
	for _, c := range p.Controls {
		var docs []string
		for _, e := range c.Evidence {
			docs = append(docs, e.Document)
		}
		if err := cw.Write([]string{p.Subject.Name, string(p.Subject.Kind), p.LevelName, c.ID, fmt.Sprintf("L%d", c.Level), string(c.Result), c.Message, c.Fix, strings.Join(docs, " ")}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ControlIDsInOrder lists the control ids in evaluation order.
func ControlIDsInOrder() []string {
	out := make([]string, len(controls))
	for i, c := range controls {
		out[i] = c.ID
	}
	return out
}

// Below lists the rows under level min (the CI gate).
func (r Report) Below(min int) []Row {
	var out []Row
	for _, row := range r.Rows {
		if row.Level < min {
			out = append(out, row)
		}
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}
