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

// authedIntrospectionFake plays a server that lets only authenticated
// clients introspect, as the zitadel/oidc OP does: it advertises
// introspection_endpoint_auth_methods_supported without "none" (when
// advertise is set) and answers a client without a secret with 401
// invalid_client. Its userinfo knows one live access token.
func authedIntrospectionFake(t *testing.T, advertise bool) *fakeNet {
	f := newFake(t)
	f.On("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request, s seen) {
		iss := f.URL
		doc := map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/oauth/token",
			"introspection_endpoint": iss + "/oauth/introspect", "userinfo_endpoint": iss + "/userinfo",
			"revocation_endpoint":                   iss + "/revoke",
			"token_endpoint_auth_methods_supported": []string{"none", "client_secret_basic", "client_secret_post", "private_key_jwt"},
		}
		if advertise {
			doc["introspection_endpoint_auth_methods_supported"] = []string{"client_secret_basic", "private_key_jwt"}
		}
		providertest.WriteJSON(w, 200, mustJSON(doc))
	})
	f.On("POST /oauth/introspect", func(w http.ResponseWriter, r *http.Request, s seen) {
		if !s.HasBasic || s.BasicPass == "" {
			providertest.WriteJSON(w, 401, `{"error":"invalid_client","error_description":"client must be authenticated"}`)
			return
		}
		providertest.WriteJSON(w, 200, `{"active":true,"scope":"openid","client_id":"api","exp":1893456000}`)
	})
	f.On("GET /userinfo", func(w http.ResponseWriter, r *http.Request, s seen) {
		switch s.Header.Get("Authorization") {
		case "Bearer live-at":
			providertest.WriteJSON(w, 200, `{"sub":"id1","name":"Kaori Ito","preferred_username":"kaori"}`)
			return
		case "Bearer revoked-at":
			// zitadel/oidc: the token decrypts, but its grant is gone from
			// storage; the OP answers 403 with an empty object.
			providertest.WriteJSON(w, 403, `{}`)
			return
		}
		providertest.WriteJSON(w, 401, `{"error":"access_denied","error_description":"access token invalid"}`)
	})
	return f
}

// Item 11: a public client at a server that advertises authenticated
// introspection checks through userinfo and never introspects.
func TestPublicClientAdvertisedIntrospectionAuth(t *testing.T) {
	t.Parallel()
	f := authedIntrospectionFake(t, true)
	p := newProvider(t, Settings{Name: "zit", Type: "oidc", Issuer: f.URL, ClientID: "native"})
	v, err := p.Verify(ctx(t), &auth.Token{AccessToken: "live-at", RefreshToken: "rt-1", Expiry: fixedNow.Add(time.Hour)})
	if err != nil || !v.Valid || v.Check != CheckUserinfo {
		t.Fatalf("%+v %v", v, err)
	}
	v, err = p.Verify(ctx(t), &auth.Token{AccessToken: "dead-at", Expiry: fixedNow.Add(time.Hour)})
	if err != nil || v.Valid || v.Reason != auth.ReasonAccessRevoked {
		t.Fatalf("dead access token: %+v %v", v, err)
	}
	if n := f.Count("POST /oauth/introspect"); n != 0 {
		t.Errorf("introspected %d times", n)
	}

	// The access token lapsed and only the refresh token could speak for
	// the grant: only a renewal can tell.
	_, err = p.Verify(ctx(t), &auth.Token{AccessToken: "old-at", RefreshToken: "rt-1", Expiry: fixedNow.Add(-time.Minute)})
	if !errors.Is(err, ErrCheckByRenewal) {
		t.Fatalf("lapsed access token: %v, want ErrCheckByRenewal", err)
	}
	if strings.Contains(err.Error(), "client secret") || !strings.Contains(err.Error(), "renew") {
		t.Errorf("message: %s", err)
	}
	if n := f.Count("GET /userinfo"); n != 2 {
		t.Errorf("userinfo called %d times, want 2 (not with a lapsed token)", n)
	}

	// A bare 403 from userinfo says nothing about permissions; with a
	// refresh token, the renewal is the proof.
	_, err = p.Verify(ctx(t), &auth.Token{AccessToken: "revoked-at", RefreshToken: "rt-1", Expiry: fixedNow.Add(time.Hour)})
	if !errors.Is(err, ErrCheckByRenewal) || strings.Contains(err.Error(), "permission") {
		t.Fatalf("revoked grant, bare 403: %v, want ErrCheckByRenewal", err)
	}

	// A confidential client of the same server introspects.
	cp := newProvider(t, Settings{Name: "zit", Type: "oidc", Issuer: f.URL, ClientID: "api", ClientSecret: "api-secret"})
	v, err = cp.Verify(ctx(t), &auth.Token{AccessToken: "live-at", Expiry: fixedNow.Add(time.Hour)})
	if err != nil || !v.Valid || v.Check != CheckIntrospection {
		t.Fatalf("confidential: %+v %v", v, err)
	}
}

// Item 11: the server does not advertise it but refuses a public client's
// introspection with invalid_client: userinfo answers instead.
func TestPublicClientIntrospectionRefused(t *testing.T) {
	t.Parallel()
	f := authedIntrospectionFake(t, false)
	p := newProvider(t, Settings{Name: "zit", Type: "oidc", Issuer: f.URL, ClientID: "native"})
	v, err := p.Verify(ctx(t), &auth.Token{AccessToken: "live-at", Expiry: fixedNow.Add(time.Hour)})
	if err != nil || !v.Valid || v.Check != CheckUserinfo {
		t.Fatalf("%+v %v", v, err)
	}
	if n := f.Count("POST /oauth/introspect"); n != 1 {
		t.Errorf("introspected %d times, want 1", n)
	}
	_, err = p.Verify(ctx(t), &auth.Token{RefreshToken: "rt-only"})
	if !errors.Is(err, ErrCheckByRenewal) {
		t.Fatalf("refresh token only: %v, want ErrCheckByRenewal", err)
	}
}

// Neither introspection nor userinfo, and no refresh token: the error says
// so in words that fit a public client.
func TestPublicClientNoWayToCheck(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.Reply("POST /introspect", 401, `{"error":"invalid_client","error_description":"client must be authenticated"}`)
	p := newProvider(t, Settings{Name: "legacy", Type: "oauth2", ClientID: "native", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/t"),
		IntrospectURL: f.Endpoint("/introspect")})
	_, err := p.Verify(ctx(t), &auth.Token{AccessToken: "at"})
	if !errors.Is(err, ErrNoCheck) {
		t.Fatalf("%v, want ErrNoCheck", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "check client_id, the client secret") || !strings.Contains(msg, "public client") {
		t.Errorf("message: %s", msg)
	}
}

// The sandbox's and LinkedIn's inactive answers say why; such an answer
// about the refresh token is the verdict, with no second question.
func TestIntrospectRefreshTokenWithReason(t *testing.T) {
	t.Parallel()
	f := oidcIssuer(t, nil)
	p := newProvider(t, Settings{Type: "oidc", Issuer: f.URL, ClientID: "sbctl"})
	f.On("POST /introspect", func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.Form.Get("token_type_hint") != "refresh_token" {
			t.Errorf("asked about the %s", s.Form.Get("token_type_hint"))
		}
		providertest.WriteJSON(w, 200, `{"active":false,"reason":"password_changed"}`)
	})
	v, err := p.Verify(ctx(t), &auth.Token{AccessToken: "sbx-at", RefreshToken: "sbx-rt", Expiry: fixedNow.Add(time.Hour)})
	if err != nil || v.Valid || v.Reason != auth.ReasonPasswordChanged {
		t.Fatalf("%+v %v", v, err)
	}
	if n := f.Count("POST /introspect"); n != 1 {
		t.Errorf("%d introspections, want 1", n)
	}
	// Both tokens inactive: the grant is gone.
	f.Reply("POST /introspect", 200, `{"active":false}`)
	v, err = p.Verify(ctx(t), &auth.Token{AccessToken: "sbx-at", RefreshToken: "sbx-rt", Expiry: fixedNow.Add(time.Hour)})
	if err != nil || v.Valid || v.Reason != auth.ReasonAccessRevoked {
		t.Fatalf("both inactive: %+v %v", v, err)
	}
}
