package testserve

import (
	"net/http"
	"testing"
)

// Start returns once serve answers; Stop shuts it down cleanly; Kill ends
// it with a failure status, and Exited says so.
func TestStartStopKill(t *testing.T) {
	dir := t.TempDir()
	s := Start(t, Options{}, "--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "error")
	resp, err := http.Get(s.Base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	if err := s.Stop(t); err != nil {
		t.Fatalf("serve exited with %v after SIGINT, want a clean exit", err)
	}
	select {
	case <-s.Exited():
	default:
		t.Fatal("Exited not closed after Stop")
	}

	// The same data dir again (the store's lock was released), then SIGKILL.
	s = Start(t, Options{}, "--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "error")
	s.Kill()
	if s.Err() == nil {
		t.Fatal("a killed serve reports a clean exit")
	}
}
