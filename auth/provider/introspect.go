package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/sbctl/sbctl/auth"
)

// introspection is one RFC 7662 answer.
type introspection struct {
	active bool
	m      map[string]json.RawMessage
	body   []byte
	// says: an inactive answer that gives its reason (the sandbox's
	// "reason", LinkedIn's "status"), which is the server's word on the
	// grant, not a shrug about a token type it does not introspect.
	says  bool
	clock answerClock
}

// verifyIntrospect asks RFC 7662 introspection about the grant. Where there
// is a refresh token, it is the grant: an access token that is a JWT can
// introspect active until it expires although the grant was revoked (Dex).
// But "inactive" about a refresh token may only mean that the server does
// not introspect refresh tokens (zitadel/oidc; RFC 7662 lets it), so a bare
// inactive answer is checked against the access token:
//
//	refresh active                                   -> valid
//	refresh inactive with a reason                   -> dead, for that reason
//	refresh inactive, access inactive while unexpired -> dead
//	refresh inactive, opaque access token active     -> valid (found in the
//	                                                    server's storage, where
//	                                                    a revoked grant's tokens go)
//	refresh inactive, JWT access token active,
//	or the access token lapsed                       -> ErrCheckByRenewal
func (p *Provider) verifyIntrospect(ctx context.Context, r *resolved, t *auth.Token) (*Verdict, error) {
	if p.preset.NeedsSecret {
		if err := p.requireSecret(opVerify); err != nil {
			return nil, err
		}
	}
	if !t.HasRefresh() {
		return p.verifyAccessByIntrospection(ctx, r, t)
	}
	rt, v, err := p.introspect(ctx, r, t, t.RefreshToken, "refresh_token")
	if v != nil || err != nil {
		return v, err
	}
	base := &Verdict{Check: CheckIntrospection, Expiry: t.Expiry, Scopes: t.Scopes}
	switch {
	case rt.active:
		base.Valid = true
		if s := scopeList(rt.m["scope"]); len(s) > 0 {
			base.Scopes = s
		}
		base.RefreshExpiry = rt.clock.grantAt(unixField(rt.m, "exp", "expires_at"))
		return base, nil
	case rt.says:
		return p.inactiveVerdict(rt, t, false), nil
	case t.AccessToken == "":
		return nil, p.checkByRenewal("the server calls the refresh token inactive, which a server that does not introspect refresh tokens says too")
	}
	return p.crossCheckAccess(ctx, r, t)
}

// crossCheckAccess asks about the access token after a bare "inactive"
// about the refresh token.
func (p *Provider) crossCheckAccess(ctx context.Context, r *resolved, t *auth.Token) (*Verdict, error) {
	at, v, err := p.introspect(ctx, r, t, t.AccessToken, "access_token")
	if v != nil || err != nil {
		return v, err
	}
	lapsed := expiredAt(t.Expiry, p.now())
	switch {
	case !at.active && !lapsed:
		return p.inactiveVerdict(at, t, true), nil
	case !at.active:
		return nil, p.checkByRenewal("the server calls both tokens inactive, but the access token has lapsed and the server may not introspect refresh tokens")
	case looksLikeJWT(t.AccessToken):
		return nil, p.checkByRenewal("the server calls the refresh token inactive but the access token, a self-contained JWT, active; " +
			"a grant revoked at a server whose JWTs stay valid until they expire looks like that, and so does a live grant at a server that does not introspect refresh tokens")
	}
	return p.activeVerdict(at, t), nil
}

// verifyAccessByIntrospection is the check without a refresh token: the
// access token is all there is.
func (p *Provider) verifyAccessByIntrospection(ctx context.Context, r *resolved, t *auth.Token) (*Verdict, error) {
	at, v, err := p.introspect(ctx, r, t, t.AccessToken, "access_token")
	if v != nil || err != nil {
		return v, err
	}
	if !at.active {
		return p.inactiveVerdict(at, t, true), nil
	}
	return p.activeVerdict(at, t), nil
}

// introspect sends one RFC 7662 request. A definite rejection of the
// request itself comes back as a Verdict.
func (p *Provider) introspect(ctx context.Context, r *resolved, t *auth.Token, tok, hint string) (*introspection, *Verdict, error) {
	form := url.Values{"token": {tok}}
	if !p.preset.NoTypeHint {
		form.Set("token_type_hint", hint)
	}
	req := request{op: opVerify, role: roleToken, method: http.MethodPost, url: r.ep.IntrospectURL, form: form,
		secrets: p.secrets(t.AccessToken, t.RefreshToken)}
	resp, err := p.sendAuthed(ctx, r, req)
	if err != nil {
		return nil, nil, err
	}
	if !resp.ok() {
		v, err := p.verdictFromFailure(resp, req.secrets, t, CheckIntrospection)
		return nil, v, err
	}
	m, ok := decodeObject(resp.body)
	var active bool
	if ok {
		ok = json.Unmarshal(m["active"], &active) == nil
	}
	if !ok {
		return nil, nil, p.badAnswer(opVerify, resp, "the introspection answer has no \"active\" field", false)
	}
	reason, _ := jsonString(m["reason"])
	status, _ := jsonString(m["status"])
	return &introspection{active: active, m: m, body: resp.body, says: reason != "" || status != "", clock: resp.clock}, nil, nil
}

// inactiveVerdict reads why a token is inactive. access: the answer was
// about the access token, whose lapse our own clock can explain when the
// server gives no reason.
func (p *Provider) inactiveVerdict(in *introspection, t *auth.Token, access bool) *Verdict {
	v := &Verdict{Check: CheckIntrospection, Expiry: t.Expiry, Scopes: t.Scopes}
	e := classify(http.StatusOK, nil, in.body, roleResource, nil)
	v.Reason = e.Reason
	if v.Reason == "" {
		v.Reason = auth.ReasonAccessRevoked
	}
	if access && !in.says && v.Reason == auth.ReasonAccessRevoked && expiredAt(t.Expiry, p.now()) {
		v.Reason = auth.ReasonExpired
	}
	return v
}

// activeVerdict takes the access token's expiry and scopes from an active
// answer about it.
func (p *Provider) activeVerdict(in *introspection, t *auth.Token) *Verdict {
	v := &Verdict{Valid: true, Check: CheckIntrospection, Expiry: t.Expiry, Scopes: t.Scopes}
	if exp := unixField(in.m, "exp", "expires_at"); !exp.IsZero() {
		v.Expiry = in.clock.accessAt(exp)
	}
	if s := scopeList(in.m["scope"]); len(s) > 0 {
		v.Scopes = s
	}
	return v
}

// looksLikeJWT: three base64url parts, the first a JSON header naming an
// algorithm (RFC 7519). Such a token can be checked by its signature alone,
// without the server's storage.
func looksLikeJWT(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	head, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[0], "="))
	if err != nil {
		return false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	return json.Unmarshal(head, &h) == nil && h.Alg != ""
}
