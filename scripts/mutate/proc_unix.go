//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// startGroup makes cmd the leader of a process group of its own, which killGroup stops whole:
// go test and the test binaries and servers it starts.
func startGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the process group of cmd, started by startGroup.
func killGroup(cmd *exec.Cmd) error {
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
