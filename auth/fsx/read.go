package fsx

import (
	"errors"
	"io"
	"os"
)

// ErrNotRegular: the path names something other than a regular file (a
// directory, a FIFO, a symlink, a device).
var ErrNotRegular = errors.New("not a regular file")

// ReadRegular reads path only if it is a regular file: a directory in its
// place would fail every read, and a FIFO would block sbctl forever
// (opened without NonBlock, and immune to SIGTERM while it waits). A
// symlink is ErrNotRegular too.
func ReadRegular(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, ErrNotRegular
	}
	f, err := os.OpenFile(path, os.O_RDONLY|NonBlock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Checked again on the open file: it may have been swapped since the
	// Lstat.
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, ErrNotRegular
	}
	return io.ReadAll(f)
}
