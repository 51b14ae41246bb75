package cmd

import (
	"testing"

	"github.com/sbctl/sbctl/profiles"
)

// The CLI phrases the domain's advice (profiles.AdviceFor) as commands;
// the sentences are the ones `profiles show` has always printed.
func TestWhatToDoPhrasesTheDomainsAdvice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		view profiles.View
		want string
	}{
		{profiles.View{Name: "p", Status: profiles.StatusNotConnected}, "Connect it: sbctl reauth p"},
		{profiles.View{Name: "p", Status: profiles.StatusExpired}, "Re-authenticate: sbctl reauth p"},
		{profiles.View{Name: "p", Status: profiles.StatusNeedsReauth}, "Re-authenticate: sbctl reauth p"},
		{profiles.View{Name: "p", Status: profiles.StatusExpiring, Renewable: true}, "Renew it before it ends: sbctl refresh p (or sbctl reauth p)"},
		{profiles.View{Name: "p", Status: profiles.StatusExpiring}, "Re-authenticate before it ends: sbctl reauth p"},
		{profiles.View{Name: "p", Status: profiles.StatusUnknown}, "The last check could not be completed: sbctl profiles verify p asks again."},
		{profiles.View{Name: "p", Status: profiles.StatusOK}, ""},
	} {
		if got := whatToDo(tc.view); got != tc.want {
			t.Errorf("%s: %q\nwant %q", tc.view.Status, got, tc.want)
		}
	}
}

// Every tone has its own style, and the neutral one adds nothing.
func TestToneStyles(t *testing.T) {
	t.Parallel()
	st := newStyles()
	seen := map[string]profiles.Tone{}
	for _, tone := range []profiles.Tone{profiles.ToneGood, profiles.ToneWarn, profiles.ToneBad, profiles.ToneMuted} {
		r := st.tone(tone).Render("x")
		if r == "x" {
			t.Errorf("tone %d renders without a style", tone)
		}
		if other, dup := seen[r]; dup {
			t.Errorf("tones %d and %d render alike (%q)", other, tone, r)
		}
		seen[r] = tone
	}
	if r := st.tone(profiles.ToneNeutral).Render("x"); r != "x" {
		t.Errorf("the neutral tone renders %q", r)
	}
}
