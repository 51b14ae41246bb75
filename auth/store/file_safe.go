package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// The plain-file store's paths are checked on every use (SECURITY 31): a
// directory or file that is a symlink, belongs to another user, or that
// others may write to (directories) or read (files) is refused with an
// error that names the path and the fix. Nothing is opened through a
// symlink: a link could make sbctl write tokens where its owner reads
// them, or chmod a directory that is not sbctl's.

// checkDir checks the directory at path. With fix, a directory of the
// current user that others may only read or enter is tightened to 0700
// (through the open descriptor, so it is the directory that was checked).
// A missing directory is fs.ErrNotExist.
func checkDir(path string, fix bool) error {
	if err := checkNoLink(path, "directory"); err != nil {
		return err
	}
	d, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		if isSymlinkErr(err) {
			return linkError(path, "directory")
		}
		return err
	}
	defer d.Close()
	st, err := d.Stat()
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("the token store directory %s is not a directory; move it away (`mv %s %s.bak`) so sbctl can create it", path, path, path)
	}
	if err := checkOwner(path, "directory", st); err != nil {
		return err
	}
	if !checkMode {
		return nil
	}
	perm := st.Mode().Perm()
	if perm&0o022 != 0 {
		return fmt.Errorf("the token store directory %s is writable by other users (mode %04o), who could replace the files in it; run `chmod 700 %s` (and `sbctl reauth` any profile you do not trust)", path, perm, path)
	}
	if fix && perm != 0o700 {
		return d.Chmod(0o700)
	}
	return nil
}

// openFile opens a store file for reading, refusing anything but a
// regular file of the current user that only they can read. A missing
// file is fs.ErrNotExist.
func openFile(path, what string) (*os.File, error) {
	if err := checkNoLink(path, what); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		if isSymlinkErr(err) {
			return nil, linkError(path, what)
		}
		return nil, err
	}
	st, err := f.Stat()
	if err == nil {
		err = checkFile(path, what, st)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkFile checks a store file's metadata (from fstat, or Lstat before it
// is replaced).
func checkFile(path, what string, st fs.FileInfo) error {
	if st.Mode()&fs.ModeSymlink != 0 {
		return linkError(path, what)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("the %s %s is not a regular file; remove it (`rm %s`)", what, path, path)
	}
	if err := checkOwner(path, what, st); err != nil {
		return err
	}
	if perm := st.Mode().Perm(); checkMode && perm&0o077 != 0 {
		return fmt.Errorf("the %s %s is readable by other users (mode %04o); run `chmod 600 %s`", what, path, perm, path)
	}
	return nil
}

// checkNoLink refuses a symlink where open has no O_NOFOLLOW to do it.
func checkNoLink(path, what string) error {
	if openFlags != 0 {
		return nil
	}
	st, err := os.Lstat(path)
	if err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return linkError(path, what)
	}
	return nil
}

func checkOwner(path, what string, st fs.FileInfo) error {
	owner, me, ok := ownerOf(st)
	if !ok || owner == me {
		return nil
	}
	if what == "directory" {
		what = "token store directory"
	}
	return fmt.Errorf("the %s %s is owned by uid %d, not by you (uid %d); sbctl keeps secrets only in files of its own user: if it is yours, run `chown %d %s`; if not, move it away and let sbctl create a new one (or set XDG_DATA_HOME)", what, path, owner, me, me, path)
}

func linkError(path, what string) error {
	if what == "directory" {
		return fmt.Errorf("the token store directory %s is a symbolic link; sbctl does not follow links where it keeps secrets: replace it with a real directory (`rm %s && mkdir -m 700 %s`, then move the files over), or set XDG_DATA_HOME to the place you wanted", path, path, path)
	}
	return fmt.Errorf("the %s %s is a symbolic link; sbctl does not follow links where it keeps secrets: put the file it points to in its place, or remove the link (`rm %s`; the profiles it held then need `sbctl reauth`)", what, path, path)
}

// mkdirPrivate creates path 0700 unless it exists. Mkdir does not follow a
// symlink in the last element (it fails with "exists"), and checkDir then
// refuses the link, so no directory is created or changed through one.
func mkdirPrivate(path string) error {
	if err := os.Mkdir(path, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return checkDir(path, true)
}
