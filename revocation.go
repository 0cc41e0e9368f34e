package parlogin

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Sessions that end before their expiry — at logout, by a back-channel logout, when their
// refresh token is refused — are announced to every replica through Config.Shared's log, and each
// replica keeps the announcements in memory: checking a session costs no round trip.
const (
	// revocationsFresh is how old the view of the log may be before a request starts reading it
	// again, in the background.
	revocationsFresh = 250 * time.Millisecond
	// revocationsStale is how old the view may be at most: a request that finds it older waits for
	// the read, and fails with ErrSessionStore when the log cannot be read. It is the time within
	// which a logout on one replica ends the session on all.
	revocationsStale = time.Second
	// maxRevocations bounds the memory of revocations; beyond it, new ones are not remembered
	// locally (the sessions they end still end where they were announced, and at their expiry).
	maxRevocations = 1 << 20
)

// Kinds of revocation.
const (
	revokeSession = "session" // one session, by its ID (logout, refused refresh)
	revokeSID     = "sid"     // the sessions of one provider session (back-channel logout)
	revokeSubject = "sub"     // every session of a user at an issuer (back-channel logout)
)

// revocation ends the sessions it names that started no later than Before.
type revocation struct {
	Kind   string `json:"k"`
	Issuer string `json:"i,omitempty"`
	Value  string `json:"v"`
	Before int64  `json:"b"` // Unix milliseconds
	Until  int64  `json:"u"` // Unix seconds: when every session it can end has expired anyway
}

// key is the revocation's key in the local view, the same as sessionData.revocationKeys gives.
func (rv revocation) key() string {
	if rv.Kind == revokeSession {
		return rv.Kind + "\x00" + rv.Value
	}
	return rv.Kind + "\x00" + rv.Issuer + "\x00" + rv.Value
}

// revocations is this replica's view of the sessions ended early.
type revocations struct {
	shared Shared
	local  bool // shared is this process's own memory: there is nothing to read
	now    func() time.Time
	// timeout bounds a read of the log, which runs on a context of its own: it serves every
	// request that waits for it.
	timeout time.Duration

	mu     sync.RWMutex
	ended  map[string]ended
	cursor string

	syncedAt atomic.Int64 // Unix nanoseconds of the last successful read

	reading  sync.Mutex
	inFlight chan struct{} // closed when the read in flight ends; nil when none is
	readErr  error         // the last read's error
}

type ended struct {
	before time.Time
	until  time.Time
}

func newRevocations(shared Shared, local bool, now func() time.Time, timeout time.Duration) *revocations {
	return &revocations{shared: shared, local: local, now: now, timeout: timeout, ended: make(map[string]ended)}
}

// ends reports whether d has been ended early. It assumes the view is current (see current).
func (v *revocations) ends(d *sessionData) bool {
	created := time.UnixMilli(d.Created)
	v.mu.RLock()
	defer v.mu.RUnlock()
	if len(v.ended) == 0 {
		return false
	}
	for _, k := range d.revocationKeys() {
		if e, ok := v.ended[k]; ok && !created.After(e.before) {
			return true
		}
	}
	return false
}

// publish ends the sessions rv names, here at once and on every replica through the log.
func (v *revocations) publish(ctx context.Context, rv revocation) error {
	v.apply(rv)
	if v.local {
		return nil
	}
	msg, err := json.Marshal(rv)
	if err != nil {
		return err
	}
	if err := v.shared.Publish(ctx, msg, time.Unix(rv.Until, 0)); err != nil {
		return fmt.Errorf("%w: announcing the end of a session: %w", ErrSessionStore, err)
	}
	return nil
}

func (v *revocations) apply(rv revocation) {
	until := time.Unix(rv.Until, 0)
	now := v.now()
	if !now.Before(until) {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.ended) >= maxRevocations {
		for k, e := range v.ended {
			if !now.Before(e.until) {
				delete(v.ended, k)
			}
		}
		if len(v.ended) >= maxRevocations {
			return
		}
	}
	k := rv.key()
	e := v.ended[k]
	v.ended[k] = ended{before: maxTime(e.before, time.UnixMilli(rv.Before)), until: maxTime(e.until, until)}
}

// current makes sure that the view includes every revocation published more than
// revocationsStale ago, reading the log when needed: in the background while the view is fresh
// enough, and waiting for the read otherwise. It fails when the log cannot be read in time.
func (v *revocations) current(ctx context.Context) error {
	if v.local {
		return nil
	}
	age := v.now().Sub(time.Unix(0, v.syncedAt.Load()))
	if age < revocationsFresh {
		return nil
	}
	done := v.startRead()
	if age < revocationsStale {
		return nil // the read goes on in the background
	}
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting for the sessions ended on other replicas: %w", ErrSessionStore, ctx.Err())
	}
	if v.now().Sub(time.Unix(0, v.syncedAt.Load())) < revocationsStale {
		return nil
	}
	v.reading.Lock()
	err := v.readErr
	v.reading.Unlock()
	if err == nil { // the read ended well, but began too long ago
		err = fmt.Errorf("the last read of the log began more than %v ago", revocationsStale)
	}
	return fmt.Errorf("%w: reading the sessions ended on other replicas: %w", ErrSessionStore, err)
}

// startRead starts a read of the log unless one is in flight, and returns the channel closed when
// that read ends.
func (v *revocations) startRead() <-chan struct{} {
	v.reading.Lock()
	defer v.reading.Unlock()
	if v.inFlight != nil {
		return v.inFlight
	}
	done := make(chan struct{})
	v.inFlight = done
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), v.timeout)
		defer cancel()
		err := v.read(ctx)
		v.reading.Lock()
		v.inFlight, v.readErr = nil, err
		v.reading.Unlock()
		close(done)
	}()
	return done
}

// read reads the log from the cursor on; it runs in one goroutine at a time (startRead).
func (v *revocations) read(ctx context.Context) error {
	started := v.now()
	v.mu.RLock()
	cursor := v.cursor
	v.mu.RUnlock()
	msgs, next, err := v.shared.Read(ctx, cursor)
	if err != nil {
		return err
	}
	for _, msg := range msgs {
		var rv revocation
		if json.Unmarshal(msg, &rv) == nil && rv.Value != "" {
			v.apply(rv)
		}
	}
	v.mu.Lock()
	v.cursor = next
	v.mu.Unlock()
	// The view holds what was published before the read started.
	v.syncedAt.Store(started.UnixNano())
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
