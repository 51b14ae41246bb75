package tui

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/profiles"
)

// longName is the review's 88-character profile name (the validator
// allows 100 bytes).
const longName = "a-very-long-profile-name-for-the-spring-campaign-2027-instagram-brand-account-number-one"

// longJapanese is 27 characters, 54 cells.
const longJapanese = "日本語の長いプロファイル名前テスト用アカウント東京本社"

// tableView is a row as the domain would list it.
func tableView(name, provider, account string, groups []string, st profiles.Status, reason string, expires time.Duration) profiles.View {
	v := profiles.View{Name: name, Provider: provider, Groups: groups, Status: st}
	if account != "" {
		v.Account = &account
	}
	if reason != "" {
		v.Reason = &reason
	}
	if expires != 0 {
		at := testNow.Add(expires)
		v.ConnectionExpiresAt = &at
	}
	return v
}

// tableViews are the review's ws1 rows: long and Japanese names, long
// accounts, and red rows of both kinds.
func tableViews() []profiles.View {
	day := 24 * time.Hour
	return []profiles.View{
		tableView("acme-x", "sbx", "launch team", []string{"marketing"}, profiles.StatusOK, "", 30*day),
		tableView(longName, "sbx", "spring-campaign-2027-brand-account-display-name@example.com", []string{"marketing"}, profiles.StatusOK, "", 30*day),
		tableView("広報アカウント", "sbx", "広報部 公式アカウント", []string{"広報"}, profiles.StatusOK, "", 20*day),
		tableView(longJapanese, "sbx", "", []string{"広報", "support"}, profiles.StatusExpiring, "", 2*day),
		tableView("never-connected", "sbx", "", nil, profiles.StatusNotConnected, "", 0),
		tableView("stale-ig", "legacy", "", []string{"marketing"}, profiles.StatusExpired, "expired", -day),
		tableView("revoked-fb", "blackhole", "revoked-fb-user", []string{"support"}, profiles.StatusNeedsReauth, "access_revoked", 0),
		tableView("pw-changed-ig", "sbx", "pw-changed-ig-user", []string{"support"}, profiles.StatusNeedsReauth, "password_changed", 0),
	}
}

func newTable(views []profiles.View, w, h int) *profileTable {
	t := &profileTable{}
	t.SetStyles(newStyles(true))
	t.SetSize(w, h)
	t.SetRows(views, testNow)
	return t
}

// tableLines is the table as a person reads it, one string per line.
func tableLines(t *profileTable) []string {
	lines := strings.Split(ansi.Strip(t.View()), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return lines
}

// cellAt is the display column where s starts in line; -1 if absent.
func cellAt(line, s string) int {
	i := strings.Index(line, s)
	if i < 0 {
		return -1
	}
	return ansi.StringWidth(line[:i])
}

// The acceptance case: at 80×24 with an 88-character name, every red row
// still says why (today only NAME and STATUS remain), and at 60×20 no
// line is wider than the screen.
func TestTableEveryRedRowSaysWhyAt80x24(t *testing.T) {
	if len(longName) != 88 {
		t.Fatalf("longName is %d characters", len(longName))
	}
	config := fixtureConfig + "  " + longName + ":\n    provider: acme\n    groups: [marketing]\n" +
		"  " + longJapanese + ":\n    provider: acme\n"
	records := fixtureRecords()
	records[longName] = &profiles.Record{Connected: true, Account: "spring-campaign-2027-brand-account-display-name@example.com", HasRefresh: true, NeedsReauth: true, Reason: auth.ReasonPasswordChanged}
	records[longJapanese] = &profiles.Record{Connected: true, HasRefresh: true, NeedsReauth: true, Reason: auth.ReasonAccessRevoked}
	mgr := newManager(t, config, records, func() time.Time { return testNow })
	m := New(mgr, Options{Title: "sbctl test"})
	t.Cleanup(func() { m.stop(5 * time.Second) })
	m.Update(loadList(m.ctx, mgr)())

	for _, size := range [][2]int{{80, 24}, {60, 20}} {
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		scr := screen(m)
		lines := strings.Split(scr, "\n")
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > size[0] {
				t.Errorf("%v: line %d is %d cells wide: %q", size, i, w, l)
			}
		}
		red := 0
		for i, v := range m.table.rows {
			l := lines[2+i] // the title, the header, then the rows in order
			if !strings.Contains(l, v.Name[:min(len(v.Name), 10)]) && !strings.Contains(l, v.Name[:6]) {
				t.Fatalf("%v: line %d is not %s's: %q", size, 2+i, v.Name, l)
			}
			if v.Status.Tone() != profiles.ToneBad || v.Reason == nil {
				continue
			}
			red++
			if !strings.Contains(l, *v.Reason) {
				t.Errorf("%v: the red row of %s does not say why (%s):\n%s", size, v.Name, *v.Reason, scr)
			}
		}
		if red != 4 {
			t.Errorf("%v: %d red rows with a reason, want 4", size, red)
		}
	}
}

// The domain's rule at the common widths: nothing wider than the table,
// columns aligned across ASCII and Japanese names, status words whole,
// every red row's reason shown (in its column, or folded into STATUS on a
// screen too narrow for it).
func TestTableColumnRuleAtWidths(t *testing.T) {
	t.Parallel()
	views := tableViews()
	for _, tc := range []struct {
		width       int
		shown, gone []string
		reasonWhole bool
	}{
		{200, []string{"NAME", "PROVIDER", "ACCOUNT", "STATUS", "EXPIRES", "REASON"}, nil, true},
		{100, []string{"NAME", "ACCOUNT", "STATUS", "EXPIRES", "REASON"}, []string{"PROVIDER"}, true},
		{80, []string{"NAME", "STATUS", "EXPIRES", "REASON"}, []string{"PROVIDER", "ACCOUNT"}, true},
		{60, []string{"NAME", "STATUS", "EXPIRES", "REASON"}, []string{"PROVIDER", "ACCOUNT"}, true},
		{40, []string{"NAME", "STATUS"}, []string{"PROVIDER", "ACCOUNT", "EXPIRES", "REASON"}, false},
	} {
		tab := newTable(views, tc.width, 12)
		lines := tableLines(tab)
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > tc.width {
				t.Errorf("%d: line %d is %d cells: %q", tc.width, i, w, l)
			}
		}
		hdr := lines[0]
		for _, c := range tc.shown {
			if !strings.Contains(hdr, c) {
				t.Errorf("%d: header lacks %s: %q", tc.width, c, hdr)
			}
		}
		for _, c := range tc.gone {
			if strings.Contains(hdr, c) {
				t.Errorf("%d: header still has %s: %q", tc.width, c, hdr)
			}
		}
		statusCol := cellAt(hdr, "STATUS")
		for i, v := range views {
			l := lines[1+i]
			if got := cellAt(l, " "+string(v.Status)) + 1; got != statusCol {
				t.Errorf("%d: %s's status at cell %d, header at %d:\n%s\n%s", tc.width, v.Name, got, statusCol, hdr, l)
			}
			if v.Reason == nil || *v.Reason == string(v.Status) {
				continue
			}
			want := *v.Reason
			if !tc.reasonWhole {
				// Folded and cut: the status word, then the reason's start.
				want = string(v.Status) + " (" + want[:4]
			}
			if !strings.Contains(l, want) {
				t.Errorf("%d: %s does not show %q: %q", tc.width, v.Name, want, l)
			}
		}
	}
}

// The NAME column is capped with an ellipsis, and a cut Japanese name
// never leaves half a character.
func TestTableCutsLongNames(t *testing.T) {
	t.Parallel()
	tab := newTable(tableViews(), 80, 12)
	lines := tableLines(tab)
	long, ja := lines[2], lines[4]
	if !strings.HasPrefix(long, "  a-very-long-profile-name") || !strings.Contains(long, "…") || strings.Contains(long, "number-one") {
		t.Errorf("the 88-character name is not cut with an ellipsis: %q", long)
	}
	if !strings.Contains(ja, "…") || strings.Contains(ja, longJapanese) {
		t.Errorf("the long Japanese name is not cut: %q", ja)
	}
	if a, b := cellAt(long, " ok"), cellAt(lines[1], " ok"); a != b {
		t.Errorf("the cut name moved STATUS: %d vs %d", a, b)
	}
}

// A cached row is never shown stale: the same profile with a new status
// (a refresh just ended) or a new clock (relative times) is measured
// again; an unchanged one is not.
func TestTableRemeasuresChangedRows(t *testing.T) {
	t.Parallel()
	views := tableViews()
	tab := newTable(views, 100, 12)
	first := tab.texts[0]
	tab.SetRows(views[:3], testNow) // a filter keystroke
	if tab.texts[0] != first {
		t.Error("an unchanged row was measured again on a filter keystroke")
	}
	fixed := slices.Clone(views)
	fixed[6] = tableView("revoked-fb", "blackhole", "revoked-fb-user", []string{"support"}, profiles.StatusOK, "", 30*24*time.Hour)
	tab.SetRows(fixed, testNow)
	l := tableLines(tab)[7]
	if !strings.Contains(l, "revoked-fb") || !strings.Contains(l, " ok ") || strings.Contains(l, "access_revoked") {
		t.Errorf("the renewed row still shows the old status: %q", l)
	}
	tab.SetRows(fixed, testNow.Add(24*time.Hour))
	if l := tableLines(tab)[1]; !strings.Contains(l, "in 29d") {
		t.Errorf("a day later acme-x should end in 29d: %q", l)
	}
}

// Marks: a mark column appears when marks are on; "*" on marked rows,
// ">" on the selected one, both together on a marked selected row.
func TestTableMarks(t *testing.T) {
	t.Parallel()
	tab := newTable(tableViews(), 100, 12)
	before := tableLines(tab)
	marked := map[string]bool{"acme-x": true, "stale-ig": true}
	tab.SetMarks(func(name string) bool { return marked[name] })
	lines := tableLines(tab)
	for i, want := range map[int]string{1: ">* acme-x", 2: "   a-very", 6: " * stale-ig", 7: "   revoked-fb"} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d: %q, want it to start %q", i, lines[i], want)
		}
	}
	if got, was := cellAt(lines[0], "STATUS"), cellAt(before[0], "STATUS"); got > was+1 || got < 0 {
		t.Errorf("STATUS moved from %d to %d with marks on", was, got)
	}
	tab.SetMarks(nil)
	if got := tableLines(tab); !slices.Equal(got, before) {
		t.Errorf("marks off does not restore the table:\n%s", strings.Join(got, "\n"))
	}
}

// Highlight: the filter's terms are shown in reverse video where they
// match, in any case and in Japanese, and only there; the text reads the
// same.
func TestTableHighlight(t *testing.T) {
	t.Parallel()
	tab := newTable(tableViews(), 100, 12)
	plain := tableLines(tab)
	tab.SetHighlight([]string{"REVOKED", "広報"})
	raw := strings.Split(tab.View(), "\n")
	if got := tableLines(tab); !slices.Equal(got, plain) {
		t.Errorf("highlighting changed the text:\n%s", strings.Join(got, "\n"))
	}
	reversed := func(line, s string) bool {
		// The match is rendered whole, right after an SGR with reverse (7).
		i := strings.Index(line, s+"\x1b[")
		if i < 0 {
			return false
		}
		seq := line[max(0, strings.LastIndex(line[:i], "\x1b[")):i]
		m := sgrRe.FindStringSubmatch(seq)
		return m != nil && slices.Contains(strings.Split(m[1], ";"), "7")
	}
	for _, c := range []struct {
		line int
		s    string
	}{{7, "revoked"}, {3, "広報"}} {
		if !strings.Contains(ansi.Strip(raw[c.line]), c.s) {
			t.Fatalf("fixture: %q should show %s", ansi.Strip(raw[c.line]), c.s)
		}
		if !reversed(raw[c.line], c.s) {
			t.Errorf("%s not highlighted in %q", c.s, raw[c.line])
		}
	}
	for _, seq := range sgrRe.FindAllStringSubmatch(raw[1], -1) {
		if slices.Contains(strings.Split(seq[1], ";"), "7") {
			t.Errorf("acme-x has no match but is highlighted: %q", raw[1])
		}
	}
	if got := matchSpans("Access_Revoked revoked", [][]rune{[]rune("revoked"), []rune("ess_r")}); !slices.Equal(got, [][2]int{{3, 14}, {15, 22}}) {
		t.Errorf("spans %v", got)
	}
}

// sgrRe is one SGR sequence; its parameters are the submatch.
var sgrRe = regexp.MustCompile("\x1b\\[([0-9;]*)m")

// Grouped view: a header per group (with its count), the rows under each
// group they are in, "no group" last, and the cursor never on a header.
func TestTableGroupedView(t *testing.T) {
	t.Parallel()
	tab := newTable(tableViews(), 100, 30)
	tab.SetGrouped([]string{"marketing", "support", "広報"})
	lines := tableLines(tab)
	want := []string{"marketing (3)", "  acme-x", "  a-very", "  stale-ig", "support (3)", "  日本語", "  revoked-fb", "  pw-changed-ig", "広報 (2)", "  広報アカウント", "  日本語", "no group (1)", "  never-connected"}
	for i, w := range want {
		if l := lines[1+i]; !strings.HasPrefix(strings.TrimPrefix(l, ">"), strings.TrimPrefix(w, " ")) && !strings.HasPrefix(l, w) {
			t.Errorf("line %d: %q, want %q", 1+i, l, w)
		}
	}
	if t.Failed() {
		t.Fatalf("screen:\n%s", strings.Join(lines, "\n"))
	}
	if tab.Len() != 9 || tab.Count() != 8 {
		t.Errorf("Len %d (want 9 entries), Count %d (want 8 profiles)", tab.Len(), tab.Count())
	}
	var seen []string
	for range tab.Len() {
		v, _ := tab.Selected()
		seen = append(seen, v.Name)
		tab.Move(1)
	}
	if seen[0] != "acme-x" || seen[3] != longJapanese || seen[7] != longJapanese || seen[8] != "never-connected" {
		t.Errorf("moving down visits %v", seen)
	}
	// A click on a header selects nothing; on a row, that row.
	tab.SetCursor(0)
	if _, ok := tab.RowAt(1); ok {
		t.Error("RowAt on a group header")
	}
	if item, ok := tab.RowAt(6); !ok || item != 3 {
		t.Errorf("RowAt(6) = %d, %v; want item 3 (the first support row)", item, ok)
	}
	// The selection stays on the same profile, under the same group, when
	// the rows change, and back in the flat view.
	tab.SetCursor(7) // 日本語… under 広報
	tab.SetRows(tableViews()[1:], testNow)
	if v, _ := tab.Selected(); v.Name != longJapanese || tab.groupOf(tab.Cursor()) != "広報 (2)" {
		t.Errorf("after SetRows: %s under %q", v.Name, tab.groupOf(tab.Cursor()))
	}
	tab.SetGrouped(nil)
	if v, _ := tab.Selected(); v.Name != longJapanese || tab.Len() != 7 {
		t.Errorf("flat again: %s, Len %d", v.Name, tab.Len())
	}
}

// In a short grouped table, moving onto the first row of a group scrolls
// its header into view too.
func TestTableGroupedScrollShowsHeader(t *testing.T) {
	t.Parallel()
	tab := newTable(tableViews(), 100, 4) // header + 3 lines
	tab.SetGrouped([]string{"marketing", "support"})
	tab.Move(3) // the first support row, at the bottom
	lines := tableLines(tab)
	if !strings.HasPrefix(lines[2], "support (3)") || !strings.HasPrefix(lines[3], "> 日本語") {
		t.Errorf("the group's header is not shown above its first row:\n%s", strings.Join(lines, "\n"))
	}
	// Back up to the first row of the list: its header comes into view.
	tab.Move(-3)
	if lines := tableLines(tab); !strings.HasPrefix(lines[1], "marketing (3)") || !strings.HasPrefix(lines[2], "> acme-x") {
		t.Errorf("the first group's header is not shown:\n%s", strings.Join(lines, "\n"))
	}
}

// RowAt maps a click to the row drawn there, after scrolling too.
func TestTableRowAt(t *testing.T) {
	t.Parallel()
	tab := newTable(tableViews(), 100, 4) // header + 3 rows
	for y, want := range map[int]int{1: 0, 2: 1, 3: 2} {
		if got, ok := tab.RowAt(y); !ok || got != want {
			t.Errorf("RowAt(%d) = %d, %v; want %d", y, got, ok, want)
		}
	}
	for _, y := range []int{-1, 0, 4, 99} {
		if _, ok := tab.RowAt(y); ok {
			t.Errorf("RowAt(%d) is a row", y)
		}
	}
	tab.SetCursor(6)
	if got, ok := tab.RowAt(1); !ok || got != 4 {
		t.Errorf("scrolled: RowAt(1) = %d, %v; want 4", got, ok)
	}
	tab.SetCursor(99)
	if tab.Cursor() != 7 {
		t.Errorf("SetCursor past the end: %d", tab.Cursor())
	}
	small := newTable(tableViews()[:2], 100, 10)
	if _, ok := small.RowAt(3); ok {
		t.Error("RowAt below the last row is a row")
	}
}

// manyViews are n rows in the review's mix (3% not_connected, 77% ok, 10%
// expiring, 5% expired, 5% needs_reauth) across 5 groups, with a
// Japanese name every 13th row.
func manyViews(n int) []profiles.View {
	groups := []string{"marketing", "support", "sales", "広報", "emea"}
	nets := []string{"x", "fb", "ig", "li", "yt", "tt", "pin"}
	day := 24 * time.Hour
	out := make([]profiles.View, n)
	for i := range out {
		name := fmt.Sprintf("brand-%05d-%s", i, nets[i%len(nets)])
		if i%13 == 7 {
			name = fmt.Sprintf("広報アカウント-%05d", i)
		}
		acct := fmt.Sprintf("acct-%05d@example.com", i)
		g := []string{groups[i%len(groups)]}
		var v profiles.View
		switch p := i % 100; {
		case p < 3:
			v = tableView(name, "sbx", "", g, profiles.StatusNotConnected, "", 0)
		case p < 8:
			v = tableView(name, "sbx", acct, g, profiles.StatusExpired, "expired", -time.Duration(1+i%9)*day)
		case p < 13:
			reason := []string{"access_revoked", "password_changed"}[i%2]
			v = tableView(name, "sbx", acct, g, profiles.StatusNeedsReauth, reason, 0)
		case p < 23:
			v = tableView(name, "sbx", acct, g, profiles.StatusExpiring, "", time.Duration(1+i%6)*day)
		default:
			v = tableView(name, "sbx", acct, g, profiles.StatusOK, "", time.Duration(8+i%50)*day)
		}
		out[i] = v
	}
	return out
}

// A keystroke costs what the visible rows cost: moving and drawing
// allocates the same at 10,000 rows as at 1,000 (the speed itself is
// measured by BenchmarkMoveKeystroke10k).
func TestTableMoveAllocsDoNotGrowWithRows(t *testing.T) {
	allocs := func(n int, groups []string) float64 {
		tab := newTable(manyViews(n), 100, 25)
		tab.SetGrouped(groups)
		tab.SetCursor(n / 2)
		return testing.AllocsPerRun(50, func() {
			tab.Move(1)
			_ = tab.View()
		})
	}
	for _, groups := range [][]string{nil, {"marketing", "support", "sales", "広報", "emea"}} {
		small, large := allocs(1000, groups), allocs(10000, groups)
		if large > small+2 {
			t.Errorf("grouped by %v: a move allocates %.0f times at 10k rows, %.0f at 1k", groups, large, small)
		}
	}
}

// clean's shortcut for plain ASCII gives what the full policy gives.
func TestCleanShortcutAgreesWithPolicy(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", "acme-x", "Acme X", "acct-00001@example.com", " lead", "trail ", "two  spaces",
		"tab\there", "esc\x1b[31mred", "del\x7f", "広報 チーム", "nul\x00", "a b c",
	} {
		if got, want := clean(s), profiles.CleanText(ansi.Strip(s), 0); got != want {
			t.Errorf("clean(%q) = %q, the policy says %q", s, got, want)
		}
	}
}

// Row is the profile of an item, in the grouped view too.
func TestTableRow(t *testing.T) {
	t.Parallel()
	tab := newTable(tableViews(), 100, 30)
	if got := tab.Row(6).Name; got != "revoked-fb" {
		t.Errorf("Row(6) = %s", got)
	}
	tab.SetGrouped([]string{"support"})
	if got := tab.Row(0).Name; got != longJapanese {
		t.Errorf("grouped Row(0) = %s", got)
	}
	if got := tab.Row(99).Name; got != "" {
		t.Errorf("Row past the end = %q", got)
	}
}

// Setting the same groups again keeps the view (and the cursor) as it is;
// an empty list of groups is the grouped view with only "no group".
func TestTableSetGroupedAgain(t *testing.T) {
	t.Parallel()
	tab := newTable(tableViews(), 100, 30)
	tab.SetGrouped([]string{"support"})
	tab.SetCursor(2)
	before := tableLines(tab)
	tab.SetGrouped([]string{"support"})
	if got := tableLines(tab); !slices.Equal(got, before) || tab.Cursor() != 2 {
		t.Errorf("the same groups changed the view:\n%s", strings.Join(got, "\n"))
	}
	tab.SetGrouped([]string{})
	if l := tableLines(tab)[1]; !strings.HasPrefix(l, "no group (8)") {
		t.Errorf("no groups given: %q", l)
	}
}

// On a tiny screen no line is wider than the table, marks on or off.
func TestTableTinyWidths(t *testing.T) {
	t.Parallel()
	for _, marks := range []bool{false, true} {
		for w := 1; w <= 24; w++ {
			tab := newTable(tableViews(), w, 4)
			if marks {
				tab.SetMarks(func(string) bool { return true })
			}
			for i, l := range strings.Split(tab.View(), "\n") {
				if got := ansi.StringWidth(l); got > w {
					t.Errorf("width %d, marks %v: line %d is %d cells: %q", w, marks, i, got, ansi.Strip(l))
				}
			}
		}
	}
}
