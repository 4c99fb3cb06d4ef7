package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/modelgraph/modelgraph/graph"
	"github.com/modelgraph/modelgraph/ingest"
	"github.com/modelgraph/modelgraph/internal/config"
	"github.com/modelgraph/modelgraph/internal/k8sadmit"
	"github.com/modelgraph/modelgraph/internal/query"
)

// admissionOptions are serve's Kubernetes admission webhook flags
// (docs/admission.md).
type admissionOptions struct {
	addr, cert, key, clientCA, config string
}

func admissionFlags(cmd *cobra.Command) *admissionOptions {
	o := &admissionOptions{}
	f := cmd.Flags()
	f.StringVar(&o.addr, "admission-listen", "", "serve the Kubernetes validating admission webhook (HTTPS) on this address, e.g. :8443 (off when empty)")
	f.StringVar(&o.cert, "admission-tls-cert", "", "PEM certificate (chain) of the admission webhook; re-read when it changes")
	f.StringVar(&o.key, "admission-tls-key", "", "PEM private key of the admission webhook")
	f.StringVar(&o.clientCA, "admission-client-ca", "", "require callers of the admission webhook to present a client certificate from this CA (PEM): the API server's")
	f.StringVar(&o.config, "admission-config", "", "admission webhook configuration file (YAML/JSON: policy, modes, unknown rule)")
	return o
}

// start serves the webhook when --admission-listen is set; stop drains it
// and waits for its deployment records.
func (o *admissionOptions) start(ctx context.Context, c config.Config, store graph.Store, pipe *ingest.Pipeline, log *slog.Logger, out io.Writer) (stop func(), err error) {
	if o.addr == "" {
		return func() {}, nil
	}
	var cfg k8sadmit.Config
	if o.config != "" {
		if cfg, err = k8sadmit.LoadConfig(o.config); err != nil {
			return nil, err
		}
	}
	wh, err := k8sadmit.New(query.New(store), pipe, cfg, log)
	if err != nil {
		return nil, err
	}
	s, err := k8sadmit.ListenTLS(o.addr, k8sadmit.TLSFiles{Cert: o.cert, Key: o.key, ClientCA: o.clientCA}, wh, log)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "modelgraph admission webhook listening on https://%s/validate\n", s.Addr())
	log.Info("admission webhook", "addr", s.Addr().String())
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Serve(sctx, c.ShutdownTimeout); err != nil {
			log.Error("admission webhook stopped", "err", err)
		}
	}()
	return func() {
		cancel()
		select {
		case <-done:
		case <-time.After(c.ShutdownTimeout + time.Second):
		}
		wh.Close()
	}, nil
}
