package profiles

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/sbctl/sbctl/auth"
)

// sampleRow is one row of a profile table as a front end writes it.
type sampleRow struct {
	view    View
	expires string
}

func sampleView(name, provider, account string, groups []string, st Status, reason auth.Reason) View {
	v := View{Name: name, Provider: provider, Groups: groups, Status: st, reason: reason}
	if account != "" {
		v.Account = &account
	}
	if reason != "" {
		r := string(reason)
		v.Reason = &r
	}
	return v
}

// The review's workspace ws1: an 88-character name, a 27-character
// Japanese one (54 cells), long accounts and both kinds of red row.
var ws1 = []sampleRow{
	{sampleView("acme-x", "sbx", "launch team", []string{"marketing"}, StatusOK, ""), "in 30d"},
	{sampleView("a-very-long-profile-name-for-the-spring-campaign-2027-instagram-brand-account-number-one", "sbx", "spring-campaign-2027-brand-account-display-name@example.com", []string{"marketing"}, StatusOK, ""), "in 30d"},
	{sampleView("日本語の長いプロファイル名前テスト用アカウント東京本社", "sbx", "広報部 公式アカウント", []string{"広報"}, StatusOK, ""), "in 30d"},
	{sampleView("short-lived", "sbx", "", nil, StatusExpiring, ""), "in 23h"},
	{sampleView("never-connected", "sbx", "", nil, StatusNotConnected, ""), "-"},
	{sampleView("stale-ig", "legacy", "", []string{"marketing", "support"}, StatusExpired, auth.ReasonExpired), "1d ago"},
	{sampleView("revoked-fb", "blackhole", "revoked-fb-user", []string{"support"}, StatusNeedsReauth, auth.ReasonAccessRevoked), "-"},
	{sampleView("pw-changed-ig", "sbx", "pw-changed-ig-user", []string{"support"}, StatusNeedsReauth, auth.ReasonPasswordChanged), "-"},
}

var sampleTitles = [NumColumns]string{"NAME", "PROVIDER", "ACCOUNT", "GROUPS", "STATUS", "EXPIRES", "REASON"}

// measure is what a front end measures: each column's widest cell (the
// title included), without GROUPS unless withGroups, and the widest status
// cell with the reason folded in.
func measure(rows []sampleRow, withGroups bool) ColumnWidths {
	var m ColumnWidths
	for c, t := range sampleTitles {
		m.Natural[c] = ansi.StringWidth(t)
	}
	m.Folded = m.Natural[ColStatus]
	for _, r := range rows {
		v := r.view
		for c, s := range map[Column]string{
			ColName: v.Name, ColProvider: v.Provider, ColAccount: Dash(orEmpty(v.Account)),
			ColGroups: Dash(strings.Join(v.Groups, ",")), ColStatus: string(v.Status),
			ColExpires: r.expires, ColReason: Dash(orEmpty(v.Reason)),
		} {
			m.Natural[c] = max(m.Natural[c], ansi.StringWidth(s))
		}
		m.Folded = max(m.Folded, ansi.StringWidth(StatusWithReason(&v)))
	}
	if !withGroups {
		m.Natural[ColGroups] = 0
	}
	return m
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// lineWidth is how wide a row laid out by fit is.
func lineWidth(fit ColumnFit) int {
	total := ColumnGap * (len(fit.Widths) - 1)
	for _, w := range fit.Widths {
		total += w
	}
	return total
}

func (f ColumnFit) width(c Column) int {
	if i := slices.Index(f.Columns, c); i >= 0 {
		return f.Widths[i]
	}
	return 0
}

func (f ColumnFit) String() string {
	var b strings.Builder
	for i, c := range f.Columns {
		fmt.Fprintf(&b, "%s=%d ", sampleTitles[c], f.Widths[i])
	}
	if f.FoldReason {
		b.WriteString("(reason folded)")
	}
	return b.String()
}

// The rule at the sizes people use, for the TUI's columns (no GROUPS) and
// the CLI's (with GROUPS): what stays, what goes, and that every red row
// can still say why.
func TestFitColumnsAtCommonWidths(t *testing.T) {
	t.Parallel()
	tui, cli := measure(ws1, false), measure(ws1, true)
	for _, tc := range []struct {
		name  string
		m     ColumnWidths
		width int
		want  []Column
		fold  bool
	}{
		// Everything fits: nothing is cut, the 88-character name included.
		{"tui 200", tui, 200, []Column{ColName, ColProvider, ColAccount, ColStatus, ColExpires, ColReason}, false},
		{"cli 200", cli, 200, []Column{ColName, ColProvider, ColAccount, ColGroups, ColStatus, ColExpires, ColReason}, false},
		// The name is capped and the account squeezed before anything
		// goes; then PROVIDER goes first.
		{"tui 100", tui, 100, []Column{ColName, ColAccount, ColStatus, ColExpires, ColReason}, false},
		{"cli 100", cli, 100, []Column{ColName, ColGroups, ColStatus, ColExpires, ColReason}, false},
		// The acceptance size: STATUS, EXPIRES and REASON all stay.
		{"tui 80", tui, 78, []Column{ColName, ColStatus, ColExpires, ColReason}, false},
		{"cli 80", cli, 80, []Column{ColName, ColStatus, ColExpires, ColReason}, false},
		{"tui 60", tui, 58, []Column{ColName, ColStatus, ColExpires, ColReason}, false},
		{"cli 60", cli, 60, []Column{ColName, ColStatus, ColExpires, ColReason}, false},
		// Too narrow for a REASON column: the reason folds into STATUS.
		{"tui 40", tui, 38, []Column{ColName, ColStatus}, true},
		{"cli 40", cli, 40, []Column{ColName, ColStatus}, true},
	} {
		fit := FitColumns(tc.width, tc.m)
		if !slices.Equal(fit.Columns, tc.want) || fit.FoldReason != tc.fold {
			t.Errorf("%s: %v\nwant columns %v, fold %v", tc.name, fit, tc.want, tc.fold)
		}
		if w := lineWidth(fit); w > tc.width {
			t.Errorf("%s: %v is %d cells wide, more than %d", tc.name, fit, w, tc.width)
		}
		if got := fit.width(ColStatus); got < tc.m.Natural[ColStatus] {
			t.Errorf("%s: STATUS cut to %d cells: a status word must stay whole", tc.name, got)
		}
		if fit.FoldReason {
			continue
		}
		// Where there is a REASON column, it shows the longest reason.
		if got := fit.width(ColReason); got < tc.m.Natural[ColReason] {
			t.Errorf("%s: REASON cut to %d cells", tc.name, got)
		}
	}
}

// NAME is capped (ellipsis) before any other column goes, but never below
// a width that still tells names apart while anything else can give.
func TestFitColumnsCapsTheNameFirst(t *testing.T) {
	t.Parallel()
	m := measure(ws1, false)
	fit := FitColumns(98, m)
	if got := fit.width(ColName); got >= m.Natural[ColName] || got < 98*2/5 {
		t.Errorf("at 98 cells NAME is %d wide (natural %d): want it capped near 40%%", got, m.Natural[ColName])
	}
	// At 58 cells (a 60-column TUI) the name gives way down to its
	// minimum so that REASON keeps its column.
	fit = FitColumns(58, m)
	if got := fit.width(ColName); got != 16 {
		t.Errorf("at 58 cells NAME is %d wide: %v", got, fit)
	}
	// Short names are never padded out to the cap: the slack goes to the
	// name only up to its natural width.
	short := measure(ws1[3:], false)
	fit = FitColumns(200, short)
	if got := fit.width(ColName); got != short.Natural[ColName] {
		t.Errorf("NAME is %d wide, natural %d", got, short.Natural[ColName])
	}
}

// Japanese names are measured in cells: a 27-character name is 54 cells
// and is capped like any other.
func TestFitColumnsJapaneseNames(t *testing.T) {
	t.Parallel()
	rows := []sampleRow{
		{sampleView("広報アカウント", "sbx", "広報チーム", []string{"広報"}, StatusOK, ""), "in 20d"},
		{sampleView("日本語の長いプロファイル名前テスト用アカウント東京本社", "sbx", "", nil, StatusNeedsReauth, auth.ReasonPasswordChanged), "-"},
	}
	m := measure(rows, false)
	if m.Natural[ColName] != 54 {
		t.Fatalf("the Japanese name measures %d cells, want 54", m.Natural[ColName])
	}
	for _, width := range []int{200, 100, 80, 60, 40} {
		fit := FitColumns(width, m)
		if lineWidth(fit) > width {
			t.Errorf("%d: %v is too wide", width, fit)
		}
		hasReason := fit.width(ColReason) >= m.Natural[ColReason] || (fit.FoldReason && fit.width(ColStatus) >= m.Folded)
		if width >= 60 && !hasReason {
			t.Errorf("%d: %v: the red row cannot show password_changed", width, fit)
		}
	}
	if fit := FitColumns(120, m); fit.width(ColName) != 54 {
		t.Errorf("at 120 cells the Japanese name should fit whole: %v", fit)
	}
}

// Properties at every width from 1 to 250: the columns keep their order,
// NAME and STATUS are always there, the drop order is PROVIDER, ACCOUNT,
// GROUPS, then REASON folds, then EXPIRES; the line fits whenever the
// floor (name 4, status 2) does; a wider screen never shows less.
func TestFitColumnsProperties(t *testing.T) {
	t.Parallel()
	for _, withGroups := range []bool{false, true} {
		m := measure(ws1, withGroups)
		prev := ColumnFit{}
		for width := 1; width <= 250; width++ {
			fit := FitColumns(width, m)
			if !slices.IsSorted(fit.Columns) || len(fit.Columns) != len(fit.Widths) {
				t.Fatalf("%d: columns out of order: %v", width, fit)
			}
			has := func(c Column) bool { return slices.Contains(fit.Columns, c) }
			if !has(ColName) || !has(ColStatus) {
				t.Fatalf("%d: NAME or STATUS missing: %v", width, fit)
			}
			order := []bool{has(ColProvider), has(ColAccount)}
			if withGroups {
				order = append(order, has(ColGroups))
			}
			order = append(order, !fit.FoldReason, has(ColExpires))
			for i := 1; i < len(order); i++ {
				if order[i-1] && !order[i] {
					t.Fatalf("%d: dropped in the wrong order: %v", width, fit)
				}
			}
			if fit.FoldReason && has(ColReason) {
				t.Fatalf("%d: REASON both folded and shown: %v", width, fit)
			}
			if width >= 4+ColumnGap+2 && lineWidth(fit) > width {
				t.Fatalf("%d: %d cells wide: %v", width, lineWidth(fit), fit)
			}
			dropped := !has(ColProvider)
			if dropped && fit.width(ColName) >= m.Natural[ColName] {
				t.Fatalf("%d: a column went while NAME was whole: %v", width, fit)
			}
			if len(fit.Columns) < len(prev.Columns) {
				t.Fatalf("%d: fewer columns (%v) than at %d (%v)", width, fit, width-1, prev)
			}
			prev = fit
		}
		if fit := FitColumns(0, m); fit.FoldReason || fit.width(ColName) != m.Natural[ColName] {
			t.Errorf("no width given must mean no limit: %v", fit)
		}
	}
}

func TestStatusWithReason(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    View
		want string
	}{
		{sampleView("p", "x", "", nil, StatusNeedsReauth, auth.ReasonAccessRevoked), "needs_reauth (access_revoked)"},
		{sampleView("p", "x", "", nil, StatusExpired, auth.ReasonConsentExpired), "expired (consent_expired)"},
		// The reason that only repeats the status adds nothing.
		{sampleView("p", "x", "", nil, StatusExpired, auth.ReasonExpired), "expired"},
		{sampleView("p", "x", "", nil, StatusOK, ""), "ok"},
		// A reason read from a damaged state file cannot break the line.
		{View{Status: StatusNeedsReauth, Reason: new("in\x1b[31mvalid\n")}, "needs_reauth (in[31mvalid)"},
	} {
		if got := StatusWithReason(&tc.v); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
}
