package tui

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider"
	"github.com/sbctl/sbctl/profiles"
)

// TestOutcomeWording: each result in the TUI's words (D9, D13).
func TestOutcomeWording(t *testing.T) {
	exp := testNow.Add(2 * 24 * time.Hour)
	cases := []struct {
		name string
		msg  opDoneMsg
		kind noteKind
		text string
	}{
		{"never connected, refreshed", opDoneMsg{kind: opRefresh, name: "p", renew: []profiles.RenewResult{{Outcome: profiles.OutcomeNeedsReauth, Message: "never connected"}}},
			noteWarn, "p is not connected yet. Press r to connect it."},
		{"no refresh token: never renewable", opDoneMsg{kind: opRefresh, name: "p", renew: []profiles.RenewResult{{Outcome: profiles.OutcomeNotRenewable, Message: "legacy issued no refresh token: run sbctl reauth", ExpiresAt: &exp}}},
			noteWarn, "p cannot be renewed: legacy issued no refresh token. Its access token works until it expires in 2d; press r before then to sign in again."},
		{"too young: renewable later", opDoneMsg{kind: opRefresh, name: "p", renew: []profiles.RenewResult{{Outcome: profiles.OutcomeNotRenewable, Message: "instagram tokens can be refreshed only when at least 24 h old: try again after 2026-03-02T10:00:00Z"}}},
			noteWarn, "p cannot be renewed yet: instagram tokens can be refreshed only when at least 24 h old: try again after 2026-03-02T10:00:00Z."},
		{"needs reauth, no CLI advice", opDoneMsg{kind: opRefresh, name: "p", renew: []profiles.RenewResult{{Outcome: profiles.OutcomeNeedsReauth, Reason: auth.ReasonAccessRevoked, Message: "sbx: sbx: the grant is no longer valid; re-authenticate with `sbctl reauth`"}}},
			noteErr, "p needs re-authentication (access_revoked: sbx: the grant is no longer valid). Press r to sign in again."},
		{"interrupted", opDoneMsg{kind: opRefresh, name: "p", renew: []profiles.RenewResult{{Outcome: profiles.OutcomeFailed, Interrupted: true}}},
			noteWarn, "Refresh of p was not started (interrupted); nothing changed."},
		{"may have lost the grant", opDoneMsg{kind: opRefresh, name: "p", renew: []profiles.RenewResult{{Outcome: profiles.OutcomeFailed, MayHaveLost: true}}},
			noteErr, "p: sbctl stopped while its renewal was on its way, so the network may have replaced its refresh token. Press v to check it, and r if the grant is gone."},
		{"another account than before", opDoneMsg{kind: opReauth, name: "acme-yt", reauth: profiles.ReauthResult{Account: provider.Account{ID: "u2", Name: "sandbox-user"}, PreviousAccount: "yt-user"}},
			noteWarn, "Connected acme-yt as sandbox-user — it was connected as yt-user before. If that is the wrong account, press r and sign in as yt-user."},
		{"same account", opDoneMsg{kind: opReauth, name: "acme-yt", reauth: profiles.ReauthResult{Account: provider.Account{ID: "u1", Name: "yt-user"}}},
			noteOK, "Connected acme-yt as yt-user."},
		{"sign-in error chain", opDoneMsg{kind: opReauth, name: "b", err: errors.New(`provider "blackhole": provider "blackhole": auth_url must use https`)},
			noteErr, `Sign-in to b failed: provider "blackhole": auth_url must use https`},
	}
	for _, c := range cases {
		got := outcome(c.msg, false, testNow)
		if got.kind != c.kind || got.text != c.text {
			t.Errorf("%s:\n got %v %q\nwant %v %q", c.name, got.kind, got.text, c.kind, c.text)
		}
	}
}

// TestRefreshOfNeverConnectedThroughTheModel: f and v on a profile with no
// token run the real Cmds and say "Press r to connect it" alike.
func TestRefreshOfNeverConnectedThroughTheModel(t *testing.T) {
	for _, tc := range []struct{ key, note string }{
		{"f", "acme-tt is not connected yet. Press r to connect it."},
		{"v", "acme-tt: no token is stored (never connected, or its token was deleted). Press r to connect it."},
	} {
		m := newTestModel(t, 100, 30)
		d := newDriver(t, m)
		selectProfile(t, m, "acme-tt")
		d.press(tc.key)
		d.until(tc.key+" to end", func() bool { return m.op == nil }, 10*time.Second)
		if m.note.text != tc.note || m.note.kind != noteWarn {
			t.Errorf("%s: note %+v", tc.key, m.note)
		}
	}
}

// TestPasteGoesToTheFilterWithoutAField: with no paste field, a bracketed
// paste still reaches the filter input.
func TestPasteGoesToTheFilterWithoutAField(t *testing.T) {
	m := newTestModel(t, 100, 30)
	press(m, "/")
	m.Update(tea.PasteMsg{Content: "legacy"})
	if m.filter.Value() != "legacy" {
		t.Errorf("filter %q after a paste", m.filter.Value())
	}
}

// TestStartKeepsLastingNotes: a new action clears a success note (it
// describes what ran before) but not a warning, which waits for esc.
func TestStartKeepsLastingNotes(t *testing.T) {
	m := newTestModel(t, 100, 30)
	selectProfile(t, m, "acme-tt")
	m.setNote(noteOK, "Renewed acme-x.")
	press(m, "r")
	if m.note.text != "" {
		t.Errorf("a success note stayed over a new sign-in: %q", m.note.text)
	}
	op := m.op
	m.Update(opDoneMsg{id: op.id, kind: opReauth, name: op.name, names: op.names, err: context.Canceled})
	m.setNote(noteWarn, "Connected acme-x as B — it was connected as A before.")
	press(m, "r")
	if !strings.Contains(m.note.text, "it was connected as A before") {
		t.Errorf("a warning went when an action started: %q", m.note.text)
	}
}

// TestLateMessagesOfAnEndedSignIn: events, countdown ticks and paste
// answers of an operation that ended change nothing.
func TestLateMessagesOfAnEndedSignIn(t *testing.T) {
	m := newTestModel(t, 100, 30)
	selectProfile(t, m, "acme-tt")
	press(m, "r")
	op := m.op
	m.Update(opDoneMsg{id: op.id, kind: opReauth, name: op.name, names: op.names, err: context.Canceled})
	for _, msg := range []tea.Msg{
		opEventMsg{id: op.id, opEvent: opEvent{url: "http://x"}},
		countdownMsg{id: op.id, now: testNow},
		pasteSentMsg{id: op.id},
		opEventMsg{id: op.id, opEvent: opEvent{progress: &opProgress{done: 1, total: 1}}},
	} {
		if _, cmd := m.Update(msg); cmd != nil || m.op != nil {
			t.Errorf("%T of an ended sign-in: cmd %v, op %v", msg, cmd != nil, m.op)
		}
	}
}

// TestEnterSendsTypedCode: a code typed into the paste field is written
// into the flow's stdin with a newline when enter is pressed, and the
// field empties; enter on an empty field sends nothing.
func TestEnterSendsTypedCode(t *testing.T) {
	m := newTestModel(t, 100, 30)
	op := opWithURL(t, m, profiles.SignInManual, longURL)
	if cmd := press(m, "enter"); cmd != nil || !strings.Contains(op.signIn.problem, "Nothing to send yet") {
		t.Errorf("enter on an empty field: cmd %v, problem %q", cmd != nil, op.signIn.problem)
	}
	typeText(m, "sbx-ac-123")
	// Stand in for the flow's side of the pipe (the real one is the
	// sign-in's, not started here).
	pr, pw := io.Pipe()
	defer pr.Close()
	op.signIn.stdin = pw
	read := make(chan string, 1)
	go func() {
		buf := make([]byte, 64)
		n, _ := pr.Read(buf)
		read <- string(buf[:n])
	}()
	cmd := press(m, "enter")
	if cmd == nil || op.signIn.paste.Value() != "" || !op.signIn.sending {
		t.Fatalf("enter: cmd %v, field %q, sending %v", cmd != nil, op.signIn.paste.Value(), op.signIn.sending)
	}
	if msg := cmd(); msg.(pasteSentMsg).err != nil {
		t.Fatal(msg)
	}
	if got := <-read; got != "sbx-ac-123\n" {
		t.Errorf("the flow read %q", got)
	}
	if strings.Contains(screen(m), "sbx-ac-123") {
		t.Error("the sent code is still on the screen")
	}
}
