package tui

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/profiles"
)

// Whole-screen tests: the model runs in a real program at a fixed size
// with colours off; the final view, stripped of escape sequences, is what a
// person would read.

func startProgram(t *testing.T, m *Model, w, h int) *teatest.TestModel {
	t.Helper()
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	t.Cleanup(func() { m.stop(5 * time.Second) })
	return tm
}

// waitFor waits until the program has drawn s: on the screen, or in the
// window title (which is written whole whenever it changes, while the
// screen is written as a diff of cells).
func waitFor(t *testing.T, tm *teatest.TestModel, s string, d time.Duration) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte(s)) || strings.Contains(ansi.Strip(string(b)), s)
	}, teatest.WithDuration(d), teatest.WithCheckInterval(10*time.Millisecond))
}

// quit presses q and returns the last screen.
func quit(t *testing.T, tm *teatest.TestModel) string {
	t.Helper()
	tm.Send(keyMsg("q"))
	return screen(tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)))
}

func TestScreenFixture(t *testing.T) {
	m := New(fixtureManager(t), Options{Title: "sbctl test"})
	tm := startProgram(t, m, 100, 30)
	waitFor(t, tm, "3 need re-authentication", 5*time.Second)
	tm.Send(keyMsg("j"))
	got := quit(t, tm)
	checkGolden(t, "fixture-100x30-program", got)
	if l := lineWith(t, got, "acme-li"); !strings.HasPrefix(l, ">") {
		t.Errorf("j did not select the second row: %q", l)
	}
}

func TestScreenResizeToNarrow(t *testing.T) {
	m := New(fixtureManager(t), Options{Title: "sbctl test"})
	tm := startProgram(t, m, 100, 30)
	waitFor(t, tm, "3 need re-authentication", 5*time.Second)
	tm.Send(tea.WindowSizeMsg{Width: 40, Height: 16})
	tm.Send(keyMsg("tab"))
	waitFor(t, tm, "group marketing", 5*time.Second)
	checkGolden(t, "marketing-40x16-program", quit(t, tm))
}

// wideConfig has what breaks naive layouts: an 88-character name, Japanese
// names (two cells a character) and a long account, beside red rows.
const wideConfig = `providers:
  acme:
    type: oidc
    issuer: https://id.acme.example
    client_id: sbctl
groups:
  marketing: {}
  広報: {}
profiles:
  a-very-long-profile-name-for-the-spring-campaign-2027-instagram-brand-account-number-one:
    provider: acme
    groups: [marketing]
  広報アカウント:
    provider: acme
    groups: [広報]
  日本語の長いプロファイル名前テスト用アカウント東京本社:
    provider: acme
    groups: [広報]
  revoked-fb:
    provider: acme
    groups: [marketing]
  pw-changed-ig:
    provider: acme
    groups: [marketing]
  never-connected:
    provider: acme
`

func wideRecords() map[string]*profiles.Record {
	at := func(d time.Duration) *time.Time { t := testNow.Add(d); return &t }
	day := 24 * time.Hour
	return map[string]*profiles.Record{
		"a-very-long-profile-name-for-the-spring-campaign-2027-instagram-brand-account-number-one": {Connected: true, Account: "spring-campaign-2027-brand-account-display-name@example.com", HasRefresh: true, ExpiresAt: at(time.Hour), RefreshExpiresAt: at(30 * day)},
		"広報アカウント": {Connected: true, Account: "広報部 公式アカウント", HasRefresh: true, ExpiresAt: at(time.Hour), RefreshExpiresAt: at(20 * day)},
		"日本語の長いプロファイル名前テスト用アカウント東京本社": {Connected: true, HasRefresh: true, ExpiresAt: at(time.Hour), RefreshExpiresAt: at(2 * day)},
		"revoked-fb":    {Connected: true, Account: "revoked-fb-user", HasRefresh: true, NeedsReauth: true, Reason: auth.ReasonAccessRevoked},
		"pw-changed-ig": {Connected: true, Account: "pw-changed-ig-user", HasRefresh: true, NeedsReauth: true, Reason: auth.ReasonPasswordChanged},
	}
}

// TestScreensAtEverySize: the whole screen, in ASCII (what a person
// reads) and with colour (what the terminal gets), at the sizes people use,
// down to 40×15; no line is wider than the screen, and every red row says
// why it is red.
func TestScreensAtEverySize(t *testing.T) {
	for _, c := range []struct {
		name          string
		config        string
		records       map[string]*profiles.Record
		width, height int
	}{
		{"fixture-100x30", fixtureConfig, fixtureRecords(), 100, 30},
		{"wide-80x24", wideConfig, wideRecords(), 80, 24},
		{"wide-100x30", wideConfig, wideRecords(), 100, 30},
		{"fixture-60x20", fixtureConfig, fixtureRecords(), 60, 20},
		{"wide-60x20", wideConfig, wideRecords(), 60, 20},
		{"fixture-40x15", fixtureConfig, fixtureRecords(), 40, 15},
	} {
		t.Run(c.name, func(t *testing.T) {
			mgr := newManager(t, c.config, c.records, func() time.Time { return testNow })
			m := New(mgr, Options{Title: "sbctl test"})
			t.Cleanup(func() { m.stop(5 * time.Second) })
			m.Update(tea.WindowSizeMsg{Width: c.width, Height: c.height})
			m.Update(loadList(m.ctx, mgr)())
			coloured := m.View().Content
			plain := ansi.Strip(coloured)
			checkGolden(t, c.name+".ascii", plain)
			checkGolden(t, c.name+".ansi", coloured)
			lines := strings.Split(plain, "\n")
			if len(lines) != c.height {
				t.Errorf("%d lines, want %d", len(lines), c.height)
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > c.width {
					t.Errorf("line %d is %d cells wide: %q", i, w, l)
				}
			}
			for _, v := range m.all {
				if v.Status.NeedsAction() && v.Reason != nil {
					if l := lineWith(t, plain, v.Name[:min(len(v.Name), 12)]); !strings.Contains(l, *v.Reason) && !strings.Contains(l, "…") {
						t.Errorf("the red row of %s does not say why: %q", v.Name, l)
					}
				}
			}
		})
	}
}

// updating reports -update (the flag teatest's golden package defines):
// go test ./tui -run Screen -update rewrites the golden screens. Read the
// diff before committing it.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "screens", name+".golden")
	if updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("screen %s differs from %s:\n%s\nwant:\n%s", name, path, got, want)
	}
}
