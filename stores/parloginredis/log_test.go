package parloginredis_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parlogin/parlogin/stores/parloginredis"
	"github.com/redis/go-redis/v9"
)

const (
	logMeta = "parlogin:{log}:meta"
	logMsgs = "parlogin:{log}:msgs"
	logExp  = "parlogin:{log}:exp"
)

func publish(t *testing.T, s *parloginredis.Shared, msg string, exp time.Time) {
	t.Helper()
	if err := s.Publish(context.Background(), []byte(msg), exp); err != nil {
		t.Fatalf("Publish(%q): %v", msg, err)
	}
}

// read reads the log after cursor and returns the messages as strings.
func read(t *testing.T, s *parloginredis.Shared, cursor string) ([]string, string) {
	t.Helper()
	msgs, next, err := s.Read(context.Background(), cursor)
	if err != nil {
		t.Fatalf("Read(%q): %v", cursor, err)
	}
	out := []string{}
	for _, m := range msgs {
		out = append(out, string(m))
	}
	return out, next
}

func wantMsgs(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}

func TestLogOrderAndCursor(t *testing.T) {
	srv := startRedis(t)
	s := parloginredis.New(srv.Client())
	hour := time.Now().Add(time.Hour)

	msgs, cursor := read(t, s, "")
	wantMsgs(t, "Read of an empty log", msgs)
	publish(t, s, "1", hour)
	publish(t, s, "2", hour.Add(time.Hour))
	publish(t, s, "3", hour.Add(-30*time.Minute)) // expiries need not be in order
	msgs, _ = read(t, s, cursor)
	wantMsgs(t, "Read from the cursor of an empty log", msgs, "1", "2", "3")
	msgs, cursor = read(t, s, "")
	wantMsgs(t, "Read from the start", msgs, "1", "2", "3")
	msgs, same := read(t, s, cursor)
	wantMsgs(t, "Read at the end", msgs)
	if same != cursor {
		t.Fatalf("Read at the end moved the cursor from %q to %q", cursor, same)
	}
	publish(t, s, "4", hour)
	msgs, cursor = read(t, s, cursor)
	wantMsgs(t, "Read on", msgs, "4")
	msgs, _ = read(t, s, cursor)
	wantMsgs(t, "Read on at the end", msgs)

	// Another replica, with its own client, reads the same log.
	other := parloginredis.New(srv.Client())
	msgs, _ = read(t, other, "")
	wantMsgs(t, "Read by another replica", msgs, "1", "2", "3", "4")

	// A cursor that is not one of ours reads from the start rather than fail for ever.
	for _, bad := range []string{"garbage", "/", "x/1", "x/1/", "x/1/0123", "x/1-/0123456789abcdef", "x/not-an-id/0123456789abcdef"} {
		msgs, _ = read(t, s, bad)
		wantMsgs(t, "Read("+bad+")", msgs, "1", "2", "3", "4")
	}
}

// Read returns every message after the cursor, across pages of the stream.
func TestLogManyMessages(t *testing.T) {
	srv := startRedis(t)
	s := parloginredis.New(srv.Client())
	hour := time.Now().Add(time.Hour)
	const n = 2500
	for i := range n {
		publish(t, s, strconv.Itoa(i), hour)
	}
	msgs, cursor := read(t, s, "")
	if len(msgs) != n {
		t.Fatalf("Read returned %d messages, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		if m != strconv.Itoa(i) {
			t.Fatalf("message %d = %q, out of order", i, m)
		}
	}
	publish(t, s, "last", hour)
	msgs, _ = read(t, s, cursor)
	wantMsgs(t, "Read after the pages", msgs, "last")
}

// Concurrent publishers on two replicas: a reader that reads on from its cursor sees every
// message once.
func TestLogConcurrentPublish(t *testing.T) {
	srv := startRedis(t)
	replicas := []*parloginredis.Shared{parloginredis.New(srv.Client()), parloginredis.New(srv.Client())}
	reader := parloginredis.New(srv.Client())
	hour := time.Now().Add(time.Hour)
	const perReplica = 100

	var wg sync.WaitGroup
	for r, s := range replicas {
		wg.Go(func() {
			for i := range perReplica {
				if err := s.Publish(context.Background(), fmt.Appendf(nil, "%d-%d", r, i), hour); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	// Read while they publish, then once more after.
	seen := map[string]bool{}
	cursor := ""
	readOn := func() {
		msgs, next := read(t, reader, cursor)
		for _, m := range msgs {
			if seen[m] {
				t.Fatalf("message %q read twice", m)
			}
			seen[m] = true
		}
		cursor = next
	}
	for range 20 {
		readOn()
	}
	wg.Wait()
	readOn()
	if len(seen) != 2*perReplica {
		t.Fatalf("read %d messages, want %d", len(seen), 2*perReplica)
	}
	// Each replica's messages are in its order of publication.
	all, _ := read(t, reader, "")
	last := []int{-1, -1}
	for _, m := range all {
		var r, i int
		_, _ = fmt.Sscanf(m, "%d-%d", &r, &i)
		if i <= last[r] {
			t.Fatalf("replica %d's message %d read after its message %d", r, i, last[r])
		}
		last[r] = i
	}
}

// logSize returns the number of messages and of expiries kept.
func logSize(t *testing.T, c redis.UniversalClient) (msgs, exp int64) {
	t.Helper()
	ctx := context.Background()
	return c.ZCard(ctx, logMsgs).Val(), c.ZCard(ctx, logExp).Val()
}

// Expired messages are deleted wherever they are in the log, not only at its front: expiries
// differ from message to message. The log's memory follows the live messages, however many
// have come and gone.
func TestLogTrimsExpired(t *testing.T) {
	srv := startRedis(t)
	c := srv.Client()
	s := parloginredis.New(c)
	// Messages the size of parlogin's revocations, and more of them than Redis keeps in its
	// compact encoding (128): the sorted sets are skip lists, as in production.
	msg := func(kind string, round, i int) string {
		return fmt.Sprintf(`{"k":"session","v":"%s %d.%d %s","b":1796000000000,"u":1796003600}`, kind, round, i, strings.Repeat("x", 80))
	}
	publish(t, s, msg("long", 0, 0), time.Now().Add(time.Hour)) // at the front, outliving the others
	var memory []int64
	for round := range 5 {
		exp := redisNow(t, c).Add(150 * time.Millisecond)
		for i := range 150 {
			publish(t, s, msg("short", round, i), exp)
		}
		if n, _ := logSize(t, c); n < 150 {
			t.Fatalf("round %d: %d messages before the expiry", round, n)
		}
		waitUntil(t, c, exp)
		// Two messages: each Publish deletes up to 100 expired ones.
		publish(t, s, msg("live", round, 0), time.Now().Add(time.Hour))
		publish(t, s, msg("live", round, 1), time.Now().Add(time.Hour))
		live := int64(1 + 2*(round+1))
		if msgs, exps := logSize(t, c); msgs != live || exps != live {
			t.Fatalf("round %d: %d messages, %d expiries after the expiry; want the %d live ones", round, msgs, exps, live)
		}
		memory = append(memory, logMemory(t, c, "parlogin:"))
	}
	msgs, _ := read(t, s, "")
	if len(msgs) != 11 || !strings.Contains(msgs[0], "long") || !strings.Contains(msgs[10], "live 4.1") {
		t.Fatalf("Read after trimming = %q, want the long-lived message and the live ones", msgs)
	}
	// 750 messages came and went; the log holds 11. Its memory grows with the live messages only
	// (about 330 bytes each here), not with the 150 expired ones of each round, and stays within
	// a few hundred bytes per live message.
	t.Logf("memory of the log after each round: %v bytes", memory)
	if grown := memory[4] - memory[1]; grown > 6*500 {
		t.Fatalf("the log grew by %d bytes for 6 live messages", grown)
	}
	if memory[4] > 1024+11*500 {
		t.Fatalf("the log takes %d bytes for 11 live messages", memory[4])
	}
}

// logMemory returns the memory of the sorted sets of the log of prefix, once Redis has finished
// resizing their hash tables: after deletions, Redis shrinks a table by moving its entries to a
// smaller one a bucket per lookup, so both tables count until enough lookups have been made.
func logMemory(t *testing.T, c redis.UniversalClient, prefix string) int64 {
	t.Helper()
	ctx := context.Background()
	var total int64
	for _, key := range []string{prefix + "{log}:msgs", prefix + "{log}:exp"} {
		pipe := c.Pipeline()
		for range 1024 {
			pipe.ZScore(ctx, key, "-")
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			t.Fatal(err)
		}
		total += c.MemoryUsage(ctx, key, 0).Val()
	}
	return total
}

// One Publish deletes a bounded batch of expired messages; a backlog goes within a few more.
func TestLogTrimBatches(t *testing.T) {
	srv := startRedis(t)
	c := srv.Client()
	s := parloginredis.New(c)
	live := time.Now().Add(time.Hour)
	publish(t, s, "long", live) // keeps the log: without it, the whole log would expire at once
	exp := redisNow(t, c).Add(200 * time.Millisecond)
	for i := range 250 {
		publish(t, s, strconv.Itoa(i), exp)
	}
	waitUntil(t, c, exp)
	var sizes []int64
	for i := range 3 {
		publish(t, s, "live "+strconv.Itoa(i), live)
		n, _ := logSize(t, c)
		sizes = append(sizes, n)
	}
	if !slices.Equal(sizes, []int64{1 + 150 + 1, 1 + 50 + 2, 1 + 3}) {
		t.Fatalf("messages after each Publish = %v, want 100 expired ones deleted each time", sizes)
	}
}

// When every message has expired and nobody publishes, the log's keys expire with the last one.
func TestLogExpiresWhole(t *testing.T) {
	srv := startRedis(t)
	c := srv.Client()
	s := parloginredis.New(c)
	ctx := context.Background()
	exp := redisNow(t, c).Add(200 * time.Millisecond)
	publish(t, s, "a", exp.Add(-100*time.Millisecond))
	publish(t, s, "b", exp)
	publish(t, s, "c", exp.Add(-50*time.Millisecond))
	_, cursor := read(t, s, "")
	for _, k := range []string{logMeta, logMsgs, logExp} {
		if at := c.PExpireTime(ctx, k).Val(); at != time.Duration(exp.UnixMilli())*time.Millisecond {
			t.Fatalf("%s expires at %v, want with the last message, %d ms", k, at, exp.UnixMilli())
		}
	}
	waitUntil(t, c, exp)
	if n := c.Exists(ctx, logMeta, logMsgs, logExp).Val(); n != 0 {
		t.Fatalf("%d keys of the log remain after every message expired", n)
	}
	msgs, next := read(t, s, cursor)
	wantMsgs(t, "Read of an expired log", msgs)
	msgs, _ = read(t, s, "")
	wantMsgs(t, "Read from the start of an expired log", msgs)
	publish(t, s, "d", time.Now().Add(time.Hour))
	msgs, _ = read(t, s, next)
	wantMsgs(t, "Read after a new message", msgs, "d")
	msgs, _ = read(t, s, cursor)
	wantMsgs(t, "Read from a cursor of the expired log", msgs, "d")
}

// After Redis lost its data (restarted without persistence), a cursor from before reads the new
// log from its start, even when the new log's entry IDs are lower than the cursor's: no message
// published since the restart is missed.
func TestLogAfterRestart(t *testing.T) {
	srv := startRedis(t)
	c := srv.Client()
	s := parloginredis.New(c)
	ctx := context.Background()
	hour := time.Now().Add(time.Hour)

	publish(t, s, "before 1", hour)
	publish(t, s, "before 2", hour)
	// Numbers far ahead of those the restarted Redis makes, as after many messages: a cursor taken
	// there is ahead of the new log's numbers for a long while.
	if err := c.HSet(ctx, logMeta, "seq", 1e12).Err(); err != nil {
		t.Fatal(err)
	}
	publish(t, s, "ahead", hour)
	msgs, cursor := read(t, s, "")
	wantMsgs(t, "Read before the restart", msgs, "before 1", "before 2", "ahead")

	srv.Stop()
	if _, _, err := s.Read(ctx, cursor); err == nil {
		t.Fatal("Read with Redis down succeeded")
	}
	srv.Start()
	srv.WaitReady(c)

	msgs, early := read(t, s, cursor)
	wantMsgs(t, "Read of the lost log", msgs)
	publish(t, s, "after 1", hour)
	publish(t, s, "after 2", hour)
	msgs, next := read(t, s, cursor)
	wantMsgs(t, "Read from the cursor of before the restart", msgs, "after 1", "after 2")
	msgs, _ = read(t, s, early)
	wantMsgs(t, "Read from the cursor of the empty restarted Redis", msgs, "after 1", "after 2")
	msgs, _ = read(t, s, "")
	wantMsgs(t, "Read from the start after the restart", msgs, "after 1", "after 2")
	publish(t, s, "after 3", hour)
	msgs, _ = read(t, s, next)
	wantMsgs(t, "Read on after the restart", msgs, "after 3")
}

// When Redis comes back with older data under the same epoch (a restart from a snapshot, a
// failover to a replica that had not caught up), the numbers after the older data's are given
// again: a cursor taken before reads every message published since, whether the log has not yet
// reached the cursor's number again or has passed it.
func TestLogAfterRollback(t *testing.T) {
	srv := startRedis(t)
	c := srv.Client()
	s := parloginredis.New(c)
	ctx := context.Background()
	hour := time.Now().Add(time.Hour)
	keys := []string{logMeta, logMsgs, logExp}

	publish(t, s, "a", hour)
	snapshot := map[string]string{}
	for _, k := range keys {
		dump, err := c.Dump(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		snapshot[k] = dump
	}
	restore := func() {
		t.Helper()
		for _, k := range keys {
			if err := c.RestoreReplace(ctx, k, 0, snapshot[k]).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(t, s, "b", hour)
	publish(t, s, "c", hour)
	msgs, cursor := read(t, s, "")
	wantMsgs(t, "Read before the rollback", msgs, "a", "b", "c")

	restore()
	publish(t, s, "logout after the rollback", hour) // number 2, below the cursor's 3
	msgs, _ = read(t, s, cursor)
	wantMsgs(t, "Read before the log reached the cursor's number again", msgs, "a", "logout after the rollback")

	restore()
	for _, m := range []string{"x", "y", "z"} { // numbers 2, 3 and 4: the cursor's number holds another message
		publish(t, s, m, hour)
	}
	msgs, next := read(t, s, cursor)
	wantMsgs(t, "Read after the log passed the cursor's number", msgs, "a", "x", "y", "z")
	publish(t, s, "on", hour)
	msgs, _ = read(t, s, next)
	wantMsgs(t, "Read on after the rollback", msgs, "on")
}
