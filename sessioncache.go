package parlogin

import (
	"strings"
	"sync"
	"time"
)

const (
	// maxCachedValue is the longest session cookie value cached: a browser sends at most 4096
	// bytes per cookie, and a cookie store refuses longer values.
	maxCachedValue = 4096
	// maxCacheBytes bounds the memory of the session cache: the cookie values, the sessions'
	// claims and tokens, and a fixed overhead per entry.
	maxCacheBytes = 16 << 20
	// cacheEntryOverhead is the memory of an entry beyond its key, claims and tokens.
	cacheEntryOverhead = 400
)

// sessionCache remembers sessions decoded from the store, keyed by the exact cookie value they
// were decoded from, so that a signed-in user's requests skip the cookie's MAC check, decryption
// and decoding (or, with a server-side store, the store's lookup) after the first. An entry serves
// the value it was decoded from and nothing else, until its cache expiry; the session's own
// expiry and its revocations are checked on every use by the sessionManager.
type sessionCache struct {
	mu      sync.RWMutex
	entries map[string]*cachedSession
	bytes   int
}

type cachedSession struct {
	session           // served as it is, to every request that sends its key: never modified
	until   time.Time // the end of the entry: the session's expiry, or earlier
	size    int
}

func newSessionCache() *sessionCache {
	return &sessionCache{entries: make(map[string]*cachedSession)}
}

// get returns the session decoded from cookie value v, if cached and not expired.
func (c *sessionCache) get(v string, now time.Time) (*cachedSession, bool) {
	c.mu.RLock()
	e, ok := c.entries[v]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e, true
}

// put caches d, decoded from cookie value v, with its expiry and the end of the entry. d must not
// be modified afterwards.
func (c *sessionCache) put(v string, d *sessionData, expires, until time.Time) {
	if len(v) > maxCachedValue {
		return
	}
	// A copy of v: v is a slice of the request's Cookie header, which the key would otherwise keep
	// alive, other cookies included.
	key := strings.Clone(v)
	e := &cachedSession{session: session{data: d, expires: expires, key: key}, until: until,
		size: len(v) + d.size() + cacheEntryOverhead}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[v]; ok {
		c.bytes -= old.size
	}
	for k, old := range c.entries { // map iteration starts at a random entry
		if c.bytes+e.size <= maxCacheBytes {
			break
		}
		delete(c.entries, k)
		c.bytes -= old.size
	}
	c.entries[key] = e
	c.bytes += e.size
}

// forget drops the session of cookie value v.
func (c *sessionCache) forget(v string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[v]; ok {
		delete(c.entries, v)
		c.bytes -= e.size
	}
}

// size estimates the memory of d's variable parts.
func (d *sessionData) size() int {
	n := len(d.ID) + len(d.Issuer) + len(d.Client) + len(d.Subject) + len(d.SID) + len(d.ACR) + len(d.Claims) +
		len(d.IDToken) + len(d.AccessToken) + len(d.TokenType) + len(d.RefreshToken) + len(d.DPoPKey)
	for _, amr := range d.AMR {
		n += len(amr) + 16
	}
	return n
}
