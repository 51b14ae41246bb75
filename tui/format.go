package tui

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/sbctl/sbctl/profiles"
)

// clean makes text from elsewhere (account names from a network, error
// messages) safe to lay out: whole escape sequences are dropped, then the
// one terminal-safe policy (profiles.CleanText: no controls, no bidi or
// zero-width tricks, one line).
func clean(s string) string {
	if isCleanASCII(s) {
		// Most names and accounts: nothing to remove, nothing to copy
		// (10,000 rows are cleaned on every list).
		return s
	}
	return profiles.CleanText(ansi.Strip(s), 0)
}

// isCleanASCII reports whether s is printable ASCII that the policy leaves
// as it is: no controls (so no escape sequence), no space at either end,
// no two spaces in a row.
func isCleanASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return false
		}
		if c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ') {
			return false
		}
	}
	return true
}

// fit pads or truncates s to exactly w terminal cells. Widths are display
// cells, not bytes or runes, so a Japanese name (two cells a character)
// lines up with ASCII ones; a wide character that would be cut in half is
// dropped and the gap padded.
func fit(s string, w int) string { return fitKnown(s, cellWidth(s), w) }

// fitKnown is fit for a text whose width sw is already known (the table
// measures each cell once per list): a text that fits is only padded.
func fitKnown(s string, sw, w int) string {
	if w <= 0 {
		return ""
	}
	if sw > w {
		s = ansi.Truncate(s, w, "…")
		sw = cellWidth(s)
	}
	if sw >= w {
		return s
	}
	return s + spaces(w-sw)
}

// blanks backs spaces: padding is a slice of it, not a new string.
var blanks = strings.Repeat(" ", 256)

func spaces(n int) string {
	if n <= len(blanks) {
		return blanks[:n]
	}
	return strings.Repeat(" ", n)
}

// cellWidth is how many terminal cells s takes (grapheme clusters, as
// the renderer counts them); plain ASCII, most of what a table holds, is
// counted without the grapheme machinery.
func cellWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

// matchSpans are the byte ranges of s where any of terms (lower-cased)
// occurs, compared case-insensitively rune by rune, in order and merged
// where they overlap.
func matchSpans(s string, terms [][]rune) [][2]int {
	if len(terms) == 0 || s == "" {
		return nil
	}
	var spans [][2]int
	for i := 0; i < len(s); {
		end := -1
		for _, term := range terms {
			if e := matchAt(s, i, term); e > end {
				end = e
			}
		}
		_, w := utf8.DecodeRuneInString(s[i:])
		if end > i {
			if n := len(spans); n > 0 && spans[n-1][1] >= i {
				spans[n-1][1] = max(spans[n-1][1], end)
			} else {
				spans = append(spans, [2]int{i, end})
			}
		}
		i += w
	}
	return spans
}

// matchAt is where term ends if it occurs in s at byte i; -1 if not.
func matchAt(s string, i int, term []rune) int {
	for _, want := range term {
		if i >= len(s) {
			return -1
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if unicode.ToLower(r) != want {
			return -1
		}
		i += w
	}
	return i
}

// truncate cuts s (which may be styled) to at most w cells.
func truncate(s string, w int) string {
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// wrap breaks s (which may be styled) into lines of at most w cells, at
// spaces and hyphens where it can; beyond maxLines (0: no limit) the rest
// is cut with an ellipsis.
func wrap(s string, w, maxLines int) []string {
	w = max(w, 1)
	lines := strings.Split(ansi.Wrap(s, w, ""), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	if maxLines > 0 && len(lines) > maxLines {
		rest := strings.Join(lines[maxLines-1:], " ")
		lines = append(lines[:maxLines-1], ansi.Truncate(rest, w, "…"))
	}
	return lines
}
