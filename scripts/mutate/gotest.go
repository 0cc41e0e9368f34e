package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// outcome is what a mutation came to.
type outcome string

const (
	killed          outcome = "killed"
	survived        outcome = "SURVIVED"
	doesNotCompile  outcome = "DOES NOT COMPILE"
	oldTextNotFound outcome = "OLD TEXT NOT FOUND"
	noTestRan       outcome = "NO TEST RAN"
	allSkipped      outcome = "TESTS SKIPPED"
	failedToRun     outcome = "GO TEST FAILED TO RUN"
	interrupted     outcome = "interrupted"
)

// result is the outcome of one mutation.
type result struct {
	mutation mutation
	outcome  outcome
	failed   []string // the tests that failed
	output   string   // the test output, bounded, for -v
	duration time.Duration
}

// testEvent is a line of go test -json (cmd/test2json), with the build events of Go 1.24.
type testEvent struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
}

// maxOutput bounds the test output kept for -v.
const maxOutput = 64 << 10

// runTests runs the tests of m, which is applied, and tells whether they caught it.
func runTests(ctx context.Context, m mutation) result {
	timeout := m.timeout
	if timeout == 0 {
		timeout = defaultTimeout
	}
	args := []string{"test", "-json", "-count=1", "-p=1", "-timeout=" + timeout.String(), "-run", m.run}
	args = append(args, m.packages()...)
	cmd := exec.CommandContext(ctx, "go", args...) //nolint:gosec // G204: go test with the table's packages and patterns
	cmd.Env = append(os.Environ(), m.env...)
	// go test and the test binaries it starts are stopped together when the run is interrupted.
	startGroup(cmd)
	cmd.Cancel = func() error { return killGroup(cmd) }
	cmd.WaitDelay = 10 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return result{outcome: failedToRun, output: err.Error()}
	}
	if err := cmd.Start(); err != nil {
		return result{outcome: failedToRun, output: err.Error()}
	}
	s := scan(stdout)
	err = cmd.Wait()
	if ctx.Err() != nil {
		return result{outcome: interrupted}
	}
	r := result{failed: s.failed, output: bounded(s.output.String() + stderr.String())}
	r.outcome = s.classify(err)
	return r
}

// defaultTimeout is the go test -timeout of a mutation that sets none.
const defaultTimeout = 5 * time.Minute

// testScan is what a go test -json stream said.
type testScan struct {
	ran, skipped  map[string]bool // top-level tests
	failed        []string        // tests, subtests included, that failed
	packageFailed bool
	buildFailed   bool
	output        strings.Builder
}

// scan reads a go test -json stream to its end.
func scan(r io.Reader) *testScan {
	s := &testScan{ran: map[string]bool{}, skipped: map[string]bool{}}
	lines := bufio.NewScanner(r)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	for lines.Scan() {
		var e testEvent
		if json.Unmarshal(lines.Bytes(), &e) != nil {
			s.output.Write(lines.Bytes()) // not an event: go's own message
			s.output.WriteByte('\n')
			continue
		}
		s.add(e)
	}
	return s
}

func (s *testScan) add(e testEvent) {
	if s.output.Len() < maxOutput {
		s.output.WriteString(e.Output)
	}
	topLevel := e.Test != "" && !strings.Contains(e.Test, "/")
	switch {
	case e.Action == "build-fail":
		s.buildFailed = true
	case e.Action == "run" && topLevel:
		s.ran[e.Test] = true
	case e.Action == "skip" && topLevel:
		s.skipped[e.Test] = true
	case e.Action == "fail" && e.Test != "":
		s.failed = append(s.failed, e.Test)
	case e.Action == "fail":
		s.packageFailed = true
		if strings.Contains(e.Output, "[build failed]") || strings.Contains(e.Output, "[setup failed]") {
			s.buildFailed = true
		}
	case e.Action == "output" && (strings.Contains(e.Output, "[build failed]") || strings.Contains(e.Output, "[setup failed]")):
		s.buildFailed = true
	}
}

// classify tells what the run of a mutation's tests came to; err is go test's exit.
func (s *testScan) classify(err error) outcome {
	out := s.output.String()
	switch {
	case s.buildFailed:
		return doesNotCompile // a mutation that does not compile is no kill
	case len(s.failed) > 0:
		return killed
	case s.packageFailed && (strings.Contains(out, "panic: ") || strings.Contains(out, "test timed out")):
		return killed // a test panicked, or hung until go test's -timeout
	case s.packageFailed || err != nil:
		return failedToRun
	case len(s.ran) == 0:
		return noTestRan
	case len(s.skipped) == len(s.ran):
		return allSkipped
	}
	return survived
}

func bounded(s string) string {
	if len(s) > maxOutput {
		return s[:maxOutput] + "\n…"
	}
	return s
}

// failedTests lists the failed tests of r, subtests by their leaf, for a report.
func (r result) failedTests() string {
	names := slices.Clone(r.failed)
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) > 3 {
		return fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
	}
	return strings.Join(names, ", ")
}
