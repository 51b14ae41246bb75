//go:build !unix

package profiles

import "os"

// permsMatter: Windows has no Unix permission bits; its ACLs are the
// user profile's.
const permsMatter = false

const noFollow = 0

func ownerOf(os.FileInfo) (owner, me int, ok bool) { return 0, 0, false }

func isLinkErr(error) bool { return false }
