//go:build unix

package fsx

import (
	"errors"
	"os"
	"syscall"
)

// NoFollow, added to an open's flags, refuses a symlink in the path's last
// element (the open fails; IsLinkErr says why).
const NoFollow = syscall.O_NOFOLLOW

// NonBlock, added to an open's flags, keeps a FIFO planted in place of a
// file from blocking sbctl forever (opened without it, and immune to
// SIGTERM while it waits); an fstat after the open then refuses it.
const NonBlock = syscall.O_NONBLOCK

// lockFlags open a lock file: never through a symlink, never blocking.
const lockFlags = NoFollow | NonBlock

// PermsMatter: the permission bits are the access control here.
const PermsMatter = true

// IsLinkErr reports whether err is what open(NoFollow) says about a
// symlink (ELOOP; some BSDs say EMLINK).
func IsLinkErr(err error) bool {
	return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK)
}

// Owner returns the uid owning st and the current user's (the effective
// uid: the one new files get); ok is false where there are no uids.
func Owner(st os.FileInfo) (owner, me int, ok bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(s.Uid), os.Geteuid(), true
}

// isSyncUnsupported: file systems that cannot fsync a directory say EINVAL
// (or ENOTSUP).
func isSyncUnsupported(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}
