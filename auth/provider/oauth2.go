package provider

import (
	"context"
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
	if s, _ := p.authStyle(r); s == auth.ClientAuthBasic && p.set.ClientSecret != "" {
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

// AcceptOAuth2Token converts an x/oauth2 token (from the device flow) to
// the stored form and checks it as Exchange and Renew check theirs: the
// access and refresh tokens must be one word of printable ASCII, the type
// Bearer (DPoP and unknown types are refused; a missing type is Bearer),
// lifetimes out of range are read as parseToken reads them, and only plain
// granted scopes are kept. Call it right after the token arrived through
// HTTPClient: the lifetimes are read against the Date of the latest
// answer, as Exchange and Renew read theirs (see answerClock). A refusal is
// an *Error of KindOther whose message names what is wrong, never the
// token.
func (p *Provider) AcceptOAuth2Token(t *oauth2.Token) (*auth.Token, error) {
	if t == nil || t.AccessToken == "" {
		return nil, p.deviceAnswerError("the answer carries no access_token", "")
	}
	if auth.CheckTokenText("", t.AccessToken) != nil || auth.CheckTokenText("", t.RefreshToken) != nil {
		return nil, p.deviceAnswerError("the answer's token contains spaces or control characters", "")
	}
	tt, what, advice := checkTokenType(t.TokenType, true)
	if what != "" {
		return nil, p.deviceAnswerError(what, advice)
	}
	out := p.fromOAuth2(t)
	out.TokenType = tt
	return out, nil
}

func (p *Provider) deviceAnswerError(what, advice string) *Error {
	return &Error{Kind: KindOther, Provider: p.name, Op: opDevice, detail: what, advice: advice}
}

// TokenFromOAuth2 converts an x/oauth2 token as AcceptOAuth2Token does,
// without refusing anything: a token of another type than Bearer keeps
// the type the server gave, cleaned.
//
// Deprecated: use AcceptOAuth2Token, which refuses a token that must not
// be stored (SECURITY 29) and a DPoP-bound one.
func (p *Provider) TokenFromOAuth2(t *oauth2.Token) *auth.Token {
	if t == nil {
		return nil
	}
	out := p.fromOAuth2(t)
	tt, what, _ := checkTokenType(t.TokenType, true)
	if what != "" {
		tt = auth.CleanText(t.TokenType, 40)
	}
	out.TokenType = tt
	return out
}

// fromOAuth2 is the conversion both share; TokenType is left to them.
func (p *Provider) fromOAuth2(t *oauth2.Token) *auth.Token {
	now := p.now()
	clk := newAnswerClock(now, time.Time{})
	if r := p.meter.latest(); r.ok && now.Sub(r.at) < time.Minute && r.at.Sub(now) < time.Minute {
		clk = newAnswerClock(now, now.Add(-r.skew))
	}
	out := &auth.Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, ObtainedAt: now}
	// x/oauth2 computes Expiry itself from expires_in, by time.Now and
	// without bounds (a negative lifetime is a past time, 1e15 overflows),
	// so its Expiry is used only when it kept no expires_in.
	switch d, st := secondsLifetime(t.ExpiresIn, true); {
	case t.ExpiresIn == 0:
		out.Expiry = t.Expiry
	case st == lifetimeStated:
		out.Expiry = clk.accessEnd(d)
	case t.RefreshToken != "":
		out.Expiry = now // nonsense: renewed on next use (see parseToken)
	}
	if s, ok := t.Extra("id_token").(string); ok {
		out.IDToken = s
	}
	for _, k := range []string{"refresh_token_expires_in", "refresh_expires_in"} {
		if d, st := extraLifetime(t.Extra(k)); st == lifetimeStated {
			out.RefreshExpiry = clk.grantEnd(d)
			break
		}
	}
	switch sc := t.Extra("scope").(type) {
	case string:
		out.Scopes = splitScopes(sc)
	case []any:
		for _, v := range sc {
			if s, ok := v.(string); ok {
				out.Scopes = append(out.Scopes, s)
			}
		}
		out.Scopes = grantedScopes(out.Scopes)
	}
	if len(out.Scopes) == 0 {
		out.Scopes = p.Scopes()
	}
	return out
}
