package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/sbctl/sbctl/profiles"
)

// clean makes text from elsewhere (account names from a network, error
// messages) safe to lay out: whole escape sequences are dropped, then the
// one terminal-safe policy (profiles.CleanText: no controls, no bidi or
// zero-width tricks, one line).
func clean(s string) string {
	return profiles.CleanText(ansi.Strip(s), 0)
}

// fit pads or truncates s to exactly w terminal cells. Widths are display
// cells, not bytes or runes, so a Japanese name (two cells a character)
// lines up with ASCII ones; a wide character that would be cut in half is
// dropped and the gap padded.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-ansi.StringWidth(s))
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
