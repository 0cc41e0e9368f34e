package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// notApplied reports an edit whose old text is not in its file exactly once.
type notApplied struct {
	file  string
	old   string
	count int
}

func (e *notApplied) Error() string {
	return fmt.Sprintf("%s: the old text occurs %d times, not once: %q", e.file, e.count, e.old)
}

// mutated returns the contents of each file that edits change, as the edits leave them: every
// old text must occur exactly once in its file as committed, and still once when the edits of the
// same file before it are made.
func mutated(edits []edit, read func(string) ([]byte, error)) (map[string][]byte, error) {
	out := make(map[string][]byte)
	for _, e := range edits {
		content, ok := out[e.file]
		if !ok {
			original, err := read(e.file)
			if err != nil {
				return nil, err
			}
			content = original
		}
		if n := bytes.Count(content, []byte(e.old)); n != 1 || e.old == "" {
			return nil, &notApplied{file: e.file, old: e.old, count: n}
		}
		out[e.file] = bytes.Replace(content, []byte(e.old), []byte(e.new), 1)
	}
	return out, nil
}

// apply makes edits in the files and returns the function that puts the files back as they
// were. When it fails, no file is left changed.
func apply(edits []edit) (restore func() error, err error) {
	originals := make(map[string][]byte)
	read := func(file string) ([]byte, error) {
		b, err := os.ReadFile(file) //nolint:gosec // G304: the files of the mutation table, in this repository
		if err == nil {
			originals[file] = b
		}
		return b, err
	}
	contents, err := mutated(edits, read)
	if err != nil {
		return nil, err
	}
	var written []string
	restore = func() error {
		var errs []error
		for _, file := range written {
			if err := writeSame(file, originals[file]); err != nil {
				errs = append(errs, err)
				continue
			}
			back, err := os.ReadFile(file) //nolint:gosec // G304: as above
			switch {
			case err != nil:
				errs = append(errs, err)
			case !bytes.Equal(back, originals[file]):
				errs = append(errs, fmt.Errorf("%s is not back as it was", file))
			}
		}
		return errors.Join(errs...)
	}
	files := make([]string, 0, len(contents))
	for file := range contents {
		files = append(files, file)
	}
	slices.Sort(files)
	for _, file := range files {
		written = append(written, file) // restored even if the write fails halfway
		if err := writeSame(file, contents[file]); err != nil {
			return nil, errors.Join(err, restore())
		}
	}
	return restore, nil
}

// writeSame writes content to file, keeping its permissions.
func writeSame(file string, content []byte) error {
	info, err := os.Stat(file)
	if err != nil {
		return err
	}
	return os.WriteFile(file, content, info.Mode().Perm())
}

// requireCommitted fails when a file that the mutations edit differs from the committed one:
// restoring it would otherwise be the only copy of someone's work, and the run would not test
// what is committed.
func requireCommitted(ms []mutation) error {
	var files []string
	for _, m := range ms {
		for _, e := range m.edits {
			if !slices.Contains(files, e.file) {
				files = append(files, e.file)
			}
		}
	}
	slices.Sort(files)
	cmd := exec.Command("git", append([]string{"diff", "--quiet", "HEAD", "--"}, files...)...) //nolint:gosec // G204: git with the table's file names
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		out, _ := exec.Command("git", append([]string{"diff", "--name-only", "HEAD", "--"}, files...)...).Output() //nolint:gosec // G204: as above
		return fmt.Errorf("uncommitted changes to %s: commit or stash them first (mutate restores the files it edits to what they hold now)",
			strings.Join(strings.Fields(string(out)), ", "))
	default:
		return fmt.Errorf("git diff: %w %s", err, stderr.String())
	}
}

// repoRoot returns the top directory of the git repository around the working directory.
func repoRoot() (string, error) {
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("not in a git repository: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
