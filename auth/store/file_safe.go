package store

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/sbctl/sbctl/auth/fsx"
)

// The plain-file store's paths are checked on every use (SECURITY 31): a
// directory or file that is a symlink, belongs to another user, or that
// others may write to (directories) or read (files) is refused with an
// error that names the path and the fix. Nothing is opened through a
// symlink: a link could make sbctl write tokens where its owner reads
// them, or chmod a directory that is not sbctl's.

// storeDir is how the refusals of the store's directories speak of them
// (fsx checks them). One that others may only read or enter is tightened
// to 0700.
var storeDir = fsx.PrivateDir{
	What:      "token store directory",
	Env:       "XDG_DATA_HOME",
	Holds:     "the files in it",
	LinkWhy:   "sbctl does not follow links where it keeps secrets",
	MoveFiles: true,
	OwnerWhy:  "sbctl keeps secrets only in files of its own user",
	NotYours:  "move it away and let sbctl create a new one (or set XDG_DATA_HOME)",
	ModeThen:  "and `sbctl reauth` any profile you do not trust",
	Tighten:   true,
}

// openFlags are added to every open of a store file: never through a
// symlink, and never blocking on a FIFO planted in place of a file (the
// fstat that follows refuses it).
const openFlags = fsx.NoFollow | fsx.NonBlock

// openFile opens a store file for reading, refusing anything but a
// regular file of the current user that only they can read. A missing
// file is fs.ErrNotExist.
func openFile(path, what string) (*os.File, error) {
	if err := checkNoLink(path, what); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		if fsx.IsLinkErr(err) {
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
	if err := storeDir.CheckOwner(what, path, st); err != nil {
		return err
	}
	if perm := st.Mode().Perm(); fsx.PermsMatter && perm&0o077 != 0 {
		return fmt.Errorf("the %s %s is readable by other users (mode %04o); run `chmod 600 %s`", what, path, perm, path)
	}
	return nil
}

// checkNoLink refuses a symlink where open has no O_NOFOLLOW to do it.
func checkNoLink(path, what string) error {
	if fsx.NoFollow != 0 {
		return nil
	}
	st, err := os.Lstat(path)
	if err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return linkError(path, what)
	}
	return nil
}

func linkError(path, what string) error {
	return fmt.Errorf("the %s %s is a symbolic link; sbctl does not follow links where it keeps secrets: put the file it points to in its place, or remove the link (`rm %s`; the profiles it held then need `sbctl reauth`)", what, path, path)
}
