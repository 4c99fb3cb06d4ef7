// Package scorecard maps OpenSSF Scorecard results to the graph: the JSON
// output of `scorecard --format json` (Scorecard's "v2" result) and its
// in-toto statement (predicate https://scorecard.dev/result/v0.1, signed or
// not). A result is attached to two Source nodes: the repository at the
// scored commit (git+https://github.com/org/repo@<commit>, the key training
// provenance writes for the code it names, so a result for the training
// commit lands on the very node the training run USES) and the repository
// itself (git+https://github.com/org/repo), which keeps every result about
// it as its score history (one claim per document). The document's type is
// "scorecard" and its role graph.RoleScorecard: it vouches for no artifact.
package scorecard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/modelgraph/modelgraph/ingest/docerr"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/strictjson"
)

// PredicateType is Scorecard's in-toto predicate (ossf/scorecard
// pkg/scorecard/statement.go).
const PredicateType = "https://scorecard.dev/result/v0.1"

// DocType is the Document.Type of a Scorecard result.
const DocType = "scorecard"

// Attribute names on the Source nodes.
const (
	AttrScore       = "scorecard.score"
	AttrDate        = "scorecard.date"
	AttrCommit      = "scorecard.commit"
	AttrVersion     = "scorecard.version"
	AttrCheckPrefix = "scorecard.check."
)

// Limits.
const (
	MaxChecks    = 100
	MaxNameBytes = 200
)

var (
	// ErrInvalid is the root of every error about a malformed result.
	ErrInvalid = docerr.Sentinel("invalid Scorecard result", docerr.ErrMalformed)
	// ErrLimit is returned when a result exceeds a limit.
	ErrLimit = docerr.Sentinel("invalid Scorecard result: over a limit", ErrInvalid, docerr.ErrTooLarge)
)

// Result is the part of a Scorecard v2 JSON result the graph keeps.
type Result struct {
	Date      string   `json:"date"`
	Repo      *repo    `json:"repo,omitempty"`
	Scorecard tool     `json:"scorecard"`
	Score     *float64 `json:"score"`
	Checks    []check  `json:"checks"`
}

type repo struct {
	Name   string `json:"name"`
	Commit string `json:"commit"`
}

type tool struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
}

type check struct {
	Name  string `json:"name"`
	Score *int   `json:"score"`
	// Reason, details, documentation, annotations: not kept.
}

// Detect reports whether data looks like a Scorecard JSON result (its top
// level has repo, scorecard and checks).
func Detect(top map[string]json.RawMessage) bool {
	return top["repo"] != nil && top["scorecard"] != nil && top["checks"] != nil && top["_type"] == nil
}

var (
	repoName = regexp.MustCompile(`^[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~-]+){2,8}$`)
	hex40    = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)
)

func errf(doc graph.Document, err error, ptr, format string, args ...any) error {
	name := doc.Source
	if name == "" {
		name = doc.Digest
	}
	return fmt.Errorf("%w: %s: at %s: %s", err, name, ptr, fmt.Sprintf(format, args...))
}

// Parse maps Scorecard's JSON output. doc.Digest must be set (the
// document's identity).
func Parse(data []byte, doc graph.Document) (*graph.Batch, error) {
	var r Result
	if err := decode(data, &r); err != nil {
		return nil, errf(doc, ErrInvalid, "/", "%v", err)
	}
	if r.Repo == nil {
		return nil, errf(doc, ErrInvalid, "/repo", "is missing")
	}
	return build(doc, r, r.Repo.Name, r.Repo.Commit, "/repo")
}

// FromStatement maps Scorecard's in-toto statement: the subject names the
// repository (name github.com/org/repo, digest gitCommit).
func FromStatement(st *statement.Statement, doc graph.Document) (*graph.Batch, error) {
	if st == nil || st.PredicateType != PredicateType {
		return nil, errf(doc, ErrInvalid, "/predicateType", "want %s", PredicateType)
	}
	var r Result
	if err := decode(st.Predicate, &r); err != nil {
		return nil, errf(doc, ErrInvalid, "/predicate", "%v", err)
	}
	if len(st.Subject) != 1 {
		return nil, errf(doc, ErrInvalid, "/subject", "%d subjects, want the one repository", len(st.Subject))
	}
	s := st.Subject[0]
	name, commit := s.Name, s.Digest["gitCommit"]
	if r.Repo != nil {
		if r.Repo.Name != "" && r.Repo.Name != name {
			return nil, errf(doc, ErrInvalid, "/predicate/repo/name", "%q differs from the subject's name %q", trunc(r.Repo.Name), trunc(name))
		}
		if commit == "" {
			commit = r.Repo.Commit
		}
	}
	return build(doc, r, name, commit, "/subject/0")
}

func decode(data []byte, r *Result) error {
	if err := strictjson.Check(data, r); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	return dec.Decode(r)
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func build(doc graph.Document, r Result, name, commit, ptr string) (*graph.Batch, error) {
	name = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(name), "https://"), ".git")
	if !repoName.MatchString(name) || len(name) > MaxNameBytes {
		return nil, errf(doc, ErrInvalid, ptr+"/name", "%q is not a repository name (want host/org/repo)", trunc(name))
	}
	commit = strings.ToLower(strings.TrimSpace(commit))
	if !hex40.MatchString(commit) {
		return nil, errf(doc, ErrInvalid, ptr+"/commit", "%q is not a git commit (40 or 64 hex digits)", trunc(commit))
	}
	date, err := parseDate(r.Date)
	if err != nil {
		return nil, errf(doc, ErrInvalid, "/date", "%v", err)
	}
	if r.Score == nil {
		return nil, errf(doc, ErrInvalid, "/score", "is missing")
	}
	if s := *r.Score; s < -1 || s > 10 {
		return nil, errf(doc, ErrInvalid, "/score", "%g is out of range [-1, 10]", s)
	}
	if len(r.Checks) > MaxChecks {
		return nil, errf(doc, ErrLimit, "/checks", "%d checks, limit %d", len(r.Checks), MaxChecks)
	}
	if len(r.Scorecard.Version) > MaxNameBytes {
		return nil, errf(doc, ErrLimit, "/scorecard/version", "%d bytes, limit %d", len(r.Scorecard.Version), MaxNameBytes)
	}
	attrs := map[string]string{
		AttrScore:   strconv.FormatFloat(*r.Score, 'f', 1, 64),
		AttrDate:    date,
		AttrCommit:  commit,
		AttrVersion: r.Scorecard.Version,
	}
	for i, c := range r.Checks {
		cp := fmt.Sprintf("/checks/%d", i)
		if c.Name == "" || len(c.Name) > MaxNameBytes || strings.ContainsAny(c.Name, " \n\t") {
			return nil, errf(doc, ErrInvalid, cp+"/name", "%q is not a check name", trunc(c.Name))
		}
		if c.Score == nil {
			return nil, errf(doc, ErrInvalid, cp+"/score", "is missing")
		}
		if *c.Score < -1 || *c.Score > 10 {
			return nil, errf(doc, ErrInvalid, cp+"/score", "%d is out of range [-1, 10]", *c.Score)
		}
		k := AttrCheckPrefix + c.Name
		if _, dup := attrs[k]; dup {
			return nil, errf(doc, ErrInvalid, cp+"/name", "check %q is listed twice", c.Name)
		}
		attrs[k] = strconv.Itoa(*c.Score)
	}
	doc.Type = DocType
	doc.Role = graph.RoleScorecard
	b := graph.NewBatch(doc)
	host, path, _ := strings.Cut(name, "/")
	repoURI := "git+https://" + strings.ToLower(host) + "/" + path
	atCommit := b.Node(graph.KindSource, repoURI+"@"+commit)
	whole := b.Node(graph.KindSource, repoURI)
	for _, i := range []int{atCommit, whole} {
		b.Set(i, "uri", repoURI)
		for k, v := range attrs {
			b.Set(i, k, v)
		}
		b.Describes(i)
	}
	b.Set(atCommit, "commit", commit)
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return b, nil
}

// parseDate accepts RFC 3339 (Scorecard v5) and YYYY-MM-DD (older results)
// and returns RFC 3339 in UTC, so results sort by time.
func parseDate(s string) (string, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Format(time.RFC3339), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC().Format(time.RFC3339), nil
	}
	return "", fmt.Errorf("%q is not an RFC 3339 time or a YYYY-MM-DD date", trunc(s))
}
