package tui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/profiles"
)

// testNow is the fixed clock of the fixture, so relative times and the
// whole screen are the same on every run.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const fixtureConfig = `providers:
  acme:
    type: oidc
    issuer: https://id.acme.example
    client_id: sbctl
  legacy:
    type: oauth2
    auth_url: https://legacy.example/oauth/authorize
    token_url: https://legacy.example/oauth/token
    client_id: legacy-cli
groups:
  marketing:
    description: Brand accounts
  support:
    description: Customer care
profiles:
  acme-x:
    provider: acme
    groups: [marketing]
  広報アカウント:
    provider: acme
    groups: [marketing]
  acme-fb:
    provider: legacy
    groups: [marketing]
  acme-ig:
    provider: legacy
    groups: [marketing]
  acme-li:
    provider: acme
    groups: [support]
  acme-tt:
    provider: acme
    groups: [support]
`

// fixtureRecords put the fixture's profiles in every status: ok (two, one
// with a Japanese name and account), expiring, expired, needs_reauth and
// not_connected (acme-tt has no record).
func fixtureRecords() map[string]*profiles.Record {
	at := func(d time.Duration) *time.Time { t := testNow.Add(d); return &t }
	day := 24 * time.Hour
	return map[string]*profiles.Record{
		"acme-x":  {Connected: true, Account: "Acme X", AccountID: "x-1", HasRefresh: true, ExpiresAt: at(time.Hour), RefreshExpiresAt: at(30 * day), ConnectedAt: at(-day)},
		"広報アカウント": {Connected: true, Account: "広報チーム", HasRefresh: true, ExpiresAt: at(time.Hour), RefreshExpiresAt: at(20 * day)},
		"acme-fb": {Connected: true, Account: "Acme FB", ExpiresAt: at(2 * day)},
		"acme-ig": {Connected: true, Account: "Acme IG", ExpiresAt: at(-26 * time.Hour)},
		"acme-li": {Connected: true, Account: "Acme LI", HasRefresh: true, NeedsReauth: true, Reason: auth.ReasonAccessRevoked},
	}
}

// newManager writes a config and a state file in a temp dir and opens a
// Manager on a plain-file token store (never the user's keychain).
func newManager(t testing.TB, config string, records map[string]*profiles.Record, now func() time.Time) *profiles.Manager {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	mgr, err := profiles.Open(profiles.Options{
		ConfigPath: cfgPath,
		StateDir:   filepath.Join(dir, "state"),
		Store:      store.NewFile(filepath.Join(dir, "data"), nil),
		Now:        now,
	})
	if err != nil {
		t.Fatal(err)
	}
	writeRecords(t, mgr, records)
	return mgr
}

func writeRecords(t testing.TB, mgr *profiles.Manager, records map[string]*profiles.Record) {
	t.Helper()
	err := mgr.State.Update(context.Background(), func(s *profiles.State) error {
		for name, rec := range records {
			s.Profiles[name] = rec
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func fixtureManager(t testing.TB) *profiles.Manager {
	return newManager(t, fixtureConfig, fixtureRecords(), func() time.Time { return testNow })
}

// newTestModel is the fixture's model at a size, with the list loaded the
// way the program would: by running the Cmd and feeding its message back.
func newTestModel(t *testing.T, width, height int) *Model {
	t.Helper()
	mgr := fixtureManager(t)
	m := New(mgr, Options{Title: "sbctl test"})
	m.work.fadeAfter = time.Millisecond // runCmds runs a note's fade tick
	t.Cleanup(func() { m.stop(5 * time.Second) })
	m.Update(tea.WindowSizeMsg{Width: width, Height: height})
	m.Update(loadList(m.ctx, mgr)())
	return m
}

// keyMsg builds the key press the terminal would send for a name as
// tea.KeyPressMsg.String() spells it.
func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "ctrl+r":
		return tea.KeyPressMsg{Code: 'r', Mod: tea.ModCtrl}
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("keyMsg: unknown key " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// press sends keys one by one and returns the last Cmd.
func press(m *Model, keys ...string) tea.Cmd {
	var cmd tea.Cmd
	for _, k := range keys {
		_, cmd = m.Update(keyMsg(k))
	}
	return cmd
}

// typeText types text into whatever has the keyboard.
func typeText(m *Model, s string) {
	for _, r := range s {
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// screen is the view as a person sees it: no escape sequences, no
// trailing blanks.
func screen(m tea.Model) string {
	lines := strings.Split(ansi.Strip(m.View().Content), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// rowNames are the profile names in the table, top to bottom.
func rowNames(m *Model) []string {
	var out []string
	for _, v := range m.table.rows {
		out = append(out, v.Name)
	}
	return out
}

func selectedName(m *Model) string {
	v, _ := m.table.Selected()
	return v.Name
}

// lineWith is the first screen line containing s.
func lineWith(t *testing.T, scr, s string) string {
	t.Helper()
	for _, l := range strings.Split(scr, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	t.Fatalf("no line contains %q:\n%s", s, scr)
	return ""
}

// selectProfile moves the selection to the named row with the keys a
// person would press, so tests do not depend on the sort order.
func selectProfile(t *testing.T, m *Model, name string) {
	t.Helper()
	press(m, "home")
	for range m.table.Len() {
		if selectedName(m) == name {
			return
		}
		press(m, "j")
	}
	t.Fatalf("no row %q among %v", name, rowNames(m))
}
