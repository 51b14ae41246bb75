package fsx

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Perm is the mode a file written by WriteFile gets.
type Perm struct {
	mode  fs.FileMode
	force bool
}

// KeepPerm gives a new file mode, and a replaced file the mode it had: a
// user who made their config group-readable keeps it so.
func KeepPerm(mode fs.FileMode) Perm { return Perm{mode: mode} }

// ForcePerm gives the file mode even when it replaces one with another
// mode: for secrets, which must not inherit a mode someone widened.
func ForcePerm(mode fs.FileMode) Perm { return Perm{mode: mode, force: true} }

// TempPrefix is how the temporary files of path are named (hidden, beside
// it, and recognisable as its own for RemoveTempFiles).
func TempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// WriteFile replaces path with data atomically: a temporary file in the
// same directory (created 0700 if missing), written, fsynced, renamed over
// the old file, the directory fsynced. A crash leaves the old file or the
// new one, never half of each, and a reader never sees a torn file.
//
// Callers hold a lock for path, so temporary files of path found here were
// left by a writer that died between creating and renaming one; they may
// hold secrets and are removed.
func WriteFile(path string, data []byte, perm Perm) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	RemoveTempFiles(dir, TempPrefix(path))
	mode := perm.mode
	if st, err := os.Stat(path); err == nil && !perm.force {
		mode = st.Mode().Perm()
	}
	tmp, _, err := WriteTemp(dir, TempPrefix(path), data, mode)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // no-op after a successful rename
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// Best effort, as it always was: the file itself is synced, and some
	// filesystems refuse to sync a directory.
	_ = SyncDir(dir)
	return nil
}

// WriteTemp writes data to a new temporary file in dir (its name starting
// with prefix), with mode, fsynced and closed, and returns its name and
// what it is (to recognise it after a rename). On an error nothing is left.
func WriteTemp(dir, prefix string, data []byte, mode fs.FileMode) (string, os.FileInfo, error) {
	f, err := os.CreateTemp(dir, prefix+"*")
	if err != nil {
		return "", nil, err
	}
	fi, err := writeSynced(f, data, mode)
	if err != nil {
		os.Remove(f.Name())
		return "", nil, err
	}
	return f.Name(), fi, nil
}

func writeSynced(f *os.File, data []byte, mode fs.FileMode) (os.FileInfo, error) {
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return nil, err
	}
	// Whatever the umask: CreateTemp made it 0600.
	if err := f.Chmod(mode); err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return fi, f.Close()
}

// RemoveTempFiles deletes the files in dir whose names start with prefix:
// the temporary files of dead writers. Call it only under the lock every
// writer of those files takes, or it removes a live writer's file. Best
// effort.
func RemoveTempFiles(dir, prefix string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasPrefix(e.Name(), prefix) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// SyncDir makes the renames and removals in dir durable. A filesystem
// that cannot fsync a directory is not an error: its renames are as
// durable as they get.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !isSyncUnsupported(err) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
