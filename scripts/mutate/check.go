package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// checkTable returns what is wrong with the mutation table ms, run from the repository's root:
// an old text that is not in its file exactly once, a -run pattern that names no test of its
// packages, and a defence of the table that SECURITY.md (the file at security) does not name, or
// the reverse.
func checkTable(ms []mutation, security string) []string {
	var problems []string
	read := func(file string) ([]byte, error) {
		return os.ReadFile(file) //nolint:gosec // G304: the files of the mutation table, in this repository
	}
	tests := map[string][]string{} // package directory: its test functions
	for _, m := range ms {
		name := m.defence + ": " + m.how
		if len(m.edits) == 0 {
			problems = append(problems, name+": no edit")
		}
		if _, err := mutated(m.edits, read); err != nil {
			problems = append(problems, name+": "+err.Error())
		}
		if m.run == "" {
			problems = append(problems, name+": no -run pattern: every test of the package would run")
			continue
		}
		for _, pkg := range m.packages() {
			names, ok := tests[pkg]
			if !ok {
				var err error
				if names, err = testFunctions(pkg); err != nil {
					problems = append(problems, name+": "+err.Error())
				}
				tests[pkg] = names
			}
			if err := matchesTest(m.run, names); err != nil {
				problems = append(problems, fmt.Sprintf("%s: -run %q in %s: %v", name, m.run, pkg, err))
			}
		}
	}

	doc, err := os.ReadFile(security) //nolint:gosec // G304: SECURITY.md of this repository
	if err != nil {
		return append(problems, err.Error())
	}
	named := securityDefences(string(doc))
	table := defences(ms)
	for _, d := range table {
		if !slices.Contains(named, d) {
			problems = append(problems, fmt.Sprintf("defence %q has mutations but SECURITY.md names no such defence (**%s** in a defence column)", d, d))
		}
	}
	for _, d := range named {
		if !slices.Contains(table, d) {
			problems = append(problems, fmt.Sprintf("SECURITY.md names the defence %q, which no mutation disables", d))
		}
	}
	return problems
}

// defences returns the defences of ms, each once, in order.
func defences(ms []mutation) []string {
	var ds []string
	for _, m := range ms {
		if !slices.Contains(ds, m.defence) {
			ds = append(ds, m.defence)
		}
	}
	return ds
}

var bold = regexp.MustCompile(`\*\*([^*]+)\*\*`)

// securityDefences returns the defences that SECURITY.md names: the bold texts of the second
// column of its tables (attack | defence | test).
func securityDefences(doc string) []string {
	var names []string
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		for _, m := range bold.FindAllStringSubmatch(cells[2], -1) {
			if name := strings.TrimSpace(m[1]); !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	return names
}

var testFunc = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Example)\w*)\(`)

// testFunctions returns the names of the tests, fuzz targets and examples of the package in
// directory pkg.
func testFunctions(pkg string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(pkg, "*_test.go"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("package %s has no test files", pkg)
	}
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f) //nolint:gosec // G304: test files of this repository
		if err != nil {
			return nil, err
		}
		for _, m := range testFunc.FindAllSubmatch(b, -1) {
			names = append(names, string(m[1]))
		}
	}
	return names, nil
}

// matchesTest reports whether the -run pattern run selects one of the top-level tests names, as
// go test matches it: the part before the first unbracketed slash against the test's name, each
// part that follows against a subtest's.
func matchesTest(run string, names []string) error {
	parts := splitRun(run)
	for _, p := range parts[1:] {
		if _, err := regexp.Compile(p); err != nil {
			return err
		}
	}
	top, err := regexp.Compile(parts[0])
	if err != nil {
		return err
	}
	for _, n := range names {
		if top.MatchString(n) {
			return nil
		}
	}
	return fmt.Errorf("names no test")
}

// splitRun splits a -run pattern at its slashes outside brackets and parentheses, as the testing
// package does.
func splitRun(run string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(run); i++ {
		switch run[i] {
		case '[', '(':
			depth++
		case ']', ')':
			depth--
		case '\\':
			i++
		case '/':
			if depth == 0 {
				parts = append(parts, run[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, run[start:])
}
