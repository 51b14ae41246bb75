package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"

	"github.com/sbctl/sbctl/profiles"
)

// footer is the bottom of the screen: the filter (the input while typing,
// else the kept filter), the last operation's outcome, the status tally of
// the current group and the key help. It is as tall as it needs to be; the
// root drops the help line when the terminal is too short for it.
type footer struct {
	styles   styles
	width    int
	help     help.Model
	keys     keyMap
	withHelp bool

	typing     bool   // the filter input has the keyboard
	input      string // the input as it draws itself, while typing
	filterText string // the kept filter
	note       note
	tally      tally
}

func newFooter() footer {
	return footer{help: help.New(), withHelp: true}
}

func (f *footer) SetStyles(s styles) {
	f.styles = s
	f.help.Styles = s.help
}

// SetSize gives the footer its width; its height is what View returns.
func (f *footer) SetSize(w int) {
	f.width = w
	f.help.SetWidth(w)
}

// SetKeys is the keymap the help line offers, as it stands now.
func (f *footer) SetKeys(k keyMap) { f.keys = k }

// SetHelpLine shows or hides the help line.
func (f *footer) SetHelpLine(on bool) { f.withHelp = on }

// SetFilter is the filter's state: typing into input (its view), or value
// kept after enter ("" for none).
func (f *footer) SetFilter(typing bool, input, value string) {
	f.typing, f.input, f.filterText = typing, input, value
}

func (f *footer) SetNote(n note) { f.note = n }

func (f *footer) SetTally(t tally) { f.tally = t }

// FullHelp reports whether the `?` help is open; ToggleHelp and CloseHelp
// open and close it.
func (f footer) FullHelp() bool { return f.help.ShowAll }
func (f *footer) ToggleHelp()   { f.help.ShowAll = !f.help.ShowAll }
func (f *footer) CloseHelp()    { f.help.ShowAll = false }

// View draws the footer, each line at most width cells.
func (f footer) View() string {
	w, st := f.width, f.styles
	var parts []string
	switch {
	case f.typing:
		parts = append(parts, truncate(f.input, w))
	case f.filterText != "":
		parts = append(parts, st.muted.Render(truncate("/ "+clean(f.filterText)+"   (/ edits, esc clears)", w)))
	}
	if f.note.text != "" {
		ns := st.note(f.note.kind)
		for _, l := range wrap(f.note.text, w, 3) {
			parts = append(parts, ns.Render(l))
		}
	}
	if s := f.tallyView(); s != "" {
		parts = append(parts, wrap(s, w, 2)...)
	}
	if f.withHelp {
		// help stops adding keys at its width only when an ellipsis still
		// fits (bubbles v2.2.1), so cut what it returns as well.
		for _, l := range strings.Split(f.help.View(f.keys), "\n") {
			parts = append(parts, truncate(l, w))
		}
	}
	return strings.Join(parts, "\n")
}

// tally is the status count of the profiles in the current group.
type tally struct {
	total, action, expiring, unknown int
	healthy                          bool
}

// tallyOf counts views with the domain's rule (profiles.Summarize), the
// one `profiles check` sums up with.
func tallyOf(views []profiles.View) tally {
	s := profiles.Summarize(views)
	return tally{total: s.Total, action: len(s.NeedAction), expiring: len(s.Expiring), unknown: len(s.Unknown), healthy: s.Healthy()}
}

// text is the tally without colour (also the window title); "" when there
// is nothing to count.
func (t tally) text() string {
	if t.total == 0 {
		return ""
	}
	if t.healthy {
		return fmt.Sprintf("all %d profiles are healthy", t.total)
	}
	s := fmt.Sprintf("%d need re-authentication, %d expiring soon", t.action, t.expiring)
	if t.unknown > 0 {
		s += fmt.Sprintf(", %d unknown", t.unknown)
	}
	return s
}

// tallyView is the tally in colour: the counts that need attention in
// their status's colour.
func (f footer) tallyView() string {
	t, st := f.tally, f.styles
	if t.total == 0 {
		return ""
	}
	if t.healthy {
		return st.good.Render(fmt.Sprintf("All %d profiles are healthy.", t.total))
	}
	paint := func(n int, s lipgloss.Style, text string) string {
		if n == 0 {
			return text
		}
		return s.Render(text)
	}
	out := paint(t.action, st.bad, fmt.Sprintf("%d need re-authentication", t.action)) + ", " +
		paint(t.expiring, st.warn, fmt.Sprintf("%d expiring soon", t.expiring))
	if t.unknown > 0 {
		out += fmt.Sprintf(", %d unknown", t.unknown)
	}
	return out
}
