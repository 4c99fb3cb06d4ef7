package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/internal/query"
)

// KindAnswerChanged: the answer of a subscription's saved question (the
// deployments it lists, with their state) changed.
const KindAnswerChanged = "answer-changed"

// Saved questions a subscription may ask ("kind:reference"): the same
// questions as the API's, answered as the set of deployments they list.
var questionKinds = []string{"affected-by-advisory", "deployed-trained-on", "impact"}

// MaxQuestionLen bounds a saved question.
const MaxQuestionLen = 1024

// ValidateQuestion checks a saved question's form.
func ValidateQuestion(q string) error {
	kind, ref, ok := strings.Cut(q, ":")
	if !ok || ref == "" || !slices.Contains(questionKinds, kind) {
		return fmt.Errorf("%q: want KIND:REFERENCE with KIND one of %s", q, strings.Join(questionKinds, ", "))
	}
	if len(q) > MaxQuestionLen {
		return fmt.Errorf("%d bytes, limit %d", len(q), MaxQuestionLen)
	}
	return nil
}

// answer asks a saved question and returns its deployments as sorted
// "name (state)" lines. A reference the graph does not know yet is an
// empty answer.
func answer(ctx context.Context, q *query.Service, question string) ([]string, error) {
	kind, ref, _ := strings.Cut(question, ":")
	var out []string
	var err error
	switch kind {
	case "affected-by-advisory":
		var a query.AdvisoryAnswer
		a, err = q.AffectedByAdvisory(ctx, ref, 0, query.Page{First: query.MaxPageSize})
		for _, x := range a.Affected {
			if x.Node.Kind == graph.KindDeployment {
				out = append(out, x.Node.Name+" ("+x.State+")")
			}
		}
	case "deployed-trained-on":
		var a query.DeployedAnswer
		a, err = q.DeployedModelsTrainedOn(ctx, ref, query.DeployedOptions{Page: query.Page{First: query.MaxPageSize}})
		for _, d := range a.Deployments {
			out = append(out, d.Deployment.Name+" ("+d.State+")")
		}
	case "impact":
		var l query.Lineage
		l, err = q.Impact(ctx, ref, query.LineageOptions{Kinds: []graph.NodeKind{graph.KindDeployment}, Page: query.Page{First: query.MaxPageSize}})
		for _, r := range l.Reached {
			if r.Node.Kind == graph.KindDeployment {
				out = append(out, r.Node.Name)
			}
		}
	}
	if errors.Is(err, graph.ErrNotFound) {
		return nil, nil
	}
	slices.Sort(out)
	return slices.Compact(out), err
}

func fingerprint(lines []string) string {
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(h[:12])
}

// questions re-asks every saved question of subs (once per batch of
// commits) and returns the changed answers as events and the answers to
// record. The first answer of a question is recorded without an event.
func (ev *Evaluator) questions(ctx context.Context, subs []Subscription, previous func(string) ([]string, bool)) ([]Event, map[string][]string, error) {
	var asked []string
	for _, s := range subs {
		if s.Question != "" && !slices.Contains(asked, s.Question) {
			asked = append(asked, s.Question)
		}
	}
	slices.Sort(asked)
	var events []Event
	answers := map[string][]string{}
	for _, qn := range asked {
		now, err := answer(ctx, ev.Q, qn)
		if err != nil {
			return events, answers, fmt.Errorf("saved question %q: %w", qn, err)
		}
		before, ok := previous(qn)
		if ok && slices.Equal(before, now) {
			continue
		}
		answers[qn] = now
		if !ok {
			continue
		}
		var added, removed []string
		for _, l := range now {
			if !slices.Contains(before, l) {
				added = append(added, l)
			}
		}
		for _, l := range before {
			if !slices.Contains(now, l) {
				removed = append(removed, l)
			}
		}
		e := Event{Kind: KindAnswerChanged, Severity: "medium", Question: qn, Added: added, Removed: removed,
			Summary: fmt.Sprintf("the answer of %s changed: %d deployment(s) added, %d removed", qn, len(added), len(removed))}
		h := sha256.Sum256([]byte(KindAnswerChanged + "\x00" + qn + "\x00" + fingerprint(before) + "\x00" + fingerprint(now)))
		e.ID = "mgw_" + hex.EncodeToString(h[:16])
		if ev.Now != nil {
			e.DetectedAt = ev.Now().UTC()
		}
		events = append(events, e)
	}
	return events, answers, nil
}
