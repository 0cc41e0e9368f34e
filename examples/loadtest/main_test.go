package main

import (
	"bytes"
	"context"
	"os/exec"
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
