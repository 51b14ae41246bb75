package flow

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// newPipe gives Run a stdin it can unblock (os.Pipe files support read
// deadlines), so manual-mode tests can also check for leaked goroutines.
func newPipe(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

func TestParsePasted(t *testing.T) {
	const st = "STATE123"
	for _, c := range []struct {
		in, code string
		err      error
	}{
		{"http://127.0.0.1:5000/callback?code=abc&state=STATE123", "abc", nil},
		{"  http://127.0.0.1:5000/callback?code=abc&state=STATE123  \r\n", "abc", nil},
		{"127.0.0.1:5000/callback?state=STATE123&code=a%2Fb", "a/b", nil},
		{"https://relay.example/r.html?code=abc&state=STATE123#_=_", "abc", nil},
		{"?code=abc&state=STATE123", "abc", nil},
		{"code=abc&state=STATE123", "abc", nil},
		{"abc", "abc", nil},
		{"abc==", "abc==", nil},
		{"AQD-x_y.z~", "AQD-x_y.z~", nil},
		{"abc#_", "abc", nil},
		{"http://127.0.0.1:5000/callback?code=abc&state=OTHER", "", errBadState},
		{"http://127.0.0.1:5000/callback?code=abc", "", errNoState},
		{"code=abc", "", errNoState},
		{"http://127.0.0.1:5000/callback?code=abc&state=STATE123&state=STATE123", "", errRepeatedParam},
		{"http://127.0.0.1:5000/callback?error=access_denied&state=OTHER", "", errBadState},
		{"http://127.0.0.1:5000/callback?error=access_denied&state=STATE123", "", ErrDenied},
		{"http://127.0.0.1:5000/callback?state=STATE123", "", errNoCode},
		{"http://127.0.0.1:5000/callback", "", errPasteNoQuery},
		{"http://127.0.0.1:5000/callback?code=a;b&state=STATE123", "", errPasteQuery},
		{"", "", errEmptyPaste},
		{"two words", "", errNotCode},
		{"#_", "", errNotCode},
		{"caf\u00e9", "", errNotCode},
		{strings.Repeat("a", maxPaste+1), "", errPasteTooLong},
	} {
		code, err := ParsePasted(c.in, st)
		if code != c.code || !errors.Is(err, c.err) {
			t.Errorf("ParsePasted(%.60q) = %q, %v; want %q, %v", c.in, code, err, c.code, c.err)
		}
		if err != nil && len(c.in) > 4 && strings.Contains(err.Error(), strings.TrimSpace(c.in)) {
			t.Errorf("error echoes the input: %v", err)
		}
	}
	// iss, through the variant that knows the issuer.
	if _, err := ParsePastedIssuer("?code=a&state=S&iss=https://evil.example", "S", "https://id.example", false); !errors.Is(err, errBadIss) {
		t.Errorf("iss mismatch: %v", err)
	}
	if _, err := ParsePastedIssuer("?code=a&state=S", "S", "https://id.example", true); !errors.Is(err, errNoIss) {
		t.Errorf("iss missing: %v", err)
	}
	if code, err := ParsePastedIssuer("?code=a&state=S&iss=https://id.example", "S", "https://id.example", true); err != nil || code != "a" {
		t.Errorf("iss ok: %q %v", code, err)
	}
	// An empty expected state never matches.
	if _, err := ParsePasted("?code=a&state=", ""); err == nil {
		t.Error("empty state accepted")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestManualPasteWins(t *testing.T) {
	pr, pw := newPipe(t)
	fb := &fakeBrowser{}
	r := start(t, Params{Mode: ModeManual, Stdin: pr, Browser: fb})
	out := r.stderr
	// The URL is printed, no browser is started, the redirect URI is loopback.
	waitFor(t, "instructions", func() bool { return strings.Contains(out.String(), "paste it here") })
	if !strings.Contains(out.String(), "Open this URL in a browser to continue:\n"+r.authURL+"\n") {
		t.Fatalf("stderr:\n%s", out)
	}
	if len(fb.opened()) != 0 {
		t.Fatal("manual mode opened a browser")
	}
	if r.redirect.Hostname() != "127.0.0.1" || r.redirect.Path != "/callback" {
		t.Fatalf("redirect %s", r.redirect)
	}
	// A bad paste: a reason, and the flow keeps reading.
	fmt.Fprintln(pw, r.redirect.String()+"?code=evil&state=wrong")
	waitFor(t, "reason", func() bool { return strings.Contains(out.String(), "state does not match") })
	fmt.Fprintln(pw, "not a code")
	waitFor(t, "second reason", func() bool { return strings.Contains(out.String(), "neither an address nor a code") })
	r.stillWaiting(t)
	fmt.Fprintln(pw, r.redirect.String()+"?code=pasted&state="+url.QueryEscape(r.q.Get("state")))
	res, err := r.wait(t)
	if err != nil || res.Code != "pasted" || res.RedirectURI != r.redirect.String() {
		t.Fatalf("%v %v", res, err)
	}
	assertRefused(t, r.host())
	if strings.Contains(out.String(), "evil") {
		t.Fatal("a pasted value was echoed")
	}
}

func TestManualBareCode(t *testing.T) {
	r := start(t, Params{Mode: ModeManual, Stdin: strings.NewReader("\n\nbare-code\n")})
	res, err := r.wait(t)
	if err != nil || res.Code != "bare-code" {
		t.Fatalf("%v %v", res, err)
	}
}

func TestManualCallbackWins(t *testing.T) {
	pr, pw := newPipe(t)
	r := start(t, Params{Mode: ModeManual, Stdin: pr})
	do(t, "GET", r.callbackURL(r.good("from-browser")), "")
	res, err := r.wait(t)
	if err != nil || res.Code != "from-browser" {
		t.Fatalf("%v %v", res, err)
	}
	// Stdin is left usable for the caller: no read deadline stays behind.
	fmt.Fprintln(pw, "after")
	buf := make([]byte, 16)
	n, err := pr.Read(buf)
	if err != nil || string(buf[:n]) != "after\n" {
		t.Fatalf("stdin after the flow: %q %v", buf[:n], err)
	}
}

func TestManualEOFKeepsWaiting(t *testing.T) {
	r := start(t, Params{Mode: ModeManual, Stdin: strings.NewReader("")})
	waitFor(t, "EOF note", func() bool { return strings.Contains(r.stderr.String(), "Input closed") })
	r.stillWaiting(t)
	do(t, "GET", r.callbackURL(r.good("c")), "")
	if res, err := r.wait(t); err != nil || res.Code != "c" {
		t.Fatalf("%v %v", res, err)
	}
}

func TestManualDeniedPaste(t *testing.T) {
	pr, pw := newPipe(t)
	r := start(t, Params{Mode: ModeManual, Stdin: pr})
	fmt.Fprintln(pw, "?error=access_denied&state=wrong")
	waitFor(t, "reason", func() bool { return strings.Contains(r.stderr.String(), "state does not match") })
	r.stillWaiting(t)
	fmt.Fprintln(pw, "?error=access_denied&state="+r.q.Get("state"))
	if _, err := r.wait(t); !errors.Is(err, ErrDenied) {
		t.Fatalf("err = %v", err)
	}
}

func TestManualLongLine(t *testing.T) {
	r := start(t, Params{Mode: ModeManual, Stdin: strings.NewReader(strings.Repeat("x", maxPaste+10) + "\nok-code\n")})
	res, err := r.wait(t)
	if err != nil || res.Code != "ok-code" {
		t.Fatalf("%v %v", res, err)
	}
	if !strings.Contains(r.stderr.String(), "too long") {
		t.Fatalf("stderr:\n%s", r.stderr)
	}
}

// FuzzParsePasted: no panic, and success only with a usable code and, for
// anything read as a redirected address, exactly the right state; in a flow
// (which knows its callback path), a full address only on that path.
func FuzzParsePasted(f *testing.F) {
	const st = "c3RhdGUtZm9yLWZ1enppbmc"
	for _, s := range []string{
		"http://127.0.0.1:1/callback?code=a&state=" + st,
		"http://127.0.0.1:1/callback/acme?code=a&state=" + st,
		"127.0.0.1:1/callback/honest?code=a&state=" + st,
		"http://127.0.0.1:1/callback/%61cme?code=a&state=" + st,
		"?code=a&state=" + st + "&state=" + st,
		"code=a&state=x",
		"?error=access_denied&state=" + st,
		"abc==",
		"abc#_=_",
		"https://x/?#",
		"",
		"\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		code, err := ParsePasted(in, st)
		if err != nil {
			if code != "" {
				t.Fatal("code with an error")
			}
			return
		}
		if code == "" || strings.IndexFunc(code, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
			t.Fatalf("unusable code %q from %q", code, in)
		}
		q, isResponse, _ := pastedQuery(strings.TrimSpace(in))
		if isResponse && (len(q["state"]) != 1 || q.Get("state") != st) {
			t.Fatalf("accepted %q without the right state", in)
		}
		if _, err := (&checker{state: st, path: "/callback/acme"}).paste(in); err == nil && isResponse {
			addr, _, _ := strings.Cut(strings.TrimSpace(in), "#")
			addr, _, hasQuery := strings.Cut(addr, "?")
			if hasQuery && addr != "" && !strings.HasSuffix(addr, "/callback/acme") {
				t.Fatalf("the flow on /callback/acme accepted %q", in)
			}
		}
	})
}
