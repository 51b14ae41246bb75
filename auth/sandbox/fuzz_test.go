package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzTokenEndpoint throws arbitrary bodies, content types and
// Authorization headers at the token endpoint: it must never panic or
// answer 5xx, and every answer is a no-store JSON token or error body.
// "{rt}" and "{code}" in the body stand for a live refresh token and code,
// so the fuzzer also reaches the grant logic.
func FuzzTokenEndpoint(f *testing.F) {
	s := start(f, Options{AutoApprove: true, RotateRefresh: true})
	host := strings.TrimPrefix(s.Issuer(), "http://")
	form := "application/x-www-form-urlencoded"
	for _, seed := range []struct{ body, ct, authz string }{
		{"grant_type=refresh_token&refresh_token={rt}&client_id=" + testClient, form, ""},
		{"grant_type=refresh_token&refresh_token={rt}&scope=openid", form, "Basic c2JjdGwtdGVzdDo="},
		{"grant_type=authorization_code&code={code}&redirect_uri=" + url.QueryEscape(testRedirect) + "&code_verifier=" + strings.Repeat("a", 43) + "&client_id=" + testClient, form, ""},
		{"grant_type=authorization_code&code={code}&client_id=x&client_secret=y", form, ""},
		{"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=sbx-dc-x&client_id=a", form, ""},
		{"grant_type=password&username=a&password=b", form, "Bearer abc"},
		{"%zz&&==;;", form, "Basic %%%"},
		{`{"grant_type":"refresh_token"}`, "application/json", ""},
		{"grant_type=refresh_token&grant_type=refresh_token", form + "; charset=utf-8", "Basic Og=="},
		{"", "", ""},
	} {
		f.Add(seed.body, seed.ct, seed.authz)
	}
	f.Fuzz(func(t *testing.T, body, ct, authz string) {
		if strings.Contains(body, "{rt}") {
			tok, err := s.Issue(IssueRequest{ClientID: testClient, Scopes: []string{"openid"}})
			if err != nil {
				t.Fatal(err)
			}
			body = strings.ReplaceAll(body, "{rt}", url.QueryEscape(tok.RefreshToken))
		}
		if strings.Contains(body, "{code}") {
			body = strings.ReplaceAll(body, "{code}", url.QueryEscape(s.newCode(authRequest{clientID: testClient, redirectURI: testRedirect, sub: DefaultSubject})))
		}
		req := httptest.NewRequest("POST", "/token", strings.NewReader(body))
		req.Host = host
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("no Cache-Control: no-store")
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("status %d, body not JSON: %q", rec.Code, rec.Body)
		}
		switch {
		case rec.Code == http.StatusOK && m["access_token"] != nil:
		case rec.Code != http.StatusOK && m["error"] != nil:
		default:
			t.Fatalf("status %d body %v", rec.Code, m)
		}
	})
}
