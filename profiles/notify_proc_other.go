//go:build !unix

package profiles

import "os/exec"

// killGroupOnCancel: without Unix process groups, the cancellation kills
// the command itself (exec's default); WaitDelay bounds the wait for any
// child still holding its output.
func killGroupOnCancel(*exec.Cmd) {}
