package profiles

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The state directory holds the lock files that keep two processes from
// spending one refresh token (SECURITY 19) and the renewal markers: whoever
// can write there can swap a lock file and walk in while another sbctl
// holds the original. So it, and the directories in it, are created 0700
// and refused (with the fix) when they are a symlink, belong to another
// user or are writable by others (SECURITY 31).

// privateDir creates dir (0700, and its parents as needed) unless it
// exists, and checks it.
func privateDir(dir string) error {
	if parent := filepath.Dir(dir); parent != dir {
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", parent, err)
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	return checkPrivateDir(dir)
}

// checkPrivateDir refuses a directory sbctl must not trust.
func checkPrivateDir(dir string) error {
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("the state directory %s is a symbolic link; sbctl keeps its locks only in a real directory: replace it (`rm %s && mkdir -m 700 %s`), or set XDG_STATE_HOME to the place you wanted", dir, dir, dir)
	case !st.IsDir():
		return fmt.Errorf("the state directory %s is not a directory; move it away (`mv %s %s.bak`) so sbctl can create it", dir, dir, dir)
	}
	if owner, me, ok := ownerOf(st); ok && owner != me {
		return fmt.Errorf("the state directory %s is owned by uid %d, not by you (uid %d); another user could replace its lock files: if it is yours, run `chown %d %s`; if not, set XDG_STATE_HOME to a directory of your own", dir, owner, me, me, dir)
	}
	if perm := st.Mode().Perm(); permsMatter && perm&0o022 != 0 {
		return fmt.Errorf("the state directory %s is writable by other users (mode %04o), who could replace its lock files; run `chmod 700 %s`", dir, perm, dir)
	}
	return nil
}
