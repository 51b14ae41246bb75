package provider

import (
	"net/http"
	"testing"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider/providertest"
)

// Item 10: an ID token that carries only sub (zitadel/oidc,
// oauth2-mock-server, Okta's defaults: OIDC Core §5.4 leaves the profile
// claims to userinfo when an access token is issued).
func TestAccountNameFromUserinfo(t *testing.T) {
	t.Parallel()
	f := oidcIssuer(t, nil)
	p := newProvider(t, Settings{Type: "oidc", Issuer: f.URL, ClientID: "sbctl"})
	answer := `{"sub":"id1","name":"Kaori Ito","preferred_username":"kaori","email":"kaori@example.com"}`
	status := http.StatusOK
	f.On("GET /userinfo", func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.Header.Get("Authorization") != "Bearer at-1" {
			t.Errorf("userinfo called with %q", s.Header.Get("Authorization"))
		}
		providertest.WriteJSON(w, status, answer)
	})
	tok := &auth.Token{AccessToken: "at-1", IDToken: idToken(`{"iss":"x","sub":"id1","aud":"sbctl","exp":1893456000}`)}
	a, err := p.Account(ctx(t), tok)
	if err != nil || a.ID != "id1" || a.Name != "kaori" {
		t.Fatalf("%+v %v, want id1 named kaori", a, err)
	}

	// userinfo only labels the profile: when it fails, the ID token's
	// account stands.
	status, answer = http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`
	a, err = p.Account(ctx(t), tok)
	if err != nil || a != (Account{ID: "id1"}) {
		t.Fatalf("userinfo down: %+v %v", a, err)
	}
	// A userinfo answer about someone else is not used (OIDC Core §5.3.2).
	status, answer = http.StatusOK, `{"sub":"someone-else","name":"Mallory"}`
	a, err = p.Account(ctx(t), tok)
	if err != nil || a != (Account{ID: "id1"}) {
		t.Fatalf("other subject: %+v %v", a, err)
	}
	// A name in the ID token needs no call.
	n := f.Count("GET /userinfo")
	a, err = p.Account(ctx(t), &auth.Token{AccessToken: "at-1", IDToken: idToken(`{"sub":"id1","name":"Kaori"}`)})
	if err != nil || a.Name != "Kaori" || f.Count("GET /userinfo") != n {
		t.Fatalf("%+v %v, userinfo calls %d -> %d", a, err, n, f.Count("GET /userinfo"))
	}
}

// No userinfo endpoint, or no discovery at all: the ID token's sub is the
// account, without an error.
func TestAccountSubOnlyWithoutUserinfo(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.Reply("GET /.well-known/openid-configuration", 503, `{}`)
	p := newProvider(t, Settings{Type: "oidc", Issuer: f.URL, ClientID: "sbctl"})
	a, err := p.Account(ctx(t), &auth.Token{AccessToken: "at", IDToken: idToken(`{"sub":"id1"}`)})
	if err != nil || a != (Account{ID: "id1"}) {
		t.Fatalf("%+v %v", a, err)
	}
	o := newProvider(t, Settings{Type: "oauth2", ClientID: "c", AuthURL: f.Endpoint("/a"), TokenURL: f.Endpoint("/t")})
	a, err = o.Account(ctx(t), &auth.Token{AccessToken: "at", IDToken: idToken(`{"sub":"id2"}`)})
	if err != nil || a != (Account{ID: "id2"}) {
		t.Fatalf("%+v %v", a, err)
	}
}
