package tui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sbctl/sbctl/auth/flow"
	"github.com/sbctl/sbctl/auth/sandbox"
	"github.com/sbctl/sbctl/auth/sandbox/sandboxtest"
	"github.com/sbctl/sbctl/profiles"
)

// driver runs a model's Cmds as a program does, each in a goroutine, and
// feeds their messages back into Update one at a time on the test's
// goroutine, until a condition holds. It waits on channels, never sleeps.
type driver struct {
	t    *testing.T
	m    *Model
	msgs chan tea.Msg
	done chan struct{}
}

func newDriver(t *testing.T, m *Model) *driver {
	d := &driver{t: t, m: m, msgs: make(chan tea.Msg, 64), done: make(chan struct{})}
	t.Cleanup(func() { close(d.done) })
	// Fading notes would race the assertions; the fade has its own test.
	m.work.fadeAfter = time.Hour
	return d
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				d.run(c)
			}
			return
		}
		if msg == nil {
			return
		}
		select {
		case d.msgs <- msg:
		case <-d.done:
		}
	}()
}

func (d *driver) update(msg tea.Msg) {
	_, cmd := d.m.Update(msg)
	d.run(cmd)
}

func (d *driver) press(keys ...string) {
	for _, k := range keys {
		d.update(keyMsg(k))
	}
}

// until delivers messages until cond holds.
func (d *driver) until(what string, cond func() bool, timeout time.Duration) {
	d.t.Helper()
	limit := time.NewTimer(timeout)
	defer limit.Stop()
	for !cond() {
		select {
		case msg := <-d.msgs:
			d.update(msg)
		case <-limit.C:
			d.t.Fatalf("timed out waiting for %s; screen:\n%s", what, screen(d.m))
		}
	}
}

func manualSandboxManager(t *testing.T, srv *sandbox.Server) *profiles.Manager {
	cfg := fmt.Sprintf(`providers:
  sbx-manual:
    type: oidc
    issuer: %s
    client_id: test-cli
    scopes: [openid, offline_access, profile]
    redirect: manual
profiles:
  man-1:
    provider: sbx-manual
`, srv.Issuer())
	return newManager(t, cfg, nil, time.Now)
}

// refusingBrowser fails the test if a sign-in opens a browser: manual mode
// never does.
func refusingBrowser(t *testing.T) profiles.Opener {
	return flow.OpenerFunc(func(context.Context, string) error {
		t.Error("manual mode opened a browser")
		return nil
	})
}

// redirectedAddress is what the browser's address bar shows after the
// sandbox approved: its redirect to the (unreachable, here unvisited)
// loopback callback.
func redirectedAddress(t *testing.T, authURL string) string {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if !strings.Contains(loc, "code=") {
		t.Fatalf("the sandbox answered %s without a code in its redirect", resp.Status)
	}
	return loc
}

// TestPastedAddressCompletesManualSignIn: a `redirect: manual` profile
// over the sandbox. The box shows a paste field in the TUI's words; letters
// typed there are text (q does not quit); a pasted address with a wrong
// state is refused and the flow keeps waiting; the real one, pasted with
// bracketed paste, completes the sign-in through the flow's stdin, with
// nobody calling the loopback listener.
func TestPastedAddressCompletesManualSignIn(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Options{})
	mgr := manualSandboxManager(t, srv)
	m := New(mgr, Options{Browser: refusingBrowser(t), ReauthTimeout: 30 * time.Second, Title: "sbctl sandbox"})
	t.Cleanup(func() { m.stop(5 * time.Second) })
	d := newDriver(t, m)
	d.update(tea.WindowSizeMsg{Width: 100, Height: 30})
	d.update(loadList(m.ctx, mgr)())

	d.press("r")
	d.until("the paste field", m.pasting, 20*time.Second)
	scr := screen(m)
	for _, want := range []string{
		"Signing in to man-1", "(esc cancels)", "left",
		"Open this address in a browser, on any machine, and sign in (ctrl+y copies it):",
		"Paste the address your browser ended on, or just the code, then press enter:",
		"> paste here",
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("the box lacks %q:\n%s", want, scr)
		}
	}
	for _, raw := range []string{"Ctrl-C", "Waiting for the browser", "Open this URL in a browser to continue", "paste it here", "If none opened"} {
		if strings.Contains(scr, raw) {
			t.Errorf("the flow's terminal wording %q reached the box:\n%s", raw, scr)
		}
	}

	// Letters are text here: q and g do not quit or switch groups.
	d.press("q", "g")
	if got := m.op.signIn.paste.Value(); got != "qg" || m.ctx.Err() != nil {
		t.Fatalf("typed q g: field %q, quit %v", got, m.ctx.Err() != nil)
	}
	d.press("backspace", "backspace")

	loc := redirectedAddress(t, m.op.signIn.url)
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("state", "not-the-state")
	wrong := *u
	wrong.RawQuery = q.Encode()
	d.update(tea.PasteMsg{Content: wrong.String()})
	d.until("the refusal", func() bool { return m.op.signIn.problem != "" }, 10*time.Second)
	if scr := screen(m); !strings.Contains(scr, "That did not work:") || !strings.Contains(scr, "Paste it again") || m.op == nil {
		t.Fatalf("a paste with a wrong state: the sign-in should go on and say why:\n%s", scr)
	}

	// Pasted with line breaks, as a terminal may copy it.
	d.update(tea.PasteMsg{Content: "\n " + loc[:20] + "\n" + loc[20:] + " \n"})
	d.until("the sign-in to end", func() bool { return m.op == nil }, 20*time.Second)
	if m.note.kind != noteOK || !strings.HasPrefix(m.note.text, "Connected man-1 as ") {
		t.Fatalf("note after the paste: %+v", m.note)
	}
	d.until("the reload", func() bool { return strings.Contains(lineWith(t, screen(m), "man-1"), " ok ") }, 10*time.Second)
	if st := srv.Stats(); st.CodeExchanges != 1 {
		t.Errorf("code exchanges %d, want 1", st.CodeExchanges)
	}
	if strings.Contains(screen(m), u.Query().Get("code")) {
		t.Error("the pasted code is still on the screen")
	}
}

// opWithURL starts a sign-in on the fixture and feeds it a URL, as OnURL
// would, at a fixed clock.
func opWithURL(t *testing.T, m *Model, mode profiles.SignInMode, u string) *operation {
	t.Helper()
	clock := testNow
	m.work.now = func() time.Time { return clock }
	selectProfile(t, m, "acme-tt")
	press(m, "r")
	if m.op == nil {
		t.Fatal("r started nothing")
	}
	m.op.signIn.mode = mode
	m.Update(opEventMsg{id: m.op.id, opEvent: opEvent{url: u}})
	return m.op
}

const longURL = "http://127.0.0.1:45678/authorize?client_id=sbctl&code_challenge=k2PNZ16kJtnZ26sQ_8-6qP7_9obSWAzSASsIcCd1MCo&code_challenge_method=S256&redirect_uri=http%3A%2F%2F127.0.0.1%3A34023%2Fcallback%2Facme&response_type=code&scope=openid+offline_access+profile&state=KH96SmZtWYt4QMjucK3re1RHIBDZYNTRJKFKS8YYp2Y"

// TestSignInBoxShowsURLWhole: the URL is cut into whole lines of the
// screen's width with no indent (so a line-by-line copy has nothing but
// the address), every piece is the same OSC 8 link, and the countdown
// moves once a second, only while the sign-in runs.
func TestSignInBoxShowsURLWhole(t *testing.T) {
	m := newTestModel(t, 80, 30)
	op := opWithURL(t, m, profiles.SignInDefault, longURL)
	box := m.signIn.View()
	plain := ansi.Strip(box)
	var urlLines []string
	for _, l := range strings.Split(plain, "\n") {
		if strings.HasPrefix(l, "http") || (len(urlLines) > 0 && !strings.HasPrefix(l, " ")) {
			urlLines = append(urlLines, l)
		}
	}
	want := (ansi.StringWidth(longURL) + 79) / 80
	if len(urlLines) != want || strings.Join(urlLines, "") != longURL {
		t.Fatalf("URL in %d lines (want %d), joined %q:\n%s", len(urlLines), want, strings.Join(urlLines, ""), plain)
	}
	if n := strings.Count(box, ansi.SetHyperlink(longURL, fmt.Sprintf("id=sbctl-signin-%d", op.id))); n != want {
		t.Errorf("%d OSC 8 links, want one per line (%d)", n, want)
	}
	if !strings.Contains(plain, "If none opened, open this URL (c copies it):") || !strings.Contains(plain, "5:00 left") {
		t.Errorf("intro or countdown:\n%s", plain)
	}

	_, next := m.Update(countdownMsg{id: op.id, now: testNow.Add(61 * time.Second)})
	if next == nil || !strings.Contains(screen(m), "3:59 left") {
		t.Errorf("after 61 s: next tick %v\n%s", next != nil, screen(m))
	}
	// A tick of an ended sign-in is dropped, which stops the countdown.
	if _, next := m.Update(countdownMsg{id: op.id + 1, now: testNow}); next != nil {
		t.Error("a stale countdown tick was rescheduled")
	}
}

// TestCopyKeyPutsURLOnClipboard: c copies the address with OSC 52 and
// says so; in the paste field c is text and ctrl+y copies.
func TestCopyKeyPutsURLOnClipboard(t *testing.T) {
	m := newTestModel(t, 100, 30)
	m.work.fadeAfter = time.Millisecond // runCmds runs the note's fade tick
	opWithURL(t, m, profiles.SignInDefault, longURL)
	cmd := press(m, "c")
	msgs := runCmds(cmd)
	if !containsMsg(msgs, tea.SetClipboard(longURL)()) {
		t.Fatalf("c did not set the clipboard: %#v", msgs)
	}
	if !m.footerContext().CanCopy {
		t.Error("the footer is not told the address can be copied")
	}
	if !strings.Contains(m.note.text, "Copied the sign-in address to the clipboard (OSC 52; your terminal must allow it).") {
		t.Errorf("note %q", m.note.text)
	}
	if m.op == nil {
		t.Fatal("c ended the sign-in")
	}

	m = newTestModel(t, 100, 30)
	m.work.fadeAfter = time.Millisecond
	op := opWithURL(t, m, profiles.SignInManual, longURL)
	if !m.pasting() {
		t.Fatal("manual mode shows no paste field")
	}
	if fc := m.footerContext(); !fc.Pasting || fc.CanCopy {
		t.Errorf("footer context while pasting: %+v", fc)
	}
	press(m, "c")
	if op.signIn.paste.Value() != "c" {
		t.Errorf("c in the paste field: %q", op.signIn.paste.Value())
	}
	_, cmd = m.Update(ctrlKey('y'))
	msgs = runCmds(cmd)
	if !containsMsg(msgs, tea.SetClipboard(longURL)()) {
		t.Errorf("ctrl+y did not copy: %#v", msgs)
	}
	// With the log open over it, the field still takes the letters (q
	// does not quit); esc closes the log first.
	m.toggleLog()
	press(m, "q")
	if op.signIn.paste.Value() != "cq" || m.ctx.Err() != nil {
		t.Errorf("q with the log open: field %q, quit %v", op.signIn.paste.Value(), m.ctx.Err() != nil)
	}
	press(m, "esc")
	if m.work.log.open || m.op == nil || m.op.cancelling {
		t.Errorf("esc with the log open over a sign-in: log %v, op %+v", m.work.log.open, m.op)
	}
}

func spinnerFrame(m *Model) string { return ansi.Strip(m.spinner.View()) }

func ctrlKey(r rune) tea.KeyPressMsg { return tea.KeyPressMsg{Code: r, Mod: tea.ModCtrl} }

func containsMsg(msgs []tea.Msg, want tea.Msg) bool {
	for _, m := range msgs {
		if m == want {
			return true
		}
	}
	return false
}

// TestSignInBoxFits40x15: at 40×15 the box keeps its cancel hint and the
// URL, dropping the rest; when even the URL cannot fit it says how to
// copy it.
func TestSignInBoxFits40x15(t *testing.T) {
	m := newTestModel(t, 40, 15)
	op := opWithURL(t, m, profiles.SignInManual, longURL)
	m.Update(opEventMsg{id: op.id, opEvent: opEvent{line: "After you approve, the browser goes to http://127.0.0.1:34023/callback/acme..."}})
	b := m.signIn
	b.SetSize(40)
	for _, h := range []int{12, 10} {
		b.SetHeight(h)
		lines := strings.Split(ansi.Strip(b.View()), "\n")
		if len(lines) > h {
			t.Errorf("height %d: %d lines", h, len(lines))
		}
		joined := strings.Join(lines, "\n")
		if !strings.Contains(lines[0], "acme-tt 5:00 · esc cancels") || !strings.Contains(strings.ReplaceAll(joined, "\n", ""), longURL) || !strings.Contains(joined, "> ") {
			t.Errorf("height %d: cancel hint, whole URL and field must stay:\n%s", h, joined)
		}
		for _, l := range lines {
			if ansi.StringWidth(l) > 40 {
				t.Errorf("line wider than 40: %q", l)
			}
		}
	}
	b.SetSize(30)
	if head := ansi.Strip(strings.Split(b.View(), "\n")[0]); head != spinnerFrame(m)+" acme-tt 5:00 · esc cancels" {
		t.Errorf("head at 30 columns: %q", head)
	}
	b.SetSize(40)
	b.SetHeight(4)
	got := ansi.Strip(b.View())
	if !strings.Contains(got, "esc cancels") || !strings.Contains(got, "press ctrl+y to copy it") || strings.Contains(got, "http://127.0.0.1:45678/auth") {
		t.Errorf("a box too small for the URL:\n%s", got)
	}
}

// TestFlowLinesInTheTUIsWords: the flow's terminal prompts do not reach
// the box raw; what they tell (no browser, the device code, a refused
// paste) is shown in the box's words.
func TestFlowLinesInTheTUIsWords(t *testing.T) {
	m := newTestModel(t, 100, 30)
	op := opWithURL(t, m, profiles.SignInDefault, longURL)
	for _, l := range []string{
		"Waiting for the sign-in to finish (times out in 5m; Ctrl-C cancels)...",
		"Could not open a browser: no graphical display ($DISPLAY and $WAYLAND_DISPLAY are unset); set $BROWSER to choose a browser",
		"Open this URL in a browser to continue:",
		longURL,
	} {
		m.Update(opEventMsg{id: op.id, opEvent: opEvent{line: l}})
	}
	scr := screen(m)
	if strings.Contains(scr, "Ctrl-C") || strings.Contains(scr, "Waiting for the browser") || strings.Contains(scr, "to continue:") {
		t.Errorf("terminal wording shown:\n%s", scr)
	}
	if !strings.Contains(scr, "No browser could be opened: open this URL yourself (c copies it):") || !strings.Contains(scr, "Could not open a browser: no graphical display") {
		t.Errorf("the failed browser is not said:\n%s", scr)
	}

	// The device flow: the address and the code stand out, and the code's
	// life is counted down.
	m = newTestModel(t, 100, 30)
	m.work.now = func() time.Time { return testNow }
	selectProfile(t, m, "acme-tt")
	press(m, "r")
	op = m.op
	for _, l := range []string{
		"To sign in, open this URL on any device:",
		"http://127.0.0.1:47011/device",
		"and enter the code: LJJV-QRJC",
		"(or open http://127.0.0.1:47011/device?user_code=LJJV-QRJC, which fills in the code)",
		"Waiting for approval (the code expires in 10m; Ctrl-C cancels)...",
	} {
		m.Update(opEventMsg{id: op.id, opEvent: opEvent{line: l}})
	}
	scr = screen(m)
	for _, want := range []string{"On any device, open this address and enter the code:", "http://127.0.0.1:47011/device", "Code: LJJV-QRJC", "10:00 left", "which fills in the code (c copies it)"} {
		if !strings.Contains(scr, want) {
			t.Errorf("device flow lacks %q:\n%s", want, scr)
		}
	}
	if strings.Contains(scr, "Ctrl-C") || strings.Contains(scr, "To sign in, open this URL") {
		t.Errorf("device flow shown raw:\n%s", scr)
	}
	if op.signIn.copyTarget() != "http://127.0.0.1:47011/device?user_code=LJJV-QRJC" {
		t.Errorf("copy target %q", op.signIn.copyTarget())
	}

	// A refused paste: the error the flow printed before its prompt
	// becomes the problem line.
	var s signInState
	s.mode = profiles.SignInManual
	s.sending = true
	s.flowLine("the address's state does not match this sign-in", testNow)
	s.flowLine("Paste the address your browser was redirected to (or just the code):", testNow)
	if s.sending || s.problem != "That did not work: the address's state does not match this sign-in. Paste it again." || len(s.lines) != 0 {
		t.Errorf("refused paste: %+v", s)
	}
}

// TestSignInModeKnownUpFront: the domain says which sign-in runs before
// it starts, so the paste field and "no browser" wording are right from
// the first frame.
func TestSignInModeKnownUpFront(t *testing.T) {
	cfg := `providers:
  loop:
    type: oidc
    issuer: https://id.example
    client_id: c
  man:
    type: oidc
    issuer: https://id.example
    client_id: c
    redirect: manual
  dev:
    type: oidc
    issuer: https://id.example
    client_id: c
    redirect: device
  facebook:
    client_id: c
profiles:
  p-loop: {provider: loop}
  p-man: {provider: man}
  p-dev: {provider: dev}
  p-fb: {provider: facebook}
`
	mgr := newManager(t, cfg, nil, func() time.Time { return testNow })
	for _, c := range []struct {
		name  string
		asked profiles.SignInMode
		want  profiles.SignInMode
	}{
		{"p-loop", "", profiles.SignInDefault},
		{"p-loop", profiles.SignInNoBrowser, profiles.SignInNoBrowser},
		{"p-loop", profiles.SignInManual, profiles.SignInManual},
		{"p-man", "", profiles.SignInManual},
		{"p-man", profiles.SignInNoBrowser, profiles.SignInManual},
		{"p-dev", "", profiles.SignInDevice},
		{"p-fb", "", profiles.SignInDefault},                    // relay opens a browser
		{"p-fb", profiles.SignInManual, profiles.SignInDefault}, // manual keeps relay
	} {
		got, err := mgr.SignInModeOf(c.name, c.asked)
		if err != nil || got != c.want {
			t.Errorf("SignInModeOf(%s, %q) = %q, %v; want %q", c.name, c.asked, got, err, c.want)
		}
	}
	if _, err := mgr.SignInModeOf("nope", ""); err == nil {
		t.Error("an unknown profile has a sign-in mode")
	}
}
