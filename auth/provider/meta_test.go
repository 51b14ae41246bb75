package provider

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider/providertest"
)

func facebookFake(t *testing.T) (*fakeNet, *Provider) {
	f := newFake(t)
	p := newProvider(t, Settings{
		Type: "facebook", ClientID: "app-id", ClientSecret: "app-secret",
		TokenURL: f.Endpoint("/v23.0/oauth/access_token"), ExchangeURL: f.Endpoint("/v23.0/oauth/access_token"),
		IntrospectURL: f.Endpoint("/v23.0/debug_token"), RevokeURL: f.Endpoint("/v23.0/me/permissions"),
		UserinfoURL: f.Endpoint("/v23.0/me?fields=id,name"),
	})
	return f, p
}

func TestFacebookExchangeSwapsForLongLived(t *testing.T) {
	f, p := facebookFake(t)
	f.On("GET /v23.0/oauth/access_token", func(w http.ResponseWriter, r *http.Request, s seen) {
		switch {
		case s.Query.Get("code") != "":
			wantForm(t, s.Query, map[string]string{"client_id": "app-id", "client_secret": "app-secret",
				"redirect_uri": "https://relay.example/fb", "code": "the-code"})
			providertest.WriteJSON(w, 200, `{"access_token":"short-AT","token_type":"bearer","expires_in":5400}`)
		case s.Query.Get("grant_type") == "fb_exchange_token":
			wantForm(t, s.Query, map[string]string{"client_id": "app-id", "client_secret": "app-secret", "fb_exchange_token": "short-AT"})
			providertest.WriteJSON(w, 200, `{"access_token":"long-AT","token_type":"bearer","expires_in":5183944}`)
		default:
			providertest.WriteJSON(w, 400, `{"error":{"message":"bad","type":"OAuthException","code":100}}`)
		}
	})
	tok, err := p.Exchange(ctx(t), "the-code", "", "https://relay.example/fb")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "long-AT" || tok.RefreshToken != "" || tok.TokenType != "Bearer" {
		t.Fatalf("token %+v", tok)
	}
	if !near(tok.Expiry, fixedNow.Add(5183944*time.Second)) || !tok.ObtainedAt.Equal(fixedNow) {
		t.Errorf("expiry %v obtained %v", tok.Expiry, tok.ObtainedAt)
	}
	if n := f.Count("GET /v23.0/oauth/access_token"); n != 2 {
		t.Errorf("%d token requests, want 2 (code, then fb_exchange_token)", n)
	}
}

func TestFacebookDebugToken(t *testing.T) {
	f, p := facebookFake(t)
	exp, da := fixedNow.Add(50*24*time.Hour).Unix(), fixedNow.Add(80*24*time.Hour).Unix()
	f.On("GET /v23.0/debug_token", func(w http.ResponseWriter, r *http.Request, s seen) {
		if got := s.Query.Get("access_token"); got != "app-id|app-secret" {
			t.Errorf("debug_token caller %q, want the app token app-id|app-secret", got)
		}
		switch s.Query.Get("input_token") {
		case "good":
			providertest.WriteJSON(w, 200, mustJSON(map[string]any{"data": map[string]any{
				"app_id": "app-id", "type": "USER", "application": "Acme", "is_valid": true,
				"expires_at": exp, "data_access_expires_at": da, "scopes": []string{"public_profile", "pages_manage_posts"}, "user_id": "42"}}))
		case "never":
			providertest.WriteJSON(w, 200, `{"data":{"app_id":"app-id","is_valid":true,"expires_at":0,"data_access_expires_at":0,"scopes":[]}}`)
		default:
			sub := map[string]int{"pw": 460, "removed": 458, "exp": 463, "logout": 467, "bare": 0}[s.Query.Get("input_token")]
			errObj := map[string]any{"code": 190, "message": "Error validating access token"}
			if sub != 0 {
				errObj["subcode"] = sub
			}
			providertest.WriteJSON(w, 200, mustJSON(map[string]any{"data": map[string]any{"app_id": "app-id", "is_valid": false, "error": errObj, "scopes": []string{}}}))
		}
	})
	v, err := p.Verify(ctx(t), &auth.Token{AccessToken: "good"})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Valid || v.Expiry.Unix() != exp || v.DataAccessExpiry.Unix() != da || strings.Join(v.Scopes, ",") != "public_profile,pages_manage_posts" || v.Check != CheckDebugToken {
		t.Fatalf("verdict %+v", v)
	}
	v, err = p.Verify(ctx(t), &auth.Token{AccessToken: "never", Expiry: fixedNow.Add(time.Hour)})
	if err != nil || !v.Valid || !v.Expiry.IsZero() {
		t.Fatalf("never-expiring page token: %+v %v", v, err)
	}
	for tok, want := range map[string]auth.Reason{
		"pw": auth.ReasonPasswordChanged, "removed": auth.ReasonAccessRevoked, "exp": auth.ReasonExpired,
		"logout": auth.ReasonInvalid, "bare": auth.ReasonInvalid,
	} {
		v, err := p.Verify(ctx(t), &auth.Token{AccessToken: tok})
		if err != nil || v.Valid || v.Reason != want {
			t.Errorf("%s: %+v %v, want reason %s", tok, v, err, want)
		}
	}
}

func TestFacebookDataAccessExpired(t *testing.T) {
	f, p := facebookFake(t)
	f.Reply("GET /v23.0/debug_token", 200, mustJSON(map[string]any{"data": map[string]any{
		"app_id": "app-id", "is_valid": true, "expires_at": fixedNow.Add(10 * 24 * time.Hour).Unix(),
		"data_access_expires_at": fixedNow.Add(-time.Hour).Unix()}}))
	v, err := p.Verify(ctx(t), &auth.Token{AccessToken: "t"})
	if err != nil || v.Valid || v.Reason != auth.ReasonConsentExpired {
		t.Fatalf("%+v %v, want consent_expired", v, err)
	}
}

func TestFacebookDebugTokenRejectsAppToken(t *testing.T) {
	f, p := facebookFake(t)
	f.Reply("GET /v23.0/debug_token", 400, `{"error":{"message":"Invalid OAuth access token signature.","type":"OAuthException","code":190,"fbtrace_id":"A1"}}`)
	_, err := p.Verify(ctx(t), &auth.Token{AccessToken: "t"})
	wantKind(t, err, KindConfig, "")
}

func TestFacebookRenewAndErrors(t *testing.T) {
	f, p := facebookFake(t)
	f.On("GET /v23.0/oauth/access_token", func(w http.ResponseWriter, r *http.Request, s seen) {
		switch s.Query.Get("fb_exchange_token") {
		case "live":
			providertest.WriteJSON(w, 200, `{"access_token":"renewed","token_type":"bearer","expires_in":5183944}`)
		case "nolife":
			providertest.WriteJSON(w, 200, `{"access_token":"renewed2","token_type":"bearer"}`)
		default:
			providertest.WriteJSON(w, 400, `{"error":{"message":"Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"AbC"}}`)
		}
	})
	old := &auth.Token{AccessToken: "live", Expiry: fixedNow.Add(5 * 24 * time.Hour), Scopes: []string{"pages_manage_posts"}}
	if ok, why := p.CanRenew(old, fixedNow); !ok {
		t.Fatalf("CanRenew: %s", why)
	}
	tok, err := p.Renew(ctx(t), old)
	if err != nil || tok.AccessToken != "renewed" || tok.Scopes[0] != "pages_manage_posts" {
		t.Fatalf("%+v %v", tok, err)
	}
	// No expires_in: the old expiry stays rather than "never".
	old2 := &auth.Token{AccessToken: "nolife", Expiry: fixedNow.Add(5 * 24 * time.Hour)}
	if tok, err := p.Renew(ctx(t), old2); err != nil || !tok.Expiry.Equal(old2.Expiry) {
		t.Fatalf("%+v %v", tok, err)
	}
	_, err = p.Renew(ctx(t), &auth.Token{AccessToken: "dead", Expiry: fixedNow.Add(time.Hour)})
	e := wantKind(t, err, KindDefinite, auth.ReasonPasswordChanged)
	if e.Code != "190/460" {
		t.Errorf("code %q", e.Code)
	}
	// A long-lived token our clock calls expired is still offered to the
	// network, which decides (here it renews: the clock was wrong).
	before := len(f.Requests())
	expired := &auth.Token{AccessToken: "live", Expiry: fixedNow.Add(-time.Minute)}
	if ok, why := p.CanRenew(expired, fixedNow); !ok {
		t.Errorf("CanRenew expired = %v %q, want true: a date is a prediction", ok, why)
	}
	if tok, err := p.Renew(ctx(t), expired); err != nil || tok.AccessToken != "renewed" {
		t.Fatalf("Renew of a token our clock calls expired: %+v %v", tok, err)
	}
	if len(f.Requests()) != before+1 {
		t.Error("Renew of a Facebook token our clock calls expired made no request")
	}
}

func TestFacebookRevokeAndAccount(t *testing.T) {
	f, p := facebookFake(t)
	f.On("DELETE /v23.0/me/permissions", func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.Header.Get("Authorization") != "Bearer fb-AT" || len(s.Query) != 0 {
			t.Errorf("revoke: auth %q query %v", s.Header.Get("Authorization"), s.Query)
		}
		providertest.WriteJSON(w, 200, `{"success":true}`)
	})
	f.Reply("GET /v23.0/me", 200, `{"id":"10158","name":"Acme Brand"}`)
	if err := p.Revoke(ctx(t), &auth.Token{AccessToken: "fb-AT"}); err != nil {
		t.Fatal(err)
	}
	a, err := p.Account(ctx(t), &auth.Token{AccessToken: "fb-AT"})
	if err != nil || a.ID != "10158" || a.Name != "Acme Brand" {
		t.Fatalf("%+v %v", a, err)
	}
	if got := f.Requests()[len(f.Requests())-1]; got.Query.Get("fields") != "id,name" {
		t.Errorf("me fields %q", got.Query.Get("fields"))
	}
}

func TestFacebookNeedsSecret(t *testing.T) {
	p := newProvider(t, Settings{Type: "facebook", ClientID: "app-id"})
	_, err := p.Exchange(ctx(t), "c", "", "https://relay.example/")
	e := wantKind(t, err, KindConfig, "")
	if !errors.Is(err, ErrMissingSecret) || !strings.Contains(e.Error(), "set-secret") {
		t.Errorf("%v", err)
	}
}

func TestGraphVersion(t *testing.T) {
	p := newProvider(t, Settings{Type: "facebook", ClientID: "a", GraphVersion: "v24.0"})
	pr := p.Preset()
	for _, u := range []string{pr.AuthURL, pr.TokenURL, pr.IntrospectURL, pr.RevokeURL, pr.UserinfoURL} {
		if !strings.Contains(u, "/v24.0/") {
			t.Errorf("%s not moved to v24.0", u)
		}
	}
	if _, err := New(Settings{Type: "facebook", ClientID: "a", GraphVersion: "24"}, nil); err == nil {
		t.Error("bad graph_version accepted")
	}
}

func instagramFake(t *testing.T) (*fakeNet, *Provider) {
	f := newFake(t)
	p := newProvider(t, Settings{
		Type: "instagram", ClientID: "ig-app", ClientSecret: "ig-secret",
		TokenURL: f.Endpoint("/oauth/access_token"), ExchangeURL: f.Endpoint("/access_token"),
		RefreshURL: f.Endpoint("/refresh_access_token"), UserinfoURL: f.Endpoint("/v23.0/me?fields=user_id,username"),
	})
	return f, p
}

func TestInstagramExchange(t *testing.T) {
	for name, shortAnswer := range map[string]string{
		"data array": `{"data":[{"access_token":"ig-short","user_id":"17841","permissions":"instagram_business_basic,instagram_business_content_publish"}]}`,
		"flat":       `{"access_token":"ig-short","user_id":17841,"permissions":["instagram_business_basic","instagram_business_content_publish"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			f, p := instagramFake(t)
			f.On("POST /oauth/access_token", func(w http.ResponseWriter, r *http.Request, s seen) {
				wantForm(t, s.Form, map[string]string{"client_id": "ig-app", "client_secret": "ig-secret",
					"grant_type": "authorization_code", "redirect_uri": "https://relay.example/ig", "code": "AQBx"})
				providertest.WriteJSON(w, 200, shortAnswer)
			})
			f.On("GET /access_token", func(w http.ResponseWriter, r *http.Request, s seen) {
				wantForm(t, s.Query, map[string]string{"grant_type": "ig_exchange_token", "client_secret": "ig-secret", "access_token": "ig-short"})
				providertest.WriteJSON(w, 200, `{"access_token":"ig-long","token_type":"bearer","expires_in":5183944}`)
			})
			tok, err := p.Exchange(ctx(t), "AQBx#_", "", "https://relay.example/ig")
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "ig-long" || !near(tok.Expiry, fixedNow.Add(5183944*time.Second)) ||
				strings.Join(tok.Scopes, " ") != "instagram_business_basic instagram_business_content_publish" {
				t.Fatalf("%+v", tok)
			}
		})
	}
}

func TestInstagramRefreshOnlyAfter24h(t *testing.T) {
	f, p := instagramFake(t)
	f.On("GET /refresh_access_token", func(w http.ResponseWriter, r *http.Request, s seen) {
		wantForm(t, s.Query, map[string]string{"grant_type": "ig_refresh_token", "access_token": "ig-long"})
		providertest.WriteJSON(w, 200, `{"access_token":"ig-long-2","token_type":"bearer","expires_in":5183944,"permissions":"instagram_business_basic"}`)
	})
	young := &auth.Token{AccessToken: "ig-long", ObtainedAt: fixedNow.Add(-2 * time.Hour), Expiry: fixedNow.Add(59 * 24 * time.Hour)}
	ok, why := p.CanRenew(young, fixedNow)
	if ok || !strings.Contains(why, "instagram tokens can be refreshed only when at least 24 h old") {
		t.Fatalf("CanRenew young = %v %q", ok, why)
	}
	if _, err := p.Renew(ctx(t), young); !errors.Is(err, ErrCannotRenew) {
		t.Fatalf("Renew young: %v", err)
	}
	if n := len(f.Requests()); n != 0 {
		t.Fatalf("%d requests for a token under 24 h", n)
	}
	old := &auth.Token{AccessToken: "ig-long", ObtainedAt: fixedNow.Add(-25 * time.Hour), Expiry: fixedNow.Add(58 * 24 * time.Hour)}
	tok, err := p.Renew(ctx(t), old)
	if err != nil || tok.AccessToken != "ig-long-2" || !tok.ObtainedAt.Equal(fixedNow) {
		t.Fatalf("%+v %v", tok, err)
	}
	// Expired by our clock: a prediction, so the network is asked (and
	// here, renews it: the clock was wrong). TestMetaRenewAsksTheNetwork
	// WhenOurClockSaysExpired has the refusal.
	expired := &auth.Token{AccessToken: "ig-long", ObtainedAt: fixedNow.Add(-70 * 24 * time.Hour), Expiry: fixedNow.Add(-time.Hour)}
	if tok, err := p.Renew(ctx(t), expired); err != nil || tok.AccessToken != "ig-long-2" {
		t.Fatalf("Renew of a token our clock calls expired: %+v %v", tok, err)
	}
}

func TestInstagramVerifyAccountRevoke(t *testing.T) {
	f, p := instagramFake(t)
	f.On("GET /v23.0/me", func(w http.ResponseWriter, r *http.Request, s seen) {
		switch s.Header.Get("Authorization") {
		case "Bearer good":
			providertest.WriteJSON(w, 200, `{"user_id":"17841400","username":"acme.brand","id":"99"}`)
		default:
			providertest.WriteJSON(w, 400, `{"error":{"message":"Error validating access token: Session has expired on Friday, 20-Nov-26 04:00:00 PST.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"x"}}`)
		}
	})
	v, err := p.Verify(ctx(t), &auth.Token{AccessToken: "good"})
	if err != nil || !v.Valid || v.Check != CheckMe {
		t.Fatalf("%+v %v", v, err)
	}
	v, err = p.Verify(ctx(t), &auth.Token{AccessToken: "stale"})
	if err != nil || v.Valid || v.Reason != auth.ReasonExpired {
		t.Fatalf("%+v %v", v, err)
	}
	a, err := p.Account(ctx(t), &auth.Token{AccessToken: "good"})
	if err != nil || a.ID != "17841400" || a.Name != "acme.brand" {
		t.Fatalf("%+v %v", a, err)
	}
	if err := p.Revoke(ctx(t), &auth.Token{AccessToken: "good"}); !errors.Is(err, ErrNoRevocation) {
		t.Fatalf("Revoke = %v, want ErrNoRevocation", err)
	}
}

func threadsFake(t *testing.T) (*fakeNet, *Provider) {
	f := newFake(t)
	p := newProvider(t, Settings{
		Type: "threads", ClientID: "th-app", ClientSecret: "th-secret",
		TokenURL: f.Endpoint("/oauth/access_token"), ExchangeURL: f.Endpoint("/access_token"),
		RefreshURL: f.Endpoint("/refresh_access_token"), IntrospectURL: f.Endpoint("/v1.0/debug_token"),
		UserinfoURL: f.Endpoint("/v1.0/me?fields=id,username,name"),
	})
	return f, p
}

func TestThreads(t *testing.T) {
	f, p := threadsFake(t)
	f.On("POST /oauth/access_token", func(w http.ResponseWriter, r *http.Request, s seen) {
		wantForm(t, s.Form, map[string]string{"client_id": "th-app", "client_secret": "th-secret", "grant_type": "authorization_code", "code": "c0de"})
		providertest.WriteJSON(w, 200, `{"access_token":"th-short","user_id":"123"}`)
	})
	f.On("GET /access_token", func(w http.ResponseWriter, r *http.Request, s seen) {
		wantForm(t, s.Query, map[string]string{"grant_type": "th_exchange_token", "client_secret": "th-secret", "access_token": "th-short"})
		providertest.WriteJSON(w, 200, `{"access_token":"th-long","token_type":"bearer","expires_in":5183944}`)
	})
	f.On("GET /refresh_access_token", func(w http.ResponseWriter, r *http.Request, s seen) {
		wantForm(t, s.Query, map[string]string{"grant_type": "th_refresh_token", "access_token": "th-long"})
		providertest.WriteJSON(w, 200, `{"access_token":"th-long-2","token_type":"bearer","expires_in":5183944}`)
	})
	f.On("GET /v1.0/debug_token", func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.Query.Get("input_token") != s.Query.Get("access_token") {
			t.Errorf("threads debug_token: the token should inspect itself")
		}
		if s.Query.Get("input_token") == "not-tester" {
			providertest.WriteJSON(w, 400, `{"error":{"message":"(#10) Application does not have permission for this action","type":"OAuthException","code":10}}`)
			return
		}
		providertest.WriteJSON(w, 200, `{"data":{"type":"USER","application":"Acme","data_access_expires_at":1893456000,"expires_at":1890000000,"is_valid":true,"scopes":["threads_basic","threads_content_publish"],"user_id":"123"}}`)
	})
	f.Reply("GET /v1.0/me", 200, `{"id":"123","username":"acme"}`)

	tok, err := p.Exchange(ctx(t), "c0de", "", "https://relay.example/th")
	if err != nil || tok.AccessToken != "th-long" {
		t.Fatalf("%+v %v", tok, err)
	}
	tok.ObtainedAt = fixedNow.Add(-48 * time.Hour)
	tok2, err := p.Renew(ctx(t), tok)
	if err != nil || tok2.AccessToken != "th-long-2" {
		t.Fatalf("%+v %v", tok2, err)
	}
	v, err := p.Verify(ctx(t), tok2)
	if err != nil || !v.Valid || v.DataAccessExpiry.Unix() != 1893456000 {
		t.Fatalf("%+v %v", v, err)
	}
	// Only testers' tokens may call debug_token: fall back to /me.
	v, err = p.Verify(ctx(t), &auth.Token{AccessToken: "not-tester"})
	if err != nil || !v.Valid || v.Check != CheckMe {
		t.Fatalf("fallback: %+v %v", v, err)
	}
	a, err := p.Account(ctx(t), tok2)
	if err != nil || a.Name != "acme" || a.ID != "123" {
		t.Fatalf("%+v %v", a, err)
	}
	if err := p.Revoke(ctx(t), tok2); !errors.Is(err, ErrNoRevocation) {
		t.Fatalf("%v", err)
	}
}
