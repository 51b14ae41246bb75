package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/sbctl/sbctl/profiles"
)

// TestDetailPaneIsTheDomainsDetails: the pane lays out profiles.Details,
// label for label and value for value, so it says what `profiles show`
// says ("Access token", not a wording of its own).
func TestDetailPaneIsTheDomainsDetails(t *testing.T) {
	m := newTestModel(t, 200, 40) // wide and tall: no value wraps, nothing is cut
	for i := range fixtureNames {
		if i > 0 {
			press(m, "j")
		}
		press(m, "enter")
		scr := screen(m)
		v, _ := m.table.Selected()
		for _, f := range profiles.Details(v, m.now) {
			want := "  " + fit(f.Label, detailLabelWidth) + clean(f.Value)
			if !strings.Contains("\n"+scr+"\n", "\n"+want+"\n") {
				t.Errorf("%s: no line %q:\n%s", v.Name, want, scr)
			}
		}
		press(m, "esc")
	}
}

// TestDetailAccountWithOnlyAnID: an account the network named only by its
// id reads "id X", as in the CLI.
func TestDetailAccountWithOnlyAnID(t *testing.T) {
	mgr := newManager(t, fixtureConfig, map[string]*profiles.Record{
		"acme-x": {Connected: true, AccountID: "x-9", HasRefresh: true},
	}, func() time.Time { return testNow })
	m := New(mgr, Options{})
	t.Cleanup(func() { m.stop(time.Second) })
	m.Update(loadList(m.ctx, mgr)())
	selectProfile(t, m, "acme-x")
	press(m, "enter")
	if l := lineWith(t, screen(m), "Account"); l != "  Account          id x-9" {
		t.Errorf("account line %q", l)
	}
}

// TestWhatToDoPhrasesTheDomainsAdvice: each of the domain's actions, with
// this screen's key and the command alongside.
func TestWhatToDoPhrasesTheDomainsAdvice(t *testing.T) {
	for _, c := range []struct {
		v    profiles.View
		want string
	}{
		{profiles.View{Name: "p", Status: profiles.StatusNotConnected}, "Connect it: press r (sbctl reauth p)."},
		{profiles.View{Name: "p", Status: profiles.StatusExpired}, "Re-authenticate: press r (sbctl reauth p)."},
		{profiles.View{Name: "p", Status: profiles.StatusExpiring, Renewable: true}, "Renew it before it ends: press f (sbctl refresh p), or r to sign in again."},
		{profiles.View{Name: "p", Status: profiles.StatusExpiring}, "Re-authenticate before it ends: press r (sbctl reauth p)."},
		{profiles.View{Name: "p", Status: profiles.StatusUnknown}, "The last check could not be completed: press v to check it again."},
		{profiles.View{Name: "p", Status: profiles.StatusOK}, ""},
	} {
		if got := whatToDo(c.v); got != c.want {
			t.Errorf("%s: %q, want %q", c.v.Status, got, c.want)
		}
	}

	// The hint for a reason comes from the domain too (acme-li: access
	// revoked), as a sentence after the action.
	m := newTestModel(t, 100, 30)
	selectProfile(t, m, "acme-li")
	v, _ := m.table.Selected()
	want := "Re-authenticate: press r (sbctl reauth acme-li). The app's access was removed in the network's settings; approve it again."
	if got := whatToDo(v); got != want {
		t.Errorf("acme-li: %q, want %q", got, want)
	}
}
