package parlogin

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestMemorySharedClaim(t *testing.T) {
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	s := newMemoryShared(clk.Now)
	ctx := context.Background()
	claim := func(key string) bool {
		ok, err := s.Claim(ctx, key, clk.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("A") {
		t.Fatal("first claim refused")
	}
	if claim("A") {
		t.Fatal("second claim of the same key accepted")
	}
	if !claim("B") {
		t.Fatal("another key refused")
	}
	// A claim holds until its expiry, and no longer.
	clk.Add(59 * time.Second)
	if claim("A") {
		t.Fatal("a claim was forgotten before its expiry")
	}
	clk.Add(2 * time.Second)
	if !claim("A") {
		t.Fatal("an expired claim still holds")
	}
}

func TestMemorySharedValues(t *testing.T) {
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	s := newMemoryShared(clk.Now)
	ctx := context.Background()
	if err := s.Set(ctx, "k", []byte("v"), clk.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get(ctx, "k"); string(v) != "v" {
		t.Fatalf("Get = %q", v)
	}
	if ok, _ := s.Claim(ctx, "k", clk.Now().Add(time.Minute)); ok {
		t.Fatal("a key holding a value was claimed")
	}
	_ = s.Delete(ctx, "k")
	if v, _ := s.Get(ctx, "k"); v != nil {
		t.Fatalf("Get after Delete = %q", v)
	}
	_ = s.Set(ctx, "k", []byte("v"), clk.Now().Add(time.Minute))
	clk.Add(time.Minute)
	if v, _ := s.Get(ctx, "k"); v != nil {
		t.Fatalf("Get after expiry = %q", v)
	}
}

func TestMemorySharedBounded(t *testing.T) {
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	s := newMemoryShared(clk.Now)
	ctx := context.Background()
	for i := range maxMemoryKeys {
		_, _ = s.Claim(ctx, strconv.Itoa(i), clk.Now().Add(time.Minute))
	}
	// Past the expiry of all of them, the next claim sweeps them away.
	clk.Add(2 * time.Minute)
	_, _ = s.Claim(ctx, "fresh", clk.Now().Add(time.Minute))
	if n := s.len(); n != 1 {
		t.Fatalf("%d keys kept, want only the live one", n)
	}
}

// Expired keys go long before the map reaches maxMemoryKeys: memory follows the keys still live,
// not the busiest moment since the start.
func TestMemorySharedSweptEarly(t *testing.T) {
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	s := newMemoryShared(clk.Now)
	ctx := context.Background()
	for i := range 1000 {
		_, _ = s.Claim(ctx, "old"+strconv.Itoa(i), clk.Now().Add(time.Minute))
	}
	clk.Add(2 * time.Minute)
	for i := range 1000 {
		_, _ = s.Claim(ctx, "new"+strconv.Itoa(i), clk.Now().Add(time.Minute))
	}
	if n := s.len(); n > 1000+64 {
		t.Fatalf("%d keys kept, want about the 1000 live ones", n)
	}
}

func TestMemorySharedLog(t *testing.T) {
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	s := newMemoryShared(clk.Now)
	ctx := context.Background()
	_ = s.Publish(ctx, []byte("1"), clk.Now().Add(time.Minute))
	_ = s.Publish(ctx, []byte("2"), clk.Now().Add(time.Hour))
	msgs, cursor, _ := s.Read(ctx, "")
	if len(msgs) != 2 || string(msgs[0]) != "1" || string(msgs[1]) != "2" {
		t.Fatalf("Read from the start = %q", msgs)
	}
	if msgs, _, _ := s.Read(ctx, cursor); len(msgs) != 0 {
		t.Fatalf("Read at the end = %q", msgs)
	}
	clk.Add(2 * time.Minute)
	_ = s.Publish(ctx, []byte("3"), clk.Now().Add(time.Hour))
	if msgs, _, _ := s.Read(ctx, cursor); len(msgs) != 1 || string(msgs[0]) != "3" {
		t.Fatalf("Read on = %q", msgs)
	}
	// The expired message went; a reader from the start sees what is still kept.
	if msgs, _, _ := s.Read(ctx, ""); len(msgs) != 2 || string(msgs[0]) != "2" {
		t.Fatalf("Read from the start after an expiry = %q", msgs)
	}
}

// hangingShared is a Shared whose log cannot be read: Read blocks until its context ends.
type hangingShared struct {
	*memoryShared
	reads atomic.Int32
}

func (h *hangingShared) Read(ctx context.Context, _ string) ([][]byte, string, error) {
	h.reads.Add(1)
	<-ctx.Done()
	return nil, "", ctx.Err()
}

// When the shared log cannot be read, a request that needs a current view fails within its own
// deadline with ErrSessionStore (a 503, not a hang), and the requests waiting meanwhile share one
// read of the log.
func TestRevocationsLogUnreadable(t *testing.T) {
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	shared := &hangingShared{memoryShared: newMemoryShared(clk.Now)}
	v := newRevocations(shared, false, clk.Now, time.Second)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if err := v.current(ctx); !errors.Is(err, ErrSessionStore) {
				t.Errorf("current with the log unreadable = %v, want ErrSessionStore", err)
			}
		})
	}
	wg.Wait()
	if n := shared.reads.Load(); n != 1 {
		t.Errorf("%d reads of the log for 8 waiting requests, want 1", n)
	}
}
