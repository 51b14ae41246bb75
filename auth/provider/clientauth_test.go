package provider

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider/providertest"
)

// fositeInvalidClient is what ORY Hydra (fosite) puts before its hint on
// every invalid_client answer.
const fositeInvalidClient = "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method)."

// hydraFake plays ORY Hydra's public port for one client registered with
// token_endpoint_auth_method registered: the discovery document Hydra
// serves, and its token endpoint refusing any other method with fosite's
// 401 invalid_client and hint.
func hydraFake(t *testing.T, registered string) *fakeNet {
	f := newFake(t)
	f.On("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request, s seen) {
		iss := f.URL
		providertest.WriteJSON(w, 200, mustJSON(map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/oauth2/auth", "token_endpoint": iss + "/oauth2/token",
			"revocation_endpoint": iss + "/oauth2/revoke", "userinfo_endpoint": iss + "/userinfo",
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic", "private_key_jwt", "none"},
		}))
	})
	var rotation atomic.Int32
	f.On("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request, s seen) {
		method := ""
		id, secret := s.Form.Get("client_id"), s.Form.Get("client_secret")
		switch {
		case id != "" && secret != "":
			method = "client_secret_post"
		case s.HasBasic && s.BasicPass != "":
			method, id, secret = "client_secret_basic", s.BasicUser, s.BasicPass
		}
		if method == "" || method != registered {
			hint := " The OAuth 2.0 Client supports client authentication method '" + registered + "', but method '" + method +
				"' was requested. You must configure the OAuth 2.0 client's 'token_endpoint_auth_method' value to accept '" + method + "'."
			providertest.WriteJSON(w, 401, mustJSON(map[string]string{"error": "invalid_client", "error_description": fositeInvalidClient + hint}))
			return
		}
		if id != "hydra-client" || secret != "hydra-secret" {
			providertest.WriteJSON(w, 401, mustJSON(map[string]string{"error": "invalid_client",
				"error_description": fositeInvalidClient + " The provided client secret did not match."}))
			return
		}
		switch s.Form.Get("grant_type") {
		case "authorization_code":
			if s.Form.Get("code") != "hydra-code" {
				providertest.WriteJSON(w, 400, `{"error":"invalid_grant","error_description":"The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."}`)
				return
			}
			providertest.WriteJSON(w, 200, `{"access_token":"ory_at_1","expires_in":3599,"refresh_token":"ory_rt_1","scope":"openid offline_access","token_type":"bearer"}`)
		case "refresh_token":
			n := rotation.Add(1)
			providertest.WriteJSON(w, 200, mustJSON(map[string]any{"access_token": "ory_at_r", "expires_in": 3599,
				"refresh_token": "ory_rt_r" + string(rune('0'+n%10)), "token_type": "bearer"}))
		}
	})
	return f
}

func hydraProvider(t *testing.T, f *fakeNet, style string) *Provider {
	return newProvider(t, Settings{Name: "hydra", Type: "oidc", Issuer: f.URL, ClientID: "hydra-client",
		ClientSecret: "hydra-secret", ClientAuth: style})
}

const redirect = "http://127.0.0.1:5555/callback/hydra"

// A client registered with the RFC 7591 default (client_secret_basic)
// works at once: Basic is tried first although the form is listed too.
func TestClientAuthBasicFirst(t *testing.T) {
	t.Parallel()
	f := hydraFake(t, "client_secret_basic")
	p := hydraProvider(t, f, "")
	if _, err := p.Exchange(ctx(t), "hydra-code", "v", redirect); err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if n := f.Count("POST /oauth2/token"); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
}

// A client registered for client_secret_post: Basic is refused, the form is
// sent once, and the Provider remembers it for the next request.
func TestClientAuthFallsBackToFormOnceAndRemembers(t *testing.T) {
	t.Parallel()
	f := hydraFake(t, "client_secret_post")
	p := hydraProvider(t, f, "")
	tok, err := p.Exchange(ctx(t), "hydra-code", "v", redirect)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	reqs := f.Requests()
	var methods []string
	for _, s := range reqs {
		if s.Path == "/oauth2/token" {
			methods = append(methods, map[bool]string{true: "basic", false: "form"}[s.HasBasic])
		}
	}
	if strings.Join(methods, ",") != "basic,form" {
		t.Fatalf("token requests %v, want basic then form", methods)
	}
	if _, err := p.Renew(ctx(t), tok); err != nil {
		t.Fatalf("renew: %v", err)
	}
	if n := f.Count("POST /oauth2/token"); n != 3 {
		t.Errorf("%d token requests after the renewal, want 3 (the form is remembered)", n)
	}
}

// Many renewals at once on a fresh Provider: each succeeds, none sends more
// than two requests, and the race detector sees the remembered style
// shared safely.
func TestClientAuthFallbackConcurrent(t *testing.T) {
	t.Parallel()
	f := hydraFake(t, "client_secret_post")
	p := hydraProvider(t, f, "")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "ory_rt_1"})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.Count("POST /oauth2/token"); got > 2*n {
		t.Errorf("%d requests for %d renewals", got, n)
	}
}

// An explicit client_auth is obeyed: no second try, and the message shows
// Hydra's whole explanation and names the config key that fixes it.
func TestClientAuthExplicitDisablesFallback(t *testing.T) {
	t.Parallel()
	f := hydraFake(t, "client_secret_basic")
	p := hydraProvider(t, f, "client_secret_post")
	_, err := p.Exchange(ctx(t), "hydra-code", "v", redirect)
	e := wantKind(t, err, KindConfig, "")
	if n := f.Count("POST /oauth2/token"); n != 1 {
		t.Errorf("%d token requests, want 1 with an explicit client_auth", n)
	}
	msg := e.Error()
	for _, want := range []string{
		"supports client authentication method 'client_secret_basic', but method 'client_secret_post' was requested",
		"to accept 'client_secret_post'.",
		"client_auth: client_secret_basic",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "hydra-secret") {
		t.Errorf("secret in message: %s", msg)
	}
}

// A wrong secret: both methods are refused, nothing more is sent, and the
// message says what to check and mentions client_auth.
func TestClientAuthBothRefused(t *testing.T) {
	t.Parallel()
	f := hydraFake(t, "client_secret_basic")
	p := newProvider(t, Settings{Name: "hydra", Type: "oidc", Issuer: f.URL, ClientID: "hydra-client", ClientSecret: "wrong-secret"})
	_, err := p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "ory_rt_1"})
	e := wantKind(t, err, KindConfig, "")
	if n := f.Count("POST /oauth2/token"); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
	msg := e.Error()
	for _, want := range []string{"client secret", "sbctl providers set-secret hydra", "client_auth:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	// The one resend is only for a refused client: a refused code is final.
	f2 := hydraFake(t, "client_secret_basic")
	p2 := hydraProvider(t, f2, "")
	_, err = p2.Exchange(ctx(t), "used-code", "v", redirect)
	wantKind(t, err, KindDefinite, auth.ReasonInvalid)
	if n := f2.Count("POST /oauth2/token"); n != 1 {
		t.Errorf("a refused code was sent %d times", n)
	}
}

// Discovery listing only client_secret_post: the form from the start.
func TestClientAuthOnlyPostListed(t *testing.T) {
	t.Parallel()
	f := oidcIssuer(t, []string{"client_secret_post", "private_key_jwt"})
	f.On("POST /token", func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.HasBasic {
			providertest.WriteJSON(w, 401, `{"error":"invalid_client","error_description":"only client_secret_post is accepted"}`)
			return
		}
		providertest.WriteJSON(w, 200, `{"access_token":"at","token_type":"Bearer","expires_in":60}`)
	})
	p := newProvider(t, Settings{Type: "oidc", Issuer: f.URL, ClientID: "c", ClientSecret: "s3cret-value"})
	if _, err := p.Exchange(ctx(t), "code", "v", redirect); err != nil {
		t.Fatal(err)
	}
	if n := f.Count("POST /token"); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
}

// A public client is unchanged: client_id in the body, never Basic, and an
// invalid_client is not answered with a second request.
func TestClientAuthPublicClient(t *testing.T) {
	t.Parallel()
	f := oidcIssuer(t, []string{"client_secret_basic", "none"})
	f.On("POST /token", func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.HasBasic || s.Form.Get("client_id") != "public-cli" {
			t.Errorf("public client sent basic=%v client_id=%q", s.HasBasic, s.Form.Get("client_id"))
		}
		providertest.WriteJSON(w, 401, `{"error":"invalid_client","error_description":"client authentication is required"}`)
	})
	p := newProvider(t, Settings{Name: "corp", Type: "oidc", Issuer: f.URL, ClientID: "public-cli"})
	_, err := p.Exchange(ctx(t), "code", "v", redirect)
	e := wantKind(t, err, KindConfig, "")
	if n := f.Count("POST /token"); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
	msg := e.Error()
	if strings.Contains(msg, "check client_id, the client secret") || strings.Contains(msg, "check the client secret") {
		t.Errorf("advice for a confidential client given to a public one: %s", msg)
	}
	for _, want := range []string{"public client", "public-cli", "sbctl providers set-secret corp"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
}

// client_auth takes sbctl's names and the servers' (RFC 8414) names.
func TestAuthStyleNames(t *testing.T) {
	t.Parallel()
	for name, basic := range map[string]bool{
		"basic": true, "client_secret_basic": true, "Client_Secret_Basic": true,
		"body": false, "post": false, "client_secret_post": false,
	} {
		f := newFake(t)
		f.On("POST /t", func(w http.ResponseWriter, r *http.Request, s seen) {
			providertest.WriteJSON(w, 401, `{"error":"invalid_client"}`)
		})
		p, err := New(Settings{Type: "oauth2", ClientID: "c", ClientSecret: "s3cret-value", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/t"), ClientAuth: name}, nil)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		_, err = p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "r"})
		reqs := f.Requests()
		if len(reqs) != 1 || reqs[0].HasBasic != basic {
			t.Errorf("%s: %d requests, basic=%v, want 1 and basic=%v", name, len(reqs), len(reqs) > 0 && reqs[0].HasBasic, basic)
		}
		other := "client_secret_post"
		if !basic {
			other = "client_secret_basic"
		}
		if err == nil || !strings.Contains(err.Error(), "client_auth: "+other) {
			t.Errorf("%s: %v, want it to suggest client_auth: %s", name, err, other)
		}
	}
	if _, err := New(Settings{Type: "oauth2", ClientID: "c", AuthURL: "https://a.example/a", TokenURL: "https://a.example/t", ClientAuth: "private_key_jwt"}, nil); err == nil ||
		!strings.Contains(err.Error(), "client_secret_basic") {
		t.Errorf("private_key_jwt: %v", err)
	}
}

// countingTransport counts token-endpoint requests on the way out.
type countingTransport struct {
	base   http.RoundTripper
	tokens atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/token") {
		c.tokens.Add(1)
	}
	return c.base.RoundTrip(r)
}

// mockoidc, a server this project did not write, lists client_secret_basic
// but reads the client only from the form: the fallback finds that out
// once, and the renewal goes straight to the form.
func TestClientAuthAgainstMockoidc(t *testing.T) {
	t.Parallel()
	mo, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mo.Shutdown() })
	cfg := mo.Config()
	ct := &countingTransport{base: http.DefaultTransport}
	p, err := New(Settings{Name: "mock", Type: "oidc", Issuer: mo.Issuer(), ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		Scopes: []string{"openid", "email", "profile"}}, &http.Client{Timeout: 5 * time.Second, Transport: ct})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := p.Endpoints(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	verifier := "a-verifier-of-at-least-forty-three-characters-long"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {cfg.ClientID}, "response_type": {"code"}, "scope": {"openid email profile"},
		"state": {"st"}, "redirect_uri": {redirect}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx(t), http.MethodGet, ep.AuthURL+"?"+q.Encode(), nil)
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize answered %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	tok, err := p.Exchange(ctx(t), loc.Query().Get("code"), verifier, redirect)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if n := ct.tokens.Load(); n != 2 {
		t.Errorf("%d exchange requests, want 2 (Basic, then the form)", n)
	}
	if _, err := p.Renew(ctx(t), tok); err != nil {
		t.Fatalf("renew: %v", err)
	}
	if n := ct.tokens.Load(); n != 3 {
		t.Errorf("%d token requests after the renewal, want 3", n)
	}
}
