package fsx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// PrivateDir is one kind of directory sbctl keeps to itself (the state
// directory, the token store): whoever can write to it can swap the files
// in it. It is created 0700, never through a symlink, and refused when it
// is a symlink, not a directory, another user's, or writable by others
// (SECURITY 31), with an error that names the path and the fix.
//
// The fields are how the refusals speak of it; each completes a fixed
// sentence (see the messages in check), so every kind's messages keep
// their own words.
type PrivateDir struct {
	// What the directory is: "state directory".
	What string
	// Env is the variable that puts it somewhere else: "XDG_STATE_HOME".
	Env string
	// Holds is what others could replace in it: "its lock files".
	Holds string
	// LinkWhy says why a symlink is refused: "sbctl keeps its locks only
	// in a real directory".
	LinkWhy string
	// MoveFiles: replacing a symlink means moving the files it leads to
	// into the new directory, and the fix says so.
	MoveFiles bool
	// OwnerWhy says why another user's directory is refused.
	OwnerWhy string
	// NotYours is the fix for another user's directory that is not yours
	// to take: "set XDG_STATE_HOME to a directory of your own".
	NotYours string
	// ModeThen, when set, follows the fix for a directory others may write
	// to, in parentheses.
	ModeThen string
	// Tighten: a directory of this user that others may only read or
	// enter is made 0700 (through the open descriptor, so it is the
	// directory that was checked) instead of being left as it is.
	Tighten bool
}

// Make creates path 0700 (and its parents as needed) unless it exists,
// and checks it. Mkdir does not follow a symlink in the last element (it
// fails with "exists"), and the check then refuses the link, so no
// directory is created or changed through one.
func (d PrivateDir) Make(path string) error {
	if parent := filepath.Dir(path); parent != path {
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", parent, err)
		}
	}
	if err := os.Mkdir(path, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	return d.check(path, d.Tighten)
}

// Check checks the directory at path without creating or changing it. A
// missing directory is fs.ErrNotExist.
func (d PrivateDir) Check(path string) error { return d.check(path, false) }

// check looks at the directory through an open descriptor (never through a
// symlink), so what it checks is what is there, not what a racing rename
// put there after a stat.
func (d PrivateDir) check(path string, tighten bool) error {
	if NoFollow == 0 {
		// No O_NOFOLLOW to refuse a link at open: look first.
		if st, err := os.Lstat(path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
			return d.linkError(path)
		}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|NoFollow|NonBlock, 0)
	if err != nil {
		if IsLinkErr(err) {
			return d.linkError(path)
		}
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("the %s %s is not a directory; move it away (`mv %s %s.bak`) so sbctl can create it", d.What, path, path, path)
	}
	if err := d.CheckOwner(d.What, path, st); err != nil {
		return err
	}
	if !PermsMatter {
		return nil
	}
	if perm := st.Mode().Perm(); perm&0o022 != 0 {
		return d.modeError(path, perm)
	}
	if tighten && st.Mode().Perm() != 0o700 {
		return f.Chmod(0o700)
	}
	return nil
}

// CheckOwner refuses st (of the file or directory at path, called what in
// the message: "token file") unless it belongs to the current user: root's
// files must be root's too.
func (d PrivateDir) CheckOwner(what, path string, st fs.FileInfo) error {
	owner, me, ok := Owner(st)
	if !ok || owner == me {
		return nil
	}
	return fmt.Errorf("the %s %s is owned by uid %d, not by you (uid %d); %s: if it is yours, run `chown %d %s`; if not, %s", what, path, owner, me, d.OwnerWhy, me, path, d.NotYours)
}

func (d PrivateDir) linkError(path string) error {
	with, then := "", ""
	if d.MoveFiles {
		with, then = " with a real directory", ", then move the files over"
	}
	return fmt.Errorf("the %s %s is a symbolic link; %s: replace it%s (`rm %s && mkdir -m 700 %s`%s), or set %s to the place you wanted", d.What, path, d.LinkWhy, with, path, path, then, d.Env)
}

func (d PrivateDir) modeError(path string, perm fs.FileMode) error {
	then := ""
	if d.ModeThen != "" {
		then = " (" + d.ModeThen + ")"
	}
	return fmt.Errorf("the %s %s is writable by other users (mode %04o), who could replace %s; run `chmod 700 %s`%s", d.What, path, perm, d.Holds, path, then)
}
