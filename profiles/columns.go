package profiles

// The one rule for laying out a profile table on a screen that is too
// narrow for it, followed by `sbctl profiles list` on a terminal and by
// the TUI. The meaning survives the squeeze: NAME is capped with an
// ellipsis before any other column goes; PROVIDER and ACCOUNT go first,
// then GROUPS; STATUS, EXPIRES and REASON stay while the width allows, and
// when REASON cannot fit it folds into the status cell (StatusWithReason),
// so a red row still says why (SPEC §1).
//
// The front ends measure (their cells differ: the TUI has no GROUPS
// column, the CLI writes "-" for no reason) and cut the cells; this rule
// only decides which columns show and how wide each is.

// NumColumns is the number of Column values.
const NumColumns = int(ColReason) + 1

// ColumnGap is the space between two columns, in cells.
const ColumnGap = 2

// The widths the rule works with, in cells.
const (
	// nameShare is the part of the width (in percent) NAME is first
	// capped at; nameMinWidth is how far it then gives way before the
	// reason is folded: 16 cells still tell "acme-instagram-…" names apart.
	nameShare    = 40
	nameMinWidth = 16
	// The free-text columns are first squeezed to a soft cap (a display
	// name past 32 cells, a list of groups past 24, tell little more),
	// and later to a minimum before the column goes (a display name's
	// start is still useful).
	accountSoftCap  = 32
	groupsSoftCap   = 24
	accountMinWidth = 12
	groupsMinWidth  = 10
	// The floors on a tiny screen: NAME keeps a stub, STATUS its first
	// letters.
	nameFloor   = 4
	statusFloor = 2
)

// ColumnWidths are what a front end measured for FitColumns.
type ColumnWidths struct {
	// Natural is each column's widest cell, its title included; 0 for a
	// column the table does not have.
	Natural [NumColumns]int
	// Folded is the widest status cell with the reason folded in
	// (StatusWithReason), the title included.
	Folded int
}

// ColumnFit is the layout FitColumns chose.
type ColumnFit struct {
	// Columns are the visible columns in Column order, and Widths their
	// widths in cells; a cell wider than its column is cut with "…".
	Columns []Column
	Widths  []int
	// FoldReason: there is no REASON column; the status cells show
	// StatusWithReason instead of the bare status.
	FoldReason bool
}

// FitColumns lays the columns out in width cells (columns and the
// ColumnGap between them; a row marker is the caller's to subtract).
// width <= 0 means no limit: every column at its natural width (a pipe).
//
// Each step is taken only while the table is still too wide, and takes
// only what it must:
//  0. ACCOUNT and GROUPS are squeezed to 32 and 24 cells;
//  1. NAME is capped at 40% of the width (never below 16 cells);
//  2. ACCOUNT is squeezed to 12 cells, then PROVIDER goes, then ACCOUNT;
//     GROUPS is squeezed to 10 cells, then goes;
//  3. NAME gives way down to 16 cells;
//  4. REASON folds into STATUS;
//  5. EXPIRES goes;
//  6. the folded reasons are cut (the status word stays whole);
//  7. NAME, then STATUS, are cut to their floors (4 and 2 cells).
//
// Whatever a dropped column freed beyond the need goes back to NAME (up to
// its natural width), then to the squeezed columns.
func FitColumns(width int, m ColumnWidths) ColumnFit {
	f := fitter{width: width, w: m.Natural}
	if width > 0 && f.over() > 0 {
		f.squeeze(m)
		for _, c := range []Column{ColName, ColStatus, ColAccount, ColGroups} {
			upto := m.Natural[c]
			if c == ColStatus && f.folded {
				upto = max(upto, m.Folded)
			}
			f.grow(c, upto)
		}
	}
	fit := ColumnFit{FoldReason: f.folded}
	for c, w := range f.w {
		if w > 0 {
			fit.Columns = append(fit.Columns, Column(c))
			fit.Widths = append(fit.Widths, w)
		}
	}
	return fit
}

// fitter is FitColumns' working state: w[c] == 0 is a hidden column.
type fitter struct {
	width  int
	w      [NumColumns]int
	folded bool
}

func (f *fitter) squeeze(m ColumnWidths) {
	f.shrink(ColAccount, accountSoftCap)
	f.shrink(ColGroups, groupsSoftCap)
	f.shrink(ColName, max(nameMinWidth, f.width*nameShare/100))
	f.shrink(ColAccount, accountMinWidth)
	f.drop(ColProvider)
	f.drop(ColAccount)
	f.shrink(ColGroups, groupsMinWidth)
	f.drop(ColGroups)
	f.shrink(ColName, nameMinWidth)
	if f.over() > 0 && f.w[ColReason] > 0 {
		f.w[ColReason] = 0
		f.w[ColStatus] = max(f.w[ColStatus], m.Folded)
		f.folded = true
	}
	f.drop(ColExpires)
	f.shrink(ColStatus, m.Natural[ColStatus])
	f.shrink(ColName, nameFloor)
	f.shrink(ColStatus, statusFloor)
}

// over is by how many cells the table is too wide (negative: the slack).
func (f *fitter) over() int {
	total, n := 0, 0
	for _, w := range f.w {
		if w > 0 {
			total += w
			n++
		}
	}
	if n > 1 {
		total += ColumnGap * (n - 1)
	}
	return total - f.width
}

// shrink narrows a shown column by what the table is too wide, to no
// less than least.
func (f *fitter) shrink(c Column, least int) {
	if o := f.over(); o > 0 && f.w[c] > least {
		f.w[c] = max(least, f.w[c]-o)
	}
}

// drop hides a column if the table is still too wide.
func (f *fitter) drop(c Column) {
	if f.over() > 0 {
		f.w[c] = 0
	}
}

// grow gives the slack back to a shown column, up to upto cells.
func (f *fitter) grow(c Column, upto int) {
	if slack := -f.over(); slack > 0 && f.w[c] > 0 && f.w[c] < upto {
		f.w[c] = min(upto, f.w[c]+slack)
	}
}

// StatusWithReason is a status cell that carries the reason, for a table
// with no room for a REASON column: "needs_reauth (access_revoked)"; the
// bare status when there is no reason or it only repeats the status
// ("expired"). The reason is cleaned: it is read from the state file.
func StatusWithReason(v *View) string {
	if v.Reason == nil || *v.Reason == "" || *v.Reason == string(v.Status) {
		return string(v.Status)
	}
	return string(v.Status) + " (" + CleanText(*v.Reason, 0) + ")"
}
