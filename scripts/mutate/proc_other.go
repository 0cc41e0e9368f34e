//go:build !unix

package main

import "os/exec"

// startGroup does nothing here: cmd stays in the process group of mutate.
func startGroup(*exec.Cmd) {}

// killGroup kills cmd; the test binaries it started end with their pipes.
func killGroup(cmd *exec.Cmd) error {
	return cmd.Process.Kill()
}
