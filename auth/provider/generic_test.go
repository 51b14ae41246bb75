package provider

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider/providertest"
)

// oidcIssuer serves a discovery document for an issuer on httptest.
func oidcIssuer(t *testing.T, authMethods []string) *fakeNet {
	f := newFake(t)
	f.On("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request, s seen) {
		iss := f.URL
		providertest.WriteJSON(w, 200, mustJSON(map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
			"revocation_endpoint": iss + "/revoke", "introspection_endpoint": iss + "/introspect",
			"userinfo_endpoint": iss + "/userinfo", "device_authorization_endpoint": iss + "/device/code",
			"token_endpoint_auth_methods_supported":          authMethods,
			"authorization_response_iss_parameter_supported": true,
		}))
	})
	return f
}

func TestOIDCDiscovery(t *testing.T) {
	f := oidcIssuer(t, []string{"client_secret_post"})
	p := newProvider(t, Settings{Name: "acme", Type: "oidc", Issuer: f.URL, ClientID: "sbctl", ClientSecret: "s3cret",
		RevokeURL: f.Endpoint("/custom-revoke")})
	for i := 0; i < 3; i++ {
		ep, err := p.Endpoints(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if ep.TokenURL != f.Endpoint("/token") || ep.AuthURL != f.Endpoint("/authorize") || ep.IntrospectURL != f.Endpoint("/introspect") ||
			ep.DeviceAuthURL != f.Endpoint("/device/code") || !ep.IssParameterSupported || ep.Issuer != f.URL {
			t.Fatalf("endpoints %+v", ep)
		}
		if ep.RevokeURL != f.Endpoint("/custom-revoke") {
			t.Errorf("the config's override lost to discovery: %s", ep.RevokeURL)
		}
	}
	if n := f.Count("GET /.well-known/openid-configuration"); n != 1 {
		t.Errorf("discovery fetched %d times, want once", n)
	}
	f.On("POST /token", func(w http.ResponseWriter, r *http.Request, s seen) {
		// Only client_secret_post is advertised: the secret goes in the body.
		if s.HasBasic {
			t.Error("Basic sent although only client_secret_post is supported")
		}
		wantForm(t, s.Form, map[string]string{"client_id": "sbctl", "client_secret": "s3cret", "code_verifier": "v"})
		providertest.WriteJSON(w, 200, `{"access_token":"sbx-at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"sbx-rt-1",
			"id_token":"`+idToken(`{"sub":"sandbox-user","name":"Sandbox User"}`)+`"}`)
	})
	tok, err := p.Exchange(ctx(t), "sbx-ac-1", "v", "http://127.0.0.1:5555/callback")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tok.Scopes, " "); got != "openid offline_access" {
		t.Errorf("scopes %q, want the requested ones when the answer names none", got)
	}
	a, err := p.Account(ctx(t), tok)
	if err != nil || a.ID != "sandbox-user" || a.Name != "Sandbox User" {
		t.Fatalf("%+v %v", a, err)
	}
}

func TestOIDCDiscoveryFailures(t *testing.T) {
	t.Run("issuer mismatch", func(t *testing.T) {
		f := newFake(t)
		f.Reply("GET /.well-known/openid-configuration", 200, `{"issuer":"https://evil.example","token_endpoint":"https://evil.example/token"}`)
		p := newProvider(t, Settings{Type: "oidc", Issuer: f.URL, ClientID: "c"})
		_, err := p.Endpoints(ctx(t))
		e := wantKind(t, err, KindConfig, "")
		if !strings.Contains(e.Error(), "evil.example") {
			t.Errorf("%v", e)
		}
	})
	t.Run("not found", func(t *testing.T) {
		f := newFake(t)
		p := newProvider(t, Settings{Type: "oidc", Issuer: f.URL, ClientID: "c"})
		_, err := p.Endpoints(ctx(t))
		wantKind(t, err, KindConfig, "")
	})
	t.Run("5xx is transient and not cached", func(t *testing.T) {
		f := newFake(t)
		var fail atomic.Bool
		fail.Store(true)
		f.On("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request, s seen) {
			if fail.Load() {
				providertest.WriteJSON(w, 503, `{}`)
				return
			}
			providertest.WriteJSON(w, 200, `{"issuer":"`+f.URL+`","token_endpoint":"`+f.URL+`/token"}`)
		})
		p := newProvider(t, Settings{Type: "oidc", Issuer: f.URL + "/", ClientID: "c"})
		_, err := p.Endpoints(ctx(t))
		wantKind(t, err, KindTransient, "")
		fail.Store(false)
		if _, err := p.Endpoints(ctx(t)); err != nil {
			t.Fatalf("second try: %v", err)
		}
	})
	t.Run("plain http endpoint elsewhere", func(t *testing.T) {
		f := newFake(t)
		f.On("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request, s seen) {
			providertest.WriteJSON(w, 200, `{"issuer":"`+f.URL+`","token_endpoint":"http://id.example/token"}`)
		})
		p := newProvider(t, Settings{Type: "oidc", Issuer: f.URL, ClientID: "c"})
		_, err := p.Endpoints(ctx(t))
		wantKind(t, err, KindConfig, "")
	})
}

func TestSandboxReasonExtension(t *testing.T) {
	f := oidcIssuer(t, nil)
	p := newProvider(t, Settings{Type: "oidc", Issuer: f.URL, ClientID: "sbctl"})
	f.On("POST /token", func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.HasBasic {
			t.Error("public client sent Basic")
		}
		providertest.WriteJSON(w, 400, `{"error":"invalid_grant","error_description":"the account's password changed","reason":"password_changed"}`)
	})
	_, err := p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "sbx-rt-9"})
	wantKind(t, err, KindDefinite, auth.ReasonPasswordChanged)

	f.On("POST /introspect", func(w http.ResponseWriter, r *http.Request, s seen) {
		switch s.Form.Get("token") {
		case "live":
			providertest.WriteJSON(w, 200, `{"active":true,"exp":1893456000,"scope":"openid offline_access","client_id":"sbctl"}`)
		case "pw":
			providertest.WriteJSON(w, 200, `{"active":false,"reason":"password_changed"}`)
		case "sbx-rt-live":
			if s.Form.Get("token_type_hint") != "refresh_token" {
				t.Error("expired access token: the refresh token should be introspected")
			}
			providertest.WriteJSON(w, 200, `{"active":true}`)
		default:
			providertest.WriteJSON(w, 200, `{"active":false}`)
		}
	})
	cases := []struct {
		tok    auth.Token
		valid  bool
		reason auth.Reason
	}{
		{auth.Token{AccessToken: "live"}, true, ""},
		{auth.Token{AccessToken: "pw"}, false, auth.ReasonPasswordChanged},
		{auth.Token{AccessToken: "unknown"}, false, auth.ReasonAccessRevoked},
		{auth.Token{AccessToken: "unknown", Expiry: fixedNow.Add(-time.Hour)}, false, auth.ReasonExpired},
		{auth.Token{AccessToken: "old", Expiry: fixedNow.Add(-time.Hour), RefreshToken: "sbx-rt-live"}, true, ""},
	}
	for _, c := range cases {
		v, err := p.Verify(ctx(t), &c.tok)
		if err != nil || v.Valid != c.valid || v.Reason != c.reason {
			t.Errorf("%s: %+v %v, want valid=%v reason=%q", c.tok.AccessToken, v, err, c.valid, c.reason)
		}
	}
}

func oauth2Fake(t *testing.T) (*fakeNet, *Provider) {
	f := newFake(t)
	p := newProvider(t, Settings{Name: "legacy", Type: "oauth2", ClientID: "legacy-cli",
		AuthURL: f.Endpoint("/oauth/authorize"), TokenURL: f.Endpoint("/oauth/token"),
		RevokeURL: f.Endpoint("/oauth/revoke"), IntrospectURL: f.Endpoint("/oauth/introspect")})
	return f, p
}

func TestOAuth2ExplicitEndpoints(t *testing.T) {
	f, p := oauth2Fake(t)
	f.On("POST /oauth/token", func(w http.ResponseWriter, r *http.Request, s seen) {
		wantForm(t, s.Form, map[string]string{"client_id": "legacy-cli"})
		if s.Form.Get("grant_type") == "refresh_token" {
			// No refresh_token in the answer: RFC 6749 §6 says keep the old one.
			providertest.WriteJSON(w, 200, `{"access_token":"at-2","token_type":"bearer","expires_in":"600"}`)
			return
		}
		providertest.WriteJSON(w, 200, `{"access_token":"at-1","token_type":"bearer","expires_in":600,"refresh_token":"rt-1","refresh_token_expires_in":86400,"scope":"read write"}`)
	})
	tok, err := p.Exchange(ctx(t), "code", "ver", "http://127.0.0.1:1234/callback")
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := p.Renew(ctx(t), tok)
	if err != nil || tok2.RefreshToken != "rt-1" || !tok2.RefreshExpiry.Equal(tok.RefreshExpiry) ||
		!near(tok2.Expiry, fixedNow.Add(10*time.Minute)) || strings.Join(tok2.Scopes, " ") != "read write" {
		t.Fatalf("%+v %v", tok2, err)
	}
	if p.RedirectPath() != "/callback/legacy" || p.Redirect() != auth.RedirectLoopback {
		t.Errorf("redirect %q %q", p.RedirectPath(), p.Redirect())
	}
}

// RFC 7009: 200 means revoked (also for an unknown token); 503 is an error
// the caller must see (it keeps the local token).
func TestRFC7009Revoke(t *testing.T) {
	f, p := oauth2Fake(t)
	var status atomic.Int32
	f.On("POST /oauth/revoke", func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.Form.Get("token_type_hint") == "" || s.Form.Get("client_id") != "legacy-cli" {
			t.Errorf("revoke form %v", s.Form)
		}
		if st := int(status.Load()); st == 503 {
			w.Header().Set("Retry-After", "30")
			providertest.WriteJSON(w, 503, `{"error":"temporarily_unavailable"}`)
			return
		}
		w.WriteHeader(200) // RFC 7009 §2.2: the body is ignored; unknown tokens too
	})
	status.Store(200)
	if err := p.Revoke(ctx(t), &auth.Token{AccessToken: "at", RefreshToken: "rt"}); err != nil {
		t.Fatal(err)
	}
	if err := p.Revoke(ctx(t), &auth.Token{AccessToken: "never-issued"}); err != nil {
		t.Fatalf("unknown token: %v", err)
	}
	status.Store(503)
	err := p.Revoke(ctx(t), &auth.Token{AccessToken: "at", RefreshToken: "rt"})
	e := wantKind(t, err, KindTransient, "")
	if e.RetryAfter != 30*time.Second {
		t.Errorf("RetryAfter %v", e.RetryAfter)
	}
	none := newProvider(t, Settings{Type: "oauth2", ClientID: "c", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/t")})
	if err := none.Revoke(ctx(t), &auth.Token{AccessToken: "at"}); !errors.Is(err, ErrNoRevocation) {
		t.Fatalf("%v", err)
	}
}

// RFC 7662: only "active": true counts.
func TestRFC7662Introspection(t *testing.T) {
	f, p := oauth2Fake(t)
	for body, valid := range map[string]bool{
		`{"active":true,"scope":"read"}`: true,
		`{"active":false}`:               false,
		`{"active":"true"}`:              false, // not a boolean
	} {
		f.Reply("POST /oauth/introspect", 200, body)
		v, err := p.Verify(ctx(t), &auth.Token{AccessToken: "at"})
		if valid {
			if err != nil || !v.Valid {
				t.Errorf("%s: %+v %v", body, v, err)
			}
			continue
		}
		if err == nil && v.Valid {
			t.Errorf("%s counted as active", body)
		}
	}
	f.Reply("POST /oauth/introspect", 200, `{"active":false}`)
	v, _ := p.Verify(ctx(t), &auth.Token{AccessToken: "at"})
	if v.Reason != auth.ReasonAccessRevoked {
		t.Errorf("active:false reason %q", v.Reason)
	}
	f.Reply("POST /oauth/introspect", 401, `{"error":"invalid_client"}`)
	_, err := p.Verify(ctx(t), &auth.Token{AccessToken: "at"})
	wantKind(t, err, KindConfig, "")
}

func TestUserinfoCheckAndMissingEndpoints(t *testing.T) {
	f := newFake(t)
	p := newProvider(t, Settings{Type: "oauth2", ClientID: "c", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/t"), UserinfoURL: f.Endpoint("/me")})
	f.On("GET /me", func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.Header.Get("Authorization") == "Bearer ok" {
			providertest.WriteJSON(w, 200, `{"sub":"u1","preferred_username":"ops"}`)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="x", error="invalid_token", error_description="The access token was revoked"`)
		w.WriteHeader(401)
	})
	v, err := p.Verify(ctx(t), &auth.Token{AccessToken: "ok"})
	if err != nil || !v.Valid || v.Check != CheckUserinfo {
		t.Fatalf("%+v %v", v, err)
	}
	v, err = p.Verify(ctx(t), &auth.Token{AccessToken: "bad"})
	if err != nil || v.Valid || v.Reason != auth.ReasonInvalid {
		t.Fatalf("%+v %v", v, err)
	}
	a, err := p.Account(ctx(t), &auth.Token{AccessToken: "ok"})
	if err != nil || a.ID != "u1" || a.Name != "ops" {
		t.Fatalf("%+v %v", a, err)
	}
	bare := newProvider(t, Settings{Type: "oauth2", ClientID: "c", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/t")})
	if _, err := bare.Verify(ctx(t), &auth.Token{AccessToken: "x"}); !errors.Is(err, ErrNoCheck) {
		t.Errorf("Verify: %v", err)
	}
	if _, err := bare.Account(ctx(t), &auth.Token{AccessToken: "x"}); !errors.Is(err, ErrNoAccount) {
		t.Errorf("Account: %v", err)
	}
}

func TestNewValidation(t *testing.T) {
	cases := []struct {
		s    Settings
		want []string
	}{
		{Settings{Name: "legacy", Type: "oauth2"}, []string{"client_id is missing", "token_url is missing", "auth_url is missing"}},
		{Settings{Name: "acme", Type: "oidc", ClientID: "c"}, []string{"issuer is missing"}},
		{Settings{Type: "nope", ClientID: "c"}, []string{"unknown type", "facebook"}},
		{Settings{Type: "facebook", ClientID: "c", Redirect: "device"}, []string{`redirect "device" is not allowed`}},
		{Settings{Type: "x", ClientID: "c", TokenURL: "http://api.example/token"}, []string{"token_url must use https"}},
		{Settings{Type: "x", ClientID: "c", TokenURL: "https://u:p@api.example/token"}, []string{"user name or password"}},
		{Settings{Type: "x", ClientID: "c", RedirectPort: 70000}, []string{"redirect_port"}},
		{Settings{Type: "oauth2", ClientID: "c", TokenURL: "https://a.example/t", Redirect: "device"}, []string{"device_auth_url is missing"}},
		{Settings{}, []string{"no type"}},
	}
	for _, c := range cases {
		_, err := New(c.s, nil)
		if err == nil {
			t.Errorf("%+v accepted", c.s)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: %q does not say %q", c.s, err, w)
			}
		}
	}
	// The name alone picks the preset; a config port replaces the preset's.
	p, err := New(Settings{Name: "x", ClientID: "c", RedirectPort: 9000}, nil)
	if err != nil || p.RedirectPort() != 9000 || p.Preset().Name != "x" {
		t.Fatalf("%v %v", p, err)
	}
	p, _ = New(Settings{Name: "X", ClientID: "c"}, nil)
	if p.RedirectPort() != 8765 {
		t.Errorf("x default port %d", p.RedirectPort())
	}
}

func TestTransportFailures(t *testing.T) {
	t.Run("timeout after sending on a rotating provider is ambiguous", func(t *testing.T) {
		f, p := xFake(t, "")
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		f.On("POST /2/oauth2/token", func(w http.ResponseWriter, r *http.Request, s seen) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := p.Renew(c, &auth.Token{AccessToken: "a", RefreshToken: "rt"})
		e := wantKind(t, err, KindTransient, "")
		if !e.Ambiguous || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("ambiguous=%v is-deadline=%v: %v", e.Ambiguous, errors.Is(err, context.DeadlineExceeded), e)
		}
	})
	t.Run("non-rotating provider is not ambiguous", func(t *testing.T) {
		f, p := googleFake(t, "google")
		f.On("POST /token", providertest.DropAfterRead)
		_, err := p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "rt"})
		e := wantKind(t, err, KindTransient, "")
		if e.Ambiguous {
			t.Error("google refresh marked ambiguous")
		}
	})
	t.Run("refused before sending is not ambiguous", func(t *testing.T) {
		f := newFake(t)
		u := f.Endpoint("/token")
		f.Close()
		p := newProvider(t, Settings{Type: "x", ClientID: "c", TokenURL: u})
		_, err := p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "rt"})
		e := wantKind(t, err, KindTransient, "")
		if e.Ambiguous || !strings.Contains(e.Error(), "refused") {
			t.Errorf("%v (ambiguous=%v)", e, e.Ambiguous)
		}
	})
	t.Run("429 with Retry-After", func(t *testing.T) {
		f, p := xFake(t, "")
		f.On("POST /2/oauth2/token", func(w http.ResponseWriter, r *http.Request, s seen) {
			w.Header().Set("Retry-After", "120")
			providertest.WriteJSON(w, 429, `{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}`)
		})
		_, err := p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "rt"})
		e := wantKind(t, err, KindTransient, "")
		if e.RetryAfter != 2*time.Minute || !strings.Contains(e.Error(), "2m0s") {
			t.Errorf("%v %v", e.RetryAfter, e)
		}
	})
	t.Run("a POST is not followed through a redirect", func(t *testing.T) {
		f, p := xFake(t, "")
		f.On("POST /2/oauth2/token", func(w http.ResponseWriter, r *http.Request, s seen) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		})
		f.Reply("POST /elsewhere", 200, `{"access_token":"stolen"}`)
		_, err := p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "rt"})
		if err == nil || f.Count("POST /elsewhere") != 0 {
			t.Fatalf("redirect followed: %v", err)
		}
	})
}

func TestPresets(t *testing.T) {
	want := []string{"facebook", "instagram", "threads", "linkedin", "x", "google", "youtube", "tiktok", "pinterest", "oidc", "oauth2"}
	var got []string
	for _, p := range Presets() {
		got = append(got, p.Name)
		if p.Title == "" || p.Redirect == "" || !p.AllowsMode(p.Redirect) || p.Renewal == "" || p.Check == "" || p.Notes == "" {
			t.Errorf("%s: incomplete preset %+v", p.Name, p)
		}
		if p.Name != "oidc" && p.Name != "oauth2" && (p.AuthURL == "" || p.TokenURL == "" || p.UserinfoURL == "") {
			t.Errorf("%s: missing endpoints", p.Name)
		}
		for _, u := range []string{p.AuthURL, p.TokenURL, p.RevokeURL, p.IntrospectURL, p.UserinfoURL, p.DeviceAuthURL, p.ExchangeURL, p.RefreshURL} {
			if u != "" && !strings.HasPrefix(u, "https://") {
				t.Errorf("%s: %s is not https", p.Name, u)
			}
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("presets %v", got)
	}
	for _, n := range []string{"facebook", "instagram", "threads"} {
		if p, _ := Lookup(n); p.Redirect != auth.RedirectRelay || !p.NeedsSecret {
			t.Errorf("%s should default to relay with a confidential client", n)
		}
	}
	x, _ := Lookup("x")
	if x.Redirect != auth.RedirectLoopback || x.FixedPort != 8765 || !x.RotatesRefresh || x.ClientAuth != auth.ClientAuthBasic {
		t.Errorf("x preset %+v", x)
	}
	tt, _ := Lookup("tiktok")
	if tt.ClientIDParam != "client_key" || tt.CallbackPath != "/callback/" || tt.ScopeSep != "," {
		t.Errorf("tiktok preset %+v", tt)
	}
	// Presets hands out copies.
	g, _ := Lookup("google")
	g.ExtraAuthParams["prompt"] = "none"
	g.DefaultScopes[0] = "x"
	if g2, _ := Lookup("google"); g2.ExtraAuthParams["prompt"] != "consent" || g2.DefaultScopes[0] != "openid" {
		t.Error("Lookup result shares state with the table")
	}
}
