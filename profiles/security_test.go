package profiles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/flow"
	"github.com/sbctl/sbctl/auth/provider/providertest"
	"github.com/sbctl/sbctl/auth/sandbox"
	"github.com/sbctl/sbctl/auth/sandbox/sandboxtest"
)

// Claims of SECURITY.md that only the flow package's own tests covered:
// these prove them end to end, through Manager.Reauth, so that a change in
// how reauth builds the flow cannot weaken them unnoticed.

// browserRewriting is a click-through browser that changes the callback
// URL before following it (an attacker's page, a mix-up).
func browserRewriting(rewrite func(u *url.URL)) flow.Opener {
	return flow.OpenerFunc(func(ctx context.Context, authURL string) error {
		go func() {
			c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := c.Get(authURL)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			cb, err := url.Parse(resp.Header.Get("Location"))
			if err != nil {
				return
			}
			rewrite(cb)
			if resp, err := c.Get(cb.String()); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		return nil
	})
}

// SECURITY 10: a server that advertises
// authorization_response_iss_parameter_supported (the sandbox does) must
// send iss; a callback without it is refused before any code exchange.
func TestSecurity10ReauthRequiresIssWhenAdvertised(t *testing.T) {
	t.Parallel()
	srv := sandboxtest.Start(t, sandbox.Options{})
	m, _ := newWorkspace(t, sandboxConfig(srv.Issuer()))
	drop := browserRewriting(func(u *url.URL) {
		q := u.Query()
		q.Del("iss")
		u.RawQuery = q.Encode()
	})
	_, err := m.Reauth(context.Background(), "p1", ReauthOptions{Browser: drop, Timeout: 2 * time.Second, Stderr: io.Discard})
	if err == nil {
		t.Fatal("a callback without iss from a server that advertises it was accepted")
	}
	if n := srv.Stats().CodeExchanges; n != 0 {
		t.Errorf("%d code exchanges after a callback without iss, want 0", n)
	}
}

// SECURITY 11: a code is redeemed once: a 500 from the token endpoint
// ends the sign-in with no second POST anywhere in the reauth.
func TestSecurity11ReauthRedeemsACodeOnce(t *testing.T) {
	t.Parallel()
	srv := sandboxtest.Start(t, sandbox.Options{})
	token := providertest.New(t)
	token.SetFallback(func(w http.ResponseWriter, _ *http.Request, _ providertest.Request) {
		providertest.WriteJSON(w, http.StatusInternalServerError, `{"error":"server_error"}`)
	})
	md := srv.Metadata()
	cfg := fmt.Sprintf("providers:\n  legacy:\n    type: oauth2\n    auth_url: %s\n    token_url: %s/token\n    client_id: test-cli\nprofiles:\n  p1:\n    provider: legacy\n", md.AuthorizationEndpoint, token.URL)
	m, _ := newWorkspace(t, cfg)
	_, err := m.Reauth(context.Background(), "p1", ReauthOptions{Browser: sandboxtest.ClickThrough(), Timeout: 10 * time.Second, Stderr: io.Discard})
	if err == nil {
		t.Fatal("reauth succeeded against a token endpoint that answers 500")
	}
	posts := 0
	for _, r := range token.Requests() {
		if r.Method == http.MethodPost {
			posts++
		}
	}
	if n := posts; n != 1 {
		t.Errorf("%d POSTs to the token endpoint, want exactly 1 (a code is redeemed once)", n)
	}
}

// SECURITY 24: the state file is replaced by rename, never rewritten in
// place: a reader (or a process killed mid-write) sees the old file or the
// new one, never a torn one.
func TestSecurity24StateReplacedByRename(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	sf := NewStateFile(dir)
	ctx := context.Background()
	if err := sf.Update(ctx, func(s *State) error { s.Profiles["a"] = &Record{Connected: true}; return nil }); err != nil {
		t.Fatal(err)
	}
	old, err := os.Open(sf.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	before, _ := io.ReadAll(old)
	oldInfo, _ := old.Stat()
	if err := sf.Update(ctx, func(s *State) error { s.Profiles["b"] = &Record{Connected: true}; return nil }); err != nil {
		t.Fatal(err)
	}
	newInfo, err := os.Stat(sf.Path)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(oldInfo, newInfo) {
		t.Fatal("the state file was rewritten in place, not replaced: a kill mid-write would tear it")
	}
	if _, err := old.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	after, _ := io.ReadAll(old)
	if string(after) != string(before) {
		t.Error("the old state file changed under a reader")
	}
	// No temp file is left behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); n != "state.json" && n != "state.json.lock" {
			t.Errorf("left in the state directory: %s", n)
		}
	}
	if _, err := sf.Load(); err != nil && !errors.Is(err, errStateMissing) {
		t.Errorf("the new state does not load: %v", err)
	}
}

// SECURITY 28: the mix-up attack of RFC 9700 §4.4 against a provider
// without an issuer. A malicious authorization server ("evil", a plain
// oauth2 provider) bounces the browser to an honest one with the honest
// app's client_id, sbctl's state and PKCE challenge, and the redirect URI
// the honest app registered. Before, every provider shared /callback, so
// sbctl accepted the honest server's callback and sent its code and
// verifier to evil's token endpoint. With one redirect URI per provider
// the callback lands on a path this flow does not listen on: evil's token
// endpoint receives nothing it can redeem.
func TestSecurity28MixUpGetsNoCode(t *testing.T) {
	t.Parallel()
	honest := sandboxtest.Start(t, sandbox.Options{})
	honestAuthz := honest.Metadata().AuthorizationEndpoint
	var registered atomic.Value
	evil := providertest.New(t)
	evil.On("GET /authorize", func(w http.ResponseWriter, r *http.Request, req providertest.Request) {
		q := req.Query
		cb, err := url.Parse(q.Get("redirect_uri"))
		if err != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		// The redirect URI the honest app registered (what `sbctl
		// providers show honest` says to register), on sbctl's
		// listener's port: an honest server accepts only that one.
		cb.Path = registered.Load().(string)
		bounce := url.Values{"response_type": {"code"}, "client_id": {"honest-cli"}, "redirect_uri": {cb.String()},
			"state": {q.Get("state")}, "code_challenge": {q.Get("code_challenge")}, "code_challenge_method": {"S256"}, "scope": {"openid"}}
		http.Redirect(w, r, honestAuthz+"?"+bounce.Encode(), http.StatusFound)
	})
	evil.On("POST /token", func(w http.ResponseWriter, _ *http.Request, _ providertest.Request) {
		http.Error(w, "thanks", http.StatusBadRequest)
	})
	cfg := fmt.Sprintf("providers:\n  honest:\n    type: oidc\n    issuer: %s\n    client_id: honest-cli\n  evil:\n    type: oauth2\n    auth_url: %s/authorize\n    token_url: %s/token\n    client_id: evil-cli\nprofiles:\n  p1:\n    provider: evil\n",
		honest.Issuer(), evil.URL, evil.URL)
	m, _ := newWorkspace(t, cfg)
	info, err := m.DescribeProvider("honest")
	if err != nil {
		t.Fatal(err)
	}
	// "http://127.0.0.1:<any port>/callback/honest": the path after the
	// host.
	rest := strings.TrimPrefix(info.RedirectURI, "http://127.0.0.1:")
	registered.Store(rest[strings.Index(rest, "/"):])
	_, err = m.Reauth(context.Background(), "p1", ReauthOptions{Browser: sandboxtest.ClickThrough(), Timeout: 3 * time.Second, Stderr: io.Discard})
	if err == nil {
		t.Fatal("the mixed-up sign-in succeeded")
	}
	if n := evil.Count("/token"); n != 0 {
		t.Errorf("the attacker's token endpoint got %d requests (a code and verifier it can redeem at the honest server)", n)
	}
}

// SECURITY 30, the domain's part: scopes and account names a network
// gave reach every front end through the view, cleaned; a scope that the
// terminal-safe policy would change is dropped, not shown half-cleaned.
func TestSecurity30ViewIsTerminalSafe(t *testing.T) {
	t.Parallel()
	m, _ := newWorkspace(t, "providers:\n  a:\n    type: oauth2\n    auth_url: http://127.0.0.1:9/a\n    token_url: http://127.0.0.1:9/t\n    client_id: c\nprofiles:\n  p:\n    provider: a\n")
	if err := m.State.Update(context.Background(), func(s *State) error {
		s.Profiles["p"] = &Record{Connected: true, Account: cleanText("evil\x1b]0;PWNED\x07\u202e"),
			Scopes: []string{"read", "\x1b]0;PWNED-SCOPE\x07\x1b[2J", "write\u200b", "ok"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	v, err := m.Show(context.Background(), "p", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(v.Scopes, " "); got != "read ok" {
		t.Errorf("scopes %q, want only the plain ones", got)
	}
	if v.Account == nil || *v.Account != "evil]0;PWNED" {
		t.Errorf("account %v", v.Account)
	}
}
