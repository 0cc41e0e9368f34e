package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRun runs a very short load test, so that the tool keeps working: every login and request
// must succeed, and the table must show every phase.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), options{users: 4, logins: 8, duration: 150 * time.Millisecond, rounds: 1, limit: time.Minute}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	checkTable(t, out.String())
}

// TestRunWrk does the same with wrk making the requests, when wrk is installed.
func TestRunWrk(t *testing.T) {
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk is not installed")
	}
	var out bytes.Buffer
	err := run(context.Background(), options{users: 4, logins: 4, duration: time.Second, rounds: 1, limit: time.Minute, wrk: true}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	checkTable(t, out.String())
}

func checkTable(t *testing.T, table string) {
	t.Helper()
	for _, phase := range []string{"login", "public", "private", "gorilla"} {
		if !strings.Contains(table, "  "+phase+"  ") {
			t.Errorf("no %s line in the table", phase)
		}
	}
}

func TestParseWrk(t *testing.T) {
	const out = `Running 2s test @ http://127.0.0.1:34297/private
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.78ms    1.89ms  15.08ms   87.40%
    Req/Sec    19.96k     2.81k   24.28k    60.00%
  Latency Distribution
     50%    1.17ms
     75%    2.41ms
     90%    4.10ms
     99%  900.00us
  39991 requests in 2.01s, 2.33MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:  19896.50
Transfer/sec:      2.31MB
`
	var p phase
	if err := parseWrk(out, &p); err != nil {
		t.Fatal(err)
	}
	want := phase{count: 39991, errors: 7, elapsed: 2010 * time.Millisecond,
		p50: 1170 * time.Microsecond, p90: 4100 * time.Microsecond, p99: 900 * time.Microsecond}
	if p.count != want.count || p.errors != want.errors || p.elapsed != want.elapsed ||
		p.p50 != want.p50 || p.p90 != want.p90 || p.p99 != want.p99 {
		t.Errorf("parsed %+v, want %+v", p, want)
	}
	if err := parseWrk("unable to connect", &p); err == nil {
		t.Error("no error for a report without a request count")
	}
}

func TestRunRefusesNonLoopback(t *testing.T) {
	err := run(context.Background(), options{users: 1, logins: 1, duration: time.Millisecond, rounds: 1, limit: time.Second, serve: "0.0.0.0:0"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("serving on 0.0.0.0: %v, want a refusal", err)
	}
}

// TestRunUncached runs the load test with -uncached, by both load generators when wrk is installed.
func TestRunUncached(t *testing.T) {
	for _, wrk := range []bool{false, true} {
		if _, err := exec.LookPath("wrk"); wrk && err != nil {
			t.Log("wrk is not installed")
			continue
		}
		var out bytes.Buffer
		err := run(context.Background(), options{users: 4, logins: 4, duration: time.Second, rounds: 1, limit: time.Minute, wrk: wrk, uncached: true, pool: 4096}, &out)
		t.Log("\n" + out.String())
		if err != nil {
			t.Fatal(err)
		}
		checkTable(t, out.String())
	}
}

// TestRunRedis runs the load test with parlogin's sessions and shared state in a Redis server of
// its own, when redis-server is installed, with the session cache and without: without it, every
// request to /private reads Redis once; with it, almost none does.
func TestRunRedis(t *testing.T) {
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed")
	}
	socket := filepath.Join(t.TempDir(), "redis.sock")
	cmd := exec.Command(server, "--port", "0", "--unixsocket", socket, "--unixsocketperm", "700", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(socket); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not create its socket within 10 s")
		}
	}
	for _, uncached := range []bool{false, true} {
		var out bytes.Buffer
		// 16,384 cookie values: more than the requests of the phase, so none comes back within the
		// second of its cache entry.
		err := run(context.Background(), options{users: 4, logins: 4, duration: 300 * time.Millisecond, rounds: 1, limit: time.Minute,
			redis: socket, sessions: "redis", uncached: uncached, pool: 1 << 14}, &out)
		t.Log("\n" + out.String())
		if err != nil {
			t.Fatal(err)
		}
		checkTable(t, out.String())
		perOp := redisPerOp(t, out.String(), "private")
		if uncached && (perOp < 0.9 || perOp > 1.1) {
			t.Errorf("-uncached: %.3f Redis commands per request to /private, want 1 (a GET)", perOp)
		}
		if !uncached && perOp > 0.1 {
			t.Errorf("%.3f Redis commands per request to /private, want almost none (the session cache)", perOp)
		}
	}
}

// redisPerOp returns the Redis cmds/op column of phase in table.
func redisPerOp(t *testing.T, table, phase string) float64 {
	t.Helper()
	for line := range strings.Lines(table) {
		if fields := strings.Fields(line); len(fields) > 8 && fields[0] == phase {
			v, err := strconv.ParseFloat(fields[8], 64)
			if err != nil {
				t.Fatalf("Redis cmds/op of %s: %v", phase, err)
			}
			return v
		}
	}
	t.Fatalf("no %s line in the table", phase)
	return 0
}
