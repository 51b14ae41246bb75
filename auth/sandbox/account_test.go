package sandbox

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestAccountControlsGiveReasons(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kill   func(*Server, string) error
		path   string
		reason string
	}{
		{"expire", (*Server).ExpireAccount, "expire", "expired"},
		{"revoke", (*Server).RevokeAccount, "revoke", "access_revoked"},
		{"password", (*Server).ChangePassword, "password-change", "password_changed"},
	} {
		for _, overHTTP := range []bool{false, true} {
			name := tc.name
			if overHTTP {
				name += "/http"
			}
			t.Run(name, func(t *testing.T) {
				s := start(t, Options{AutoApprove: true, RotateRefresh: overHTTP})
				conf := config(s)
				tok := codeFlow(t, s, conf, oauth2.SetAuthURLParam("login_hint", "dave"))
				other := codeFlow(t, s, conf, oauth2.SetAuthURLParam("login_hint", "erin"))

				if overHTTP {
					code, body, _ := post(t, s.Issuer()+"/sandbox/accounts/dave/"+tc.path, nil)
					if code != http.StatusNoContent {
						t.Fatalf("admin: %d %v", code, body)
					}
				} else if err := tc.kill(s, "dave"); err != nil {
					t.Fatal(err)
				}

				code, body := refresh(t, s, tok.RefreshToken)
				wantError(t, code, body, 400, "invalid_grant", tc.reason)
				if d, _ := body["error_description"].(string); d == "" {
					t.Error("no error_description")
				}
				for _, tk := range []string{tok.AccessToken, tok.RefreshToken} {
					if in := introspect(t, s, tk); in["active"] != false || in["reason"] != tc.reason {
						t.Errorf("introspection: %v", in)
					}
				}
				code, body, hdr := getUserinfo(t, s, tok.AccessToken)
				if code != 401 || body["error"] != "invalid_token" || body["reason"] != tc.reason {
					t.Errorf("userinfo: %d %v", code, body)
				}
				if w := hdr.Get("WWW-Authenticate"); !strings.HasPrefix(w, "Bearer ") || !strings.Contains(w, `error="invalid_token"`) || !strings.Contains(w, `error_description="`) {
					t.Errorf("WWW-Authenticate %q", w)
				}

				// Another account is untouched, and re-authenticating fixes it.
				if code, body := refresh(t, s, other.RefreshToken); code != 200 {
					t.Errorf("other account: %d %v", code, body)
				}
				again := codeFlow(t, s, conf, oauth2.SetAuthURLParam("login_hint", "dave"))
				if code, _, _ := getUserinfo(t, s, again.AccessToken); code != 200 {
					t.Errorf("after re-authentication: %d", code)
				}
			})
		}
	}
}

func TestAccountControlsUnknownAccount(t *testing.T) {
	s := start(t, Options{})
	if err := s.RevokeAccount("nobody"); !errors.Is(err, ErrUnknownAccount) {
		t.Fatalf("err %v", err)
	}
	code, _, _ := post(t, s.Issuer()+"/sandbox/accounts/nobody/expire", nil)
	if code != http.StatusNotFound {
		t.Fatalf("admin unknown account: %d", code)
	}
	code, _, _ = post(t, s.Issuer()+"/sandbox/accounts/nobody/explode", nil)
	if code != http.StatusNotFound {
		t.Fatalf("admin unknown action: %d", code)
	}
}

func TestAdminRefusesCrossSite(t *testing.T) {
	s := start(t, Options{AutoApprove: true})
	tok := codeFlow(t, s, config(s))
	for _, h := range [][2]string{{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}} {
		code, _, _ := post(t, s.Issuer()+"/sandbox/accounts/sandbox-user/revoke", nil, func(r *http.Request) { r.Header.Set(h[0], h[1]) })
		if code != http.StatusForbidden {
			t.Fatalf("%s: %d", h[0], code)
		}
	}
	if code, _, _ := getUserinfo(t, s, tok.AccessToken); code != 200 {
		t.Fatal("a cross-site request revoked the account")
	}
}

func TestAdminStats(t *testing.T) {
	s := start(t, Options{AutoApprove: true, RotateRefresh: true})
	tok := codeFlow(t, s, config(s), oauth2.SetAuthURLParam("login_hint", "frank"))
	refresh(t, s, tok.RefreshToken)
	refresh(t, s, tok.RefreshToken) // reuse
	introspect(t, s, tok.AccessToken)
	getUserinfo(t, s, tok.AccessToken)
	post(t, s.Metadata().RevocationEndpoint, map[string][]string{"token": {"unknown"}})

	resp, err := http.Get(s.Issuer() + "/sandbox/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	want := Stats{
		AuthorizeRequests: 1, TokenRequests: 3, CodeExchanges: 1, RefreshRequests: 2, RefreshSucceeded: 1,
		RefreshByAccount: map[string]int64{"frank": 2}, ReuseDetections: 1, Revocations: 1, Introspections: 1, UserinfoRequests: 1,
	}
	got, _ := json.Marshal(st)
	wantJSON, _ := json.Marshal(want)
	if string(got) != string(wantJSON) {
		t.Fatalf("stats\n got %s\nwant %s", got, wantJSON)
	}
	if in := s.Stats(); in.RefreshByAccount["frank"] != 2 {
		t.Fatalf("Stats() %+v", in)
	}
}

func TestIssue(t *testing.T) {
	clk := newClock()
	s := start(t, Options{Now: clk.Now})
	tok, err := s.Issue(IssueRequest{ClientID: testClient, Subject: "gina", Scopes: []string{"openid", "x.read"}, RefreshTTL: 3600e9})
	if err != nil {
		t.Fatal(err)
	}
	if tok.IDToken == "" || tok.Scope != "openid x.read" || tok.RefreshTokenExpiresIn != 3600 || tok.ExpiresIn != 3600 {
		t.Fatalf("%+v", tok)
	}
	if code, body := refresh(t, s, tok.RefreshToken); code != 200 {
		t.Fatal(body)
	}
	for _, bad := range []IssueRequest{{}, {ClientID: "c", Subject: "a b"}, {ClientID: "c", Scopes: []string{"a b"}}, {ClientID: "c", Scopes: []string{""}}} {
		if _, err := s.Issue(bad); err == nil {
			t.Errorf("Issue(%+v) succeeded", bad)
		}
	}
}

// An approval given before a password change cannot be redeemed after it.
func TestAccountControlBetweenApprovalAndExchange(t *testing.T) {
	s := start(t, Options{AutoApprove: true})
	conf := config(s)
	codeFlow(t, s, conf) // the account exists
	v := oauth2.GenerateVerifier()
	q := authorize(t, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(v)))
	if err := s.ChangePassword(DefaultSubject); err != nil {
		t.Fatal(err)
	}
	code, body, _ := post(t, s.Metadata().TokenEndpoint, url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {testRedirect},
		"code_verifier": {v}, "client_id": {testClient},
	})
	wantError(t, code, body, 400, "invalid_grant", "password_changed")
	// A fresh approval works.
	codeFlow(t, s, conf)
}
