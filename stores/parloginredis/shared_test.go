package parloginredis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parlogin/parlogin/stores/parloginredis"
	"github.com/redis/go-redis/v9"
)

// redisNow returns the time of r's clock, which decides expiries.
func redisNow(t *testing.T, c redis.UniversalClient) time.Time {
	t.Helper()
	now, err := c.Time(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	return now
}

// waitUntil polls Redis's clock until it is past when, in the milliseconds that Redis counts
// expiries in: a short TTL passes.
func waitUntil(t *testing.T, c redis.UniversalClient, when time.Time) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for redisNow(t, c).UnixMilli() <= when.UnixMilli() {
		if time.Now().After(deadline) {
			t.Fatalf("Redis's clock did not pass %v", when)
		}
	}
}

// Of many concurrent claims of one key, from two clients (two replicas), exactly one wins.
func TestClaimOneWinner(t *testing.T) {
	srv := startRedis(t)
	replicas := []*parloginredis.Shared{parloginredis.New(srv.Client()), parloginredis.New(srv.Client())}
	ctx := context.Background()
	exp := time.Now().Add(time.Minute)
	const rounds, perReplica = 20, 16
	for round := range rounds {
		key := fmt.Sprintf("state/%d", round)
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			mu      sync.Mutex
			winners int
		)
		for i := range 2 * perReplica {
			wg.Go(func() {
				<-start
				ok, err := replicas[i%2].Claim(ctx, key, exp)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					winners++
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		if winners != 1 {
			t.Fatalf("round %d: %d claims of one key won, want exactly 1", round, winners)
		}
	}
}

// A claim holds until its expiry, an absolute time (PXAT), and no longer.
func TestClaimExpiry(t *testing.T) {
	srv := startRedis(t)
	c := srv.Client()
	s := parloginredis.New(c)
	ctx := context.Background()

	far := time.Now().Add(time.Hour).Truncate(time.Millisecond).Add(123 * time.Millisecond)
	if ok, err := s.Claim(ctx, "state/far", far); !ok || err != nil {
		t.Fatalf("Claim = %v, %v", ok, err)
	}
	if at := c.PExpireTime(ctx, "parlogin:shared:state/far").Val(); at != time.Duration(far.UnixMilli())*time.Millisecond {
		t.Fatalf("PEXPIRETIME = %v, want exp to the millisecond (%d)", at, far.UnixMilli())
	}

	exp := redisNow(t, c).Add(100 * time.Millisecond)
	if ok, _ := s.Claim(ctx, "state/A", exp); !ok {
		t.Fatal("first claim refused")
	}
	if ok, _ := s.Claim(ctx, "state/A", exp.Add(time.Hour)); ok {
		t.Fatal("second claim of the same key accepted")
	}
	waitUntil(t, c, exp)
	if ok, err := s.Claim(ctx, "state/A", time.Now().Add(time.Minute)); !ok || err != nil {
		t.Fatalf("claim after the expiry = %v, %v; want it to succeed", ok, err)
	}
}

// An expiry that has passed, even the zero time, stores nothing for longer: no key without an
// expiry is ever left behind.
func TestClaimPastExpiry(t *testing.T) {
	srv := startRedis(t)
	c := srv.Client()
	s := parloginredis.New(c)
	ctx := context.Background()
	for _, exp := range []time.Time{{}, time.Unix(0, 0), time.Now().Add(-time.Minute)} {
		if _, err := s.Claim(ctx, "k", exp); err != nil {
			t.Fatalf("Claim(%v) = %v", exp, err)
		}
		if err := s.Set(ctx, "v", []byte("x"), exp); err != nil {
			t.Fatalf("Set(%v) = %v", exp, err)
		}
		if n := c.Exists(ctx, "parlogin:shared:k", "parlogin:shared:v").Val(); n != 0 {
			t.Fatalf("expiry %v: %d keys kept", exp, n)
		}
	}
}

func TestSetGetDelete(t *testing.T) {
	srv := startRedis(t)
	c := srv.Client()
	s := parloginredis.New(c)
	ctx := context.Background()
	exp := time.Now().Add(time.Minute).Truncate(time.Millisecond)

	if v, err := s.Get(ctx, "refresh/x"); v != nil || err != nil {
		t.Fatalf("Get of a missing key = %q, %v; want nil, nil", v, err)
	}
	if err := s.Set(ctx, "refresh/x", []byte("sealed"), exp); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, "refresh/x"); string(v) != "sealed" || err != nil {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if at := c.PExpireTime(ctx, "parlogin:shared:refresh/x").Val(); at != time.Duration(exp.UnixMilli())*time.Millisecond {
		t.Fatalf("PEXPIRETIME = %v, want %d ms", at, exp.UnixMilli())
	}
	if ok, _ := s.Claim(ctx, "refresh/x", exp); ok {
		t.Fatal("a key holding a value was claimed")
	}

	// Set replaces a claim, and its expiry.
	_, _ = s.Claim(ctx, "refreshing/x", exp)
	if v, err := s.Get(ctx, "refreshing/x"); v == nil || len(v) != 0 || err != nil {
		t.Fatalf("Get of a claimed key = %#v, %v; want an empty value", v, err)
	}
	if err := s.Set(ctx, "refreshing/x", []byte("2"), exp.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get(ctx, "refreshing/x"); string(v) != "2" {
		t.Fatalf("Get after Set over a claim = %q", v)
	}

	if err := s.Delete(ctx, "refresh/x"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, "refresh/x"); v != nil || err != nil {
		t.Fatalf("Get after Delete = %q, %v", v, err)
	}
	if err := s.Delete(ctx, "refresh/x"); err != nil {
		t.Fatalf("Delete of a missing key = %v", err)
	}
	if ok, _ := s.Claim(ctx, "refresh/x", exp); !ok {
		t.Fatal("a deleted key could not be claimed")
	}

	// Binary values round-trip.
	bin := []byte{0, 1, 2, 0xff, '\n'}
	_ = s.Set(ctx, "bin", bin, exp)
	if v, _ := s.Get(ctx, "bin"); string(v) != string(bin) {
		t.Fatalf("binary value = %v", v)
	}
}

func TestSharedKeyPrefix(t *testing.T) {
	srv := startRedis(t)
	c := srv.Client()
	ctx := context.Background()
	a := parloginredis.New(c, parloginredis.WithKeyPrefix("app1:"))
	b := parloginredis.New(c, parloginredis.WithKeyPrefix("app2:"))
	exp := time.Now().Add(time.Minute)
	if ok, _ := a.Claim(ctx, "state/s", exp); !ok {
		t.Fatal("claim refused")
	}
	if ok, _ := b.Claim(ctx, "state/s", exp); !ok {
		t.Fatal("a claim of another app's prefix was refused")
	}
	if c.Exists(ctx, "app1:shared:state/s", "app2:shared:state/s").Val() != 2 {
		t.Fatalf("keys %v", c.Keys(ctx, "*").Val())
	}
}

// sharedCalls calls each method of s once, naming it.
func sharedCalls(s *parloginredis.Shared) map[string]func(context.Context) error {
	exp := time.Now().Add(time.Minute)
	return map[string]func(context.Context) error{
		"Claim":  func(ctx context.Context) error { _, err := s.Claim(ctx, "k", exp); return err },
		"Set":    func(ctx context.Context) error { return s.Set(ctx, "k", []byte("v"), exp) },
		"Get":    func(ctx context.Context) error { _, err := s.Get(ctx, "k"); return err },
		"Delete": func(ctx context.Context) error { return s.Delete(ctx, "k") },
	}
}

// With Redis down, every method fails within the timeout, with an error that says what failed
// and that Redis could not be reached; after a restart, they work again with the same client.
func TestSharedRedisDown(t *testing.T) {
	srv := startRedis(t)
	c := srv.Client()
	const timeout = 3 * time.Second
	s := parloginredis.New(c, parloginredis.WithTimeout(timeout))
	srv.Stop()
	var wg sync.WaitGroup
	for name, f := range sharedCalls(s) {
		wg.Go(func() { // at once: go-redis retries its dials for a second or two each time
			start := time.Now()
			err := f(context.Background())
			if err == nil || !strings.HasPrefix(err.Error(), "parloginredis: ") || !strings.Contains(err.Error(), "connect") {
				t.Errorf("%s with Redis down = %v, want an error saying Redis could not be reached", name, err)
			}
			if d := time.Since(start); d > timeout+time.Second {
				t.Errorf("%s took %v with a timeout of %v", name, d, timeout)
			}
		})
	}
	wg.Wait()
	srv.Start()
	srv.WaitReady(c)
	for name, f := range sharedCalls(s) {
		if err := f(context.Background()); err != nil {
			t.Errorf("%s after the restart = %v", name, err)
		}
	}
}

// A Redis that does not answer fails every method within the timeout, or the caller's context
// if that ends first, and a cancelled context ends the call at once.
func TestSharedRedisHung(t *testing.T) {
	srv := startRedis(t)
	const timeout = 200 * time.Millisecond
	s := parloginredis.New(srv.Client(), parloginredis.WithTimeout(timeout))
	unbounded := parloginredis.New(srv.Client(), parloginredis.WithTimeout(0))
	if err := s.Set(context.Background(), "k", []byte("v"), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	srv.Freeze()
	for name, f := range sharedCalls(s) {
		start := time.Now()
		if err := f(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s with Redis hung = %v, want a deadline error", name, err)
		}
		if d := time.Since(start); d > timeout+time.Second {
			t.Errorf("%s took %v with a timeout of %v", name, d, timeout)
		}
	}
	for name, f := range sharedCalls(unbounded) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		start := time.Now()
		if err := f(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s with Redis hung and a context deadline = %v", name, err)
		}
		cancel()
		if d := time.Since(start); d > timeout+time.Second {
			t.Errorf("%s took %v with a context deadline of %v", name, d, timeout)
		}
		ctx, cancel = context.WithCancel(context.Background())
		cancel()
		if err := f(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context = %v", name, err)
		}
	}
}
