package tui

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/flow"
	"github.com/sbctl/sbctl/auth/sandbox"
	"github.com/sbctl/sbctl/auth/sandbox/sandboxtest"
	"github.com/sbctl/sbctl/profiles"
)

// Sign-ins for real, against the sandbox authorization server on loopback:
// discovery, PKCE, the loopback listener, the code exchange, the token into
// a plain-file store and the state file, then the list reloaded.

func sandboxManager(t *testing.T, srv *sandbox.Server) *profiles.Manager {
	cfg := fmt.Sprintf(`providers:
  sbx:
    type: oidc
    issuer: %s
    client_id: test-cli
    scopes: [openid, offline_access, profile]
profiles:
  p1:
    provider: sbx
  広報アカウント:
    provider: sbx
`, srv.Issuer())
	return newManager(t, cfg, nil, time.Now)
}

func TestScreenReauthThroughSandbox(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Options{})
	m := New(sandboxManager(t, srv), Options{Browser: sandboxtest.ClickThrough(), Title: "sbctl sandbox", ReauthTimeout: 20 * time.Second})
	tm := startProgram(t, m, 100, 30)
	waitFor(t, tm, "2 need re-authentication", 5*time.Second)

	tm.Send(keyMsg("r")) // on p1, the first row
	waitFor(t, tm, "Connected p1 as", 20*time.Second)

	// Now that it has a refresh token, renew it and ask the network about it.
	tm.Send(keyMsg("f"))
	waitFor(t, tm, "Renewed p1", 20*time.Second)
	tm.Send(keyMsg("v"))
	waitFor(t, tm, "The network confirms p1", 20*time.Second)

	scr := quit(t, tm)
	if l := lineWith(t, scr, "p1"); !strings.Contains(l, " ok ") || !strings.Contains(l, "in 30d") {
		t.Errorf("p1 row after the sign-in: %q\n%s", l, scr)
	}
	if l := lineWith(t, scr, "広報アカウント"); !strings.Contains(l, "not_connected") {
		t.Errorf("the other profile changed: %q", l)
	}
	if s := srv.Stats(); s.CodeExchanges != 1 {
		t.Errorf("sandbox stats %+v", s)
	}
}

// TestScreenEscCancelsSandboxSignIn: a browser that never signs in, esc,
// and the flow ends: nothing stored, its loopback listener closed.
func TestScreenEscCancelsSandboxSignIn(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Options{})
	opened := make(chan string, 1)
	idleBrowser := flow.OpenerFunc(func(_ context.Context, u string) error {
		opened <- u
		return nil
	})
	m := New(sandboxManager(t, srv), Options{Browser: idleBrowser, Title: "sbctl sandbox", ReauthTimeout: time.Minute})
	tm := startProgram(t, m, 100, 30)
	waitFor(t, tm, "2 need re-authentication", 5*time.Second)

	tm.Send(keyMsg("r"))
	var authURL string
	select {
	case authURL = <-opened:
	case <-time.After(20 * time.Second):
		t.Fatal("the browser was never asked to open the URL")
	}
	waitFor(t, tm, "If none opened, open this URL", 5*time.Second)

	tm.Send(keyMsg("esc"))
	waitFor(t, tm, "nothing changed", 10*time.Second)

	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	redirect, err := url.Parse(u.Query().Get("redirect_uri"))
	if err != nil || redirect.Host == "" {
		t.Fatalf("redirect_uri in %s: %v", authURL, err)
	}
	if c, err := net.DialTimeout("tcp", redirect.Host, time.Second); err == nil {
		c.Close()
		t.Errorf("the loopback listener %s is still open after the cancel", redirect.Host)
	}

	scr := quit(t, tm)
	if !strings.Contains(scr, "Sign-in to p1 cancelled; nothing changed.") {
		t.Errorf("no cancellation note:\n%s", scr)
	}
	if l := lineWith(t, scr, "p1"); !strings.Contains(l, "not_connected") {
		t.Errorf("p1 changed: %q", l)
	}
	if n := srv.Stats().CodeExchanges; n != 0 {
		t.Errorf("code exchanges = %d", n)
	}
}
