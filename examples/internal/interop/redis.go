package interop

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Redis is a redis-server started for a test, listening on a unix socket only.
type Redis struct {
	Socket string // its path, for PARLOGIN_REDIS_ADDR
	client *redis.Client
}

// StartRedis starts Debian's redis-server for the test, without persistence, and stops it when the
// test ends.
func StartRedis(t *testing.T) *Redis {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "redis-server is not installed (apt-get install redis-server)")
	}
	socket := filepath.Join(t.TempDir(), "redis.sock")
	cmd := exec.Command(path, "--port", "0", "--unixsocket", socket, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--loglevel", "notice")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	// redis-server says when it accepts connections; read its log up to that line.
	lines := bufio.NewScanner(stdout)
	var log strings.Builder
	for lines.Scan() {
		log.WriteString(lines.Text() + "\n")
		if strings.Contains(strings.ToLower(lines.Text()), "ready to accept connections") {
			go func() { // keep draining, so that redis-server never blocks on its log
				for lines.Scan() {
				}
			}()
			r := &Redis{Socket: socket, client: redis.NewClient(&redis.Options{Network: "unix", Addr: socket})}
			t.Cleanup(func() { r.client.Close() })
			return r
		}
	}
	t.Fatalf("redis-server did not start:\n%s", log.String())
	return nil
}

// Keys returns the keys in Redis that match pattern.
func (r *Redis) Keys(t *testing.T, pattern string) []string {
	t.Helper()
	keys, err := r.client.Keys(context.Background(), pattern).Result()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
