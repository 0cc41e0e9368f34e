package parloginredis_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The tests run against Debian's redis-server, never a fake: what they check (SET NX among
// concurrent clients, PXAT, streams, scripts, a restart losing the data) is Redis's behaviour.

// redisServer is a redis-server started for a test, listening on a unix socket only, without
// persistence: a restart loses every key, as a crash of a cache-only Redis does.
type redisServer struct {
	t      testing.TB
	socket string
	cmd    *exec.Cmd
}

// redisServerPath returns the path of redis-server, or why it cannot be used.
func redisServerPath() (string, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return "", errors.New("redis-server is not installed (apt-get install redis-server)")
	}
	return path, nil
}

// interopRequired reports whether tests that need redis-server must fail, rather than skip,
// without it (as in CI).
func interopRequired() bool { return os.Getenv("PARLOGIN_INTEROP") == "required" }

// startRedis starts a redis-server for t and stops it when t ends. Without redis-server, t is
// skipped, or fails when PARLOGIN_INTEROP=required.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := redisServerPath(); err != nil {
		if interopRequired() {
			t.Fatalf("%v; PARLOGIN_INTEROP=required", err)
		}
		t.Skip(err)
	}
	r := &redisServer{t: t, socket: filepath.Join(t.TempDir(), "redis.sock")}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// Start starts redis-server on r's socket: again, after Stop.
func (r *redisServer) Start() {
	r.t.Helper()
	cmd, err := launchRedis(r.socket)
	if err != nil {
		r.t.Fatal(err)
	}
	r.cmd = cmd
}

// Stop kills redis-server, as a crash would, and waits for it to exit.
func (r *redisServer) Stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// Freeze stops redis-server without closing its socket (SIGSTOP): connections stay open and
// commands get no answer, as with a hung server or a lost network. Thaw resumes it; Freeze
// arranges for that at the end of the test.
func (r *redisServer) Freeze() {
	r.t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(r.Thaw)
}

// Thaw resumes a frozen redis-server.
func (r *redisServer) Thaw() {
	if r.cmd != nil {
		_ = r.cmd.Process.Signal(syscall.SIGCONT)
	}
}

// Client returns a new go-redis client of r's server, closed when the test ends. Its read
// timeout is long, so that any bound seen by a test is parloginredis's own.
func (r *redisServer) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{
		Network:     "unix",
		Addr:        r.socket,
		ReadTimeout: time.Minute,
		Protocol:    3,
	})
	r.t.Cleanup(func() { _ = c.Close() })
	return c
}

// WaitReady waits until c can reach the server again, after a restart: go-redis dials again
// in the background after failed dials.
func (r *redisServer) WaitReady(c redis.UniversalClient) {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server not reachable again: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // polling for a server coming back, not synchronising
	}
}

// launchRedis starts redis-server on socket and returns once it accepts connections. The server
// dies with the test process (Pdeathsig), even when the test is killed.
func launchRedis(socket string) (*exec.Cmd, error) {
	path, err := redisServerPath()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "--port", "0", "--unixsocket", socket, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--dir", filepath.Dir(socket), "--loglevel", "notice")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting redis-server: %w", err)
	}
	// redis-server says when it accepts connections; read its log up to that line.
	lines := bufio.NewScanner(stdout)
	var log strings.Builder
	for lines.Scan() {
		log.WriteString(lines.Text() + "\n")
		if strings.Contains(strings.ToLower(lines.Text()), "ready to accept connections") {
			go func() { _, _ = io.Copy(io.Discard, stdout) }() // never block redis-server on its log
			return cmd, nil
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil, fmt.Errorf("redis-server did not start:\n%s", log.String())
}
