package provider

import (
	"context"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sbctl/sbctl/auth"
)

// OAuth2Config is the provider as an x/oauth2 Config, for the RFC 8628
// device flow (auth/flow.Device). The authorization-code path uses Exchange
// instead, which knows each network's quirks; the scopes here are joined
// with spaces, which is right for every network offering a device flow.
func (p *Provider) OAuth2Config(ctx context.Context, redirectURI string) (*oauth2.Config, error) {
	r, err := p.resolve(ctx)
	if err != nil {
		return nil, err
	}
	// An explicit style: x/oauth2's auto-detection would send each device
	// poll twice while the server says authorization_pending. Its best guess
	// is what this Provider has seen work, else the first style to try.
	style := oauth2.AuthStyleInParams
	if s, _ := p.authStyle(r); s == AuthBasic && p.set.ClientSecret != "" {
		style = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{
		ClientID:     p.set.ClientID,
		ClientSecret: p.set.ClientSecret,
		RedirectURL:  redirectURI,
		Scopes:       p.Scopes(),
		Endpoint: oauth2.Endpoint{
			AuthURL: r.ep.AuthURL, TokenURL: r.ep.TokenURL, DeviceAuthURL: r.ep.DeviceAuthURL,
			AuthStyle: style,
		},
	}, nil
}

// TokenFromOAuth2 converts an x/oauth2 token (from the device flow) to the
// stored form, reading the lifetimes x/oauth2 leaves in ExpiresIn and
// Extra. Call it right after the token arrived through HTTPClient: the
// lifetimes are read against the Date of the latest answer, as Exchange
// and Renew read theirs (see answerClock).
func (p *Provider) TokenFromOAuth2(t *oauth2.Token) *auth.Token {
	if t == nil {
		return nil
	}
	now := p.now()
	clk := newAnswerClock(now, time.Time{})
	if r := p.meter.latest(); r.ok && now.Sub(r.at) < time.Minute && r.at.Sub(now) < time.Minute {
		clk = newAnswerClock(now, now.Add(-r.skew))
	}
	out := &auth.Token{
		AccessToken:  t.AccessToken,
		TokenType:    t.TokenType,
		RefreshToken: t.RefreshToken,
		Expiry:       t.Expiry, // x/oauth2's, by time.Now, when it kept no expires_in
		ObtainedAt:   now,
	}
	if t.ExpiresIn > 0 {
		out.Expiry = clk.accessEnd(time.Duration(min(t.ExpiresIn, int64(maxLifetime/time.Second))) * time.Second)
	}
	if out.TokenType == "" || strings.EqualFold(out.TokenType, "bearer") {
		out.TokenType = "Bearer"
	}
	if s, ok := t.Extra("id_token").(string); ok {
		out.IDToken = s
	}
	for _, k := range []string{"refresh_token_expires_in", "refresh_expires_in"} {
		if d := extraSeconds(t.Extra(k)); d > 0 {
			out.RefreshExpiry = clk.grantEnd(d)
			break
		}
	}
	if s, ok := t.Extra("scope").(string); ok {
		out.Scopes = splitScopes(s)
	}
	if len(out.Scopes) == 0 {
		out.Scopes = p.Scopes()
	}
	return out
}
