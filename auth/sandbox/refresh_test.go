package sandbox

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestRefreshNonRotating(t *testing.T) {
	clk := newClock()
	s := start(t, Options{AutoApprove: true, Now: clk.Now})
	conf := config(s, "openid", "posts.read")
	tok := codeFlow(t, s, conf, oauth2.SetAuthURLParam("login_hint", "carol"))

	// Through x/oauth2: an expired token is refreshed, and the response
	// without a refresh_token keeps the old one.
	clk.Advance(2 * time.Hour)
	tok.Expiry = time.Now().Add(-time.Second)
	next, err := conf.TokenSource(context.Background(), tok).Token()
	if err != nil {
		t.Fatal(err)
	}
	if next.AccessToken == tok.AccessToken || next.RefreshToken != tok.RefreshToken {
		t.Fatalf("refresh: %+v", next)
	}
	// Remaining refresh lifetime: 30 days minus the 2 hours that passed.
	if got := next.Extra("refresh_token_expires_in"); got != float64(30*24*3600-2*3600) {
		t.Errorf("refresh_token_expires_in = %v", got)
	}
	// The old access token has lapsed by time, the new one works.
	if code, body, _ := getUserinfo(t, s, tok.AccessToken); code != 401 || body["reason"] != "expired" {
		t.Errorf("old access token: %d %v", code, body)
	}
	if code, _, _ := getUserinfo(t, s, next.AccessToken); code != 200 {
		t.Errorf("new access token: %d", code)
	}
	// The same refresh token works again.
	if code, body := refresh(t, s, tok.RefreshToken); code != 200 || body["refresh_token"] != nil {
		t.Fatalf("second refresh: %d %v", code, body)
	}
	st := s.Stats()
	if st.RefreshRequests != 2 || st.RefreshSucceeded != 2 || st.RefreshByAccount["carol"] != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestRefreshScopeNarrowing(t *testing.T) {
	s := start(t, Options{AutoApprove: true})
	tok := codeFlow(t, s, config(s, "a", "b"))
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {testClient}, "scope": {"a"}}
	code, body, _ := post(t, s.Metadata().TokenEndpoint, form)
	if code != 200 || body["scope"] != "a" {
		t.Fatalf("narrowed: %d %v", code, body)
	}
	if in := introspect(t, s, body["access_token"].(string)); in["scope"] != "a" {
		t.Fatalf("introspection %v", in)
	}
	form.Set("scope", "a c")
	code, body, _ = post(t, s.Metadata().TokenEndpoint, form)
	wantError(t, code, body, 400, "invalid_scope", "")
}

func TestRefreshRotating(t *testing.T) {
	clk := newClock()
	s := start(t, Options{AutoApprove: true, RotateRefresh: true, Now: clk.Now})
	conf := config(s)
	tok := codeFlow(t, s, conf)

	clk.Advance(24 * time.Hour)
	tok.Expiry = time.Now().Add(-time.Second)
	next, err := conf.TokenSource(context.Background(), tok).Token()
	if err != nil {
		t.Fatal(err)
	}
	if next.RefreshToken == tok.RefreshToken || next.RefreshToken == "" {
		t.Fatalf("refresh token not rotated: %+v", next)
	}
	// A rotated token starts a fresh lifetime.
	if got := next.Extra("refresh_token_expires_in"); got != float64(30*24*3600) {
		t.Errorf("refresh_token_expires_in = %v", got)
	}
	code, body := refresh(t, s, next.RefreshToken)
	if code != 200 || body["refresh_token"] == next.RefreshToken {
		t.Fatalf("second rotation: %d %v", code, body)
	}
}

func TestRotatedRefreshReuseRevokesFamily(t *testing.T) {
	s := start(t, Options{AutoApprove: true, RotateRefresh: true})
	tok := codeFlow(t, s, config(s))
	code, first := refresh(t, s, tok.RefreshToken)
	if code != 200 {
		t.Fatal(first)
	}
	code, second := refresh(t, s, first["refresh_token"].(string))
	if code != 200 {
		t.Fatal(second)
	}
	newest := second["refresh_token"].(string)

	// An attacker (or a buggy client) presents an old token.
	code, body := refresh(t, s, tok.RefreshToken)
	wantError(t, code, body, 400, "invalid_grant", "access_revoked")
	// The whole family is dead, the newest refresh token too, and every
	// access token.
	code, body = refresh(t, s, newest)
	wantError(t, code, body, 400, "invalid_grant", "access_revoked")
	for _, at := range []string{tok.AccessToken, first["access_token"].(string), second["access_token"].(string)} {
		if code, body, _ := getUserinfo(t, s, at); code != 401 || body["reason"] != "access_revoked" {
			t.Fatalf("access token after reuse: %d %v", code, body)
		}
	}
	if in := introspect(t, s, newest); in["active"] != false || in["reason"] != "access_revoked" {
		t.Fatalf("introspection: %v", in)
	}
	if st := s.Stats(); st.ReuseDetections != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRefreshExpires(t *testing.T) {
	for _, rotate := range []bool{false, true} {
		clk := newClock()
		s := start(t, Options{AutoApprove: true, RotateRefresh: rotate, RefreshTTL: 48 * time.Hour, Now: clk.Now})
		tok := codeFlow(t, s, config(s))
		if tok.Extra("refresh_token_expires_in") != float64(48*3600) {
			t.Fatalf("refresh_token_expires_in %v", tok.Extra("refresh_token_expires_in"))
		}
		clk.Advance(48*time.Hour - time.Second)
		if in := introspect(t, s, tok.RefreshToken); in["active"] != true || in["token_type"] != "refresh_token" {
			t.Fatalf("before expiry: %v", in)
		}
		clk.Advance(time.Second)
		code, body := refresh(t, s, tok.RefreshToken)
		wantError(t, code, body, 400, "invalid_grant", "expired")
		if in := introspect(t, s, tok.RefreshToken); in["active"] != false || in["reason"] != "expired" {
			t.Fatalf("after expiry: %v", in)
		}
	}
}

func TestRefreshErrors(t *testing.T) {
	s := start(t, Options{AutoApprove: true})
	tok := codeFlow(t, s, config(s))
	ep := s.Metadata().TokenEndpoint
	for name, tc := range map[string]struct {
		form         url.Values
		status       int
		code, reason string
	}{
		"unknown token":    {url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"sbx-rt-nope"}, "client_id": {testClient}}, 400, "invalid_grant", ""},
		"other client":     {url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {"other"}}, 400, "invalid_grant", ""},
		"no client":        {url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, 401, "invalid_client", ""},
		"missing token":    {url.Values{"grant_type": {"refresh_token"}, "client_id": {testClient}}, 400, "invalid_request", ""},
		"no grant_type":    {url.Values{"refresh_token": {tok.RefreshToken}, "client_id": {testClient}}, 400, "invalid_request", ""},
		"bad grant_type":   {url.Values{"grant_type": {"password"}, "client_id": {testClient}}, 400, "unsupported_grant_type", ""},
		"repeated param":   {url.Values{"grant_type": {"refresh_token", "refresh_token"}, "client_id": {testClient}}, 400, "invalid_request", ""},
		"empty scope":      {url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {testClient}, "scope": {""}}, 400, "invalid_scope", ""},
		"basic and post":   {url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_secret": {"x"}}, 400, "invalid_request", ""},
		"basic id differs": {url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {"zzz"}}, 401, "invalid_client", ""},
	} {
		t.Run(name, func(t *testing.T) {
			var mods []func(*http.Request)
			if name == "basic and post" || name == "basic id differs" {
				mods = append(mods, func(r *http.Request) { r.SetBasicAuth(testClient, "") })
			}
			code, body, hdr := post(t, ep, tc.form, mods...)
			wantError(t, code, body, tc.status, tc.code, tc.reason)
			if hdr.Get("Cache-Control") != "no-store" || hdr.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("headers %v", hdr)
			}
		})
	}
	// Not a form at all.
	req, _ := http.NewRequest("POST", ep, nil)
	req.Header.Set("Content-Type", "application/json")
	code, body, _ := do(t, req)
	wantError(t, code, body, 400, "invalid_request", "")
}

func TestTokenLatencyHonoursCancellation(t *testing.T) {
	s := start(t, Options{AutoApprove: true, RotateRefresh: true, TokenLatency: time.Hour})
	tok, err := s.Issue(IssueRequest{ClientID: testClient})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {testClient}}
	req, _ := http.NewRequestWithContext(ctx, "POST", s.Metadata().TokenEndpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	start := time.Now()
	_, err = http.DefaultClient.Do(req)
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
	// The cancelled request changed nothing: the refresh token was not
	// rotated away.
	if in := introspect(t, s, tok.RefreshToken); in["active"] != true {
		t.Fatalf("refresh token after a cancelled request: %v", in)
	}
}
