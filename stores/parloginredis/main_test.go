package parloginredis_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/redis/go-redis/v9"
)

// exampleRedis is the socket of the redis-server that the examples use.
var exampleRedis string

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	// go-redis logs every failed dial; the tests stop Redis on purpose.
	redis.SetLogger(quietLogger{})
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if _, err := redisServerPath(); err != nil {
		if interopRequired() {
			fmt.Fprintf(os.Stderr, "%v; PARLOGIN_INTEROP=required\n", err)
			return 1
		}
		// Every test and example of this package needs Redis.
		fmt.Printf("skipping the tests of parloginredis: %v\n", err)
		return 0
	}
	dir, err := os.MkdirTemp("", "parloginredis")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	exampleRedis = filepath.Join(dir, "redis.sock")
	cmd, err := launchRedis(exampleRedis)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	return m.Run()
}
