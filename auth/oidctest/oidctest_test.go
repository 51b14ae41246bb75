package oidctest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/flow"
)

// discovery is the part of the OP's metadata these tests use.
type discovery struct {
	Authorization string   `json:"authorization_endpoint"`
	Token         string   `json:"token_endpoint"`
	Userinfo      string   `json:"userinfo_endpoint"`
	Introspection string   `json:"introspection_endpoint"`
	Revocation    string   `json:"revocation_endpoint"`
	TokenAuth     []string `json:"token_endpoint_auth_methods_supported"`
	IntroAuth     []string `json:"introspection_endpoint_auth_methods_supported"`
}

func discover(t *testing.T, o *OP) discovery {
	t.Helper()
	var d discovery
	resp := call(t, http.MethodGet, o.Issuer+"/.well-known/openid-configuration", nil, nil)
	if resp.status != 200 || json.Unmarshal([]byte(resp.body), &d) != nil {
		t.Fatalf("discovery: %d %s", resp.status, resp.body)
	}
	return d
}

type answer struct {
	status int
	body   string
}

func call(t *testing.T, method, u string, form url.Values, edit func(*http.Request)) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b)}
}

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// signIn runs flow.Run with the ClickThrough browser and redeems the code
// with a hand-written token request, so the fixture is checked without
// sbctl's provider code.
func signIn(t *testing.T, o *OP, d discovery, clientID string, basic bool) tokens {
	t.Helper()
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	res, err := flow.Run(ctx, flow.Params{
		AuthURL: d.Authorization, ClientID: clientID,
		Scopes:       []string{"openid", "profile", "offline_access"},
		CallbackPath: "/callback/zitadel", Issuer: o.Issuer,
		Browser: o.Browser(cancel), Stderr: io.Discard, Timeout: 20 * time.Second,
	})
	if err != nil {
		t.Fatalf("flow: %v", err)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {res.Code},
		"code_verifier": {res.CodeVerifier}, "redirect_uri": {res.RedirectURI}}
	var edit func(*http.Request)
	switch {
	case clientID == PublicClient:
		form.Set("client_id", clientID)
	case basic:
		edit = func(r *http.Request) { r.SetBasicAuth(clientID, ClientSecret) }
	default:
		form.Set("client_id", clientID)
		form.Set("client_secret", ClientSecret)
	}
	a := call(t, http.MethodPost, d.Token, form, edit)
	var tk tokens
	if a.status != 200 || json.Unmarshal([]byte(a.body), &tk) != nil || tk.AccessToken == "" || tk.RefreshToken == "" {
		t.Fatalf("code exchange: %d %s", a.status, a.body)
	}
	return tk
}

func TestFixtureSignInAndTokens(t *testing.T) {
	t.Parallel()
	o := Start(t)
	d := discover(t, o)
	if !slices.Contains(d.TokenAuth, AuthBasic) || slices.Contains(d.IntroAuth, AuthNone) {
		t.Errorf("advertised auth methods: token %v, introspection %v", d.TokenAuth, d.IntroAuth)
	}

	pub := signIn(t, o, d, PublicClient, false)
	if got := o.TokenAuth(PublicClient); !slices.Equal(got, []string{AuthNone}) {
		t.Errorf("public client auth at the token endpoint: %v", got)
	}
	// The ID token carries no profile claims; userinfo does.
	ui := call(t, http.MethodGet, d.Userinfo, nil, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+pub.AccessToken) })
	if ui.status != 200 || !strings.Contains(ui.body, o.Username()) {
		t.Errorf("userinfo: %d %s", ui.status, ui.body)
	}
	// A public client cannot introspect.
	in := call(t, http.MethodPost, d.Introspection, url.Values{"token": {pub.AccessToken}, "client_id": {PublicClient}}, nil)
	if in.status != http.StatusUnauthorized {
		t.Errorf("public introspection: %d %s", in.status, in.body)
	}

	conf := signIn(t, o, d, BasicClient, true)
	basicAuth := func(r *http.Request) { r.SetBasicAuth(BasicClient, ClientSecret) }
	in = call(t, http.MethodPost, d.Introspection, url.Values{"token": {conf.AccessToken}}, basicAuth)
	if in.status != 200 || !strings.Contains(in.body, `"active":true`) {
		t.Errorf("introspection: %d %s", in.status, in.body)
	}

	// Introspection reads access tokens only: a live refresh token is
	// "inactive" (the package doc warns of this).
	in = call(t, http.MethodPost, d.Introspection, url.Values{"token": {conf.RefreshToken}, "token_type_hint": {"refresh_token"}}, basicAuth)
	if in.status != 200 || !strings.Contains(in.body, `"active":false`) {
		t.Errorf("introspection of a live refresh token: %d %s", in.status, in.body)
	}

	// Refresh rotates the refresh token; the old one is then refused.
	ref := call(t, http.MethodPost, d.Token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {conf.RefreshToken}}, basicAuth)
	var next tokens
	if ref.status != 200 || json.Unmarshal([]byte(ref.body), &next) != nil || next.RefreshToken == "" || next.RefreshToken == conf.RefreshToken {
		t.Fatalf("refresh: %d %s", ref.status, ref.body)
	}
	old := call(t, http.MethodPost, d.Token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {conf.RefreshToken}}, basicAuth)
	if old.status != 400 || !strings.Contains(old.body, "invalid_grant") {
		t.Errorf("reused refresh token: %d %s", old.status, old.body)
	}

	// The wrong method for a registered client is refused.
	wrong := call(t, http.MethodPost, d.Token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next.RefreshToken},
		"client_id": {BasicClient}, "client_secret": {ClientSecret}}, nil)
	if wrong.status != 401 || !strings.Contains(wrong.body, "invalid_client") {
		t.Errorf("post for a basic client: %d %s", wrong.status, wrong.body)
	}

	// RevokeGrants kills the grant: refresh and introspection say so.
	if err := o.RevokeGrants(t.Context(), BasicClient); err != nil {
		t.Fatal(err)
	}
	dead := call(t, http.MethodPost, d.Token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next.RefreshToken}}, basicAuth)
	if dead.status != 400 || !strings.Contains(dead.body, "invalid_grant") {
		t.Errorf("refresh after revocation: %d %s", dead.status, dead.body)
	}
	in = call(t, http.MethodPost, d.Introspection, url.Values{"token": {next.AccessToken}}, basicAuth)
	if in.status != 200 || !strings.Contains(in.body, `"active":false`) {
		t.Errorf("introspection after revocation: %d %s", in.status, in.body)
	}
	// Userinfo says 403 with an empty object, not RFC 6750's 401
	// invalid_token (the package doc warns of this).
	ui = call(t, http.MethodGet, d.Userinfo, nil, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+next.AccessToken) })
	if ui.status != http.StatusForbidden || strings.TrimSpace(ui.body) != "{}" {
		t.Errorf("userinfo after revocation: %d %s", ui.status, ui.body)
	}
}

func TestFixtureClickThroughReportsRefusal(t *testing.T) {
	t.Parallel()
	o := Start(t)
	d := discover(t, o)
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	br := o.Browser(cancel)
	br.Password = "wrong"
	_, err := flow.Run(ctx, flow.Params{
		AuthURL: d.Authorization, ClientID: PublicClient, Scopes: []string{"openid"},
		Browser: br, Stderr: io.Discard, Timeout: 20 * time.Second,
	})
	if err == nil || !strings.Contains(err.Error(), "refused the sign-in") {
		t.Fatalf("flow with a wrong password: %v", err)
	}
}
