//go:build unix

package profiles

import (
	"errors"
	"os"
	"syscall"
)

// permsMatter: the permission bits mean something here.
const permsMatter = true

// noFollow opens a lock file without following a symlink put in its place.
const noFollow = syscall.O_NOFOLLOW

func ownerOf(st os.FileInfo) (owner, me int, ok bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(s.Uid), os.Geteuid(), true
}

// isLinkErr: what open(O_NOFOLLOW) says about a symlink (ELOOP; some BSDs
// say EMLINK).
func isLinkErr(err error) bool {
	return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK)
}
