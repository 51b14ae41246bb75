package tui

import (
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sbctl/sbctl/profiles"
)

// column is one column of the profiles table.
type column int

const (
	colName column = iota
	colProvider
	colAccount
	colStatus
	colExpires
	colReason
	numColumns
)

var columnTitles = [numColumns]string{"NAME", "PROVIDER", "ACCOUNT", "STATUS", "EXPIRES", "REASON"}

// domainColumn names each column in the domain's vocabulary, for its
// emphasis rule.
var domainColumn = [numColumns]profiles.Column{
	colName:     profiles.ColName,
	colProvider: profiles.ColProvider,
	colAccount:  profiles.ColAccount,
	colStatus:   profiles.ColStatus,
	colExpires:  profiles.ColExpires,
	colReason:   profiles.ColReason,
}

const (
	markerWidth = 2 // "> " before the selected row
	columnGap   = 2
	// narrowWidth: below this many columns, provider and reason are hidden
	// so that name, account, status and expiry keep their room.
	narrowWidth = 80
)

// profileTable draws the profiles as aligned columns. It is drawn here
// rather than with bubbles/table because each cell needs its own colour
// (status, red names) and columns must be dropped or shrunk by priority on
// narrow terminals; widths are counted in display cells throughout, so wide
// (Japanese) characters align.
type profileTable struct {
	styles styles
	rows   []profiles.View
	now    time.Time
	// empty is shown instead of rows when there are none.
	empty string

	cursor, offset int
	width, height  int // height counts the header line
}

// SetStyles replaces the styles (after the terminal reported its background).
func (t *profileTable) SetStyles(s styles) { t.styles = s }

// SetSize gives the table its box; the selected row stays visible.
func (t *profileTable) SetSize(w, h int) {
	t.width, t.height = w, h
	t.scroll()
}

// SetRows replaces the rows, keeping the selection on the same profile when
// it is still listed, so a reload or a filter never jumps elsewhere.
func (t *profileTable) SetRows(rows []profiles.View, now time.Time) {
	keep := ""
	if v, ok := t.Selected(); ok {
		keep = v.Name
	}
	t.rows, t.now = rows, now
	if i := slices.IndexFunc(rows, func(v profiles.View) bool { return v.Name == keep }); i >= 0 {
		t.cursor = i
	}
	t.cursor = max(0, min(t.cursor, len(rows)-1))
	t.scroll()
}

// SetEmpty sets what an empty table says.
func (t *profileTable) SetEmpty(msg string) { t.empty = msg }

// Selected is the profile under the cursor.
func (t profileTable) Selected() (profiles.View, bool) {
	if t.cursor < 0 || t.cursor >= len(t.rows) {
		return profiles.View{}, false
	}
	return t.rows[t.cursor], true
}

// Len is the number of rows.
func (t profileTable) Len() int { return len(t.rows) }

// Cursor is the index of the selected row.
func (t profileTable) Cursor() int { return t.cursor }

// Move moves the selection by n rows (negative: up), stopping at the ends.
func (t *profileTable) Move(n int) {
	t.cursor = max(0, min(t.cursor+n, len(t.rows)-1))
	t.scroll()
}

// PageSize is how many rows one screen shows.
func (t profileTable) PageSize() int { return max(t.height-1, 1) }

// scroll keeps the cursor inside the visible window.
func (t *profileTable) scroll() {
	page := t.PageSize()
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+page {
		t.offset = t.cursor - page + 1
	}
	t.offset = max(0, min(t.offset, len(t.rows)-page))
}

// cells are a row's texts, cleaned of anything that could break the layout.
func (t profileTable) cells(v profiles.View) [numColumns]string {
	return [numColumns]string{
		colName:     clean(v.Name),
		colProvider: clean(v.Provider),
		colAccount:  profiles.Dash(clean(deref(v.Account))),
		colStatus:   string(v.Status),
		colExpires:  profiles.When(v.ConnectionExpiresAt, t.now, true),
		colReason:   clean(deref(v.Reason)),
	}
}

// layout chooses the visible columns and their widths for the table's
// width. Every row is measured (not just the visible ones) so columns do not
// jump while scrolling.
func (t profileTable) layout() ([]column, []int) {
	var w [numColumns]int
	for c := range numColumns {
		w[c] = ansi.StringWidth(columnTitles[c])
	}
	for _, v := range t.rows {
		for c, s := range t.cells(v) {
			w[c] = max(w[c], ansi.StringWidth(s))
		}
	}
	// Accounts and reasons can be long; names never are cut while there is
	// any other way to make room.
	w[colAccount] = min(w[colAccount], 32)
	w[colReason] = min(w[colReason], 20)

	cols := []column{colName, colProvider, colAccount, colStatus, colExpires, colReason}
	if t.width < narrowWidth {
		cols = slices.DeleteFunc(cols, func(c column) bool { return c == colProvider || c == colReason })
	}
	over := func() int {
		total := markerWidth + columnGap*(len(cols)-1)
		for _, c := range cols {
			total += w[c]
		}
		return total - t.width
	}
	shrink := func(c column, least int) {
		if o := over(); o > 0 && slices.Contains(cols, c) && w[c] > least {
			w[c] = max(least, w[c]-o)
		}
	}
	// First squeeze the free-text columns, then drop columns from the least
	// useful, and only then cut names and statuses.
	shrink(colAccount, 8)
	shrink(colReason, 8)
	for _, c := range []column{colReason, colProvider, colAccount, colExpires} {
		if over() > 0 {
			cols = slices.DeleteFunc(cols, func(x column) bool { return x == c })
		}
	}
	shrink(colName, 4)
	shrink(colStatus, 2)

	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = w[c]
	}
	return cols, widths
}

// cellStyle colours a cell by the domain's emphasis rule (View.CellTone),
// the one the CLI's table follows.
func (t profileTable) cellStyle(v *profiles.View, c column) lipgloss.Style {
	return t.styles.tone(v.CellTone(domainColumn[c]))
}

// View draws exactly height lines (header included), each at most width
// cells wide.
func (t profileTable) View() string {
	if t.height <= 0 || t.width <= 0 {
		return ""
	}
	cols, widths := t.layout()
	lines := make([]string, 0, t.height)

	var hdr strings.Builder
	hdr.WriteString(strings.Repeat(" ", markerWidth))
	for i, c := range cols {
		if i > 0 {
			hdr.WriteString(strings.Repeat(" ", columnGap))
		}
		hdr.WriteString(fit(columnTitles[c], widths[i]))
	}
	lines = append(lines, t.styles.header.Render(truncate(strings.TrimRight(hdr.String(), " "), t.width)))

	if len(t.rows) == 0 {
		lines = append(lines, t.styles.muted.Render(truncate("  "+t.empty, t.width)))
	}
	end := min(t.offset+t.PageSize(), len(t.rows))
	for i := t.offset; i < end; i++ {
		lines = append(lines, t.renderRow(i, cols, widths))
	}
	for len(lines) < t.height {
		lines = append(lines, "")
	}
	return strings.Join(lines[:t.height], "\n")
}

func (t profileTable) renderRow(i int, cols []column, widths []int) string {
	v := t.rows[i]
	cells := t.cells(v)
	selected := i == t.cursor
	bar := lipgloss.NewStyle()
	marker := strings.Repeat(" ", markerWidth)
	if selected {
		bar = t.styles.selected
		marker = fit(">", markerWidth)
	}
	var b strings.Builder
	b.WriteString(bar.Render(marker))
	used := markerWidth
	for j, c := range cols {
		if j > 0 {
			b.WriteString(bar.Render(strings.Repeat(" ", columnGap)))
			used += columnGap
		}
		st := t.cellStyle(&v, c)
		if selected {
			st = st.Inherit(bar)
		}
		b.WriteString(st.Render(fit(cells[c], widths[j])))
		used += widths[j]
	}
	if rest := t.width - used; rest > 0 && selected {
		// The bar spans the whole line.
		b.WriteString(bar.Render(strings.Repeat(" ", rest)))
	}
	return truncate(b.String(), t.width)
}
