package interop

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gomodule/redigo/redis"
)

// Redis is a redis-server started for a test, listening on a unix socket only.
type Redis struct {
	Socket string
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
			return &Redis{Socket: socket}
		}
	}
	t.Fatalf("redis-server did not start:\n%s", log.String())
	return nil
}

// Keys returns the keys in Redis that match pattern.
func (r *Redis) Keys(t *testing.T, pattern string) []string {
	t.Helper()
	conn, err := redis.Dial("unix", r.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	keys, err := redis.Strings(conn.Do("KEYS", pattern))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
