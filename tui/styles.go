package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"

	"github.com/sbctl/sbctl/profiles"
)

// styles holds every style of the TUI. It is built once for the terminal's
// background (light or dark) and replaced whole when the terminal tells us
// its colour, so no View ever decides a colour on its own.
//
// Tone styles are named by what they mean, not by their colour. They use the
// basic ANSI colours, as the CLI does (bad = red: expired / needs_reauth;
// warn = yellow: expiring; good = green: ok; muted = faint: not_connected):
// the terminal's theme already tunes them for its background and they
// survive every colour profile. Only the selection bar and accents depend on
// the background.
type styles struct {
	isDark bool

	title, titleInfo       lipgloss.Style
	header                 lipgloss.Style
	selected               lipgloss.Style // the selection bar; combined with the cell's colour
	good, warn, bad, muted lipgloss.Style
	bold                   lipgloss.Style
	groupHeader            lipgloss.Style // a group's header line in the grouped view
	match                  lipgloss.Style // filter matches inside cells

	// Outcome notes.
	noteOK, noteWarn, noteErr, noteInfo lipgloss.Style

	opTitle, url, flowNote lipgloss.Style
	label                  lipgloss.Style
	spinner                lipgloss.Style

	help  help.Styles
	input textinput.Styles
}

func newStyles(isDark bool) styles {
	ld := lipgloss.LightDark(isDark)
	accent := ld(lipgloss.Color("25"), lipgloss.Color("75"))
	bar := ld(lipgloss.Color("254"), lipgloss.Color("237"))
	grey := ld(lipgloss.Color("243"), lipgloss.Color("246"))
	// Basic yellow on a white background is about 1.1:1: a dark amber there
	// (about 4.9:1), the terminal's own yellow on a dark one.
	warn := ld(lipgloss.Color("130"), lipgloss.Yellow)
	return styles{
		isDark:    isDark,
		title:     lipgloss.NewStyle().Bold(true).Foreground(accent),
		titleInfo: lipgloss.NewStyle().Foreground(grey),
		header:    lipgloss.NewStyle().Bold(true).Foreground(grey),
		selected:  lipgloss.NewStyle().Bold(true).Background(bar),
		good:      lipgloss.NewStyle().Foreground(lipgloss.Green),
		warn:      lipgloss.NewStyle().Foreground(warn),
		bad:       lipgloss.NewStyle().Foreground(lipgloss.Red),
		muted:     lipgloss.NewStyle().Faint(true),
		bold:      lipgloss.NewStyle().Bold(true),
		// Reverse video survives every colour profile, NO_COLOR included.
		groupHeader: lipgloss.NewStyle().Bold(true).Foreground(accent),
		match:       lipgloss.NewStyle().Reverse(true),
		noteOK:      lipgloss.NewStyle().Foreground(lipgloss.Green),
		noteWarn:    lipgloss.NewStyle().Foreground(warn),
		noteErr:     lipgloss.NewStyle().Foreground(lipgloss.Red),
		noteInfo:    lipgloss.NewStyle().Foreground(grey),
		opTitle:     lipgloss.NewStyle().Bold(true),
		url:         lipgloss.NewStyle().Foreground(accent).Underline(true),
		flowNote:    lipgloss.NewStyle().Foreground(grey),
		label:       lipgloss.NewStyle().Foreground(grey),
		spinner:     lipgloss.NewStyle().Foreground(accent),
		help:        helpStyles(ld),
		input:       inputStyles(isDark),
	}
}

// helpStyles are the key help's colours. bubbles' defaults are about 2.4:1
// against the background; these meet WCAG AA (4.5:1) on a black or white
// background: keys about 13:1, descriptions 7–9:1, separators 5–6:1.
func helpStyles(ld lipgloss.LightDarkFunc) help.Styles {
	key := lipgloss.NewStyle().Foreground(ld(lipgloss.Color("235"), lipgloss.Color("252")))
	desc := lipgloss.NewStyle().Foreground(ld(lipgloss.Color("240"), lipgloss.Color("248")))
	sep := lipgloss.NewStyle().Foreground(ld(lipgloss.Color("242"), lipgloss.Color("245")))
	return help.Styles{
		Ellipsis:       sep,
		ShortKey:       key,
		ShortDesc:      desc,
		ShortSeparator: sep,
		FullKey:        key,
		FullDesc:       desc,
		FullSeparator:  sep,
	}
}

// inputStyles are the filter input's, with a steady cursor: a blinking one
// wakes the program twice a second for as long as the input is open.
func inputStyles(isDark bool) textinput.Styles {
	s := textinput.DefaultStyles(isDark)
	s.Cursor.Blink = false
	return s
}

// tone is the colour of a profiles.Tone (a status, or a cell of its row),
// as in `sbctl profiles list`.
func (s styles) tone(t profiles.Tone) lipgloss.Style {
	switch t {
	case profiles.ToneGood:
		return s.good
	case profiles.ToneWarn:
		return s.warn
	case profiles.ToneBad:
		return s.bad
	case profiles.ToneMuted:
		return s.muted
	}
	return lipgloss.NewStyle()
}

// note is the style of an outcome note.
func (s styles) note(k noteKind) lipgloss.Style {
	switch k {
	case noteOK:
		return s.noteOK
	case noteWarn:
		return s.noteWarn
	case noteErr:
		return s.noteErr
	}
	return s.noteInfo
}
