package parlogin

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Shared is the state that the replicas of an app share, so that they behave as one app: the
// logins finished (a state is good for one callback), the back-channel logout tokens received (a
// jti is good once), the refreshes in flight and their results (a refresh token is redeemed once),
// and the sessions ended before their expiry (a logout on one replica ends the session on all).
//
// Without [Config.Shared], a Middleware keeps this state in its own memory, which is right for one
// process. Apps with several replicas give each the same Shared, such as the Redis one of module
// github.com/parlogin/parlogin/stores/parloginredis.
//
// parlogin chooses the keys: printable ASCII of at most 100 bytes. Values and messages are opaque
// and at most a few kilobytes. An error means that the shared state cannot be reached: parlogin
// then answers 503 ([ErrSessionStore]) rather than guess. Implementations must be safe for
// concurrent use.
type Shared interface {
	// Claim stores key until exp unless it is stored already, and reports whether it stored it:
	// of concurrent claims of one key, on any replica, exactly one succeeds.
	Claim(ctx context.Context, key string, exp time.Time) (bool, error)
	// Set stores value under key until exp, replacing any earlier value or claim.
	Set(ctx context.Context, key string, value []byte, exp time.Time) error
	// Get returns the value stored under key, or nil when there is none.
	Get(ctx context.Context, key string) ([]byte, error)
	// Delete removes key, if it is stored.
	Delete(ctx context.Context, key string) error
	// Publish appends msg to a log that every replica reads, where it stays at least until exp.
	Publish(ctx context.Context, msg []byte, exp time.Time) error
	// Read returns the messages published after cursor, oldest first, and the cursor to read on
	// from; the empty cursor reads every message still kept. It does not wait for messages.
	Read(ctx context.Context, cursor string) (msgs [][]byte, next string, err error)
}

// maxMemoryKeys bounds the keys of memoryShared. Each key is a finished login, a logout token or
// a refresh, kept for minutes; the bound is far above what one process sees in that time.
const maxMemoryKeys = 1 << 18

// memoryShared is the Shared of a single process: the default when Config.Shared is nil.
type memoryShared struct {
	now func() time.Time

	mu      sync.Mutex
	values  map[string]memoryValue
	sweepAt int // the size at which expired keys are dropped next
	log     []memoryMessage
	offset  int // sequence number of log[0]
}

type memoryValue struct {
	value []byte
	exp   time.Time
}

type memoryMessage struct {
	msg []byte
	exp time.Time
}

func newMemoryShared(now func() time.Time) *memoryShared {
	return &memoryShared{now: now, values: make(map[string]memoryValue)}
}

func (s *memoryShared) Claim(_ context.Context, key string, exp time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if v, ok := s.values[key]; ok && now.Before(v.exp) {
		return false, nil
	}
	s.store(key, nil, exp, now)
	return true, nil
}

func (s *memoryShared) Set(_ context.Context, key string, value []byte, exp time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(key, value, exp, s.now())
	return nil
}

// store stores value under key; s.mu is held.
func (s *memoryShared) store(key string, value []byte, exp, now time.Time) {
	if len(s.values) >= s.sweepAt {
		// Sweeping when the map has doubled since the last sweep keeps it near the keys still
		// live, at a cost that amortizes to a constant per key.
		for k, v := range s.values {
			if !now.Before(v.exp) {
				delete(s.values, k)
			}
		}
		if len(s.values) >= maxMemoryKeys {
			// Still full of live keys: forget them rather than grow without bound. What they
			// guard has a second defence: the provider's single-use codes and refresh tokens.
			clear(s.values)
		}
		s.sweepAt = max(64, 2*len(s.values))
	}
	// A copy: key may be a slice of a request, which the map would otherwise keep alive.
	s.values[strings.Clone(key)] = memoryValue{value: value, exp: exp}
}

func (s *memoryShared) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.values[key]; ok && s.now().Before(v.exp) {
		return v.value, nil
	}
	return nil, nil
}

func (s *memoryShared) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.values, key)
	return nil
}

func (s *memoryShared) Publish(_ context.Context, msg []byte, exp time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	drop := 0
	for drop < len(s.log) && !now.Before(s.log[drop].exp) {
		drop++ // expiries are nearly in order: dropping from the front is enough
	}
	s.log = append(s.log[drop:], memoryMessage{msg: msg, exp: exp})
	s.offset += drop
	return nil
}

func (s *memoryShared) Read(_ context.Context, cursor string) ([][]byte, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next, _ := strconv.Atoi(cursor)
	var msgs [][]byte
	for i := max(next-s.offset, 0); i < len(s.log); i++ {
		msgs = append(msgs, s.log[i].msg)
	}
	return msgs, strconv.Itoa(s.offset + len(s.log)), nil
}
