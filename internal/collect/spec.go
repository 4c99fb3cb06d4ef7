package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelgraph/modelgraph/ingest"
)

// Options are the defaults a spec's own options override.
type Options struct {
	Watch    bool  // keep collecting until the context ends
	MaxBytes int64 // per document; ingest.DefaultMaxBytes when 0
	Insecure bool  // plain HTTP to loopback registries (--insecure-registry)
	Log      *slog.Logger
}

// Parse builds the collector spec names:
//
//	dir:PATH[?option=value&...]   options: watch, debounce, maxsize, subject, role
//	oci:REF[?option=value&...]    options: watch, interval, insecure, role,
//	                              maxsize, maxreferrers, maxtags, timeout
//
// REF is registry/repository[:tag|@sha256:...]; a repository alone means
// every tag. The options are a URL query, e.g.
// oci:localhost:5000/acme/llm?insecure=true&interval=1m.
func Parse(spec string, o Options) (Collector, error) {
	kind, rest, ok := strings.Cut(spec, ":")
	if !ok || rest == "" {
		return nil, fmt.Errorf("%w: %q: want dir:PATH or oci:REF", ErrInvalidSpec, spec)
	}
	target, query := rest, ""
	if i := strings.LastIndexByte(rest, '?'); i >= 0 {
		target, query = rest[:i], rest[i+1:]
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: options: %w", ErrInvalidSpec, spec, err)
	}
	if target == "" {
		return nil, fmt.Errorf("%w: %q: empty %s", ErrInvalidSpec, spec, map[string]string{"dir": "path", "oci": "reference"}[kind])
	}
	opt := optionReader{spec: spec, q: q}
	var c Collector
	switch kind {
	case "dir":
		d := &Dir{
			Root:     target,
			Watch:    opt.bool("watch", o.Watch),
			Debounce: opt.duration("debounce", 0),
			MaxBytes: opt.int64("maxsize", o.MaxBytes),
			Subject:  opt.string("subject"),
			Role:     opt.string("role"),
			Log:      o.Log,
		}
		c = d
	case "oci":
		c = &OCI{
			Ref:          target,
			Watch:        opt.bool("watch", o.Watch),
			Interval:     opt.duration("interval", 0),
			Insecure:     opt.bool("insecure", o.Insecure),
			Role:         opt.string("role"),
			MaxBlobBytes: opt.int64("maxsize", o.MaxBytes),
			MaxReferrers: int(opt.int64("maxreferrers", 0)),
			MaxTags:      int(opt.int64("maxtags", 0)),
			Timeout:      opt.duration("timeout", 0),
			Log:          o.Log,
		}
	default:
		return nil, fmt.Errorf("%w: %q: unknown collector %q (want dir or oci)", ErrInvalidSpec, spec, kind)
	}
	if err := opt.done(kind); err != nil {
		return nil, err
	}
	return c, nil
}

var knownOptions = map[string][]string{
	"dir": {"watch", "debounce", "maxsize", "subject", "role"},
	"oci": {"watch", "interval", "insecure", "role", "maxsize", "maxreferrers", "maxtags", "timeout"},
}

type optionReader struct {
	spec string
	q    url.Values
	errs []error
}

func (r *optionReader) get(key string) (string, bool) {
	v, ok := r.q[key]
	if !ok || len(v) == 0 {
		return "", false
	}
	if len(v) > 1 {
		r.errs = append(r.errs, fmt.Errorf("option %s given %d times", key, len(v)))
	}
	return v[0], true
}

func (r *optionReader) string(key string) string { v, _ := r.get(key); return v }

func (r *optionReader) bool(key string, def bool) bool {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	if v == "" {
		return true // "?watch" alone
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("option %s=%q: want true or false", key, v))
	}
	return b
}

func (r *optionReader) int64(key string, def int64) int64 {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		r.errs = append(r.errs, fmt.Errorf("option %s=%q: want a positive integer", key, v))
	}
	return n
}

func (r *optionReader) duration(key string, def time.Duration) time.Duration {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.errs = append(r.errs, fmt.Errorf("option %s=%q: want a positive duration (e.g. 30s)", key, v))
	}
	return d
}

// done reports malformed and unknown options, all at once.
func (r *optionReader) done(kind string) error {
	for k := range r.q {
		known := false
		for _, o := range knownOptions[kind] {
			known = known || o == k
		}
		if !known {
			r.errs = append(r.errs, fmt.Errorf("unknown option %q for %s (known: %s)", k, kind, strings.Join(knownOptions[kind], ", ")))
		}
	}
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %q: %w", ErrInvalidSpec, r.spec, errors.Join(r.errs...))
}

// Validate parses every spec and reports all the bad ones together, so a
// server can refuse to start on a typo rather than log it later.
func Validate(specs []string) error {
	_, err := ParseAll(specs, Options{})
	return err
}

// ParseAll parses every spec with o, reporting every bad one.
func ParseAll(specs []string, o Options) ([]Collector, error) {
	var cs []Collector
	var errs []error
	for _, s := range specs {
		c, err := Parse(s, o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cs = append(cs, c)
	}
	return cs, errors.Join(errs...)
}

// Run starts a watching collector for each spec and feeds them all to p
// until ctx ends; serve calls it in a goroutine for --collect. Every spec is
// checked before any collector starts. A collector that fails (a missing
// directory, an unreachable registry) is logged and the others go on; Run
// returns their errors when all have stopped.
func Run(ctx context.Context, specs []string, p *ingest.Pipeline, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	cs, err := ParseAll(specs, Options{Watch: true, MaxBytes: p.MaxBytes, Log: log})
	if err != nil {
		return err
	}
	var errs []error
	r := &Runner{Pipeline: p, Log: log}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, c := range cs {
		wg.Go(func() {
			log.Info("collector started", "collector", c.String())
			err := r.Run(ctx, c)
			if err != nil {
				log.Error("collector stopped", "collector", c.String(), "err", err)
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			log.Info("collector stopped", "collector", c.String())
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
