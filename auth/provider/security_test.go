package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider/providertest"
)

// sinkServer is a server on another host name than the fake network: the
// fake listens as 127.0.0.1, the sink is addressed as localhost. It records
// every request it receives.
type sinkServer struct {
	*providertest.Server
	base string // http://localhost:PORT
}

func newSink(t *testing.T) *sinkServer {
	t.Helper()
	f := providertest.New(t)
	f.SetFallback(func(w http.ResponseWriter, _ *http.Request, _ seen) {
		providertest.WriteJSON(w, 200, `{"access_token":"sink-at","token_type":"bearer","expires_in":3600,"data":{"is_valid":true}}`)
	})
	u, err := url.Parse(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &sinkServer{Server: f, base: "http://localhost:" + u.Port()}
}

// redirectTo answers every request with a 302 to the sink.
func redirectTo(s *sinkServer) func(w http.ResponseWriter, r *http.Request, _ seen) {
	return func(w http.ResponseWriter, r *http.Request, _ seen) {
		http.Redirect(w, r, s.base+"/stolen", http.StatusFound)
	}
}

// SECURITY 27: a request that carries a secret (Meta's GETs carry the app
// secret, the code and the tokens in the query) never follows a redirect,
// so a redirect to another host receives nothing, not even a Referer; the
// error names the host the redirect pointed to.
func TestSecurity27SecretRequestsNeverFollowRedirects(t *testing.T) {
	t.Parallel()
	const secret, code, at, rt = "APPSECRET-27", "CODE-27", "USERTOKEN-27", "REFRESH-27"
	old := &auth.Token{AccessToken: at, RefreshToken: rt, ObtainedAt: fixedNow.Add(-48 * time.Hour)}
	metaOld := &auth.Token{AccessToken: at, ObtainedAt: fixedNow.Add(-48 * time.Hour)}
	type call struct {
		name string
		typ  string
		do   func(p *Provider) error
	}
	exchange := func(p *Provider) error {
		_, err := p.Exchange(ctx(t), code, "verifier-27", "https://relay.example/cb")
		return err
	}
	renew := func(tok *auth.Token) func(p *Provider) error {
		return func(p *Provider) error { _, err := p.Renew(ctx(t), tok); return err }
	}
	verify := func(p *Provider) error { _, err := p.Verify(ctx(t), metaOld); return err }
	account := func(p *Provider) error { _, err := p.Account(ctx(t), metaOld); return err }
	calls := []call{
		{"facebook code exchange", "facebook", exchange},
		{"facebook fb_exchange_token", "facebook", renew(metaOld)},
		{"facebook debug_token", "facebook", verify},
		{"facebook /me with the token in a header", "facebook", account},
		{"instagram ig_exchange_token", "instagram", exchange},
		{"instagram refresh", "instagram", renew(metaOld)},
		{"threads th_exchange_token", "threads", exchange},
		{"threads refresh", "threads", renew(metaOld)},
		{"threads debug_token", "threads", verify},
		{"x refresh POST", "x", renew(old)},
		{"google tokeninfo POST", "google", func(p *Provider) error { _, err := p.Verify(ctx(t), old); return err }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sink := newSink(t)
			f := newFake(t)
			f.SetFallback(redirectTo(sink))
			// Instagram's and Threads' first step is a POST that answers;
			// the GET swap after it is what redirects.
			f.Reply("POST /oauth/access_token", 200, `{"access_token":"`+at+`","token_type":"bearer","expires_in":3600}`)
			p := newProvider(t, Settings{Type: c.typ, ClientID: "APPID", ClientSecret: secret,
				AuthURL: f.Endpoint("/authorize"), TokenURL: f.Endpoint("/oauth/access_token"), ExchangeURL: f.Endpoint("/exchange"),
				RefreshURL: f.Endpoint("/refresh"), IntrospectURL: f.Endpoint("/debug_token"), UserinfoURL: f.Endpoint("/me"),
				RevokeURL: f.Endpoint("/revoke")})
			if c.typ == "facebook" {
				// Facebook redeems the code with a GET on the token URL.
				f.On("GET /oauth/access_token", redirectTo(sink))
			}
			if c.typ == "x" {
				f.On("POST /oauth/access_token", redirectTo(sink))
			}
			err := c.do(p)
			if got := sink.Requests(); len(got) != 0 {
				t.Fatalf("the sink on another host received %d request(s): %+v", len(got), got)
			}
			e := wantKind(t, err, KindConfig, "")
			msg := e.Error()
			if !strings.Contains(msg, "localhost") || !strings.Contains(msg, "redirect") {
				t.Errorf("the error does not name the redirect's host: %s", msg)
			}
			for _, s := range []string{secret, code, at, rt, "/stolen", "APPID|"} {
				if strings.Contains(msg, s) {
					t.Errorf("the error shows %q: %s", s, msg)
				}
			}
		})
	}
}

// SECURITY 27: x/oauth2's requests through HTTPClient (the device flow:
// device code, client secret) follow no redirect either, GET or POST.
func TestSecurity27HTTPClientFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	sink := newSink(t)
	f := newFake(t)
	f.SetFallback(redirectTo(sink))
	p := newProvider(t, Settings{Type: "oauth2", ClientID: "dev", ClientSecret: "DEVSECRET-27",
		AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/token"), DeviceAuthURL: f.Endpoint("/device/code")})
	hc := p.HTTPClient()
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, _ := http.NewRequestWithContext(ctx(t), method, f.Endpoint("/token?device_code=DC-27"), strings.NewReader("client_secret=DEVSECRET-27"))
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: a redirect was answered with HTTP %d, want an error", method, resp.StatusCode)
		} else if !strings.Contains(err.Error(), "localhost") || strings.Contains(err.Error(), "/stolen") {
			// The host, never the Location the server chose (net/http
			// would put it in its *url.Error).
			t.Errorf("%s: the error does not name just the redirect's host: %v", method, err)
		}
	}
	cfg, err := p.OAuth2Config(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.DeviceAuth(contextWithClient(t, hc)); err == nil {
		t.Error("the device authorization request followed a redirect")
	}
	if got := sink.Requests(); len(got) != 0 {
		t.Fatalf("the sink received %d request(s): %+v", len(got), got)
	}
}

// SECURITY 27: the discovery document carries no secret, so it may follow a
// redirect on the issuer's own host (never sending Referer), but not to
// another host, and never from https to http.
func TestSecurity27DiscoveryRedirects(t *testing.T) {
	t.Parallel()
	t.Run("same host: followed, without Referer", func(t *testing.T) {
		t.Parallel()
		f := oidcIssuer(t, nil)
		doc := f.Route("GET /.well-known/openid-configuration")
		f.On("GET /moved/openid-configuration", doc)
		f.On("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request, s seen) {
			http.Redirect(w, r, "/moved/openid-configuration", http.StatusMovedPermanently)
		})
		p := newProvider(t, Settings{Type: "oidc", Issuer: f.URL, ClientID: "c"})
		ep, err := p.Endpoints(ctx(t))
		if err != nil || ep.TokenURL != f.Endpoint("/token") || ep.Issuer != f.URL {
			t.Fatalf("%+v %v", ep, err)
		}
		for _, s := range f.Requests() {
			if ref := s.Header.Get("Referer"); ref != "" {
				t.Errorf("%s %s sent Referer %q", s.Method, s.Path, ref)
			}
		}
		if f.Count("GET /moved/openid-configuration") != 1 {
			t.Error("the same-host redirect was not followed")
		}
	})
	t.Run("another host: refused, naming it", func(t *testing.T) {
		t.Parallel()
		sink := newSink(t)
		f := newFake(t)
		f.SetFallback(redirectTo(sink))
		p := newProvider(t, Settings{Type: "oidc", Issuer: f.URL, ClientID: "c", ClientSecret: "S-27"})
		_, err := p.Endpoints(ctx(t))
		e := wantKind(t, err, KindConfig, "")
		if !strings.Contains(e.Error(), "localhost") || len(sink.Requests()) != 0 {
			t.Fatalf("%v (sink got %d)", e, len(sink.Requests()))
		}
	})
}

// redirectPolicy on its own (the transport refuses secret-carrying
// redirects before it; this is the second line): a request without the
// no-secret mark is refused, one with it follows on the same host only,
// never to http from https, at most maxRedirects hops; Referer is dropped.
func TestSecurity27RedirectPolicy(t *testing.T) {
	t.Parallel()
	get := func(u string, public bool) *http.Request {
		c := context.Background()
		if public {
			c = withNoSecret(c)
		}
		r, _ := http.NewRequestWithContext(c, http.MethodGet, u, nil)
		r.Header.Set("Referer", "https://id.example/?code=LEAK")
		return r
	}
	from := []*http.Request{get("https://id.example/.well-known/openid-configuration", false)}
	for _, c := range []struct {
		name, to string
		public   bool
		via      int
		want     string // "" = followed; else a part of the error
	}{
		{"secret", "https://id.example/x", false, 1, "carries a secret"},
		{"public, same host", "https://ID.example:8443/x", true, 1, ""},
		{"public, another host", "https://evil.example/x", true, 1, "another host, evil.example"},
		{"public, to http", "http://id.example/x", true, 1, "https to http"},
		{"public, hop 3", "https://id.example/x", true, 3, ""},
		{"public, hop 4", "https://id.example/x", true, 4, "too many"},
	} {
		req := get(c.to, c.public)
		via := make([]*http.Request, 0, c.via)
		for range c.via {
			via = append(via, from[0])
		}
		err := redirectPolicy(req, via)
		switch {
		case c.want == "" && err != nil, c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if ref := req.Header.Get("Referer"); ref != "" {
			t.Errorf("%s: Referer %q kept", c.name, ref)
		}
	}
}

// The Referer header never leaves sbctl, whoever set it.
func TestSecurity27NoRefererOnAnyRequest(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.Reply("GET /x", 200, `{}`)
	p := newProvider(t, Settings{Type: "oauth2", ClientID: "c", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/t")})
	req, _ := http.NewRequestWithContext(ctx(t), http.MethodGet, f.Endpoint("/x"), nil)
	req.Header.Set("Referer", "http://127.0.0.1/?code=LEAK")
	resp, err := p.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ref := f.Requests()[0].Header.Get("Referer"); ref != "" {
		t.Errorf("Referer %q was sent", ref)
	}
}

// Hole 8: expires_in out of range (negative, absurdly large, unreadable)
// is unknown but short: with a refresh token the access token counts as
// lapsed at once, so it is renewed on next use; without one the expiry
// stays unknown (a date made up here would make the profile read expired).
// A refresh token's lifetime out of range is unknown.
func TestTokenLifetimeOutOfRange(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, answer  string
		expiry        time.Time
		refreshExpiry time.Time
	}{
		{"negative", `"expires_in":-5,"refresh_token":"r"`, fixedNow, time.Time{}},
		{"1e15", `"expires_in":1e15,"refresh_token":"r"`, fixedNow, time.Time{}},
		{"1e15 as a string", `"expires_in":"1000000000000000","refresh_token":"r"`, fixedNow, time.Time{}},
		{"beyond ten years", `"expires_in":900000000000000,"refresh_token":"r"`, fixedNow, time.Time{}},
		{"unreadable", `"expires_in":"soon","refresh_token":"r"`, fixedNow, time.Time{}},
		{"zero is not stated", `"expires_in":0,"refresh_token":"r"`, time.Time{}, time.Time{}},
		{"null is not stated", `"expires_in":null,"refresh_token":"r"`, time.Time{}, time.Time{}},
		{"an hour", `"expires_in":3600,"refresh_token":"r"`, fixedNow.Add(time.Hour), time.Time{}},
		{"ten years is believed", `"expires_in":315360000,"refresh_token":"r"`, fixedNow.Add(315360000 * time.Second), time.Time{}},
		{"no refresh token: unknown", `"expires_in":-5`, time.Time{}, time.Time{}},
		{"refresh lifetime negative", `"expires_in":60,"refresh_token":"r","refresh_token_expires_in":-1`, fixedNow.Add(time.Minute), time.Time{}},
		{"refresh lifetime 1e15", `"expires_in":60,"refresh_token":"r","refresh_expires_in":1e15`, fixedNow.Add(time.Minute), time.Time{}},
		{"refresh lifetime a day", `"expires_in":60,"refresh_token":"r","refresh_expires_in":86400`, fixedNow.Add(time.Minute), fixedNow.Add(24 * time.Hour)},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f, p := oauth2Fake(t)
			f.Reply("POST /oauth/token", 200, `{"access_token":"a","token_type":"Bearer",`+c.answer+`}`)
			tok, err := p.Exchange(ctx(t), "code", "v", "http://127.0.0.1:1/callback/legacy")
			if err != nil {
				t.Fatal(err)
			}
			if !tok.Expiry.Equal(c.expiry) || !tok.RefreshExpiry.Equal(c.refreshExpiry) {
				t.Errorf("expiry %v refresh expiry %v, want %v %v", tok.Expiry, tok.RefreshExpiry, c.expiry, c.refreshExpiry)
			}
		})
	}
	t.Run("a refresh answer without a refresh token keeps the old one, so renews on next use", func(t *testing.T) {
		t.Parallel()
		f, p := oauth2Fake(t)
		f.Reply("POST /oauth/token", 200, `{"access_token":"a2","expires_in":1e15}`)
		tok, err := p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "r"})
		if err != nil || !tok.Expiry.Equal(fixedNow) {
			t.Fatalf("%+v %v", tok, err)
		}
	})
	t.Run("device flow", func(t *testing.T) {
		t.Parallel()
		_, p := oauth2Fake(t)
		for _, n := range []int64{-5, 1e15} {
			ot := (&oauth2.Token{AccessToken: "a", RefreshToken: "r", ExpiresIn: n, Expiry: time.Now().Add(time.Duration(n))}).
				WithExtra(map[string]any{"refresh_expires_in": float64(n)})
			tok, err := p.AcceptOAuth2Token(ot)
			if err != nil || !tok.Expiry.Equal(fixedNow) || !tok.RefreshExpiry.IsZero() {
				t.Errorf("expires_in %d: %+v %v", n, tok, err)
			}
			if old := p.TokenFromOAuth2(ot); !old.Expiry.Equal(fixedNow) {
				t.Errorf("TokenFromOAuth2, expires_in %d: expiry %v", n, old.Expiry)
			}
		}
	})
}

// A device-flow token passes the check an exchanged one does: one word of
// printable ASCII, so `sbctl token` can never print an escape sequence
// and an Authorization header never gains a line (SECURITY 29).
func TestAcceptOAuth2TokenRefusesUnprintableTokens(t *testing.T) {
	t.Parallel()
	_, p := oauth2Fake(t)
	for _, ot := range []*oauth2.Token{
		{AccessToken: "AT \x1b]0;PWNED\a\x1b[2J"},
		{AccessToken: "AT\r\nX-Injected: 1"},
		{AccessToken: "ok", RefreshToken: "RT\u202e"},
		{AccessToken: ""},
	} {
		tok, err := p.AcceptOAuth2Token(ot)
		if err == nil {
			t.Errorf("%q/%q accepted: %+v", ot.AccessToken, ot.RefreshToken, tok)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "PWNED") || strings.Contains(msg, "Injected") || strings.ContainsAny(msg, "\x1b\r\n") {
			t.Errorf("the message shows the token: %q", msg)
		}
	}
}

// Hole 8: token_type is Bearer (any case, or missing, as real networks
// omit it), stored as "Bearer"; DPoP is refused with a clear message, and
// so is any other type, in every token answer.
func TestTokenTypeChecked(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ typ, want, refused string }{
		{`"token_type":"bearer",`, "Bearer", ""},
		{`"token_type":"BEARER",`, "Bearer", ""},
		{`"token_type":" Bearer ",`, "Bearer", ""},
		{``, "Bearer", ""},
		{`"token_type":null,`, "Bearer", ""},
		{`"token_type":"DPoP",`, "", "DPoP"},
		{`"token_type":"dpop",`, "", "DPoP"},
		{`"token_type":"mac",`, "", `"mac"`},
		{`"token_type":"\u001b[2Jx",`, "", `"[2Jx"`},
		{`"token_type":7,`, "", "token_type"},
	} {
		t.Run(c.typ, func(t *testing.T) {
			t.Parallel()
			answer := `{` + c.typ + `"access_token":"a1","refresh_token":"r1","expires_in":60}`
			f, p := oauth2Fake(t)
			f.Reply("POST /oauth/token", 200, answer)
			ig, igp := instagramFake(t)
			ig.Reply("GET /refresh_access_token", 200, answer)
			fb, fbp := facebookFake(t)
			fb.Reply("GET /v23.0/oauth/access_token", 200, answer)
			xt := tokenTypeOf(answer)
			results := map[string]func() (*auth.Token, error){
				"exchange": func() (*auth.Token, error) { return p.Exchange(ctx(t), "c", "v", "http://127.0.0.1:1/callback/legacy") },
				"refresh":  func() (*auth.Token, error) { return p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "r"}) },
				"instagram refresh": func() (*auth.Token, error) {
					return igp.Renew(ctx(t), &auth.Token{AccessToken: "a", ObtainedAt: fixedNow.Add(-48 * time.Hour)})
				},
				"facebook swap": func() (*auth.Token, error) { return fbp.Exchange(ctx(t), "c", "", "https://relay.example/") },
				"device": func() (*auth.Token, error) {
					return p.AcceptOAuth2Token(&oauth2.Token{AccessToken: "a1", RefreshToken: "r1", TokenType: xt})
				},
			}
			for name, do := range results {
				if name == "device" && c.typ == `"token_type":7,` {
					continue // x/oauth2 cannot hold a number there
				}
				tok, err := do()
				if c.refused == "" {
					if err != nil || tok.TokenType != c.want {
						t.Errorf("%s: %+v %v, want type %q", name, tok, err, c.want)
					}
					continue
				}
				if err == nil {
					t.Errorf("%s: token of type %s accepted: %+v", name, c.typ, tok)
					continue
				}
				msg := err.Error()
				if !strings.Contains(msg, c.refused) || strings.ContainsAny(msg, "\x1b") {
					t.Errorf("%s: message %q, want it to name %s", name, msg, c.refused)
				}
				if c.refused == "DPoP" && !strings.Contains(msg, "does not support") {
					t.Errorf("%s: %q does not say DPoP is not supported", name, msg)
				}
			}
		})
	}
}

// contextWithClient is how the device flow hands x/oauth2 the client.
func contextWithClient(t *testing.T, hc *http.Client) context.Context {
	return context.WithValue(ctx(t), oauth2.HTTPClient, hc)
}

// tokenTypeOf is the token_type of a JSON answer as x/oauth2 would hold it.
func tokenTypeOf(answer string) string {
	var m struct {
		T any `json:"token_type"`
	}
	_ = json.Unmarshal([]byte(answer), &m)
	s, _ := m.T.(string)
	return s
}

// echoForms are the ways a server can echo a secret it was sent: as sent,
// form-encoded (+ or %20, upper or lower hex), with its whitespace doubled
// or converted, inside a JSON string with escapes (also \/ and \u0026).
func echoForms(secret string) map[string]string {
	q := url.QueryEscape(secret)
	js := mustJSON(secret)
	js = js[1 : len(js)-1]
	return map[string]string{
		"as sent":          secret,
		"form-encoded":     q,
		"percent-encoded":  strings.ReplaceAll(q, "+", "%20"),
		"path-escaped":     url.PathEscape(secret),
		"lower-case hex":   regexp.MustCompile(`%[0-9A-F]{2}`).ReplaceAllStringFunc(q, strings.ToLower),
		"doubled spaces":   strings.ReplaceAll(secret, " ", "  "),
		"tabs":             strings.ReplaceAll(secret, " ", "\t"),
		"CRLF":             strings.ReplaceAll(secret, " ", "\r\n"),
		"NBSP":             strings.ReplaceAll(secret, " ", "\u00a0"),
		"JSON escapes":     js,
		"JSON \\/ escapes": strings.ReplaceAll(js, "/", `\/`),
		"JSON no HTML":     strings.NewReplacer(`\u0026`, "&", `\u003c`, "<", `\u003e`, ">").Replace(js),
		"zero-width":       strings.ReplaceAll(secret, " ", " \u200b"),
	}
}

// Hole 8: scrubbing runs after the text is normalised, with the normalised
// form of every secret, so no echo form a server produces comes out.
func TestScrubAfterNormalising(t *testing.T) {
	t.Parallel()
	// Each secret with the pieces of it that must never come out. The
	// last is short enough that its encoded forms do not look like a
	// token, so only scrubbing can hide them.
	secrets := []string{"correct horse battery staple", `p@ss/w"rd&<x> y`, `a/b<c>`}
	pieces := [][]string{{"horse", "battery", "staple"}, {"p@ss", "p%40ss", "rd&", `rd\`}, {"a/b", "a%2", "a\\/b", "b<", `b\u003`}}
	for i, sec := range secrets {
		for form, echo := range echoForms(sec) {
			t.Run(fmt.Sprintf("secret %d/%s", i+1, form), func(t *testing.T) {
				t.Parallel()
				f := newFake(t)
				f.Reply("POST /oauth/token", 400, mustJSON(map[string]string{"error": "invalid_client",
					"error_description": "client  secret\t" + echo + "  is wrong"}))
				p := newProvider(t, Settings{Name: "legacy", Type: "oauth2", ClientID: "c", ClientSecret: sec,
					AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/oauth/token"), ClientAuth: "body"})
				_, err := p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "rt"})
				e := asError(t, err)
				for _, s := range []string{e.Description, e.Error()} {
					for _, word := range pieces[i] {
						if strings.Contains(s, word) {
							t.Fatalf("%s echo of the secret came out (%q): %s", form, word, s)
						}
					}
				}
				if !strings.Contains(e.Description, "client secret [redacted] is wrong") {
					t.Errorf("description %q", e.Description)
				}
			})
		}
	}
}

// SECURITY 30: escapes, C1 controls, bidi overrides, RLM/ALM, U+2028 and
// zero-width characters from a server never come out of an error
// description, a granted scope or an account's id or name.
func TestSecurity30ServerTextIsTerminalSafe(t *testing.T) {
	t.Parallel()
	const evil = "\x1b]0;PWNED\x07\x1b[2J\u009b31m\u202e\u200f\u061c\u2028\u200b\u2066"
	bad := func(s string) bool {
		for _, r := range s {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u202e' || r == '\u200f' || r == '\u061c' ||
				r == '\u2028' || r == '\u200b' || r == '\u2066' {
				return true
			}
		}
		return false
	}
	t.Run("error description", func(t *testing.T) {
		t.Parallel()
		f, p := oauth2Fake(t)
		f.Reply("POST /oauth/token", 400, mustJSON(map[string]string{"error": "invalid_grant", "error_description": "bad " + evil + " grant"}))
		_, err := p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "rt"})
		e := asError(t, err)
		if bad(e.Description) || bad(e.Error()) || !strings.Contains(e.Description, "]0;PWNED[2J31m") {
			t.Errorf("%q", e.Error())
		}
	})
	scopes := "read " + evil + " write\u202e admin\u200b ok,x\x1b[31m"
	check := func(t *testing.T, where string, got []string) {
		t.Helper()
		if strings.Join(got, " ") != "read ok" {
			t.Errorf("%s: scopes %q, want [read ok]", where, got)
		}
	}
	t.Run("scopes of a token answer", func(t *testing.T) {
		t.Parallel()
		f, p := oauth2Fake(t)
		f.Reply("POST /oauth/token", 200, mustJSON(map[string]any{"access_token": "a", "refresh_token": "r", "scope": scopes}))
		tok, err := p.Exchange(ctx(t), "c", "v", "http://127.0.0.1:1/callback/legacy")
		if err != nil {
			t.Fatal(err)
		}
		check(t, "exchange", tok.Scopes)
		f.Reply("POST /oauth/token", 200, mustJSON(map[string]any{"access_token": "a",
			"scope": append(strings.FieldsFunc(scopes, func(r rune) bool { return r == ' ' || r == ',' }), "two words", " ok ")}))
		tok, err = p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "r"})
		if err != nil {
			t.Fatal(err)
		}
		check(t, "refresh (list)", tok.Scopes)
		dt, err := p.AcceptOAuth2Token((&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{"scope": scopes}))
		if err != nil {
			t.Fatal(err)
		}
		check(t, "device", dt.Scopes)
		check(t, "device (TokenFromOAuth2)", p.TokenFromOAuth2((&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{"scope": scopes})).Scopes)
	})
	t.Run("scopes of introspection and debug_token", func(t *testing.T) {
		t.Parallel()
		f, p := oauth2Fake(t)
		f.Reply("POST /oauth/introspect", 200, mustJSON(map[string]any{"active": true, "scope": scopes}))
		v, err := p.Verify(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "r"})
		if err != nil {
			t.Fatal(err)
		}
		check(t, "introspection", v.Scopes)
		fb, fbp := facebookFake(t)
		fb.Reply("GET /v23.0/debug_token", 200, mustJSON(map[string]any{"data": map[string]any{"app_id": "app-id", "is_valid": true,
			"scopes": strings.FieldsFunc(scopes, func(r rune) bool { return r == ' ' || r == ',' })}}))
		v, err = fbp.Verify(ctx(t), &auth.Token{AccessToken: "a"})
		if err != nil {
			t.Fatal(err)
		}
		check(t, "debug_token", v.Scopes)
		g, gp := googleFake(t, "google")
		g.Reply("POST /tokeninfo", 200, mustJSON(map[string]any{"scope": scopes}))
		v, err = gp.Verify(ctx(t), &auth.Token{AccessToken: "a"})
		if err != nil {
			t.Fatal(err)
		}
		check(t, "tokeninfo", v.Scopes)
	})
	t.Run("account name and id", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		p := newProvider(t, Settings{Name: "legacy", Type: "oauth2", ClientID: "c", AuthURL: f.Endpoint("/a"),
			TokenURL: f.Endpoint("/oauth/token"), UserinfoURL: f.Endpoint("/userinfo")})
		f.Reply("GET /userinfo", 200, mustJSON(map[string]any{"sub": "u-1", "name": "Eve" + evil + "gnp.exe"}))
		a, err := p.Account(ctx(t), &auth.Token{AccessToken: "a"})
		if err != nil || a.ID != "u-1" || a.Name != "Eve]0;PWNED[2J31m gnp.exe" || bad(a.Name) {
			t.Errorf("%q %q %v", a.ID, a.Name, err)
		}
		// An id is a key, not prose: one that cleaning would change is not used.
		f.Reply("GET /userinfo", 200, mustJSON(map[string]any{"sub": "u-1\u202e", "name": "Eve"}))
		if a, err := p.Account(ctx(t), &auth.Token{AccessToken: "a"}); err == nil || bad(a.ID) {
			t.Errorf("an id with a bidi override was used: %q %v", a.ID, err)
		}
		a, err = p.Account(ctx(t), &auth.Token{AccessToken: "a", IDToken: idToken(`{"sub":"u-2","name":"Mallory\u2028\u200f\u001b[2J"}`)})
		if err != nil || a.ID != "u-2" || a.Name != "Mallory [2J" {
			t.Errorf("id token: %q %q %v", a.ID, a.Name, err)
		}
		long := strings.Repeat("n", 300)
		f.Reply("GET /userinfo", 200, mustJSON(map[string]any{"sub": "u-3", "name": long}))
		if a, _ := p.Account(ctx(t), &auth.Token{AccessToken: "a"}); len([]rune(a.Name)) > maxAccountName+1 {
			t.Errorf("a name of %d characters", len([]rune(a.Name)))
		}
	})
}

// SECURITY 28 (provider part): each provider has its own redirect path,
// /callback/<provider name> (TikTok keeps its trailing slash), unless
// redirect_path says otherwise; a bad redirect_path is refused.
func TestSecurity28RedirectPathPerProvider(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		s    Settings
		want string
	}{
		{Settings{Name: "acme", Type: "oauth2", AuthURL: "https://id.acme.example/a", TokenURL: "https://id.acme.example/t"}, "/callback/acme"},
		{Settings{Name: "x"}, "/callback/x"},
		{Settings{Name: "X work", Type: "x"}, "/callback/X%20work"},
		{Settings{Name: "a/b", Type: "x"}, "/callback/a%2Fb"},
		{Settings{Name: "tiktok"}, "/callback/tiktok/"},
		{Settings{Name: "tt-brand", Type: "tiktok"}, "/callback/tt-brand/"},
		{Settings{Name: "legacy", Type: "x", RedirectPath: "/oauth/legacy"}, "/oauth/legacy"},
		{Settings{Name: "tiktok", RedirectPath: "/cb"}, "/cb"},
		{Settings{Name: "fb", Type: "facebook", Redirect: "loopback"}, "/callback/fb"},
		// Relay mode: where the relay page forwards to (the network sees
		// the relay page's own address).
		{Settings{Name: "fb", Type: "facebook"}, "/callback/fb"},
		{Settings{Name: "fb", Type: "facebook", RedirectPath: "/callback/meta"}, "/callback/meta"},
	} {
		c.s.ClientID = "c"
		p, err := New(c.s, nil)
		if err != nil {
			t.Errorf("%+v: %v", c.s, err)
			continue
		}
		if got := p.RedirectPath(); got != c.want {
			t.Errorf("%s (%s): RedirectPath %q, want %q", c.s.Name, c.s.Type, got, c.want)
		}
		if got := p.Preset().CallbackPath; got != c.want {
			t.Errorf("%s: Preset().CallbackPath %q, want %q", c.s.Name, got, c.want)
		}
	}
	for _, bad := range []string{"callback", "/a?b", "/a#b", "/../x", "/a/..", "/a/./b", "/a b", "/a\x7f", "/ä", "//evil.example/x", `/a\b`, "/a\x1b[2J"} {
		_, err := New(Settings{Name: "x", ClientID: "c", RedirectPath: bad}, nil)
		if err == nil || !strings.Contains(err.Error(), "redirect_path") || strings.ContainsAny(err.Error(), "\x1b\x7f") {
			t.Errorf("redirect_path %q: %v", bad, err)
		}
	}
	// The presets that need an exact URI registered say which.
	for _, n := range []string{"x", "linkedin", "pinterest", "tiktok"} {
		pr, _ := Lookup(n)
		if !strings.Contains(pr.Notes, "/callback/<provider name>") || strings.Contains(pr.Notes, "/callback exactly") ||
			strings.Contains(pr.Notes, "/callback/ (") {
			t.Errorf("%s notes: %s", n, pr.Notes)
		}
	}
}

// SECURITY 28 (provider part): wherever metadata or the config names an
// issuer, Endpoints returns it, so the flow compares iss.
func TestSecurity28EndpointsNameTheIssuer(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		s    Settings
		want string
	}{
		{Settings{Type: "google"}, "https://accounts.google.com"},
		{Settings{Type: "youtube"}, "https://accounts.google.com"},
		{Settings{Name: "acme", Type: "oauth2", Issuer: "https://id.acme.example", AuthURL: "https://id.acme.example/a", TokenURL: "https://id.acme.example/t"}, "https://id.acme.example"},
		{Settings{Type: "x", Issuer: "https://x.example"}, "https://x.example"},
	} {
		c.s.ClientID = "c"
		p := newProvider(t, c.s)
		ep, err := p.Endpoints(ctx(t))
		if err != nil || ep.Issuer != c.want {
			t.Errorf("%s: issuer %q %v, want %q", c.s.Type, ep.Issuer, err, c.want)
		}
	}
	f := oidcIssuer(t, nil)
	p := newProvider(t, Settings{Type: "oidc", Issuer: f.URL, ClientID: "c"})
	ep, err := p.Endpoints(ctx(t))
	if err != nil || ep.Issuer != f.URL || !ep.IssParameterSupported {
		t.Errorf("oidc: %+v %v", ep, err)
	}
}
