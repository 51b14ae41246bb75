package sandbox

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestRevocation(t *testing.T) {
	s := start(t, Options{AutoApprove: true})
	ep := s.Metadata().RevocationEndpoint

	t.Run("refresh token revokes the grant", func(t *testing.T) {
		tok := codeFlow(t, s, config(s))
		code, body, hdr := post(t, ep, url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {testClient}})
		if code != 200 || body != nil || hdr.Get("Cache-Control") != "no-store" {
			t.Fatalf("revoke: %d %v", code, body)
		}
		code, body = refresh(t, s, tok.RefreshToken)
		wantError(t, code, body, 400, "invalid_grant", "access_revoked")
		if code, body, _ := getUserinfo(t, s, tok.AccessToken); code != 401 || body["reason"] != "access_revoked" {
			t.Fatalf("access token after revoking the grant: %d %v", code, body)
		}
	})
	t.Run("access token alone", func(t *testing.T) {
		tok := codeFlow(t, s, config(s))
		// A wrong hint must not matter (RFC 7009 §2.1).
		if code, _, _ := post(t, ep, url.Values{"token": {tok.AccessToken}, "token_type_hint": {"refresh_token"}}); code != 200 {
			t.Fatalf("revoke: %d", code)
		}
		if in := introspect(t, s, tok.AccessToken); in["active"] != false || in["reason"] != "access_revoked" {
			t.Fatalf("introspection %v", in)
		}
		if code, body := refresh(t, s, tok.RefreshToken); code != 200 {
			t.Fatalf("the grant should survive: %d %v", code, body)
		}
	})
	t.Run("unknown token is 200", func(t *testing.T) {
		code, _, _ := post(t, ep, url.Values{"token": {"sbx-rt-never-issued"}, "token_type_hint": {"whatever"}})
		if code != 200 {
			t.Fatalf("%d", code)
		}
	})
	t.Run("another client's token", func(t *testing.T) {
		tok := codeFlow(t, s, config(s))
		code, body, _ := post(t, ep, url.Values{"token": {tok.RefreshToken}, "client_id": {"intruder"}})
		wantError(t, code, body, 400, "unauthorized_client", "")
		if code, _ := refresh(t, s, tok.RefreshToken); code != 200 {
			t.Fatal("an intruder revoked the grant")
		}
	})
	t.Run("missing token", func(t *testing.T) {
		code, body, _ := post(t, ep, url.Values{"client_id": {testClient}})
		wantError(t, code, body, 400, "invalid_request", "")
	})
}

func TestIntrospection(t *testing.T) {
	clk := newClock()
	s := start(t, Options{AutoApprove: true, Now: clk.Now})
	tok := codeFlow(t, s, config(s, "openid", "email"))
	in := introspect(t, s, tok.AccessToken)
	now := clk.Now().Unix()
	if in["active"] != true || in["sub"] != "sandbox-user" || in["client_id"] != testClient || in["scope"] != "openid email" ||
		in["token_type"] != "Bearer" || in["username"] != "sandbox-user" || in["iat"] != float64(now) || in["exp"] != float64(now+3600) ||
		in["iss"] != s.Issuer() {
		t.Fatalf("active introspection %v", in)
	}
	if in := introspect(t, s, "sbx-at-unknown"); len(in) != 1 || in["active"] != false {
		t.Fatalf("unknown token: %v", in)
	}
	clk.Advance(time.Hour)
	if in := introspect(t, s, tok.AccessToken); in["active"] != false || in["reason"] != "expired" {
		t.Fatalf("expired token: %v", in)
	}
	if code, body, _ := getUserinfo(t, s, tok.AccessToken); code != 401 || body["reason"] != "expired" {
		t.Fatalf("userinfo with an expired token: %d %v", code, body)
	}
	code, body, _ := post(t, s.Metadata().IntrospectionEndpoint, url.Values{})
	wantError(t, code, body, 400, "invalid_request", "")
}

func TestUserinfoWithoutToken(t *testing.T) {
	s := start(t, Options{})
	for _, auth := range []string{"", "Basic abc", "Bearer ", "Bearer sbx-at-unknown"} {
		req, _ := http.NewRequest("GET", s.Metadata().UserinfoEndpoint, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		code, body, hdr := do(t, req)
		if code != 401 || body["reason"] != nil || hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%q: %d %v %v", auth, code, body, hdr)
		}
	}
}
