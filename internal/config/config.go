// Package config holds modelgraph's settings and the one function that
// layers them: defaults, then an optional YAML file, then MODELGRAPH_*
// environment variables, then command-line flags (flags win). It validates
// once, reporting every problem together.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// Config is every setting. The yaml tag is the file key; the env var is
// MODELGRAPH_ + the upper-cased key with '-' as '_'; the flag is the key.
type Config struct {
	Listen            string        `yaml:"listen"`
	DataDir           string        `yaml:"data-dir"`
	Store             string        `yaml:"store"` // "" or a path = embedded; bolt:// neo4j:// neo4j+s:// bolt+s:// = Neo4j
	Neo4jUser         string        `yaml:"neo4j-user"`
	Neo4jPasswordFile string        `yaml:"neo4j-password-file"`
	Neo4jDatabase     string        `yaml:"neo4j-database"`
	TrustPolicy       string        `yaml:"trust-policy"`
	TokensFile        string        `yaml:"tokens-file"`
	LogFormat         string        `yaml:"log-format"` // text | json
	LogLevel          string        `yaml:"log-level"`  // debug | info | warn | error
	MaxBodyBytes      int64         `yaml:"max-body-bytes"`
	RequestTimeout    time.Duration `yaml:"request-timeout"`
	ShutdownTimeout   time.Duration `yaml:"shutdown-timeout"`
	Demo              bool          `yaml:"demo"`
	Collect           []string      `yaml:"collect"`
	// Watch configures notifications (file only: no flag or env var).
	Watch Watch `yaml:"watch"`
}

// Watch is the watch: section of the config file (docs/watch.md):
// subscriptions, retry policy and where the delivery queue lives.
type Watch struct {
	// Queue is the bbolt file of the delivery queue (default: watch.db
	// next to the embedded store, or in data-dir for Neo4j).
	Queue         string              `yaml:"queue"`
	Subscriptions []WatchSubscription `yaml:"subscriptions"`
	Retry         WatchRetry          `yaml:"retry"`
	// Buffer is how many committed documents may wait for evaluation.
	Buffer int `yaml:"buffer"`
}

// WatchSubscription is one subscription in the config file.
type WatchSubscription struct {
	ID           string   `yaml:"id"` // default: the name
	Name         string   `yaml:"name"`
	Events       []string `yaml:"events"`
	Environment  string   `yaml:"environment"`
	MinSeverity  string   `yaml:"min-severity"`
	VerifiedOnly bool     `yaml:"verified-only"`
	PostureBelow int      `yaml:"posture-below"` // percent; posture-drop events crossing below it
	Question     string   `yaml:"question"`      // saved question: affected-by-advisory:REF | deployed-trained-on:REF | impact:REF
	URL          string   `yaml:"url"`
	Format       string   `yaml:"format"` // webhook | slack | cloudevents
	// Secret keys the HMAC signature; SecretEnv names an environment
	// variable holding it instead (keeps secrets out of the file).
	Secret    string `yaml:"secret"`
	SecretEnv string `yaml:"secret-env"`
}

// WatchRetry shapes redelivery (zero fields take the watch defaults).
type WatchRetry struct {
	Initial  time.Duration `yaml:"initial"`
	Max      time.Duration `yaml:"max"`
	Attempts int           `yaml:"attempts"`
	Timeout  time.Duration `yaml:"timeout"`
}

// WatchQueuePath is the watch queue file.
func (c Config) WatchQueuePath() string {
	if c.Watch.Queue != "" {
		return c.Watch.Queue
	}
	if c.Neo4j() {
		return filepath.Join(c.DataDir, "watch.db")
	}
	return filepath.Join(filepath.Dir(c.EmbeddedPath()), "watch.db")
}

// Defaults returns the built-in settings.
func Defaults() Config {
	return Config{
		Listen:          ":8080",
		DataDir:         defaultDataDir(),
		LogFormat:       "text",
		LogLevel:        "info",
		MaxBodyBytes:    64 << 20,
		RequestTimeout:  60 * time.Second,
		ShutdownTimeout: 30 * time.Second,
		Neo4jDatabase:   "neo4j",
	}
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "modelgraph")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "modelgraph")
	}
	return "modelgraph-data"
}

// MaxFileBytes bounds the config file.
const MaxFileBytes = 1 << 20

// RegisterFlags adds a flag for every setting to fs, with c's values as
// defaults shown in help.
func RegisterFlags(fs *pflag.FlagSet, c *Config) {
	RegisterStoreFlags(fs, c)
	RegisterServerFlags(fs, c)
}

// RegisterStoreFlags adds the settings of every command that opens the
// store (the store, its trust policy, document limits, logging) and
// --config. Load layers whichever flags fs holds; the file and the
// environment still set every setting.
func RegisterStoreFlags(fs *pflag.FlagSet, c *Config) {
	fs.String("config", "", "YAML config file (settings below; flags and MODELGRAPH_* env override it)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory of the embedded store")
	fs.StringVar(&c.Store, "store", c.Store, "store: empty or a file path for the embedded store; bolt://, neo4j://, neo4j+s:// for Neo4j")
	fs.StringVar(&c.Neo4jUser, "neo4j-user", c.Neo4jUser, "Neo4j user")
	fs.StringVar(&c.Neo4jPasswordFile, "neo4j-password-file", c.Neo4jPasswordFile, "file holding the Neo4j password")
	fs.StringVar(&c.Neo4jDatabase, "neo4j-database", c.Neo4jDatabase, "Neo4j database")
	fs.StringVar(&c.TrustPolicy, "trust-policy", c.TrustPolicy, "trust policy YAML (keys, CAs, identities, trusted roots)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn, error")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest accepted request body / document")
}

// RegisterServerFlags adds the settings only the server reads.
func RegisterServerFlags(fs *pflag.FlagSet, c *Config) {
	fs.StringVar(&c.Listen, "listen", c.Listen, "HTTP listen address")
	fs.StringVar(&c.TokensFile, "tokens-file", c.TokensFile, "API tokens file (YAML: tokens with read/write scopes)")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", c.RequestTimeout, "per-request timeout")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "graceful shutdown timeout")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "load the generated demo supply chain into a fresh embedded store")
	fs.StringArrayVar(&c.Collect, "collect", c.Collect, "collector to run: dir:PATH or oci:REF (repeatable)")
}

// Load layers defaults, the file named by --config (or MODELGRAPH_CONFIG),
// the environment, and the flags the user set, then validates.
func Load(fs *pflag.FlagSet, getenv func(string) string) (Config, error) {
	c := Defaults()
	path, _ := fs.GetString("config")
	if path == "" {
		path = getenv("MODELGRAPH_CONFIG")
	}
	if path != "" {
		if err := loadFile(path, &c); err != nil {
			return c, err
		}
	}
	if err := applyEnv(&c, getenv); err != nil {
		return c, err
	}
	var errs []error
	fs.Visit(func(f *pflag.Flag) {
		if f.Name == "config" {
			return
		}
		if err := setField(&c, f.Name, f.Value.String(), f.Value.Type()); err != nil {
			errs = append(errs, fmt.Errorf("flag --%s: %w", f.Name, err))
		}
	})
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	return c, c.Validate()
}

func loadFile(path string, c *Config) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return fmt.Errorf("config file %q: %w", path, err)
	}
	if len(raw) > MaxFileBytes {
		return fmt.Errorf("config file %q is larger than %d bytes", path, MaxFileBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %q: %w", path, err)
	}
	return nil
}

func applyEnv(c *Config, getenv func(string) string) error {
	var errs []error
	t := reflect.TypeOf(*c)
	for i := range t.NumField() {
		key := t.Field(i).Tag.Get("yaml")
		env := "MODELGRAPH_" + strings.ToUpper(strings.ReplaceAll(key, "-", "_"))
		v := getenv(env)
		if v == "" {
			continue
		}
		if err := setField(c, key, v, ""); err != nil {
			errs = append(errs, fmt.Errorf("env %s: %w", env, err))
		}
	}
	return errors.Join(errs...)
}

// setField sets the setting named key from its string form.
func setField(c *Config, key, value, flagType string) error {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("yaml") != key {
			continue
		}
		f := v.Field(i)
		switch f.Interface().(type) {
		case string:
			f.SetString(value)
		case bool:
			b, err := strconv.ParseBool(value)
			if err != nil {
				return err
			}
			f.SetBool(b)
		case int64:
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return err
			}
			f.SetInt(n)
		case time.Duration:
			d, err := time.ParseDuration(value)
			if err != nil {
				return err
			}
			f.SetInt(int64(d))
		case []string:
			if flagType == "stringArray" {
				value = strings.Trim(value, "[]")
			}
			var parts []string
			for _, p := range strings.Split(value, ",") {
				if p = strings.TrimSpace(p); p != "" {
					parts = append(parts, p)
				}
			}
			f.Set(reflect.ValueOf(parts))
		default:
			return fmt.Errorf("unsupported setting type %s", f.Type())
		}
		return nil
	}
	return nil // flags that are not settings (command-specific) are ignored
}

// Neo4j reports whether Store selects the Neo4j backend.
func (c Config) Neo4j() bool {
	for _, p := range []string{"bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://"} {
		if strings.HasPrefix(c.Store, p) {
			return true
		}
	}
	return false
}

// EmbeddedPath is the bbolt file of the embedded store.
func (c Config) EmbeddedPath() string {
	if c.Store != "" && !c.Neo4j() {
		return c.Store
	}
	return filepath.Join(c.DataDir, "graph.db")
}

// Validate checks every setting and reports all problems at once.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Listen != "", "listen: empty")
	check(c.LogFormat == "text" || c.LogFormat == "json", "log-format %q: want text or json", c.LogFormat)
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	check(c.MaxBodyBytes > 0 && c.MaxBodyBytes <= 1<<30, "max-body-bytes %d: want 1..%d", c.MaxBodyBytes, 1<<30)
	check(c.RequestTimeout > 0, "request-timeout %s: must be positive", c.RequestTimeout)
	check(c.ShutdownTimeout > 0, "shutdown-timeout %s: must be positive", c.ShutdownTimeout)
	check(!c.Neo4j() || c.Neo4jDatabase != "", "neo4j-database: empty")
	check(!(c.Demo && c.Neo4j()), "demo: only with the embedded store")
	check(c.Store != "" || c.DataDir != "", "data-dir: empty and no store given")
	if strings.Contains(c.Store, "://") && !c.Neo4j() {
		errs = append(errs, fmt.Errorf("store %q: unknown scheme (want a path, bolt://, neo4j:// or neo4j+s://)", c.Store))
	}
	ids := map[string]bool{}
	for i, w := range c.Watch.Subscriptions {
		id := w.ID
		if id == "" {
			id = w.Name
		}
		check(id != "", "watch.subscriptions[%d]: name is empty", i)
		check(!ids[id], "watch.subscriptions[%d]: id %q is used twice", i, id)
		ids[id] = true
		check(w.URL != "", "watch.subscriptions[%d] (%s): url is empty", i, id)
		check(w.Secret == "" || w.SecretEnv == "", "watch.subscriptions[%d] (%s): give secret or secret-env, not both", i, id)
	}
	check(c.Watch.Retry.Attempts >= 0 && c.Watch.Retry.Attempts <= 100, "watch.retry.attempts %d: want 0..100", c.Watch.Retry.Attempts)
	check(c.Watch.Retry.Initial >= 0 && c.Watch.Retry.Max >= 0 && c.Watch.Retry.Timeout >= 0, "watch.retry: durations must not be negative")
	check(c.Watch.Buffer >= 0 && c.Watch.Buffer <= 1<<20, "watch.buffer %d: want 0..%d", c.Watch.Buffer, 1<<20)
	for _, col := range c.Collect {
		check(strings.HasPrefix(col, "dir:") || strings.HasPrefix(col, "oci:"), "collect %q: want dir:PATH or oci:REF", col)
	}
	return errors.Join(errs...)
}

// Neo4jPassword reads the password file ("" when none is configured).
func (c Config) Neo4jPassword() (string, error) {
	if c.Neo4jPasswordFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(c.Neo4jPasswordFile)
	if err != nil {
		return "", fmt.Errorf("neo4j-password-file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
