package parlogin

import (
	"strconv"
	"testing"
	"time"
)

func TestUsedStates(t *testing.T) {
	var u usedStates
	now := time.Unix(1_800_000_000, 0)
	if !u.claim("A", now.Add(time.Minute), now) {
		t.Fatal("first claim refused")
	}
	if u.claim("A", now.Add(time.Minute), now) {
		t.Fatal("second claim of the same state accepted")
	}
	if !u.claim("B", now.Add(time.Minute), now) {
		t.Fatal("another state refused")
	}
}

func TestUsedStatesBounded(t *testing.T) {
	var u usedStates
	now := time.Unix(1_800_000_000, 0)
	for i := range maxUsedStates {
		u.claim(strconv.Itoa(i), now.Add(time.Minute), now)
	}
	// Past the expiry of all of them, the next claim sweeps them away.
	later := now.Add(2 * time.Minute)
	u.claim("fresh", later.Add(time.Minute), later)
	if len(u.until) != 1 {
		t.Fatalf("%d states kept, want only the live one", len(u.until))
	}
}

// Expired states go long before the map reaches maxUsedStates: memory follows the logins of the
// last flowLifetime, not the busiest moment since the start.
func TestUsedStatesSweptEarly(t *testing.T) {
	var u usedStates
	now := time.Unix(1_800_000_000, 0)
	for i := range 1000 {
		u.claim("old"+strconv.Itoa(i), now.Add(time.Minute), now)
	}
	later := now.Add(2 * time.Minute)
	for i := range 1000 {
		u.claim("new"+strconv.Itoa(i), later.Add(time.Minute), later)
	}
	if n := len(u.until); n > 1000+64 {
		t.Fatalf("%d states kept, want about the 1000 live ones", n)
	}
}
