//go:build !unix

package store

import (
	"os"
	"time"
)

// Windows and the rest have no O_NOFOLLOW; files are checked with Lstat
// before they are opened instead (checkNoLink).
const openFlags = 0

// checkMode is false where permission bits are not the access control
// (Windows reports 0666 for any writable file; its ACLs are what count).
const checkMode = false

func isSymlinkErr(error) bool { return false }

func ownerOf(os.FileInfo) (owner, me int, ok bool) { return 0, 0, false }

func lockTemp(*os.File) error { return nil }

// deadTemp has no lock to ask: a temporary file an hour old belongs to a
// writer that is not coming back (a write takes milliseconds).
func deadTemp(_ *os.File, st os.FileInfo) bool {
	return time.Since(st.ModTime()) > time.Hour
}

// isSyncUnsupported: a directory cannot be fsynced here (Windows refuses
// it); NTFS makes the rename itself durable.
func isSyncUnsupported(error) bool { return true }
