package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sbctl/sbctl/profiles"
)

// footer is the bottom of the screen: the filter (the input while typing,
// else the kept filter), the last note, the status tally of the current
// group and the key help. It is as tall as it needs to be, up to the lines
// it is given (SetMaxLines); the root drops the help line when the
// terminal is too short for it.
type footer struct {
	styles   styles
	width    int
	maxLines int // 0: no bound
	help     help.Model
	page     int // of the full help, when it needs more than one
	keys     keyMap
	ctx      footerContext
	withHelp bool

	typing     bool   // the filter input has the keyboard
	input      string // the input as it draws itself, while typing
	filterText string // the kept filter
	note       note
	tally      tally
}

// footerContext is what the help line depends on beyond the keymap, so it
// offers only what works where the person is.
type footerContext struct {
	Showing bool // the detail pane is open: no "enter details"
	Pasting bool // a sign-in's paste field has the keyboard: only its keys
	CanCopy bool // a sign-in shows an address: c copies it
	LogOpen bool // the log view is open: its keys
	Marked  int  // marked profiles, which r, f and v act on
}

// maxNoteLines is how much of a note the footer shows; a longer one ends
// with a pointer to the log, which has it whole.
const maxNoteLines = 2

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

// SetMaxLines bounds the footer's height (0: no bound). Over it, the
// footer drops the tally (the window title has it), the filter line, the
// note's second line, the help line, then the note; the full help is
// shown a page at a time.
func (f *footer) SetMaxLines(n int) { f.maxLines = max(n, 0) }

// SetKeys is the keymap the help line offers, as it stands now.
func (f *footer) SetKeys(k keyMap) { f.keys = k }

// SetContext says where the person is (see footerContext).
func (f *footer) SetContext(c footerContext) { f.ctx = c }

// SetHelpLine shows or hides the help line.
func (f *footer) SetHelpLine(on bool) { f.withHelp = on }

// SetFilter is the filter's state: typing into input (its view), or value
// kept after enter ("" for none).
func (f *footer) SetFilter(typing bool, input, value string) {
	f.typing, f.input, f.filterText = typing, input, value
}

func (f *footer) SetNote(n note) { f.note = n }

func (f *footer) SetTally(t tally) { f.tally = t }

// FullHelp reports whether the `?` help is open.
func (f footer) FullHelp() bool { return f.help.ShowAll }

// ToggleHelp opens the full help, shows its next page when it has more
// than one, and closes it after the last.
func (f *footer) ToggleHelp() {
	switch {
	case !f.help.ShowAll:
		f.help.ShowAll, f.page = true, 0
	case f.page+1 < len(f.helpPages()):
		f.page++
	default:
		f.CloseHelp()
	}
}

// CloseHelp closes the full help.
func (f *footer) CloseHelp() { f.help.ShowAll, f.page = false, 0 }

// View draws the footer, each line at most width cells.
func (f footer) View() string {
	if f.help.ShowAll && !f.typing {
		return strings.Join(f.fullView(), "\n")
	}
	filter, notes, tally, helpLine := f.parts()
	if f.maxLines > 0 {
		over := func() bool { return len(filter)+len(notes)+len(tally)+len(helpLine) > f.maxLines }
		for _, drop := range []func(){
			func() { tally = nil },
			func() { filter = nil },
			func() { notes = f.noteLines(1) },
			func() { helpLine = nil },
			func() { notes = nil },
		} {
			if !over() {
				break
			}
			drop()
		}
	}
	return strings.Join(slices.Concat(filter, notes, tally, helpLine), "\n")
}

// parts are the footer's lines, unbounded.
func (f footer) parts() (filter, notes, tally, helpLine []string) {
	w, st := f.width, f.styles
	switch {
	case f.typing:
		filter = []string{truncate(f.input, w)}
	case f.filterText != "":
		filter = []string{st.muted.Render(truncate("/ "+clean(f.filterText)+"   (/ edits, esc clears)", w))}
	}
	notes = f.noteLines(maxNoteLines)
	s := f.tallyView()
	if f.ctx.Marked > 0 {
		// The marks' count, and what they change when it fits the line.
		if s != "" {
			s += st.muted.Render(" · ")
		}
		s += st.bold.Render(fmt.Sprintf("%d marked", f.ctx.Marked))
		if why := st.muted.Render(" (r, f and v act on them)"); ansi.StringWidth(s+why) <= w {
			s += why
		}
	}
	if s != "" {
		tally = wrap(s, w, 2)
	}
	if f.withHelp {
		// help stops adding keys at its width only when an ellipsis still
		// fits (bubbles v2.2.1), so cut what it returns as well.
		for _, l := range strings.Split(f.help.ShortHelpView(f.shortKeys()), "\n") {
			helpLine = append(helpLine, truncate(l, w))
		}
	}
	return filter, notes, tally, helpLine
}

// noteLines is the note in at most n lines; a note cut short says where to
// read it whole.
func (f footer) noteLines(n int) []string {
	if f.note.text == "" {
		return nil
	}
	w, ns := max(f.width, 1), f.styles.note(f.note.kind)
	lines := wrap(f.note.text, w, 0)
	if len(lines) > n {
		more := " (" + logKeyName + ": all of it)"
		rest := strings.Join(lines[n-1:], " ")
		cut := ansi.Truncate(rest, max(w-ansi.StringWidth(more), 1), "…")
		lines = append(lines[:n-1], truncate(cut+more, w))
	}
	for i, l := range lines {
		lines[i] = ns.Render(l)
	}
	return lines
}

// shortKeys are the help line's keys where the person is.
func (f footer) shortKeys() []key.Binding {
	k := f.keys
	switch {
	case f.ctx.Pasting:
		return []key.Binding{pasteKeys.Send, pasteKeys.Copy, pasteKeys.Cancel, pasteKeys.Quit}
	case f.ctx.LogOpen && !k.filtering:
		return []key.Binding{
			key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "scroll")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp(logKeyName+"/esc", "close log")),
			k.Quit,
		}
	}
	return f.contextual(k.ShortHelp())
}

// contextual drops what does not apply here (enter details inside the
// details) and adds the copy key while a sign-in shows its address.
func (f footer) contextual(keys []key.Binding) []key.Binding {
	var out []key.Binding
	for _, b := range keys {
		if f.ctx.Showing && sameKeys(b, f.keys.Details) {
			continue
		}
		out = append(out, b)
		if f.ctx.CanCopy && sameKeys(b, f.keys.Cancel) {
			out = append(out, copyKey)
		}
	}
	return out
}

func sameKeys(a, b key.Binding) bool { return slices.Equal(a.Keys(), b.Keys()) }

// helpEntry is one key of the full help.
type helpEntry struct{ key, desc string }

// helpEntries are the full help's keys, where the person is; `?` says
// what pressing it again does.
func (f footer) helpEntries(last bool) []helpEntry {
	var out []helpEntry
	for _, group := range f.keys.FullHelp() {
		for _, b := range f.contextual(group) {
			if !b.Enabled() {
				continue
			}
			h := b.Help()
			if sameKeys(b, f.keys.Help) {
				h.Desc = "close help"
				if !last {
					h.Desc = "next keys"
				}
			}
			out = append(out, helpEntry{h.Key, h.Desc})
		}
	}
	return out
}

// fullView is the `?` help: every key, in as many columns as the width
// takes (one on a narrow screen), a page at a time when the footer's lines
// cannot hold them all, under the note's first line.
func (f footer) fullView() []string {
	out := f.noteLines(1)
	pages := f.helpPages()
	page := min(f.page, len(pages)-1)
	out = append(out, pages[page]...)
	if f.maxLines > 0 && len(out) > f.maxLines {
		out = out[len(out)-f.maxLines:] // the keys before the note
	}
	return out
}

// helpPages lays the full help out for the footer's width and lines.
func (f footer) helpPages() [][]string {
	rows := 0 // no bound
	if f.maxLines > 0 {
		rows = max(f.maxLines-len(f.noteLines(1)), 1)
	}
	entries := f.helpEntries(true)
	cols := helpColumns(entries, f.width)
	perPage := len(entries)
	if rows > 0 && (len(entries)+cols-1)/cols > rows {
		perPage = max((rows-1)*cols, 1) // a line says which page this is
	}
	n := (len(entries) + perPage - 1) / perPage
	if n > 1 {
		entries = nil // ? reads "next keys" on every page but the last
	}
	var pages [][]string
	for p := range max(n, 1) {
		all := entries
		if all == nil {
			all = f.helpEntries(p == n-1)
		}
		chunk := all[p*perPage : min((p+1)*perPage, len(all))]
		grid := f.helpGrid(chunk, cols)
		if n > 1 {
			grid = append(grid, f.styles.muted.Render(truncate(fmt.Sprintf("keys %d of %d: ? for more", p+1, n), f.width)))
		}
		pages = append(pages, grid)
	}
	return pages
}

const helpGap = 3 // between columns of the full help

// helpColumns is the most columns the entries fit in at width w.
func helpColumns(entries []helpEntry, w int) int {
	for cols := min(len(entries), 6); cols > 1; cols-- {
		if gridWidth(entries, cols) <= w {
			return cols
		}
	}
	return 1
}

// gridWidth is the width of the entries in cols columns, filled column by
// column, each as wide as its widest key and description.
func gridWidth(entries []helpEntry, cols int) int {
	keyW, descW := columnWidths(entries, cols)
	total := helpGap * (cols - 1)
	for c := range keyW {
		total += keyW[c] + 1 + descW[c]
	}
	return total
}

func columnWidths(entries []helpEntry, cols int) (keyW, descW []int) {
	rows := (len(entries) + cols - 1) / cols
	keyW, descW = make([]int, cols), make([]int, cols)
	for i, e := range entries {
		c := i / max(rows, 1)
		keyW[c] = max(keyW[c], ansi.StringWidth(e.key))
		descW[c] = max(descW[c], ansi.StringWidth(e.desc))
	}
	return keyW, descW
}

// helpGrid draws entries in cols columns.
func (f footer) helpGrid(entries []helpEntry, cols int) []string {
	if len(entries) == 0 {
		return nil
	}
	cols = min(cols, len(entries))
	rows := (len(entries) + cols - 1) / cols
	keyW, descW := columnWidths(entries, cols)
	st := f.styles.help
	lines := make([]string, rows)
	for i, e := range entries {
		r, c := i%rows, i/rows
		cell := st.FullKey.Render(fit(e.key, keyW[c])) + " " + st.FullDesc.Render(e.desc)
		if c < cols-1 {
			cell += strings.Repeat(" ", descW[c]-ansi.StringWidth(e.desc)+helpGap)
		}
		lines[r] += cell
	}
	for i, l := range lines {
		lines[i] = truncate(strings.TrimRight(l, " "), f.width)
	}
	return lines
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
