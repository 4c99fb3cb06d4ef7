package watch

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// SSEKeepAlive is how often an idle stream sends a comment line.
const SSEKeepAlive = 15 * time.Second

// Handler streams events as server-sent events (GET /v1/watch/events):
// first the recorded events after ?after=SEQ or the Last-Event-ID header
// (the last 100 when neither is given, none with after=latest), then
// live ones. Each message is "id: SEQ", "event: KIND", "data: JSON". The
// stream ends with the request's deadline; clients reconnect with
// Last-Event-ID and miss nothing the event log still holds.
func (w *Watcher) Handler() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(rw)
		after := int64(0)
		from := r.Header.Get("Last-Event-ID")
		if v := r.URL.Query().Get("after"); v != "" {
			from = v
		}
		switch from {
		case "":
			if last := w.q.LastSeq(); last > 100 {
				after = last - 100
			}
		case "latest":
			after = w.q.LastSeq()
		default:
			n, err := strconv.ParseInt(from, 10, 64)
			if err != nil {
				http.Error(rw, "after: want an event sequence number or latest", http.StatusBadRequest)
				return
			}
			after = n
		}
		// Listen before reading the log, so nothing falls between them.
		live, stop := w.Listen()
		defer stop()
		rw.Header().Set("Content-Type", "text/event-stream")
		rw.Header().Set("Cache-Control", "no-store")
		rw.Header().Set("X-Accel-Buffering", "no")
		rw.WriteHeader(http.StatusOK)
		write := func(e Event) error {
			if e.Seq <= after {
				return nil
			}
			after = e.Seq
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(rw, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Kind, b); err != nil {
				return err
			}
			return rc.Flush()
		}
		// catchUp sends what the log holds after the last event sent.
		catchUp := func() error {
			for {
				evs, err := w.q.Events(after, 1000)
				if err != nil {
					return err
				}
				for _, e := range evs {
					if err := write(e); err != nil {
						return err
					}
				}
				if len(evs) < 1000 {
					return nil
				}
			}
		}
		if catchUp() != nil {
			return
		}
		if _, err := fmt.Fprint(rw, ": ready\n\n"); err != nil || rc.Flush() != nil {
			return
		}
		tick := time.NewTicker(SSEKeepAlive)
		defer tick.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case e := <-live:
				if e.Seq > after+1 {
					// The listener dropped events (a slow client): read
					// them back from the log, in order.
					if catchUp() != nil {
						return
					}
				}
				if write(e) != nil {
					return
				}
			case <-tick.C:
				if _, err := fmt.Fprint(rw, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
					return
				}
			}
		}
	})
}
