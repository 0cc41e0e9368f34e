package main

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parlogin/parlogin/examples/internal/browser"
)

// TestCommand runs the program as the README's go run ./examples/nethttp does, with no
// PARLOGIN_* variable but PARLOGIN_ADDR (a free port rather than 8080): it must print the URL to
// open, which leads to the embedded provider's login form.
func TestCommand(t *testing.T) {
	goTool, err := exec.LookPath("go") // go test puts its own toolchain first on PATH
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "nethttp")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLOGIN_") {
			env = append(env, kv)
		}
	}

	// Another process may take the free port before the program listens on it: try again then.
	for range 3 {
		open, log, err := startCommand(t, bin, append(env, "PARLOGIN_ADDR="+freeAddr(t)))
		if errors.Is(err, syscall.EADDRINUSE) {
			continue
		}
		if err != nil {
			t.Fatalf("%v\n%s", err, log())
		}
		b := browser.NewT(t, nil)
		if page := b.Get(open); !strings.Contains(page.Body, `name="username"`) {
			t.Fatalf("%s did not lead to the embedded provider's login form: %d %s\n%s", open, page.Status, page.URL, log())
		}
		return
	}
	t.Fatal("no free port")
}

// openURL is the line that tells which URL to open.
var openURL = regexp.MustCompile(`open (http://\S+)/private\b`)

// startCommand starts bin, stopped when the test ends, and returns the URL it says to open once
// it accepts connections, or syscall.EADDRINUSE if its address was taken. log returns what it has
// logged.
func startCommand(t *testing.T, bin string, env []string) (open string, log func() string, err error) {
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		lines []string
	)
	log = func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(lines, "\n")
	}
	origin := make(chan string, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		scanner := bufio.NewScanner(stderr)
		for scanner.Scan() {
			mu.Lock()
			lines = append(lines, scanner.Text())
			mu.Unlock()
			if m := openURL.FindStringSubmatch(scanner.Text()); m != nil && len(origin) == 0 {
				origin <- m[1]
			}
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	ended := func() error {
		if strings.Contains(log(), "address already in use") {
			return syscall.EADDRINUSE
		}
		return errors.New("the program ended")
	}
	select {
	case open = <-origin:
	case <-exited:
		return "", log, ended()
	}
	// The program prints the URL, then listens: wait until it accepts connections, or ends.
	for {
		conn, err := net.Dial("tcp", strings.TrimPrefix(open, "http://"))
		if err == nil {
			conn.Close()
			return open + "/private", log, nil
		}
		select {
		case <-exited:
			return "", log, ended()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
