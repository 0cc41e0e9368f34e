package parlogin

import (
	"crypto/sha256"
	"encoding/base64"
	"runtime"
	"strings"
	"testing"
)

// len returns the number of keys held, expired or not.
func (s *memoryShared) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.values)
}

// len returns the number of sessions cached.
func (c *sessionCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// waiting returns the number of goroutines blocked in refreshGroup.do, waiting for a refresh in
// flight, as their stacks show.
func (g *refreshGroup) waiting() int {
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	n := 0
	for _, goroutine := range strings.Split(stacks, "\n\n") {
		if strings.Contains(goroutine, "[chan receive") && strings.Contains(goroutine, "parlogin.(*refreshGroup).do(") {
			n++
		}
	}
	return n
}

func sha256Of(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// jwtHeader returns the decoded header of a compact JWS.
func jwtHeader(t *testing.T, raw string) string {
	t.Helper()
	h, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
