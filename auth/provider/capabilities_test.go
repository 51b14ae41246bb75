package provider

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider/providertest"
)

// renamed is p with its preset named like no built-in network: what the
// network does must come from its capabilities, never from its name, so
// that a new network is one preset and not edits in six files.
func renamed(p *Provider) *Provider {
	p.preset.Name = "acme-network"
	return p
}

func TestCapabilitiesNotNames(t *testing.T) {
	t.Parallel()
	t.Run("exchange and code suffix (instagram)", func(t *testing.T) {
		t.Parallel()
		f, p := instagramFake(t)
		renamed(p)
		f.On("POST /oauth/access_token", func(w http.ResponseWriter, r *http.Request, s seen) {
			wantForm(t, s.Form, map[string]string{"grant_type": "authorization_code", "code": "AQBx"})
			providertest.WriteJSON(w, 200, `{"access_token":"ig-short","user_id":"17841"}`)
		})
		f.On("GET /access_token", func(w http.ResponseWriter, r *http.Request, s seen) {
			wantForm(t, s.Query, map[string]string{"grant_type": "ig_exchange_token", "access_token": "ig-short"})
			providertest.WriteJSON(w, 200, `{"access_token":"ig-long","expires_in":5183944}`)
		})
		if tok, err := p.Exchange(ctx(t), "AQBx#_", "", "https://relay.example/ig"); err != nil || tok.AccessToken != "ig-long" {
			t.Fatalf("%+v %v", tok, err)
		}
	})
	t.Run("account from userinfo (youtube)", func(t *testing.T) {
		t.Parallel()
		f, p := googleFake(t, "youtube")
		renamed(p)
		f.Reply("GET /v1/userinfo", 200, `{"items":[{"id":"UCabc","snippet":{"title":"Acme TV"}}]}`)
		if a, err := p.Account(ctx(t), &auth.Token{AccessToken: "ya29", IDToken: idToken(`{"sub":"1103"}`)}); err != nil || a.ID != "UCabc" {
			t.Fatalf("%+v %v", a, err)
		}
		f.Reply("GET /v1/userinfo", 200, `{"items":[]}`)
		if _, err := p.Account(ctx(t), &auth.Token{AccessToken: "ya29"}); err == nil || !strings.Contains(err.Error(), "no YouTube channel") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("revocation and debug_token with the app token (facebook)", func(t *testing.T) {
		t.Parallel()
		f, p := facebookFake(t)
		renamed(p)
		f.Reply("DELETE /v23.0/me/permissions", 200, `{"success":true}`)
		if err := p.Revoke(ctx(t), &auth.Token{AccessToken: "fb-AT"}); err != nil || f.Count("DELETE /v23.0/me/permissions") != 1 {
			t.Fatalf("revoke: %v, %d DELETE", err, f.Count("DELETE /v23.0/me/permissions"))
		}
		f.On("GET /v23.0/debug_token", func(w http.ResponseWriter, r *http.Request, s seen) {
			wantForm(t, s.Query, map[string]string{"access_token": "app-id|app-secret", "input_token": "fb-AT"})
			providertest.WriteJSON(w, 200, `{"data":{"app_id":"another-app","is_valid":true}}`)
		})
		// A token of another app is a mix-up: only the app token can say so.
		if v, err := p.Verify(ctx(t), &auth.Token{AccessToken: "fb-AT"}); err != nil || v.Valid || v.Reason != auth.ReasonInvalid {
			t.Fatalf("verify: %+v %v", v, err)
		}
	})
	t.Run("revocation of the access token alone (tiktok)", func(t *testing.T) {
		t.Parallel()
		f, p := tiktokFake(t)
		renamed(p)
		f.On("POST /v2/oauth/revoke/", func(w http.ResponseWriter, r *http.Request, s seen) {
			wantForm(t, s.Form, map[string]string{"client_key": "tt-key", "token": "act.2"})
			wantNoParam(t, s.Form, "token_type_hint")
			providertest.WriteJSON(w, 200, `{}`)
		})
		if err := p.Revoke(ctx(t), &auth.Token{AccessToken: "act.2", RefreshToken: "rft.2"}); err != nil || f.Count("POST /v2/oauth/revoke/") != 1 {
			t.Fatalf("revoke: %v, %d calls", err, f.Count("POST /v2/oauth/revoke/"))
		}
	})
	t.Run("introspection hint and refresh advice (linkedin)", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		p := renamed(newProvider(t, Settings{Type: "linkedin", ClientID: "li-id", ClientSecret: "li-secret",
			IntrospectURL: f.Endpoint("/introspect")}))
		f.On("POST /introspect", func(w http.ResponseWriter, r *http.Request, s seen) {
			wantNoParam(t, s.Form, "token_type_hint")
			providertest.WriteJSON(w, 200, `{"active":true}`)
		})
		if v, err := p.Verify(ctx(t), &auth.Token{AccessToken: "li-AT"}); err != nil || !v.Valid {
			t.Fatalf("verify: %+v %v", v, err)
		}
		if _, why := p.CanRenew(&auth.Token{AccessToken: "li-AT"}, fixedNow); !strings.Contains(why, "issues no refresh token to this app (refresh tokens are for approved partners)") {
			t.Fatalf("CanRenew: %q", why)
		}
	})
}

// Every preset speaks auth's vocabulary: a mode, PKCE setting and client
// authentication that config and the flow know.
func TestPresetsUseTheVocabulary(t *testing.T) {
	t.Parallel()
	for _, p := range Presets() {
		if !p.Redirect.Valid() || !p.AllowsMode(p.Redirect) {
			t.Errorf("%s: default redirect %q is not one of its modes %v", p.Name, p.Redirect, p.Modes)
		}
		for _, m := range p.Modes {
			if !m.Valid() {
				t.Errorf("%s: mode %q is not an auth.RedirectMode", p.Name, m)
			}
		}
		if _, ok := auth.ParsePKCE(string(p.PKCE)); !ok {
			t.Errorf("%s: PKCE %q is not an auth.PKCE", p.Name, p.PKCE)
		}
		if a, ok := auth.ParseClientAuth(string(p.ClientAuth)); !ok || a != p.ClientAuth {
			t.Errorf("%s: client auth %q is not an auth.ClientAuth", p.Name, p.ClientAuth)
		}
	}
}
