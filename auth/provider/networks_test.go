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

func TestLinkedIn(t *testing.T) {
	f := newFake(t)
	p := newProvider(t, Settings{Type: "linkedin", ClientID: "li-id", ClientSecret: "li-secret",
		TokenURL: f.Endpoint("/oauth/v2/accessToken"), IntrospectURL: f.Endpoint("/oauth/v2/introspectToken"),
		UserinfoURL: f.Endpoint("/v2/userinfo"), RevokeURL: f.Endpoint("/oauth/v2/revoke")})
	f.On("POST /oauth/v2/accessToken", func(w http.ResponseWriter, r *http.Request, s seen) {
		wantForm(t, s.Form, map[string]string{"grant_type": "authorization_code", "code": "li-code",
			"client_id": "li-id", "client_secret": "li-secret", "redirect_uri": "http://127.0.0.1:8765/callback", "code_verifier": "ver"})
		if s.HasBasic {
			t.Error("linkedin: Basic auth sent")
		}
		providertest.WriteJSON(w, 200, `{"access_token":"li-AT","expires_in":5183999,"scope":"openid,profile,w_member_social"}`)
	})
	tok, err := p.Exchange(ctx(t), "li-code", "ver", "http://127.0.0.1:8765/callback")
	if err != nil || tok.AccessToken != "li-AT" || len(tok.Scopes) != 3 {
		t.Fatalf("%+v %v", tok, err)
	}
	ok, why := p.CanRenew(tok, fixedNow)
	if ok || why != "linkedin issues no refresh token to this app (refresh tokens are for approved partners): run sbctl reauth" {
		t.Fatalf("CanRenew = %v %q", ok, why)
	}
	if _, err := p.Renew(ctx(t), tok); !errors.Is(err, ErrCannotRenew) {
		t.Fatalf("Renew without refresh token: %v", err)
	}

	f.On("POST /oauth/v2/introspectToken", func(w http.ResponseWriter, r *http.Request, s seen) {
		wantForm(t, s.Form, map[string]string{"client_id": "li-id", "client_secret": "li-secret"})
		wantNoParam(t, s.Form, "token_type_hint")
		switch s.Form.Get("token") {
		case "li-AT":
			providertest.WriteJSON(w, 200, `{"active":true,"client_id":"li-id","authorized_at":1760000000,"created_at":1760000000,"status":"active","expires_at":1893456000,"scope":"openid,profile,w_member_social","auth_type":"3L"}`)
		case "li-revoked":
			providertest.WriteJSON(w, 200, `{"active":false,"status":"revoked"}`)
		default:
			providertest.WriteJSON(w, 200, `{"active":false,"status":"expired"}`)
		}
	})
	v, err := p.Verify(ctx(t), tok)
	if err != nil || !v.Valid || v.Expiry.Unix() != 1893456000 || v.Check != CheckIntrospection {
		t.Fatalf("%+v %v", v, err)
	}
	v, _ = p.Verify(ctx(t), &auth.Token{AccessToken: "li-revoked"})
	if v.Valid || v.Reason != auth.ReasonAccessRevoked {
		t.Fatalf("revoked: %+v", v)
	}
	v, _ = p.Verify(ctx(t), &auth.Token{AccessToken: "li-old"})
	if v.Valid || v.Reason != auth.ReasonExpired {
		t.Fatalf("expired: %+v", v)
	}

	f.Reply("GET /v2/userinfo", 401, `{"serviceErrorCode":65601,"message":"The token used in the request has been revoked by the user","status":401}`)
	_, err = p.Account(ctx(t), tok)
	e := wantKind(t, err, KindDefinite, auth.ReasonAccessRevoked)
	if e.Code != "65601" {
		t.Errorf("code %q", e.Code)
	}
}

func TestLinkedInRefreshPartner(t *testing.T) {
	f := newFake(t)
	p := newProvider(t, Settings{Type: "linkedin", ClientID: "li-id", ClientSecret: "li-secret", TokenURL: f.Endpoint("/token")})
	f.On("POST /token", func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.Form.Get("grant_type") == "refresh_token" {
			wantForm(t, s.Form, map[string]string{"refresh_token": "li-RT", "client_id": "li-id", "client_secret": "li-secret"})
			// LinkedIn does not rotate: the answer repeats the same refresh token.
			providertest.WriteJSON(w, 200, `{"access_token":"li-AT2","expires_in":5183999,"refresh_token":"li-RT","refresh_token_expires_in":30000000}`)
			return
		}
		providertest.WriteJSON(w, 200, `{"access_token":"li-AT","expires_in":5183999,"refresh_token":"li-RT","refresh_token_expires_in":31535999}`)
	})
	tok, err := p.Exchange(ctx(t), "c", "", "http://127.0.0.1:8765/callback")
	if err != nil || !near(tok.RefreshExpiry, fixedNow.Add(31535999*time.Second)) {
		t.Fatalf("%+v %v", tok, err)
	}
	tok2, err := p.Renew(ctx(t), tok)
	if err != nil || tok2.AccessToken != "li-AT2" || !near(tok2.RefreshExpiry, fixedNow.Add(30000000*time.Second)) {
		t.Fatalf("%+v %v", tok2, err)
	}
	// The 365-day refresh lifetime ended by our clock: LinkedIn is asked,
	// and its refusal is explained as consent_expired.
	f.On("POST /token", func(w http.ResponseWriter, r *http.Request, s seen) {
		providertest.WriteJSON(w, 400, `{"error":"invalid_grant","error_description":"The provided authorization grant or refresh token is invalid, expired or revoked."}`)
	})
	n := len(f.Requests())
	tok2.RefreshExpiry = fixedNow.Add(-time.Second)
	_, err = p.Renew(ctx(t), tok2)
	wantKind(t, err, KindDefinite, auth.ReasonConsentExpired)
	if len(f.Requests()) != n+1 {
		t.Error("no request sent with a refresh token our clock calls lapsed: only LinkedIn knows")
	}
}

func xFake(t *testing.T, secret string) (*fakeNet, *Provider) {
	f := newFake(t)
	p := newProvider(t, Settings{Type: "x", ClientID: "x-client", ClientSecret: secret,
		TokenURL: f.Endpoint("/2/oauth2/token"), RevokeURL: f.Endpoint("/2/oauth2/revoke"), UserinfoURL: f.Endpoint("/2/users/me")})
	return f, p
}

func TestXConfidentialUsesBasic(t *testing.T) {
	f, p := xFake(t, "x-secret")
	f.On("POST /2/oauth2/token", func(w http.ResponseWriter, r *http.Request, s seen) {
		if !s.HasBasic || s.BasicUser != "x-client" || s.BasicPass != "x-secret" {
			t.Errorf("basic = %v %q %q", s.HasBasic, s.BasicUser, s.BasicPass)
		}
		wantNoParam(t, s.Form, "client_secret", "client_id")
		wantForm(t, s.Form, map[string]string{"grant_type": "authorization_code", "code": "x-code", "code_verifier": "v3r", "redirect_uri": "http://127.0.0.1:8765/callback"})
		providertest.WriteJSON(w, 200, `{"token_type":"bearer","expires_in":7200,"access_token":"x-AT","scope":"tweet.read users.read offline.access","refresh_token":"x-RT"}`)
	})
	tok, err := p.Exchange(ctx(t), "x-code", "v3r", "http://127.0.0.1:8765/callback")
	if err != nil || tok.RefreshToken != "x-RT" || !near(tok.Expiry, fixedNow.Add(2*time.Hour)) || len(tok.Scopes) != 3 {
		t.Fatalf("%+v %v", tok, err)
	}
}

func TestXPublicClientIDInBody(t *testing.T) {
	f, p := xFake(t, "")
	f.On("POST /2/oauth2/token", func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.HasBasic {
			t.Error("public client sent Basic")
		}
		wantForm(t, s.Form, map[string]string{"client_id": "x-client"})
		wantNoParam(t, s.Form, "client_secret")
		providertest.WriteJSON(w, 200, `{"token_type":"bearer","expires_in":7200,"access_token":"x-AT","refresh_token":"x-RT"}`)
	})
	if _, err := p.Exchange(ctx(t), "x-code", "v3r", "http://127.0.0.1:8765/callback"); err != nil {
		t.Fatal(err)
	}
}

func TestXRotatingRefresh(t *testing.T) {
	f, p := xFake(t, "")
	f.On("POST /2/oauth2/token", func(w http.ResponseWriter, r *http.Request, s seen) {
		switch s.Form.Get("refresh_token") {
		case "rt-1":
			providertest.WriteJSON(w, 200, `{"token_type":"bearer","expires_in":7200,"access_token":"at-2","refresh_token":"rt-2","scope":"tweet.read offline.access"}`)
		case "rt-drop":
			providertest.DropAfterRead(w, r, s)
		default:
			providertest.WriteJSON(w, 400, `{"error":"invalid_request","error_description":"Value passed for the token was invalid."}`)
		}
	})
	tok, err := p.Renew(ctx(t), &auth.Token{AccessToken: "at-1", RefreshToken: "rt-1"})
	if err != nil || tok.RefreshToken != "rt-2" || tok.AccessToken != "at-2" {
		t.Fatalf("%+v %v", tok, err)
	}
	// The old, already-used refresh token: X's invalid_request body.
	_, err = p.Renew(ctx(t), &auth.Token{AccessToken: "at-1", RefreshToken: "rt-used"})
	wantKind(t, err, KindDefinite, auth.ReasonAccessRevoked)

	// The server rotates and the connection drops: ambiguous, sent once.
	before := f.Count("POST /2/oauth2/token")
	_, err = p.Renew(ctx(t), &auth.Token{AccessToken: "at-1", RefreshToken: "rt-drop"})
	e := wantKind(t, err, KindTransient, "")
	if !e.Ambiguous {
		t.Errorf("a dropped rotating refresh is not marked ambiguous: %v", e)
	}
	if f.Count("POST /2/oauth2/token")-before != 1 {
		t.Errorf("the refresh was sent %d times", f.Count("POST /2/oauth2/token")-before)
	}
	if !strings.Contains(e.Error(), "not sent again") {
		t.Errorf("message does not say it was not resent: %v", e)
	}
}

func TestXRevokeRefreshFirst(t *testing.T) {
	f, p := xFake(t, "x-secret")
	f.On("POST /2/oauth2/revoke", func(w http.ResponseWriter, r *http.Request, s seen) {
		if !s.HasBasic {
			t.Error("no Basic on revoke")
		}
		providertest.WriteJSON(w, 200, `{"revoked":true}`)
	})
	if err := p.Revoke(ctx(t), &auth.Token{AccessToken: "at", RefreshToken: "rt"}); err != nil {
		t.Fatal(err)
	}
	got := f.Requests()
	if len(got) != 2 || got[0].Form.Get("token") != "rt" || got[0].Form.Get("token_type_hint") != "refresh_token" ||
		got[1].Form.Get("token") != "at" || got[1].Form.Get("token_type_hint") != "access_token" {
		t.Fatalf("revoke requests %+v", got)
	}
}

func TestXAccount(t *testing.T) {
	f, p := xFake(t, "")
	f.On("GET /2/users/me", func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.Header.Get("Authorization") != "Bearer at" {
			providertest.WriteJSON(w, 401, `{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}`)
			return
		}
		providertest.WriteJSON(w, 200, `{"data":{"id":"2244994945","name":"X Developers","username":"XDevelopers"}}`)
	})
	a, err := p.Account(ctx(t), &auth.Token{AccessToken: "at"})
	if err != nil || a.ID != "2244994945" || a.Name != "XDevelopers" {
		t.Fatalf("%+v %v", a, err)
	}
	v, err := p.Verify(ctx(t), &auth.Token{AccessToken: "bad"})
	if err != nil || v.Valid || v.Reason != auth.ReasonInvalid {
		t.Fatalf("%+v %v", v, err)
	}
	v, err = p.Verify(ctx(t), &auth.Token{AccessToken: "bad", Expiry: fixedNow.Add(-time.Minute)})
	if err != nil || v.Reason != auth.ReasonExpired {
		t.Fatalf("lapsed: %+v %v", v, err)
	}
}

func googleFake(t *testing.T, typ string) (*fakeNet, *Provider) {
	f := newFake(t)
	p := newProvider(t, Settings{Type: typ, ClientID: "g-client.apps.googleusercontent.com", ClientSecret: "g-secret",
		TokenURL: f.Endpoint("/token"), RevokeURL: f.Endpoint("/revoke"), IntrospectURL: f.Endpoint("/tokeninfo"),
		UserinfoURL: f.Endpoint("/v1/userinfo")})
	return f, p
}

// idToken builds an unsigned JWT carrying claims (the signature is not read).
func idToken(claims string) string {
	enc := func(s string) string {
		return strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(b64(s)), "=")
	}
	return enc(`{"alg":"RS256"}`) + "." + enc(claims) + ".c2ln"
}

func TestGoogle(t *testing.T) {
	f, p := googleFake(t, "google")
	pr := p.Preset()
	if pr.ExtraAuthParams["access_type"] != "offline" || pr.ExtraAuthParams["prompt"] != "consent" || pr.FixedPort != 0 || !pr.AllowsMode(auth.RedirectDevice) {
		t.Fatalf("google preset %+v", pr)
	}
	f.On("POST /token", func(w http.ResponseWriter, r *http.Request, s seen) {
		wantForm(t, s.Form, map[string]string{"client_id": "g-client.apps.googleusercontent.com", "client_secret": "g-secret"})
		switch s.Form.Get("grant_type") {
		case "authorization_code":
			providertest.WriteJSON(w, 200, mustJSON(map[string]any{"access_token": "ya29.a", "expires_in": 3599, "refresh_token": "1//rt",
				"scope": "openid https://www.googleapis.com/auth/userinfo.email", "token_type": "Bearer",
				"id_token": idToken(`{"iss":"https://accounts.google.com","sub":"1103","email":"ops@acme.example","name":"Acme Ops"}`)}))
		default:
			if s.Form.Get("refresh_token") == "1//rt" {
				providertest.WriteJSON(w, 200, `{"access_token":"ya29.b","expires_in":3599,"scope":"openid","token_type":"Bearer"}`)
				return
			}
			providertest.WriteJSON(w, 400, `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`)
		}
	})
	tok, err := p.Exchange(ctx(t), "4/0Ab", "verifier", "http://127.0.0.1:50123/callback")
	if err != nil || tok.IDToken == "" {
		t.Fatalf("%+v %v", tok, err)
	}
	n := len(f.Requests())
	a, err := p.Account(ctx(t), tok)
	if err != nil || a.ID != "1103" || a.Name != "Acme Ops" || len(f.Requests()) != n {
		t.Fatalf("account from id_token: %+v %v (requests %d -> %d)", a, err, n, len(f.Requests()))
	}
	tok2, err := p.Renew(ctx(t), tok)
	if err != nil || tok2.RefreshToken != "1//rt" || tok2.IDToken != tok.IDToken || tok2.AccessToken != "ya29.b" {
		t.Fatalf("refresh without refresh_token must keep the old one: %+v %v", tok2, err)
	}
	_, err = p.Renew(ctx(t), &auth.Token{AccessToken: "x", RefreshToken: "1//dead"})
	wantKind(t, err, KindDefinite, auth.ReasonAccessRevoked)

	f.On("POST /tokeninfo", func(w http.ResponseWriter, r *http.Request, s seen) {
		if len(s.Query) != 0 {
			t.Error("tokeninfo: token in the query")
		}
		if s.Form.Get("access_token") == "ya29.b" {
			providertest.WriteJSON(w, 200, `{"azp":"g-client.apps.googleusercontent.com","aud":"g-client.apps.googleusercontent.com","sub":"1103","scope":"openid https://www.googleapis.com/auth/youtube.upload","exp":"1893456000","expires_in":"3599"}`)
			return
		}
		if s.Form.Get("access_token") == "other-client" {
			providertest.WriteJSON(w, 200, `{"azp":"someone-else","aud":"someone-else","exp":"1893456000"}`)
			return
		}
		providertest.WriteJSON(w, 400, `{"error":"invalid_token","error_description":"Invalid Value"}`)
	})
	v, err := p.Verify(ctx(t), tok2)
	if err != nil || !v.Valid || v.Expiry.Unix() != 1893456000 || len(v.Scopes) != 2 {
		t.Fatalf("%+v %v", v, err)
	}
	v, _ = p.Verify(ctx(t), &auth.Token{AccessToken: "nope"})
	if v.Valid || v.Reason != auth.ReasonInvalid {
		t.Fatalf("%+v", v)
	}
	v, _ = p.Verify(ctx(t), &auth.Token{AccessToken: "other-client"})
	if v.Valid {
		t.Fatal("a token of another client counted as valid")
	}

	// Google answers 400 invalid_token for a token it no longer knows.
	f.Reply("POST /revoke", 400, `{"error":"invalid_token","error_description":"Token expired or revoked"}`)
	if err := p.Revoke(ctx(t), tok2); err != nil {
		t.Fatalf("revoking an already dead token: %v", err)
	}
}

func TestYouTubeAccountIsTheChannel(t *testing.T) {
	f, p := googleFake(t, "youtube")
	if p.Preset().DefaultScopes[0] != "https://www.googleapis.com/auth/youtube.upload" {
		t.Fatalf("youtube scopes %v", p.Preset().DefaultScopes)
	}
	f.Reply("GET /v1/userinfo", 200, `{"kind":"youtube#channelListResponse","items":[{"id":"UCabc","snippet":{"title":"Acme TV","customUrl":"@acmetv"}}]}`)
	a, err := p.Account(ctx(t), &auth.Token{AccessToken: "ya29", IDToken: idToken(`{"sub":"1103"}`)})
	if err != nil || a.ID != "UCabc" || a.Name != "Acme TV" {
		t.Fatalf("%+v %v", a, err)
	}
	f.Reply("GET /v1/userinfo", 200, `{"kind":"youtube#channelListResponse","items":[]}`)
	_, err = p.Account(ctx(t), &auth.Token{AccessToken: "ya29"})
	if err == nil || !strings.Contains(err.Error(), "no YouTube channel") {
		t.Fatalf("%v", err)
	}
}

func tiktokFake(t *testing.T) (*fakeNet, *Provider) {
	f := newFake(t)
	p := newProvider(t, Settings{Type: "tiktok", ClientID: "tt-key", ClientSecret: "tt-secret",
		TokenURL: f.Endpoint("/v2/oauth/token/"), RevokeURL: f.Endpoint("/v2/oauth/revoke/"),
		UserinfoURL: f.Endpoint("/v2/user/info/?fields=open_id,union_id,display_name,username")})
	return f, p
}

func TestTikTok(t *testing.T) {
	f, p := tiktokFake(t)
	if p.RedirectPath() != "/callback/tiktok/" || p.Preset().PKCE != auth.PKCEHex {
		t.Fatalf("tiktok path %q pkce %q", p.RedirectPath(), p.Preset().PKCE)
	}
	f.On("POST /v2/oauth/token/", func(w http.ResponseWriter, r *http.Request, s seen) {
		wantForm(t, s.Form, map[string]string{"client_key": "tt-key", "client_secret": "tt-secret"})
		wantNoParam(t, s.Form, "client_id")
		switch s.Form.Get("grant_type") {
		case "authorization_code":
			wantForm(t, s.Form, map[string]string{"code": "tt-code", "code_verifier": "hexver", "redirect_uri": "http://127.0.0.1:41234/callback/"})
			providertest.WriteJSON(w, 200, `{"access_token":"act.1","expires_in":86400,"open_id":"oid-1","refresh_expires_in":31536000,"refresh_token":"rft.1","scope":"user.info.basic,video.publish","token_type":"Bearer"}`)
		case "refresh_token":
			switch s.Form.Get("refresh_token") {
			case "rft.1":
				providertest.WriteJSON(w, 200, `{"access_token":"act.2","expires_in":86400,"open_id":"oid-1","refresh_expires_in":31535000,"refresh_token":"rft.2","scope":"user.info.basic,video.publish","token_type":"Bearer"}`)
			case "rft.malformed":
				// TikTok can answer an error with 200.
				providertest.WriteJSON(w, 200, `{"error":"invalid_request","error_description":"The request parameters are malformed.","log_id":"20261120120000ABCDEF"}`)
			default:
				providertest.WriteJSON(w, 400, `{"error":"invalid_grant","error_description":"Refresh token is invalid or expired.","log_id":"20261120120000ABCDEF"}`)
			}
		}
	})
	tok, err := p.Exchange(ctx(t), "tt-code", "hexver", "http://127.0.0.1:41234/callback/")
	if err != nil || !near(tok.RefreshExpiry, fixedNow.Add(31536000*time.Second)) || strings.Join(tok.Scopes, " ") != "user.info.basic video.publish" {
		t.Fatalf("%+v %v", tok, err)
	}
	tok2, err := p.Renew(ctx(t), tok)
	if err != nil || tok2.RefreshToken != "rft.2" {
		t.Fatalf("%+v %v", tok2, err)
	}
	_, err = p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "rft.dead"})
	e := wantKind(t, err, KindDefinite, auth.ReasonAccessRevoked)
	if strings.Contains(e.Error(), "20261120120000ABCDEF") {
		t.Error("log_id leaked into the message")
	}
	_, err = p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "rft.malformed"})
	e = wantKind(t, err, KindOther, "")
	if e.Code != "invalid_request" {
		t.Errorf("code %q", e.Code)
	}

	f.On("POST /v2/oauth/revoke/", func(w http.ResponseWriter, r *http.Request, s seen) {
		wantForm(t, s.Form, map[string]string{"client_key": "tt-key", "client_secret": "tt-secret", "token": "act.2"})
		wantNoParam(t, s.Form, "token_type_hint")
		providertest.WriteJSON(w, 200, `{}`)
	})
	if err := p.Revoke(ctx(t), tok2); err != nil {
		t.Fatal(err)
	}
	if f.Count("POST /v2/oauth/revoke/") != 1 {
		t.Error("tiktok revoke should be one call with the access token")
	}

	f.On("GET /v2/user/info/", func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.Header.Get("Authorization") == "Bearer act.2" {
			providertest.WriteJSON(w, 200, `{"data":{"user":{"open_id":"oid-1","union_id":"u-1","display_name":"Acme","username":"acme"}},"error":{"code":"ok","message":"","log_id":"x"}}`)
			return
		}
		providertest.WriteJSON(w, 401, `{"data":{},"error":{"code":"access_token_invalid","message":"The access token is invalid or not found in the request.","log_id":"x"}}`)
	})
	a, err := p.Account(ctx(t), tok2)
	if err != nil || a.ID != "oid-1" || a.Name != "acme" {
		t.Fatalf("%+v %v", a, err)
	}
	v, err := p.Verify(ctx(t), &auth.Token{AccessToken: "act.dead"})
	if err != nil || v.Valid || v.Reason != auth.ReasonInvalid {
		t.Fatalf("%+v %v", v, err)
	}
}

func TestPinterestContinuousRefresh(t *testing.T) {
	f := newFake(t)
	p := newProvider(t, Settings{Type: "pinterest", ClientID: "pin-app", ClientSecret: "pin-secret",
		TokenURL: f.Endpoint("/v5/oauth/token"), UserinfoURL: f.Endpoint("/v5/user_account")})
	gen := 0
	f.On("POST /v5/oauth/token", func(w http.ResponseWriter, r *http.Request, s seen) {
		if !s.HasBasic || s.BasicUser != "pin-app" || s.BasicPass != "pin-secret" {
			t.Errorf("pinterest needs Basic app_id:secret, got %v %q", s.HasBasic, s.BasicUser)
		}
		wantNoParam(t, s.Form, "client_id", "client_secret", "code_verifier")
		switch s.Form.Get("grant_type") {
		case "authorization_code":
		case "refresh_token":
			if want := "pina-rt-" + itoa(gen); s.Form.Get("refresh_token") != want {
				providertest.WriteJSON(w, 400, `{"code":1,"message":"Invalid refresh token"}`)
				return
			}
		}
		gen++
		providertest.WriteJSON(w, 200, mustJSON(map[string]any{"access_token": "pina-at-" + itoa(gen), "refresh_token": "pina-rt-" + itoa(gen),
			"response_type": "authorization_code", "token_type": "bearer", "expires_in": 2592000,
			"refresh_token_expires_in": 5184000, "scope": "boards:read,pins:read"}))
	})
	tok, err := p.Exchange(ctx(t), "pin-code", "ignored-verifier", "http://127.0.0.1:8765/callback")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		next, err := p.Renew(ctx(t), tok)
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if next.RefreshToken == tok.RefreshToken || !near(next.RefreshExpiry, fixedNow.Add(5184000*time.Second)) {
			t.Fatalf("refresh %d did not rotate: %+v", i, next)
		}
		tok = next
	}
	// A rotated-away refresh token.
	_, err = p.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "pina-rt-1"})
	wantKind(t, err, KindDefinite, auth.ReasonAccessRevoked)

	f.Reply("GET /v5/user_account", 200, `{"account_type":"BUSINESS","id":"549755885175","username":"acmepins","business_name":"Acme"}`)
	a, err := p.Account(ctx(t), tok)
	if err != nil || a.ID != "549755885175" || a.Name != "acmepins" {
		t.Fatalf("%+v %v", a, err)
	}
	if err := p.Revoke(ctx(t), tok); !errors.Is(err, ErrNoRevocation) {
		t.Fatalf("%v", err)
	}
}
