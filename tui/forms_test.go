package tui

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/profiles"
)

// pump runs Cmds the way the program does and feeds their messages back
// to the model, one at a time on the test's goroutine. Each Cmd runs in a
// goroutine, so one that waits (a cursor blink) holds nothing up; a
// sequence runs its Cmds in order. until handles messages until a
// condition holds: the test waits for what it needs, never for a time.
type pump struct {
	t    *testing.T
	m    *Model
	msgs chan tea.Msg
	stop chan struct{}
	seen []tea.Msg
}

func newPump(t *testing.T, m *Model) *pump {
	p := &pump{t: t, m: m, msgs: make(chan tea.Msg), stop: make(chan struct{})}
	// The pump delivers ticks as they fire: a success note must not fade
	// before the test has read it.
	m.work.fadeAfter = time.Hour
	t.Cleanup(func() { close(p.stop) })
	return p
}

func (p *pump) run(cmd tea.Cmd) {
	if cmd != nil {
		go func() { p.deliver(cmd()) }()
	}
}

func (p *pump) deliver(msg tea.Msg) {
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			p.run(c)
		}
		return
	}
	if v := reflect.ValueOf(msg); v.IsValid() && v.Kind() == reflect.Slice && v.Type().Elem() == cmdType {
		for i := range v.Len() {
			if c, _ := v.Index(i).Interface().(tea.Cmd); c != nil {
				p.deliver(c())
			}
		}
		return
	}
	if msg == nil {
		return
	}
	select {
	case p.msgs <- msg:
	case <-p.stop:
	}
}

// until handles messages until cond holds; the limit only turns a hang
// into a failure.
func (p *pump) until(what string, cond func() bool) {
	p.t.Helper()
	limit := time.NewTimer(10 * time.Second)
	defer limit.Stop()
	for !cond() {
		select {
		case msg := <-p.msgs:
			p.seen = append(p.seen, msg)
			_, cmd := p.m.Update(msg)
			p.run(cmd)
		case <-limit.C:
			p.t.Fatalf("never %s; screen:\n%s", what, screen(p.m))
		}
	}
}

// press sends keys as the terminal would, running what each returns.
func (p *pump) press(keys ...string) {
	for _, k := range keys {
		msg := keyMsg(k)
		if k == "space" {
			msg = tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
		}
		_, cmd := p.m.Update(msg)
		p.run(cmd)
	}
}

func (p *pump) typeText(s string) {
	for _, r := range s {
		_, cmd := p.m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
		p.run(cmd)
	}
}

// focused is the key of the open form's focused field ("" for none).
func focused(m *Model) string {
	if m.form.form == nil {
		return ""
	}
	return m.form.form.GetFocusedField().GetKey()
}

// sawSignIn reports whether the model was asked to sign name in.
func (p *pump) sawSignIn(name string) bool {
	for _, msg := range p.seen {
		if s, ok := msg.(signInAfterAdd); ok && s.name == name {
			return true
		}
	}
	return false
}

// openAdd opens the add form with the `a` key.
func (p *pump) openAdd() {
	p.run(press(p.m, "a"))
	p.until("the add form opened", func() bool { return p.m.form.kind == formAddPick })
}

func readConfig(t *testing.T, m *Model) string {
	t.Helper()
	b, err := os.ReadFile(m.mgr.ConfigPath())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// `a` on a configured provider: pick it, type a name, choose a group,
// submit. The profile is in the config (edited in place), the list
// reloaded with it, and its sign-in asked for.
func TestAddProfileOnConfiguredProvider(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, 100, 30)
	p := newPump(t, m)
	p.openAdd()
	scr := screen(m)
	for _, want := range []string{"Add a profile", "esc cancel", "Which network?", "> acme (", "legacy (", "X (x), not set up yet: needs your app's client ID"} {
		if !strings.Contains(scr, want) {
			t.Errorf("the picker lacks %q:\n%s", want, scr)
		}
	}
	p.press("enter")
	p.until("the details form opened", func() bool { return focused(m) == "name" })
	p.typeText("acme-new")
	p.press("enter")
	p.until("the groups are asked", func() bool { return focused(m) == "groups" })
	p.press("space", "enter")
	p.until("the sign-in was asked for", func() bool { return p.sawSignIn("acme-new") })

	if m.form.kind != formClosed {
		t.Errorf("the form is still open")
	}
	if cfg := readConfig(t, m); !strings.Contains(cfg, "  acme-new:\n    provider: acme\n    groups: [marketing]\n") || !strings.HasPrefix(cfg, fixtureConfig) {
		t.Errorf("config:\n%s", cfg)
	}
	if !strings.Contains(rowNamesString(m), "acme-new") {
		t.Errorf("the list was not reloaded before the sign-in: %v", rowNames(m))
	}
	if !strings.Contains(m.note.text, "Added acme-new; signing in") {
		t.Errorf("note = %q", m.note.text)
	}
}

func rowNamesString(m *Model) string { return strings.Join(rowNames(m), " ") }

// A network not set up yet asks for the app's client ID and secret,
// showing the redirect URI to register; the secret is never drawn and goes
// to the token store only.
func TestAddProfileSetsUpANetwork(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, 100, 30)
	p := newPump(t, m)
	p.openAdd()
	sel, _ := m.form.form.GetFocusedField().(*huh.Select[string])
	for i := 0; i < 20; i++ {
		if v, _ := sel.Hovered(); v == "linkedin" {
			break
		}
		p.press("down")
	}
	p.press("enter")
	p.until("the client id is asked", func() bool { return focused(m) == "client_id" })
	scr := screen(m)
	for _, want := range []string{"Client ID of your LinkedIn app", "Register an app with LinkedIn.", "Its redirect URI: http://127.0.0.1:8765/callback/linkedin", "Client secret of your LinkedIn app"} {
		if !strings.Contains(scr, want) {
			t.Errorf("the details lack %q:\n%s", want, scr)
		}
	}
	// A bracketed paste (how a client id usually arrives) is text for
	// the field.
	p.m.Update(tea.PasteMsg{Content: "li-app"})
	if a := m.form.add; a.clientID != "li-app" {
		t.Fatalf("the paste did not reach the field: %q", a.clientID)
	}
	p.press("enter")
	p.until("the secret is asked", func() bool { return focused(m) == "client_secret" })
	p.typeText("SECRETMARK")
	if strings.Contains(screen(m), "SECRETMARK") || strings.Contains(screen(m), "**********") {
		t.Errorf("the secret is drawn:\n%s", screen(m))
	}
	p.press("enter")
	p.until("the name is asked", func() bool { return focused(m) == "name" })
	p.typeText("brand-li")
	p.press("enter", "enter")
	p.until("the sign-in was asked for", func() bool { return p.sawSignIn("brand-li") })

	cfg := readConfig(t, m)
	for _, want := range []string{"  linkedin:\n    client_id: li-app\n", "  brand-li:\n    provider: linkedin\n"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
	if strings.Contains(cfg, "SECRETMARK") {
		t.Errorf("the secret is in the config")
	}
	st, err := m.mgr.Store()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := st.Get(context.Background(), store.ClientKey("linkedin")); err != nil || v != "SECRETMARK" {
		t.Errorf("stored secret %q, %v", v, err)
	}
	if !strings.Contains(m.note.text, "Added provider linkedin and profile brand-li") || !strings.Contains(m.note.text, "Register http://127.0.0.1:8765/callback/linkedin with LinkedIn") {
		t.Errorf("note = %q", m.note.text)
	}
	if strings.Contains(m.note.text, "SECRETMARK") {
		t.Error("the note holds the secret")
	}
}

// The name is checked with the domain's rule as it is typed, and again on
// enter; an invalid or taken name writes nothing, and esc leaves.
func TestAddProfileInvalidName(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, 100, 30)
	before := readConfig(t, m)
	p := newPump(t, m)
	p.openAdd()
	p.press("enter")
	p.until("the name is asked", func() bool { return focused(m) == "name" })
	p.typeText("bad name")
	if !strings.Contains(screen(m), `✗ profile name "bad name": use letters, digits`) {
		t.Errorf("no live check:\n%s", screen(m))
	}
	p.press("enter")
	if focused(m) != "name" || m.form.kind != formAddDetails {
		t.Fatalf("enter went past an invalid name (focus %q)", focused(m))
	}
	scr := screen(m)
	if !strings.Contains(scr, `profile name "bad name"`) {
		t.Errorf("huh does not show the error:\n%s", scr)
	}
	if strings.Contains(scr, "✗ ") {
		t.Errorf("the error is shown twice:\n%s", scr)
	}
	for range len("bad name") {
		p.press("backspace")
	}
	p.typeText("acme-x")
	if !strings.Contains(screen(m), `✗ profile "acme-x" already exists`) {
		t.Errorf("a taken name passes:\n%s", screen(m))
	}
	// Keys are the form's: q is a letter of the name, not quit (which
	// would cancel the TUI's context).
	p.press("q")
	if m.ctx.Err() != nil {
		t.Fatal("q quit the TUI from inside the form")
	}
	if a := m.form.add; a == nil || a.name != "acme-xq" {
		t.Errorf("q did not reach the name field")
	}
	p.press("esc")
	if m.form.kind != formClosed || !strings.Contains(m.note.text, "Nothing was added") {
		t.Errorf("esc: form %v, note %q", m.form.kind, m.note.text)
	}
	if got := readConfig(t, m); got != before {
		t.Errorf("the config changed:\n%s", got)
	}
}

// A message of a form that was closed never reaches the next one; a blink
// is dropped (the cursor does not blink).
func TestFormMessagesOfAnotherForm(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, 100, 30)
	p := newPump(t, m)
	p.openAdd()
	old := m.form.gen
	p.press("esc")
	p.openAdd()
	if m.form.gen == old {
		t.Fatal("the new form has the old one's number")
	}
	if cmd, ok := m.formUpdate(formMsg{gen: old, msg: huh.NextField()}); !ok || cmd != nil || m.form.kind != formAddPick {
		t.Errorf("a closed form's message was acted on: %v %v %v", cmd, ok, m.form.kind)
	}
	// Batches and sequences keep their kind with every Cmd tagged;
	// bubbletea's own messages pass untouched.
	tagged := tagCmd(7, tea.Sequence(func() tea.Msg { return "a" }, tea.RequestWindowSize))()
	v := reflect.ValueOf(tagged)
	if v.Kind() != reflect.Slice || v.Len() != 2 {
		t.Fatalf("sequence became %T", tagged)
	}
	first := v.Index(0).Interface().(tea.Cmd)()
	if fm, ok := first.(formMsg); !ok || fm.gen != 7 || fm.msg != "a" {
		t.Errorf("first = %#v", first)
	}
	if _, ok := v.Index(1).Interface().(tea.Cmd)().(formMsg); ok {
		t.Error("bubbletea's window size request was tagged")
	}
}

// The forms fit the body at every size, in plain text (no colour).
func TestFormsFitTheScreen(t *testing.T) {
	t.Parallel()
	for _, size := range [][2]int{{100, 30}, {80, 24}, {60, 20}, {40, 15}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			t.Parallel()
			m := newTestModel(t, size[0], size[1])
			p := newPump(t, m)
			p.openAdd()
			p.press("enter")
			p.until("the details form opened", func() bool { return focused(m) == "name" })
			checkFits(t, m, size[0], size[1], "Profile name")
			p.press("esc")
			p.run(press(m, "d"))
			checkFits(t, m, size[0], size[1], "[y/N]")
		})
	}
}

// A resize while the form is open lays it out again for the new body.
func TestFormFollowsAResize(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, 100, 30)
	p := newPump(t, m)
	p.openAdd()
	checkFits(t, m, 100, 30, "Which network?")
	m.Update(tea.WindowSizeMsg{Width: 40, Height: 15})
	checkFits(t, m, 40, 15, "Which network?")
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	checkFits(t, m, 120, 40, "Pinterest (pinterest), not set up yet: needs your app's client ID")
}

func checkFits(t *testing.T, m *Model, w, h int, want string) {
	t.Helper()
	scr := screen(m)
	lines := strings.Split(scr, "\n")
	if len(lines) != h {
		t.Errorf("%d lines on a %d-line screen:\n%s", len(lines), h, scr)
	}
	for _, l := range lines {
		if ansi.StringWidth(l) > w {
			t.Errorf("line wider than %d: %q", w, l)
		}
	}
	if !strings.Contains(strings.ReplaceAll(scr, "\n", " "), want) {
		t.Errorf("the screen lacks %q:\n%s", want, scr)
	}
}

// selectRow moves the cursor to the named profile.
func selectRow(t *testing.T, m *Model, name string) {
	t.Helper()
	for range m.table.Len() {
		press(m, "up")
	}
	for range m.table.Len() {
		if selectedName(m) == name {
			return
		}
		press(m, "down")
	}
	t.Fatalf("no row %q in %v", name, rowNames(m))
}

// `d` on a profile with no token: the question says nothing is revoked;
// y removes its config entry.
func TestRemoveUnconnectedProfile(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, 100, 30)
	p := newPump(t, m)
	selectRow(t, m, "acme-tt")
	p.run(press(m, "d"))
	if want := "Remove acme-tt? It has no token, so nothing is revoked: this deletes its config entry. [y/N]"; !strings.Contains(strings.ReplaceAll(screen(m), "\n", " "), want) {
		t.Errorf("the question lacks %q:\n%s", want, screen(m))
	}
	p.press("y")
	p.until("the list lost acme-tt", func() bool { return !strings.Contains(rowNamesString(m), "acme-tt") && m.note.kind == noteOK })
	if strings.Contains(readConfig(t, m), "acme-tt") {
		t.Errorf("acme-tt is still in the config")
	}
	if m.note.text != "Removed acme-tt." {
		t.Errorf("note = %q", m.note.text)
	}
}

// No is the default: n, enter and esc keep the profile; other keys are
// ignored while the question is open (q does not quit).
func TestRemoveDeclined(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"n", "enter", "esc"} {
		t.Run(k, func(t *testing.T) {
			t.Parallel()
			m := newTestModel(t, 100, 30)
			m.work.fadeAfter = time.Millisecond // runCmds runs the note's fade tick
			before := readConfig(t, m)
			selectRow(t, m, "acme-x")
			m.openRemove()
			if cmd := press(m, "q"); cmd != nil || m.form.kind != formRemove {
				t.Fatalf("q while asked: cmd %v, form %v", cmd, m.form.kind)
			}
			for _, msg := range runCmds(press(m, k)) {
				if _, ok := msg.(removeDoneMsg); ok {
					t.Errorf("%s removed the profile", k)
				}
			}
			if m.form.kind != formClosed || m.note.text != "Kept acme-x; nothing was removed." {
				t.Errorf("form %v, note %q", m.form.kind, m.note.text)
			}
			if got := readConfig(t, m); got != before {
				t.Errorf("the config changed:\n%s", got)
			}
		})
	}
}

// revokeModel is a model on one connected profile whose provider's
// revocation endpoint (on 127.0.0.1) answers with status; revokes counts
// the calls.
func revokeModel(t *testing.T, status int) (*Model, *atomic.Int32) {
	t.Helper()
	var revokes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/revoke" {
			http.NotFound(w, r)
			return
		}
		revokes.Add(1)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	cfg := fmt.Sprintf("providers:\n  legacy:\n    type: oauth2\n    auth_url: %[1]s/a\n    token_url: %[1]s/t\n    revoke_url: %[1]s/revoke\n    client_id: c\nprofiles:\n  p:\n    provider: legacy\n  q:\n    provider: legacy\n", srv.URL)
	mgr := newManager(t, cfg, nil, func() time.Time { return testNow })
	st, err := mgr.Store()
	if err != nil {
		t.Fatal(err)
	}
	tok := &auth.Token{AccessToken: "AT-p", RefreshToken: "RT-p", Expiry: testNow.Add(time.Hour)}
	if err := store.PutToken(context.Background(), st, "p", tok); err != nil {
		t.Fatal(err)
	}
	writeRecords(t, mgr, map[string]*profiles.Record{"p": profiles.RecordFromToken(tok, testNow)})
	m := New(mgr, Options{Title: "sbctl test"})
	t.Cleanup(func() { m.stop(5 * time.Second) })
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	m.Update(loadList(m.ctx, mgr)())
	return m, &revokes
}

// `d` then `y` on a connected profile revokes its grant at the provider,
// then deletes its token and config entry.
func TestRemoveRevokes(t *testing.T) {
	t.Parallel()
	m, revokes := revokeModel(t, http.StatusOK)
	p := newPump(t, m)
	selectRow(t, m, "p")
	// The access and the refresh token are each revoked (RFC 7009).
	m.openRemove()
	if want := "Remove p? This revokes its grant at legacy and deletes its token and config entry. [y/N]"; !strings.Contains(strings.ReplaceAll(screen(m), "\n", " "), want) {
		t.Errorf("the question lacks %q:\n%s", want, screen(m))
	}
	p.press("y")
	p.until("p was removed", func() bool { return m.note.kind == noteOK })
	if m.note.text != "Removed p and revoked its grant at legacy." || revokes.Load() == 0 {
		t.Errorf("note %q, %d revocations", m.note.text, revokes.Load())
	}
	if cfg := readConfig(t, m); strings.Contains(cfg, "  p:") || !strings.Contains(cfg, "  q:") {
		t.Errorf("config:\n%s", cfg)
	}
}

// A failed revocation removes nothing; the question comes back offering
// to remove only the local copy, which y then does (without revoking
// again).
func TestRemoveAfterFailedRevocation(t *testing.T) {
	t.Parallel()
	m, revokes := revokeModel(t, http.StatusServiceUnavailable)
	p := newPump(t, m)
	selectRow(t, m, "p")
	m.openRemove()
	p.press("y")
	p.until("the question came back", func() bool { return m.form.kind == formRemove && m.form.remove.keepRemote })
	tried := revokes.Load()
	scr := strings.ReplaceAll(screen(m), "\n", " ")
	for _, want := range []string{"Revoking the grant of p at legacy failed", "Nothing was removed.", "Remove only the local copy"} {
		if !strings.Contains(scr, want) {
			t.Errorf("the question lacks %q:\n%s", want, screen(m))
		}
	}
	if !strings.Contains(readConfig(t, m), "  p:") {
		t.Fatal("p was removed although the revocation failed")
	}
	p.press("y")
	p.until("p was removed", func() bool { return m.note.kind == noteOK })
	if !strings.HasPrefix(m.note.text, "Removed the local copy of p; the grant at legacy stays") || revokes.Load() != tried {
		t.Errorf("note %q, %d revocations", m.note.text, revokes.Load())
	}
	if strings.Contains(readConfig(t, m), "  p:") {
		t.Error("p is still in the config")
	}
}

// With no profiles, `d` has nothing to ask about.
func TestRemoveWithNothingSelected(t *testing.T) {
	t.Parallel()
	mgr := newManager(t, "providers:\n  acme:\n    type: oidc\n    issuer: https://id.acme.example\n    client_id: sbctl\n", nil, func() time.Time { return testNow })
	m := New(mgr, Options{})
	t.Cleanup(func() { m.stop(5 * time.Second) })
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	m.Update(loadList(m.ctx, mgr)())
	if !strings.Contains(screen(m), "No profiles yet. Press a to add one.") {
		t.Errorf("the empty table does not offer to add:\n%s", screen(m))
	}
	m.openRemove()
	if m.form.kind != formClosed || m.note.text != "No profile selected." {
		t.Errorf("form %v, note %q", m.form.kind, m.note.text)
	}
}

// A profile that is being signed in is not removed under the sign-in:
// its token would be stored for a profile that is gone.
func TestRemoveRefusedWhileBusy(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, 100, 30)
	selectRow(t, m, "acme-tt")
	press(m, "r") // the sign-in's Cmd is never run: nothing reaches a network
	if m.op == nil {
		t.Fatal("no operation started")
	}
	m.openRemove()
	if m.form.kind != formClosed || !strings.HasPrefix(m.note.text, "acme-tt is busy (the sign-in to acme-tt)") {
		t.Errorf("form %v, note %q", m.form.kind, m.note.text)
	}
}
