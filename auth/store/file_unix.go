//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
)

// openFlags are added to every open of a store file: never through a
// symlink (SECURITY 31), and never blocking on a FIFO planted in place of
// a file (the fstat that follows refuses it).
const openFlags = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// checkMode: the permission bits mean something here.
const checkMode = true

// isSymlinkErr: what open(O_NOFOLLOW) says about a symlink (ELOOP; some
// BSDs say EMLINK).
func isSymlinkErr(err error) bool {
	return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK)
}

// ownerOf returns the uid owning st and the current user's (the effective
// uid: the one new files get).
func ownerOf(st os.FileInfo) (owner, me int, ok bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(s.Uid), os.Geteuid(), true
}

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

// isSyncUnsupported: file systems that cannot fsync a directory say EINVAL
// (or ENOTSUP); their renames are as durable as they get.
func isSyncUnsupported(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}
