package profiles

import (
	"io"
	"time"

	"github.com/sbctl/sbctl/auth"
)

// ImportedToken is a token the user already has, given on stdin with
// --with-token (`profiles add`, `reauth`).
type ImportedToken = auth.Token

// MaxImportSize bounds what --with-token reads from stdin.
const MaxImportSize = auth.MaxImportSize

// ParseImport reads the --with-token input format (SPEC §4): a JSON
// object with access_token and optional lifetimes, or a bare access token
// on one line. ignored names JSON fields that were not understood.
func ParseImport(r io.Reader, now time.Time) (t *ImportedToken, ignored []string, err error) {
	return auth.ParseImport(r, now)
}

// CheckTokenText refuses a token that is not one word of printable ASCII
// (SECURITY 29), naming what without quoting it.
func CheckTokenText(what, token string) error { return auth.CheckTokenText(what, token) }

// CleanText is the one terminal-safe policy for text from outside sbctl
// (SECURITY 30); front ends use it for anything a network said.
func CleanText(s string, max int) string { return auth.CleanText(s, max) }
