package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Scope is what a token may do. Write includes read.
type Scope string

const (
	// ScopeRead: GraphQL queries and other GET endpoints.
	ScopeRead Scope = "read"
	// ScopeWrite: pushing documents and GraphQL mutations; includes read.
	ScopeWrite Scope = "write"
)

// ErrInvalidTokens is returned for a malformed tokens file or
// MODELGRAPH_TOKENS value; the message names the entry and the field.
var ErrInvalidTokens = errors.New("invalid API tokens")

// Limits of token configuration.
const (
	MaxTokensFileBytes = 1 << 20
	MaxTokens          = 10_000
	// MinTokenLen bounds plaintext tokens from below: shorter ones are
	// guessable.
	MinTokenLen = 16
)

// Token is one configured API token. Only its SHA-256 is kept.
type Token struct {
	Name   string
	Scopes []Scope
	hash   [32]byte
}

// Allows reports whether the token has scope s.
func (t Token) Allows(s Scope) bool {
	return slices.Contains(t.Scopes, s) || (s == ScopeRead && slices.Contains(t.Scopes, ScopeWrite))
}

// Tokens is the set of accepted bearer tokens. An empty set means the API
// is open (development mode).
type Tokens struct {
	list []Token
	// warnings found while loading (a tokens file others can read).
	warnings []string
}

// Warnings are problems found while loading that did not stop it: New
// logs them.
func (t *Tokens) Warnings() []string {
	if t == nil {
		return nil
	}
	return t.warnings
}

// Len is the number of tokens.
func (t *Tokens) Len() int {
	if t == nil {
		return 0
	}
	return len(t.list)
}

// Names lists the token names.
func (t *Tokens) Names() []string {
	var out []string
	for _, tk := range t.list {
		out = append(out, tk.Name)
	}
	return out
}

// Authenticate returns the token whose secret is presented. It compares
// SHA-256 digests in constant time and always compares against every
// token, so timing does not say which token (or how much of one) matched.
func (t *Tokens) Authenticate(presented string) (Token, bool) {
	if t == nil || presented == "" {
		return Token{}, false
	}
	h := sha256.Sum256([]byte(presented))
	found := -1
	for i := range t.list {
		if subtle.ConstantTimeCompare(h[:], t.list[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Token{}, false
	}
	return t.list[found], true
}

// tokenEntry is one entry of the tokens file.
type tokenEntry struct {
	Name        string   `yaml:"name"`
	Token       string   `yaml:"token"`
	TokenSHA256 string   `yaml:"token_sha256"`
	Scopes      []string `yaml:"scopes"`
}

// ParseTokensFile reads a tokens file: a YAML list of entries, or a mapping
// with that list under "tokens":
//
//	tokens:
//	  - name: ci-training
//	    token_sha256: 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8
//	    scopes: [read, write]
//	  - name: responder
//	    token: a-long-random-secret-value
//	    scopes: [read]
//
// token_sha256 (hex SHA-256 of the secret) keeps the secret out of the file
// and is preferred; token gives the secret itself (at least MinTokenLen
// bytes).
func ParseTokensFile(data []byte) (*Tokens, error) {
	if len(data) > MaxTokensFileBytes {
		return nil, fmt.Errorf("%w: file is %d bytes, limit %d", ErrInvalidTokens, len(data), MaxTokensFileBytes)
	}
	var entries []tokenEntry
	var doc struct {
		Tokens []tokenEntry `yaml:"tokens"`
	}
	trimmed := bytes.TrimSpace(data)
	dec := yaml.NewDecoder(bytes.NewReader(trimmed))
	dec.KnownFields(true)
	var err error
	if bytes.HasPrefix(trimmed, []byte("-")) || bytes.HasPrefix(trimmed, []byte("[")) {
		err = dec.Decode(&entries)
	} else {
		err = dec.Decode(&doc)
		entries = doc.Tokens
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTokens, err)
	}
	return newTokens(entries, "tokens")
}

// ParseTokensEnv reads MODELGRAPH_TOKENS: comma-separated
// name:scope[+scope]:secret entries, e.g.
// "ci:read+write:7c1f...,responder:read:9a2b...". Secrets may not contain
// commas.
func ParseTokensEnv(s string) (*Tokens, error) {
	var entries []tokenEntry
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		f := strings.SplitN(part, ":", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("%w: MODELGRAPH_TOKENS entry %d: want name:scope[+scope]:token", ErrInvalidTokens, i+1)
		}
		entries = append(entries, tokenEntry{Name: f[0], Scopes: strings.Split(f[1], "+"), Token: f[2]})
	}
	return newTokens(entries, "MODELGRAPH_TOKENS")
}

func newTokens(entries []tokenEntry, where string) (*Tokens, error) {
	if len(entries) > MaxTokens {
		return nil, fmt.Errorf("%w: %s: %d tokens, limit %d", ErrInvalidTokens, where, len(entries), MaxTokens)
	}
	t := &Tokens{}
	for i, e := range entries {
		bad := func(field, format string, args ...any) error {
			return fmt.Errorf("%w: %s[%d] (%s).%s: %s", ErrInvalidTokens, where, i, e.Name, field, fmt.Sprintf(format, args...))
		}
		tk := Token{Name: strings.TrimSpace(e.Name)}
		if tk.Name == "" {
			return nil, bad("name", "is empty")
		}
		switch {
		case e.Token != "" && e.TokenSHA256 != "":
			return nil, bad("token", "give token or token_sha256, not both")
		case e.Token != "":
			if len(e.Token) < MinTokenLen {
				return nil, bad("token", "is %d bytes; use at least %d random bytes", len(e.Token), MinTokenLen)
			}
			tk.hash = sha256.Sum256([]byte(e.Token))
		case e.TokenSHA256 != "":
			h, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(e.TokenSHA256), "sha256:"))
			if err != nil || len(h) != 32 {
				return nil, bad("token_sha256", "is not 64 hex characters")
			}
			copy(tk.hash[:], h)
		default:
			return nil, bad("token", "missing: give token or token_sha256")
		}
		if len(e.Scopes) == 0 {
			return nil, bad("scopes", "is empty: want [read] or [read, write]")
		}
		for _, s := range e.Scopes {
			sc := Scope(strings.ToLower(strings.TrimSpace(s)))
			if sc != ScopeRead && sc != ScopeWrite {
				return nil, bad("scopes", "%q is not read or write", s)
			}
			if !slices.Contains(tk.Scopes, sc) {
				tk.Scopes = append(tk.Scopes, sc)
			}
		}
		for _, prev := range t.list {
			if prev.Name == tk.Name {
				return nil, bad("name", "is used twice")
			}
			if prev.hash == tk.hash {
				return nil, bad("token", "is the same secret as token %q", prev.Name)
			}
		}
		t.list = append(t.list, tk)
	}
	return t, nil
}

// LoadTokens reads the tokens file (when path is set) and the
// MODELGRAPH_TOKENS value (when env is set) into one set.
func LoadTokens(path, env string) (*Tokens, error) {
	all := &Tokens{}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("tokens file: %w", err)
		}
		defer f.Close()
		var warn []string
		if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
			warn = append(warn, fmt.Sprintf("tokens file %s is readable by others (mode %#o): anyone on this machine who can read it holds the API tokens; chmod 600 it", path, fi.Mode().Perm()))
		}
		data, err := io.ReadAll(io.LimitReader(f, MaxTokensFileBytes+1))
		if err != nil {
			return nil, fmt.Errorf("tokens file %s: %w", path, err)
		}
		ft, err := ParseTokensFile(data)
		if err != nil {
			return nil, fmt.Errorf("tokens file %s: %w", path, err)
		}
		all = ft
		all.warnings = warn
	}
	if strings.TrimSpace(env) != "" {
		et, err := ParseTokensEnv(env)
		if err != nil {
			return nil, err
		}
		merged := &Tokens{list: slices.Clone(all.list), warnings: all.warnings}
		for _, tk := range et.list {
			for _, prev := range merged.list {
				if prev.Name == tk.Name {
					return nil, fmt.Errorf("%w: token %q is in both the tokens file and MODELGRAPH_TOKENS", ErrInvalidTokens, tk.Name)
				}
			}
			merged.list = append(merged.list, tk)
		}
		all = merged
	}
	return all, nil
}

type callerKey struct{}

// Caller is who made a request.
type Caller struct {
	Name   string // token name; "" when the API is open
	scopes func(Scope) bool
}

// Allows reports whether the caller has scope s.
func (c Caller) Allows(s Scope) bool { return c.scopes == nil || c.scopes(s) }

// CallerFrom returns the caller of the request ctx belongs to.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
