package main

import (
	"os"
	"runtime"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/modelgraph/modelgraph/internal/app"
	"github.com/modelgraph/modelgraph/internal/config"
	"github.com/modelgraph/modelgraph/internal/gql"
)

// Flags come in groups, each added only to the commands that read it:
// store flags (commands that open the store), server flags (serve) and
// client flags (commands that talk to a server). The config file and
// MODELGRAPH_* variables still set every setting (internal/config).

// storeOptions are the settings of a command that opens the store.
type storeOptions struct{ flags *pflag.FlagSet }

func addStoreFlags(cmd *cobra.Command, o *storeOptions) {
	c := config.Defaults()
	config.RegisterStoreFlags(cmd.Flags(), &c)
	o.flags = cmd.Flags()
}

// load layers defaults, the config file, the environment and the flags.
func (o *storeOptions) load() (config.Config, error) { return config.Load(o.flags, os.Getenv) }

// withSettings adds the store flags to cmd and returns their loader.
func withSettings(cmd *cobra.Command) func() (config.Config, error) {
	var o storeOptions
	addStoreFlags(cmd, &o)
	return o.load
}

// serverOptions are serve's flags beyond the store's.
type serverOptions struct{ app.ServeOptions }

func addServerFlags(cmd *cobra.Command, o *serverOptions) {
	c := config.Defaults()
	f := cmd.Flags()
	config.RegisterServerFlags(f, &c)
	f.DurationVar(&o.QueryTimeout, "query-timeout", gql.DefaultTimeout, "deadline of each GraphQL operation (walks stop when it passes; at most --request-timeout)")
	f.IntVar(&o.QueryBudget, "query-budget", 0, "work units (GraphQL complexity) all running operations may hold together (0: 2 x the complexity limit)")
	f.IntVar(&o.QueryRunning, "max-running-queries", gql.DefaultRunningPerCPU*runtime.GOMAXPROCS(0), "GraphQL operations running at once (more queue, then 503)")
	f.DurationVar(&o.QueueWait, "queue-wait", gql.DefaultQueueWait, "how long a query or ingest waits for its budget before a 503 with Retry-After")
	f.IntVar(&o.Ingests, "max-concurrent-ingests", 2*runtime.GOMAXPROCS(0), "documents parsed and written at once (more queue, then 503)")
	f.StringVar(&o.MemoryLimit, "memory-limit", "auto", `Go soft memory limit: a size (1536MiB), "auto" (GOMEMLIMIT, else 80% of the cgroup limit) or "off"`)
	f.StringVar(&o.PosturePolicy, "posture-policy", "", "posture policy YAML for GraphQL posture answers (levels and thresholds; docs/posture.md)")
	a := &o.Admission
	f.StringVar(&a.Addr, "admission-listen", "", "serve the Kubernetes validating admission webhook (HTTPS) on this address, e.g. :8443 (off when empty)")
	f.StringVar(&a.Cert, "admission-tls-cert", "", "PEM certificate (chain) of the admission webhook; re-read when it changes")
	f.StringVar(&a.Key, "admission-tls-key", "", "PEM private key of the admission webhook")
	f.StringVar(&a.ClientCA, "admission-client-ca", "", "require callers of the admission webhook to present a client certificate from this CA (PEM): the API server's")
	f.StringVar(&a.Config, "admission-config", "", "admission webhook configuration file (YAML/JSON: policy, modes, unknown rule)")
}
