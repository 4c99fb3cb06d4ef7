package k8sadmit

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// LoadConfig reads a webhook configuration file (YAML or JSON, the
// fields of Config; docs/admission.md shows one).
func LoadConfig(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("admission config: %w", err)
	}
	if len(b) > 1<<20 {
		return c, fmt.Errorf("admission config %s: larger than 1 MiB", path)
	}
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return c, fmt.Errorf("admission config %s: %w", path, err)
	}
	j, err := json.Marshal(doc)
	if err != nil {
		return c, fmt.Errorf("admission config %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("admission config %s: %w", path, err)
	}
	return c, c.Validate()
}

// certReloader serves the key pair from files, re-read when they change
// (cert-manager and the dev script rotate them in place).
type certReloader struct {
	cert, key string
	mu        sync.Mutex
	cur       *tls.Certificate
	mtime     time.Time
	checked   time.Time
}

func (r *certReloader) load() error {
	st, err := os.Stat(r.cert)
	if err != nil {
		return err
	}
	if r.cur != nil && st.ModTime().Equal(r.mtime) {
		return nil
	}
	c, err := tls.LoadX509KeyPair(r.cert, r.key)
	if err != nil {
		return fmt.Errorf("admission TLS key pair %s, %s: %w", r.cert, r.key, err)
	}
	r.cur, r.mtime = &c, st.ModTime()
	return nil
}

// certCheckEvery is how often the key pair files are checked for a change.
var certCheckEvery = 10 * time.Second

func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.checked) >= certCheckEvery {
		r.checked = time.Now()
		if err := r.load(); err != nil && r.cur == nil {
			return nil, err
		}
	}
	return r.cur, nil
}

// Server is the webhook's own TLS listener: the API server calls it
// without a modelgraph token, so it serves only the admission routes and
// a health check, never the API.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// TLSFiles are the webhook's key pair and, optionally, the CA its
// clients (the API server) must present a certificate from.
type TLSFiles struct {
	Cert, Key string
	// ClientCA, when set, requires and verifies a client certificate
	// issued by this CA (PEM): only the API server, configured with that
	// client certificate (docs/admission.md), can call the webhook.
	ClientCA string
}

// Listen opens addr with the key pair in certFile/keyFile and mounts wh.
func Listen(addr, certFile, keyFile string, wh *Webhook, log *slog.Logger) (*Server, error) {
	return ListenTLS(addr, TLSFiles{Cert: certFile, Key: keyFile}, wh, log)
}

// ListenTLS is Listen with client-certificate authentication.
func ListenTLS(addr string, files TLSFiles, wh *Webhook, log *slog.Logger) (*Server, error) {
	certFile, keyFile := files.Cert, files.Key
	if certFile == "" || keyFile == "" {
		return nil, errors.New("admission webhook: a TLS certificate and key are required (the API server only calls webhooks over HTTPS)")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cr := &certReloader{cert: certFile, key: keyFile}
	if err := cr.load(); err != nil {
		return nil, err
	}
	cr.checked = time.Now()
	tc := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cr.get}
	if files.ClientCA != "" {
		pem, err := os.ReadFile(files.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("admission client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("admission client CA %s: no PEM certificate", files.ClientCA)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	mux := http.NewServeMux()
	for _, r := range Routes {
		mux.Handle(r, wh)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admission webhook: listen %s: %w", addr, err)
	}
	s := &Server{ln: ln, srv: &http.Server{
		Handler:           mux,
		TLSConfig:         tc,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      35 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	return s, nil
}

// Addr is the address listened on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve serves until ctx ends, then shuts down within grace.
func (s *Server) Serve(ctx context.Context, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.ServeTLS(s.ln, "", "") }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
