package provider

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider/providertest"
)

// dexClaimed is Dex's answer to a refresh with a refresh token it no longer
// holds (revoked, or already used): HTTP 400 invalid_request, not the
// invalid_grant of RFC 6749 §5.2 (dexidp/dex#2613).
const dexClaimed = `{"error":"invalid_request","error_description":"Refresh token is invalid or has already been claimed by another client."}`

// dexFake plays Dex: self-contained JWT access tokens that its introspection
// calls active until they expire, whatever became of the grant; refresh
// tokens looked up in storage, so a revoked one is inactive; refresh tokens
// rotated on every use.
type dexFake struct {
	*fakeNet
	mu      sync.Mutex
	refresh map[string]bool // refresh token -> still in storage
	next    int
}

func newDexFake(t *testing.T) *dexFake {
	d := &dexFake{fakeNet: newFake(t), refresh: map[string]bool{}}
	d.On("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request, s seen) {
		iss := d.URL
		providertest.WriteJSON(w, 200, mustJSON(map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/auth", "token_endpoint": iss + "/token",
			"introspection_endpoint": iss + "/token/introspect", "userinfo_endpoint": iss + "/userinfo",
			"device_authorization_endpoint":         iss + "/device/code",
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		}))
	})
	d.On("POST /token", func(w http.ResponseWriter, r *http.Request, s seen) {
		d.mu.Lock()
		defer d.mu.Unlock()
		rt := s.Form.Get("refresh_token")
		if s.Form.Get("grant_type") != "refresh_token" || !d.refresh[rt] {
			providertest.WriteJSON(w, 400, dexClaimed)
			return
		}
		delete(d.refresh, rt)
		at, nrt := d.issueLocked()
		providertest.WriteJSON(w, 200, mustJSON(map[string]any{"access_token": at, "token_type": "bearer", "expires_in": 86399, "refresh_token": nrt}))
	})
	d.On("POST /token/introspect", func(w http.ResponseWriter, r *http.Request, s seen) {
		tok := s.Form.Get("token")
		d.mu.Lock()
		live := d.refresh[tok]
		d.mu.Unlock()
		switch {
		case live:
			providertest.WriteJSON(w, 200, mustJSON(map[string]any{"active": true, "client_id": "sbctl", "sub": "CiQ", "iss": d.URL,
				"token_type": "Bearer", "token_use": "refresh_token"}))
		case d.jwtLive(tok):
			providertest.WriteJSON(w, 200, mustJSON(map[string]any{"active": true, "client_id": "sbctl", "sub": "CiQ", "iss": d.URL,
				"exp": fixedNow.Add(time.Hour).Unix(), "iat": fixedNow.Unix(), "scope": "openid offline_access",
				"token_type": "Bearer", "token_use": "access_token"}))
		default:
			providertest.WriteJSON(w, 200, `{"active":false}`)
		}
	})
	return d
}

// issue hands out a grant: a JWT access token and a stored refresh token.
func (d *dexFake) issue() *auth.Token {
	d.mu.Lock()
	defer d.mu.Unlock()
	at, rt := d.issueLocked()
	return &auth.Token{AccessToken: at, RefreshToken: rt, Expiry: fixedNow.Add(time.Hour)}
}

func (d *dexFake) issueLocked() (string, string) {
	d.next++
	rt := "ChlkZXgtcmVmcmVzaC0" + string(rune('a'+d.next))
	d.refresh[rt] = true
	claims := `{"iss":"` + d.URL + `","sub":"CiQ","aud":"sbctl","exp":` + itoa(int(fixedNow.Add(time.Hour).Unix())) + `,"jti":"` + itoa(d.next) + `"}`
	return idToken(claims), rt
}

// revoke is what `dexctl`/the gRPC API's RevokeRefresh does: the refresh
// token leaves storage; access tokens already issued stay valid JWTs.
func (d *dexFake) revoke(rt string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.refresh, rt)
}

func (d *dexFake) jwtLive(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	return err == nil && strings.Contains(string(payload), `"exp":`+itoa(int(fixedNow.Add(time.Hour).Unix())))
}

func dexProvider(t *testing.T, d *dexFake) *Provider {
	return newProvider(t, Settings{Name: "dex", Type: "oidc", Issuer: d.URL, ClientID: "sbctl", ClientSecret: "dex-app-secret"})
}

// Item 6: Dex's 400 invalid_request to a refresh is a definite rejection.
func TestDexRefreshRejection(t *testing.T) {
	t.Parallel()
	d := newDexFake(t)
	p := dexProvider(t, d)
	tok := d.issue()
	renewed, err := p.Renew(ctx(t), tok)
	if err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	// The old refresh token was claimed by that refresh: a replay, as a
	// second machine with a stale copy would send.
	_, err = p.Renew(ctx(t), tok)
	e := wantKind(t, err, KindDefinite, auth.ReasonInvalid)
	if !strings.Contains(e.Error(), "Refresh token is invalid or has already been claimed by another client.") {
		t.Errorf("message: %s", e)
	}
	d.revoke(renewed.RefreshToken)
	_, err = p.Renew(ctx(t), renewed)
	wantKind(t, err, KindDefinite, auth.ReasonInvalid)
	if reason, ok := Definite(err); !ok || reason != auth.ReasonInvalid {
		t.Errorf("Definite = %q %v", reason, ok)
	}
}

// The same 400 anywhere but a refresh is not taken as a verdict on the
// grant: a code exchange stays "other", a revocation is not "done".
func TestDex400OnlyDefiniteForRefresh(t *testing.T) {
	t.Parallel()
	d := newDexFake(t)
	p := dexProvider(t, d)
	_, err := p.Exchange(ctx(t), "code", "v", redirect)
	wantKind(t, err, KindOther, "")

	f := newFake(t)
	f.Reply("POST /revoke", 400, dexClaimed)
	rp := newProvider(t, Settings{Type: "oauth2", ClientID: "c", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/t"), RevokeURL: f.Endpoint("/revoke")})
	if err := rp.Revoke(ctx(t), &auth.Token{AccessToken: "at"}); err == nil {
		t.Error("a 400 from the revocation endpoint counted as revoked")
	}
	// A transient or configuration answer on a refresh keeps its kind.
	for body, kind := range map[string]ErrorKind{
		`{"error":"temporarily_unavailable"}`:                                        KindTransient,
		`{"error":"invalid_request","error_description":"Invalid client_secret"}`:    KindConfig,
		`{"error":"unsupported_grant_type","error_description":"refresh_token off"}`: KindConfig,
		`{"error":"invalid_scope"}`:                                                  KindConfig,
	} {
		f.Reply("POST /t", 400, body)
		_, err := rp.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "r"})
		wantKind(t, err, kind, "")
	}
	f.Reply("POST /t", 400, `{"error":"invalid_request","error_description":"Refresh token expired."}`)
	_, err = rp.Renew(ctx(t), &auth.Token{AccessToken: "a", RefreshToken: "r"})
	wantKind(t, err, KindDefinite, auth.ReasonExpired)
}

// Item 5: a grant revoked at Dex while its JWT access token lives. The
// access token alone says "active"; the refresh token says the grant is
// gone. A server that cannot introspect refresh tokens (zitadel/oidc) gives
// the same two answers for a live grant, so Verify asks for the renewal
// that tells them apart, and the renewal gives the verdict.
func TestDexVerifyAsksAboutTheGrant(t *testing.T) {
	t.Parallel()
	d := newDexFake(t)
	p := dexProvider(t, d)
	live := d.issue()
	v, err := p.Verify(ctx(t), live)
	if err != nil || !v.Valid || v.Check != CheckIntrospection {
		t.Fatalf("live grant: %+v %v", v, err)
	}
	if got := d.Requests()[len(d.Requests())-1].Form.Get("token_type_hint"); got != "refresh_token" {
		t.Errorf("asked about the %q, want the refresh token", got)
	}

	dead := d.issue()
	d.revoke(dead.RefreshToken)
	v, err = p.Verify(ctx(t), dead)
	if err == nil {
		t.Fatalf("revoked grant verified as %+v", v)
	}
	if !errors.Is(err, ErrCheckByRenewal) {
		t.Fatalf("revoked grant: %v, want ErrCheckByRenewal", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "refresh token") || strings.Contains(msg, dead.RefreshToken) {
		t.Errorf("message: %s", msg)
	}
	_, err = p.Renew(ctx(t), dead)
	wantKind(t, err, KindDefinite, auth.ReasonInvalid)

	// Our clock says the access token lapsed: still no proof either way.
	lapsed := d.issue()
	d.revoke(lapsed.RefreshToken)
	lapsed.Expiry = fixedNow.Add(-time.Minute)
	if v, err := p.Verify(ctx(t), lapsed); !errors.Is(err, ErrCheckByRenewal) {
		t.Fatalf("revoked grant, lapsed access token: %+v %v, want ErrCheckByRenewal", v, err)
	}
}
