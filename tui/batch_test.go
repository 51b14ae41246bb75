package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sbctl/sbctl/auth/sandbox"
	"github.com/sbctl/sbctl/auth/sandbox/sandboxtest"
	"github.com/sbctl/sbctl/profiles"
)

// batchWorkspace is a sandbox with four profiles: b1–b3 connected (b3's
// account then revoked at the network), nc never connected.
func batchWorkspace(t *testing.T) (*sandbox.Server, *profiles.Manager) {
	srv := sandboxtest.Start(t, sandbox.Options{})
	cfg := fmt.Sprintf(`providers:
  sbx:
    type: oidc
    issuer: %s
    client_id: test-cli
    scopes: [openid, offline_access, profile]
profiles:
  b1: {provider: sbx}
  b2: {provider: sbx}
  b3: {provider: sbx}
  nc: {provider: sbx}
`, srv.Issuer())
	mgr := newManager(t, cfg, nil, time.Now)
	now := time.Now()
	for _, name := range []string{"b1", "b2", "b3"} {
		tr, err := srv.Issue(sandbox.IssueRequest{ClientID: "test-cli", Subject: "user-" + name, Scopes: []string{"openid", "offline_access", "profile"}})
		if err != nil {
			t.Fatal(err)
		}
		tok := &profiles.ImportedToken{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, TokenType: "Bearer", IDToken: tr.IDToken,
			Expiry: now.Add(time.Duration(tr.ExpiresIn) * time.Second), RefreshExpiry: now.Add(time.Duration(tr.RefreshTokenExpiresIn) * time.Second), ObtainedAt: now}
		if err := mgr.ImportToken(context.Background(), name, tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.RevokeAccount("user-b3"); err != nil {
		t.Fatal(err)
	}
	return srv, mgr
}

// TestBatchRefreshOfMarkedRows: f on four marked rows is one Refresh
// through the domain's pool, with a progress line; the result names each
// profile in the log; the two it fixed are unmarked and the two that need
// a sign-in stay marked, so r follows up: a series of sign-ins, one after
// another, with a verify of the same marks asked for meanwhile queued
// behind the series; b3 signs in as another account, which is flagged.
func TestBatchRefreshOfMarkedRows(t *testing.T) {
	srv, mgr := batchWorkspace(t)
	m := New(mgr, Options{Browser: sandboxtest.ClickThrough(), ReauthTimeout: 20 * time.Second, Title: "sbctl sandbox"})
	t.Cleanup(func() { m.stop(5 * time.Second) })
	d := newDriver(t, m)
	d.update(tea.WindowSizeMsg{Width: 100, Height: 30})
	d.update(loadList(m.ctx, mgr)())
	for _, n := range []string{"nc", "b1", "b3", "b2"} {
		m.toggleMark(n)
	}
	marked := m.markedNames()

	d.press("f")
	op := m.op
	if op == nil || op.kind != opRefresh || !slices.Equal(op.names, marked) || len(op.names) != 4 {
		t.Fatalf("f on four marked rows: %+v", op)
	}
	if !strings.Contains(screen(m), "Refreshing 4 profiles… (esc cancels)") {
		t.Errorf("no progress line:\n%s", screen(m))
	}
	d.until("the refresh", func() bool { return m.op == nil }, 20*time.Second)

	want := "Refresh of 4 profiles: 2 renewed, 2 need re-authentication. The profiles it did not fix stay marked. Press L for each result."
	if m.note.text != want || m.note.kind != noteWarn {
		t.Errorf("note %+v\nwant %q", m.note, want)
	}
	if st := srv.Stats(); st.RefreshRequests != 3 {
		t.Errorf("%d refresh requests, want 3 (b1, b2, b3; nc has nothing to renew)", st.RefreshRequests)
	}
	if got := m.markedNames(); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"b3", "nc"}) {
		t.Errorf("still marked %v, want b3 and nc", got)
	}
	m.toggleLog()
	m.work.log.SetSize(300, 60) // wide: one line per result
	log := ansi.Strip(m.logView())
	for _, w := range []string{"Refresh of 4 profiles: 2 renewed", "✓ Renewed b1", "✓ Renewed b2", "✗ b3 needs re-authentication (access_revoked", "! nc is not connected yet. Press r to connect it."} {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %q:\n%s", w, log)
		}
	}
	m.toggleLog()

	// r on the two still marked: one sign-in, then the other; v asked for
	// meanwhile waits for both.
	d.press("r")
	first := m.op
	if first == nil || first.kind != opReauth || len(m.work.queue) != 1 {
		t.Fatalf("r on two marked rows: op %+v, queue %+v", first, m.work.queue)
	}
	d.press("v") // the marks still stand: verify both once they are signed in
	if !strings.HasPrefix(m.note.text, "Queued: verify 2 profiles (after the sign-in to ") || len(m.work.queue) != 2 {
		t.Fatalf("v while a sign-in runs: note %q, queue %d", m.note.text, len(m.work.queue))
	}
	var order []string
	d.until("the queue to drain", func() bool {
		if m.op != nil && (len(order) == 0 || order[len(order)-1] != m.op.describe()) {
			order = append(order, m.op.describe())
		}
		return m.op == nil && len(m.work.queue) == 0
	}, 40*time.Second)
	if len(order) != 3 || !strings.HasPrefix(order[0], "the sign-in to ") || !strings.HasPrefix(order[1], "the sign-in to ") || order[2] != "the verification of 2 profiles" {
		t.Errorf("ran %q, want two sign-ins then the verify", order)
	}
	if len(m.markedNames()) != 0 {
		t.Errorf("marks left after both sign-ins worked: %v", m.markedNames())
	}
	m.toggleLog()
	m.work.log.SetSize(300, 60)
	log = ansi.Strip(m.logView())
	for _, w := range []string{"  Sign-ins to 2 profiles: 2 connected, 1 to another account than before.\n",
		"it was connected as user-b3 before. If that is the wrong account, press r and sign in as user-b3.",
		"  Verification of 2 profiles: 2 confirmed.\n", "The network confirms b3's grant", "The network confirms nc's grant"} {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %q:\n%s", w, log)
		}
	}
}

// TestMarks: space's and the mark-all key's functions; marks follow names,
// in list order, and a profile that is gone is not acted on.
func TestMarks(t *testing.T) {
	m := newTestModel(t, 100, 30)
	if m.markFunc() != nil {
		t.Error("the table is given a mark column with no marks")
	}
	m.toggleMark("acme-x")
	if f := m.markFunc(); f == nil || !f("acme-x") || f("acme-li") {
		t.Error("markFunc with a mark")
	}
	m.toggleMark("acme-li")
	m.toggleMark("gone")
	if !m.isMarked("acme-x") || m.isMarked("acme-fb") {
		t.Fatal("isMarked")
	}
	if got := m.markedNames(); !slices.Equal(got, []string{"acme-li", "acme-x"}) {
		t.Errorf("marked in list order, existing only: %v", got)
	}
	m.toggleMark("acme-x")
	if m.isMarked("acme-x") {
		t.Error("toggleMark did not unmark")
	}
	shown := rowNames(m)
	m.markAll(shown)
	if len(m.markedNames()) != len(shown) {
		t.Errorf("markAll: %v", m.markedNames())
	}
	m.markAll(shown) // all marked already: the same key undoes it
	if len(m.markedNames()) != 0 {
		t.Errorf("markAll twice: %v", m.markedNames())
	}
	m.markAll([]string{"acme-x"})
	m.clearMarks()
	if len(m.markedNames()) != 0 {
		t.Error("clearMarks")
	}
}

// TestQueueWhileBusy: a second action is queued, not refused; the same
// one twice is said to be queued already; esc on the running one drops
// the queue and says what it dropped.
func TestQueueWhileBusy(t *testing.T) {
	m := newTestModel(t, 100, 30)
	m.work.fadeAfter = time.Hour
	selectProfile(t, m, "acme-tt")
	press(m, "r")
	op := m.op
	m.toggleMark("acme-x")
	m.toggleMark("acme-fb")
	m.toggleMark("acme-ig")
	press(m, "v")
	if m.note.text != "Queued: verify 3 profiles (after the sign-in to acme-tt)." || m.note.kind != noteInfo {
		t.Errorf("note %+v", m.note)
	}
	press(m, "v")
	if m.note.text != "Already queued: verify 3 profiles." || len(m.work.queue) != 1 {
		t.Errorf("the same twice: %q, queue %d", m.note.text, len(m.work.queue))
	}
	if !strings.Contains(screen(m), "Then: verify 3 profiles") {
		t.Errorf("the box does not say what waits:\n%s", screen(m))
	}
	press(m, "esc")
	m.Update(opDoneMsg{id: op.id, kind: opReauth, name: op.name, names: op.names, err: context.Canceled})
	if m.op != nil || len(m.work.queue) != 0 {
		t.Fatalf("after esc: op %+v, queue %v", m.op, m.work.queue)
	}
	if m.note.text != "Sign-in to acme-tt cancelled; nothing changed. Dropped what was queued: verify 3 profiles." {
		t.Errorf("note %q", m.note.text)
	}
	if len(m.markedNames()) != 3 {
		t.Errorf("a cancel must not touch the marks: %v", m.markedNames())
	}
}

// TestQueuedActionOnRemovedProfiles: a queued action whose profiles left
// the config meanwhile does nothing and says so; one that still has some
// runs on those, the others logged as skipped.
func TestQueuedActionOnRemovedProfiles(t *testing.T) {
	m := newTestModel(t, 100, 30)
	m.work.fadeAfter = time.Hour
	selectProfile(t, m, "acme-tt")
	press(m, "r")
	op := m.op
	selectProfile(t, m, "acme-x")
	press(m, "f")
	m.toggleMark("acme-fb")
	m.toggleMark("acme-ig")
	press(m, "v")
	if !strings.HasSuffix(m.note.text, "(after the sign-in to acme-tt and 1 more queued).") {
		t.Errorf("queued behind two: %q", m.note.text)
	}
	// acme-x and acme-ig leave the config.
	var kept []profiles.View
	for _, v := range m.all {
		if v.Name != "acme-x" && v.Name != "acme-ig" {
			kept = append(kept, v)
		}
	}
	m.all = kept
	m.Update(opDoneMsg{id: op.id, kind: opReauth, name: op.name, names: op.names, err: errors.New("denied")})
	if m.op == nil || m.op.kind != opVerify || !slices.Equal(m.op.names, []string{"acme-fb"}) {
		t.Fatalf("after the sign-in: op %+v", m.op)
	}
	if m.note.text != "Nothing to refresh acme-x: acme-x is no longer in the config." {
		t.Errorf("note %q", m.note.text)
	}
	m.toggleLog()
	m.work.log.SetSize(200, 40)
	if !strings.Contains(ansi.Strip(m.logView()), "! acme-ig is no longer in the config; skipped.") {
		t.Errorf("log:\n%s", ansi.Strip(m.logView()))
	}
}

// TestBatchProgressLine: the box counts a batch's answers as they come.
func TestBatchProgressLine(t *testing.T) {
	m := newTestModel(t, 100, 30)
	for _, n := range []string{"acme-x", "acme-fb", "acme-ig"} {
		m.toggleMark(n)
	}
	press(m, "v")
	op := m.op
	if op == nil || op.name != "" || len(op.names) != 3 {
		t.Fatalf("v on marked rows: %+v", op)
	}
	if !strings.Contains(screen(m), "Verifying 3 profiles with their networks… (esc cancels)") {
		t.Errorf("before any answer:\n%s", screen(m))
	}
	m.Update(opEventMsg{id: op.id, opEvent: opEvent{progress: &opProgress{done: 2, total: 3, failed: 1}}})
	m.Update(opEventMsg{id: op.id, opEvent: opEvent{progress: &opProgress{done: 1, total: 3}}}) // late and out of order
	if !strings.Contains(screen(m), "Verifying 2 of 3 profiles with their networks… · 1 failed (esc cancels)") {
		t.Errorf("progress:\n%s", screen(m))
	}
}
