package sandbox

import (
	"context"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// The ID token verifies with a standard OIDC library against the discovery
// document and the JWKS.
func TestIDTokenVerifiesWithGoOIDC(t *testing.T) {
	s := start(t, Options{AutoApprove: true})
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, s.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	conf := config(s, oidc.ScopeOpenID, "profile", "email")
	conf.Endpoint = provider.Endpoint()
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	tok := codeFlow(t, s, conf, oauth2.SetAuthURLParam("login_hint", "ivy"), oauth2.SetAuthURLParam("nonce", "n-123"))
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: testClient}).Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if idt.Subject != "ivy" || idt.Nonce != "n-123" || idt.Issuer != s.Issuer() {
		t.Fatalf("id token %+v", idt)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	var claims struct {
		Name, Email       string
		PreferredUsername string `json:"preferred_username"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Name != "ivy" || claims.Email != "ivy@sandbox.test" || claims.PreferredUsername != "ivy" {
		t.Fatalf("claims %+v", claims)
	}
	// Another audience must not verify.
	if _, err := provider.Verifier(&oidc.Config{ClientID: "other"}).Verify(ctx, raw); err == nil {
		t.Fatal("verified for another client")
	}
	// The userinfo endpoint agrees.
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	if ui.Subject != "ivy" || ui.Email != "ivy@sandbox.test" {
		t.Fatalf("userinfo %+v", ui)
	}
}
