package k8sadmit

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelgraph/modelgraph/internal/testserve"
)

// The webhook serves the renewed certificate after webhook-certs.sh (or
// cert-manager) replaces the files, without a restart.
func TestListenReloadsCertificate(t *testing.T) {
	dir := t.TempDir()
	pool := testserve.WebhookCerts(t, dir)
	w := newWorld(t)
	wh, err := New(w.q, nil, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	old := certCheckEvery
	certCheckEvery = 0
	t.Cleanup(func() { certCheckEvery = old })
	s, err := Listen("127.0.0.1:0", filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), wh, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, time.Second) }()
	defer func() { cancel(); <-done }()
	serial := func() string {
		t.Helper()
		c, err := tls.Dial("tcp", s.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	first := serial()
	time.Sleep(20 * time.Millisecond) // a new modification time
	testserve.WebhookCerts(t, dir)    // the same CA, a new serving certificate
	if second := serial(); second == first {
		t.Fatalf("still serving certificate %s after renewal", first)
	}
	if _, err := Listen("127.0.0.1:0", "", "", wh, nil); err == nil {
		t.Fatal("Listen without a key pair succeeded")
	}
}

// With a client CA, only a caller presenting a certificate from it (the
// API server) gets an answer.
func TestListenRequiresClientCertificate(t *testing.T) {
	dir := t.TempDir()
	pool := testserve.WebhookCerts(t, dir)
	w := newWorld(t)
	wh, err := New(w.q, nil, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ListenTLS("127.0.0.1:0", TLSFiles{Cert: filepath.Join(dir, "tls.crt"), Key: filepath.Join(dir, "tls.key"), ClientCA: filepath.Join(dir, "ca.crt")}, wh, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, time.Second) }()
	defer func() { cancel(); <-done }()
	get := func(certs []tls.Certificate) error {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs}}}
		resp, err := c.Get("https://" + s.Addr().String() + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	if err := get(nil); err == nil {
		t.Fatal("a caller without a client certificate got an answer")
	}
	client, err := tls.LoadX509KeyPair(filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := get([]tls.Certificate{client}); err != nil {
		t.Fatalf("the API server's client certificate was refused: %v", err)
	}
	if _, err := ListenTLS("127.0.0.1:0", TLSFiles{Cert: filepath.Join(dir, "tls.crt"), Key: filepath.Join(dir, "tls.key"), ClientCA: filepath.Join(dir, "tls.key")}, wh, nil); err == nil {
		t.Fatal("a client CA file with no certificate was accepted")
	}
}
