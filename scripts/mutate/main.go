// Command mutate is parlogin's mutation test: it disables the defences that SECURITY.md names, one
// at a time, runs the tests that must then fail, and reports whether they did.
//
// Each mutation in mutations.go is a defence (a name set in bold in the defence column of
// SECURITY.md), one or more exact text edits that disable it, and the tests that must catch that:
// packages and a -run regexp. For each, mutate applies the edits, runs
//
//	go test -json -count=1 -p=1 -run <regexp> <packages>
//
// (no -race, for speed; one go test at a time), restores the files, and reports the mutation as
// killed (a test failed), survived (the tests passed), does not compile (which is no kill), or
// not applied (an old text that is not in its file exactly once). The exit status is 1 unless
// every mutation run was killed.
//
// Usage, from anywhere in the repository:
//
//	go run ./scripts/mutate              # every mutation: about a quarter of an hour on two cores
//	go run ./scripts/mutate -run 'nonce' # the mutations whose defence matches a regexp
//	go run ./scripts/mutate -check       # only check the table against the code and SECURITY.md
//
// -check is fast (it runs no test): every old text occurs exactly once in its file, every -run
// pattern names a test of its package, and the defences of the table and those of SECURITY.md are
// the same. .ci/run runs it so that the table does not rot.
//
// mutate refuses to run when a file it edits has changes that are not committed, and restores
// every file it edited before it exits, also when interrupted (SIGINT, SIGTERM, SIGHUP). Killed
// outright (SIGKILL), it leaves a mutated file that git status shows and git checkout restores;
// until then, the next run refuses to start.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mutate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", false, "only check that every old text occurs once, every -run pattern names a test, and the defences match SECURITY.md")
	only := fs.String("run", "", "run only the mutations whose defence matches this regexp")
	verbose := fs.Bool("v", false, "print the test output of every mutation that is not killed")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mutate: unexpected arguments %q\n", fs.Args())
		return 2
	}
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintf(stderr, "mutate: %v\n", err)
		return 2
	}
	if err := os.Chdir(root); err != nil {
		fmt.Fprintf(stderr, "mutate: %v\n", err)
		return 2
	}
	selected := mutations
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fmt.Fprintf(stderr, "mutate: -run: %v\n", err)
			return 2
		}
		selected = nil
		for _, m := range mutations {
			if re.MatchString(m.defence) {
				selected = append(selected, m)
			}
		}
		if len(selected) == 0 {
			fmt.Fprintf(stderr, "mutate: no defence matches %q\n", *only)
			return 2
		}
	}

	if *check {
		problems := checkTable(mutations, "SECURITY.md")
		for _, p := range problems {
			fmt.Fprintln(stderr, p)
		}
		if len(problems) > 0 {
			fmt.Fprintf(stderr, "mutate -check: %d problems\n", len(problems))
			return 1
		}
		fmt.Fprintf(stdout, "mutate -check: %d mutations of %d defences apply, name tests, and match SECURITY.md\n",
			len(mutations), len(defences(mutations)))
		return 0
	}

	if err := requireCommitted(selected); err != nil {
		fmt.Fprintf(stderr, "mutate: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	started := time.Now()
	var results []result
	for i, m := range selected {
		if ctx.Err() != nil {
			break
		}
		r := mutate(ctx, m)
		if r.outcome == interrupted {
			break
		}
		results = append(results, r)
		by := ""
		if r.outcome == killed && len(r.failed) > 0 {
			by = " by " + r.failedTests()
		}
		fmt.Fprintf(stderr, "[%d/%d] %s: %s: %s%s (%s)\n", i+1, len(selected), m.defence, m.how, r.outcome, by,
			r.duration.Round(100*time.Millisecond))
		if *verbose && r.outcome != killed && r.output != "" {
			fmt.Fprintln(stderr, indent(r.output))
		}
	}
	report(stdout, results)
	ok := summary(stdout, results, len(selected), time.Since(started))
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "mutate: interrupted; every file is restored")
		return 130
	case !ok:
		return 1
	}
	return 0
}

// mutate applies m, runs its tests and restores the files, whatever happens meanwhile.
func mutate(ctx context.Context, m mutation) (r result) {
	start := time.Now()
	defer func() { r.mutation, r.duration = m, time.Since(start) }()
	restore, err := apply(m.edits)
	if err != nil {
		var na *notApplied
		if errors.As(err, &na) {
			return result{outcome: oldTextNotFound, output: err.Error()}
		}
		return result{outcome: failedToRun, output: err.Error()}
	}
	defer func() {
		if err := restore(); err != nil {
			// A file could not be put back: stop here, loudly, rather than test a tree that is
			// not the committed one.
			panic(fmt.Sprintf("mutate: restoring: %v; restore it with git checkout", err))
		}
	}()
	return runTests(ctx, m)
}

// report prints the results as a table.
func report(w io.Writer, results []result) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "DEFENCE\tMUTATION\tTESTS\tRESULT\tTIME")
	for _, r := range results {
		tests := r.mutation.run
		if pkgs := r.mutation.packages(); len(pkgs) != 1 || pkgs[0] != "." {
			tests = strings.Join(pkgs, " ") + " " + tests
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.mutation.defence, r.mutation.how, tests, r.outcome,
			r.duration.Round(100*time.Millisecond))
	}
	_ = tw.Flush()
}

// summary prints one line of totals and reports whether every mutation of the run was killed.
func summary(w io.Writer, results []result, selected int, took time.Duration) bool {
	counts := map[outcome]int{}
	for _, r := range results {
		counts[r.outcome]++
	}
	var parts []string
	for _, o := range []outcome{killed, survived, doesNotCompile, oldTextNotFound, noTestRan, allSkipped, failedToRun} {
		if counts[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
		}
	}
	fmt.Fprintf(w, "\n%d of %d mutations run: %s (%s, %s, %s)\n", len(results), selected, strings.Join(parts, ", "),
		runtime.Version(), time.Now().Format("2006-01-02"), took.Round(time.Second))
	return len(results) == selected && counts[killed] == selected
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n\t")
}
