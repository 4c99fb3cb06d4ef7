package watch

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/modelgraph/modelgraph/graph"
)

// Queue is the watcher's durable state, in its own bbolt file next to the
// graph store (graph.Store holds graph data only): subscriptions, events,
// deliveries and the index of deliveries due. Every change is one fsynced
// transaction, so a delivery queued before a crash or restart is sent
// after it.
type Queue struct {
	db *bolt.DB

	mu   sync.Mutex
	subs []Subscription // cache of Subscriptions; nil after a change
}

var (
	bSubs       = []byte("subscriptions") // id -> Subscription
	bEvents     = []byte("events")        // seq (8 bytes BE) -> Event
	bSeen       = []byte("seen")          // event id -> seq
	bDeliveries = []byte("deliveries")    // id -> Delivery
	bDue        = []byte("due")           // nextAttempt unix nanos (8 BE) + delivery id -> ""
	bPosture    = []byte("posture")       // environment -> last posture (decimal percent)
	bDeps       = []byte("deployments")   // environment \x00 deployment id -> "v" (runs a verified model) | "u"
	bAnswers    = []byte("answers")       // saved question -> JSON list of its answer's lines
	seededKey   = []byte("\x00seeded")    // in bPosture: deployments were read once from the graph
)

// Retention.
const (
	// MaxEvents kept in the event log (oldest dropped first; their ids
	// stay in the seen set, so a repeat is still recognised).
	MaxEvents = 10_000
	// MaxDeliveries kept in the delivery log (oldest finished ones
	// dropped first; pending ones are never dropped).
	MaxDeliveries = 50_000
)

// ErrNotFound: no subscription with that id.
var ErrNotFound = fmt.Errorf("watch: %w", graph.ErrNotFound)

// OpenQueue opens (creating) the queue file at path.
func OpenQueue(path string) (*Queue, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("watch queue %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bSubs, bEvents, bSeen, bDeliveries, bDue, bPosture, bDeps, bAnswers} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("watch queue %s: %w", path, err)
	}
	return &Queue{db: db}, nil
}

// Close closes the file.
func (q *Queue) Close() error { return q.db.Close() }

func (q *Queue) invalidate() {
	q.mu.Lock()
	q.subs = nil
	q.mu.Unlock()
}

// cachedSubscriptions is Subscriptions, read again only after a change.
func (q *Queue) cachedSubscriptions() ([]Subscription, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.subs != nil {
		return q.subs, nil
	}
	ss, err := q.Subscriptions()
	if err == nil {
		q.subs = append([]Subscription{}, ss...)
	}
	return ss, err
}

// Answer is the recorded answer of a saved question (false: none yet).
func (q *Queue) Answer(question string) ([]string, bool) {
	var out []string
	var ok bool
	_ = q.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bAnswers).Get([]byte(question)); v != nil {
			ok = json.Unmarshal(v, &out) == nil
		}
		return nil
	})
	return out, ok
}

// PutSubscription stores s (validated) under s.ID.
func (q *Queue) PutSubscription(s Subscription) error {
	if err := s.Validate(); err != nil {
		return err
	}
	defer q.invalidate()
	return q.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bSubs)
		if b.Get([]byte(s.ID)) == nil && b.Stats().KeyN >= MaxSubscriptions {
			return fmt.Errorf("watch: %d subscriptions, limit %d", b.Stats().KeyN, MaxSubscriptions)
		}
		raw, err := json.Marshal(s)
		if err != nil {
			return err
		}
		return b.Put([]byte(s.ID), raw)
	})
}

// DeleteSubscription removes a subscription (its pending deliveries are
// still attempted).
func (q *Queue) DeleteSubscription(id string) error {
	defer q.invalidate()
	return q.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bSubs)
		if b.Get([]byte(id)) == nil {
			return fmt.Errorf("%w: subscription %q", ErrNotFound, id)
		}
		return b.Delete([]byte(id))
	})
}

// Subscriptions lists every subscription in id order.
func (q *Queue) Subscriptions() ([]Subscription, error) {
	var out []Subscription
	err := q.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bSubs).ForEach(func(_, v []byte) error {
			var s Subscription
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			out = append(out, s)
			return nil
		})
	})
	return out, err
}

// SyncConfig makes the subscriptions from the config file exactly subs:
// adds or replaces them and removes config subscriptions no longer listed
// (those created over the API stay).
func (q *Queue) SyncConfig(subs []Subscription) error {
	keep := map[string]bool{}
	for i := range subs {
		subs[i].Source = "config"
		if err := subs[i].Validate(); err != nil {
			return err
		}
		keep[subs[i].ID] = true
	}
	defer q.invalidate()
	return q.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bSubs)
		var drop [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var s Subscription
			if json.Unmarshal(v, &s) == nil && s.Source == "config" && !keep[s.ID] {
				drop = append(drop, slices.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range drop {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		for _, s := range subs {
			var old Subscription
			if v := b.Get([]byte(s.ID)); v != nil && json.Unmarshal(v, &old) == nil {
				s.CreatedAt = old.CreatedAt
			}
			if s.CreatedAt.IsZero() {
				s.CreatedAt = time.Now().UTC()
			}
			raw, err := json.Marshal(s)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(s.ID), raw); err != nil {
				return err
			}
		}
		return nil
	})
}

func deliveryID(sub, event string) string {
	h := sha256.Sum256([]byte(sub + "\x00" + event))
	return hex.EncodeToString(h[:16])
}

func dueKey(at time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(at.UnixNano()))
	return append(k, id...)
}

func seqKey(n uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], n)
	return k[:]
}

// Posture is the last recorded posture of env (false when none).
func (q *Queue) Posture(env string) (int, bool) {
	var (
		n  int
		ok bool
	)
	_ = q.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bPosture).Get([]byte(env)); v != nil {
			if x, err := strconv.Atoi(string(v)); err == nil {
				n, ok = x, true
			}
		}
		return nil
	})
	return n, ok
}

// EnvDeployments returns the recorded state of every active deployment
// of env: "v" when it runs a verified model, "u" otherwise.
func (q *Queue) EnvDeployments(env string) map[string]string {
	out := map[string]string{}
	prefix := []byte(env + "\x00")
	_ = q.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bDeps).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			out[string(k[len(prefix):])] = string(v)
		}
		return nil
	})
	return out
}

// Seeded reports whether the deployments were read once from the graph.
func (q *Queue) Seeded() bool {
	var ok bool
	_ = q.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bPosture).Get(seededKey) != nil
		return nil
	})
	return ok
}

// Record stores the events not seen before (by id), gives them sequence
// numbers and queues one delivery per matching subscription, and records
// the environments' new postures and the deployments' states, all in one
// transaction. It returns the new events and the deliveries queued.
func (q *Queue) Record(r Result, now time.Time) ([]Event, int, error) {
	events, postures := r.Events, r.Postures
	var added []Event
	queued := 0
	err := q.db.Update(func(tx *bolt.Tx) error {
		added, queued = nil, 0
		var subs []Subscription
		err := tx.Bucket(bSubs).ForEach(func(_, v []byte) error {
			var s Subscription
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			subs = append(subs, s)
			return nil
		})
		if err != nil {
			return err
		}
		ev, seen, dl, due := tx.Bucket(bEvents), tx.Bucket(bSeen), tx.Bucket(bDeliveries), tx.Bucket(bDue)
		for env, p := range postures {
			if err := tx.Bucket(bPosture).Put([]byte(env), []byte(strconv.Itoa(p))); err != nil {
				return err
			}
		}
		for id, st := range r.Deployments {
			k := []byte(st.Environment + "\x00" + id)
			var err error
			if st.State == "" {
				err = tx.Bucket(bDeps).Delete(k)
			} else {
				err = tx.Bucket(bDeps).Put(k, []byte(st.State))
			}
			if err != nil {
				return err
			}
		}
		for qn, lines := range r.Answers {
			raw, err := json.Marshal(lines)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bAnswers).Put([]byte(qn), raw); err != nil {
				return err
			}
		}
		if r.Seeded {
			if err := tx.Bucket(bPosture).Put(seededKey, []byte("1")); err != nil {
				return err
			}
		}
		for _, e := range events {
			if seen.Get([]byte(e.ID)) != nil {
				continue
			}
			seq, err := ev.NextSequence()
			if err != nil {
				return err
			}
			e.Seq = int64(seq)
			raw, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if err := ev.Put(seqKey(seq), raw); err != nil {
				return err
			}
			if err := seen.Put([]byte(e.ID), seqKey(seq)); err != nil {
				return err
			}
			added = append(added, e)
			for _, s := range subs {
				if !s.Matches(e) {
					continue
				}
				d := Delivery{ID: deliveryID(s.ID, e.ID), SubscriptionID: s.ID, Subscription: s.Name, EventID: e.ID,
					EventKind: e.Kind, Status: StatusPending, CreatedAt: now, NextAttemptAt: &now, Event: e}
				raw, err := json.Marshal(d)
				if err != nil {
					return err
				}
				if err := dl.Put([]byte(d.ID), raw); err != nil {
					return err
				}
				if err := due.Put(dueKey(now, d.ID), nil); err != nil {
					return err
				}
				queued++
			}
		}
		if err := trim(ev, MaxEvents); err != nil {
			return err
		}
		return trimDeliveries(dl, MaxDeliveries)
	})
	return added, queued, err
}

// trim drops the oldest keys of b beyond max.
func trim(b *bolt.Bucket, max int) error {
	n := b.Stats().KeyN
	if n <= max {
		return nil
	}
	c := b.Cursor()
	for k, _ := c.First(); k != nil && n > max; k, _ = c.Next() {
		if err := c.Delete(); err != nil {
			return err
		}
		n--
	}
	return nil
}

// trimDeliveries drops finished deliveries, oldest first, beyond max.
func trimDeliveries(b *bolt.Bucket, max int) error {
	n := b.Stats().KeyN
	if n <= max {
		return nil
	}
	type old struct {
		id []byte
		at time.Time
	}
	var done []old
	_ = b.ForEach(func(k, v []byte) error {
		var d Delivery
		if json.Unmarshal(v, &d) == nil && d.Status != StatusPending {
			done = append(done, old{slices.Clone(k), d.CreatedAt})
		}
		return nil
	})
	slices.SortFunc(done, func(a, b old) int { return a.at.Compare(b.at) })
	for _, o := range done {
		if n <= max {
			break
		}
		if err := b.Delete(o.id); err != nil {
			return err
		}
		n--
	}
	return nil
}

// Due returns up to limit pending deliveries whose next attempt is at or
// before now, earliest first.
func (q *Queue) Due(now time.Time, limit int) ([]Delivery, error) {
	var out []Delivery
	end := dueKey(now, "\xff")
	err := q.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bDue).Cursor()
		dl := tx.Bucket(bDeliveries)
		for k, _ := c.First(); k != nil && bytes.Compare(k, end) <= 0 && len(out) < limit; k, _ = c.Next() {
			v := dl.Get(k[8:])
			if v == nil {
				continue
			}
			var d Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// NextDue is when the earliest pending delivery is due (zero when none).
func (q *Queue) NextDue() time.Time {
	var at time.Time
	_ = q.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bDue).Cursor().First(); k != nil {
			at = time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))
		}
		return nil
	})
	return at
}

// Attempted is a delivery after an attempt, with the next-attempt time it
// was due at (its place in the due index).
type Attempted struct {
	Delivery Delivery
	PrevNext *time.Time
}

// UpdateAll stores deliveries after their attempts, in one transaction:
// each leaves the due index at its old time and, while still pending,
// enters it at its NextAttemptAt.
func (q *Queue) UpdateAll(as []Attempted) error {
	return q.db.Update(func(tx *bolt.Tx) error {
		due, dl := tx.Bucket(bDue), tx.Bucket(bDeliveries)
		for _, a := range as {
			d := a.Delivery
			if a.PrevNext != nil {
				if err := due.Delete(dueKey(*a.PrevNext, d.ID)); err != nil {
					return err
				}
			}
			raw, err := json.Marshal(d)
			if err != nil {
				return err
			}
			if err := dl.Put([]byte(d.ID), raw); err != nil {
				return err
			}
			if d.Status == StatusPending && d.NextAttemptAt != nil {
				if err := due.Put(dueKey(*d.NextAttemptAt, d.ID), nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// DeliveryFilter selects rows of the delivery log.
type DeliveryFilter struct {
	Status         string // "" for any
	SubscriptionID string // "" for any
	Limit          int    // 100 when 0, at most 1000
}

// Deliveries lists the delivery log, newest first.
func (q *Queue) Deliveries(f DeliveryFilter) ([]Delivery, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	var out []Delivery
	err := q.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bDeliveries).ForEach(func(_, v []byte) error {
			var d Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			if (f.Status == "" || strings.EqualFold(f.Status, d.Status)) && (f.SubscriptionID == "" || f.SubscriptionID == d.SubscriptionID) {
				out = append(out, d)
			}
			return nil
		})
	})
	slices.SortFunc(out, func(a, b Delivery) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, err
}

// Events lists recorded events with Seq > after, oldest first, at most
// limit (100 when 0, at most 1000).
func (q *Queue) Events(after int64, limit int) ([]Event, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var out []Event
	err := q.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bEvents).Cursor()
		for k, v := c.Seek(seqKey(uint64(max(after, 0)) + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var e Event
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// LastSeq is the sequence number of the newest event (0 when none).
func (q *Queue) LastSeq() int64 {
	var n int64
	_ = q.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bEvents).Cursor().Last(); k != nil {
			n = int64(binary.BigEndian.Uint64(k))
		}
		return nil
	})
	return n
}
