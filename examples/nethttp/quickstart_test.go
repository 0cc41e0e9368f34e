package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuickStart compiles the README's quick start as it is written: the Go block of its
// "## Quick start" section, a whole program, is vetted (and so type-checked) as a main package in
// a directory of this module, where go.work resolves its imports to this repository's modules.
func TestQuickStart(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	program, err := quickStart(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	goTool, err := exec.LookPath("go") // go test puts its own toolchain first on PATH
	if err != nil {
		t.Fatal(err)
	}
	// Inside the module, so that its go.mod and go.work apply; "_" keeps it out of ./... patterns.
	dir, err := os.MkdirTemp(".", "_quickstart")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(program), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool, "vet", "./"+filepath.Base(dir))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README's quick start does not compile (%v):\n%s\n%s", err, out, numbered(program))
	}
}

// quickStart returns the first ```go block of the "## Quick start" section of readme.
func quickStart(readme string) (string, error) {
	_, section, ok := strings.Cut(readme, "\n## Quick start\n")
	if !ok {
		return "", errors.New("README.md has no \"## Quick start\" section")
	}
	if next := strings.Index(section, "\n## "); next >= 0 {
		section = section[:next]
	}
	_, block, ok := strings.Cut(section, "\n```go\n")
	if !ok {
		return "", errors.New("the quick start has no ```go block")
	}
	block, _, ok = strings.Cut(block, "\n```\n")
	if !ok {
		return "", errors.New("the quick start's ```go block does not end")
	}
	return block + "\n", nil
}

// numbered returns src with line numbers, to read the compiler's messages against.
func numbered(src string) string {
	var b strings.Builder
	for i, line := range strings.Split(strings.TrimSuffix(src, "\n"), "\n") {
		fmt.Fprintf(&b, "%3d  %s\n", i+1, line)
	}
	return b.String()
}
