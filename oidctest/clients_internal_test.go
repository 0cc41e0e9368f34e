package oidctest

import (
	"strconv"
	"testing"
	"time"
)

func TestReplayCacheIsBounded(t *testing.T) {
	s := NewUnstartedServer()
	start := time.Unix(1_700_000_000, 0)
	use := func(jti string, now time.Time) bool {
		return s.useJTI(replayKey{"client", jti}, now.Add(time.Minute), now)
	}
	for i := range 3000 {
		if !use("old-"+strconv.Itoa(i), start) {
			t.Fatalf("fresh jti %d refused", i)
		}
	}
	if use("old-7", start.Add(30*time.Second)) {
		t.Fatal("a replayed jti was accepted before it expired")
	}
	later := start.Add(2 * time.Minute)
	for i := range 3000 {
		use("new-"+strconv.Itoa(i), later)
	}
	s.mu.Lock()
	n := len(s.jtis)
	s.mu.Unlock()
	if n > 3000 {
		t.Errorf("%d jtis remembered, want the 3000 unexpired ones at most", n)
	}
	if !use("old-7", later) {
		t.Error("an expired jti is still refused")
	}
}
