// Package statement decodes in-toto Statements (v0.1 and v1), the payload of
// every attestation and OMS signature, with the limits every input gets.
package statement

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest/strictjson"
)

// Statement types accepted.
const (
	TypeV1   = "https://in-toto.io/Statement/v1"
	TypeV01  = "https://in-toto.io/Statement/v0.1"
	TypeV001 = "https://in-toto.io/Statement/v0.0.1" // seen in old SLSA 0.1 documents
)

// PayloadType is the DSSE payload type of an in-toto statement.
const PayloadType = "application/vnd.in-toto+json"

// Limits.
const (
	MaxSubjects   = 10_000
	MaxDigestAlgs = 16
)

// ErrInvalidStatement is the root of decoding errors.
var ErrInvalidStatement = errors.New("invalid in-toto statement")

// Subject is one artifact a statement is about.
type Subject struct {
	Name   string            `json:"name"`
	URI    string            `json:"uri,omitempty"`
	Digest map[string]string `json:"digest"`
}

// Statement is an in-toto Statement with its predicate left raw for the
// predicate-specific parser.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// Decode parses b as a statement and checks its shape. Errors name the field.
func Decode(b []byte) (*Statement, error) {
	var s Statement
	// Strict: a duplicate key (at any depth, predicate included) or a key
	// matching a field only case-insensitively would let the signed
	// statement say one thing to modelgraph and another to other readers.
	if err := strictjson.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidStatement, err)
	}
	switch s.Type {
	case TypeV1, TypeV01, TypeV001:
	case "":
		return nil, fmt.Errorf("%w: _type is missing", ErrInvalidStatement)
	default:
		return nil, fmt.Errorf("%w: _type %q is not an in-toto Statement v0.1 or v1", ErrInvalidStatement, s.Type)
	}
	if s.PredicateType == "" {
		return nil, fmt.Errorf("%w: predicateType is missing", ErrInvalidStatement)
	}
	if len(s.Subject) == 0 {
		return nil, fmt.Errorf("%w: subject is empty", ErrInvalidStatement)
	}
	if len(s.Subject) > MaxSubjects {
		return nil, fmt.Errorf("%w: subject has %d entries, limit %d", ErrInvalidStatement, len(s.Subject), MaxSubjects)
	}
	for i, sub := range s.Subject {
		if len(sub.Digest) == 0 {
			return nil, fmt.Errorf("%w: subject[%d].digest is empty", ErrInvalidStatement, i)
		}
		if len(sub.Digest) > MaxDigestAlgs {
			return nil, fmt.Errorf("%w: subject[%d].digest has %d algorithms, limit %d", ErrInvalidStatement, i, len(sub.Digest), MaxDigestAlgs)
		}
		if _, err := sub.Keys(); err != nil {
			return nil, fmt.Errorf("%w: subject[%d].digest: %v", ErrInvalidStatement, i, err)
		}
	}
	return &s, nil
}

// Keys returns the subject's digests as normalised graph keys, sorted with
// sha256 first (it names new nodes, so ids agree across documents).
func (s Subject) Keys() ([]string, error) {
	var keys []string
	for _, alg := range slices.Sorted(maps.Keys(s.Digest)) {
		k, err := graph.DigestKey(alg, s.Digest[alg])
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	slices.SortStableFunc(keys, func(a, b string) int {
		as, bs := len(a) > 7 && a[:7] == "sha256:", len(b) > 7 && b[:7] == "sha256:"
		switch {
		case as && !bs:
			return -1
		case bs && !as:
			return 1
		}
		return 0
	})
	return keys, nil
}
