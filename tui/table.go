package tui

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/sbctl/sbctl/profiles"
)

// The table's columns are the domain's (profiles.Column), so the column
// rule (profiles.FitColumns) and the emphasis rule (View.CellTone) are the
// CLI's too. The TUI has no GROUPS column: SPEC §7 lists name, provider,
// account, status, expires and reason, and the grouped view shows groups
// as headers.
var tableColumns = []profiles.Column{
	profiles.ColName, profiles.ColProvider, profiles.ColAccount,
	profiles.ColStatus, profiles.ColExpires, profiles.ColReason,
}

var columnTitles = [profiles.NumColumns]string{
	profiles.ColName:     "NAME",
	profiles.ColProvider: "PROVIDER",
	profiles.ColAccount:  "ACCOUNT",
	profiles.ColGroups:   "GROUPS",
	profiles.ColStatus:   "STATUS",
	profiles.ColExpires:  "EXPIRES",
	profiles.ColReason:   "REASON",
}

const (
	// markerWidth is the "> " before the selected row; with marks on, one
	// more cell carries the mark ("*").
	markerWidth = 2
	// noGroup heads the rows of the grouped view that are in none of its
	// groups.
	noGroup = "no group"
)

// profileTable draws the profiles as aligned columns. It is drawn here
// rather than with bubbles/table because each cell needs its own colour
// (status, red names), columns are dropped or shrunk by the domain's rule
// on narrow terminals, and at 10,000 profiles a keystroke must cost what
// the visible rows cost: every row's texts and widths are measured once
// per SetRows (and kept across filter keystrokes), the layout is chosen
// once per list or width, and View renders only the visible lines. Widths
// are counted in display cells throughout, so wide (Japanese) characters
// align.
type profileTable struct {
	styles styles
	rows   []profiles.View
	now    time.Time
	// empty is shown instead of rows when there are none.
	empty string

	// texts[i] is rows[i] cleaned and measured; natural the widest cells.
	texts   []*rowText
	natural profiles.ColumnWidths
	// cache keeps each profile's texts across SetRows calls, so a filter
	// keystroke measures nothing; it is dropped when now changes (the
	// relative times change with it).
	cache    map[string]*rowText
	cacheNow time.Time
	slab     []rowText // where measureRow takes new rowTexts from

	fit profiles.ColumnFit // the layout for width
	// overflow: even the narrowest layout is wider than the table (a tiny
	// screen), so each row is cut to the width after it is drawn.
	overflow bool

	// The grouped view (groups != nil): lines are the group headers and
	// the rows in display order; an item is one row line (a profile in
	// two groups is two items). In the flat view items, lines and rows
	// are the same and these slices stay empty.
	groups   []string
	lines    []tableLine
	itemRow  []int // item → index in rows
	itemLine []int // item → index in lines

	marked    func(name string) bool
	highlight [][]rune // lower-cased filter terms, shown in reverse video

	cursor        int // the selected item
	offset        int // the first visible line
	width, height int // height counts the header line
}

// rowText is one row's cells, cleaned once, with their widths.
type rowText struct {
	src    rowSource
	cells  [profiles.NumColumns]string
	widths [profiles.NumColumns]int
	// folded is the status cell with the reason in it, for a screen with
	// no room for a REASON column.
	folded      string
	foldedWidth int
}

// rowSource is what a row's texts are made of, to tell a cached rowText
// from a stale one.
type rowSource struct {
	provider, account, reason string
	status                    profiles.Status
	expires                   time.Time
}

func sourceOf(v *profiles.View) rowSource {
	s := rowSource{provider: v.Provider, account: deref(v.Account), reason: deref(v.Reason), status: v.Status}
	if v.ConnectionExpiresAt != nil {
		s.expires = *v.ConnectionExpiresAt
	}
	return s
}

// measureRow makes a row's texts, in a rowText from the table's slab.
func (t *profileTable) measureRow(v *profiles.View, src rowSource, now time.Time) *rowText {
	if len(t.slab) == 0 {
		// In chunks: measuring 10,000 rows is a few allocations, not
		// 10,000 (a chunk lives as long as any of its rows is cached).
		t.slab = make([]rowText, min(max(len(t.rows), 64), 4096))
	}
	r := &t.slab[0]
	t.slab = t.slab[1:]
	r.src = src
	r.cells[profiles.ColName] = clean(v.Name)
	r.cells[profiles.ColProvider] = clean(v.Provider)
	r.cells[profiles.ColAccount] = profiles.Dash(clean(deref(v.Account)))
	r.cells[profiles.ColStatus] = string(v.Status)
	r.cells[profiles.ColExpires] = profiles.When(v.ConnectionExpiresAt, now, true)
	r.cells[profiles.ColReason] = clean(deref(v.Reason))
	for _, c := range tableColumns {
		r.widths[c] = cellWidth(r.cells[c])
	}
	r.folded = profiles.StatusWithReason(v)
	r.foldedWidth = cellWidth(r.folded)
	return r
}

// tableLine is a line of the grouped view: a group header (row < 0) or a
// row, the item-th.
type tableLine struct {
	row, item int
	header    string
}

// SetStyles replaces the styles (after the terminal reported its background).
func (t *profileTable) SetStyles(s styles) { t.styles = s }

// SetSize gives the table its box; the selected row stays visible. The
// layout is chosen again only when the width changes.
func (t *profileTable) SetSize(w, h int) {
	if w != t.width {
		t.width = w
		t.refit()
	}
	t.height = h
	t.scroll()
}

// SetRows replaces the rows, keeping the selection on the same profile when
// it is still listed, so a reload or a filter never jumps elsewhere.
func (t *profileTable) SetRows(rows []profiles.View, now time.Time) {
	keep, keepGroup := "", ""
	if v, ok := t.Selected(); ok {
		keep, keepGroup = v.Name, t.groupOf(t.cursor)
	}
	t.rows = rows
	t.measure(now)
	t.regroup()
	t.cursor = t.find(keep, keepGroup)
	t.scroll()
}

// measure fills texts and natural for rows, from the cache where it can.
func (t *profileTable) measure(now time.Time) {
	// Relative times change with now: every text is remade. The cache is
	// also dropped when profiles that are gone have made it far larger
	// than the list.
	if t.cache == nil || !now.Equal(t.cacheNow) || len(t.cache) > 2*len(t.rows)+4096 {
		t.cache, t.cacheNow = make(map[string]*rowText, len(t.rows)), now
	}
	t.now = now
	var nat profiles.ColumnWidths
	for _, c := range tableColumns {
		nat.Natural[c] = cellWidth(columnTitles[c])
	}
	nat.Folded = nat.Natural[profiles.ColStatus]
	t.texts = slices.Grow(t.texts[:0], len(t.rows))
	for i := range t.rows {
		v := &t.rows[i]
		src := sourceOf(v)
		r := t.cache[v.Name]
		if r == nil || r.src != src {
			r = t.measureRow(v, src, now)
			t.cache[v.Name] = r
		}
		t.texts = append(t.texts, r)
		for _, c := range tableColumns {
			nat.Natural[c] = max(nat.Natural[c], r.widths[c])
		}
		nat.Folded = max(nat.Folded, r.foldedWidth)
	}
	t.natural = nat
	t.refit()
}

// refit chooses the columns for the width (profiles.FitColumns).
func (t *profileTable) refit() {
	t.fit = profiles.FitColumns(max(t.width-t.markerWidth(), 1), t.natural)
	used := t.markerWidth() + profiles.ColumnGap*(len(t.fit.Widths)-1)
	for _, w := range t.fit.Widths {
		used += w
	}
	t.overflow = used > t.width
}

func (t *profileTable) markerWidth() int {
	if t.marked != nil {
		return markerWidth + 1
	}
	return markerWidth
}

// SetGrouped shows the rows under a header per group, in the order given
// (SPEC §7 "grouped or flat"); nil is the flat list. A profile in two of
// the groups appears under each (it is in both; marks and the selection
// follow the profile); one in none of them appears under "no group", at
// the end. Groups with no rows (after a filter) get no header. The cursor
// never rests on a header. Setting the same groups again costs nothing, so
// it may be called with every SetRows (which regroups the new rows itself).
func (t *profileTable) SetGrouped(groups []string) {
	if (groups == nil) == (t.groups == nil) && slices.Equal(groups, t.groups) {
		return
	}
	keep, keepGroup := "", ""
	if v, ok := t.Selected(); ok {
		keep, keepGroup = v.Name, t.groupOf(t.cursor)
	}
	t.groups = slices.Clone(groups)
	t.regroup()
	t.cursor = t.find(keep, keepGroup)
	t.scroll()
}

// Grouped reports whether the grouped view is on.
func (t profileTable) Grouped() bool { return t.groups != nil }

func (t *profileTable) regroup() {
	t.lines, t.itemRow, t.itemLine = t.lines[:0], t.itemRow[:0], t.itemLine[:0]
	if t.groups == nil {
		return
	}
	inSome := make([]bool, len(t.rows))
	section := func(name string, in func(i int) bool) {
		head := len(t.lines)
		t.lines = append(t.lines, tableLine{row: -1})
		for i := range t.rows {
			if in(i) {
				t.lines = append(t.lines, tableLine{row: i, item: len(t.itemRow)})
				t.itemLine = append(t.itemLine, len(t.lines)-1)
				t.itemRow = append(t.itemRow, i)
			}
		}
		n := len(t.lines) - head - 1
		if n == 0 {
			t.lines = t.lines[:head]
			return
		}
		t.lines[head].header = name + " (" + strconv.Itoa(n) + ")"
	}
	for _, g := range t.groups {
		section(clean(g), func(i int) bool {
			if slices.Contains(t.rows[i].Groups, g) {
				inSome[i] = true
				return true
			}
			return false
		})
	}
	section(noGroup, func(i int) bool { return !inSome[i] })
}

// find is the item showing the named profile, under group if it is there
// twice; 0 when it is not listed.
func (t *profileTable) find(name, group string) int {
	if name == "" {
		return max(0, min(t.cursor, t.Len()-1))
	}
	first := -1
	for item := range t.Len() {
		if t.rows[t.rowOf(item)].Name != name {
			continue
		}
		if first < 0 {
			first = item
		}
		if t.groupOf(item) == group {
			return item
		}
	}
	if first < 0 {
		return max(0, min(t.cursor, t.Len()-1))
	}
	return first
}

// groupOf is the header text above an item ("" in the flat view).
func (t *profileTable) groupOf(item int) string {
	if t.groups == nil || item < 0 || item >= len(t.itemLine) {
		return ""
	}
	for l := t.itemLine[item]; l >= 0; l-- {
		if t.lines[l].row < 0 {
			return t.lines[l].header
		}
	}
	return ""
}

func (t profileTable) rowOf(item int) int {
	if t.groups != nil {
		return t.itemRow[item]
	}
	return item
}

func (t profileTable) lineOf(item int) int {
	if t.groups != nil {
		return t.itemLine[item]
	}
	return item
}

func (t profileTable) lineCount() int {
	if t.groups != nil {
		return len(t.lines)
	}
	return len(t.rows)
}

// SetEmpty sets what an empty table says.
func (t *profileTable) SetEmpty(msg string) { t.empty = msg }

// SetMarks shows a mark ("*") before each row whose profile marked
// reports; nil shows no mark column. It is asked only for the visible
// rows, when drawing.
func (t *profileTable) SetMarks(marked func(name string) bool) {
	had := t.marked != nil
	t.marked = marked
	if had != (marked != nil) {
		t.refit()
	}
}

// SetHighlight shows, in the visible cells, where the filter's terms match
// (case-insensitively, in reverse video); nil or empty: none.
func (t *profileTable) SetHighlight(terms []string) {
	t.highlight = t.highlight[:0]
	for _, s := range terms {
		if s != "" {
			t.highlight = append(t.highlight, []rune(strings.ToLower(s)))
		}
	}
}

// Selected is the profile under the cursor.
func (t profileTable) Selected() (profiles.View, bool) {
	if t.cursor < 0 || t.cursor >= t.Len() {
		return profiles.View{}, false
	}
	return t.rows[t.rowOf(t.cursor)], true
}

// Row is the profile of the i-th item (as Cursor and Len count them); the
// zero View outside the list.
func (t profileTable) Row(i int) profiles.View {
	if i < 0 || i >= t.Len() {
		return profiles.View{}
	}
	return t.rows[t.rowOf(i)]
}

// Len is the number of items the cursor can be on: the rows, or in the
// grouped view the rows under each header (a profile in two groups
// counts twice).
func (t profileTable) Len() int {
	if t.groups != nil {
		return len(t.itemRow)
	}
	return len(t.rows)
}

// Count is the number of profiles listed, each once.
func (t profileTable) Count() int { return len(t.rows) }

// Cursor is the index of the selected item.
func (t profileTable) Cursor() int { return t.cursor }

// SetCursor selects the i-th item (clamped to the list).
func (t *profileTable) SetCursor(i int) {
	t.cursor = max(0, min(i, t.Len()-1))
	t.scroll()
}

// Move moves the selection by n items (negative: up), stopping at the
// ends; headers are skipped.
func (t *profileTable) Move(n int) { t.SetCursor(t.cursor + n) }

// PageSize is how many lines one screen shows below the header.
func (t profileTable) PageSize() int { return max(t.height-1, 1) }

// RowAt is the item drawn on line y of the table (0 is the column header,
// as View draws it), for a mouse click; false for the header, a group
// header or an empty line.
func (t profileTable) RowAt(y int) (int, bool) {
	if y < 1 || y > t.PageSize() {
		return 0, false
	}
	line := t.offset + y - 1
	if line >= t.lineCount() {
		return 0, false
	}
	if t.groups == nil {
		return line, true
	}
	if l := t.lines[line]; l.row >= 0 {
		return l.item, true
	}
	return 0, false
}

// scroll keeps the cursor inside the visible window, with its group's
// header when that is the line just above.
func (t *profileTable) scroll() {
	page := t.PageSize()
	if t.Len() == 0 {
		t.offset = 0
		return
	}
	at := t.lineOf(t.cursor)
	top := at
	if t.groups != nil && at > 0 && t.lines[at-1].row < 0 {
		top = at - 1
	}
	if top < t.offset {
		t.offset = top
	}
	if at >= t.offset+page {
		t.offset = at - page + 1
	}
	t.offset = max(0, min(t.offset, t.lineCount()-page))
}

// View draws exactly height lines (header included), each at most width
// cells wide. Only the visible lines are drawn.
func (t *profileTable) View() string {
	if t.height <= 0 || t.width <= 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(t.height * (t.width + 64))
	t.writeHeader(&b)
	drawn := 1
	if t.Len() == 0 {
		b.WriteByte('\n')
		b.WriteString(t.styles.muted.Render(truncate("  "+t.empty, t.width)))
		drawn++
	}
	end := min(t.offset+t.PageSize(), t.lineCount())
	for line := t.offset; line < end && drawn < t.height; line++ {
		b.WriteByte('\n')
		if t.groups != nil && t.lines[line].row < 0 {
			b.WriteString(t.groupStyle().Render(truncate(t.lines[line].header, t.width)))
		} else {
			item := line
			if t.groups != nil {
				item = t.lines[line].item
			}
			t.writeRow(&b, item)
		}
		drawn++
	}
	for ; drawn < t.height; drawn++ {
		b.WriteByte('\n')
	}
	return b.String()
}

func (t *profileTable) writeHeader(b *strings.Builder) {
	var h strings.Builder
	h.WriteString(strings.Repeat(" ", t.markerWidth()))
	for i, c := range t.fit.Columns {
		if i > 0 {
			h.WriteString(strings.Repeat(" ", profiles.ColumnGap))
		}
		h.WriteString(fit(columnTitles[c], t.fit.Widths[i]))
	}
	b.WriteString(t.styles.header.Render(truncate(strings.TrimRight(h.String(), " "), t.width)))
}

// groupStyle heads a group in the grouped view.
// TODO(lead): a styles.groupHeader field; until then, the column header's.
func (t *profileTable) groupStyle() lipgloss.Style { return t.styles.groupHeader }

// writeRow draws one row: the marker, then each visible cell cut or padded
// to its column, in the cell's tone; the selected row in the selection
// bar across the whole width.
func (t *profileTable) writeRow(b *strings.Builder, item int) {
	if t.overflow {
		var row strings.Builder
		t.drawRow(&row, item)
		b.WriteString(truncate(row.String(), t.width))
		return
	}
	t.drawRow(b, item)
}

func (t *profileTable) drawRow(b *strings.Builder, item int) {
	ri := t.rowOf(item)
	v, text := &t.rows[ri], t.texts[ri]
	selected := item == t.cursor
	var bar lipgloss.Style
	if selected {
		bar = t.styles.selected
	}
	plain := func(s string) {
		if selected {
			b.WriteString(bar.Render(s))
		} else {
			b.WriteString(s)
		}
	}

	marker := []byte("   ")[:t.markerWidth()]
	if selected {
		marker[0] = '>'
	}
	if t.marked != nil && t.marked(v.Name) {
		marker[1] = '*'
	}
	plain(string(marker))
	used := len(marker)
	for j, c := range t.fit.Columns {
		if j > 0 {
			plain("  ")
			used += profiles.ColumnGap
		}
		s, sw := text.cells[c], text.widths[c]
		if c == profiles.ColStatus && t.fit.FoldReason {
			s, sw = text.folded, text.foldedWidth
		}
		w := t.fit.Widths[j]
		tone := v.CellTone(c)
		st := t.styles.tone(tone)
		if selected {
			st = st.Inherit(bar)
		}
		t.writeCell(b, fitKnown(s, sw, w), st, tone == profiles.ToneNeutral && !selected)
		used += w
	}
	if rest := t.width - used; rest > 0 && selected {
		// The bar spans the whole line.
		b.WriteString(bar.Render(strings.Repeat(" ", rest)))
	}
}

// writeCell writes s in style st (plain: st adds nothing, so the common
// cell is written without a Render), with the filter's matches in reverse
// video.
func (t *profileTable) writeCell(b *strings.Builder, s string, st lipgloss.Style, plain bool) {
	render := func(part string) {
		if plain {
			b.WriteString(part)
		} else if part != "" {
			b.WriteString(st.Render(part))
		}
	}
	spans := matchSpans(s, t.highlight)
	if len(spans) == 0 {
		render(s)
		return
	}
	hl := t.matchStyle(st)
	at := 0
	for _, sp := range spans {
		render(s[at:sp[0]])
		b.WriteString(hl.Render(s[sp[0]:sp[1]]))
		at = sp[1]
	}
	render(s[at:])
}

// matchStyle marks a filter match within a cell of style st: reverse
// video, which reads without colour too (and, unlike lipgloss's underline,
// is drawn as one sequence, not one per character).
// TODO(lead): a styles.match field; until then, derived here.
func (t *profileTable) matchStyle(st lipgloss.Style) lipgloss.Style {
	return st.Inherit(t.styles.match)
}
