package parlogin

import (
	"strings"
	"sync"
	"time"

	"github.com/gorilla/sessions"
)

// maxCachedSessions bounds the session cache: beyond it, an arbitrary entry makes room.
const maxCachedSessions = 8192

// sessionCache remembers the sessions decoded from cookies, keyed by the exact cookie value, so
// that a signed-in user's requests skip the cookie store's MAC check, decryption and decoding after
// the first. It is used only with a [sessions.CookieStore], whose cookie value is the whole session:
// the same value always decodes to the same session, so caching it changes nothing but the cost.
// (With a server-side store the value is only an identifier, and the record behind it may be
// deleted elsewhere.) Expiry is checked on every use.
type sessionCache struct {
	mu      sync.RWMutex
	entries map[string]*sessionData
}

func newSessionCache(store sessions.Store) *sessionCache {
	if _, ok := store.(*sessions.CookieStore); !ok {
		return nil
	}
	return &sessionCache{entries: make(map[string]*sessionData)}
}

// get returns the session decoded from cookie value v, if cached and not expired.
func (c *sessionCache) get(v string, now time.Time) (*sessionData, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	d, ok := c.entries[v]
	c.mu.RUnlock()
	if !ok || !now.Before(time.Unix(d.Expiry, 0)) {
		return nil, false
	}
	return d, true
}

// put caches d, decoded from cookie value v. d must not be modified afterwards.
func (c *sessionCache) put(v string, d *sessionData) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedSessions {
		for k := range c.entries { // map iteration starts at a random entry
			delete(c.entries, k)
			break
		}
	}
	// A copy: v is a slice of the request's Cookie header, which the key would otherwise keep
	// alive, other cookies included.
	c.entries[strings.Clone(v)] = d
}

// forget drops the session of cookie value v, at logout.
func (c *sessionCache) forget(v string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, v)
}
