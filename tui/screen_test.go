package tui

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
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
	want := `sbctl test  all profiles                                                                         2/6
  NAME            PROVIDER  ACCOUNT     STATUS         EXPIRES  REASON
  acme-x          acme      Acme X      ok             in 30d
> 広報アカウント  acme      広報チーム  ok             in 20d
  acme-fb         legacy    Acme FB     expiring       in 2d
  acme-ig         legacy    Acme IG     expired        1d ago   expired
  acme-li         acme      Acme LI     needs_reauth   -        access_revoked
  acme-tt         acme      -           not_connected  -




















3 need re-authentication, 1 expiring soon
r reauth • f refresh • v verify • enter details • / filter • g group • ? more keys • q quit`
	if got != want {
		t.Errorf("screen:\n%s\nwant:\n%s", got, want)
	}
}

func TestScreenResizeToNarrow(t *testing.T) {
	m := New(fixtureManager(t), Options{Title: "sbctl test"})
	tm := startProgram(t, m, 100, 30)
	waitFor(t, tm, "3 need re-authentication", 5*time.Second)
	tm.Send(tea.WindowSizeMsg{Width: 40, Height: 16})
	tm.Send(keyMsg("g"))
	waitFor(t, tm, "group marketing", 5*time.Second)
	got := quit(t, tm)
	want := `sbctl test  group marketing          1/4
  NAME            STATUS    EXPIRES
> acme-x          ok        in 30d
  広報アカウント  ok        in 20d
  acme-fb         expiring  in 2d
  acme-ig         expired   1d ago







1 need re-authentication, 1 expiring
soon
r reauth • f refresh • v verify …`
	if got != want {
		t.Errorf("screen:\n%s\nwant:\n%s", got, want)
	}
}
