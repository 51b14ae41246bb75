package flow

// Tests for SECURITY.md items 28–32 (issue 9: holes an attack on the built
// binary found). Each fails on the code before the fix.

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sbctl/sbctl/auth"
	"golang.org/x/oauth2"
)

// hostileDevice is an RFC 8628 server whose answers each test chooses: the
// device authorization response is the defaults with device overridden,
// and the token endpoint approves at the first poll with token.
type hostileDevice struct {
	device map[string]any
	token  map[string]any
	polls  atomic.Int32
}

func (h *hostileDevice) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/device":
		resp := map[string]any{
			"device_code": deviceCode, "user_code": userCode, "verification_uri": verifyURI,
			"expires_in": deviceExpires, "interval": 1,
		}
		for k, v := range h.device {
			resp[k] = v
		}
		_ = json.NewEncoder(w).Encode(resp)
	case "/token":
		h.polls.Add(1)
		resp := map[string]any{"access_token": accessToken, "token_type": "bearer", "refresh_token": refreshToken, "expires_in": 3600}
		for k, v := range h.token {
			resp[k] = v
		}
		_ = json.NewEncoder(w).Encode(resp)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

type hostileRun struct {
	tok    *oauth2.Token
	err    error
	stderr string
	prompt *DevicePrompt
	polls  int
}

// runDevices runs one device flow per server, all at once (each waits one
// real polling interval, a second), each against its own server on
// 127.0.0.1.
func runDevices(t *testing.T, servers []*hostileDevice) []hostileRun {
	t.Helper()
	runs := make([]hostileRun, len(servers))
	var wg sync.WaitGroup
	for i, h := range servers {
		ts := httptest.NewServer(h)
		defer ts.Close()
		if !strings.HasPrefix(ts.URL, "http://127.0.0.1:") {
			t.Fatalf("server at %s", ts.URL)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var stderr syncBuffer
			r := &runs[i]
			r.tok, r.err = DeviceFlow(context.Background(), deviceConfig(ts.URL), DeviceParams{
				Stderr:   &stderr,
				OnPrompt: func(p DevicePrompt) { r.prompt = &p },
			})
			r.stderr = stderr.String()
			r.polls = int(h.polls.Load())
		}()
	}
	wg.Wait()
	return runs
}

// unsafeRune finds what must never reach a terminal from a server: C0 and
// C1 controls (newline only where allowed), DEL, format characters (bidi
// controls, zero-width), line and paragraph separators, invalid UTF-8.
func unsafeRune(s string, newlineOK bool) (rune, bool) {
	if !utf8.ValidString(s) {
		return utf8.RuneError, true
	}
	for _, r := range s {
		switch {
		case r == '\n' && newlineOK:
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0, unicode.Is(unicode.Cf, r), r == '\u2028', r == '\u2029':
			return r, true
		}
	}
	return 0, false
}

func assertTerminalSafe(t *testing.T, what, s string, newlineOK bool) {
	t.Helper()
	if r, bad := unsafeRune(s, newlineOK); bad {
		t.Errorf("%s holds %U, which must not reach a terminal:\n%q", what, r, s)
	}
}

// SECURITY 29: a device grant whose access or refresh token is not one word
// of printable ASCII is refused, with an error that never quotes the token
// (`sbctl token` once printed "AT \033]0;PWNED\a\033[2J", and a newline in
// a token adds a header to `curl -H "Authorization: Bearer $(sbctl token p)"`).
func TestSecurity29DeviceFlowRefusesUnprintableTokens(t *testing.T) {
	t.Parallel()
	bad := map[string]string{
		"OSC title and clear screen": "AT \x1b]0;PWNED\a\x1b[2J",
		"CSI":                        "AT-\x1b[31mPWNED",
		"newline header":             "AT-PWNED\r\nX-Injected: 1",
		"bare newline":               "AT-PWNED\nsecond",
		"C1 CSI":                     "AT-PWNED\u009b2J",
		"bidi override":              "AT-PWNED\u202e",
		"space":                      "AT PWNED",
		"non-ASCII":                  "AT-PWNÉD",
	}
	type tcase struct{ field, name, value string }
	var cases []tcase
	var servers []*hostileDevice
	for _, field := range []string{"access_token", "refresh_token"} {
		for name, value := range bad {
			cases = append(cases, tcase{field, name, value})
			servers = append(servers, &hostileDevice{token: map[string]any{field: value}})
		}
	}
	for i, r := range runDevices(t, servers) {
		c := cases[i]
		t.Run(c.field+"/"+c.name, func(t *testing.T) {
			if r.err == nil || r.tok != nil {
				t.Fatalf("a %s with %s was handed back: tok=%v err=%v", c.field, c.name, r.tok != nil, r.err)
			}
			msg := r.err.Error()
			if !strings.Contains(msg, c.field) || !strings.Contains(msg, "printable ASCII") {
				t.Errorf("the message does not say which token is wrong and why: %s", msg)
			}
			for _, leak := range []string{c.value, "PWNED", accessToken, refreshToken} {
				if strings.Contains(msg, leak) || strings.Contains(r.stderr, leak) {
					t.Errorf("%q leaked into the error or stderr:\n%s\n%s", leak, msg, r.stderr)
				}
			}
			assertTerminalSafe(t, "the error", msg, false)
			assertTerminalSafe(t, "stderr", r.stderr, true)
		})
	}
}

// hostileText is what a server may put in text sbctl shows a person.
var hostileText = map[string]string{
	"OSC":          "\x1b]0;PWNED\a",
	"CSI":          "\x1b[2J",
	"C1 NEL":       "\u0085",
	"C1 CSI":       "\u009b2J",
	"RLO":          "\u202e",
	"RLM":          "\u200f",
	"ALM":          "\u061c",
	"LINE SEP":     "\u2028",
	"ZWSP":         "\u200b",
	"ZWJ":          "\u200d",
	"BOM":          "\ufeff",
	"isolate":      "\u2066",
	"private use":  "\ue000",
	"DEL":          "\x7f",
	"tab":          "\t",
	"invalid UTF8": "\xff",
}

// SECURITY 30, device flow: a verification_uri with anything but printable
// ASCII is refused before anything is shown or polled; such a
// verification_uri_complete is dropped (the plain URI and the code still
// work); a user code that cleaning would change is refused, because the
// user must type exactly what the server expects.
func TestSecurity30DeviceFlowServerText(t *testing.T) {
	t.Parallel()
	type tcase struct {
		field, name string
		check       func(t *testing.T, r hostileRun)
	}
	var cases []tcase
	var servers []*hostileDevice
	add := func(field, name string, device map[string]any, check func(t *testing.T, r hostileRun)) {
		cases = append(cases, tcase{field, name, check})
		servers = append(servers, &hostileDevice{device: device})
	}
	refused := func(field string) func(t *testing.T, r hostileRun) {
		return func(t *testing.T, r hostileRun) {
			if r.err == nil || r.prompt != nil || r.polls != 0 {
				t.Fatalf("accepted (err=%v, prompt=%v, polls=%d)", r.err, r.prompt != nil, r.polls)
			}
			if !strings.Contains(r.err.Error(), field) {
				t.Errorf("the error does not name %s: %v", field, r.err)
			}
			assertTerminalSafe(t, "the error", r.err.Error(), false)
			assertTerminalSafe(t, "stderr", r.stderr, true)
		}
	}
	dropped := func(t *testing.T, r hostileRun) {
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.prompt == nil || r.prompt.VerificationURIComplete != "" || r.prompt.VerificationURI != verifyURI || r.prompt.UserCode != userCode {
			t.Fatalf("prompt %+v", r.prompt)
		}
		if strings.Contains(r.stderr, "(or open") || !strings.Contains(r.stderr, verifyURI+"\n") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
		assertTerminalSafe(t, "stderr", r.stderr, true)
	}
	for name, h := range hostileText {
		add("verification_uri", name+" in the path", map[string]any{"verification_uri": verifyURI + "/" + h + "x"}, refused("verification_uri"))
		add("verification_uri", name+" in the host", map[string]any{"verification_uri": "https://exa" + h + "mple.com/device"}, refused("verification_uri"))
		add("verification_uri_complete", name, map[string]any{"verification_uri_complete": verifyURI + "?user_code=" + userCode + h}, dropped)
		if name != "invalid UTF8" {
			// JSON carries invalid UTF-8 as U+FFFD, a printable character
			// (in an address it is refused as non-ASCII).
			add("user_code", name, map[string]any{"user_code": "WDJB" + h + "MJHT"}, refused("user_code"))
		}
	}
	// Codes that cleaning would change in other ways are refused too; one
	// with a single inner space (some servers group the code so) is shown.
	for _, code := range []string{"WDJB  MJHT", " WDJB-MJHT", "WDJB-MJHT ", strings.Repeat("W", 65)} {
		add("user_code", code, map[string]any{"user_code": code}, refused("user_code"))
	}
	add("user_code", "grouped", map[string]any{"user_code": "WDJB MJHT"}, func(t *testing.T, r hostileRun) {
		if r.err != nil || r.prompt.UserCode != "WDJB MJHT" || !strings.Contains(r.stderr, "enter the code: WDJB MJHT\n") {
			t.Fatalf("%v\n%s", r.err, r.stderr)
		}
	})
	for i, r := range runDevices(t, servers) {
		t.Run(cases[i].field+"/"+cases[i].name, func(t *testing.T) { cases[i].check(t, r) })
	}
}

// SECURITY 30, error texts: what the authorization server says in an error
// (code and description, in a redirect or from the device token endpoint)
// reaches the person only through auth.CleanText.
func TestSecurity30ErrorText(t *testing.T) {
	var names []string
	for name := range hostileText {
		names = append(names, name)
	}
	sort.Strings(names)
	var desc, code strings.Builder
	for _, name := range names {
		desc.WriteString("x" + hostileText[name])
		code.WriteString(hostileText[name])
	}
	r := start(t, Params{})
	do(t, "GET", r.callbackURL(url.Values{"error": {"invalid_scope" + code.String()}, "error_description": {desc.String()}, "state": {r.q.Get("state")}}), "")
	_, err := r.wait(t)
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Code != auth.CleanText("invalid_scope"+code.String(), 64) || ae.Description != auth.CleanText(desc.String(), 300) {
		t.Fatalf("%#v", err)
	}
	assertTerminalSafe(t, "the redirect's error", err.Error(), false)

	h := &hostileDevice{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client" + code.String(), "error_description": desc.String()})
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer ts.Close()
	var stderr syncBuffer
	_, err = DeviceFlow(context.Background(), deviceConfig(ts.URL), DeviceParams{Stderr: &stderr})
	if !errors.As(err, &ae) || !strings.HasPrefix(ae.Code, "invalid_client") {
		t.Fatalf("%#v", err)
	}
	assertTerminalSafe(t, "the device error", err.Error(), false)
	assertTerminalSafe(t, "stderr", stderr.String(), true)
}

// SECURITY 30: a sign-in address (the authorization endpoint, from the
// config or from discovery, or a relay page) with anything but printable
// ASCII is refused before anything listens or is shown.
func TestSecurity30AuthURLPrintableASCII(t *testing.T) {
	t.Parallel()
	for name, h := range hostileText {
		for _, p := range []Params{
			{AuthURL: "https://auth.example/authorize" + h},
			{AuthURL: "https://au" + h + "th.example/authorize"},
			{Mode: ModeRelay, RelayURL: "https://relay.example/" + h + "r.html", AuthURL: "https://auth.example/authorize"},
		} {
			var stderr syncBuffer
			fb := &fakeBrowser{}
			p.ClientID, p.Browser, p.Stderr, p.Timeout = "c", fb, &stderr, time.Millisecond
			_, err := Run(context.Background(), p)
			if err == nil || errors.Is(err, ErrTimeout) || len(fb.opened()) != 0 || stderr.String() != "" {
				t.Errorf("%s: auth %q relay %q ran: %q (stderr %q)", name, p.AuthURL, p.RelayURL, err, stderr.String())
				continue
			}
			assertTerminalSafe(t, name+": the error", err.Error(), false)
		}
	}
}

// envRecorder writes a fake browser that saves its whole environment.
func envRecorder(t *testing.T, dir, name string) (script, record string) {
	t.Helper()
	record = filepath.Join(t.TempDir(), "env")
	script = filepath.Join(dir, name)
	body := "#!/bin/sh\nenv > \"" + record + ".tmp\"\nmv \"" + record + ".tmp\" \"" + record + "\"\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, record
}

func readEnv(t *testing.T, record string) map[string]string {
	t.Helper()
	var b []byte
	waitFor(t, "the browser's environment", func() bool {
		var err error
		b, err = os.ReadFile(record)
		return err == nil
	})
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env
}

// SECURITY 32: the browser (SBCTL_BROWSER, BROWSER, CommandOpener, the
// system launcher) gets sbctl's environment minus its secret variables.
// t.Setenv, so not parallel.
func TestSecurity32BrowserGetsNoSecrets(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell script browser; Windows opens the system browser through ShellExecute (see SecretEnv)")
	}
	secrets := map[string]string{
		"SBCTL_CLIENT_SECRET_ACME":     "acme-client-secret-value",
		"SBCTL_CLIENT_SECRET_X":        "x-client-secret-value",
		"sbctl_client_secret_lower":    "lower-client-secret-value",
		"SBCTL_TEAM_KEY":               "team-key-value",
		"SBCTL_DATABASE_URL":           "postgres://sbctl:db-password-value@db.example/sbctl",
		"PGPASSWORD":                   "pg-password-value",
		"SBCTL_CLIENT_SECRET_MY_NET_2": "my-net-secret-value",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	kept := map[string]string{"DISPLAY": ":99", "HOME": t.TempDir(), "SBCTL_CONFIG": "/tmp/sbctl.yaml", "LANG": "C.UTF-8", "SBCTL_CLIENT_SECRETARY": "not-a-secret"}
	for k, v := range kept {
		t.Setenv(k, v)
	}
	kept["PATH"] = os.Getenv("PATH")
	const u = "https://auth.example/authorize?a=1"

	check := func(name string, open func() error, record string) {
		t.Helper()
		if err := open(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		env := readEnv(t, record)
		for k, v := range secrets {
			if _, ok := env[k]; ok {
				t.Errorf("%s: $%s reached the browser", name, k)
			}
			for ek, ev := range env {
				if strings.Contains(ev, v) {
					t.Errorf("%s: the value of $%s reached the browser in $%s", name, k, ek)
				}
			}
		}
		for k, v := range kept {
			if env[k] != v {
				t.Errorf("%s: $%s = %q in the browser, want %q", name, k, env[k], v)
			}
		}
	}

	dir := t.TempDir()
	script, rec := envRecorder(t, dir, "sbctl browser")
	t.Setenv("BROWSER", "")
	t.Setenv("SBCTL_BROWSER", quote(script))
	check("$SBCTL_BROWSER", func() error { return DefaultOpener().Open(context.Background(), u) }, rec)

	script, rec = envRecorder(t, dir, "browser")
	t.Setenv("SBCTL_BROWSER", "")
	t.Setenv("BROWSER", quote(script)+" --flag")
	check("$BROWSER", func() error { return DefaultOpener().Open(context.Background(), u) }, rec)

	script, rec = envRecorder(t, dir, "command")
	check("CommandOpener", func() error { return CommandOpener(script).Open(context.Background(), u) }, rec)

	// The system launcher (xdg-open, open), found on $PATH.
	launchers := systemLaunchers()
	if len(launchers) == 0 {
		t.Fatalf("no system launcher on %s", runtime.GOOS)
	}
	bin := t.TempDir()
	_, rec = envRecorder(t, bin, launchers[0])
	t.Setenv("BROWSER", "")
	t.Setenv("PATH", bin+string(os.PathListSeparator)+kept["PATH"])
	kept["PATH"] = os.Getenv("PATH")
	check("the system launcher "+launchers[0], func() error { return DefaultOpener().Open(context.Background(), u) }, rec)
}

func TestSecretEnv(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"SBCTL_CLIENT_SECRET_ACME": true, "SBCTL_CLIENT_SECRET_": true, "sbctl_client_secret_x": true,
		"SBCTL_TEAM_KEY": true, "SBCTL_DATABASE_URL": true, "PGPASSWORD": true, "pgpassword": true,
		"SBCTL_CLIENT_SECRETS": false, "SBCTL_CLIENT_ID": false, "SBCTL_TEAM_KEY_FILE": false, "PATH": false,
		"SBCTL_BROWSER": false, "PGHOST": false, "": false,
	} {
		if got := SecretEnv(name); got != want {
			t.Errorf("SecretEnv(%q) = %v, want %v", name, got, want)
		}
	}
	in := []string{"PATH=/bin", "SBCTL_CLIENT_SECRET_A=s", "=C:=C:\\", "PGPASSWORD=p", "ODD", "HOME=/h", "SBCTL_TEAM_KEY=k=v"}
	want := []string{"PATH=/bin", "=C:=C:\\", "ODD", "HOME=/h"}
	if got := ChildEnv(in); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("ChildEnv = %q, want %q", got, want)
	}
	if got := ChildEnv([]string{"SBCTL_TEAM_KEY=k"}); got == nil || len(got) != 0 {
		t.Fatalf("an all-secret environment must give an empty, non-nil list (nil means inherit): %#v", got)
	}
}

// SECURITY 28, flow part: the listener answers only its own provider's
// exact path. A malicious provider that bounces the browser to an honest
// one gets the browser sent to the honest provider's registered redirect,
// /callback/honest: the flow listening on /callback/evil refuses it (and
// every other spelling) and keeps waiting for its own callback.
func TestSecurity28OtherProvidersPathRefused(t *testing.T) {
	t.Parallel()
	r := start(t, Params{CallbackPath: "/callback/evil"})
	if r.redirect.Path != "/callback/evil" || r.redirect.RawQuery != "" {
		t.Fatalf("redirect_uri %s", r.redirect)
	}
	q := "?" + r.good("honest-code").Encode()
	for _, p := range []string{
		"/callback/honest", "/callback", "/callback/", "/callback/evil/", "/callback/evi", "/callback/evilx",
		"/callback/Evil", "/callback/%65vil", "/callback%2Fevil", "/callback/evil%2F", "/callback/evil/.",
		"//callback/evil", "/callback//evil", "/callback/honest/../evil", "/callback/./evil",
	} {
		resp := do(t, "GET", "http://"+r.host()+p+q, "")
		if resp.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, resp.status)
		}
		r.stillWaiting(t)
	}
	do(t, "GET", r.callbackURL(r.good("evil-code")), "")
	if res, err := r.wait(t); err != nil || res.Code != "evil-code" || res.RedirectURI != "http://"+r.host()+"/callback/evil" {
		t.Fatalf("%v %v", res, err)
	}
}

// SECURITY 28: when the provider names an issuer, an iss from another one
// is refused before the code is used, and a missing one when required.
func TestSecurity28IssWheneverIssuerSet(t *testing.T) {
	t.Parallel()
	r := start(t, Params{CallbackPath: "/callback/evil", Issuer: "https://evil.example", RequireIss: true})
	st := r.q.Get("state")
	for _, q := range []url.Values{
		{"code": {"honest-code"}, "state": {st}, "iss": {"https://honest.example"}},
		{"code": {"honest-code"}, "state": {st}},
	} {
		if resp := do(t, "GET", r.callbackURL(q), ""); resp.status != http.StatusBadRequest {
			t.Errorf("%v: %d", q, resp.status)
		}
		r.stillWaiting(t)
	}
	do(t, "GET", r.callbackURL(url.Values{"code": {"c"}, "state": {st}, "iss": {"https://evil.example"}}), "")
	if res, err := r.wait(t); err != nil || res.Iss != "https://evil.example" {
		t.Fatalf("%v %v", res, err)
	}
}

func TestCallbackPathChecked(t *testing.T) {
	t.Parallel()
	for _, p := range []string{
		"callback", "/callback?x=1", "/callback#f", "/call back", "/callback/\u202e", "/callback/\x1b[2J", "/callback/{x}", "/callback/ä",
		// A browser resolves dot segments (%2e too), so it would never ask
		// for these paths: the flow could not complete.
		"/callback/../acme", "/callback/./acme", "/callback/%2e%2e/acme", "/callback/.%2E", "/callback/..",
	} {
		_, err := Run(context.Background(), Params{AuthURL: "https://a.example/auth", ClientID: "c", CallbackPath: p, Browser: &fakeBrowser{}, Stderr: &syncBuffer{}, Timeout: time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "callback path") {
			t.Errorf("%q: %v", p, err)
			continue
		}
		assertTerminalSafe(t, "the error", err.Error(), false)
	}
	// %-escapes are a valid spelling, kept exactly.
	r := start(t, Params{CallbackPath: "/callback/%E3%81%82"})
	if got := r.q.Get("redirect_uri"); got != "http://"+r.host()+"/callback/%E3%81%82" {
		t.Fatalf("redirect_uri %s", got)
	}
	if resp := do(t, "GET", "http://"+r.host()+"/callback/%e3%81%82?"+r.good("x").Encode(), ""); resp.status != 404 {
		t.Fatalf("another spelling: %d", resp.status)
	}
	do(t, "GET", r.callbackURL(r.good("c")), "")
	if res, err := r.wait(t); err != nil || res.Code != "c" {
		t.Fatalf("%v %v", res, err)
	}
}

// A taken fixed port names the whole redirect URI to register, path
// included.
func TestFixedPortBusyNamesPath(t *testing.T) {
	t.Parallel()
	ln, err := listenLoopback([]string{"127.0.0.1"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Run(context.Background(), Params{AuthURL: "https://a.example/auth", ClientID: "c", Port: ln.Addr().(*net.TCPAddr).Port, CallbackPath: "/callback/x", Browser: &fakeBrowser{}, Stderr: &syncBuffer{}})
	var busy *PortInUseError
	if !errors.As(err, &busy) || !strings.Contains(err.Error(), "http://127.0.0.1:<port>/callback/x ") {
		t.Fatalf("%v", err)
	}
}

// Hole 8: a callback that repeats a response parameter is refused with the
// 4xx page, and the flow keeps waiting.
func TestCallbackRefusesRepeatedParams(t *testing.T) {
	t.Parallel()
	r := start(t, Params{Issuer: "https://id.example"})
	st := r.q.Get("state")
	for _, q := range []string{
		"code=a&code=b&state=" + st,
		"code=a&state=" + st + "&state=" + st,
		"code=a&state=" + st + "&iss=https://id.example&iss=https://id.example",
		"error=access_denied&error=access_denied&state=" + st,
		"error=x&state=" + st + "&error_description=a&error_description=b",
		"error=x&state=" + st + "&error_uri=a&error_uri=b",
		"code=a&cod%65=b&state=" + st,
	} {
		resp := do(t, "GET", r.callback+"?"+q, "")
		if resp.status != http.StatusBadRequest || resp.body != pageRejected {
			t.Errorf("%s: %d %q", q, resp.status, resp.body)
		}
		r.stillWaiting(t)
	}
	do(t, "GET", r.callbackURL(r.good("c")), "")
	if res, err := r.wait(t); err != nil || res.Code != "c" {
		t.Fatalf("%v %v", res, err)
	}
}

// SECURITY 28, manual mode: a pasted address on another provider's path is
// refused like such a callback, and the flow keeps waiting.
func TestSecurity28ManualPasteOtherPath(t *testing.T) {
	t.Parallel()
	pr, pw := newPipe(t)
	r := start(t, Params{Mode: ModeManual, Stdin: pr, CallbackPath: "/callback/evil"})
	st := r.q.Get("state")
	base := "http://" + r.host()
	for i, addr := range []string{
		base + "/callback/honest?code=honest-code&state=" + st,
		r.host() + "/callback/honest?code=honest-code&state=" + st,
		base + "/callback?code=honest-code&state=" + st,
		base + "/callback/evil/?code=honest-code&state=" + st,
		base + "/callback/%65vil?code=honest-code&state=" + st,
		base + "?code=honest-code&state=" + st,
	} {
		if _, err := pw.WriteString(addr + "\n"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the refusal", func() bool {
			return strings.Count(r.stderr.String(), "another sign-in (perhaps another provider's)") == i+1
		})
		r.stillWaiting(t)
	}
	// The right path, with or without the scheme; a bare query has none.
	if _, err := pw.WriteString(r.host() + "/callback/evil?code=evil-code&state=" + st + "#_=_\n"); err != nil {
		t.Fatal(err)
	}
	if res, err := r.wait(t); err != nil || res.Code != "evil-code" {
		t.Fatalf("%v %v", res, err)
	}
	pw.Close()
	assertNoSecrets(t, map[string]string{"stderr": r.stderr.String()}, "honest-code")
}
