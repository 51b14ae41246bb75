package provider

import (
	"context"
	"net/http"
	"net/url"

	"github.com/sbctl/sbctl/auth"
)

// Revoke ends the grant at the network. A nil error means the network holds
// nothing usable for this token any more: revoked now, or already dead. On
// an error the caller must keep its local token (SECURITY 25).
//
//   - RFC 7009 (x, google, linkedin, oidc, oauth2): a POST with
//     token_type_hint, the refresh token first when there is one (revoking it
//     ends the whole grant on most servers), then the access token. 200 means
//     done, even for a token the server does not know.
//   - facebook: DELETE /me/permissions, which de-authorises the app.
//   - tiktok: its revoke endpoint, with the access token.
//   - instagram, threads, pinterest and servers without a revocation
//     endpoint: ErrNoRevocation.
func (p *Provider) Revoke(ctx context.Context, t *auth.Token) error {
	if t == nil || (t.AccessToken == "" && !t.HasRefresh()) {
		return nil
	}
	r, err := p.resolve(ctx)
	if err != nil {
		return err
	}
	if r.ep.RevokeURL == "" {
		return ErrNoRevocation
	}
	switch p.preset.Revocation {
	case RevokePermissions:
		return p.revokeFacebook(ctx, r, t)
	case RevokeAccessToken:
		if err := p.requireSecret(opRevoke); err != nil {
			return err
		}
		return p.revokeOne(ctx, r, t.AccessToken, "", t)
	}
	if p.preset.NeedsSecret {
		if err := p.requireSecret(opRevoke); err != nil {
			return err
		}
	}
	if t.HasRefresh() {
		if err := p.revokeOne(ctx, r, t.RefreshToken, "refresh_token", t); err != nil {
			return err
		}
	}
	if t.AccessToken == "" {
		return nil
	}
	err = p.revokeOne(ctx, r, t.AccessToken, "access_token", t)
	if err != nil && t.HasRefresh() {
		// The grant is already gone with its refresh token; a server that
		// will not revoke access tokens separately is not a failure then,
		// but a transient error still is (the caller may try again).
		if e, ok := err.(*Error); ok && e.Kind != KindTransient {
			return nil
		}
	}
	return err
}

// revokeOne is one RFC 7009 request (hint "" sends none, as TikTok's API has
// no such parameter).
func (p *Provider) revokeOne(ctx context.Context, r *resolved, token, hint string, t *auth.Token) error {
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	req := request{op: opRevoke, role: roleRevoke, method: http.MethodPost, url: r.ep.RevokeURL, form: form,
		secrets: p.secrets(t.AccessToken, t.RefreshToken)}
	resp, err := p.sendAuthed(ctx, r, req)
	if err != nil {
		return err
	}
	if resp.ok() {
		return nil
	}
	return p.revokeFailure(resp, req.secrets)
}

// revokeFacebook de-authorises the app for the user. The token goes in the
// Authorization header, not the query.
func (p *Provider) revokeFacebook(ctx context.Context, r *resolved, t *auth.Token) error {
	req := request{op: opRevoke, role: roleRevoke, method: http.MethodDelete, url: r.ep.RevokeURL,
		bearer: t.AccessToken, secrets: p.secrets(t.AccessToken)}
	resp, err := p.send(ctx, req)
	if err != nil {
		return err
	}
	if resp.ok() {
		return nil
	}
	return p.revokeFailure(resp, req.secrets)
}

// revokeFailure treats "this token is already dead" as done: Google answers
// 400 invalid_token for a token it no longer knows (where RFC 7009 says
// 200), and a Meta token rejected with 190 cannot be used by anyone either.
func (p *Provider) revokeFailure(resp *response, secrets []string) error {
	e := p.failure(opRevoke, roleRevoke, resp, secrets)
	if e.Kind == KindDefinite && e.Reason != auth.ReasonNone {
		return nil
	}
	return e
}
