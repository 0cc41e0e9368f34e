package parlogin

import (
	"crypto/rand"
	"strconv"
	"testing"
	"time"
)

func TestValidToken(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{rand.Text(), true},
		{"", false},
		{"ABCDEFGHIJKLMNOPQRSTUVWXY", false},   // 25
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZ2", false}, // 27
		{"abcdefghijklmnopqrstuvwxyz", false},  // lower case
		{"ABCDEFGHIJKLMNOPQRSTUVWXY1", false},  // 1 is not base32
		{"ABCDEFGHIJKLMNOPQRSTUVWX;=", false},
	}
	for _, tc := range tests {
		if got := validToken(tc.in); got != tc.want {
			t.Errorf("validToken(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

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
