package sandbox

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestCodeFlowWithPKCE(t *testing.T) {
	clk := newClock()
	s := start(t, Options{AutoApprove: true, Now: clk.Now})
	conf := config(s, "openid", "profile")
	tok := codeFlow(t, s, conf, oauth2.SetAuthURLParam("login_hint", "alice"))
	if !strings.HasPrefix(tok.AccessToken, "sbx-at-") || !strings.HasPrefix(tok.RefreshToken, "sbx-rt-") || tok.TokenType != "Bearer" {
		t.Fatalf("token %+v", tok)
	}
	if tok.ExpiresIn != 3600 {
		t.Errorf("expires_in = %d", tok.ExpiresIn)
	}
	if got := tok.Extra("refresh_token_expires_in"); got != float64(30*24*3600) {
		t.Errorf("refresh_token_expires_in = %v", got)
	}
	if tok.Extra("scope") != "openid profile" || tok.Extra("id_token") == nil {
		t.Errorf("scope %v, id_token %v", tok.Extra("scope"), tok.Extra("id_token"))
	}
	code, body, _ := getUserinfo(t, s, tok.AccessToken)
	if code != 200 || body["sub"] != "alice" || body["name"] != "alice" || body["email"] != "alice@sandbox.test" || body["preferred_username"] != "alice" {
		t.Fatalf("userinfo %d %v", code, body)
	}
	st := s.Stats()
	if st.AuthorizeRequests != 1 || st.CodeExchanges != 1 || st.TokenRequests != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestDefaultAccount(t *testing.T) {
	s := start(t, Options{AutoApprove: true})
	tok := codeFlow(t, s, config(s))
	_, body, _ := getUserinfo(t, s, tok.AccessToken)
	if body["sub"] != "sandbox-user" || body["name"] != "Sandbox User" || body["email"] != "sandbox-user@sandbox.test" {
		t.Fatalf("userinfo %v", body)
	}
	if tok.Extra("id_token") != nil {
		t.Error("id_token without the openid scope")
	}
	if tok.RefreshToken == "" {
		t.Error("no refresh token without offline_access: every code exchange must issue one")
	}
}

func TestClientSecretBasicAndPost(t *testing.T) {
	s := start(t, Options{AutoApprove: true})
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		conf := config(s)
		conf.ClientSecret = "s3cret/+&="
		conf.Endpoint.AuthStyle = style
		// A client with a secret may omit PKCE.
		q := authorize(t, conf.AuthCodeURL("st"))
		tok, err := conf.Exchange(context.Background(), q.Get("code"))
		if err != nil {
			t.Fatalf("style %d: %v", style, err)
		}
		// The grant remembers the secret: the same secret refreshes...
		tok.Expiry = time.Now().Add(-time.Minute)
		if _, err := conf.TokenSource(context.Background(), tok).Token(); err != nil {
			t.Fatalf("style %d: refresh with the secret: %v", style, err)
		}
		// ...another one, or none, is refused.
		code, body := refresh(t, s, tok.RefreshToken)
		wantError(t, code, body, http.StatusUnauthorized, "invalid_client", "")
		code, body, hdr := post(t, s.Metadata().TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}},
			func(r *http.Request) { r.SetBasicAuth(testClient, "other") })
		wantError(t, code, body, http.StatusUnauthorized, "invalid_client", "")
		if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic") || hdr.Get("Cache-Control") != "no-store" {
			t.Errorf("headers %v", hdr)
		}
	}
}

func exchangeErr(t *testing.T, err error, wantCode string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != wantCode {
		t.Fatalf("error %v, want %s", err, wantCode)
	}
}

func TestPKCEErrors(t *testing.T) {
	s := start(t, Options{AutoApprove: true})
	conf := config(s)
	ctx := context.Background()

	t.Run("wrong verifier", func(t *testing.T) {
		q := authorize(t, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		_, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
		exchangeErr(t, err, "invalid_grant")
	})
	t.Run("missing verifier", func(t *testing.T) {
		q := authorize(t, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		_, err := conf.Exchange(ctx, q.Get("code"))
		exchangeErr(t, err, "invalid_grant")
	})
	t.Run("code burnt by a wrong verifier", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		q := authorize(t, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(v)))
		_, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
		exchangeErr(t, err, "invalid_grant")
		_, err = conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
		exchangeErr(t, err, "invalid_grant")
	})
	t.Run("missing PKCE from a public client", func(t *testing.T) {
		q := authorize(t, conf.AuthCodeURL("st"))
		_, err := conf.Exchange(ctx, q.Get("code"))
		exchangeErr(t, err, "invalid_request")
	})
	t.Run("verifier without challenge (downgrade)", func(t *testing.T) {
		q := authorize(t, conf.AuthCodeURL("st"))
		_, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
		exchangeErr(t, err, "invalid_grant")
	})
	for name, params := range map[string]url.Values{
		"plain":             {"code_challenge": {oauth2.GenerateVerifier()}, "code_challenge_method": {"plain"}},
		"implicit plain":    {"code_challenge": {strings.Repeat("a", 43)}},
		"method only":       {"code_challenge_method": {"S256"}},
		"bad challenge":     {"code_challenge": {"short"}, "code_challenge_method": {"S256"}},
		"no response_type":  {"response_type": {""}},
		"token flow":        {"response_type": {"token"}},
		"bad scope":         {"scope": {"a\"b"}},
		"bad login_hint":    {"login_hint": {"a/b"}},
		"repeated state":    {"state": {"a", "b"}},
		"form_post":         {"response_mode": {"form_post"}},
		"prompt=none is ok": nil,
	} {
		t.Run(name, func(t *testing.T) {
			q := url.Values{"client_id": {testClient}, "redirect_uri": {testRedirect}, "response_type": {"code"}, "state": {"st"}}
			for k, v := range params {
				q[k] = v
			}
			resp, err := noRedirect.Get(s.Metadata().AuthorizationEndpoint + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			cb := loc.Query()
			if params == nil {
				if cb.Get("code") == "" {
					t.Fatalf("no code: %v", cb)
				}
				return
			}
			if resp.StatusCode != http.StatusFound || cb.Get("error") == "" || cb.Get("code") != "" || cb.Get("iss") != s.Issuer() {
				t.Fatalf("got %d %v, want an error redirect with iss", resp.StatusCode, cb)
			}
			if len(params["state"]) == 1 && cb.Get("state") != "st" {
				t.Fatalf("state not passed through: %v", cb)
			}
		})
	}
}

func TestRedirectURIValidation(t *testing.T) {
	s := start(t, Options{AutoApprove: true})
	good := []string{
		"http://127.0.0.1:1234/callback", "http://[::1]:80/cb", "http://localhost:65535/", "http://127.0.0.1/cb",
		"http://127.0.0.1:8765/callback?x=1",
	}
	bad := []string{
		"https://example.com/callback", "http://evil.example:1234/cb", "http://127.0.0.1.evil.example/cb",
		"http://127.0.0.2:1234/cb", "https://127.0.0.1:1234/cb", "http://user@127.0.0.1:1234/cb",
		"http://127.0.0.1:1234/cb#frag", "http://127.0.0.1:99999/cb", "http://127.0.0.1:0/cb",
		"http://127.0.0.1:/cb", "javascript:alert(1)", "http://[::1%25eth0]:80/cb", "//127.0.0.1:1234/cb",
		"", "custom.scheme:/cb", "http://localhost.evil.example:80/",
	}
	for _, ru := range append(good, bad...) {
		q := url.Values{"client_id": {testClient}, "redirect_uri": {ru}, "response_type": {"code"}, "state": {"st"},
			"code_challenge": {strings.Repeat("A", 43)}, "code_challenge_method": {"S256"}}
		resp, err := noRedirect.Get(s.Metadata().AuthorizationEndpoint + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		isGood := false
		for _, g := range good {
			isGood = isGood || g == ru
		}
		if isGood {
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != 302 || loc.Query().Get("code") == "" || !strings.HasPrefix(loc.String(), strings.SplitN(ru, "?", 2)[0]+"?") {
				t.Errorf("%q: %d %q", ru, resp.StatusCode, resp.Header.Get("Location"))
			}
			if strings.Contains(ru, "?x=1") && loc.Query().Get("x") != "1" {
				t.Errorf("%q: redirect lost its query: %s", ru, loc)
			}
			continue
		}
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%q: %d Location %q, want a 400 page", ru, resp.StatusCode, resp.Header.Get("Location"))
		}
		if ru != "" && strings.Contains(string(body), ru) {
			t.Errorf("%q: the error page reflects the redirect_uri", ru)
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%q: error page without CSP", ru)
		}
	}
	// No client_id: also a page, never a redirect.
	resp, err := noRedirect.Get(s.Metadata().AuthorizationEndpoint + "?" + url.Values{"redirect_uri": {testRedirect}, "response_type": {"code"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
		t.Errorf("missing client_id: %d", resp.StatusCode)
	}
}

func TestTokenExchangeBindings(t *testing.T) {
	clk := newClock()
	s := start(t, Options{AutoApprove: true, Now: clk.Now})
	conf := config(s)
	ctx := context.Background()
	get := func() (string, string) {
		v := oauth2.GenerateVerifier()
		q := authorize(t, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(v)))
		return q.Get("code"), v
	}
	t.Run("other client", func(t *testing.T) {
		code, v := get()
		other := *conf
		other.ClientID = "someone-else"
		_, err := other.Exchange(ctx, code, oauth2.VerifierOption(v))
		exchangeErr(t, err, "invalid_grant")
	})
	t.Run("other redirect_uri", func(t *testing.T) {
		code, v := get()
		other := *conf
		other.RedirectURL = "http://127.0.0.1:49153/callback"
		_, err := other.Exchange(ctx, code, oauth2.VerifierOption(v))
		exchangeErr(t, err, "invalid_grant")
	})
	t.Run("expired code", func(t *testing.T) {
		code, v := get()
		clk.Advance(61 * time.Second)
		_, err := conf.Exchange(ctx, code, oauth2.VerifierOption(v))
		exchangeErr(t, err, "invalid_grant")
	})
	t.Run("unknown code", func(t *testing.T) {
		_, err := conf.Exchange(ctx, "sbx-ac-nope", oauth2.VerifierOption(oauth2.GenerateVerifier()))
		exchangeErr(t, err, "invalid_grant")
	})
}

func TestCodeReuseRevokesTokens(t *testing.T) {
	s := start(t, Options{AutoApprove: true})
	conf := config(s)
	ctx := context.Background()
	v := oauth2.GenerateVerifier()
	q := authorize(t, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(v)))
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	_, err = conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
	exchangeErr(t, err, "invalid_grant")
	// RFC 6749 §4.1.2: the tokens issued from the code are revoked.
	code, body := refresh(t, s, tok.RefreshToken)
	wantError(t, code, body, 400, "invalid_grant", "access_revoked")
	if in := introspect(t, s, tok.AccessToken); in["active"] != false || in["reason"] != "access_revoked" {
		t.Fatalf("introspection after code reuse: %v", in)
	}
	if s.Stats().CodeReplays != 1 {
		t.Errorf("stats %+v", s.Stats())
	}
}

func TestApprovalPage(t *testing.T) {
	s := start(t, Options{})
	conf := config(s, "openid")
	v := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("st-<x>", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("login_hint", "bob"))

	page := func() (string, http.Header) {
		resp, err := noRedirect.Get(authURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("approval page: %d", resp.StatusCode)
		}
		return string(b), resp.Header
	}
	requestID := func(body string) string {
		const marker = `name="request" value="`
		i := strings.Index(body, marker)
		if i < 0 {
			t.Fatalf("no request field in %s", body)
		}
		rest := body[i+len(marker):]
		return rest[:strings.IndexByte(rest, '"')]
	}
	body, hdr := page()
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "Referrer-Policy", "Cache-Control"} {
		if hdr.Get(h) == "" {
			t.Errorf("approval page lacks %s", h)
		}
	}
	if !strings.Contains(body, "bob@sandbox.test") || strings.Contains(body, "<x>") {
		t.Fatalf("approval page: %s", body)
	}

	// A cross-site post is refused and does not consume the request.
	id := requestID(body)
	form := url.Values{"request": {id}, "decision": {"approve"}}
	code, _, _ := postPage(t, s.Metadata().AuthorizationEndpoint, form, "https://evil.example")
	if code != http.StatusForbidden {
		t.Fatalf("cross-site approval: %d", code)
	}
	code, loc, _ := postPage(t, s.Metadata().AuthorizationEndpoint, form, s.Issuer())
	if code != http.StatusSeeOther || loc.Query().Get("state") != "st-<x>" || loc.Query().Get("iss") != s.Issuer() {
		t.Fatalf("approve: %d %v", code, loc)
	}
	tok, err := conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if _, body, _ := getUserinfo(t, s, tok.AccessToken); body["sub"] != "bob" {
		t.Fatalf("userinfo %v", body)
	}
	// The request is single use.
	if code, _, _ := postPage(t, s.Metadata().AuthorizationEndpoint, form, ""); code != http.StatusBadRequest {
		t.Fatalf("second approval: %d", code)
	}

	// Deny.
	id = requestID(must(page()))
	code, loc, _ = postPage(t, s.Metadata().AuthorizationEndpoint, url.Values{"request": {id}, "decision": {"deny"}}, "")
	if code != http.StatusSeeOther || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "st-<x>" || loc.Query().Get("iss") != s.Issuer() || loc.Query().Get("code") != "" {
		t.Fatalf("deny: %d %v", code, loc)
	}
}

func must[T any](v T, _ ...any) T { return v }

// postPage posts a browser form, with an Origin header when origin != "".
func postPage(t *testing.T, endpoint string, form url.Values, origin string) (int, *url.URL, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return resp.StatusCode, loc, string(b)
}
