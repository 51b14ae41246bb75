//go:build !unix

package store

import (
	"os"
	"time"
)

// Windows and the rest have no flock on a descriptor: temporary files are
// told dead by their age instead.
func lockTemp(*os.File) error { return nil }

// deadTemp has no lock to ask: a temporary file an hour old belongs to a
// writer that is not coming back (a write takes milliseconds).
func deadTemp(_ *os.File, st os.FileInfo) bool {
	return time.Since(st.ModTime()) > time.Hour
}
