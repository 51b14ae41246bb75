package tui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider"
	"github.com/sbctl/sbctl/profiles"
)

// fixtureNames in the default order, most urgent first: dead
// connections, never connected, expiring, then healthy ones.
var fixtureNames = []string{"acme-ig", "acme-li", "acme-tt", "acme-fb", "広報アカウント", "acme-x"}

// runCmds runs a Cmd and, through batches, every Cmd it holds, and returns
// the messages. Only for Cmds that return at once (never a sign-in).
func runCmds(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, runCmds(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

func find[T tea.Msg](t *testing.T, msgs []tea.Msg) T {
	t.Helper()
	for _, m := range msgs {
		if v, ok := m.(T); ok {
			return v
		}
	}
	var zero T
	t.Fatalf("no %T among %#v", zero, msgs)
	return zero
}

func TestInitLoadsTheList(t *testing.T) {
	m := New(fixtureManager(t), Options{})
	t.Cleanup(func() { m.stop(time.Second) })
	if !strings.Contains(screen(m), "Loading profiles") {
		t.Errorf("before the list arrives:\n%s", screen(m))
	}
	if m.Init() == nil {
		t.Fatal("Init returned no Cmd")
	}
	m.Update(loadList(m.ctx, m.mgr)())
	if got := rowNames(m); !slices.Equal(got, fixtureNames) {
		t.Errorf("rows %v, want %v", got, fixtureNames)
	}
	scr := screen(m)
	for _, want := range []string{"sbctl", "3 need re-authentication, 1 expiring soon", "r reauth"} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}
	if v := m.View(); !v.AltScreen || !strings.Contains(v.WindowTitle, "3 need re-authentication") {
		t.Errorf("view: alt screen %v, title %q", v.AltScreen, v.WindowTitle)
	}
}

func TestMoveSelection(t *testing.T) {
	m := newTestModel(t, 100, 30)
	steps := []struct{ key, want string }{
		{"j", "acme-li"}, {"down", "acme-tt"}, {"k", "acme-li"}, {"up", "acme-ig"},
		{"up", "acme-ig"}, // stays at the top
	}
	for _, s := range steps {
		press(m, s.key)
		if got := selectedName(m); got != s.want {
			t.Fatalf("after %s: selected %q, want %q", s.key, got, s.want)
		}
	}
	press(m, "j", "j", "j", "j", "j", "j", "j", "j")
	if got := selectedName(m); got != "acme-x" {
		t.Errorf("past the bottom: %q", got)
	}
	if l := lineWith(t, screen(m), "acme-x "); !strings.HasPrefix(l, ">") {
		t.Errorf("selected row is not marked: %q", l)
	}
	if !strings.Contains(lineWith(t, screen(m), "sbctl"), "6/6") {
		t.Errorf("title lacks the position:\n%s", screen(m))
	}
}

func TestScrollKeepsSelectionVisible(t *testing.T) {
	m := newTestModel(t, 100, 8) // room for two or three rows only
	for range fixtureNames {
		press(m, "j")
		if name := selectedName(m); !strings.HasPrefix(lineWith(t, screen(m), name+" "), ">") {
			t.Fatalf("selected %q is off screen:\n%s", name, screen(m))
		}
	}
	if strings.Contains(screen(m), "acme-ig") {
		t.Errorf("the first row should have scrolled away:\n%s", screen(m))
	}
}

func TestFilter(t *testing.T) {
	m := newTestModel(t, 100, 30)
	press(m, "/")
	if !m.filtering {
		t.Fatal("/ did not open the filter")
	}
	typeText(m, "legacy") // a provider
	if got := rowNames(m); !slices.Equal(got, []string{"acme-ig", "acme-fb"}) {
		t.Errorf("filter legacy: %v", got)
	}
	press(m, "enter")
	if m.filtering || m.table.Len() != 2 {
		t.Errorf("enter should keep the filter and give the keys back: filtering %v, rows %v", m.filtering, rowNames(m))
	}
	if !strings.Contains(screen(m), "/ legacy") {
		t.Errorf("the kept filter is not shown:\n%s", screen(m))
	}
	press(m, "esc")
	if m.filter.Value() != "" || m.table.Len() != len(fixtureNames) {
		t.Errorf("esc did not clear the filter: %q, %v", m.filter.Value(), rowNames(m))
	}

	// An account name in Japanese; letters that are keys elsewhere (j, q,
	// g) are text while typing.
	press(m, "/")
	typeText(m, "チーム")
	if got := rowNames(m); !slices.Equal(got, []string{"広報アカウント"}) {
		t.Errorf("filter チーム: %v", got)
	}
	press(m, "esc")
	press(m, "/")
	typeText(m, "acme ig q")
	if m.filter.Value() != "acme ig q" || m.table.Len() != 0 {
		t.Errorf("value %q rows %v", m.filter.Value(), rowNames(m))
	}
	if !strings.Contains(screen(m), "No profiles match") {
		t.Errorf("empty result not explained:\n%s", screen(m))
	}
	press(m, "backspace", "backspace")
	if got := rowNames(m); !slices.Equal(got, []string{"acme-ig"}) {
		t.Errorf("every word must match: %v", got)
	}
	press(m, "esc")
	if m.filtering || m.table.Len() != len(fixtureNames) {
		t.Errorf("esc while typing should clear and close: %v", rowNames(m))
	}
}

func TestGroupSwitch(t *testing.T) {
	m := newTestModel(t, 100, 30)
	want := []struct {
		title   string
		rows    []string
		summary string
	}{
		{"group marketing", []string{"acme-ig", "acme-fb", "広報アカウント", "acme-x"}, "1 need re-authentication, 1 expiring soon"},
		{"group support", []string{"acme-li", "acme-tt"}, "2 need re-authentication, 0 expiring soon"},
		{"all profiles", fixtureNames, "3 need re-authentication, 1 expiring soon"},
	}
	for _, w := range want {
		press(m, "tab")
		scr := screen(m)
		if got := rowNames(m); !slices.Equal(got, w.rows) {
			t.Errorf("%s: rows %v", w.title, got)
		}
		if !strings.Contains(lineWith(t, scr, "sbctl"), w.title) || !strings.Contains(scr, w.summary) {
			t.Errorf("%s: screen\n%s", w.title, scr)
		}
	}
	// The selection follows the profile across groups when it can.
	selectProfile(t, m, "acme-fb")
	press(m, "tab")
	if got := selectedName(m); got != "acme-fb" {
		t.Errorf("selection moved to %q", got)
	}
	// Group and text filter combine.
	press(m, "/")
	typeText(m, "acme-x")
	if got := rowNames(m); !slices.Equal(got, []string{"acme-x"}) {
		t.Errorf("marketing + x: %v", got)
	}
}

func TestReauthStartsInACmdWithSpinner(t *testing.T) {
	m := newTestModel(t, 100, 30)
	selectProfile(t, m, "acme-tt") // not connected
	cmd := press(m, "r")
	if cmd == nil {
		t.Fatal("r returned no Cmd")
	}
	// The Cmd is a batch (spinner, the sign-in, its URL feed); it is not run
	// here: that would open a browser. Update itself did no I/O.
	if _, ok := cmd().(tea.BatchMsg); !ok {
		t.Errorf("r's Cmd is not a batch")
	}
	if m.op == nil || m.op.kind != opReauth || m.op.name != "acme-tt" {
		t.Fatalf("operation %+v", m.op)
	}
	scr := screen(m)
	for _, want := range []string{"Signing in to acme-tt", "(esc cancels)", "Starting the sign-in", "esc cancel sign-in", spinner.MiniDot.Frames[0]} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}
	// The spinner turns while the operation runs.
	if _, next := m.Update(m.spinner.Tick()); next == nil {
		t.Error("spinner tick not rescheduled")
	}

	// The URL arrives from OnURL through the event feed.
	url := "http://127.0.0.1:45678/authorize?client_id=sbctl&redirect_uri=http%3A%2F%2F127.0.0.1%3A40000%2Fcallback&state=s"
	if _, next := m.Update(opEventMsg{id: m.op.id, opEvent: opEvent{url: url}}); next == nil {
		t.Error("the event feed was not read again")
	}
	m.Update(opEventMsg{id: m.op.id, opEvent: opEvent{line: "Could not open a browser: no graphical display"}})
	scr = screen(m)
	if !strings.Contains(strings.ReplaceAll(scr, "\n", ""), url) || !strings.Contains(scr, "Could not open a browser") {
		t.Errorf("URL or flow message missing:\n%s", scr)
	}

	// One operation at a time: a second one is queued behind it.
	if press(m, "f"); m.op.kind != opReauth || len(m.work.queue) != 1 || m.note.text != "Queued: refresh acme-tt (after the sign-in to acme-tt)." {
		t.Errorf("second operation: op %v, queue %d, note %q", m.op.kind, len(m.work.queue), m.note.text)
	}
}

func TestEscCancelsReauth(t *testing.T) {
	m := newTestModel(t, 100, 30)
	press(m, "/")
	typeText(m, "acme-x")
	press(m, "enter")
	press(m, "r")
	op := m.op
	if op == nil {
		t.Fatal("no operation")
	}
	press(m, "esc")
	if op.ctx.Err() == nil || !op.cancelling {
		t.Fatalf("esc did not cancel the sign-in's context")
	}
	if m.filter.Value() != "acme-x" {
		t.Error("esc cleared the filter before cancelling the sign-in")
	}
	if !strings.Contains(screen(m), "cancelling") {
		t.Errorf("no sign of cancelling:\n%s", screen(m))
	}
	// The flow returns, as it does, with the cancellation.
	_, cmd := m.Update(opDoneMsg{id: op.id, kind: opReauth, name: op.name, err: fmt.Errorf("sign-in cancelled: %w", context.Canceled)})
	if m.op != nil {
		t.Fatal("operation still running")
	}
	if !strings.Contains(screen(m), "Sign-in to acme-x cancelled; nothing changed.") {
		t.Errorf("no cancellation note:\n%s", screen(m))
	}
	find[listMsg](t, runCmds(cmd))
	if strings.Contains(screen(m), "Signing in") {
		t.Errorf("sign-in box still shown:\n%s", screen(m))
	}
	// A stale message of the old operation changes nothing.
	if _, cmd := m.Update(opEventMsg{id: op.id, opEvent: opEvent{url: "http://x"}}); cmd != nil {
		t.Error("stale event handled")
	}
}

func TestFinishedReauthReloadsTheList(t *testing.T) {
	m := newTestModel(t, 100, 30)
	selectProfile(t, m, "acme-tt")
	press(m, "r")
	op := m.op
	// What a successful Reauth leaves behind: the state records the token.
	exp := testNow.Add(30 * 24 * time.Hour)
	writeRecords(t, m.mgr, map[string]*profiles.Record{"acme-tt": {Connected: true, Account: "Acme TT", HasRefresh: true, RefreshExpiresAt: &exp}})
	_, cmd := m.Update(opDoneMsg{id: op.id, kind: opReauth, name: "acme-tt", reauth: profiles.ReauthResult{Account: provider.Account{Name: "Acme TT"}}})
	if m.op != nil || m.note.kind != noteOK || m.note.text != "Connected acme-tt as Acme TT." {
		t.Fatalf("op %v note %+v", m.op, m.note)
	}
	m.Update(find[listMsg](t, runCmds(cmd)))
	l := lineWith(t, screen(m), "acme-tt")
	if !strings.Contains(l, " ok ") || !strings.Contains(l, "Acme TT") || !strings.Contains(l, "in 30d") {
		t.Errorf("acme-tt row after the reload: %q", l)
	}
	if !strings.Contains(screen(m), "2 need re-authentication, 1 expiring soon") {
		t.Errorf("summary not updated:\n%s", screen(m))
	}
}

// TestRefreshAndVerifyRun runs the real Cmds against the Manager, on a
// profile that needs no network to answer: never connected.
func TestRefreshAndVerifyRun(t *testing.T) {
	for _, tc := range []struct{ key, note string }{
		{"f", "acme-tt is not connected yet. Press r to connect it."},
		{"v", "acme-tt: no token is stored (never connected, or its token was deleted). Press r to connect it."},
	} {
		m := newTestModel(t, 100, 30)
		selectProfile(t, m, "acme-tt")
		cmd := press(m, tc.key)
		if m.op == nil || !strings.Contains(screen(m), "acme-tt") {
			t.Fatalf("%s: no operation", tc.key)
		}
		msgs := runCmds(cmd)
		find[spinner.TickMsg](t, msgs)
		_, reload := m.Update(find[opDoneMsg](t, msgs))
		if m.op != nil || m.note.text != tc.note {
			t.Errorf("%s: note %q", tc.key, m.note.text)
		}
		find[listMsg](t, runCmds(reload))
	}
}

func TestOutcomeNotes(t *testing.T) {
	exp := testNow.Add(time.Hour)
	cases := []struct {
		msg  opDoneMsg
		kind noteKind
		text string
	}{
		{opDoneMsg{kind: opReauth, name: "p", err: errors.New("timed out after 5m0s")}, noteErr, "Sign-in to p failed: timed out after 5m0s"},
		{opDoneMsg{kind: opReauth, name: "p"}, noteOK, "Connected p."},
		{opDoneMsg{kind: opRefresh, name: "p", renew: []profiles.RenewResult{{Outcome: profiles.OutcomeRenewed, ExpiresAt: &exp}}}, noteOK, "Renewed p; the new access token expires in 1h."},
		{opDoneMsg{kind: opRefresh, name: "p", renew: []profiles.RenewResult{{Outcome: profiles.OutcomeNeedsReauth, Reason: auth.ReasonPasswordChanged, Message: "the account's password or username changed"}}}, noteErr, "p needs re-authentication (password_changed: the account's password or username changed). Press r to sign in again."},
		{opDoneMsg{kind: opRefresh, name: "p", renew: []profiles.RenewResult{{Outcome: profiles.OutcomeFailed, Message: "token endpoint: 503\x1b[31m"}}}, noteErr, "Refreshing p failed: token endpoint: 503"},
		{opDoneMsg{kind: opRefresh, name: "p", err: context.Canceled}, noteWarn, "Refresh of p cancelled."},
		{opDoneMsg{kind: opVerify, name: "p", verify: []profiles.VerifyResult{{Valid: true, Check: "introspection"}}}, noteOK, "The network confirms p's grant (introspection)."},
		{opDoneMsg{kind: opVerify, name: "p", verify: []profiles.VerifyResult{{Reason: auth.ReasonAccessRevoked, Message: "access to the app was removed or revoked"}}}, noteErr, "The network rejected p (access_revoked: access to the app was removed or revoked). Press r to sign in again."},
		{opDoneMsg{kind: opVerify, name: "p", verify: []profiles.VerifyResult{{Failed: true, Message: "network down"}}}, noteWarn, "Could not verify p: network down"},
	}
	for _, c := range cases {
		got := outcome(c.msg, false, testNow)
		if got.kind != c.kind || got.text != c.text {
			t.Errorf("outcome(%+v) = %+v, want %v %q", c.msg, got, c.kind, c.text)
		}
	}
}

func TestDetailPane(t *testing.T) {
	m := newTestModel(t, 100, 30)
	selectProfile(t, m, "acme-li") // access revoked
	press(m, "enter")
	scr := screen(m)
	for _, want := range []string{
		"Status           needs_reauth (access_revoked)",
		"Why              access to the app was removed or revoked",
		"What to do       Re-authenticate: press r (sbctl reauth acme-li).",
		"Account          Acme LI",
		"Connection ends  not known to expire",
		"Access token     no expiry given",
		"Refresh token",
		"esc back",
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("detail lacks %q:\n%s", want, scr)
		}
	}
	// Moving in the detail pane shows the next profile.
	press(m, "j")
	if !strings.Contains(screen(m), "Connect it: press r (sbctl reauth acme-tt).") {
		t.Errorf("detail did not follow the selection:\n%s", screen(m))
	}
	press(m, "esc")
	if m.showing || !strings.Contains(screen(m), "NAME") {
		t.Errorf("esc did not go back to the table:\n%s", screen(m))
	}
	// r works from the detail pane too, on the profile shown.
	press(m, "enter")
	press(m, "r")
	if m.op == nil || m.op.name != "acme-tt" {
		t.Errorf("r in the detail pane: %+v", m.op)
	}
}

func TestHelpToggle(t *testing.T) {
	m := newTestModel(t, 100, 30)
	if strings.Contains(screen(m), "page up") {
		t.Fatal("full help shown from the start")
	}
	press(m, "?")
	scr := screen(m)
	for _, want := range []string{"page up", "reauth", "verify", "filter", "group", "quit"} {
		if !strings.Contains(scr, want) {
			t.Errorf("full help lacks %q:\n%s", want, scr)
		}
	}
	press(m, "?")
	if strings.Contains(screen(m), "page up") {
		t.Error("? did not close the full help")
	}
}

func TestQuitAndInterrupt(t *testing.T) {
	m := newTestModel(t, 100, 30)
	press(m, "/")
	if cmd := press(m, "q"); cmd != nil && cmd() == tea.Quit() {
		t.Fatal("q quit while typing a filter")
	}
	press(m, "esc")
	cmd := press(m, "q")
	if cmd == nil || cmd() != tea.Quit() {
		t.Fatal("q did not quit")
	}
	if m.ctx.Err() == nil {
		t.Error("quitting did not cancel the model's operations")
	}

	m = newTestModel(t, 100, 30)
	press(m, "/")
	cmd = press(m, "ctrl+c")
	if cmd == nil || cmd() != tea.Interrupt() {
		t.Fatal("ctrl+c did not interrupt (even while typing)")
	}
}

func TestBackgroundColourPicksStyles(t *testing.T) {
	m := newTestModel(t, 100, 30)
	if !m.styles.isDark {
		t.Fatal("default styles are not the dark ones")
	}
	m.Update(tea.BackgroundColorMsg{Color: color.White})
	if m.styles.isDark || m.table.styles.isDark || m.detail.styles.isDark {
		t.Error("a white background did not give the light styles to every child")
	}
	m.Update(tea.BackgroundColorMsg{Color: color.Black})
	if !m.styles.isDark {
		t.Error("a black background did not give the dark styles")
	}
}

func TestListErrors(t *testing.T) {
	m := New(fixtureManager(t), Options{})
	t.Cleanup(func() { m.stop(time.Second) })
	m.Update(listMsg{err: errors.New("state file: permission denied")})
	scr := screen(m)
	if !strings.Contains(scr, "Could not list the profiles: state file: permission denied") {
		t.Errorf("error not shown:\n%s", scr)
	}
	empty := newManager(t, "providers: {}\n", nil, time.Now)
	m = New(empty, Options{})
	t.Cleanup(func() { m.stop(time.Second) })
	m.Update(loadList(m.ctx, empty)())
	if !strings.Contains(screen(m), "No profiles yet") {
		t.Errorf("empty config:\n%s", screen(m))
	}
}

// TestNarrowTerminal: below 80 columns provider and reason go, then the
// account; names stay whole; nothing is wider than the terminal.
func TestNarrowTerminal(t *testing.T) {
	m := newTestModel(t, 100, 30)
	for _, tc := range []struct {
		width        int
		shown, gone  []string
		namesAreKept bool
	}{
		{100, []string{"PROVIDER", "ACCOUNT", "REASON", "EXPIRES"}, nil, true},
		// Provider and account go first; status, expiry and reason stay
		// while they fit, then the reason folds into the status cell.
		{70, []string{"ACCOUNT", "EXPIRES", "REASON"}, []string{"PROVIDER"}, true},
		{40, []string{"STATUS"}, []string{"PROVIDER", "REASON", "ACCOUNT", "EXPIRES"}, true},
		{24, []string{"NAME"}, []string{"EXPIRES"}, false},
		{8, nil, nil, false},
	} {
		m.Update(tea.WindowSizeMsg{Width: tc.width, Height: 20})
		scr := screen(m)
		for i, l := range strings.Split(scr, "\n") {
			if w := ansi.StringWidth(l); w > tc.width {
				t.Errorf("width %d: line %d is %d cells: %q", tc.width, i, w, l)
			}
		}
		hdr := strings.Split(scr, "\n")[1]
		for _, c := range tc.shown {
			if !strings.Contains(hdr, c) {
				t.Errorf("width %d: header lacks %s: %q", tc.width, c, hdr)
			}
		}
		for _, c := range tc.gone {
			if strings.Contains(hdr, c) {
				t.Errorf("width %d: header still has %s: %q", tc.width, c, hdr)
			}
		}
		if tc.namesAreKept {
			for _, n := range fixtureNames {
				if !strings.Contains(scr, n) {
					t.Errorf("width %d: name %s missing:\n%s", tc.width, n, scr)
				}
			}
		}
	}
}

// TestTinyTerminal: a terminal too small for everything still draws
// without panicking, within its width, with the selected row visible.
func TestTinyTerminal(t *testing.T) {
	m := newTestModel(t, 100, 30)
	press(m, "r") // the sign-in box takes room too
	m.Update(opEventMsg{id: m.op.id, opEvent: opEvent{url: "http://127.0.0.1:1/authorize?state=x"}})
	m.Update(opEventMsg{id: m.op.id, opEvent: opEvent{line: "Could not open a browser"}})
	for _, size := range [][2]int{{30, 4}, {12, 3}, {1, 1}, {0, 0}} {
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		w, _ := m.size()
		for _, l := range strings.Split(screen(m), "\n") {
			if ansi.StringWidth(l) > w {
				t.Errorf("%v: line wider than %d: %q", size, w, l)
			}
		}
	}
}

// TestWideCharactersAlign: every column starts at the same display column
// on every row, whatever mix of Japanese and ASCII precedes it.
func TestWideCharactersAlign(t *testing.T) {
	m := newTestModel(t, 100, 30)
	lines := strings.Split(screen(m), "\n")
	header := lines[1]
	colOf := func(line, s string) int {
		i := strings.Index(line, s)
		if i < 0 {
			t.Fatalf("%q not in %q", s, line)
		}
		return ansi.StringWidth(line[:i])
	}
	statusCol, accountCol := colOf(header, "STATUS"), colOf(header, "ACCOUNT")
	for _, v := range m.table.rows {
		l := lineWith(t, strings.Join(lines[2:], "\n"), v.Name)
		if got := colOf(l, " "+string(v.Status)+" ") + 1; got != statusCol {
			t.Errorf("%s: status at column %d, header at %d:\n%s\n%s", v.Name, got, statusCol, header, l)
		}
		if got := colOf(l, "  "+profiles.Dash(deref(v.Account))) + 2; got != accountCol {
			t.Errorf("%s: account at column %d, header at %d", v.Name, got, accountCol)
		}
	}
	// Cutting a wide name never leaves half a character.
	for w := 1; w <= 16; w++ {
		if got := fit("広報アカウント", w); ansi.StringWidth(got) != w {
			t.Errorf("fit(…, %d) = %q, %d cells", w, got, ansi.StringWidth(got))
		}
	}
	if got := fit("広報アカウント", 5); got != "広報…" {
		t.Errorf("fit 5 = %q", got)
	}
}

func TestRelTime(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Second, "in <1m"}, {-30 * time.Second, "just now"}, {5 * time.Minute, "in 5m"},
		{-2 * time.Hour, "2h ago"}, {47*time.Hour + 59*time.Minute, "in 2d"}, {-400 * 24 * time.Hour, "1y ago"},
	} {
		if got := profiles.RelativeTime(testNow.Add(c.d), testNow); got != c.want {
			t.Errorf("profiles.RelativeTime(%s) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestCleanStripsControls(t *testing.T) {
	if got := clean("Acme\x1b[2J\x1b]0;pwned\x07 X\r\nY\x00"); got != "Acme X Y" {
		t.Errorf("clean = %q", got)
	}
}
