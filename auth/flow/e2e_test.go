package flow

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"
)

// TestEndToEndMockOIDC drives a whole sign-in against an independent OIDC
// server: its authorization endpoint redirects at once (auto-approve), a
// browser-like client follows the redirect to our listener, and the returned
// code and verifier are exchanged with x/oauth2. A wrong verifier must fail,
// which proves the challenge we sent is the one the server checks.
func TestEndToEndMockOIDC(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	cfg := m.Config()

	browser := OpenerFunc(func(ctx context.Context, u string) error {
		resp, err := newClient(true).Get(u) // follows the 302 to 127.0.0.1:PORT/callback
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "Signed in") {
			t.Errorf("callback page: %d %s", resp.StatusCode, body)
		}
		return nil
	})
	signIn := func() *Result {
		t.Helper()
		res, err := Run(context.Background(), Params{
			AuthURL:  m.AuthorizationEndpoint(),
			ClientID: cfg.ClientID,
			Scopes:   []string{"openid", "email", "profile"},
			Browser:  browser,
			Stderr:   &syncBuffer{},
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	oc := &oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: m.AuthorizationEndpoint(), TokenURL: m.TokenEndpoint(), AuthStyle: oauth2.AuthStyleInParams},
		Scopes:       []string{"openid", "email", "profile"},
	}

	res := signIn()
	if !strings.HasPrefix(res.RedirectURI, "http://127.0.0.1:") {
		t.Fatalf("redirect %s", res.RedirectURI)
	}
	oc.RedirectURL = res.RedirectURI
	tok, err := oc.Exchange(context.Background(), res.Code, oauth2.VerifierOption(res.CodeVerifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.AccessToken == "" || tok.Extra("id_token") == nil {
		t.Fatalf("token %+v", tok)
	}

	// The same flow, exchanged with someone else's verifier: refused.
	res = signIn()
	oc.RedirectURL = res.RedirectURI
	_, err = oc.Exchange(context.Background(), res.Code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("exchange with a wrong verifier: %v", err)
	}
}
