package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// An edit applies only when its old text is in the file exactly once; apply changes the files,
// and its restore puts them back byte for byte; a failed apply leaves nothing changed.
func TestApplyAndRestore(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.go"), filepath.Join(dir, "b.go")
	write := func(file, s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	read := func(file string) string {
		s, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return string(s)
	}
	write(a, "if x > 0 {\n\treturn\n}\n")
	write(b, "twice twice\n")

	restore, err := apply([]edit{e(a, "x > 0", "false && x > 0"), e(a, "return", "return // mutated")})
	if err != nil {
		t.Fatal(err)
	}
	if got := read(a); got != "if false && x > 0 {\n\treturn // mutated\n}\n" {
		t.Fatalf("mutated: %q", got)
	}
	if err := restore(); err != nil {
		t.Fatal(err)
	}
	if got := read(a); got != "if x > 0 {\n\treturn\n}\n" {
		t.Fatalf("restored: %q", got)
	}

	for name, edits := range map[string][]edit{
		"twice":     {e(b, "twice", "once")},
		"missing":   {e(a, "y > 0", "true")},
		"empty":     {e(a, "", "x")},
		"second":    {e(a, "x > 0", "true"), e(b, "twice", "once")},
		"no file":   {e(filepath.Join(dir, "c.go"), "x", "y")},
		"made away": {e(a, "x > 0", "true"), e(a, "x > 0", "false")},
	} {
		_, err := apply(edits)
		var na *notApplied
		if err == nil || name != "no file" && !errors.As(err, &na) {
			t.Errorf("%s: apply = %v, want an old text refused", name, err)
		}
		if read(a) != "if x > 0 {\n\treturn\n}\n" || read(b) != "twice twice\n" {
			t.Fatalf("%s: a refused mutation changed a file", name)
		}
	}
}

func TestSplitRun(t *testing.T) {
	for run, want := range map[string][]string{
		"^TestA$":                    {"^TestA$"},
		"^TestA$/^sub$":              {"^TestA$", "^sub$"},
		"^(TestA|TestB)$/^(x|y/z)$":  {"^(TestA|TestB)$", "^(x|y/z)$"},
		`^TestA$/^a\/b$`:             {"^TestA$", `^a\/b$`},
		"^TestA$/[/]/c":              {"^TestA$", "[/]", "c"},
		"^TestCallbackChecks$/^two$": {"^TestCallbackChecks$", "^two$"},
	} {
		if got := splitRun(run); !slices.Equal(got, want) {
			t.Errorf("splitRun(%q) = %q, want %q", run, got, want)
		}
	}
	names := []string{"TestCallbackChecks", "FuzzCallback"}
	if err := matchesTest("^TestCallbackChecks$/^wrong_iss$", names); err != nil {
		t.Error(err)
	}
	if err := matchesTest("^TestCallbackCheck$", names); err == nil {
		t.Error("a pattern that names no test was taken")
	}
	if err := matchesTest("^TestCallbackChecks$/(", names); err == nil {
		t.Error("a malformed subtest pattern was taken")
	}
}

// The outcome of a mutation is read from go test -json: a failing test kills it, a build failure
// does not, and a run where no test ran, or every test skipped, is no survival either.
func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		want   outcome
	}{
		{"a test failed", `{"Action":"run","Test":"TestA"}
{"Action":"run","Test":"TestA/sub"}
{"Action":"fail","Test":"TestA/sub"}
{"Action":"fail","Test":"TestA"}
{"Action":"fail","Package":"p"}`, killed},
		{"passed", `{"Action":"run","Test":"TestA"}
{"Action":"pass","Test":"TestA"}
{"Action":"pass","Package":"p"}`, survived},
		{"build failed", `{"ImportPath":"p [p.test]","Action":"build-output","Output":"x.go:1: undefined: y\n"}
{"ImportPath":"p [p.test]","Action":"build-fail"}
{"Action":"start","Package":"p"}
{"Action":"output","Package":"p","Output":"FAIL\tp [build failed]\n"}
{"Action":"fail","Package":"p"}`, doesNotCompile},
		{"no test", `{"Action":"output","Package":"p","Output":"testing: warning: no tests to run\n"}
{"Action":"pass","Package":"p"}`, noTestRan},
		{"skipped", `{"Action":"run","Test":"TestA"}
{"Action":"skip","Test":"TestA"}
{"Action":"pass","Package":"p"}`, allSkipped},
		{"timed out", `{"Action":"run","Test":"TestA"}
{"Action":"output","Package":"p","Output":"panic: test timed out after 1m0s\n"}
{"Action":"fail","Package":"p"}`, killed},
		{"package failed", `{"Action":"output","Package":"p","Output":"redis-server not found\n"}
{"Action":"fail","Package":"p"}`, failedToRun},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := scan(strings.NewReader(tc.stream))
			var err error
			if strings.Contains(tc.stream, `"fail"`) {
				err = errors.New("exit status 1")
			}
			if got := s.classify(err); got != tc.want {
				t.Fatalf("classify = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSecurityDefences(t *testing.T) {
	doc := `# Security

| attack | defence | test |
|---|---|---|
| Replay | **used states remembered**: in Shared; **pending login deleted** at the callback | ` + "`TestA`" + ` |
| Mix-up | go-oidc's **iss checked** | ` + "`TestB`" + ` |
| Library | go-jose (not parlogin's code) | ` + "`TestC`" + ` |

| target | what it feeds | property |
|---|---|---|
| ` + "`FuzzX`" + ` | **not** a defence column | fine |

Prose with **bold** is no defence.
`
	got := securityDefences(doc)
	want := []string{"used states remembered", "pending login deleted", "iss checked", "not"}
	if !slices.Equal(got, want) {
		t.Fatalf("securityDefences = %q, want %q", got, want)
	}
}
