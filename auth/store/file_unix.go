//go:build unix

package store

import (
	"os"
	"syscall"
)

// lockTemp marks a temporary file as being written: the lock lives as long
// as the writer's descriptor, so a writer killed before its rename leaves a
// file nobody holds, which the next writer removes.
func lockTemp(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// deadTemp reports whether no live writer holds the temporary file f; the
// caller removes it then, while still holding the lock this takes.
func deadTemp(f *os.File, _ os.FileInfo) bool {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}
