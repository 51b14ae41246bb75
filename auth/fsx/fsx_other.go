//go:build !unix

package fsx

import "os"

// Windows and the rest have no O_NOFOLLOW: a symlink is looked for with
// Lstat before an open instead.
const NoFollow = 0

// NonBlock: no FIFO can be planted in place of a file here.
const NonBlock = 0

const lockFlags = 0

// PermsMatter is false where permission bits are not the access control
// (Windows reports 0666 for any writable file; its ACLs are what count).
const PermsMatter = false

func IsLinkErr(error) bool { return false }

func Owner(os.FileInfo) (owner, me int, ok bool) { return 0, 0, false }

// isSyncUnsupported: a directory cannot be fsynced here (Windows refuses
// it); NTFS makes the rename itself durable.
func isSyncUnsupported(error) bool { return true }
